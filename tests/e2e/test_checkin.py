"""Check-ins end to end: a driver taps through the conversation in the fake Telegram, the fake OCM
receives the comment.

The tests run the application as ``ocm-bot run`` builds it (``make_bot`` wraps ``start_bot``;
``AppBot.restart()`` starts a new one on the same database). Killing a real ``ocm-bot run`` process
mid-conversation and mid-submission is in tests/e2e/test_checkin_app.py and test_processes.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ocm_bot.context import Services
from ocm_bot.domain.outbox import Backoff
from ocm_bot.handlers import checkin, signin
from ocm_bot.settings import Secret

STORAGE_SECRET = "e2e storage secret"


CHARGER = 102848  # "SEASON SCC", Salt Lake City, in the shared samples
CHARGER_NAME = "SEASON SCC"
# Tests where OCM's answer is lost use chargers of their own: the bot then looks for its check-in
# among the charger's comments, and the fake OCM keeps comments across tests.
HILTON, HILTON_NAME = 13343, "City Center Hilton"
CITY_CREEK, CITY_CREEK_NAME = 142463, "City Creek Center East"


class AppBot:
    """The application as ``ocm-bot run`` builds it (the lead's ``start_bot``), restartable."""

    def __init__(self, start_bot, settings_changes: dict[str, Any], backoff: timedelta) -> None:
        self._start_bot = start_bot
        self._changes = settings_changes
        self._backoff = backoff
        self.running = None

    async def start(self) -> AppBot:
        self.running = await self._start_bot(**self._changes)
        # Retries come after seconds in a test, not after the production backoff's minutes.
        self.services.checkin.outbox.backoff = Backoff(base=self._backoff, cap=self._backoff * 4)
        return self

    async def restart(self) -> AppBot:
        await self.running.stop()
        return await self.start()

    @property
    def services(self) -> Services:
        return self.running.services

    @property
    def storage(self):
        return self.services.storage


@pytest.fixture
async def make_bot(start_bot):
    """``await make_bot(write_key=..., storage_secret=...)``: the real application on the fakes."""

    async def make(
        *,
        write_key: str | None = None,
        storage_secret: str | None = STORAGE_SECRET,
        backoff: timedelta = timedelta(seconds=30),
    ) -> AppBot:
        changes = {
            "ocm_write_key": Secret(write_key) if write_key else None,
            "storage_secret": Secret(storage_secret) if storage_secret else None,
            "outbox_poll_seconds": 1,
        }
        return await AppBot(start_bot, changes, backoff).start()

    return make


def posts(ocm_server) -> list[dict]:
    """The JSON bodies of every POST /comment OCM received."""
    return [json.loads(r.body) for r in ocm_server.requests_to("/v3/comment", "POST")]


async def tap(user, message, label):
    """Press a button and wait until the bot answered the tap; the message as it is then."""
    pressed = await user.press(message, label)
    await pressed.answered()
    return pressed


async def tap_and_wait_edit(user, message, label, **wait):
    await tap(user, message, label)
    return await user.wait_for_edit(message, **wait)


async def open_checkin(user, charger_id: int = CHARGER):
    await user.send_text(f"/checkin {charger_id}")
    return await user.wait_for_message(containing="How did it go")


async def sign_in(user, ocm_server, *, email="ada@example.org", password="correct horse battery"):
    if email.lower() not in ocm_server.users:
        ocm_server.register_user(email, password, username="ada")
    await user.send_text("/login")
    await user.wait_for_message(containing="e-mail address")
    await user.send_text(email)
    await user.wait_for_message(containing="password")
    typed = await user.send_text(password)
    reply = await user.wait_for_message(matching=r"Signed in|did not accept|Open Charge Map")
    return typed, reply


async def fill_in(
    user, *, outcome=("⚠️ Could not charge", "Failed: not operational"), rating="2", comment=None, charger=CHARGER
):
    """Outcome, rating and comment; returns the summary panel."""
    panel = await open_checkin(user, charger)
    for label in outcome:
        panel = await tap_and_wait_edit(user, panel, label)
    panel = await tap_and_wait_edit(user, panel, rating)
    if comment is None:
        return await tap_and_wait_edit(user, panel, "Skip")
    await user.send_text(comment)
    return await user.wait_for_message(containing="Your check-in at")


# The conversation -----------------------------------------------------------------------------------


async def test_signed_in_driver_checks_in_and_ocm_gets_one_comment_with_their_token(make_bot, telegram, ocm_server):
    bot = await make_bot()
    ada = telegram.user("Ada", last_name="Lovelace")
    typed, reply = await sign_in(ada, ocm_server)
    assert "Signed in to Open Charge Map as ada" in reply.text
    assert ada.message(typed).deleted  # the password does not stay in the chat

    panel = await open_checkin(ada)
    assert f"How did it go at {CHARGER_NAME}?" in panel.text
    assert panel.labels[:5] == [
        "✅ Charged successfully",
        "⚠️ Could not charge ▸",
        "🚗 Spot taken by another EV",
        "🚫 Blocked / not accessible ▸",
        "❓ Other ▸",
    ]
    details = await tap_and_wait_edit(ada, panel, "⚠️ Could not charge")
    assert "⚠️ Failed: not operational" in details.labels and "‹ Back" in details.labels
    rating = await tap_and_wait_edit(ada, details, "Failed: not operational")
    assert "Rate SEASON SCC" in rating.text and rating.labels[:6] == ["1", "2", "3", "4", "5", "Skip"]
    comment_step = await tap_and_wait_edit(ada, rating, "2")
    assert "fault report" in comment_step.text and "✓ 🛠 Fault report" in comment_step.labels
    await ada.send_text("Screen dead <b>again</b>")
    summary = await ada.wait_for_message(containing="Your check-in at")
    assert "Rating: ★★☆☆☆ (2/5)" in summary.text
    assert "Comment: Screen dead <b>again</b>" in summary.text  # shown as typed, not as HTML
    assert "It will appear on Open Charge Map under your own account." in summary.text
    assert summary.labels == ["Submit", "‹ Back", "Cancel"]

    await tap(ada, summary, "Submit")
    done = await ada.wait_for_edit(summary, containing="Thanks!")
    assert f"Your check-in at {CHARGER_NAME} is on Open Charge Map" in done.text
    assert done.url_buttons["Open in OCM ↗"] == f"https://openchargemap.org/site/poi/details/{CHARGER}"
    assert f'href="https://openchargemap.org/site/poi/details/{CHARGER}"' in done.html

    assert posts(ocm_server) == [
        {
            "ChargePointID": CHARGER,
            "CommentTypeID": 1000,
            "CheckinStatusTypeID": 20,
            "Rating": 2,
            "Comment": "Screen dead <b>again</b>",
        }
    ]
    [stored] = ocm_server.comments
    assert stored.via == "token" and stored.username == "ada"
    [request] = ocm_server.requests_to("/v3/comment", "POST")
    assert request.headers["Authorization"].startswith("Bearer ey")
    # The charger's cached details were refreshed: the next look shows the check-in, without asking OCM.
    asked = len(ocm_server.requests_to("/v3/poi"))
    [charger] = await bot.services.ocm_client.get_chargers([CHARGER], include_comments=True)
    assert [c.text for c in charger.comments][:1] == ["Screen dead <b>again</b>"]
    assert len(ocm_server.requests_to("/v3/poi")) == asked


async def test_back_at_every_step_keeps_answers_and_skips_leave_fields_out(make_bot, telegram, ocm_server):
    await make_bot(write_key=ocm_server.add_write_key())
    bo = telegram.user("Bo")
    panel = await open_checkin(bo)
    rating = await tap_and_wait_edit(bo, panel, "✅ Charged successfully")
    back = await tap_and_wait_edit(bo, rating, "‹ Back")
    assert "How did it go" in back.text and "• ✅ Charged successfully" in back.labels
    rating = await tap_and_wait_edit(bo, back, "Charged successfully")
    comment_step = await tap_and_wait_edit(bo, rating, "Skip")
    assert "Anything to add" in comment_step.text and "Fault report" not in " ".join(comment_step.labels)
    rating_again = await tap_and_wait_edit(bo, comment_step, "‹ Back")
    assert "Rate" in rating_again.text
    comment_step = await tap_and_wait_edit(bo, rating_again, "Skip")
    summary = await tap_and_wait_edit(bo, comment_step, "Skip")
    assert "Rating: skipped" in summary.text and "Comment: none" in summary.text
    # OCM files a write-key comment under the key's account (the bot's), whatever name is sent.
    assert "under this bot's account, not under your name" in summary.text
    assert "send /login first" in summary.text
    comment_step = await tap_and_wait_edit(bo, summary, "‹ Back")
    assert "Anything to add" in comment_step.text
    summary = await tap_and_wait_edit(bo, comment_step, "Skip")
    await tap(bo, summary, "Submit")
    await bo.wait_for_edit(summary, containing="Thanks!")
    assert posts(ocm_server) == [{"ChargePointID": CHARGER, "CommentTypeID": 10, "CheckinStatusTypeID": 10}]
    [stored] = ocm_server.comments
    assert stored.via == "write-key" and stored.username == "ocm-bot"
    # OCM calls for the whole check-in: reference data (once per process), the charger's name, the
    # post, and the refresh of the charger's cached details. Steps and Back cost none.
    await bo.wait_until(lambda: len(ocm_server.requests) >= 4, what="the refresh after the post")
    assert [(r.method, r.path) for r in ocm_server.requests] == [
        ("GET", "/v3/referencedata"),
        ("GET", "/v3/poi"),
        ("POST", "/v3/comment"),
        ("GET", "/v3/poi"),
    ]


async def test_cancel_button_and_cancel_command_end_the_checkin_without_sending(make_bot, telegram, ocm_server):
    bot = await make_bot(write_key=ocm_server.add_write_key())
    ada = telegram.user("Ada")
    panel = await open_checkin(ada)
    cancelled = await tap_and_wait_edit(ada, panel, "Cancel")
    assert "Check-in cancelled. Nothing was sent." in cancelled.text and cancelled.buttons == []

    panel = await open_checkin(ada)
    rating = await tap_and_wait_edit(ada, panel, "✅ Charged successfully")
    comment_step = await tap_and_wait_edit(ada, rating, "5")
    await ada.send_text("/cancel")
    await ada.wait_for_message(containing="Check-in cancelled")
    assert ada.message(comment_step).buttons == []
    assert await bot.storage.get_draft(ada.id) is None
    await ada.send_text("/cancel")
    await ada.wait_for_message(containing="There is nothing to cancel.")
    # The conversation is over: text is no longer taken as a comment, old buttons are stale.
    pressed = await ada.press(ada.message(panel), "Cancel") if ada.message(panel).buttons else None
    assert pressed is None
    assert posts(ocm_server) == []


async def test_an_idle_checkin_ends_politely_after_the_timeout(make_bot, telegram, ocm_server, monkeypatch):
    monkeypatch.setattr(checkin, "CONVERSATION_TIMEOUT", timedelta(seconds=1))
    bot = await make_bot(write_key=ocm_server.add_write_key())
    ada = telegram.user("Ada")
    panel = await open_checkin(ada)
    await tap_and_wait_edit(ada, panel, "✅ Charged successfully")
    notice = await ada.wait_for_message(containing="put this check-in aside", timeout=5)
    assert "nothing was sent" in notice.text
    assert ada.message(panel).buttons == []
    assert await bot.storage.get_draft(ada.id) is None
    assert posts(ocm_server) == []


async def test_without_sign_in_or_write_key_the_summary_links_to_ocms_own_checkin_page(make_bot, telegram):
    await make_bot()
    ada = telegram.user("Ada")
    summary = await fill_in(ada, outcome=("✅ Charged successfully",), rating="4")
    assert "send /login" in summary.text
    assert "Submit" not in summary.labels
    assert summary.url_buttons["Check in on Open Charge Map ↗"] == (
        f"https://openchargemap.org/site/poi/addcomment/{CHARGER}"
    )


async def test_signing_in_from_the_summary_brings_it_back_with_submit(make_bot, telegram, ocm_server):
    await make_bot()
    ada = telegram.user("Ada")
    summary = await fill_in(ada, outcome=("✅ Charged successfully",), rating="4")
    assert "Submit" not in summary.labels
    await sign_in(ada, ocm_server)
    await ada.wait_for_message(containing="still open")
    again = await ada.wait_for_message(containing="Your check-in at")
    assert "under your own account" in again.text
    assert ada.message(summary).buttons == []  # the old panel is closed
    await tap(ada, again, "Submit")
    await ada.wait_for_edit(again, containing="Thanks!")
    [stored] = ocm_server.comments
    assert stored.via == "token" and stored.rating == 4


async def test_a_bot_that_cannot_post_says_so_on_the_first_screen_and_links_to_ocm(make_bot, telegram, ocm_server):
    # No OCM_WRITE_KEY, and no STORAGE_SECRET so no sign-in: nothing this bot could ever post.
    bot = await make_bot(storage_secret=None)
    ada = telegram.user("Ada")
    await ada.send_text("/login")
    off = await ada.wait_for_message(containing="Signing in is turned off")
    assert "STORAGE_SECRET" in off.text
    await ada.send_text(f"/checkin {CHARGER}")
    first = await ada.wait_for_message()
    assert "This bot cannot post check-ins to Open Charge Map." in first.text
    assert f"You can check in at {CHARGER_NAME} on the Open Charge Map site" in first.text
    assert "How did it go" not in first.text
    assert first.url_buttons == {
        "Check in on Open Charge Map ↗": f"https://openchargemap.org/site/poi/addcomment/{CHARGER}"
    }
    assert first.callback_buttons == {}  # no steps that could only end in "I cannot post it"
    assert await bot.storage.get_draft(ada.id) is None
    await ada.send_text("Great charger")  # not a comment: there is no check-in going on
    await ada.wait_for_message(containing="I could not find “Great charger”")  # searched as a place
    assert posts(ocm_server) == [] and ocm_server.requests_to("/v3/profile") == []


async def test_a_driver_who_must_sign_in_to_post_is_told_on_the_first_screen(make_bot, telegram):
    await make_bot()  # sign-in possible, no write key
    ada = telegram.user("Ada")
    panel = await open_checkin(ada)
    assert "send /login" in panel.text
    assert "✅ Charged successfully" in panel.labels


async def test_login_with_a_wrong_password_is_refused_and_nothing_is_kept(make_bot, telegram, ocm_server):
    bot = await make_bot()
    ocm_server.register_user("ada@example.org", "the right one", username="ada")
    ada = telegram.user("Ada")
    typed, reply = await sign_in(ada, ocm_server, password="the wrong one")
    assert "did not accept that e-mail and password" in reply.text
    assert ada.message(typed).deleted
    assert await bot.storage.get_ocm_token(ada.id) is None


async def test_a_password_typed_after_a_restart_is_deleted_not_searched(
    make_bot, telegram, ocm_server, nominatim_server
):
    bot = await make_bot()
    ocm_server.register_user("ada@example.org", "s3cret-pass", username="ada")
    ada = telegram.user("Ada")
    await ada.send_text("/login")
    await ada.wait_for_message(containing="e-mail address")
    await ada.send_text("ada@example.org")
    await ada.wait_for_message(containing="password")
    await bot.restart()
    typed = await ada.send_text("s3cret-pass")
    # Signed in (the sign-in's step and e-mail are stored before the prompt; a kill -9 of a real
    # process is in test_checkin_app.py), or asked to start over: either way the password is taken as one.
    await ada.wait_for_message(matching=r"Signed in|Send /login to try again")
    assert ada.message(typed).deleted
    assert nominatim_server.requests == []
    assert not any("s3cret-pass" in (m.text or "") for m in ada.messages)


async def test_login_is_for_private_chats_and_logout_forgets_the_token(make_bot, telegram, ocm_server):
    bot = await make_bot()
    ada = telegram.user("Ada")
    club = telegram.group("EV Club", members=[ada], admins=[ada])
    await club.add_bot(by=ada)
    await ada.send_text_in(club, "/login")
    await club.wait_for_message(containing="private chat")
    await sign_in(ada, ocm_server)
    assert await bot.storage.get_ocm_token(ada.id) is not None
    await ada.send_text("/logout")
    await ada.wait_for_message(containing="Signed out")
    assert await bot.storage.get_ocm_token(ada.id) is None


async def test_in_a_group_checkin_continues_in_a_private_chat_through_a_deep_link(make_bot, telegram, ocm_server):
    await make_bot(write_key=ocm_server.add_write_key())
    ada = telegram.user("Ada")
    club = telegram.group("EV Club", members=[ada], admins=[ada])
    await club.add_bot(by=ada)
    await ada.send_text_in(club, f"/checkin {CHARGER}")
    invite = await club.wait_for_message(containing="private chat")
    url = invite.url_buttons["✅ Check in privately"]
    assert url.endswith(f"?start=checkin-{CHARGER}")
    await ada.send_text(f"/start checkin-{CHARGER}")
    panel = await ada.wait_for_message(containing="How did it go")
    assert CHARGER_NAME in panel.text


async def test_a_check_in_button_tapped_in_a_group_opens_the_private_chat(make_bot, telegram, ocm_server):
    bot = await make_bot(write_key=ocm_server.add_write_key())
    ada = telegram.user("Ada")
    club = telegram.group("EV Club", members=[ada], admins=[ada])
    await club.add_bot(by=ada)
    button = InlineKeyboardButton("✅ Check in", callback_data=bot.services.callbacks.encode("ci", CHARGER))
    await bot.running.application.bot.send_message(
        club.chat_id, "A card", reply_markup=InlineKeyboardMarkup([[button]])
    )
    card = await club.wait_for_message(containing="A card")
    pressed = await ada.press(card, "Check in")
    answer = await pressed.answered()
    username = telegram.server.bot_user["username"]
    assert answer.url == f"https://t.me/{username}?start=checkin-{CHARGER}"
    assert club.messages == [club.message(card)]  # nothing posted in the group


async def test_unknown_charger_and_missing_id_get_a_clear_answer(make_bot, telegram):
    await make_bot()
    ada = telegram.user("Ada")
    await ada.send_text("/checkin 1")
    await ada.wait_for_message(containing="could not find charger #1")
    await ada.send_text("/checkin")
    await ada.wait_for_message(containing="/checkin 12345")


async def test_a_second_checkin_at_the_same_charger_within_ten_minutes_is_refused(make_bot, telegram, ocm_server):
    await make_bot(write_key=ocm_server.add_write_key())
    ada = telegram.user("Ada")
    summary = await fill_in(ada, outcome=("✅ Charged successfully",), rating="5")
    await tap(ada, summary, "Submit")
    await ada.wait_for_edit(summary, containing="Thanks!")
    await ada.send_text(f"/checkin {CHARGER}")
    refused = await ada.wait_for_message(containing="a moment ago")
    assert "again in 10 minutes" in refused.text
    assert len(posts(ocm_server)) == 1


# Nothing lost, nothing twice -------------------------------------------------------------------------


async def test_double_tap_and_a_replayed_update_submit_once(make_bot, telegram, ocm_server, caplog):
    await make_bot(write_key=ocm_server.add_write_key())
    ada = telegram.user("Ada")
    summary = await fill_in(ada, outcome=("✅ Charged successfully",), rating="5")
    first = await ada.press(summary, "Submit")
    second = await ada.press(summary, "Submit")  # before the first tap was answered
    await first.answered()
    await second.answered()
    await ada.wait_for_edit(summary, containing="Thanks!")
    # A webhook delivery retried by Telegram: the very same update (same callback query) once more.
    server = telegram.server
    sent_before = len(server.calls("sendMessage"))
    stored = server.chats[summary.chat_id].messages[summary.message_id].message
    server.push_update(
        "callback_query",
        {
            "id": first.id,
            "from": ada.user,
            "message": json.loads(json.dumps(stored)),
            "chat_instance": str(abs(summary.chat_id) * 31 + 17),
            "data": first.data,
        },
    )
    await telegram.wait_until_idle()  # the bot fetched the retried update and is done with it
    assert len(server.calls("sendMessage")) == sent_before  # no apology, no second anything
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert len(posts(ocm_server)) == 1 and len(ocm_server.comments) == 1


async def test_ocm_down_then_up_the_driver_is_told_then_it_is_delivered_once(make_bot, telegram, ocm_server):
    await make_bot(write_key=ocm_server.add_write_key())
    ada = telegram.user("Ada")
    ocm_server.inject("status500", times=None, path_prefix="/v3/comment")
    summary = await fill_in(ada, outcome=("✅ Charged successfully",), rating="5", charger=HILTON)
    await tap(ada, summary, "Submit")
    waiting = await ada.wait_for_edit(summary, containing="not answering")
    assert "is saved; I'll send it as soon as it is back" in waiting.text
    assert "🔄 Retry now" in waiting.labels
    ocm_server.clear_faults()
    await tap(ada, waiting, "Retry now")
    done = await ada.wait_for_edit(waiting, containing="is now posted")
    assert "Open in OCM ↗" in done.url_buttons
    assert len(ocm_server.comments) == 1


async def test_queued_checkin_is_delivered_by_the_background_job_and_the_driver_notified(
    make_bot, telegram, ocm_server, monkeypatch
):
    await make_bot(write_key=ocm_server.add_write_key(), backoff=timedelta(seconds=0.2))
    ada = telegram.user("Ada")
    ocm_server.inject("status503", times=3, path_prefix="/v3/comment")
    summary = await fill_in(ada, outcome=("✅ Charged successfully",), rating="5", charger=CITY_CREEK)
    await tap(ada, summary, "Submit")
    await ada.wait_for_edit(summary, containing="not answering")
    notice = await ada.wait_for_message(containing="is now posted", timeout=15)
    assert CITY_CREEK_NAME in notice.text
    assert len(ocm_server.comments) == 1
    assert len(posts(ocm_server)) == 4
    assert len([m for m in ada.messages if "not answering" in (m.text or "")]) == 1  # told once


async def test_expired_sign_in_keeps_the_checkin_and_sends_it_after_login(make_bot, telegram, ocm_server):
    bot = await make_bot()
    ada = telegram.user("Ada")
    await sign_in(ada, ocm_server)
    summary = await fill_in(ada, outcome=("✅ Charged successfully",), rating="3")
    ocm_server.expire_tokens()
    await tap(ada, summary, "Submit")
    expired = await ada.wait_for_edit(summary, containing="sign-in has expired")
    assert "/login" in expired.text
    [item] = await bot.storage.outbox_for_user(ada.id)
    assert item.status == "pending"
    _, reply = await sign_in(ada, ocm_server)
    assert "Sending the 1 check-in that waited for your sign-in" in reply.text
    await ada.wait_for_message(containing="is now posted")
    assert len(ocm_server.comments) == 1


@pytest.mark.parametrize(
    ("fault", "charger", "said"),
    [("validation-failed", CHARGER, "Error: Validation Failed"), ("status400", CHARGER, "Failed")],
)
async def test_ocm_refusal_gets_an_honest_message_and_is_not_marked_delivered(
    make_bot, telegram, ocm_server, fault, charger, said
):
    bot = await make_bot(write_key=ocm_server.add_write_key())
    ada = telegram.user("Ada")
    summary = await fill_in(ada, outcome=("✅ Charged successfully",), rating="5")
    if fault == "validation-failed":
        ocm_server.inject(fault, path_prefix="/v3/comment")
    else:
        ocm_server.remove_poi(CHARGER)  # OCM answers 400 "Failed" for a POI it does not have
    await tap(ada, summary, "Submit")
    refused = await ada.wait_for_edit(summary, containing="did not accept your check-in")
    assert f"“{said}”" in refused.text and "not posted" in refused.text
    assert "Check in on Open Charge Map ↗" in refused.url_buttons
    [item] = await bot.storage.outbox_for_user(ada.id)
    assert item.status == "failed"
    assert ocm_server.comments == []


async def test_after_a_new_search_typed_text_is_a_place_again_not_the_waiting_comment(
    make_bot, telegram, ocm_server, nominatim_server
):
    bot = await make_bot(write_key=ocm_server.add_write_key())
    ada = telegram.user("Ada")
    panel = await open_checkin(ada)
    rating = await tap_and_wait_edit(ada, panel, "✅ Charged successfully")
    comment_step = await tap_and_wait_edit(ada, rating, "4")
    assert "Send a message" in comment_step.text

    await ada.send_location(45.5122, -122.6587)  # the driver moves on: a new search
    await ada.wait_for_message(containing="Chargers near")
    # The waiting check-in no longer takes typed text, and its panel says so.
    paused = await ada.wait_for_edit(comment_step, containing="✍️ Write a comment")
    assert "Send a message" not in paused.text
    await ada.send_text("Pioneer Courthouse Square, Portland")
    await ada.wait_for_message(matching="Chargers near.*Pioneer Courthouse Square")
    assert [r.params["q"] for r in nominatim_server.requests_to("/search")] == ["Pioneer Courthouse Square, Portland"]
    assert (await bot.storage.get_draft(ada.id))["comment"] is None

    # Back on the check-in's panel, a typed message is its comment again.
    armed = await tap_and_wait_edit(ada, paused, "✍️ Write a comment")
    assert "Send a message" in armed.text
    await ada.send_text("Fast and free")
    summary = await ada.wait_for_message(containing="Your check-in at")
    assert "Comment: Fast and free" in summary.text


async def test_an_operator_name_typed_in_the_settings_opened_meanwhile_goes_to_the_settings(
    make_bot, telegram, ocm_server
):
    bot = await make_bot(write_key=ocm_server.add_write_key())
    ada = telegram.user("Ada")
    panel = await open_checkin(ada)
    rating = await tap_and_wait_edit(ada, panel, "✅ Charged successfully")
    await tap_and_wait_edit(ada, rating, "4")
    await ada.send_text("/settings")
    menu = await ada.wait_for_message(containing="Settings")
    operators = await tap_and_wait_edit(ada, menu, "🏢 Operators")
    prompt = await tap_and_wait_edit(ada, operators, "🔎 Add an operator")
    await ada.send_text("aldi sud")
    matches = await ada.wait_for_edit(prompt)
    assert "ALDI SÜD" in matches.labels
    assert (await bot.storage.get_draft(ada.id))["comment"] is None


async def test_text_typed_long_after_the_comment_step_is_searched_after_a_note_that_the_checkin_ended(
    make_bot, telegram, ocm_server
):
    bot = await make_bot(write_key=ocm_server.add_write_key())
    ada = telegram.user("Ada")
    panel = await open_checkin(ada)
    rating = await tap_and_wait_edit(ada, panel, "✅ Charged successfully")
    comment_step = await tap_and_wait_edit(ada, rating, "4")
    # Left for 20 minutes across a restart (the 15-minute timeout job does not survive one).
    draft = await bot.storage.get_draft(ada.id)
    idle = datetime.fromisoformat(draft["updated_at"]) - timedelta(minutes=20)
    await bot.storage.save_draft(ada.id, {**draft, "updated_at": idle.isoformat()})
    await bot.restart()
    await ada.send_text("Pioneer Courthouse Square, Portland")
    await ada.wait_for_message(containing="put this check-in aside")
    await ada.wait_for_message(matching="Chargers near.*Pioneer Courthouse Square")
    assert ada.message(comment_step).buttons == []
    assert await bot.storage.get_draft(ada.id) is None


async def test_a_comment_typed_right_after_the_comment_step_is_still_the_comment(make_bot, telegram, ocm_server):
    await make_bot(write_key=ocm_server.add_write_key())
    ada = telegram.user("Ada")
    await ada.send_location(45.5122, -122.6587)  # a search before the check-in does not pause it
    await ada.wait_for_message(containing="Chargers near")
    summary = await fill_in(ada, outcome=("✅ Charged successfully",), rating="5", comment="Pioneer Square")
    assert "Comment: Pioneer Square" in summary.text


async def test_a_tap_on_the_screen_shown_before_a_crash_that_saved_the_next_step_still_counts(
    make_bot, telegram, ocm_server
):
    """Killed after saving the next step but before showing it: the driver taps the screen they see."""
    bot = await make_bot(write_key=ocm_server.add_write_key())
    ada = telegram.user("Ada")
    panel = await open_checkin(ada)
    rating = await tap_and_wait_edit(ada, panel, "✅ Charged successfully")
    saved = await bot.storage.get_draft(ada.id)
    await bot.storage.save_draft(ada.id, {**saved, "step": "comment", "rating": 2})  # what a tap on 2 saves
    await bot.restart()
    comment_step = await tap_and_wait_edit(ada, rating, "4")
    assert "Anything to add" in comment_step.text
    summary = await tap_and_wait_edit(ada, comment_step, "Skip")
    assert "Rating: ★★★★☆ (4/5)" in summary.text


async def test_a_comment_typed_again_after_a_crash_that_saved_it_but_never_showed_the_summary_replaces_it(
    make_bot, telegram, ocm_server, nominatim_server
):
    """Killed after saving the typed comment (draft at the summary) but before sending the summary."""
    bot = await make_bot(write_key=ocm_server.add_write_key())
    ada = telegram.user("Ada")
    panel = await open_checkin(ada)
    rating = await tap_and_wait_edit(ada, panel, "✅ Charged successfully")
    await tap_and_wait_edit(ada, rating, "4")
    saved = await bot.storage.get_draft(ada.id)
    await bot.storage.save_draft(ada.id, {**saved, "step": "summary", "comment": "Quick and eays"})  # what it saves
    await bot.restart()
    await ada.send_text("Quick and easy")  # no summary came: the driver types the comment again
    summary = await ada.wait_for_message(containing="Your check-in at")
    assert "Comment: Quick and easy" in summary.text
    # At the summary, typed text replaces the comment and the summary comes again.
    await ada.send_text("Quick and easy, 50 kW")
    again = await ada.wait_for_message(containing="Your check-in at")
    assert "Comment: Quick and easy, 50 kW" in again.text
    assert ada.message(summary).buttons == []  # the older summary is closed
    await tap(ada, again, "Submit")
    await ada.wait_for_edit(again, containing="Thanks!")
    assert [body["Comment"] for body in posts(ocm_server)] == ["Quick and easy, 50 kW"]
    assert nominatim_server.requests == []  # neither was searched as a place


async def test_a_restart_mid_conversation_resumes_at_the_same_step(make_bot, telegram, ocm_server):
    bot = await make_bot(write_key=ocm_server.add_write_key())
    ada = telegram.user("Ada")
    panel = await open_checkin(ada)
    rating = await tap_and_wait_edit(ada, panel, "✅ Charged successfully")
    await bot.restart()
    comment_step = await tap_and_wait_edit(ada, rating, "4")
    assert "Anything to add" in comment_step.text
    await ada.send_text("Fast and free")
    summary = await ada.wait_for_message(containing="Your check-in at")
    assert "Rating: ★★★★☆ (4/5)" in summary.text
    await tap(ada, summary, "Submit")
    await ada.wait_for_edit(summary, containing="Thanks!")
    assert posts(ocm_server) == [
        {
            "ChargePointID": CHARGER,
            "CommentTypeID": 10,
            "CheckinStatusTypeID": 10,
            "Rating": 4,
            "Comment": "Fast and free",
        }
    ]


async def timeouts_ran(bot) -> None:
    """Wait until this instance's conversation timeouts have run (python-telegram-bot's timeout jobs)."""
    queue = bot.running.application.job_queue
    deadline = asyncio.get_running_loop().time() + 15
    while any(job.name == "_trigger_timeout" for job in queue.jobs()):
        assert asyncio.get_running_loop().time() < deadline, "the conversation timeout did not run"
        await asyncio.sleep(0.05)


async def test_a_timeout_here_leaves_a_check_in_that_another_instance_took_on(
    make_bot, telegram, ocm_server, monkeypatch
):
    monkeypatch.setattr(checkin, "CONVERSATION_TIMEOUT", timedelta(seconds=2))
    bot = await make_bot(write_key=ocm_server.add_write_key())
    ada = telegram.user("Ada")
    panel = await open_checkin(ada)
    rating = await tap_and_wait_edit(ada, panel, "✅ Charged successfully")
    # Another instance behind the webhook took a step a second later (it saved the draft, as every step does).
    saved = await bot.storage.get_draft(ada.id)
    later = datetime.fromisoformat(saved["updated_at"]) + timedelta(seconds=1)
    await bot.storage.save_draft(ada.id, {**saved, "updated_at": later.isoformat()})
    await timeouts_ran(bot)  # this instance's timeout for its own last update
    comment_step = await tap_and_wait_edit(ada, rating, "5")
    assert "Anything to add" in comment_step.text
    assert not any("put this check-in aside" in (m.text or "") for m in ada.messages)


async def test_a_timeout_here_leaves_a_sign_in_that_another_instance_took_on(
    make_bot, telegram, ocm_server, nominatim_server, monkeypatch
):
    monkeypatch.setattr(signin, "LOGIN_TIMEOUT", timedelta(seconds=2))
    bot = await make_bot()
    ocm_server.register_user("ada@example.org", "s3cret-pass", username="ada")
    ada = telegram.user("Ada")
    await ada.send_text("/login")
    await ada.wait_for_message(containing="e-mail address")
    await telegram.wait_until_idle()
    # Another instance took the sign-in's step since: its record is younger than this instance's timeout.
    await bot.storage.save_conversation("login", [ada.chat_id, ada.id], {"step": "email", "until": time.time() + 60})
    await timeouts_ran(bot)
    await ada.send_text("ada@example.org")
    await ada.wait_for_message(containing="password")
    typed = await ada.send_text("s3cret-pass")
    await ada.wait_for_message(containing="Signed in")
    assert ada.message(typed).deleted
    assert nominatim_server.requests == []
    assert not any("Sign-in timed out" in (m.text or "") for m in ada.messages)
