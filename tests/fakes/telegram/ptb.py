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

from .server import FakeTelegramServer


def application_builder(server: FakeTelegramServer) -> ApplicationBuilder:
    """An ApplicationBuilder with the token and URLs of the fake server and short timeouts."""
    return (
        Application.builder()
        .token(server.token)
        .base_url(server.api_url)
        .base_file_url(server.file_url)
        .connect_timeout(2)
        .read_timeout(5)
        .get_updates_connect_timeout(2)
        .get_updates_read_timeout(5)
    )


def build_application(server: FakeTelegramServer,
                      handlers: Iterable[BaseHandler] = ()) -> Application:
    app = application_builder(server).build()
    for handler in handlers:
        app.add_handler(handler)
    return app


@contextlib.asynccontextmanager
async def polling(app: Application, *, poll_timeout: int = 10,
                  allowed_updates: list[str] | None = None) -> AsyncIterator[Application]:
    """Run the application with long polling in the current event loop, for the block."""
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=poll_timeout,
                                    allowed_updates=allowed_updates)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
