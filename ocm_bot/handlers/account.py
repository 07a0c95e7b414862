"""/language (a shortcut to the language menu), /forget (delete everything about the driver) and
/privacy (what is stored). Personal commands answer in private chats only."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType, ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from ocm_bot.context import BotContext
from ocm_bot.handlers.common import load_preferences, translator_for
from ocm_bot.handlers.settings import AWAITING_OPERATOR, edit_view, menu_context, send_view
from ocm_bot.views.callbacks import InvalidCallback, action_pattern
from ocm_bot.views.settings import (
    ACCOUNT_ACTION,
    AccountChoice,
    Screen,
    forget_button_expired,
    forget_confirmation,
    forgotten,
    nothing_deleted,
    privacy_text,
    private_chat_only,
    read_account_button,
    render,
)

log = logging.getLogger(__name__)


async def choose_language(update: Update, context: BotContext) -> None:
    """Show the language menu of /settings on its own."""
    if not await _private_or_explain(update, context, "/language"):
        return
    _, prefs = await load_preferences(update, context)
    context.user_data.pop(AWAITING_OPERATOR, None)
    await send_view(update.effective_message, render(Screen.LANGUAGE, await menu_context(update, context, prefs)))


async def ask_to_forget(update: Update, context: BotContext) -> None:
    """Ask the driver to confirm that everything stored about them should go."""
    if not await _private_or_explain(update, context, "/forget"):
        return
    t = await translator_for(update, context)
    await send_view(update.effective_message, forget_confirmation(t, context.services.callbacks))


async def on_forget_button(update: Update, context: BotContext) -> None:
    """Delete everything about the driver (confirmed), or nothing (cancelled)."""
    query, user = update.callback_query, update.effective_user
    try:
        choice = read_account_button(context.services.callbacks.decode(query.data))
    except InvalidCallback as error:
        log.info("account button refused: %s", error)
        await query.answer(forget_button_expired(await translator_for(update, context)))
        return
    if choice is AccountChoice.FORGET:
        await context.services.storage.forget_user(user.id)
        # The in-memory copies go too, or persistence would write them back.
        context.application.drop_user_data(user.id)
        if update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE:
            context.application.drop_chat_data(update.effective_chat.id)
    t = await translator_for(update, context)
    await query.answer()
    await edit_view(query.edit_message_text, forgotten(t) if choice is AccountChoice.FORGET else nothing_deleted(t))


async def show_privacy(update: Update, context: BotContext) -> None:
    """Say what the bot stores about a driver and how to delete it."""
    t = await translator_for(update, context)
    await update.effective_message.reply_text(privacy_text(t), parse_mode=ParseMode.HTML)


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("language", choose_language),
        CommandHandler("forget", ask_to_forget),
        CommandHandler("privacy", show_privacy),
        CallbackQueryHandler(on_forget_button, pattern=action_pattern(ACCOUNT_ACTION)),
    ]


async def _private_or_explain(update: Update, context: BotContext, command: str) -> bool:
    if update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE:
        return True
    t = await translator_for(update, context)
    await update.effective_message.reply_text(private_chat_only(t, command), parse_mode=ParseMode.HTML)
    return False
