"""Bot API calls through :class:`ocm_bot.runtime.RetryingRateLimiter`, against the fake Bot API server:
what is sent again after a failure on the way to Telegram, and what is not."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from telegram.error import BadRequest, NetworkError
from telegram.ext import ExtBot

from ocm_bot.runtime import RetryingRateLimiter
from tests.fakes.telegram.ptb import loopback_request

QUICK = (0.05, 0.1, 0.2)  # the app waits 0.5, 1 and 2 s; the rules are the same


def _bot(base_url: str, token: str) -> ExtBot:
    return ExtBot(
        token,
        base_url=base_url,
        request=loopback_request(),
        rate_limiter=RetryingRateLimiter(max_retries=2, delays=QUICK),
    )


@pytest.fixture
async def bot(telegram_server):
    async with _bot(telegram_server.api_url, telegram_server.token) as bot:
        yield bot


def _calls(telegram_server, method: str) -> list[bool]:
    return [r.ok for r in telegram_server.requests if r.method == method]


async def test_a_5xx_page_is_retried_until_the_call_goes_through(telegram, telegram_server, bot):
    ada = telegram.user("Ada")
    await ada.send_text("hi")
    telegram_server.inject_failure("sendMessage", 503, times=3)
    await bot.send_message(ada.chat_id, "hello")
    assert _calls(telegram_server, "sendMessage") == [False, False, False, True]
    assert [m.text for m in ada.messages] == ["hello"]


async def test_a_lasting_failure_gives_up_after_four_attempts(telegram, telegram_server, bot, caplog):
    ada = telegram.user("Ada")
    await ada.send_text("hi")
    telegram_server.inject_failure("sendMessage", 502, times=10)
    started = time.monotonic()
    with pytest.raises(NetworkError, match=r"Bad Gateway \(502\)"):
        await bot.send_message(ada.chat_id, "hello")
    assert time.monotonic() - started >= sum(QUICK)
    assert _calls(telegram_server, "sendMessage") == [False] * 4
    [gave_up] = [r for r in caplog.records if "gave up" in r.getMessage()]
    assert gave_up.levelname == "WARNING"
    assert gave_up.getMessage() == "Telegram did not take sendMessage (Bad Gateway (502)); gave up after 4 attempts"


async def test_telegrams_own_refusals_are_not_retried(telegram, telegram_server, bot):
    ada = telegram.user("Ada")
    await ada.send_text("hi")
    telegram_server.inject_error("sendMessage", 400, "can't parse entities")
    with pytest.raises(BadRequest):
        await bot.send_message(ada.chat_id, "hello")
    assert _calls(telegram_server, "sendMessage") == [False]


async def test_a_message_whose_answer_was_lost_is_not_sent_twice(telegram, telegram_server, bot):
    ada = telegram.user("Ada")
    await ada.send_text("hi")
    telegram_server.inject_failure("sendMessage", None, processed=True)
    with pytest.raises(NetworkError):
        await bot.send_message(ada.chat_id, "hello")
    assert [m.text for m in ada.messages] == ["hello"]
    assert len(_calls(telegram_server, "sendMessage")) == 1


async def test_an_edit_whose_answer_was_lost_is_repeated_and_counts_as_done(telegram, telegram_server, bot):
    ada = telegram.user("Ada")
    await ada.send_text("hi")
    sent = await bot.send_message(ada.chat_id, "page 1")
    telegram_server.inject_failure("editMessageText", None, processed=True)
    assert await bot.edit_message_text("page 2", ada.chat_id, sent.message_id) is True
    assert [m.text for m in ada.messages] == ["page 2"]
    assert len(_calls(telegram_server, "editMessageText")) == 2


async def test_a_connection_that_cannot_be_made_is_retried_for_any_call(telegram_server, caplog):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # closed again below: nothing listens there
    bot = _bot(f"http://127.0.0.1:{port}/bot", telegram_server.token)
    started = time.monotonic()
    with pytest.raises(NetworkError, match="ConnectError"):
        await bot.initialize()  # getMe
    await bot.shutdown()
    assert time.monotonic() - started >= sum(QUICK)
    assert "getMe (httpx.ConnectError: All connection attempts failed); gave up after 4 attempts" in caplog.text


async def test_reading_a_group_member_does_not_wait_for_the_groups_message_budget(telegram, telegram_server):
    """Telegram's ~20 a minute per group count messages; the admin check of every watch button
    (getChatMember) must neither wait behind them nor use them up."""
    ada = telegram.user("Ada")
    club = telegram.group("EV Club", admins=[ada])
    await club.add_bot(ada)
    limiter = RetryingRateLimiter(max_retries=2, delays=QUICK, group_max_rate=2, group_time_period=60)
    async with ExtBot(
        telegram_server.token, base_url=telegram_server.api_url, request=loopback_request(), rate_limiter=limiter
    ) as bot:
        for _ in range(5):
            member = await asyncio.wait_for(bot.get_chat_member(club.chat_id, ada.id), timeout=2)
            assert member.status == "creator"
        await asyncio.wait_for(bot.send_message(club.chat_id, "one"), timeout=2)
        await asyncio.wait_for(bot.send_message(club.chat_id, "two"), timeout=2)
        with pytest.raises(TimeoutError):  # the group's message budget itself still holds
            await asyncio.wait_for(bot.send_message(club.chat_id, "three"), timeout=0.5)
