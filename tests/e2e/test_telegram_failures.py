"""A reply is never lost to a transient failure between the bot and Telegram (a 5xx page from the
proxy in front of the Bot API, a connection that breaks), and a lasting outage is given up on."""

from __future__ import annotations

import asyncio
import logging

from ocm_bot.domain.preferences import UsageChoice, UserPreferences

PORTLAND = (45.5122, -122.6587)


def sends(telegram_server, chat_id: int) -> list:
    return [r for r in telegram_server.requests if r.method == "sendMessage" and r.params.get("chat_id") == chat_id]


async def test_a_reply_answered_502_is_sent_again_and_arrives_once(bot, telegram, telegram_server):
    ada = telegram.user("Ada")
    telegram_server.inject_failure("sendMessage", 502, chat_id=ada.id)
    await ada.send_text("/help")
    reply = await ada.wait_for_message(timeout=10)
    assert "What I can do" in reply.text
    await ada.send_text("/privacy")  # processed after the first update: any second copy would come first
    await ada.wait_for_message(timeout=10)
    assert [m.text for m in ada.messages].count(reply.text) == 1
    assert [r.ok for r in sends(telegram_server, ada.id)][:2] == [False, True]


async def _results_in_pages_of_three(bot, ada):
    await bot.services.storage.save_user(
        ada.id, UserPreferences(radius_km=25, page_size=3, usage=UsageChoice.INCLUDE_RESTRICTED).to_dict()
    )
    await ada.send_location(*PORTLAND)
    return await ada.wait_for_message(containing="Chargers near", timeout=10)


async def test_a_page_turn_answered_502_is_edited_again(bot, telegram, telegram_server):
    ada = telegram.user("Ada")
    results = await _results_in_pages_of_three(bot, ada)
    shown = len(ada.messages)
    telegram_server.inject_failure("editMessageText", 502, times=2)
    pressed = await ada.press(results, "Next ›")
    await pressed.answered()
    page2 = await ada.wait_for_edit(results, timeout=10)
    assert "page 2" in page2.text
    assert len(ada.messages) == shown
    edits = [r.ok for r in telegram_server.requests if r.method == "editMessageText"]
    assert edits == [False, False, True]


async def test_a_reply_whose_answer_was_lost_after_delivery_is_not_sent_twice(bot, telegram, telegram_server):
    """A broken connection after the request went out may mean Telegram has delivered it: a new
    message is not sent again (a driver would see it twice), an edit is (repeating it is harmless)."""
    ada = telegram.user("Ada")
    telegram_server.inject_failure("sendMessage", None, processed=True, chat_id=ada.id)
    await ada.send_text("/help")
    reply = await ada.wait_for_message(timeout=10)
    assert "What I can do" in reply.text
    await ada.send_text("/privacy")
    await ada.wait_for_message(timeout=10)
    assert [m.text for m in ada.messages].count(reply.text) == 1


async def test_a_lasting_outage_is_given_up_on_with_a_warning(bot, telegram, telegram_server, caplog):
    ada = telegram.user("Ada")
    telegram_server.inject_failure("sendMessage", 502, times=1000, chat_id=ada.id)
    with caplog.at_level(logging.WARNING, logger="ocm_bot"):
        await ada.send_text("/help")
        await ada.wait_until(lambda: len(sends(telegram_server, ada.id)) >= 4, timeout=15, what="four attempts")
        telegram_server.failures.clear()
        await ada.send_text("/privacy")  # answered only once the first update was given up on
        privacy = await ada.wait_for_message(containing="store", timeout=15)
    assert [m.text for m in ada.messages] == [privacy.text]  # no late copy of the reply, no apology
    attempts = [r for r in sends(telegram_server, ada.id) if not r.ok]
    assert len(attempts) == 4
    spans = attempts[-1].time - attempts[0].time
    assert 3.0 <= spans < 10
    [gave_up] = [r for r in caplog.records if "gave up" in r.getMessage()]
    assert gave_up.levelno == logging.WARNING
    assert "sendMessage" in gave_up.getMessage()


async def test_a_page_turn_whose_answer_was_lost_after_the_edit_is_edited_again_harmlessly(
    bot, telegram, telegram_server
):
    ada = telegram.user("Ada")
    results = await _results_in_pages_of_three(bot, ada)
    shown = len(ada.messages)
    telegram_server.inject_failure("editMessageText", None, processed=True)
    pressed = await ada.press(results, "Next ›")
    await pressed.answered()
    page2 = await ada.wait_for_edit(results, timeout=10)
    await ada.wait_until(
        lambda: len([r for r in telegram_server.requests if r.method == "editMessageText"]) == 2, what="a second edit"
    )
    await ada.send_text("/privacy")  # after the page turn was handled in full
    await ada.wait_for_message(containing="store", timeout=10)
    assert "page 2" in page2.text and "page 2" in ada.message(results).text
    assert len(ada.messages) == shown + 1  # the privacy answer; no apology, no second results message
    assert any("not modified" in text for method, text in telegram_server.errors if method == "editMessageText")


async def test_replies_beyond_telegrams_30_messages_a_second_are_paced_and_none_is_lost(
    start_bot, telegram, telegram_server
):
    """Telegram refuses (429) more than 30 messages in any second: under a sustained load above
    that the bot paces its replies below the ceiling and waits out a refusal, never dropping a reply."""
    telegram_server.enable_flood_control(per_second=30, per_chat_per_second=1, per_group_per_minute=20)
    await start_bot()
    drivers = [telegram.user(f"Driver {n}") for n in range(60)]

    async def ask_twice(driver) -> None:
        for _ in range(2):
            await driver.send_text("/help")
            await driver.wait_for_message(containing="What I can do", timeout=30)
            await asyncio.sleep(1.1)  # a person's pace: Telegram's one message a second per chat

    await asyncio.gather(*(ask_twice(driver) for driver in drivers))
    await telegram.wait_until_idle()
    assert all(len(driver.messages) == 2 for driver in drivers)
    assert [r for r in telegram_server.requests if r.method == "sendMessage" and not r.ok] == []


async def test_a_driver_who_taps_twice_in_a_second_does_not_hold_up_anybody_else(start_bot, telegram, telegram_server):
    """Telegram's 429 for one chat (about one message a second there) is waited out in that chat
    only; python-telegram-bot's limiter would pause every chat for it."""
    telegram_server.enable_flood_control(per_second=30, per_chat_per_second=1, per_group_per_minute=20)
    await start_bot()
    ada, bob = telegram.user("Ada"), telegram.user("Bob")
    await ada.send_text("/help")
    await ada.send_text("/privacy")  # answered within the same second: Telegram says 429 in Ada's chat
    await ada.wait_until(
        lambda: any("Too Many Requests" in text for _, text in telegram_server.errors), timeout=5, what="a 429"
    )
    loop = asyncio.get_running_loop()
    asked = loop.time()
    await bob.send_text("/help")
    await bob.wait_for_message(containing="What I can do", timeout=5)
    assert loop.time() - asked < 0.8  # not held up by the wait in Ada's chat (1.1 s)
    await ada.wait_for_message(containing="What I can do")
    await ada.wait_for_message(containing="store", timeout=5)  # Ada's second answer, a second later
