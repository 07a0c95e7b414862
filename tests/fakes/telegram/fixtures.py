"""Pytest fixtures of the fake Telegram Bot API (loaded as a plugin by tests/conftest.py).

    async def test_start(telegram, telegram_server):
        ada = telegram.user("Ada")
        ...

`telegram_server` is started for each test (start-up takes about a millisecond) and fails the test
at teardown if the bot broke the Bot API in a way the test did not take with `take_violations()`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import secret_watch

from .driver import TelegramDriver
from .server import DEFAULT_TOKEN, FakeTelegramServer

BOT_TOKEN = DEFAULT_TOKEN
secret_watch.register(BOT_TOKEN)


def fail_on_violations(server: FakeTelegramServer) -> None:
    """Fail the current test, naming each Bot API violation the server recorded."""
    violations = server.take_violations()
    if violations:
        pytest.fail(
            f"The bot broke the Telegram Bot API ({server.schema.version}) "
            f"{len(violations)} time(s):\n" + "\n".join(f"  - {v}" for v in violations),
            pytrace=False,
        )


@pytest.fixture
def telegram_server() -> Iterator[FakeTelegramServer]:
    """A fresh fake Bot API server on 127.0.0.1 for this test (token BOT_TOKEN)."""
    server = FakeTelegramServer(BOT_TOKEN).start()
    try:
        yield server
    finally:
        server.stop()
    fail_on_violations(server)


@pytest.fixture
def telegram(telegram_server: FakeTelegramServer) -> TelegramDriver:
    """The people of the test: telegram.user("Ada"), telegram.group("EV Club", ...)."""
    return TelegramDriver(telegram_server)
