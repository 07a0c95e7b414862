"""Guest mode (Bot API 10.0): "@bot CCS near Leeds" in a chat the bot has not joined.

Telegram sends such a message as a ``guest_message`` update carrying a ``guest_query_id``; the bot
answers it once with ``answerGuestQuery`` and one inline result, which Telegram posts in that
chat. The answer lists the nearest chargers with the same buttons as inline mode
(:mod:`ocm_bot.views.inline`), found through the same cached search
(:class:`~ocm_bot.domain.inline.InlineSearch`). An optional plug or power hint before "near" narrows
the caller's own filters. Guest messages are handled here only (an earlier handler group, which
stops there), so no private-chat feature mistakes one for its input.
"""

from __future__ import annotations

import logging

from telegram import InlineQueryResultArticle, Message, Update
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop, BaseHandler, MessageHandler, filters

from ocm_bot.context import BotContext
from ocm_bot.domain.inline import PlaceNotFound, connector_ids_for, parse_guest_request, searchable
from ocm_bot.geocoding import GeocodingError
from ocm_bot.handlers import answers
from ocm_bot.handlers.common import UnusableUpdate, user_of
from ocm_bot.ocm.errors import OcmError
from ocm_bot.views.inline import (
    guest_failure_text,
    guest_notice_article,
    guest_place_not_found_text,
    guest_results_article,
    guest_usage_text,
    search_limit_notice,
)

log = logging.getLogger(__name__)


async def on_guest_message(update: Update, context: BotContext) -> None:
    """A guest message: one answer with the chargers near the place it names."""
    message = _guest_message_of(update)
    t, prefs = await answers.driver(update, context)
    bot_username = context.bot.username
    request = parse_guest_request(message.text or "", bot_username)
    if not searchable(request.place):
        await _answer(message, guest_notice_article(t, guest_usage_text(t, bot_username), bot_username))
        raise ApplicationHandlerStop
    reference = await answers.reference(context)
    titles = {i: c.title for i, c in reference.connection_types.items() if c.title} if reference else {}
    prefs = request.preferences(prefs, connector_ids_for(request.plug_words, titles))
    wait = context.services.search_limit.check(user_of(update).id)
    if wait is not None:
        await _answer(message, guest_notice_article(t, search_limit_notice(t, wait), bot_username))
        raise ApplicationHandlerStop
    try:
        found = await context.services.inline.near_place(
            request.place, prefs, language=t.language, owner=user_of(update).id
        )
    except (OcmError, GeocodingError) as error:
        log.warning("a guest query could not be answered: %r", error)
        await _answer(message, guest_notice_article(t, guest_failure_text(t), bot_username))
        raise ApplicationHandlerStop from None
    if isinstance(found, PlaceNotFound):
        result = guest_notice_article(t, guest_place_not_found_text(t, request.place), bot_username)
    else:
        result = guest_results_article(t, found, bot_username=bot_username, now=answers.now())
    await _answer(message, result)
    raise ApplicationHandlerStop


async def _answer(message: Message, result: InlineQueryResultArticle) -> None:
    if message.guest_query_id is None:
        raise UnusableUpdate(f"guest message {message.message_id} has no guest_query_id")
    try:
        await message.get_bot().answer_guest_query(message.guest_query_id, result)
    except BadRequest as error:  # the query expired meanwhile
        log.info("a guest answer was refused: %s", error)


def _guest_message_of(update: Update) -> Message:
    if update.guest_message is None:
        raise UnusableUpdate(f"update {update.update_id} is no guest message")
    return update.guest_message


def handlers() -> list[BaseHandler]:
    return [MessageHandler(filters.UpdateType.GUEST_MESSAGE, on_guest_message)]
