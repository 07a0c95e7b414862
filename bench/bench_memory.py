"""Memory: the bot's resident memory with 100,000 users in storage and 10,000 chargers in its caches.

    .venv/bin/python -m bench.bench_memory [--users 100000] [--chargers 10000]

In a fresh process: the bot's services opened as ``ocm-bot run`` opens them (SQLite storage, the
OCM client on the fake OCM, the search service), RSS measured (the baseline); then the storage
filled with ``--users`` drivers' settings (written as the bot writes them) and served for random
users, and searches run at spread-out places until the OCM client holds ``--chargers`` chargers;
RSS measured again.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REPO_ROOT = Path(__file__).resolve().parents[1]


def rss_mb() -> float:
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(status["VmRSS"].split()[0]) / 1024


async def measure(users: int, chargers: int, ocm_url: str, ocm_key: str) -> dict[str, float]:
    import telegram.ext  # noqa: F401  (the bot process has it loaded)

    from bench.bench_storage import settings_document
    from ocm_bot.app import close_services, open_services
    from ocm_bot.ocm.query import PoiQuery
    from ocm_bot.settings import Secret, Settings
    from ocm_bot.storage.sqlite import SqliteStorage

    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        storage = await SqliteStorage(data_dir / "ocm-bot.sqlite3", secret=None).open()
        settings = Settings(
            telegram_bot_token=Secret("1:bench"),
            ocm_api_url=ocm_url,
            ocm_api_key=Secret(ocm_key),
            nominatim_url="http://127.0.0.1:9",
            data_dir=data_dir,
            ocm_requests_per_minute=600,
        )
        settings = dataclasses.replace(settings, ocm_requests_per_minute=100_000)
        services = await open_services(settings, storage=storage)
        gc.collect()
        baseline = rss_mb()
        with sqlite3.connect(data_dir / "ocm-bot.sqlite3") as connection:
            connection.executemany(
                "INSERT INTO users (user_id, data, updated_at) VALUES (?, ?, ?)",
                ((uid, json.dumps(settings_document(uid)), time.time()) for uid in range(1, users + 1)),
            )
        rng = random.Random(2)
        for _ in range(2000):  # the bot serving drivers among them
            user_id = rng.randint(1, users)
            document = await storage.get_user(user_id) or {}
            await storage.save_user(user_id, document)
        seen: set[int] = set()
        n = 0
        while len(seen) < chargers and n < 2000:
            # spread-out places over the generated area, 100 chargers each
            lat, lon = 48.7 + (n % 40) * 0.015, 2.9 + (n // 40) * 0.025
            found = await services.ocm_client.search(PoiQuery(latitude=lat, longitude=lon, distance=3, maxresults=100))
            seen.update(charger.id for charger in found)
            n += 1
        gc.collect()
        loaded = rss_mb()
        await close_services(services)
        await storage.close()
    return {"baseline_mb": baseline, "loaded_mb": loaded, "chargers": len(seen), "users": users, "searches": n}


def run(users: int, chargers: int) -> dict[str, float]:
    """The measurement in a fresh process (the fake OCM in this one)."""
    from tests.fakes.ocm import FakeOcmServer

    server = FakeOcmServer().start()
    server.generate_chargers(chargers + 2000, center=(49.0, 3.4), radius_km=40, seed=3)
    try:
        command = [sys.executable, "-m", "bench.bench_memory", "--child", server.url, server.api_key]
        command += ["--users", str(users), "--chargers", str(chargers)]
        output = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout
    finally:
        server.stop()
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--chargers", type=int, default=10_000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(measure(args.users, args.chargers, *args.child))))
        return
    print(json.dumps(run(args.users, args.chargers), indent=1))


if __name__ == "__main__":
    main()
