"""/privacy (what the bot stores about a driver) and /forget (delete all of it, after a confirmation).
/forget answers in private chats only."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from ocm_bot.context import BotContext
from ocm_bot.domain.announcements import AnnouncementQueue
from ocm_bot.handlers.common import (
    chat_of,
    is_private,
    message_of,
    private_or_explain,
    query_of,
    translator_for,
    user_of,
)
from ocm_bot.handlers.preferences import edit_view, send_view
from ocm_bot.views.callbacks import InvalidCallback, action_pattern
from ocm_bot.views.preferences import (
    ACCOUNT_ACTION,
    AccountChoice,
    forget_button_expired,
    forget_confirmation,
    forgotten,
    nothing_deleted,
    privacy_text,
    read_account_button,
)

log = logging.getLogger(__name__)


async def ask_to_forget(update: Update, context: BotContext) -> None:
    """Ask the driver to confirm that everything stored about them should go."""
    if not await private_or_explain(update, context, "/forget"):
        return
    t = await translator_for(update, context)
    await send_view(message_of(update), forget_confirmation(t, context.services.callbacks))


async def on_forget_button(update: Update, context: BotContext) -> None:
    """Delete everything about the driver (confirmed), or nothing (cancelled)."""
    query, user = query_of(update), user_of(update)
    try:
        choice = read_account_button(context.services.callbacks.decode(query.data))
    except InvalidCallback as error:
        log.info("account button refused: %s", error)
        await query.answer(forget_button_expired(await translator_for(update, context)))
        return
    if choice is AccountChoice.FORGET:
        await context.services.photos.forget(user.id)  # kept images first: forget_user drops their queue entries
        await context.services.storage.forget_user(user.id)
        await AnnouncementQueue(context.services.storage).done(user.id)  # alerts still waiting to be sent
        # The in-memory copies go too, or persistence would write them back.
        context.application.drop_user_data(user.id)
        if is_private(update):
            context.application.drop_chat_data(chat_of(update).id)
    t = await translator_for(update, context)
    await query.answer()
    await edit_view(query.edit_message_text, forgotten(t) if choice is AccountChoice.FORGET else nothing_deleted(t))


async def show_privacy(update: Update, context: BotContext) -> None:
    """Say what the bot stores about a driver and how to delete it."""
    t = await translator_for(update, context)
    await message_of(update).reply_text(privacy_text(t).text, parse_mode=ParseMode.HTML)


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("forget", ask_to_forget),
        CommandHandler("privacy", show_privacy),
        CallbackQueryHandler(on_forget_button, pattern=action_pattern(ACCOUNT_ACTION)),
    ]
