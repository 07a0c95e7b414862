"""python-telegram-bot pointed at the fake server, for tests of the fake and small bots.

app = build_application(server, handlers=[CommandHandler("start", start)])
async with polling(app):
    await ada.send_text("/start")
    ...
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable

from telegram.ext import Application, ApplicationBuilder, BaseHandler
from telegram.request import HTTPXRequest

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
