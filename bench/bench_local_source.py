"""Benchmark: the local OCM data source at OCM's world size (300,000 chargers).

The chargers are GENERATED (not real OCM data): compact ``/poi`` records shaped like those of
OCM's export (address, 1-3 connections with types, levels and powers, operator, usage type, status,
data provider, dates), clustered around 600 random "towns" the way real chargers cluster, with a
tenth scattered in between. They are written as JSON lines to a temporary file and loaded through
``LocalSource.load`` exactly as ``OCM_DATA_FILE`` would be.

Measured:
- load time (read + index) and the process's resident memory after loading;
- nearest-20 latency (``PoiQuery(latitude, longitude, distance=50, maxresults=20)``) at points
  near towns: "cold" is the first time those chargers are returned (each is parsed from its JSON
  by the API client's parser on first use), "warm" is the same queries again (the last 20,000
  chargers returned stay parsed);
- nearest-20 with filters (CCS, >= 50 kW) and at random points anywhere (mostly empty areas).

Run: ``.venv/bin/python bench/bench_local_source.py [--count 300000] [--queries 2000]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import gzip
import json
import math
import multiprocessing
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocm_bot.ocm.local import LocalSource
from ocm_bot.ocm.query import PoiQuery

CONNECTION_TYPES = [
    (25, 2, 22.0),
    (33, 3, 50.0),
    (33, 3, 150.0),
    (2, 3, 50.0),
    (1036, 2, 7.4),
    (1, 1, 3.7),
    (32, 3, 350.0),
]
OPERATORS = [1, 3, 5, 8, 23, 32, 39, 45, 3534, 3296]
STREETS = [
    "High Street",
    "Station Road",
    "Main Street",
    "Church Lane",
    "Market Square",
    "Hauptstraße",
    "Rue de la Gare",
]


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def generate(count: int, seed: int = 7) -> tuple[list[dict], list[tuple[float, float]]]:
    rng = random.Random(seed)
    towns = [(rng.uniform(-45, 65), rng.uniform(-125, 150)) for _ in range(600)]
    start = datetime(2012, 1, 1, tzinfo=UTC)
    pois = []
    for poi_id in range(1, count + 1):
        if rng.random() < 0.9:
            town_lat, town_lon = rng.choice(towns)
            lat = max(-89.0, min(89.0, rng.gauss(town_lat, 0.15)))
            lon = (rng.gauss(town_lon, 0.2) + 180) % 360 - 180
        else:
            lat, lon = rng.uniform(-50, 70), rng.uniform(-180, 180)
        created = start + timedelta(minutes=rng.randrange(6_000_000))
        connections = []
        for index in range(rng.choice((1, 1, 2, 2, 3))):
            type_id, level, power = rng.choice(CONNECTION_TYPES)
            connections.append(
                {
                    "ID": poi_id * 4 + index,
                    "ConnectionTypeID": type_id,
                    "StatusTypeID": 50,
                    "LevelID": level,
                    "Amps": 32,
                    "Voltage": 230,
                    "PowerKW": power,
                    "CurrentTypeID": 30 if level == 3 else 10,
                    "Quantity": rng.choice((1, 1, 2)),
                }
            )
        pois.append(
            {
                "IsRecentlyVerified": False,
                "DateLastVerified": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "ID": poi_id,
                "UUID": f"{rng.getrandbits(128):032X}",
                "DataProviderID": rng.choice((1, 1, 2, 18)),
                "OperatorID": rng.choice(OPERATORS),
                "UsageTypeID": rng.choice((1, 4, 5, 6)),
                "UsageCost": rng.choice(("Free", "£0.45/kWh", None)),
                "AddressInfo": {
                    "ID": poi_id,
                    "Title": f"Generated charger {poi_id}",
                    "AddressLine1": f"{rng.randrange(1, 300)} {rng.choice(STREETS)}",
                    "Town": f"Town {rng.randrange(600)}",
                    "Postcode": f"{rng.randrange(10000, 99999)}",
                    "CountryID": rng.choice((1, 2, 87, 10, 179)),
                    "Latitude": round(lat, 6),
                    "Longitude": round(lon, 6),
                    "DistanceUnit": 0,
                },
                "Connections": connections,
                "NumberOfPoints": len(connections),
                "StatusTypeID": rng.choice((50, 50, 50, 0, 100)),
                "DateLastStatusUpdate": (created + timedelta(days=rng.randrange(900))).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "DataQualityLevel": 1,
                "DateCreated": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "SubmissionStatusTypeID": rng.choice((100, 200)),
            }
        )
    return pois, towns


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return f"p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {ordered[-1] * 1000:.3f} ms (n={len(ordered)})"


async def timed(source: LocalSource, queries: list[PoiQuery]) -> tuple[list[float], list[float], int]:
    """Wall-clock and CPU time of each query (CPU time leaves out other processes taking the CPU away)."""
    wall, cpu, found = [], [], 0
    for query in queries:
        started, started_cpu = time.perf_counter(), time.thread_time()
        result = await source.search(query)
        cpu.append(time.thread_time() - started_cpu)
        wall.append(time.perf_counter() - started)
        found += len(result)
    return wall, cpu, found


# --- every supported form, each loaded in a fresh process --------------------------------------------

FORMS = ("JSON lines", "JSON array", "gzip JSON lines", "folder of per-POI files")


def write_forms(pois: list[dict], folder: Path) -> dict[str, Path]:
    """The same records as each supported form; the folder as OCM's export lays it out (data/<ISO>/OCM-<id>.json)."""
    lines = folder / "poi.jsonl"
    with lines.open("w", encoding="utf-8") as out:
        for poi in pois:
            out.write(json.dumps(poi, ensure_ascii=False, separators=(",", ":")) + "\n")
    array = folder / "poi.json"  # as OCM's API answers: one compact array
    with array.open("w", encoding="utf-8") as out:
        out.write("[")
        for n, poi in enumerate(pois):
            out.write(("," if n else "") + json.dumps(poi, ensure_ascii=False, separators=(",", ":")))
        out.write("]")
    compressed = folder / "poi.jsonl.gz"
    with lines.open("rb") as raw, gzip.open(compressed, "wb", compresslevel=3) as out:
        shutil.copyfileobj(raw, out, 1 << 20)
    export = folder / "export" / "data"
    countries = {1: "GB", 2: "US", 87: "DE", 10: "FR", 179: "NL"}
    for iso in countries.values():
        (export / iso).mkdir(parents=True, exist_ok=True)
    global _PRETTY
    _PRETTY = [(export / countries.get(p["AddressInfo"]["CountryID"], "GB") / f"OCM-{p['ID']}.json", p) for p in pois]
    workers = os.cpu_count() or 1
    with multiprocessing.get_context("fork").Pool(workers) as pool:  # pretty-printing 300,000 files is slow
        pool.map(_write_pretty, [(n, workers) for n in range(workers)])  # forked: the list is not copied
    _PRETTY = []
    return dict(zip(FORMS, (lines, array, compressed, export), strict=True))


