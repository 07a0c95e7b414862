"""What the OCM client costs OCM and the bot: bytes, requests per user action, CPU per search.

    .venv/bin/python -m bench.bench_ocm_client            # from the repository root
    .venv/bin/python bench/bench_ocm_client.py --iterations 300

Three measurements, all against the loopback fake OCM server (tests/fakes/ocm) or, for the
overhead, a zero-latency in-process transport:

1. Bytes downloaded for the same 100-charger search: the client's default
   (``compact=true&verbose=false``) against OCM's default output (verbose, reference objects inline),
   on the 100 real POIs of east London (poi-more.json) and on 100 generated ones.
2. OCM requests for a scripted mix of 100 searches by 20 users in one city (first searches,
   repeats, next pages, narrower filters, nearby points), against 100 for one request per action.
3. Client overhead per search (query -> params -> HTTP -> JSON -> parse -> resolve 100 chargers
   -> cache) with a server that answers instantly: p50 and p99 of the CPU time of the calling
   thread (``time.thread_time``), so other processes on a busy machine do not blur the figure.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import math
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ocm_bot.ocm.client import OcmClient, OcmLimits
from ocm_bot.ocm.parse import parse_pois
from ocm_bot.ocm.query import PoiQuery
from ocm_bot.ocm.reference import ReferenceData
from tests.fakes.ocm import FakeOcmServer

BOW = (51.5255, -0.0335)  # the 100 real compact POIs of poi-more.json
CITY = (52.5200, 13.4050)  # Berlin, filled with generated chargers
HEADERS = {"User-Agent": "ocm-bot-bench/1.0"}


# 1. Bytes ---------------------------------------------------------------------------------------


def bytes_per_shape(server: FakeOcmServer, center: tuple[float, float]) -> dict[str, tuple[int, int]]:
    """Response bytes (plain, gzipped) of one 100-charger search at ``center`` in each shape.

    The fake sends plain bodies; OCM's front end may gzip, so both sizes are shown.
    """
    base = {"output": "json", "latitude": center[0], "longitude": center[1], "maxresults": 100}
    shapes = {
        "OCM default (verbose)": {},
        "verbose=false": {"verbose": "false"},
        "compact=true&verbose=false (client default)": {"compact": "true", "verbose": "false"},
    }
    sizes = {}
    with httpx.Client(headers={**HEADERS, "X-API-Key": server.api_key}) as http:
        for name, extra in shapes.items():
            response = http.get(f"{server.url}/poi", params={**base, **extra})
            response.raise_for_status()
            assert len(response.json()) == 100, "the bench needs 100 chargers in the answer"
            sizes[name] = (len(response.content), len(gzip.compress(response.content, 6)))
    return sizes


async def client_default_bytes(server: FakeOcmServer, reference_path: Path, center: tuple[float, float]) -> int:
    """The same 100-charger search made through OcmClient, measured in the server's log."""
    async with httpx.AsyncClient() as http:
        client = OcmClient(http, base_url=server.url, api_key=server.api_key, reference_cache_path=reference_path)
        await client.start()
        server.clear()
        await client.search(PoiQuery(latitude=center[0], longitude=center[1], maxresults=100))
    [request] = server.requests_to("/v3/poi")
    return request.response_bytes


# 2. Requests for a scripted mix of user actions -------------------------------------------------


@dataclass(frozen=True)
class Action:
    user: int
    kind: str
    query: PoiQuery


def offset(point: tuple[float, float], km: float, bearing: float) -> tuple[float, float]:
    lat = point[0] + km * math.cos(bearing) / 111.195
    lng = point[1] + km * math.sin(bearing) / (111.195 * math.cos(math.radians(point[0])))
    return round(lat, 6), round(lng, 6)


def _search(point: tuple[float, float], radius: float, size: int, filters: dict[str, Any]) -> PoiQuery:
    return PoiQuery(latitude=point[0], longitude=point[1], distance=radius, maxresults=size, **filters)


def scripted_mix(seed: int = 7, users: int = 20, city_radius_km: float = 6.0) -> list[Action]:
    """100 actions: per user a first search, a repeat, a next page, a narrower filter, a nearby point.

    Users live anywhere within ``city_radius_km`` of the centre, keep their own radius (5 or 10 km)
    and page size (5 or 10); actions of different users interleave in a random but fixed order.
    """
    rng = random.Random(seed)
    per_user: list[list[Action]] = []
    for user in range(users):
        home = offset(CITY, city_radius_km * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi))
        radius = rng.choice([5, 10])
        page = rng.choice([5, 10])
        filters: dict[str, Any] = rng.choice([{}, {}, {"connectiontypeid": (33, 25)}])

        narrower = {**filters, **rng.choice([{"minpowerkw": 50}, {"connectiontypeid": (33,)}, {"statustypeid": (50,)}])}
        moved = offset(home, rng.uniform(0.2, 1.0), rng.uniform(0, 2 * math.pi))
        per_user.append(
            [
                Action(user, "first search", _search(home, radius, page, filters)),
                Action(user, "repeat", _search(home, radius, page, filters)),
                Action(user, "next page", _search(home, radius, page * 2, filters)),
                Action(user, "narrower filter", _search(home, radius, page, narrower)),
                Action(user, "nearby point", _search(moved, radius, page, filters)),
            ]
        )
    order: list[Action] = []
    while any(per_user):
        queue = rng.choice([q for q in per_user if q])
        order.append(queue.pop(0))
    return order


