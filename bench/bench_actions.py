"""Drivers against the real bot: latency per action, throughput against Telegram's ceiling, scaling.

    .venv/bin/python -m bench.bench_actions latency [--sessions 15]
    .venv/bin/python -m bench.bench_actions throughput --users 100 --mode webhook [--seconds 20]
    .venv/bin/python -m bench.bench_actions scaling [--users 1 10 100 1000]

The bot runs in its own process (:mod:`bench.botproc`, built like ``ocm-bot run``/``webhook``), the
fake Bot API and the fake OCM (3,000 generated chargers around Bow plus the real samples) in this
one, and drivers play the scripted session of :mod:`bench.harness`.

- latency: one driver, sessions back to back; per action the bot-side time (update handed to the
  handlers -> reply let out by the rate limiter, minus the time waiting for OCM and in the limiter)
  p50/p90/p99; then the same with OCM answering every request after 250 ms, and the bot's share of
  what the driver waits.
- throughput: ``--users`` drivers at once (each thinks ``--think`` seconds on average between
  actions) for ``--seconds``, Telegram's flood limits on at the fake Bot API: actions per second
  against the 30 messages/s ceiling, p99 reply time, time in the rate limiter and in the bot's own
  code, lost updates, the bot process's CPU and memory; and the OCM requests and bytes it cost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import ACTIONS, Bench, bot_side, matched, percentile

CEILING = 30.0  # messages a second Telegram lets a bot send in all


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": statistics.median(values) if values else float("nan"),
        "p90": percentile(values, 0.90),
        "p99": percentile(values, 0.99),
    }


async def latency(sessions: int, delay: float) -> dict[str, Any]:
    bench = Bench(ocm_delay=delay)
    await bench.start()
    rng = random.Random(3)
    try:
        await bench.session(0, rng)  # warm-up: imports, first connections, reference data
        warm = len(bench.done)
        for _ in range(sessions):
            await bench.session(0, rng)
    finally:
        stats = await bench.stop()
    per: dict[str, dict[str, list[float]]] = {kind: {"own": [], "wait": [], "ocm": []} for kind in ACTIONS}
    for action, row in matched(bench.done, bot_side(stats))[warm:]:
        if row is None or row["total"] is None:
            continue
        per[action.kind]["own"].append(row["own"])
        per[action.kind]["ocm"].append(row["ocm"])
        per[action.kind]["wait"].append((row["replied_at"] - action.sent) * 1000)
    return {
        kind: {
            "own": summary(parts["own"]),
            "wait": summary(parts["wait"]),
            "ocm": summary(parts["ocm"]),
            "share": (statistics.median(parts["own"]) / statistics.median(parts["wait"])) if parts["wait"] else None,
        }
        for kind, parts in per.items()
    }


async def throughput(users: int, mode: str, seconds: float, think: float, search_only: bool = False) -> dict[str, Any]:
    bench = Bench(mode=mode, flood=True)
    await bench.start()
    try:
        rng = random.Random(users)
        before = bench.usage()
        first_call = len(bench.telegram.requests)
        started = time.monotonic()
        until = started + seconds
        # Drivers arrive spread over the window and go on until it is over.
        sessions = [
            bench.session(
                n,
                random.Random(rng.random()),
                think=think,
                until=until,
                arrive=rng.uniform(0, seconds),
                search_only=search_only,
            )
            for n in range(users)
        ]
        harness_cpu = time.process_time()
        await asyncio.gather(*sessions)
        await bench.drain()
        took = time.monotonic() - started
        harness_cpu = time.process_time() - harness_cpu
        after = bench.usage()
        ocm_requests = [r for r in bench.ocm.requests_to("/v3/poi") if r.method == "GET"]
        ocm = {"requests": len(ocm_requests), "bytes": sum(r.response_bytes for r in ocm_requests)}
        ignored = ("getUpdates", "setWebhook", "getMe")
        calls = sum(1 for r in bench.telegram.requests[first_call:] if r.method not in ignored)
        too_many = sum(1 for r in bench.telegram.requests[first_call:] if "Too Many Requests" in (r.error or ""))
    finally:
        stats = await bench.stop()
    pairs = matched(bench.done, bot_side(stats))
    answered = [a for a, _ in pairs if a.replied is not None]
    lost = len(bench.done) - len(answered)
    unhandled = sum(1 for _, row in pairs if row is None)
    waits = [(a.replied - a.sent) * 1000 for a in answered]
    rows = [row for _, row in pairs if row is not None and row["total"] is not None]
    messages = sum(1 for record in stats["records"] for reply in record["replies"] if reply[0] != "answerCallbackQuery")
    return {
        "users": users,
        "mode": mode,
        "window": seconds,
        "think": think,
        "search_only": search_only,
        "seconds": took,
        "actions": len(answered),
        "actions_per_s": len(answered) / took,
        "messages_per_s": messages / took,
        "calls_per_s": calls / took,
        "ceiling": CEILING,
        "reply_p50_ms": percentile(waits, 0.5),
        "reply_p99_ms": percentile(waits, 0.99),
        "limiter_p50_ms": percentile([r["limiter"] for r in rows], 0.5),
        "limiter_p99_ms": percentile([r["limiter"] for r in rows], 0.99),
        "own_p50_ms": percentile([r["own"] for r in rows], 0.5),
        "own_p99_ms": percentile([r["own"] for r in rows], 0.99),
        "ocm_p99_ms": percentile([r["ocm"] for r in rows], 0.99),
        "lost": lost,
        "late": sum(1 for _, a in bench.late if a.replied is not None),
        "too_many": too_many,
        "harness_cpu_share": harness_cpu / took,
        "unhandled": unhandled,
        "cpu_s": after["cpu_s"] - before["cpu_s"],
        "cpu_share": (after["cpu_s"] - before["cpu_s"]) / took,
        "cpu_ms_per_action": (after["cpu_s"] - before["cpu_s"]) * 1000 / max(1, len(answered)),
        "rss_mb": after["rss_mb"],
        "peak_rss_mb": after["peak_rss_mb"],
        "ocm": ocm,
        "done": [
            {"user": a.user, "kind": a.kind, "params": a.params} for a in bench.done
        ],  # for the OCM economy replay
        "search_stats": stats.get("search_stats"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["latency", "throughput", "scaling"])
    parser.add_argument("--sessions", type=int, default=15)
    parser.add_argument("--users", type=int, nargs="*", default=None)
    parser.add_argument("--mode", choices=["polling", "webhook"], default="polling")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--think", type=float, default=2.0, help="mean seconds a driver thinks between actions")
    args = parser.parse_args()
    if args.what == "latency":
        for delay in (0.0, 0.25):
            print(f"OCM answering after {delay * 1000:.0f} ms:")
            for kind, figures in asyncio.run(latency(args.sessions, delay)).items():
                own, wait = figures["own"], figures["wait"]
                share = figures["share"]
                print(
                    f"  {kind:16s} n={own['n']:3d} bot-side p50 {own['p50']:6.2f} p90 {own['p90']:6.2f} "
                    f"p99 {own['p99']:6.2f} ms | driver waits p50 {wait['p50']:7.2f} ms"
                    + (f" | bot's share {share:.0%}" if share is not None else "")
                )
        return
    for users in args.users or ([100] if args.what == "throughput" else [1, 10, 100]):
        result = asyncio.run(throughput(users, args.mode, args.seconds, args.think))
        result.pop("done")
        print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
