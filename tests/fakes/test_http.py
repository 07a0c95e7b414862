"""The HTTP/1.1 layer under every loopback server (tests/fakes/http.py): what clients other than httpx may send."""

from __future__ import annotations

import socket

import pytest

from .telegram.server import FakeTelegramServer


def exchange(server: FakeTelegramServer, raw: bytes, responses: int = 1) -> list[bytes]:
    """Send raw bytes on one connection and read `responses` complete answers."""
    with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), 5) as sock:
        sock.sendall(raw)
        data = b""
        answers: list[bytes] = []
        while len(answers) < responses:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            while b"\r\n\r\n" in data:
                head, rest = data.split(b"\r\n\r\n", 1)
                if head.startswith(b"HTTP/1.1 100"):
                    data = rest
                    continue
                fields = head.lower().split(b"content-length: ")
                length = int(fields[1].split(b"\r\n")[0]) if len(fields) > 1 else 0
                if len(rest) < length:
                    break
                answers.append(head + b"\r\n\r\n" + rest[:length])
                data = rest[length:]
        return answers


def request(path: str, body: bytes = b"", headers: str = "") -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n{headers}\r\n".encode() + body


@pytest.fixture
def path(telegram_server):
    return f"/bot{telegram_server.token}/getMe"


def test_pipelined_requests_are_answered_in_order(telegram_server, path):
    answers = exchange(telegram_server, request(path) + request("/bot1:x/getMe"), responses=2)

    assert answers[0].startswith(b"HTTP/1.1 200 OK")
    assert answers[1].startswith(b"HTTP/1.1 401 Unauthorized")


def test_chunked_body_and_expect_continue(telegram_server):
    body = b'{"offset": 5}'
    raw = (
        f"POST /bot{telegram_server.token}/getUpdates HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        "Expect: 100-continue\r\n\r\n"
    ).encode()
    raw += b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)

    (answer,) = exchange(telegram_server, raw)

    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert answer.endswith(b'{"ok": true, "result": []}')
    assert telegram_server.calls("getUpdates") == [{"offset": 5}]


def test_connection_close_is_honoured(telegram_server, path):
    (answer,) = exchange(telegram_server, request(path, headers="Connection: close\r\n"))

    assert b"Connection: close" in answer


def test_malformed_request_line_gets_400(telegram_server):
    (answer,) = exchange(telegram_server, b"NONSENSE\r\n\r\n")

    assert answer.startswith(b"HTTP/1.1 400")


def test_bad_json_body_gets_telegrams_answer(telegram_server, path):
    (answer,) = exchange(telegram_server, request(path, b"{nope", "Content-Type: application/json\r\n"))

    assert answer.endswith(b"Bad Request: can't parse JSON encoded request\"}")


def test_unknown_path_is_404(telegram_server):
    (answer,) = exchange(telegram_server, request("/favicon.ico"))

    assert answer.startswith(b"HTTP/1.1 404")
