"""Small helpers every handler module shares: the parts of an update a handler needs, the user's
translator and preferences, private chats, edits that may change nothing, button answers and stopping
an update once it is used."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from typing import Any

from telegram import CallbackQuery, Chat, Message, Update, User
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop

from ocm_bot.context import BotContext, Services
from ocm_bot.domain.group_preferences import chat_language_choice, group_preferences
from ocm_bot.domain.preferences import UserPreferences
from ocm_bot.errors import OcmBotError
from ocm_bot.i18n import Translator, negotiate_language, translator
from ocm_bot.views.preferences import private_chat_only

log = logging.getLogger(__name__)


class UnusableUpdate(OcmBotError):
    """An update without the part its handler is registered for (a message, a user, a button).

    The handlers' filters let no such update through (a command or a location comes in a message
    from a user, a button tap is a callback query); should one arrive anyway (a new kind of update, a
    filter changed), the handler stops at once, naming what was missing, and the application's error
    handler logs it instead of the handler failing half-way on ``None``.
    """


def message_of(update: Update) -> Message:
    """The message a command, text, location or button came with."""
    if update.effective_message is None:
        raise UnusableUpdate(f"update {update.update_id} has no message")
    return update.effective_message


def user_of(update: Update) -> User:
    """The user who sent the update."""
    if update.effective_user is None:
        raise UnusableUpdate(f"update {update.update_id} has no user")
    return update.effective_user


def chat_of(update: Update) -> Chat:
    """The chat the update came from."""
    if update.effective_chat is None:
        raise UnusableUpdate(f"update {update.update_id} has no chat")
    return update.effective_chat


def query_of(update: Update) -> CallbackQuery:
    """The button tap of an update handled by a ``CallbackQueryHandler``."""
    if update.callback_query is None:
        raise UnusableUpdate(f"update {update.update_id} is no button tap")
    return update.callback_query


def button_message(query: CallbackQuery) -> Message | None:
    """The message a tapped button is on; None when Telegram no longer shares it (older than 48 hours)."""
    return query.message if isinstance(query.message, Message) else None


def user_data_of(context: BotContext) -> dict[Any, Any]:
    """The user's ``user_data`` (python-telegram-bot has one for every update with a user)."""
    if context.user_data is None:
        raise UnusableUpdate("the update has no user, so no user_data")
    return context.user_data


async def preferences_for(update: Update, context: BotContext) -> UserPreferences:
    """The saved preferences of the update's user; in a group, the group's (chosen by its admins)."""
    if is_group(update):
        return await group_preferences(context.services.storage, chat_of(update).id)
    _, prefs = await load_preferences(update, context)
    return prefs


async def load_preferences(update: Update, context: BotContext) -> tuple[dict[str, Any], UserPreferences]:
    """The user's stored document (other features may keep keys there too) and their preferences."""
    user, storage = update.effective_user, context.services.storage
    document = (await storage.get_user(user.id) or {}) if user is not None and storage is not None else {}
    return document, UserPreferences.from_dict(document)


async def save_preferences(context: BotContext, user_id: int, document: dict[str, Any], prefs: UserPreferences) -> None:
    """Save ``prefs`` into the user's document, keeping whatever else is stored there."""
    storage = context.services.storage
    if storage is None:
        raise RuntimeError("settings cannot be saved: storage is not configured")
    await storage.save_user(user_id, {**document, **prefs.to_dict()})


async def translator_for(update: Update, context: BotContext) -> Translator:
    """The translator for the update's user: saved override, Telegram language, bot default."""
    return driver_translator(update, context, await preferences_for(update, context))


def driver_translator(update: Update, context: BotContext, prefs: UserPreferences) -> Translator:
    """The translator for ``prefs`` (just read or just changed), without reading storage again.

    In a group ``prefs`` are the group's: it is spoken to in its admins' choice, else the bot's
    default, never in the language of whoever wrote last.
    """
    user = update.effective_user if not is_group(update) else None
    language = negotiate_language(
        prefs.language,
        user.language_code if user else None,
        default=context.services.settings.default_language,
    )
    return translator(language)


async def chat_translator(services: Services, chat_id: int) -> Translator:
    """The chat's language, for what the bot says there unasked (announcements, alerts): a group's
    as its admins chose it, a driver's as saved, else the bot's default."""
    language = await chat_language_choice(services.storage, chat_id)
    return translator(negotiate_language(language, default=services.settings.default_language))


def is_group(update: Update) -> bool:
    """The update comes from a group or supergroup (spoken to in the group's language and settings)."""
    return update.effective_chat is not None and update.effective_chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


def is_private(update: Update) -> bool:
    """The update comes from a private chat with the bot (personal commands answer only there)."""
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


async def is_group_admin(
    context: BotContext, chat_id: int, user_id: int | None, message: Message | None = None
) -> bool:
    """The group's creator or an administrator, asked of Telegram now (``getChatMember``); an
    anonymous admin writes as the group itself (``message.sender_chat`` is the group)."""
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat_id
    if user_id is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError as error:
        log.info("getChatMember failed in %s: %s", chat_id, error)
        return False
    return member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


async def private_or_explain(update: Update, context: BotContext, command: str) -> bool:
    """True in a private chat; elsewhere says that ``command`` works in a private chat only."""
    if is_private(update):
        return True
    t = await translator_for(update, context)
    await message_of(update).reply_text(private_chat_only(t, command).text, parse_mode=ParseMode.HTML)
    return False


def is_not_modified(error: BadRequest) -> bool:
    """Telegram's answer to an edit that changes nothing (the current choice tapped again)."""
    # https://core.telegram.org/bots/api#editmessagetext answers 400 "message is not modified"
    return "message is not modified" in error.message.lower()


async def edit_unless_not_modified(edit: Callable[..., Awaitable[object]], **fields: Any) -> object | None:
    """``await edit(**fields)`` (an ``edit_message_text`` or the like); None when it changed nothing.

    "Message is not modified" is no failure, nor is a message without text to redraw (a button's data
    replayed on a venue or a photo); any other ``BadRequest`` (the message is gone or too
    old to edit) is raised for the caller to decide.
    """
    try:
        return await edit(**fields)
    except BadRequest as error:
        if is_not_modified(error):
            return None
        if "no text in the message to edit" in error.message.lower():
            # A button's data replayed on a message without text (a venue, a photo): a forged or
            # foreign tap; the tap was answered, and there is no screen here to redraw.
            log.info("a button pressed on a message without text: nothing to redraw")
            return None
        raise


async def answer_query(query: CallbackQuery, text: str | None = None, **options: Any) -> None:
    """Answer a button tap; a query answered before (a replayed update) or too old is left alone."""
    with contextlib.suppress(BadRequest):
        await query.answer(text, **options)


Callback = Callable[[Update, BotContext], Coroutine[object, object, object]]
"""A handler callback: python-telegram-bot takes coroutine functions."""


def handled(callback: Callback) -> Callback:
    """``callback``, and then no later handler group sees the update.

    An answer in a conversation must not also reach the catch-alls of a later group ("I don't know
    that command", "this button has expired"). Inside a conversation PTB takes the exception's
    state as the new state (ApplicationHandlerStop, python-telegram-bot's documented way to stop
    groups).
    """

    @wraps(callback)
    async def run(update: Update, context: BotContext) -> object:
        raise ApplicationHandlerStop(await callback(update, context))

    return run
