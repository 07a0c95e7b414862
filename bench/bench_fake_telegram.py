"""Throughput of the fake Telegram Bot API server: sendMessage over keep-alive connections.

    .venv/bin/python bench/bench_fake_telegram.py                   # server in its own process
    .venv/bin/python bench/bench_fake_telegram.py --mode thread     # server thread in this process
    .venv/bin/python bench/bench_fake_telegram.py --requests 5000 --connections 8

Bounded: a fixed number of sendMessage calls shaped like python-telegram-bot's (form-encoded, an
HTML text and an inline keyboard as a JSON string), each schema-checked, HTML-parsed and stored by
the server. The client is httpx (async, one keep-alive connection per worker), so on a small
machine the figure measures client and server together. Prints one line of results.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.telegram.server import FakeTelegramServer

USER = {"id": 100000001, "is_bot": False, "first_name": "Ada", "language_code": "en"}
MARKUP = json.dumps(
    {
        "inline_keyboard": [
            [
                {"text": "Details", "callback_data": "poi:12345"},
                {"text": "Navigate", "url": "https://maps.example/?q=1,2"},
            ],
            [{"text": "‹ Prev", "callback_data": "page:0"}, {"text": "Next ›", "callback_data": "page:2"}],
        ]
    }
)
TEXT = (
    "<b>Tesco Bow</b> · 0.4 km NE\n2 × CCS 50 kW, 1 × Type 2 22 kW\n"
    "<i>Operational</i> · verified 3 days ago · &lt;OCM&gt;"
)


def _prepare(server: FakeTelegramServer) -> None:
    server.add_user(USER)
    server.user_message(USER["id"], USER, {"text": "/start"})


def _serve(queue: multiprocessing.Queue, stop: multiprocessing.Event) -> None:
    server = FakeTelegramServer().start()
    _prepare(server)
    queue.put(server.method_url("sendMessage"))
    cpu_start = time.process_time()
    stop.wait(600)
    queue.put((len(server.requests), len(server.violations), time.process_time() - cpu_start))
    server.stop()


async def _run_raw(url: str, requests: int, connections: int) -> tuple[float, list[float]]:
    """A minimal keep-alive HTTP/1.1 client on asyncio streams: measures the server, not httpx."""
    parts = urlsplit(url)
    body = urlencode({"chat_id": str(USER["id"]), "text": TEXT, "parse_mode": "HTML", "reply_markup": MARKUP}).encode()
    request = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    latencies: list[float] = []
    counter = iter(range(requests))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        for _ in counter:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.decode())
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return time.perf_counter() - started, latencies


async def _run(url: str, requests: int, connections: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    # Encoded once, as python-telegram-bot encodes its form: the client's own cost stays small.
    form = urlencode({"chat_id": str(USER["id"]), "text": TEXT, "parse_mode": "HTML", "reply_markup": MARKUP}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)

    async with httpx.AsyncClient(limits=limits, verify=False, timeout=10) as client:

        async def worker() -> None:
            for _ in counter:
                started = time.perf_counter()
                response = await client.post(url, content=form, headers=headers)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise RuntimeError(response.text)

        await client.post(url, content=form, headers=headers)  # warm up
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return elapsed, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--mode", choices=("process", "thread"), default="process")
    parser.add_argument(
        "--client", choices=("httpx", "raw"), default="httpx", help="httpx (what bots use) or a minimal asyncio client"
    )
    args = parser.parse_args()

    run = _run_raw if args.client == "raw" else _run
    if args.mode == "thread":
        server = FakeTelegramServer().start()
        _prepare(server)
        cpu_start = time.process_time()
        elapsed, latencies = asyncio.run(run(server.method_url("sendMessage"), args.requests, args.connections))
        server_cpu = time.process_time() - cpu_start  # client included: an upper bound
        handled, violations = len(server.requests), len(server.violations)
        server.stop()
    else:
        context = multiprocessing.get_context("spawn")
        queue, stop = context.Queue(), context.Event()
        process = context.Process(target=_serve, args=(queue, stop))
        process.start()
        url = queue.get(timeout=30)
        elapsed, latencies = asyncio.run(run(url, args.requests, args.connections))
        stop.set()
        handled, violations, server_cpu = queue.get(timeout=30)
        process.join(10)

    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    cpu_ms = server_cpu / args.requests * 1000
    whose = "server" if args.mode == "process" else "client + server"
    print(
        f"fake Telegram sendMessage: {args.requests} requests, {args.connections} keep-alive "
        f"connections, {args.client} client, server {args.mode}: "
        f"{args.requests / elapsed:,.0f} req/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
        f"{elapsed:.2f} s; {whose} CPU {cpu_ms:.3f} ms/request (= {1000 / cpu_ms:,.0f} req/s "
        f"per core); handled {handled}, violations {violations}"
    )


if __name__ == "__main__":
    main()
