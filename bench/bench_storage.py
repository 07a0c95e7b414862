"""Storage benchmark: 100,000 drivers' settings on SQLite and on PostgreSQL.

    .venv/bin/python bench/bench_storage.py [--users 100000] [--updates 3000]

For each backend: fills the database with the users' settings documents, then times settings
updates as the bot does them (read the document, write it back) on random users, and reports the
p50/p95/p99 latency per update, the database's size, and the memory (RSS) of a separate process that
opens the storage and serves updates for random users among the 100,000. PostgreSQL runs on a
private throwaway server started from /usr/lib/postgresql/*/bin as the tests do, but on disk with
PostgreSQL's default durability (fsync and synchronous_commit on). SQLite runs with the bot's
settings (WAL, synchronous=NORMAL: durable across crashes of the process, not of the machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from ocm_bot.storage import open_storage  # noqa: E402
from ocm_bot.storage.sqlite import SqliteStorage  # noqa: E402


def settings_document(user_id: int) -> dict[str, object]:
    """A plausible, fully filled settings document (about 300 bytes of JSON)."""
    rng = random.Random(user_id)
    return {
        "language": rng.choice(["en", "de", "fr", "uk", None]),
        "unit": rng.choice(["km", "mi"]),
        "min_power_kw": rng.choice([None, 11, 22, 50, 150]),
        "connection_types": rng.sample([1, 2, 25, 27, 32, 33, 1036], 3),
        "operators": rng.sample(range(1, 4000), 2),
        "usage_types": [1, 4, 5],
        "status": "operational",
        "levels": [2, 3],
        "open_data_only": rng.random() < 0.2,
        "radius": rng.choice([5, 10, 25]),
        "page_size": 5,
        "updated_at": "2026-03-01T12:00:00+00:00",
    }


def fill_sqlite(path: Path, users: int) -> None:
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO users (user_id, data, updated_at) VALUES (?, ?, ?)",
            ((uid, json.dumps(settings_document(uid)), time.time()) for uid in range(1, users + 1)),
        )


def fill_postgres(url: str, users: int) -> None:
    rows = [(uid, json.dumps(settings_document(uid)), time.time()) for uid in range(1, users + 1)]
    with (
        psycopg.connect(url) as connection,
        connection.cursor() as cursor,
        cursor.copy("COPY users (user_id, data, updated_at) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


async def time_updates(url: str, users: int, updates: int) -> list[float]:
    """Seconds per update (get_user + save_user) for random users."""
    storage = await open_storage(url, data_dir=Path(tempfile.gettempdir()), secret=None)
    rng = random.Random(1)
    latencies = []
    try:
        for _ in range(updates):
            user_id = rng.randint(1, users)
            started = time.perf_counter()
            document = await storage.get_user(user_id) or {}
            document["radius"] = rng.choice([5, 10, 25])
            await storage.save_user(user_id, document)
            latencies.append(time.perf_counter() - started)
    finally:
        await storage.close()
    return latencies


def rss_probe(url: str, users: int, updates: int) -> dict[str, float]:
    """Memory of a fresh process that imports the bot's libraries, opens the storage and serves."""
    code = f"""
import asyncio, sys, resource
sys.path.insert(0, {str(REPO_ROOT)!r})
import telegram.ext  # the bot process has it loaded too
sys.argv = ["probe"]
from bench.bench_storage import time_updates
asyncio.run(time_updates({url!r}, {users}, {updates}))
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(int(status["VmRSS"].split()[0]), int(status["VmHWM"].split()[0]))
"""
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    ).stdout.split()
    return {"rss_mb": int(output[0]) / 1024, "peak_rss_mb": int(output[1]) / 1024}


def baseline_rss() -> float:
    code = (
        "import telegram.ext, psycopg, aiosqlite\n"
        "status = dict(line.split(':', 1) for line in open('/proc/self/status'))\n"
        "print(int(status['VmRSS'].split()[0]))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(output.stdout) / 1024


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report(name: str, latencies: list[float], size_bytes: int, memory: dict[str, float]) -> None:
    ms = [value * 1000 for value in latencies]
    print(
        f"{name:<10} updates={len(ms)}  p50={percentile(ms, 0.50):.2f} ms"
        f"  p95={percentile(ms, 0.95):.2f} ms  p99={percentile(ms, 0.99):.2f} ms"
        f"  mean={statistics.fmean(ms):.2f} ms  size={size_bytes / 1e6:.1f} MB"
        f"  rss={memory['rss_mb']:.1f} MB (peak {memory['peak_rss_mb']:.1f} MB)",
        flush=True,
    )


async def prepare_sqlite(path: Path) -> None:
    await (await SqliteStorage(path, secret=None).open()).close()


def bench_sqlite(work: Path, users: int, updates: int) -> None:
    path = work / "ocm-bot.sqlite3"
    asyncio.run(prepare_sqlite(path))
    started = time.perf_counter()
    fill_sqlite(path, users)
    print(f"sqlite     filled {users} users in {time.perf_counter() - started:.1f} s", flush=True)
    url = f"sqlite:///{path}"
    latencies = asyncio.run(time_updates(url, users, updates))
    memory = rss_probe(url, users, updates)
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = sum(file.stat().st_size for file in work.glob("ocm-bot.sqlite3*"))
    report("sqlite", latencies, size, memory)


def bench_postgres(users: int, updates: int) -> None:
    from tests.storage.fixtures import PostgresCluster, find_postgres_bin

    cluster = PostgresCluster(find_postgres_bin(), durable=True)
    cluster.start()
    try:
        url = cluster.create_database()

        async def prepare() -> None:
            await (await open_storage(url, data_dir=Path("."), secret=None)).close()

        asyncio.run(prepare())
        started = time.perf_counter()
        fill_postgres(url, users)
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE users")
        print(f"postgresql filled {users} users in {time.perf_counter() - started:.1f} s", flush=True)
        latencies = asyncio.run(time_updates(url, users, updates))
        memory = rss_probe(url, users, updates)
        with psycopg.connect(url) as connection:
            size = connection.execute("SELECT pg_database_size(current_database())").fetchone()
            users_size = connection.execute("SELECT pg_total_relation_size('users')").fetchone()
        assert size is not None and users_size is not None
        report("postgresql", latencies, size[0], memory)
        print(f"postgresql users table with indexes: {users_size[0] / 1e6:.1f} MB", flush=True)
    finally:
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--updates", type=int, default=3_000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(f"python process with telegram, psycopg, aiosqlite loaded: {baseline_rss():.1f} MB RSS")
    with tempfile.TemporaryDirectory(prefix="ocm-bot-bench-") as work:
        if args.only in (None, "sqlite"):
            bench_sqlite(Path(work), args.users, args.updates)
    if args.only in (None, "postgresql"):
        bench_postgres(args.users, args.updates)


if __name__ == "__main__":
    main()
