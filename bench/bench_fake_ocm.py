"""Throughput of the fake OCM server for small searches over keep-alive connections.

    .venv/bin/python bench/bench_fake_ocm.py                      # server in its own process
    .venv/bin/python bench/bench_fake_ocm.py --mode thread        # server thread in this process
    .venv/bin/python bench/bench_fake_ocm.py --requests 3000 --chargers 50000 --connections 8
    .venv/bin/python bench/bench_fake_ocm.py --client raw         # minimal client: the server's own limit

Bounded: a fixed number of requests, each a bot-like nearest-10 search (compact, verbose=false)
around a random point of a dense generated area, plus the shared real samples. Prints requests/s,
bytes, latency percentiles and the server process's CPU time per request (a load-independent
figure). The default client is httpx (async, one keep-alive connection per worker), so on a small
machine the req/s figure measures client and server together; ``--client raw`` uses a minimal
asyncio HTTP/1.1 client instead.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.ocm import FakeOcmServer

CENTER = (51.5200, -0.0300)  # Bow / Mile End, where the real compact samples are


def _serve(chargers: int, port_queue: multiprocessing.Queue, stop: multiprocessing.Event) -> None:
    server = FakeOcmServer().start()
    server.generate_chargers(chargers, center=CENTER, radius_km=15, seed=1)
    port_queue.put((server.url, server.api_key))
    stop.wait(600)
    server.stop()


async def _run(url: str, key: str, total: int, connections: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    latencies: list[float] = []
    sizes: list[int] = []
    statuses: dict[int, int] = {}
    queue: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    for _ in range(total):
        queue.put_nowait(
            {
                "latitude": f"{CENTER[0] + rng.uniform(-0.08, 0.08):.5f}",
                "longitude": f"{CENTER[1] + rng.uniform(-0.12, 0.12):.5f}",
                "distance": "2",
                "distanceunit": "km",
                "maxresults": "10",
                "compact": "true",
                "verbose": "false",
            }
        )
    headers = {"X-API-Key": key, "User-Agent": "ocm-bot-bench/1.0"}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)

    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=10) as client:

        async def worker() -> None:
            while True:
                try:
                    params = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                response = await client.get("/poi", params=params)
                latencies.append(time.perf_counter() - started)
                sizes.append(len(response.content))
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        await client.get("/poi", params={"maxresults": 1})  # warm up connection and caches
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started

    latencies.sort()
    return {
        "requests": total,
        "seconds": elapsed,
        "req_per_s": total / elapsed,
        "bytes_total": sum(sizes),
        "bytes_mean": statistics.mean(sizes),
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95)] * 1000,
        "ok": statuses.get(200, 0),
    }


async def _run_raw(url: str, key: str, total: int, connections: int, seed: int) -> dict[str, float]:
    """The same searches with a minimal asyncio HTTP/1.1 client, to show what the server itself does."""
    rng = random.Random(seed)
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    targets = [
        "/v3/poi?"
        + urlencode(
            {
                "latitude": f"{CENTER[0] + rng.uniform(-0.08, 0.08):.5f}",
                "longitude": f"{CENTER[1] + rng.uniform(-0.12, 0.12):.5f}",
                "distance": "2",
                "distanceunit": "km",
                "maxresults": "10",
                "compact": "true",
                "verbose": "false",
            }
        )
        for _ in range(total)
    ]
    latencies: list[float] = []
    sizes: list[int] = []
    ok = 0

    async def worker(share: list[str]) -> None:
        nonlocal ok
        reader, writer = await asyncio.open_connection(host, int(port))
        for target in share:
            started = time.perf_counter()
            writer.write(
                f"GET {target} HTTP/1.1\r\nHost: {host_port}\r\nX-API-Key: {key}\r\n"
                "User-Agent: ocm-bot-bench/1.0\r\n\r\n".encode()
            )
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            sizes.append(len(body))
            ok += status.startswith(b"HTTP/1.1 200")
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(targets[n::connections]) for n in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": total,
        "seconds": elapsed,
        "req_per_s": total / elapsed,
        "bytes_total": sum(sizes),
        "bytes_mean": statistics.mean(sizes),
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95)] * 1000,
        "ok": ok,
    }


def _cpu_seconds(pid: int) -> float | None:
    """User+system CPU time of a process (Linux /proc), to report server cost independent of load."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["process", "thread"], default="process")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--chargers", type=int, default=20_000)
    parser.add_argument("--client", choices=["httpx", "raw"], default="httpx")
    args = parser.parse_args()

    stop = None
    process = None
    server = None
    started = time.perf_counter()
    if args.mode == "process":
        ctx = multiprocessing.get_context("fork")
        port_queue = ctx.Queue()
        stop = ctx.Event()
        process = ctx.Process(target=_serve, args=(args.chargers, port_queue, stop), daemon=True)
        process.start()
        url, key = port_queue.get(timeout=120)
    else:
        server = FakeOcmServer().start()
        server.generate_chargers(args.chargers, center=CENTER, radius_km=15, seed=1)
        url, key = server.url, server.api_key
    setup = time.perf_counter() - started
    cpu_before = _cpu_seconds(process.pid) if process is not None else None
    try:
        run = _run if args.client == "httpx" else _run_raw
        result = asyncio.run(run(url, key, args.requests, args.connections, seed=2))
        cpu_after = _cpu_seconds(process.pid) if process is not None else None
    finally:
        if stop is not None and process is not None:
            stop.set()
            process.join(10)
        if server is not None:
            server.stop()
    load = os.getloadavg()[0]
    print(
        f"[{os.cpu_count()} CPUs, load average {load:.1f} at the end] "
        f"fake OCM ({args.mode}, {args.chargers} generated + 236 real POIs, setup {setup:.1f}s): "
        f"{result['requests']} searches over {args.connections} keep-alive {args.client} connections in "
        f"{result['seconds']:.2f}s = {result['req_per_s']:.0f} req/s; "
        f"{result['bytes_total'] / 1e6:.1f} MB ({result['bytes_mean']:.0f} B/answer); "
        f"p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms; {result['ok']} x 200"
    )
    if cpu_before is not None and cpu_after is not None:
        per_request = (cpu_after - cpu_before) / (result["requests"] + 1)
        print(
            f"server CPU {per_request * 1000:.2f} ms per request "
            f"= capacity of about {1 / per_request:.0f} req/s per free core"
        )


if __name__ == "__main__":
    main()