_PRETTY: list[tuple[Path, dict]] = []


def _write_pretty(share: tuple[int, int]) -> None:
    for path, poi in _PRETTY[share[0] :: share[1]]:
        path.write_text(json.dumps(poi, indent=4), encoding="utf-8")


def load_in_fresh_process(path: Path) -> dict[str, float]:
    """Load time, resident and peak memory of a process that loads ``path`` as OCM_DATA_FILE would be."""
    code = f"""
import json, sys, time
sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
from ocm_bot.ocm.local import LocalSource
started = time.perf_counter()
source = LocalSource.load({str(path)!r}, reload_interval=None)
took = time.perf_counter() - started
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({{"load_s": took, "chargers": len(source), "rss_mb": int(status["VmRSS"].split()[0]) / 1024,
                  "peak_rss_mb": int(status["VmHWM"].split()[0]) / 1024}}))
"""
    started = time.perf_counter()
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - started
    return result


def dense_city(size: int, queries: int, seed: int = 4) -> dict[str, dict[str, float]]:
    """Nearest-20 p50/p99 (CPU ms) in a city of ``size`` chargers within 50 km, plus 50,000 elsewhere.

    With the index as the bot builds it, and with the coarse 0.1° grid alone (the baseline: the
    index before it had a finer grid for dense places), on the same data in the same run.
    """
    from ocm_bot.ocm.local.grid import Grid
    from ocm_bot.ocm.local.rows import entry_from
    from ocm_bot.ocm.reference import ReferenceData

    rng = random.Random(seed)
    city = (48.8566, 2.3522)
    pois, _ = generate(min(50_000, size), seed=seed)
    for n in range(size):  # half spread over the 50 km, half packed towards the centre
        km = 50 * math.sqrt(rng.random()) if n % 2 else min(49.9, abs(rng.gauss(0, 8)))
        bearing = rng.uniform(0, 2 * math.pi)
        lat = city[0] + km * math.cos(bearing) / 111.2
        lon = city[1] + km * math.sin(bearing) / (111.2 * math.cos(math.radians(city[0])))
        pois.append({"ID": 10_000_000 + n, "AddressInfo": {"Latitude": lat, "Longitude": lon, "CountryID": 10}})
    reference = ReferenceData()
    entries = [e for e in (entry_from(p, None, reference) for p in pois) if e is not None]
    points = [(city[0] + rng.gauss(0, 0.15), city[1] + rng.gauss(0, 0.2)) for _ in range(queries)]
    results = {}
    for name, grid in (("index", Grid(entries, 0.1)), ("coarse grid alone", Grid(entries, 0.1, fine_factor=1))):
        timings = []
        for lat, lon in points:
            started = time.thread_time()
            found = grid.nearest(lat, lon, 50, 20, lambda entry: True)
            timings.append((time.thread_time() - started) * 1000)
            assert len(found) == 20
        timings.sort()
        results[name] = {"p50_ms": statistics.median(timings), "p99_ms": timings[int(len(timings) * 0.99)]}
    return results


