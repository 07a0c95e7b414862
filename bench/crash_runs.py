"""Crash safety, measured: check-in conversations with ``ocm-bot run`` killed by SIGKILL at seeded
random points and restarted (tests/e2e/crash_runs.py explains a run), on SQLite and on PostgreSQL;
writes the figures into docs/reliability.md ("Crash safety").

    .venv/bin/python bench/crash_runs.py --runs 100                 # both databases, ~5 min each
    .venv/bin/python bench/crash_runs.py --runs 20 --database sqlite --no-write

PostgreSQL is a private throwaway cluster from the Debian server binaries (as the tests start it;
``./scripts/test`` installs them). Exit status 1 when any run broke a promise.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from reliability_doc import commit, machine, today, write_section  # noqa: E402

from tests.e2e.crash_runs import ACTIONS, CrashReport, RunResult, run_crash_conversations  # noqa: E402
from tests.storage.fixtures import PostgresCluster, find_postgres_bin  # noqa: E402


def progress(result: RunResult) -> None:
    mark = "." if result.ok else "F"
    print(mark, end="\n" if (result.run + 1) % 50 == 0 else "", flush=True)


async def measure(runs: int, seed: int, database: str) -> CrashReport:
    if database == "sqlite":
        return await run_crash_conversations(runs, seed=seed, log=progress)
    cluster = PostgresCluster(find_postgres_bin())
    cluster.start()
    try:
        return await run_crash_conversations(runs, seed=seed, database_url=cluster.create_database(), log=progress)
    finally:
        cluster.stop()


def _stuck(run: RunResult) -> bool:
    return any("resumable" in problem for problem in run.problems)


def section(reports: list[CrashReport], seed: int, when: str) -> str:
    def count(r: CrashReport, test) -> int:
        return sum(1 for x in r.runs if test(x))

    rows = [
        ("conversations (one SIGKILL each)", lambda r: f"{len(r.runs)} ({r.kills} kills)"),
        ("check-ins the driver saw accepted", lambda r: count(r, lambda x: x.checkin_accepted)),
        ("… on OCM exactly once", lambda r: count(r, lambda x: x.checkin_accepted and x.posts == 1)),
        ("… lost", lambda r: count(r, lambda x: x.checkin_accepted and x.posts == 0)),
        ("… posted twice or more", lambda r: count(r, lambda x: x.posts > 1)),
        ("drafts that went on after the restart", lambda r: count(r, lambda x: not _stuck(x))),
        ("favourites seen starred / still there", lambda r: f"{count(r, lambda x: x.favourite_confirmed)} / "
         f"{count(r, lambda x: x.favourite_confirmed and x.favourite_kept)}"),
        ("minimum power seen chosen / still there", lambda r: f"{count(r, lambda x: x.setting_confirmed)} / "
         f"{count(r, lambda x: x.setting_confirmed and x.setting_kept)}"),
        ("actions repeated (update died with the process)", lambda r: sum(len(x.repeated) for x in r.runs)),
        ("runs with a broken promise", lambda r: len(r.failures)),
        ("wall time", lambda r: f"{r.seconds:.0f} s"),
    ]  # fmt: skip
    header = "| | " + " | ".join(r.database for r in reports) + " |"
    lines = [header, "|---|" + "---|" * len(reports)]
    lines += [f"| {name} | " + " | ".join(str(value(r)) for r in reports) + " |" for name, value in rows]
    kill_points = Counter(x.killed_after for r in reports for x in r.runs)
    repeated = Counter(a for r in reports for x in r.runs for a in x.repeated)
    spread = ", ".join(f"{action} {kill_points[action]}" for action in ACTIONS)
    repeats = ", ".join(f"{action} {n}" for action, n in repeated.most_common()) or "none"
    failures = [
        f"- {r.database} run {x.run} (killed {x.delay_ms} ms after {x.killed_after!r}): {'; '.join(x.problems)}"
        for r in reports
        for x in r.failures
    ]
    return (
        "Check-in conversations with `ocm-bot run` (a real process) killed by SIGKILL at a random point and "
        "started again on the same database. A run is one driver: `/charger <id>` and ☆ Favourite; `/settings`, "
        "⚡ Minimum power, 50 kW; `/checkin <id>`, ✅ Charged successfully, 4, a comment of its own, Submit. "
        "A seeded generator picks the action after which the process is killed and the delay (0-500 ms); after "
        "the restart the driver repeats an action only when nothing came of it. Promises checked: a check-in the "
        "driver saw accepted is on the fake OCM exactly once (`POST /comment` bodies, after the outbox has had "
        "its time), the conversation goes on from where the driver saw it, and the favourite and the setting "
        "the driver saw confirmed are in the database.\n\n"
        f"Measured {when} on {machine()}, commit {commit()}, seed {seed}: "
        f"`.venv/bin/python bench/crash_runs.py --runs {len(reports[0].runs)} --seed {seed}`. "
        "In the suite: `tests/e2e/test_crash_safety.py` (3 runs on SQLite, 3 on PostgreSQL, other seeds).\n\n"
        + "\n".join(lines)
        + f"\n\nKill points: {spread}. Actions repeated: {repeats}.\n"
        + ("\n" + "\n".join(failures) + "\n" if failures else "")
        + "\nAn action is repeated when python-telegram-bot had fetched its update but not handled it when the "
        "process died: the updater confirms updates to Telegram (the next `getUpdates` offset) as soon as it has "
        "queued them, so they are not delivered again. The driver sees no answer and taps (or types) again; "
        "nothing that was confirmed is lost."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    when = today()
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    reports = []
    for database in databases:
        started = time.monotonic()
        print(f"{database}: {args.runs} runs", flush=True)
        report = asyncio.run(measure(args.runs, args.seed, database))
        print(f"\n{report.summary()} ({time.monotonic() - started:.0f} s)", flush=True)
        reports.append(report)
    text = section(reports, args.seed, when)
    print(text)
    if not args.no_write:
        write_section("Crash safety", text)
        print("written to docs/reliability.md")
    if any(r.failures for r in reports):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
