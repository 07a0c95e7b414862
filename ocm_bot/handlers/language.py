"""/language: the language menu of /settings on its own (private chats only)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from ocm_bot.context import BotContext
from ocm_bot.handlers.common import load_preferences, message_of, private_or_explain, user_data_of
from ocm_bot.handlers.preferences import AWAITING_OPERATOR, menu_context, send_view
from ocm_bot.views.preferences import Screen, render


async def choose_language(update: Update, context: BotContext) -> None:
    """Show the language menu of /settings on its own."""
    if not await private_or_explain(update, context, "/language"):
        return
    _, prefs = await load_preferences(update, context)
    user_data_of(context).pop(AWAITING_OPERATOR, None)
    await send_view(message_of(update), render(Screen.LANGUAGE, await menu_context(update, context, prefs)))


def handlers() -> list[BaseHandler]:
    return [CommandHandler("language", choose_language)]