async def requests_for_mix(
    server: FakeOcmServer, reference_path: Path, limits: OcmLimits | None = None
) -> tuple[int, int, Counter[str], int]:
    """(requests, response bytes, requests per kind of action, empty answers) for the scripted mix."""
    actions = scripted_mix()
    async with httpx.AsyncClient() as http:
        client = OcmClient(
            http,
            base_url=server.url,
            api_key=server.api_key,
            reference_cache_path=reference_path,
            limits=limits or OcmLimits(requests_per_minute=1000),
        )
        await client.start()
        server.clear()
        by_kind: Counter[str] = Counter()
        empty = 0
        for action in actions:
            before = len(server.requests_to("/v3/poi"))
            found = await client.search(action.query)
            empty += not found
            by_kind[action.kind] += len(server.requests_to("/v3/poi")) - before
    requests = server.requests_to("/v3/poi")
    return len(requests), sum(r.response_bytes for r in requests), by_kind, empty


def one_request_per_action(server: FakeOcmServer) -> tuple[int, int]:
    """The baseline: every action asks OCM itself (compact, non-verbose), nothing cached."""
    server.clear()
    with httpx.Client(headers={**HEADERS, "X-API-Key": server.api_key}) as http:
        for action in scripted_mix():
            http.get(f"{server.url}/poi", params=action.query.to_params()).raise_for_status()
    requests = server.requests_to("/v3/poi")
    return len(requests), sum(r.response_bytes for r in requests)


# 3. Client overhead -----------------------------------------------------------------------------


async def overhead(body: bytes, reference_path: Path, iterations: int) -> tuple[float, float]:
    """p50/p99 CPU milliseconds of OcmClient.search() when the server answers ``body`` instantly."""

    def instant(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    limits = OcmLimits(requests_per_minute=10**9)
    async with httpx.AsyncClient(transport=httpx.MockTransport(instant)) as http:
        client = OcmClient(http, base_url="http://ocm.invalid/v3", reference_cache_path=reference_path, limits=limits)
        await client.start()
        timings = []
        for n in range(iterations + 20):
            # A new point far from every earlier one: never answered from the cache.
            query = PoiQuery(latitude=-60 + (n % 120), longitude=-170 + n * 0.01 % 340, distance=5, maxresults=100)
            started = time.thread_time()
            found = await client.search(query)
            elapsed = time.thread_time() - started
            assert len(found) == 100
            if n >= 20:  # warm-up
                timings.append(elapsed * 1000)
    timings.sort()
    return statistics.median(timings), timings[min(len(timings) - 1, int(len(timings) * 0.99))]


def parse_only(body: bytes, reference: ReferenceData, iterations: int) -> tuple[float, float]:
    """p50/p99 CPU milliseconds of decoding and parsing ``body`` alone."""
    timings = []
    for _ in range(iterations):
        started = time.thread_time()
        parse_pois(json.loads(body), reference)
        timings.append((time.thread_time() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[min(len(timings) - 1, int(len(timings) * 0.99))]


async def main(iterations: int) -> None:
    server = FakeOcmServer().start()
    try:
        with TemporaryDirectory() as tmp:
            reference_path = Path(tmp) / "reference.json"
            async with httpx.AsyncClient() as http:
                await OcmClient(
                    http, base_url=server.url, api_key=server.api_key, reference_cache_path=reference_path
                ).start()

            print("1. Bytes for the same 100-charger search")
            for label, center in (("real POIs, east London", BOW), ("generated POIs, Berlin", CITY)):
                if center == CITY:
                    server.generate_chargers(3000, center=CITY, radius_km=12, seed=1)
                sizes = bytes_per_shape(server, center)
                default, default_gz = sizes["OCM default (verbose)"]
                print(f"   {label}:{'plain':>50s} {'gzipped':>20s}")
                for name, (size, gz) in sizes.items():
                    print(f"     {name:45s} {size:>9,d} B {size / default:6.1%}  {gz:>8,d} B {gz / default_gz:6.1%}")
                ours = await client_default_bytes(server, reference_path, center)
                print(f"     {'through OcmClient.search()':45s} {ours:>9,d} B {ours / default:6.1%}")

            print("\n2. OCM requests for 100 searches by 20 users in one city (3000 chargers, Berlin)")
            base_requests, base_bytes = one_request_per_action(server)
            total, total_bytes, by_kind, empty = await requests_for_mix(server, reference_path)
            print(f"   one request per action (no client):        {base_requests:4d} requests {base_bytes:>11,d} B")
            label = "OcmClient, defaults:"
            print(f"   {label:43s} {total:4d} requests {total_bytes:>11,d} B")
            for kind, count in by_kind.items():
                print(f"     {kind:16s} {count:3d} requests for 20 actions")
            print(f"   searches with no charger found: {empty}")

            server.clear()
            with httpx.Client(headers={**HEADERS, "X-API-Key": server.api_key}) as http:
                params = {"output": "json", "latitude": CITY[0], "longitude": CITY[1], "maxresults": 100}
                compact = http.get(f"{server.url}/poi", params={**params, "compact": "true", "verbose": "false"})
                verbose = http.get(f"{server.url}/poi", params=params)
            print(f"\n3. Client CPU per search of 100 chargers, zero-latency server ({iterations} searches)")
            reference = ReferenceData.from_json(json.loads(reference_path.read_text())["payload"])
            for label, body in (("compact answer", compact.content), ("verbose answer", verbose.content)):
                assert len(json.loads(body)) == 100
                p50, p99 = await overhead(body, reference_path, iterations)
                parse50, parse99 = parse_only(body, reference, iterations)
                print(f"   {label:15s} search() p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
                print(f"   {'':15s} of which JSON + parse p50 {parse50:6.2f} ms  p99 {parse99:6.2f} ms")
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=500)
    asyncio.run(main(parser.parse_args().iterations))