def world(count: int, queries: int, dense_sizes: tuple[int, ...] | list[int] = (10_000, 50_000)) -> dict[str, object]:
    """Everything the report needs: each form's load and memory, and dense-city nearest-20."""
    print(f"Generating {count:,} chargers (generated data, not real OCM records)...", flush=True)
    pois, _ = generate(count)
    forms = {}
    with tempfile.TemporaryDirectory() as folder:
        paths = write_forms(pois, Path(folder))
        del pois
        gc.collect()
        for name, path in paths.items():
            size = sum(f.stat().st_size for f in path.rglob("*")) if path.is_dir() else path.stat().st_size
            forms[name] = load_in_fresh_process(path) | {"size_mb": size / 1e6}
            print(f"  {name}: {forms[name]}", flush=True)
    dense = {size: dense_city(size, queries) for size in dense_sizes}
    for size, figures in dense.items():
        print(f"  dense city, {size:,} chargers within 50 km: {figures}", flush=True)
    return {"count": count, "forms": forms, "dense": dense}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--cell", type=float, default=0.1, help="grid cell size in degrees")
    parser.add_argument("--workers", type=int, default=None, help="processes that read the dump (default: CPUs)")
    parser.add_argument("--forms", action="store_true", help="each supported form in a fresh process, and dense cities")
    args = parser.parse_args()
    if args.forms:
        print(json.dumps(world(args.count, args.queries), indent=1))
        return

    print(f"machine load average at the start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"Generating {args.count:,} chargers (generated data, not real OCM records)...")
    pois, towns = generate(args.count)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "poi.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for poi in pois:
                out.write(json.dumps(poi, ensure_ascii=False, separators=(",", ":")) + "\n")
        size_mb = path.stat().st_size / 1e6
        del pois
        gc.collect()
        rss_before = rss_mb()

        started, cpu, children = time.perf_counter(), time.process_time(), children_cpu()
        source = LocalSource.load(path, reload_interval=None, cell_degrees=args.cell, workers=args.workers)
        load_s, load_cpu = time.perf_counter() - started, time.process_time() - cpu
        workers_cpu = children_cpu() - children
        rss_loaded = rss_mb()
        print(
            f"file: {size_mb:.0f} MB JSON lines; loaded {len(source):,} chargers in {load_s:.2f} s wall clock; "
            f"CPU: {load_cpu:.2f} s in this process, {workers_cpu:.2f} s in worker processes"
        )
        print(f"RSS: {rss_before:.0f} MB before loading, {rss_loaded:.0f} MB after")

        rng = random.Random(11)

        def near_town() -> tuple[float, float]:
            lat, lon = rng.choice(towns)
            return rng.gauss(lat, 0.2), (rng.gauss(lon, 0.2) + 180) % 360 - 180

        points = [near_town() for _ in range(args.queries)]
        nearest = [PoiQuery(latitude=lat, longitude=lon, distance=50, maxresults=20) for lat, lon in points]
        filtered = [q.replace(connectiontypeid=(33,), minpowerkw=50) for q in nearest]
        anywhere = [
            PoiQuery(latitude=rng.uniform(-60, 75), longitude=rng.uniform(-180, 180), distance=50, maxresults=20)
            for _ in range(args.queries)
        ]

        report("nearest-20 near towns, cold (each charger parsed on first use)", *asyncio.run(timed(source, nearest)))

        gc.collect()
        print(f"RSS after the cold queries (up to 20,000 parsed chargers cached): {rss_mb():.0f} MB")

        recent = nearest[-800:]  # their 16,000 chargers are still in the parsed cache
        report("nearest-20 near towns, warm (the last 800 queries again)", *asyncio.run(timed(source, recent)))
        report("nearest-20 near towns, CCS and >= 50 kW", *asyncio.run(timed(source, filtered)))
        report("nearest-20 at random points (mostly empty), warm", *asyncio.run(timed(source, anywhere)))
        print(f"machine load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def report(label: str, wall: list[float], cpu: list[float], found: int) -> None:
    print(f"{label}: {found / len(wall):.1f} results on average")
    print(f"    wall clock: {percentiles(wall)}")
    print(f"    CPU time:   {percentiles(cpu)}")


if __name__ == "__main__":
    main()
