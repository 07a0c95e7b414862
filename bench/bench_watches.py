"""Benchmark: matching changed chargers against watches, and OCM requests per watch poll.

The watches and chargers are GENERATED: watches (radius 1-50 km, a third with filters) and changed
chargers cluster around 600 random "towns" the way groups and chargers do, a tenth of the chargers
scattered in between.

Measured:
- matching: building the :class:`~ocm_bot.domain.watches.WatchIndex` over 100,000 watches, then
  finding, for each of 10,000 changed chargers, every watch that contains and accepts it (one core);
  the resident memory the index adds; the same for a sample of chargers by measuring every watch
  (what the index avoids);
- one poll: :class:`~ocm_bot.domain.watch_poller.WatchPoller` with N watches stored in SQLite and a
  source that counts the requests it is asked (the changes answer in pages of 200): requests per
  poll against the one query per watch a per-group poll would send, and the poll's wall time.

Run: ``.venv/bin/python bench/bench_watches.py [--watches 100000] [--changes 10000]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.watch_poller import LAST_POLL_KEY, WatchPoller
from ocm_bot.domain.watches import Watch, WatchBook, WatchDraft, WatchFilters, WatchIndex
from ocm_bot.geometry import haversine_km
from ocm_bot.ocm.models import Address, Charger, Connection, ConnectionType, Operator, StatusType
from ocm_bot.ocm.source import SearchAnswer
from ocm_bot.storage import open_storage

NOW = datetime.now(UTC)
RADII = (1, 2, 3, 5, 10, 25, 50)


def towns(rng: random.Random, count: int = 600) -> list[tuple[float, float]]:
    return [(rng.uniform(-45, 62), rng.uniform(-125, 150)) for _ in range(count)]


def near(rng: random.Random, town: tuple[float, float], spread_deg: float = 0.3) -> tuple[float, float]:
    lat = max(-89.0, min(89.0, town[0] + rng.gauss(0, spread_deg)))
    lon = ((town[1] + rng.gauss(0, spread_deg) + 180) % 360) - 180
    return lat, lon


def make_watches(rng: random.Random, places: list[tuple[float, float]], count: int) -> list[Watch]:
    watches = []
    for n in range(count):
        lat, lon = near(rng, rng.choice(places))
        filters = WatchFilters()
        if n % 3 == 0:
            filters = WatchFilters(min_power_kw=rng.choice([22, 50, 150]), connection_type_ids=frozenset({33, 2}))
        watches.append(
            Watch(
                chat_id=-(10**12) - n, centre=GeoPoint(lat, lon), radius_km=rng.choice(RADII), filters=filters, id=n + 1
            )
        )
    return watches


def make_chargers(rng: random.Random, places: list[tuple[float, float]], count: int) -> list[Charger]:
    chargers = []
    for n in range(count):
        if n % 10 == 0:
            lat, lon = rng.uniform(-60, 70), rng.uniform(-180, 180)
        else:
            lat, lon = near(rng, rng.choice(places))
        connections = tuple(
            Connection(i, ConnectionType(rng.choice([2, 25, 33, 1036]), "t"), power_kw=rng.choice([7.4, 22, 50, 150]))
            for i in range(rng.randint(1, 3))
        )
        chargers.append(
            Charger(
                id=1_000_000 + n,
                address=Address(None, lat, lon),
                connections=connections,
                operator=Operator(rng.randint(1, 50), "op"),
                status=StatusType(50, "Operational", True),
                date_created=NOW - timedelta(days=rng.randint(0, 900)),
                date_last_status_update=NOW,
            )
        )
    return chargers


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_matching(watch_count: int, change_count: int, sample: int = 100) -> dict[str, float]:
    rng = random.Random(12)
    places = towns(rng)
    watches = make_watches(rng, places, watch_count)
    chargers = make_chargers(rng, places, change_count)
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    index = WatchIndex(watches)
    built = time.perf_counter() - started
    after = rss_mb()

    started = time.perf_counter()
    matches = sum(len(list(index.matching(charger))) for charger in chargers)
    matched = time.perf_counter() - started

    sample = chargers[:sample]
    started = time.perf_counter()
    naive = 0
    for charger in sample:
        lat, lon = charger.address.latitude, charger.address.longitude
        naive += sum(
            1
            for w in watches
            if haversine_km(w.centre.latitude, w.centre.longitude, lat, lon) <= w.radius_km
            and w.filters.accepts(charger)
        )
    every_watch = (time.perf_counter() - started) / len(sample) * len(chargers)
    assert naive == sum(len(list(index.matching(c))) for c in sample)

    result = {
        "watches": watch_count,
        "changes": change_count,
        "build_s": built,
        "index_mb": after - before,
        "match_s": matched,
        "matches": matches,
        "every_watch_s": every_watch,
    }
    print(f"watches {watch_count:,}, changed chargers {change_count:,}")
    print(f"  build index: {built:.2f} s, resident memory +{after - before:.0f} MB (peak RSS {after:.0f} MB)")
    print(
        f"  match all changes: {matched:.3f} s ({matched / change_count * 1e6:.1f} us per charger), {matches:,} matches"
    )
    print(f"  measuring every watch instead: about {every_watch:.0f} s (from {len(sample)} chargers)")
    return result


class CountingSource:
    """Changes answered from memory in ID order, 200 a page at most, counting the requests."""

    def __init__(self, chargers: list[Charger]) -> None:
        self.chargers = sorted(chargers, key=lambda c: c.id)
        self.requests = 0

    async def modified_since(self, since, *, maxresults=None, after_id=None, include_comments=False):
        self.requests += 1
        limit = min(maxresults or 200, 200)
        page = [c for c in self.chargers if c.id > (after_id or 0)][:limit]
        return SearchAnswer(page, returned=len(page))


async def bench_poll(watch_count: int, change_count: int) -> dict[str, float]:
    rng = random.Random(5)
    places = towns(rng)
    watches = make_watches(rng, places, watch_count)
    chargers = make_chargers(rng, places, change_count)
    with tempfile.TemporaryDirectory() as folder:
        storage = await open_storage(None, data_dir=Path(folder), secret=None)
        try:
            book = WatchBook(storage)
            for watch in watches:
                await book.add(
                    WatchDraft(
                        chat_id=watch.chat_id, centre=watch.centre, radius_km=watch.radius_km, filters=watch.filters
                    )
                )
            await storage.set_value(LAST_POLL_KEY, (NOW - timedelta(minutes=5)).isoformat())
            source = CountingSource(chargers)
            poller = WatchPoller(source, storage, instance_id="bench")
            started = time.perf_counter()
            result = await poller.poll()
            took = time.perf_counter() - started
        finally:
            await storage.close()
    assert result is not None
    events = sum(len(found) for found in result.events.values())
    print(
        f"poll, {watch_count:,} watches in SQLite, {change_count:,} changes: {source.requests} OCM requests "
        f"(one query per watch: {watch_count:,}), {took:.2f} s, {events:,} events to {len(result.events):,} chats"
    )
    return {"watches": watch_count, "changes": change_count, "requests": source.requests, "poll_s": took}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--watches", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--poll-watches", type=int, nargs="*", default=[1, 1_000, 10_000])
    parser.add_argument("--poll-changes", type=int, nargs="*", default=[150, 2_000])
    args = parser.parse_args()
    bench_matching(args.watches, args.changes)
    for count in args.poll_watches:
        for changes in args.poll_changes:
            asyncio.run(bench_poll(count, changes))


if __name__ == "__main__":
    main()
