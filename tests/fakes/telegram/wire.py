"""A small HTTP/1.1 server on asyncio for the fake Bot API: keep-alive, pipelining, long polls.

Why not tornado or http.server: a Bot API fake must answer thousands of small requests per second
on loopback and hold long polls open, and a full framework spent most of its time per request in
its own machinery. This covers what Bot API clients send: Content-Length or chunked bodies,
`Expect: 100-continue`, keep-alive (HTTP/1.1 default) and `Connection: close`.

    async def respond(request: Request) -> Response | Awaitable[Response]: ...
    server = await serve(respond, sock)      # a bound, listening socket
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import socket
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import unquote

MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024


@dataclass
class Request:
    method: str
    path: str  # percent-decoded
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    close_without_answer: bool = False  # a network failure after the request arrived


Responder = Callable[[Request], "Response | Awaitable[Response]"]


class _BadRequest(Exception):
    pass


class _HttpProtocol(asyncio.Protocol):
    def __init__(self, respond: Responder, connections: set[_HttpProtocol]) -> None:
        self._respond = respond
        self._connections = connections
        self._buffer = bytearray()
        self._head: tuple[str, str, str, dict[str, str]] | None = None
        self._queue: deque[Request] = deque()
        self._busy: asyncio.Task | None = None
        self._transport: asyncio.Transport | None = None
        self._closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._connections.add(self)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)
        self._transport = None
        if self._busy is not None:
            self._busy.cancel()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        try:
            while self._parse_one():
                pass
        except _BadRequest as error:
            self._write(Response(400, str(error).encode(), "text/plain"), close=True)
            return
        self._drain_queue()

    def _parse_one(self) -> bool:
        if self._head is None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_HEAD:
                    raise _BadRequest("request head too large")
                return False
            lines = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
            del self._buffer[: end + 4]
            try:
                method, target, version = lines[0].split(" ", 2)
            except ValueError:
                raise _BadRequest("bad request line") from None
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            self._head = (method, target, version, headers)
            if headers.get("expect", "").lower() == "100-continue" and self._transport:
                self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        method, target, version, headers = self._head
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parsed = _dechunk(self._buffer)
            if parsed is None:
                return False
            body, used = parsed
        else:
            length = int(headers.get("content-length", "0") or 0)
            if length > MAX_BODY:
                raise _BadRequest("body too large")
            if len(self._buffer) < length:
                return False
            body, used = bytes(self._buffer[:length]), length
        del self._buffer[:used]
        self._head = None
        if version == "HTTP/1.0" and headers.get("connection", "").lower() != "keep-alive":
            headers["connection"] = "close"
        path, _, query = target.partition("?")
        self._queue.append(Request(method.upper(), unquote(path), query, headers, body))
        return True

    def _drain_queue(self) -> None:
        while self._queue and self._busy is None and not self._closing:
            request = self._queue.popleft()
            close = request.headers.get("connection", "").lower() == "close"
            try:
                result = self._respond(request)
            except Exception as error:  # a bug in the fake: answer 500, keep serving
                self._write(Response(500, repr(error).encode(), "text/plain"), close)
                continue
            if inspect.isawaitable(result):
                self._busy = asyncio.ensure_future(result)
                self._busy.add_done_callback(lambda task, close=close: self._finished(task, close))
                return
            self._write(result, close)

    def _finished(self, task: asyncio.Task, close: bool) -> None:
        self._busy = None
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self._write(Response(500, repr(error).encode(), "text/plain"), close)
        else:
            self._write(task.result(), close)
        self._drain_queue()

    def _write(self, response: Response, close: bool) -> None:
        if self._transport is None:
            return
        if response.close_without_answer:
            self._closing = True
            self._transport.close()
            return
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = "Unknown"
        head = (
            f"HTTP/1.1 {response.status} {reason}\r\n"
            f"Content-Type: {response.content_type}\r\n"
            f"Content-Length: {len(response.body)}\r\n"
            f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n"
        )
        self._transport.write(head.encode("latin-1") + response.body)
        if close:
            self._closing = True
            self._transport.close()


def _dechunk(buffer: bytearray) -> tuple[bytes, int] | None:
    """Decode a complete chunked body at the start of buffer: (body, bytes used) or None."""
    body = bytearray()
    pos = 0
    while True:
        line_end = buffer.find(b"\r\n", pos)
        if line_end < 0:
            return None
        try:
            size = int(bytes(buffer[pos:line_end]).split(b";")[0], 16)
        except ValueError:
            raise _BadRequest("bad chunk size") from None
        pos = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n\r\n", pos - 2)
            if trailer_end < 0:
                return None
            return bytes(body), trailer_end + 4
        if len(buffer) < pos + size + 2:
            return None
        body += buffer[pos : pos + size]
        pos += size + 2


class HttpServer:
    """The listening server and its open connections (closed by close())."""

    def __init__(self, server: asyncio.base_events.Server, connections: set[_HttpProtocol]):
        self._server = server
        self._connections = connections

    async def close(self) -> None:
        self._server.close()
        for connection in list(self._connections):
            connection.close()
        await self._server.wait_closed()


async def serve(respond: Responder, sock: socket.socket) -> HttpServer:
    connections: set[_HttpProtocol] = set()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _HttpProtocol(respond, connections), sock=sock)
    return HttpServer(server, connections)
