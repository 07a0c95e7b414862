"""➕ Charger not listed? under results and details: OCM's add-a-charger page (:mod:`ocm_bot.views.missing`)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from ocm_bot.context import BotContext
from ocm_bot.handlers import answers
from ocm_bot.handlers.common import answer_query, query_of
from ocm_bot.views.callbacks import action_pattern
from ocm_bot.views.missing import NOT_LISTED, not_listed_view


async def on_not_listed(update: Update, context: BotContext) -> None:
    """The page, what OCM asks for, and the position the button carries."""
    button = await answers.button_with_args(update, context, 2)
    if button is None:
        return
    try:
        latitude, longitude = float(button.args[0]), float(button.args[1])
    except ValueError:
        await answers.expired(update, context)
        return
    t, _ = await answers.driver(update, context)
    await answer_query(query_of(update))
    await answers.reply(update, not_listed_view(t, latitude, longitude))


def handlers() -> list[BaseHandler]:
    return [CallbackQueryHandler(on_not_listed, pattern=action_pattern(NOT_LISTED))]
