"""Every benchmark in one run, writing docs/benchmarks.md and its plots under docs/img/.

    .venv/bin/python -m bench                 # the full run (under 10 minutes on 2 cores)
    .venv/bin/python -m bench --quick         # a seconds-long smoke run into a temporary folder
    .venv/bin/python -m bench --only watches local

The report's prose is the template ``bench/templates/benchmarks.md``; every figure in it comes from
this run. Plots need matplotlib (``pip install -e '.[bench]'``); without it the report says so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import plots

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).resolve().parent / "templates" / "benchmarks.md"
SECTIONS = ("latency", "throughput", "watches", "announcements", "local", "memory")
FULL = {
    "latency_sessions": 8,
    # (drivers, mode, window in s, mean think time in s, one search only): 100 drivers playing the
    # session, busy enough to reach the ceiling; 1,000 drivers each sharing a location once within
    # 10 s (a burst far over the ceiling: the whole session for 1,000 would not fit the time budget).
    "throughput": [
        (100, "polling", 8, 3, False),
        (100, "webhook", 8, 3, False),
        (1000, "polling", 10, 0, True),
        (1000, "webhook", 10, 0, True),
    ],
    "throughput_seconds": 8.0,
    "think": 3.0,
    "scaling_extra": [1, 10],
    "watch_matching": [1, 100, 1_000, 10_000, 100_000],
    "watch_changes": 10_000,
    "watch_polls": [1, 100, 1_000, 10_000],
    "groups": 200,
    "burst": 5,
    "local_count": 300_000,
    "dense_sizes": [10_000, 50_000],
    "dense_queries": 1000,
    "memory_users": 100_000,
    "memory_chargers": 10_000,
}
QUICK = FULL | {
    "latency_sessions": 1,
    "throughput": [(3, "polling", 1, 0.1, False), (5, "webhook", 1, 0, True)],
    "throughput_seconds": 1.0,
    "think": 0.1,
    "scaling_extra": [1],
    "watch_matching": [1, 100],
    "watch_changes": 100,
    "watch_polls": [1, 10],
    "groups": 3,
    "burst": 1,
    "local_count": 2_000,
    "dense_sizes": [2_000],
    "dense_queries": 50,
    "memory_users": 1_000,
    "memory_chargers": 300,
}


def step(name: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {name}", flush=True)


def measure(config: dict[str, Any], only: set[str]) -> dict[str, Any]:
    from bench.bench_actions import latency, throughput

    results: dict[str, Any] = {}
    if "latency" in only:
        step("latency per action, zero-latency servers and OCM at 250 ms")
        results["latency"] = {
            "0": asyncio.run(latency(config["latency_sessions"], 0.0)),
            "250": asyncio.run(latency(config["latency_sessions"], 0.25)),
        }
    if "throughput" in only:
        from bench.bench_economy import economy

        runs = []
        for users, mode, seconds, think, search_only in config["throughput"]:
            step(f"throughput: {users} drivers, {mode}")
            runs.append(asyncio.run(throughput(users, mode, seconds, think, search_only)))
        step("OCM economy: replaying the first run's actions with the naive and the peer clients")
        results["economy"] = economy(runs[0])
        results["economy_users"] = runs[0]["users"]
        scaling = []
        for users in config["scaling_extra"]:
            step(f"scaling: {users} drivers, polling")
            seconds = config["throughput_seconds"] / 2
            scaling.append(asyncio.run(throughput(users, "polling", seconds, config["think"])))
        scaling += [r for r in runs if r["mode"] == "polling"]
        for run in [*runs, *scaling]:
            run.pop("done", None)
        results["throughput"] = runs
        results["scaling"] = sorted(scaling, key=lambda r: r["users"])
    if "watches" in only:
        from bench.bench_watches import bench_matching, bench_poll

        step("watches: matching and polls")
        results["watches"] = {
            "matching": [
                bench_matching(count, config["watch_changes"], sample=max(2, min(100, 1_000_000 // max(count, 1))))
                for count in config["watch_matching"]
            ],
            "polls": [asyncio.run(bench_poll(count, 150)) for count in config["watch_polls"]],
        }
    if "announcements" in only:
        from bench.bench_announcements import run as announce

        step("announcements under the flood limits")
        results["announcements"] = asyncio.run(announce(config["groups"], config["burst"]))
    if "local" in only:
        from bench.bench_local_source import world

        step(f"local data source: {config['local_count']:,} chargers in every form")
        results["local"] = world(config["local_count"], config["dense_queries"], config["dense_sizes"])
    if "memory" in only:
        from bench.bench_memory import run as memory

        step("memory")
        results["memory"] = memory(config["memory_users"], config["memory_chargers"])
    return results


# --- the report ----------------------------------------------------------------------------------


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def ms(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        memory = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
        gib = int(memory.split()[1]) / 1024 / 1024
    except (OSError, StopIteration):
        gib = float("nan")
    return f"{os.cpu_count()} cores ({model}), {gib:.0f} GiB, Python {platform.python_version()}, {platform.system()}"


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "ocm_bot", "bench")
    return head + (" with uncommitted changes" if dirty else "")


MISSING = "*Not measured in this run.*"


def render(results: dict[str, Any], config: dict[str, Any], meta: dict[str, Any], plots_written: list[str]) -> str:
    values: dict[str, Any] = {key: MISSING for key in TEMPLATE_KEYS} | meta
    values |= {
        "latency_sessions": config["latency_sessions"],
        "throughput_users": " and ".join(f"{u:,}" for u in sorted({run[0] for run in config["throughput"]})),
        "throughput_seconds": f"{config['throughput_seconds']:g}",
        "think": f"{config['think']:g}",
        "timeout": f"{float(os.environ.get('BENCH_TIMEOUT', '60')):g}",
        "economy_users": results.get("economy_users", "–"),
        "local_count": f"{config['local_count']:,}",
        "dense_queries": f"{config['dense_queries']:,}",
        "memory_users": f"{config['memory_users']:,}",
        "memory_chargers": f"{config['memory_chargers']:,}",
    }
    goals: list[list[Any]] = [
        ["the whole command runs in under 10 minutes", meta["wall"], verdict(meta["wall_s"] < 600)]
    ]
    if "latency" in results:
        for key, name in (("0", "latency_zero_table"), ("250", "latency_slow_table")):
            rows = []
            for kind, f in results["latency"][key].items():
                share = f"{f['share']:.0%}" if f["share"] is not None else "–"
                own, wait = f["own"], f["wait"]
                rows.append(
                    [kind, own["n"], ms(own["p50"]), ms(own["p90"]), ms(own["p99"]), ms(f["ocm"]["p50"]),
                     ms(wait["p50"]), ms(wait["p99"]), share]
                )  # fmt: skip
            values[name] = table(
                ["action", "n", "bot-side p50", "p90", "p99", "waiting for OCM p50", "driver waits p50", "p99",
                 "bot's share"],
                rows,
            )  # fmt: skip
        worst = max(f["own"]["p99"] for f in results["latency"]["0"].values() if f["own"]["n"])
        goals.append(
            ["bot-side p99 of every action under 10 ms, zero-latency servers (the search goal)", f"{ms(worst)} ms",
             verdict(worst < 10)]
        )  # fmt: skip
    if "throughput" in results:
        rows = []
        for r in results["throughput"]:
            rows.append(
                [r["users"], r["mode"], "one search each" if r["search_only"] else "session",
                 f"{r['window']:g} s / {r['think']:g} s", r["actions"],
                 f"{r['actions_per_s']:.1f}", f"{r['calls_per_s']:.1f}", f"{r['messages_per_s']:.1f}",
                 f"{r['messages_per_s'] / r['ceiling']:.0%}", ms(r["reply_p99_ms"]), ms(r["limiter_p50_ms"]),
                 ms(r["limiter_p99_ms"]), ms(r["own_p50_ms"]), ms(r["own_p99_ms"]), r["too_many"],
                 r["lost"] + r["unhandled"], r["late"], f"{r['cpu_share']:.0%}", f"{r['rss_mb']:.0f} MB",
                 f"{r['harness_cpu_share']:.0%}"]
            )  # fmt: skip
        values["throughput_table"] = table(
            ["drivers", "mode", "what each does", "window / think", "actions", "actions/s", "Bot API calls/s",
             "messages/s", "of the 30/s ceiling", "reply p99 ms",
             "limiter p50 ms", "limiter p99 ms", "own code p50 ms", "own code p99 ms", "429 answers", "lost",
             "late", "bot CPU", "bot RSS", "drivers' + fakes' CPU"],
            rows,
        )  # fmt: skip
        lost = sum(r["lost"] + r["unhandled"] for r in results["throughput"])
        goals.append(["no lost update (every throughput run)", lost, verdict(lost == 0)])
        best = max(r["messages_per_s"] for r in results["throughput"])
        goals.append(
            ["reach Telegram's ceiling (~30 messages/s) under load", f"{best:.1f} messages/s ({best / 30:.0%})",
             verdict(best >= 0.8 * 30)]
        )  # fmt: skip
        rows = [
            [r["users"], r["actions"], f"{r['cpu_ms_per_action']:.1f}", ms(r["own_p50_ms"]), ms(r["limiter_p50_ms"]),
             ms(r["reply_p99_ms"])]
            for r in results["scaling"]
        ]  # fmt: skip
        values["scaling_table"] = table(
            ["drivers", "actions", "bot CPU per action, ms", "bot-side own code p50 ms", "limiter p50 ms",
             "reply p99 ms"],
            rows,
        )  # fmt: skip
        costs = [r["cpu_ms_per_action"] for r in results["scaling"] if r["actions"]]
        spread = max(costs) / min(costs) if costs else math.nan
        goals.append(
            ["per-action cost flat from 1 to 1,000 drivers (CPU per action within 2x)",
             f"{min(costs):.1f}-{max(costs):.1f} ms ({spread:.1f}x)", verdict(spread <= 2)]
        )  # fmt: skip
    if "economy" in results:
        e = results["economy"]
        naive = e["naive"]
        rows = [
            [name, d["actions"], d["requests"], f"{d['per_action']:.2f}", f"{d['hit_rate']:.0%}",
             f"{d['bytes'] / 1000:,.0f} kB", f"{d['bytes'] / naive['bytes']:.0%}"]
            for name, d in (("this bot", e["bot"]), ("peer", e["peer"]), ("naive", naive))
        ]  # fmt: skip
        values["economy_table"] = table(
            ["strategy", "actions", "OCM requests", "requests per action", "hit rate", "bytes", "bytes vs naive"],
            rows,
        )
        goals.append(
            ["at most 0.3 OCM requests per action", f"{e['bot']['per_action']:.2f}",
             verdict(e["bot"]["per_action"] <= 0.3)]
        )  # fmt: skip
        share = e["bot"]["bytes"] / naive["bytes"]
        goals.append(["at most 30 % of the naive bytes", f"{share:.0%}", verdict(share <= 0.3)])
    if "watches" in results:
        w = results["watches"]
        values["watch_polls_table"] = table(
            ["watches", "changes in the poll", "OCM requests", "one query per watch", "ratio", "poll time"],
            [
                [f"{p['watches']:,}", p["changes"], p["requests"], f"{p['watches']:,}",
                 f"{p['requests'] / p['watches']:.4g}", f"{p['poll_s']:.2f} s"]
                for p in w["polls"]
            ],
        )  # fmt: skip
        values["watch_matching_table"] = table(
            ["watches", "changes", "build the index", "match every change", "per change", "measuring every watch",
             "ratio"],
            [
                [f"{m['watches']:,}", f"{m['changes']:,}", f"{m['build_s']:.2f} s", f"{m['match_s']:.3f} s",
                 f"{m['match_s'] / m['changes'] * 1e6:.1f} µs", f"{m['every_watch_s']:.2f} s",
                 f"{m['every_watch_s'] / max(m['match_s'], 1e-9):,.0f}x"]
                for m in w["matching"]
            ],
        )  # fmt: skip
        most = max(w["polls"], key=lambda p: p["watches"])
        goals.append(
            ["OCM requests per poll independent of the number of watches",
             f"{most['requests']} for {most['watches']:,} watches", verdict(most["requests"] <= 2)]
        )  # fmt: skip
    if "announcements" in results:
        a = results["announcements"]
        values["announcements_table"] = table(
            ["case", "messages", "time", "rate", "429 answers (waited out)", "lost / left queued"],
            [
                [f"{a['groups']} groups, one announcement each", a["sent"], f"{a['seconds']:.1f} s",
                 f"**{a['per_s']:.1f} messages/s** ({a['per_s'] / 30:.0%} of 30/s)", a["too_many"], a["left"]],
                [f"one group, {a['burst']} polls back to back", a["burst_sent"], f"{a['burst_seconds']:.1f} s",
                 f"{60 * a['burst_sent'] / a['burst_seconds']:.1f} messages/minute", a["burst_too_many"],
                 a["burst_left"]],
            ],
        )  # fmt: skip
    if "local" in results:
        local = results["local"]
        values["local_forms_table"] = table(
            ["form", "size", "load time", "RSS after loading", "peak RSS", "goal: load < 10 s, peak < 1 GB"],
            [
                [name, f"{f['size_mb']:,.0f} MB", f"{f['load_s']:.1f} s", f"{f['rss_mb']:.0f} MB",
                 f"{f['peak_rss_mb']:.0f} MB", verdict(f["load_s"] < 10 and f["peak_rss_mb"] < 1024)]
                for name, f in local["forms"].items()
            ],
        )  # fmt: skip
        values["local_dense_table"] = table(
            ["chargers within 50 km", "index p50", "index p99", "0.1° grid alone p50", "0.1° grid alone p99",
             "speed-up at p99"],
            [
                [f"{int(size):,}", f"{d['index']['p50_ms']:.2f} ms", f"**{d['index']['p99_ms']:.2f} ms**",
                 f"{d['coarse grid alone']['p50_ms']:.2f} ms", f"{d['coarse grid alone']['p99_ms']:.2f} ms",
                 f"{d['coarse grid alone']['p99_ms'] / d['index']['p99_ms']:.1f}x"]
                for size, d in local["dense"].items()
            ],
        )  # fmt: skip
        slowest = max(local["forms"].items(), key=lambda item: item[1]["load_s"])
        goals.append(
            ["every form loads in under 10 s", f"slowest: {slowest[0]}, {slowest[1]['load_s']:.1f} s",
             verdict(slowest[1]["load_s"] < 10)]
        )  # fmt: skip
        peak = max(local["forms"].items(), key=lambda item: item[1]["peak_rss_mb"])
        goals.append(
            ["peak memory while loading under 1 GB", f"highest: {peak[0]}, {peak[1]['peak_rss_mb']:.0f} MB",
             verdict(peak[1]["peak_rss_mb"] < 1024)]
        )  # fmt: skip
        worst = max(d["index"]["p99_ms"] for d in local["dense"].values())
        goals.append(["nearest-20 p99 in a dense city under 2 ms", f"{worst:.2f} ms", verdict(worst < 2)])
    if "memory" in results:
        m = results["memory"]
        values["memory_table"] = table(
            ["", "RSS"],
            [
                ["services open, empty storage (baseline)", f"{m['baseline_mb']:.0f} MB"],
                [f"{m['users']:,} users in storage, {m['chargers']:,} chargers cached", f"{m['loaded_mb']:.0f} MB"],
                ["difference", f"+{m['loaded_mb'] - m['baseline_mb']:.0f} MB"],
            ],
        )
        goals.append(
            ["RSS under 150 MB with 100,000 users and 10,000 cached chargers (the storage issue's goal)",
             f"{m['loaded_mb']:.0f} MB",
             verdict(m["loaded_mb"] < 150)]
        )  # fmt: skip
    values["goals_table"] = table(["goal", "measured", ""], goals)
    if not plots_written:
        values["plots_note"] = f"*No plots in this run: {meta.get('plots_reason') or 'none drawn'}.*"
    text = TEMPLATE.read_text(encoding="utf-8").format_map(values)
    for name in plots.PLOTS:  # a plot that was not drawn is not linked
        if f"{name}.png" not in plots_written:
            text = text.replace(f"![{name}](img/{name}.png)\n", "")
    return text


TEMPLATE_KEYS = (
    "latency_zero_table",
    "latency_slow_table",
    "throughput_table",
    "economy_table",
    "watch_polls_table",
    "watch_matching_table",
    "announcements_table",
    "local_forms_table",
    "local_dense_table",
    "memory_table",
    "scaling_table",
    "plots_note",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a few seconds; writes to a temporary folder")
    parser.add_argument("--only", nargs="*", choices=SECTIONS, help="run only these sections")
    parser.add_argument("--out", type=Path, help="the report to write (default: docs/benchmarks.md)")
    parser.add_argument("--json", type=Path, help="also write every figure as JSON here")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    out = args.out or (Path(tempfile.mkdtemp(prefix="bench-")) / "benchmarks.md" if args.quick else None)
    out = out or REPO_ROOT / "docs" / "benchmarks.md"
    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    meta = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "commit": commit(), "machine": machine()}
    results = measure(config, set(args.only or SECTIONS))
    written, reason = plots.draw_all(results, out.parent / "img")
    wall = time.perf_counter() - started
    meta |= {
        "load_start": f"{load_start:.1f}",
        "load_end": f"{os.getloadavg()[0]:.1f}",
        "wall_s": wall,
        "wall": f"{int(wall // 60)} min {wall % 60:.0f} s",
        "budget": "10",
        "plots_reason": reason,
        "plots_note": "Plots: " + ", ".join(f"[{name}](img/{name})" for name in written) + "." if written else "",
    }
    out.write_text(render(results, config, meta, written), encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=1, default=str))
    step(f"wrote {out} ({len(written)} plots) in {meta['wall']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
