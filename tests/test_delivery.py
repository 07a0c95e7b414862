"""The update types the bot asks Telegram for are computed from its handlers; the derived webhook secret."""

from __future__ import annotations

import re

import pytest
from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    ChosenInlineResultHandler,
    CommandHandler,
    ConversationHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from ocm_bot.app import build_application
from ocm_bot.delivery import derived_webhook_secret, handled_update_types
from ocm_bot.settings import Secret, Settings, SettingsError

TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"


async def nothing(update: object, context: object) -> None:
    return None


def application_with(*handlers) -> Application:
    application = Application.builder().token(TOKEN).updater(None).build()
    application.add_handlers(list(handlers))
    return application


def every_handler(application: Application) -> list:
    found = []
    pending = [handler for group in application.handlers.values() for handler in group]
    while pending:
        handler = pending.pop()
        found.append(handler)
        if isinstance(handler, ConversationHandler):
            pending += [*handler.entry_points, *handler.fallbacks]
            pending += [inner for state in handler.states.values() for inner in state]
    return found


def test_the_bot_asks_for_messages_edits_buttons_and_its_membership_and_nothing_it_has_no_handler_for():
    application = build_application(Settings(telegram_bot_token=Secret(TOKEN)))
    wanted = handled_update_types(application)
    assert {"message", "edited_message", "callback_query", "my_chat_member"} <= set(wanted)
    handlers = every_handler(application)
    # Inline queries, chosen inline results and guest messages only once a feature registers a handler for them.
    assert ("inline_query" in wanted) == any(isinstance(h, InlineQueryHandler) for h in handlers)
    assert ("chosen_inline_result" in wanted) == any(isinstance(h, ChosenInlineResultHandler) for h in handlers)
    guest_filter = re.compile(r"UpdateType\.GUEST_MESSAGE")
    assert ("guest_message" in wanted) == any(guest_filter.search(repr(getattr(h, "filters", ""))) for h in handlers)
    assert {"chat_member", "poll", "channel_post", "business_message", "message_reaction"} & set(wanted) == set()
    assert len(wanted) < len(Update.ALL_TYPES)  # no handler of a kind the computation does not know


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (InlineQueryHandler(nothing), ["inline_query"]),
        (ChosenInlineResultHandler(nothing), ["chosen_inline_result"]),
        (MessageHandler(filters.UpdateType.GUEST_MESSAGE, nothing), ["guest_message"]),
        (MessageHandler(filters.TEXT & ~filters.COMMAND, nothing), ["message", "edited_message"]),
        (MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.LOCATION, nothing), ["edited_message"]),
        (MessageHandler(~filters.UpdateType.EDITED_MESSAGE & filters.TEXT, nothing), ["message"]),
        (
            MessageHandler(filters.UpdateType.CHANNEL_POST | filters.UpdateType.MESSAGE, nothing),
            ["message", "channel_post"],
        ),
        (CommandHandler("start", nothing), ["message", "edited_message"]),
        (CallbackQueryHandler(nothing, pattern="^x"), ["callback_query"]),
        (ChatMemberHandler(nothing), ["my_chat_member"]),
        (ChatMemberHandler(nothing, ChatMemberHandler.ANY_CHAT_MEMBER), ["my_chat_member", "chat_member"]),
        (TypeHandler(Update, nothing), [str(kind) for kind in Update.ALL_TYPES]),
        (TypeHandler(dict, nothing), []),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_handler_subscribes_the_update_types_it_takes(handler, expected):
    assert handled_update_types(application_with(handler)) == expected


def test_a_conversation_subscribes_its_steps_but_not_its_timeout():
    conversation = ConversationHandler(
        entry_points=[CommandHandler("checkin", nothing)],
        states={
            1: [CallbackQueryHandler(nothing)],
            ConversationHandler.TIMEOUT: [TypeHandler(Update, nothing)],  # run by a timer, not by Telegram
        },
        fallbacks=[MessageHandler(filters.UpdateType.EDITED_MESSAGE, nothing)],
    )
    assert handled_update_types(application_with(conversation)) == ["message", "edited_message", "callback_query"]


def test_the_derived_webhook_secret_is_stable_per_token_telegram_accepts_it_and_it_hides_the_token():
    secret = derived_webhook_secret(TOKEN)
    assert secret == derived_webhook_secret(TOKEN)  # every instance of the bot agrees
    assert secret != derived_webhook_secret("123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdeg")
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret) and len(secret) >= 40
    assert TOKEN.split(":")[1][:8] not in secret


def test_take_over_webhook_is_off_unless_said_and_a_typo_is_named():
    assert Settings.from_env({}).take_over_webhook is False
    assert Settings.from_env({"TAKE_OVER_WEBHOOK": "1"}).take_over_webhook is True
    assert Settings.from_env({"TAKE_OVER_WEBHOOK": "no"}).take_over_webhook is False
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"TAKE_OVER_WEBHOOK": "please"})
    assert "TAKE_OVER_WEBHOOK" in caught.value.problems[0]
