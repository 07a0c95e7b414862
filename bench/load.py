"""Load with faults, measured: many simulated drivers for a minute against a real ``ocm-bot run``
process through the loopback Bot API, with a share of OCM requests failing; writes the figures
into docs/reliability.md ("Load").

    .venv/bin/python bench/load.py                                  # 1,000 drivers, 60 s, 5 % OCM faults
    .venv/bin/python bench/load.py --users 100 --seconds 10 --no-write

Each driver, after a random pause (exponential, mean ``--think`` seconds), shares a location near
one of five sample areas (Portland, Salt Lake City, Leeds, Andorra, München; jittered by up to
about 3 km, so some searches are answered from the bot's cache and some ask OCM) or, having
results, taps "Next ›"; then waits for the answer before the next action (a closed loop, as people
are). The fake Bot API enforces Telegram's limits (30 messages a second overall, 1 a second per
chat: 429 with ``retry_after`` beyond them). The fake OCM answers 5 % of ``/v3/poi`` requests with
a fault (500, a 502 HTML page, malformed JSON, 429 with Retry-After 2, a 6 s delay: 1 % each).

Reported: updates sent and answered (an update is answered when the bot's ``sendMessage`` or
``editMessageText`` to that chat arrives; none may be lost), reply time (update queued -> the
answer at the Bot API) p50/p90/p99/max, replies per second against the ~30/s ceiling, 429s, and
where the time of a search goes: before OCM was asked (fetching the update, the bot's own code),
OCM (from the fake OCM's log: matched by the search's point), after OCM's answer (rendering and
python-telegram-bot's rate limiter), and the bot process's CPU time per update.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from reliability_doc import commit, machine, today, write_section  # noqa: E402

from tests.e2e.fixtures import REPO_ROOT, settings_for, started_processes  # noqa: E402
from tests.fakes.nominatim_server import FakeNominatimServer  # noqa: E402
from tests.fakes.ocm_server import FakeOcmServer  # noqa: E402
from tests.fakes.telegram.driver import TelegramDriver  # noqa: E402
from tests.fakes.telegram.server import FakeTelegramServer  # noqa: E402

AREAS = [(45.5122, -122.6587), (40.7608, -111.8910), (53.8008, -1.5491), (42.5063, 1.5218), (48.1374, 11.5755)]
FAULTS = [("status500", {}), ("502-text", {}), ("bad-json", {}), ("429", {"retry_after": 2}), ("delay", {"delay": 6.0})]
REPLIES = ("sendMessage", "editMessageText")


@dataclass
class Action:
    user_index: int
    chat_id: int
    kind: str  # "search" or "next page"
    sent: float  # time.time()
    point: tuple[float, float] | None = None
    answered: float | None = None
    text: str = ""


@dataclass
class Driver:
    index: int
    user: object
    results: object | None = None
    actions: list[Action] = field(default_factory=list)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its reaped children (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(x) for x in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


async def run(args: argparse.Namespace) -> dict:
    rng = random.Random(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="ocm-bot-load-"))
    telegram_server = FakeTelegramServer().start()
    telegram_server.enable_flood_control(per_second=30, per_chat_per_second=1, per_group_per_minute=20)
    ocm = FakeOcmServer().start()
    ocm.fault_random.seed(args.seed)
    share = args.fault_share / len(FAULTS)
    for kind, options in FAULTS:
        ocm.inject(kind, times=None, path_prefix="/v3/poi", probability=share, **options)
    nominatim = FakeNominatimServer().start()
    settings = settings_for(telegram_server, ocm, nominatim, folder / "data")
    telegram = TelegramDriver(telegram_server)

    def argv(command: str) -> list[str]:
        return [sys.executable, "-m", "ocm_bot", "--env-file", str(folder / "no.env"), command]

    try:
        with started_processes(argv, cwd=REPO_ROOT, logs=folder, prefix="bot") as start:
            budget = str(args.ocm_per_minute)
            process = start(settings, LOG_LEVEL="WARNING", OCM_REQUESTS_PER_MINUTE=budget, OUTBOX_POLL_SECONDS="60")
            warm = telegram.user("Warm-up")
            await warm.send_text("/help")
            await warm.wait_for_message(timeout=60)
            return await drive(args, rng, telegram, telegram_server, ocm, process.process.pid)
    finally:
        nominatim.stop()
        ocm.stop()
        telegram_server.stop()


async def drive(args, rng, telegram, telegram_server, ocm, pid: int) -> dict:
    drivers = [Driver(i, telegram.user(f"Driver {i}")) for i in range(args.users)]
    pending: dict[int, Action] = {}
    waiters: dict[int, asyncio.Event] = {}
    seen = len(telegram_server.requests)
    stop_collecting = asyncio.Event()
    replies_at: list[float] = []
    refused = 0

    async def collect() -> None:
        nonlocal seen, refused
        while not stop_collecting.is_set():
            requests = telegram_server.requests
            fresh, seen = requests[seen:], len(requests)
            for record in fresh:
                if record.method not in REPLIES:
                    continue
                if not record.ok:
                    refused += 1
                    continue
                replies_at.append(record.time)
                chat = int(record.params.get("chat_id", 0))
                action = pending.get(chat)
                if action is not None and record.time >= action.sent:
                    action.answered = record.time
                    action.text = str(record.params.get("text", ""))[:80]
                    del pending[chat]
                    waiters[chat].set()
            await asyncio.sleep(0.02)

    cpu_before = cpu_seconds(pid)
    started = time.time()
    deadline = started + args.seconds

    async def person(driver: Driver) -> None:
        user = driver.user
        chat = user.chat_id
        waiters[chat] = asyncio.Event()
        while True:
            await asyncio.sleep(min(rng.expovariate(1 / args.think), max(0.0, deadline - time.time())))
            if time.time() >= deadline:
                return
            page = driver.results is not None and rng.random() < 0.2
            waiters[chat].clear()
            if page:
                message = user.message(driver.results)
                if "Next ›" not in message.labels:
                    page = False
            if page:
                action = Action(driver.index, chat, "next page", time.time())
                pending[chat] = action
                await user.press(message, "Next ›")
            else:
                lat, lon = rng.choice(AREAS)
                point = (round(lat + rng.uniform(-0.03, 0.03), 5), round(lon + rng.uniform(-0.03, 0.03), 5))
                action = Action(driver.index, chat, "search", time.time(), point)
                pending[chat] = action
                await user.send_location(*point)
            driver.actions.append(action)
            try:
                await asyncio.wait_for(waiters[chat].wait(), args.answer_within)
            except TimeoutError:
                pending.pop(chat, None)
                return  # this driver gives up: the update counts as lost
            if action.kind == "search" and "Chargers near" in action.text:
                driver.results = user.last_message

    collector = asyncio.create_task(collect())
    await asyncio.gather(*(person(d) for d in drivers))
    ended = time.time()
    await asyncio.sleep(0.5)
    stop_collecting.set()
    await collector
    cpu = cpu_seconds(pid) - cpu_before
    actions = [a for d in drivers for a in d.actions]
    errors = Counter(f"{method}: {text}" for method, text in list(telegram_server.errors))
    figures = analyse(args, actions, replies_at, refused, ocm, started, ended, cpu)
    figures["Bot API error answers"] = ", ".join(f"{text} ×{n}" for text, n in errors.most_common()) or "none"
    return figures


def analyse(args, actions, replies_at, refused, ocm, started, ended, cpu) -> dict:
    answered = [a for a in actions if a.answered is not None]
    times = [a.answered - a.sent for a in answered]
    window = started + args.seconds  # while drivers were still acting
    per_second = Counter(int(t - started) for t in replies_at if started <= t <= window)
    busiest = max(per_second.values(), default=0)
    mean_rate = len([t for t in replies_at if started <= t <= window]) / args.seconds
    # OCM requests by point: the bot sends the driver's point as latitude/longitude.
    poi = [r for r in list(ocm.requests) if r.path.startswith("/v3/poi") and "latitude" in r.params]
    by_point: dict[tuple[float, float], list] = {}
    offset = time.time() - time.monotonic()
    for r in poi:
        try:
            key = (round(float(r.params["latitude"]), 3), round(float(r.params["longitude"]), 3))
        except ValueError:
            continue
        by_point.setdefault(key, []).append(r)
    before, during, after, with_ocm, cached_times = [], [], [], [], []
    for a in answered:
        if a.kind != "search" or a.point is None:
            continue
        key = (round(a.point[0], 3), round(a.point[1], 3))
        mine = [r for r in by_point.get(key, []) if a.sent <= r.monotonic + offset <= a.answered]
        if not mine:
            cached_times.append(a.answered - a.sent)
            continue
        first = min(r.monotonic for r in mine) + offset
        last = max((r.answered or r.monotonic) for r in mine) + offset
        before.append(first - a.sent)
        during.append(last - first)
        after.append(a.answered - last)
        with_ocm.append(a.answered - a.sent)
    kinds = Counter(r.fault for r in poi if r.fault)
    answers = Counter(_answer_kind(a.text) for a in answered)
    searches = sum(a.kind == "search" for a in actions)
    return {
        "users": args.users,
        "seconds (until the last answer)": round(ended - started, 1),
        "updates sent": len(actions),
        "updates answered": len(answered),
        "updates lost": len(actions) - len(answered),
        "searches / page turns": f"{searches} / {len(actions) - searches}",
        "reply time p50 / p90 / p99 / max (s)": " / ".join(f"{percentile(times, q):.2f}" for q in (50, 90, 99, 100)),
        "replies per second: mean / busiest second": f"{mean_rate:.1f} / {busiest}",
        "sends refused by flood control (429)": refused,
        "OCM /poi requests (faulted)": f"{len(poi)} ({sum(kinds.values())}: "
        + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        + ")",
        "searches answered from the cache: n, p50 / p99 (s)": f"{len(cached_times)}, "
        f"{percentile(cached_times, 50):.2f} / {percentile(cached_times, 99):.2f}",
        "searches that asked OCM: n, p50 / p99 (s)": f"{len(with_ocm)}, "
        f"{percentile(with_ocm, 50):.2f} / {percentile(with_ocm, 99):.2f}",
        "… before OCM was asked p50 / p99 (s)": f"{percentile(before, 50):.2f} / {percentile(before, 99):.2f}",
        "… waiting for OCM p50 / p99 (s)": f"{percentile(during, 50):.2f} / {percentile(during, 99):.2f}",
        "… after OCM answered (render, rate limiter, send) p50 / p99 (s)": f"{percentile(after, 50):.2f} / "
        f"{percentile(after, 99):.2f}",
        "bot CPU per update (ms)": f"{cpu / max(1, len(actions)) * 1000:.1f} ({cpu:.1f} s in all)",
        "answers": ", ".join(f"{k} {n}" for k, n in answers.most_common()),
    }


def _answer_kind(html: str) -> str:
    text = re.sub(r"<[^>]+>", "", html)
    if text.startswith("Chargers near"):
        return "results"
    if "page" in text and "Chargers" in text:
        return "results"
    if "not answering" in text:
        return "OCM not answering"
    if "could not read" in text:
        return "OCM answer unreadable"
    if "slow down" in text:
        return "OCM asks to slow down"
    if "busy" in text:
        return "bot busy (own OCM budget)"
    return text[:40] or "edit"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=30.0, help="mean pause between a driver's actions (s)")
    parser.add_argument("--fault-share", type=float, default=0.05)
    parser.add_argument(
        "--ocm-per-minute", type=int, default=600, help="OCM_REQUESTS_PER_MINUTE of the bot (production default: 60)"
    )
    parser.add_argument("--answer-within", type=float, default=60.0, help="an update unanswered this long is lost")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    when, where = today(), machine()
    figures = asyncio.run(run(args))
    table = "\n".join(["| figure | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in figures.items()])
    print(table)
    if args.no_write:
        return
    body = (
        f"{args.users:,} simulated drivers for {args.seconds:g} s against a real `ocm-bot run` process (SQLite, "
        f"`OCM_REQUESTS_PER_MINUTE={args.ocm_per_minute}`: with the default of 60 most of these searches are "
        'answered "This bot is busy right now", as the fair use of OCM wants), through the loopback Bot API with '
        "Telegram's limits enforced (30 messages a second overall, 1 a second per chat), "
        f"{args.fault_share:.0%} of OCM `/poi` requests failing (500, a 502 HTML page, malformed JSON, 429 "
        "with Retry-After 2, a 6 s delay; 1 % each). Each driver pauses (exponential, mean "
        f"{args.think:g} s), then shares a location near one of five sample areas or turns a page of "
        "its results, and waits for the answer. The fake servers and the drivers share one process "
        "(the bench's), the bot has its own.\n\n"
        f"Measured {when} on {where}, commit {commit()}: "
        f"`.venv/bin/python bench/load.py --users {args.users} --seconds {args.seconds:g} --seed {args.seed}`.\n\n"
        + table
        + "\n"
    )
    write_section("Load", body)
    print("written to docs/reliability.md")


if __name__ == "__main__":
    main()
