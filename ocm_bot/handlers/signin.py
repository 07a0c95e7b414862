"""Signing in to Open Charge Map (/login: e-mail, then password) and out (/logout).

The sign-in's step is stored before its prompt is shown, as a check-in draft's is, and the
conversation reads its state from that record on every update (_stored_step; at start too,
restored_conversations): states kept in one process's memory, or written once a second, would let
a kill -9 just after "your password?", or a password sent to another instance behind the webhook,
go to the place search.
The record is the sign-in conversation's own row; it lives for LOGIN_TIMEOUT, and the e-mail in it
is encrypted with STORAGE_SECRET (without one there is no sign-in) and bound to the driver.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import time
from datetime import timedelta
from typing import NamedTuple

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import BaseHandler, CommandHandler, ConversationHandler, MessageHandler, TypeHandler, filters

from ocm_bot.context import BotContext
from ocm_bot.domain.accounts import SignInDisabled, looks_like_email
from ocm_bot.handlers.checkin import reshow_open_summary
from ocm_bot.handlers.common import handled, is_private, translator_for
from ocm_bot.handlers.conversation import ConversationKey, StoredConversationHandler
from ocm_bot.handlers.outbox import deliver_outbox
from ocm_bot.ocm.errors import OcmAuthError, OcmError
from ocm_bot.storage.base import JSON, Storage
from ocm_bot.storage.persistence import StatesFromStorage
from ocm_bot.storage.tokens import TokenCipher
from ocm_bot.views import signin as views
from ocm_bot.views.common import ocm_error_text

log = logging.getLogger(__name__)

LOGIN_CONVERSATION = "login"
LOGIN_TIMEOUT = timedelta(minutes=5)
# A sign-in whose minutes ran out while the bot was down still takes the next text as a password that
# came too late (deleted, never searched as a place) for as long as Telegram keeps pending updates.
LATE_PASSWORD_WINDOW = timedelta(hours=24)
END = ConversationHandler.END


class LoginState(enum.StrEnum):
    EMAIL = "email"
    PASSWORD = "password"


class _Driver(NamedTuple):
    """Whose sign-in an update is: ConversationHandler's key is (chat, user)."""

    chat_id: int
    user_id: int

    @property
    def key(self) -> list[int | str]:
        return [self.chat_id, self.user_id]


def _driver(update: Update) -> _Driver | None:
    if update.effective_chat is None or update.effective_user is None:
        return None
    return _Driver(update.effective_chat.id, update.effective_user.id)


async def login_start(update: Update, context: BotContext) -> object:
    """/login: private chats only; asks for the OCM e-mail."""
    message, driver = update.effective_message, _driver(update)
    if message is None or driver is None:
        return END
    t = await translator_for(update, context)
    if not is_private(update):
        await message.reply_text(views.login_private_only_text(t))
        return END
    service = context.services.checkin
    if service is None or not service.accounts.enabled:
        await message.reply_text(views.login_disabled_text(t))
        return END
    await _save_sign_in(context, driver, LoginState.EMAIL)  # before the prompt: see _save_sign_in
    await message.reply_text(views.ask_email_text(t))
    return LoginState.EMAIL


async def login_email(update: Update, context: BotContext) -> object:
    """The e-mail: kept, encrypted, for the minutes of the sign-in, until the password arrives."""
    message, driver = update.effective_message, _driver(update)
    if message is None or driver is None:
        return None
    t = await translator_for(update, context)
    text = (message.text or "").strip()
    if not looks_like_email(text):
        # It might be the password typed first: it must not stay in the chat either.
        with contextlib.suppress(TelegramError):
            await message.delete()
        await _save_sign_in(context, driver, LoginState.EMAIL)  # its minutes start again, on every instance
        await context.bot.send_message(driver.chat_id, views.not_an_email_text(t))
        return LoginState.EMAIL
    await _save_sign_in(context, driver, LoginState.PASSWORD, email=text)
    await message.reply_text(views.ask_password_text(t))
    return LoginState.PASSWORD


