"""The one HTTP layer under every loopback server (Bot API, OCM, Nominatim, OSRM), on tornado.

Tornado's HTTP/1.1 connection (``tornado.http1connection``, installed with python-telegram-bot's
webhook extra) parses requests: keep-alive, pipelining (answered in order), ``Content-Length`` and
chunked bodies, ``Expect: 100-continue``, ``Connection: close``, 400 for a malformed request. Only
tornado's connection layer is used, not ``tornado.web``: a fake answers thousands of small requests per
second and holds long polls open, and the fake decides every answer itself.

    async def respond(request: Request) -> Response | None | Awaitable[Response | None]: ...
    server = await serve(respond, sock)      # a bound, listening socket; in the running event loop
    ...
    await server.close()

A responder returns ``None`` to close the connection without any answer (a network failure after
the request arrived). A responder that raises is a bug in the fake: it answers 500 and keeps serving.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import socket
import traceback
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from tornado import httputil
from tornado.httpserver import HTTPServer
from tornado.iostream import StreamClosedError

MAX_BODY = 64 * 1024 * 1024
MAX_HEAD = 64 * 1024
_REASONS = {status.value: status.phrase for status in HTTPStatus}


class Headers(Mapping[str, str]):
    """Request headers: case-insensitive lookup, a repeated header's values joined with ","."""

    __slots__ = ("_items", "_lower")

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items
        self._lower: dict[str, str] = {}
        for name, value in items:
            key = name.lower()
            self._lower[key] = f"{self._lower[key]},{value}" if key in self._lower else value

    def __getitem__(self, name: str) -> str:
        return self._lower[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._lower

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for name, _ in self._items:
            if name.lower() not in seen:
                seen.add(name.lower())
                yield name

    def __len__(self) -> int:
        return len(self._lower)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


@dataclass
class Request:
    method: str  # upper case
    target: str  # as sent: path and query, percent-encoded
    path: str  # percent-decoded
    query: str
    headers: Headers
    body: bytes


@dataclass
class Response:
    """What a fake answers: status, body bytes and headers (``content_type=None`` sends none)."""

    status: int = 200
    body: bytes = b""
    content_type: str | None = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200, **kwargs: Any) -> Response:
        body = json.dumps(data, ensure_ascii=False).encode()
        return cls(status=status, body=body, **kwargs)

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str | None = None) -> Response:
        return cls(status=status, body=text.encode(), content_type=content_type)

    def with_headers(self, headers: Mapping[str, str]) -> Response:
        self.headers.update(headers)
        return self


Responder = Callable[[Request], "Response | Awaitable[Response | None] | None"]


class _Exchange(httputil.HTTPMessageDelegate):
    """One request on one connection: collect it, ask the responder, write the answer."""

    def __init__(self, server: HttpServer, connection: httputil.HTTPConnection) -> None:
        self._server = server
        self._connection = connection
        self._start: httputil.RequestStartLine | None = None
        self._headers: httputil.HTTPHeaders | None = None
        self._chunks: list[bytes] = []
        self._task: asyncio.Future[Any] | None = None

    def headers_received(
        self, start_line: httputil.RequestStartLine | httputil.ResponseStartLine, headers: httputil.HTTPHeaders
    ) -> None:
        assert isinstance(start_line, httputil.RequestStartLine)
        self._start, self._headers = start_line, headers

    def data_received(self, chunk: bytes) -> None:
        self._chunks.append(chunk)

    def finish(self) -> None:
        assert self._start is not None and self._headers is not None
        target = self._start.path
        path, _, query = target.partition("?")
        request = Request(
            self._start.method.upper(),
            target,
            unquote(path),
            query,
            Headers(list(self._headers.get_all())),
            b"".join(self._chunks),
        )
        self._connection.set_close_callback(self.on_connection_close)
        try:
            result = self._server.respond(request)
        except Exception as error:  # a bug in the fake: answer 500, keep serving
            self._write(request.method, _bug(error))
            return
        if not inspect.isawaitable(result):
            self._write(request.method, result)
            return
        self._task = asyncio.ensure_future(result)
        self._server.tasks.add(self._task)
        self._task.add_done_callback(lambda task: self._finished(request.method, task))

    def _finished(self, method: str, task: asyncio.Future[Any]) -> None:
        self._server.tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        self._write(method, _bug(error) if error is not None else task.result())

    def on_connection_close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def _write(self, method: str, response: Response | None) -> None:
        connection = self._connection
        if response is None:
            connection.close()  # type: ignore[attr-defined]
            return
        headers = httputil.HTTPHeaders()
        headers["Date"] = formatdate(usegmt=True)
        headers["Content-Length"] = str(len(response.body))
        if response.content_type:
            headers["Content-Type"] = response.content_type
        for name, value in response.headers.items():
            headers[name] = value
        start = httputil.ResponseStartLine("HTTP/1.1", response.status, _REASONS.get(response.status, "Unknown"))
        try:
            connection.write_headers(start, headers, None if method == "HEAD" else response.body)
            connection.finish()
        except StreamClosedError:
            pass


def _bug(error: BaseException) -> Response:
    traceback.print_exception(error)
    return Response.text(f"fake server error: {error!r}", 500, "text/plain")


class HttpServer(httputil.HTTPServerConnectionDelegate):
    """A listening loopback server; ``close()`` stops it and drops every open connection."""

    def __init__(self, respond: Responder) -> None:
        self.respond = respond
        self.tasks: set[asyncio.Future[Any]] = set()
        self._server: HTTPServer | None = HTTPServer(self, max_body_size=MAX_BODY, max_header_size=MAX_HEAD)
        self._retired: list[HTTPServer] = []
        self._port: int | None = None

    def start_request(self, server_conn: object, request_conn: httputil.HTTPConnection) -> httputil.HTTPMessageDelegate:
        return _Exchange(self, request_conn)

    def listen(self, sock: socket.socket) -> None:
        self._port = sock.getsockname()[1]
        assert self._server is not None
        self._server.add_socket(sock)

    @property
    def refusing(self) -> bool:
        return self._server is None

    async def refuse_connections(self) -> None:
        """Stop listening and drop every open connection: new connections are refused (ECONNREFUSED),
        as when the service is down. The port stays reserved for :meth:`accept_connections`."""
        if self._server is None:
            return
        server, self._server = self._server, None
        self._retired.append(server)
        server.stop()
        for task in list(self.tasks):
            task.cancel()
        await server.close_all_connections()

    def accept_connections(self) -> None:
        """Listen again on the same port (the service is back)."""
        if self._server is not None or self._port is None:
            return
        self._server = HTTPServer(self, max_body_size=MAX_BODY, max_header_size=MAX_HEAD)
        self._server.add_socket(listening_socket(self._port))

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        for server in [*self._retired, *([self._server] if self._server is not None else [])]:
            server.stop()
            await server.close_all_connections()


def listening_socket(port: int = 0) -> socket.socket:
    """A non-blocking socket listening on ``port`` of 127.0.0.1 (0: a free one; ``getsockname()[1]``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve(respond: Responder, sock: socket.socket) -> HttpServer:
    """Serve ``sock`` (bound, listening, non-blocking) in the running event loop."""
    server = HttpServer(respond)
    server.listen(sock)
    return server


__all__ = ["MAX_BODY", "Headers", "HttpServer", "Request", "Response", "listening_socket", "serve"]
