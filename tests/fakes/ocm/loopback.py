"""A real HTTP server on 127.0.0.1 for fakes of web services, with a request log and fault injection.

Each server is the shared HTTP layer (``tests/fakes/http.py``, on tornado) on its own event loop in
a daemon thread, so it answers tests running in any asyncio loop,
synchronous clients, and bots started as subprocesses. Subclasses implement
``dispatch(request) -> Response`` (sync or async). Used by the OCM, Nominatim and OSRM fakes.

    server = MyFake().start()
    server.inject("status503", times=2, path_prefix="/search")
    ...
    assert server.requests_to("/search")[0].params["q"] == "Leeds"
    server.stop()

Faults every server understands (``inject(kind, ...)``):

    delay        answer normally after ``delay`` seconds
    hang         never answer until ``reset()``/``stop()`` (then the connection is closed unanswered)
    status500    500 with a short JSON error body
    status503    503 with a text body
    502-text     502 with an HTML gateway page (as a proxy in front of the service would send)
    429          429 with ``Retry-After`` (``retry_after`` seconds, default 60)
    bad-json     200 application/json with a truncated JSON document
    empty        200 with an empty body
    reset        close the connection without any answer

Any fault may strike at random: ``inject("status500", times=None, probability=0.05)``.
A service that is down altogether: ``refuse_connections()`` stops listening (connections are
refused) until ``accept_connections()`` or ``reset()`` listens again on the same port.

Subclasses may add kinds through ``fault_response``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from tests.fakes.http import Headers, HttpServer, Request, Response, listening_socket, serve

COMMON_FAULTS = frozenset({"delay", "hang", "status500", "status503", "502-text", "429", "bad-json", "empty", "reset"})

GATEWAY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


@dataclass
class RecordedRequest:
    """One request as the fake saw it, and what it answered."""

    method: str
    path: str
    query: str
    raw_params: dict[str, str]
    headers: Mapping[str, str]
    body: bytes
    timestamp: float
    monotonic: float
    status: int | None = None
    response_bytes: int = 0
    fault: str | None = None
    answered: float | None = None  # time.monotonic() when the answer was ready (None: dropped)

    @property
    def params(self) -> dict[str, str]:
        """Query parameters with lower-cased names (as ASP.NET binds them); the last value wins."""
        return {k.lower(): v for k, v in self.raw_params.items()}

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or None when there is no body or it is not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def user_agent(self) -> str | None:
        return self.headers.get("User-Agent")


@dataclass
class Fault:
    kind: str
    times: int | None
    path_prefix: str
    delay: float = 0.0
    options: dict[str, Any] = field(default_factory=dict)

    def matches(self, path: str) -> bool:
        return path.startswith(self.path_prefix)

    def strikes(self, rng: random.Random) -> bool:
        """Whether this request gets the fault (``probability=`` faults strike at random, seeded)."""
        probability = self.options.get("probability")
        return probability is None or rng.random() < probability


class LoopbackServer:
    """Base class: background HTTP server, request log, faults. Subclasses define dispatch()."""

    fault_kinds: frozenset[str] = COMMON_FAULTS
    default_fault_prefix = "/"

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.port: int | None = None
        self._faults: list[Fault] = []
        self.fault_random = random.Random(0)  # for faults injected with probability=
        self._lock = threading.RLock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: HttpServer | None = None
        self._release: asyncio.Event | None = None
        self._started = threading.Event()
        self._start_error: BaseException | None = None

    # ---------------------------------------------------------------- lifecycle
    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LoopbackServer:
        sock = listening_socket()
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(
            target=self._run, args=(sock,), name=f"{type(self).__name__}:{self.port}", daemon=True
        )
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError(f"{type(self).__name__} did not start")
        if self._start_error is not None:
            raise RuntimeError(f"{type(self).__name__} failed to start") from self._start_error
        return self

    def _run(self, sock: socket.socket) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            self._release = asyncio.Event()
            self._server = loop.run_until_complete(serve(self._respond, sock))
        except BaseException as exc:  # pragma: no cover - start-up failure is reported to start()
            self._start_error = exc
            self._started.set()
            return
        self._started.set()
        try:
            loop.run_forever()
        finally:
            for task in asyncio.all_tasks(loop):
                task.cancel()
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.sleep(0))
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening, release hung requests, close connections, end the thread. Never hangs."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return

        async def shutdown() -> None:
            self._release_hung()
            if self._server is not None:
                await self._server.close()
            loop.stop()

        with contextlib.suppress(RuntimeError):
            asyncio.run_coroutine_threadsafe(shutdown(), loop)
        thread.join(timeout)
        self._loop = None
        self._thread = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget requests and faults, release hung requests, listen again; subclasses also restore their data."""
        with self._lock:
            self._faults.clear()
            self.requests.clear()
        self.call_in_loop(self._release_hung)
        self.accept_connections()

    def refuse_connections(self) -> None:
        """Stop listening and drop open connections: every connection is refused, as when the service is down."""
        self._in_loop(self._refuse)

    def accept_connections(self) -> None:
        """Listen again on the same port (the service is back)."""
        self._in_loop(self._accept)

    async def _refuse(self) -> None:
        if self._server is not None:
            await self._server.refuse_connections()

    async def _accept(self) -> None:
        if self._server is not None:
            self._server.accept_connections()

    def _in_loop(self, coroutine_function: Any) -> None:
        loop = self._loop
        if loop is None or not loop.is_running():
            return
        with contextlib.suppress(RuntimeError):
            asyncio.run_coroutine_threadsafe(coroutine_function(), loop).result(5)

    def clear(self) -> None:
        """Forget the recorded requests only."""
        self.requests.clear()

    def call_in_loop(self, fn: Any) -> None:
        loop = self._loop
        if loop is not None and loop.is_running():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(fn)

    def _release_hung(self) -> None:
        if self._release is not None:
            self._release.set()
            self._release = asyncio.Event()

    # ---------------------------------------------------------------- faults
    def inject(
        self,
        kind: str,
        *,
        times: int | None = 1,
        path_prefix: str | None = None,
        delay: float = 0.0,
        **options: Any,
    ) -> None:
        """Make the next ``times`` requests under ``path_prefix`` fail with ``kind`` (None: forever).

        ``probability=0.05``: each matching request fails with that chance instead (seeded by
        ``fault_random``), for load with a share of faults; ``times`` then counts the failures.
        """
        if kind not in self.fault_kinds:
            raise ValueError(f"unknown fault {kind!r}; known: {sorted(self.fault_kinds)}")
        if kind == "delay" and delay <= 0:
            raise ValueError("a delay fault needs delay=<seconds>")
        prefix = self.default_fault_prefix if path_prefix is None else path_prefix
        with self._lock:
            self._faults.append(Fault(kind, times, prefix, delay, options))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(path) and fault.strikes(self.fault_random):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def fault_response(self, fault: Fault, request: RecordedRequest) -> Response | None:
        """The answer for a fault kind; None means "answer normally" (used by delay)."""
        kind = fault.kind
        if kind == "status500":
            return Response.json({"error": "Internal Server Error"}, status=500)
        if kind == "status503":
            return Response.text("Service Unavailable", 503, "text/plain; charset=utf-8")
        if kind == "502-text":
            return Response(502, GATEWAY_PAGE, "text/html")
        if kind == "429":
            retry_after = str(fault.options.get("retry_after", 60))
            too_many = Response.text("Too Many Requests", 429, "text/plain; charset=utf-8")
            return too_many.with_headers({"Retry-After": retry_after})
        if kind == "bad-json":
            return Response(200, b'[{"ID": 1, "AddressInfo": {"Title": "Trunc', "application/json")
        if kind == "empty":
            return Response(200, b"", "application/json")
        return None

    # ---------------------------------------------------------------- log
    def requests_to(self, path_prefix: str, method: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in list(self.requests)
            if r.path.startswith(path_prefix) and (method is None or r.method == method.upper())
        ]

    def wait_for_requests(self, count: int = 1, path_prefix: str = "/", within: float = 5.0) -> list[RecordedRequest]:
        """Block until ``count`` requests under ``path_prefix`` were seen (for bots in subprocesses)."""
        deadline = time.monotonic() + within
        while len(found := self.requests_to(path_prefix)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(found)} of {count} requests to {path_prefix} within {within}s")
            time.sleep(0.005)
        return found

    async def wait_for_requests_async(
        self, count: int = 1, path_prefix: str = "/", within: float = 5.0
    ) -> list[RecordedRequest]:
        """``wait_for_requests`` for async tests: polls without blocking the test's event loop."""
        deadline = time.monotonic() + within
        while len(found := self.requests_to(path_prefix)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(found)} of {count} requests to {path_prefix} within {within}s")
            await asyncio.sleep(0.005)
        return found

    # ---------------------------------------------------------------- serving
    def dispatch(self, request: RecordedRequest) -> Any:
        raise NotImplementedError

    def _respond(self, request: Request) -> Any:
        return self._serve(request.method, request.target, request.headers, request.body)

    async def _serve(self, method: str, target: str, headers: Headers, body: bytes) -> Response | None:
        """Record, apply a fault or dispatch; None means "close the connection unanswered"."""
        path, _, query = target.partition("?")
        record = RecordedRequest(
            method=method,
            path=unquote(path),
            query=query,
            raw_params=_query_dict(query),
            headers=headers,
            body=body,
            timestamp=time.time(),
            monotonic=time.monotonic(),
        )
        self.requests.append(record)
        fault = self._take_fault(record.path)
        response: Response | None = None
        if fault is not None:
            record.fault = fault.kind
            if fault.kind in ("hang", "reset"):
                if fault.kind == "hang":
                    await self._wait_released()
                record.status = None
                return None
            if fault.kind == "delay":
                await self._sleep_or_release(fault.delay)
            response = self.fault_response(fault, record)
        if response is None:
            try:
                result = self.dispatch(record)
                if asyncio.iscoroutine(result):
                    result = await result
                response = result
            except Exception as exc:  # a bug in a fake must show up as a 500, not a hang
                response = Response.text(f"fake server error: {exc!r}", 500, "text/plain")
                traceback.print_exception(exc)
        record.status = response.status
        record.response_bytes = len(response.body)
        record.answered = time.monotonic()
        return response

    async def _wait_released(self) -> None:
        release = self._release
        if release is not None:
            await release.wait()

    async def _sleep_or_release(self, seconds: float) -> None:
        release = self._release
        if release is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(release.wait(), seconds)


def _query_dict(query: str) -> dict[str, str]:
    """Query parameters as one string each; a repeated name gives its values joined with ","
    (what ASP.NET's ``Request.Query[name]`` yields, so ``countryid=1&countryid=2`` means "1,2")."""
    out: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        out[name] = f"{out[name]},{value}" if name in out else value
    return out