async def login_password(update: Update, context: BotContext) -> object:
    """The password: deleted from the chat at once, sent to OCM once, never stored or logged."""
    message, driver = update.effective_message, _driver(update)
    if message is None or driver is None:
        return None
    t = await translator_for(update, context)
    password = message.text or ""
    with contextlib.suppress(TelegramError):
        await message.delete()
    chat_id, user_id = driver
    late = await _sign_in_ran_out_while_away(context, driver)
    email = await _pending_email(context, driver)
    await _end_sign_in(context, driver)
    service = context.services.checkin
    if late:
        await context.bot.send_message(chat_id, views.login_too_late_text(t))
        return END
    if email is None or service is None:  # the sign-in's few minutes are over (or its secret changed)
        await context.bot.send_message(chat_id, views.login_failed_text(t))
        return END
    try:
        username = await service.accounts.sign_in(user_id, email, password)
    except SignInDisabled:
        await context.bot.send_message(chat_id, views.login_disabled_text(t))
        return END
    except OcmAuthError as error:
        refused = error.is_user_token
        reason = views.wrong_password_text(t) if refused else views.login_failed_text(t, ocm_error_text(t, error))
        await context.bot.send_message(chat_id, reason)
        return END
    except OcmError as error:
        await context.bot.send_message(chat_id, views.login_failed_text(t, ocm_error_text(t, error)))
        return END
    resumed = await service.outbox.resume_after_sign_in(user_id)
    await context.bot.send_message(chat_id, views.signed_in_text(t, username, resumed).text, parse_mode=ParseMode.HTML)
    if resumed:
        context.application.create_task(deliver_outbox(context.application), update=update)
    await reshow_open_summary(update, context, service, t)
    return END


async def login_cancel(update: Update, context: BotContext) -> object:
    message, driver = update.effective_message, _driver(update)
    if message is None or driver is None:
        return END
    await _end_sign_in(context, driver)
    t = await translator_for(update, context)
    await message.reply_text(views.login_cancelled_text(t))
    return END


async def login_timeout(update: Update, context: BotContext) -> None:
    """The sign-in's minutes are over: its record goes, and the driver is told.

    Unless another instance took a later step (its record is younger): that instance's timeout counts.
    """
    driver = _driver(update)
    if driver is None:
        return
    if await _stored_step(context, tuple(driver.key)) is not None:
        return  # taken on since, on another instance
    await _end_sign_in(context, driver)
    t = await translator_for(update, context)
    with contextlib.suppress(Forbidden):
        await context.bot.send_message(driver.chat_id, views.login_timed_out_text(t))


def _email_cipher(context: BotContext) -> TokenCipher | None:
    secret = context.services.settings.storage_secret
    return TokenCipher(secret.get()) if secret is not None and secret.get() else None


async def _save_sign_in(context: BotContext, driver: _Driver, step: LoginState, email: str | None = None) -> None:
    record: dict[str, JSON] = {"step": step.value, "until": time.time() + LOGIN_TIMEOUT.total_seconds()}
    cipher = _email_cipher(context)
    if email is not None and cipher is not None:
        record["email"] = cipher.encrypt(driver.user_id, email)
    await context.services.storage.save_conversation(LOGIN_CONVERSATION, driver.key, record)


async def _end_sign_in(context: BotContext, driver: _Driver) -> None:
    if context.services.storage is not None:
        await context.services.storage.save_conversation(LOGIN_CONVERSATION, driver.key, None)


async def _pending_email(context: BotContext, driver: _Driver) -> str | None:
    """The e-mail typed at this sign-in; None once its minutes are over."""
    cipher = _email_cipher(context)
    if context.services.storage is None or cipher is None:
        return None
    for stored_key, record in await context.services.storage.load_conversations(LOGIN_CONVERSATION):
        if stored_key == driver.key and _live_sign_in_step(record) is LoginState.PASSWORD:
            email = record.get("email")
            return cipher.decrypt(driver.user_id, email) if isinstance(email, str) else None
    return None


async def sign_in_under_way(update: Update, context: BotContext) -> bool:
    """Whether the driver is in the middle of a sign-in (their next text is an e-mail or a password):
    other features' awaited text (a photo's caption) leaves such text alone."""
    driver = _driver(update)
    if driver is None or context.services.storage is None:
        return False
    for stored_key, record in await context.services.storage.load_conversations(LOGIN_CONVERSATION):
        if stored_key == driver.key and _live_sign_in_step(record) is not None:
            return True
    return False


