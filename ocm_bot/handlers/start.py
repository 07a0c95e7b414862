"""/start, /help and the catch-all answers for things the bot does not understand."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from ocm_bot.context import BotContext
from ocm_bot.handlers.common import is_group, is_private, message_of, query_of, translator_for
from ocm_bot.views.common import expired_button_text, help_view, location_keyboard, welcome_view
from ocm_bot.views.groups import group_help_view, group_welcome_view


async def start(update: Update, context: BotContext) -> None:
    """Greet the driver and offer the "Send my location" button."""
    t = await translator_for(update, context)
    if is_group(update):  # no "Send my location" keyboard in a group: it would pop up for everyone
        await message_of(update).reply_text(group_welcome_view(t).text, parse_mode=ParseMode.HTML)
        return
    user = update.effective_user
    await message_of(update).reply_text(
        welcome_view(t, user.first_name if user else None).text,
        parse_mode=ParseMode.HTML,
        reply_markup=location_keyboard(t) if is_private(update) else None,
    )


async def show_help(update: Update, context: BotContext) -> None:
    """List what the bot can do."""
    t = await translator_for(update, context)
    view = group_help_view(t) if is_group(update) else help_view(t, context.bot.username)
    await message_of(update).reply_text(view.text, parse_mode=ParseMode.HTML)


async def unknown_command(update: Update, context: BotContext) -> None:
    """Answer a command the bot does not have."""
    t = await translator_for(update, context)
    await message_of(update).reply_text(t.gettext("I don't know that command. /help lists what I can do."))


async def stale_button(update: Update, context: BotContext) -> None:
    """Any button no feature claimed: forged, malformed or from an old message."""
    t = await translator_for(update, context)
    await query_of(update).answer(expired_button_text(t), show_alert=False)


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("start", start),
        CommandHandler("help", show_help),
    ]


def fallback_handlers() -> list[BaseHandler]:
    """Handlers for whatever no feature claimed (registered after every feature's handlers)."""
    return [
        MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, unknown_command),
        CallbackQueryHandler(stale_button),
    ]
