"""python-telegram-bot pointed at the fake server, for tests of the fake and small bots.

app = build_application(server, handlers=[CommandHandler("start", start)])
async with polling(app):
    await ada.send_text("/start")
    ...
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from telegram.ext import Application, ApplicationBuilder, BaseHandler
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from ocm_bot.demo.botapi import application_idle  # one definition of "answered", shared with the demo

from .server import FakeTelegramServer


def loopback_request(read_timeout: float = 5) -> HTTPXRequest:
    """An HTTPXRequest for plain-HTTP loopback: no certificate store to load.

    httpx loads certifi's CA bundle for every client (~0.15 s; python-telegram-bot makes two per
    Application), which would dominate a fast test. The fake server speaks plain HTTP, so there is
    nothing to verify.
    """
    return HTTPXRequest(
        connect_timeout=2, read_timeout=read_timeout, write_timeout=5, pool_timeout=2, httpx_kwargs={"verify": False}
    )


class InProcessRequest(BaseRequest):
    """python-telegram-bot's transport calling the fake server's method handler directly, in this thread.

    Every check of the server still applies (schema, HTML, state); only the HTTP round trip is left
    out, which costs the bot ~2-3 ms of CPU per call in httpx. The parameters are form-encoded and
    decoded again as HTTPXRequest sends them, so text that cannot be sent (a lone surrogate) fails here
    too. Long polling is not served: feed updates with ``server.take_updates()``.
    """

    def __init__(self, server: FakeTelegramServer) -> None:
        self.server = server

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        token, _, name = urlsplit(url).path.rpartition("/")
        raw: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes]] = {}
        if request_data is not None:
            raw = dict(parse_qsl(urlencode(request_data.json_parameters), keep_blank_values=True))
            for part, upload in request_data.multipart_data.items():
                filename, content = (upload[0], upload[1]) if isinstance(upload, tuple) else (part, upload)
                files[part] = (filename or part, content if isinstance(content, bytes) else content.read())
                raw.setdefault(part, f"attach://{part}")
        status, body = self.server.handle(token.rpartition("/bot")[2], name, raw, files)
        return status, json.dumps(body).encode()


def application_builder(server: FakeTelegramServer) -> ApplicationBuilder:
    """An ApplicationBuilder with the token and URLs of the fake server and short timeouts."""
    return (
        Application.builder()
        .token(server.token)
        .base_url(server.api_url)
        .base_file_url(server.file_url)
        .request(loopback_request())
        .get_updates_request(loopback_request())
    )


def build_application(server: FakeTelegramServer, handlers: Iterable[BaseHandler] = ()) -> Application:
    app = application_builder(server).build()
    for handler in handlers:
        app.add_handler(handler)
    server.watch_bot(lambda: application_idle(app))
    return app


@contextlib.asynccontextmanager
async def polling(
    app: Application, *, poll_timeout: int = 10, allowed_updates: list[str] | None = None
) -> AsyncIterator[Application]:
    """Run the application with long polling in the current event loop, for the block."""
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=poll_timeout, allowed_updates=allowed_updates)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
