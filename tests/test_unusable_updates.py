"""An update without the part a handler needs stops the handler by name, not half-way on ``None``.

The handlers' filters let no such update through; these are the guards that hold if one comes anyway
(and that let the type checker prove every handler reads only what it checked).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from telegram import CallbackQuery, Chat, InaccessibleMessage, Message, Update, User

from ocm_bot.errors import OcmBotError
from ocm_bot.handlers.common import UnusableUpdate, button_message, chat_of, message_of, query_of, user_of

DRIVER = User(id=7, first_name="Ada", is_bot=False)
CHAT = Chat(id=7, type=Chat.PRIVATE)


def _message() -> Message:
    return Message(message_id=5, date=datetime(2026, 1, 1, tzinfo=UTC), chat=CHAT, from_user=DRIVER, text="Portland")


def test_a_message_update_gives_its_message_user_and_chat() -> None:
    message = _message()
    update = Update(update_id=1, message=message)
    assert message_of(update) is message
    assert user_of(update) is DRIVER
    assert chat_of(update) is CHAT


@pytest.mark.parametrize("part", [message_of, user_of, chat_of, query_of])
def test_an_update_without_the_part_is_refused_by_name(part) -> None:
    with pytest.raises(UnusableUpdate, match="update 42"):
        part(Update(update_id=42))


def test_unusable_update_is_one_of_the_bots_own_errors() -> None:
    assert issubclass(UnusableUpdate, OcmBotError)


def test_a_button_on_a_message_telegram_no_longer_shares_has_no_message_to_edit() -> None:
    # Telegram sends an InaccessibleMessage for a button on a message older than 48 hours.
    old = CallbackQuery("q1", DRIVER, "ci", message=InaccessibleMessage(CHAT, 5), data="x")
    current = CallbackQuery("q2", DRIVER, "ci", message=_message(), data="x")
    assert button_message(old) is None
    assert button_message(current) is current.message
    assert query_of(Update(update_id=3, callback_query=current)) is current


async def test_a_button_replayed_on_a_message_without_text_redraws_nothing_and_raises_nothing():
    """Found by the fuzzer: a settings button's data pressed on the bot's venue message."""
    from telegram.error import BadRequest

    from ocm_bot.handlers.common import edit_unless_not_modified

    async def edit_a_venue(**fields):
        raise BadRequest("Bad Request: there is no text in the message to edit")

    async def edit_a_deleted_message(**fields):
        raise BadRequest("Bad Request: message to edit not found")

    assert await edit_unless_not_modified(edit_a_venue, text="menu") is None
    with pytest.raises(BadRequest):
        await edit_unless_not_modified(edit_a_deleted_message, text="menu")
