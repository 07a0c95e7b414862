"""Processes the storage tests start and kill: ``python -m tests.storage.workers <job> ...``.

write <url>                 writes rows one transaction at a time, printing each committed one
lease <url> <holder> <ttl>  polls a lease every tenth of a second, printing whether it holds it
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from ocm_bot.storage import open_storage

POLL_SECONDS = 0.1
LEASE_NAME = "notification-poller"


async def write(url: str) -> None:
    storage = await open_storage(url, data_dir=Path(tempfile.gettempdir()), secret=None)
    print("open", flush=True)
    for row in range(1, 1_000_000):
        await storage.add_favourite(1, row)
        await storage.save_user(row, {"unit": "km", "row": row, "padding": "x" * 200})
        # Printed only after both commits: the parent may count on every printed row.
        print(row, flush=True)


async def lease(url: str, holder: str, ttl: float) -> None:
    storage = await open_storage(url, data_dir=Path(tempfile.gettempdir()), secret=None)
    while True:
        held = await storage.try_acquire_lease(LEASE_NAME, holder, ttl)
        print(f"{time.monotonic():.3f} {'held' if held else 'waiting'}", flush=True)
        await asyncio.sleep(POLL_SECONDS)


def main(argv: list[str]) -> None:
    job, url, *rest = argv
    if job == "write":
        asyncio.run(write(url))
    elif job == "lease":
        holder, ttl = rest
        asyncio.run(lease(url, holder, float(ttl)))
    else:
        raise SystemExit(f"unknown job {job!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