async def _sign_in_ran_out_while_away(context: BotContext, driver: _Driver) -> bool:
    if context.services.storage is None:
        return False
    for stored_key, record in await context.services.storage.load_conversations(LOGIN_CONVERSATION):
        if stored_key == driver.key:
            return isinstance(record, dict) and bool(record.get("late"))
    return False


def _live_sign_in_step(record: JSON) -> LoginState | None:
    if not isinstance(record, dict):
        return None
    until, step = record.get("until"), record.get("step")
    if not isinstance(until, int | float) or not isinstance(step, str):
        return None
    if record.get("late") and step == LoginState.PASSWORD.value:
        # Ran out while the bot was down: the next text is taken as a password, and refused.
        return LoginState.PASSWORD if time.time() < until + LATE_PASSWORD_WINDOW.total_seconds() else None
    if until <= time.time():
        return None
    try:
        return LoginState(step)
    except ValueError:
        return None


def _ran_out_at_the_password(record: JSON) -> bool:
    return (
        isinstance(record, dict)
        and record.get("step") == LoginState.PASSWORD.value
        and isinstance(record.get("until"), int | float)
        and not record.get("late")
    )


async def _stored_step(context: BotContext, key: ConversationKey) -> LoginState | None:
    """The step of the driver's sign-in in this chat while it is within its minutes."""
    if context.services.storage is None:
        return None
    for stored_key, record in await context.services.storage.load_conversations(LOGIN_CONVERSATION):
        if tuple(stored_key) == key:
            return _live_sign_in_step(record)
    return None


async def _states_from_sign_ins(storage: Storage) -> dict[ConversationKey, object]:
    """Every sign-in still within its minutes, at its stored step; the others' records are deleted.

    A sign-in that ran out at the password step while the bot was down was never told it timed out,
    so the driver may have typed the password meanwhile: it is kept as ``late`` (without its e-mail)
    and the next text is deleted and refused instead of being searched as a place.
    """
    states: dict[ConversationKey, object] = {}
    for key, record in await storage.load_conversations(LOGIN_CONVERSATION):
        step = _live_sign_in_step(record)
        if step is None and _ran_out_at_the_password(record):
            late: dict[str, JSON] = {"step": LoginState.PASSWORD.value, "until": record["until"], "late": True}
            await storage.save_conversation(LOGIN_CONVERSATION, key, late)
            step = _live_sign_in_step(late)
        if step is None:
            await storage.save_conversation(LOGIN_CONVERSATION, key, None)
        else:
            states[tuple(key)] = step
    return states


async def logout(update: Update, context: BotContext) -> None:
    """/logout: forget the driver's OCM sign-in."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    t = await translator_for(update, context)
    service = context.services.checkin
    was_signed_in = await service.accounts.sign_out(user.id) if service is not None else False
    await message.reply_text(views.signed_out_text(t, was_signed_in))


def login_conversation() -> StoredConversationHandler:
    text = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE
    return StoredConversationHandler(
        entry_points=[CommandHandler("login", handled(login_start))],
        states={
            LoginState.EMAIL: [MessageHandler(text, handled(login_email))],
            LoginState.PASSWORD: [MessageHandler(text, handled(login_password))],
            ConversationHandler.TIMEOUT: [TypeHandler(Update, login_timeout)],
        },
        fallbacks=[CommandHandler("cancel", handled(login_cancel))],
        conversation_timeout=LOGIN_TIMEOUT,
        name=LOGIN_CONVERSATION,
        # A password typed after a restart, or to another instance, is still taken (and deleted) as
        # one, never searched as a place: the step is read from the sign-in's own record (_save_sign_in).
        stored_step=_stored_step,
    )


def priority_handlers() -> list[BaseHandler]:
    """The sign-in conversation, in a group before the check-in's (app.feature_modules order).

    A typed e-mail or password must reach it, never the check-in (as a comment) or the search (as a
    place). Each handler stops the update (ApplicationHandlerStop) only when it used it.
    """
    return [login_conversation()]


def handlers() -> list[BaseHandler]:
    return [CommandHandler("logout", handled(logout))]


def restored_conversations() -> dict[str, StatesFromStorage]:
    """After a restart a sign-in goes on at its stored step (see _save_sign_in)."""
    return {LOGIN_CONVERSATION: _states_from_sign_ins}
