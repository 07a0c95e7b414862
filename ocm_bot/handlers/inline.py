"""Inline mode: "@bot <place or address>" in any chat answers with the nearest chargers.

An empty query with the person's location (BotFather's inline location) answers near them; an
empty query without one, a place that is not found, or OCM or Nominatim failing answer with no
results and an "Open the bot" button that says why. Short queries and queries superseded while
the person types are never looked up (:mod:`ocm_bot.domain.inline`); answers are cached by
Telegram (``cache_time``, personal: they follow the driver's filters, unit and language) and by
:class:`~ocm_bot.domain.inline.InlineSearch`.
"""

from __future__ import annotations

import logging

from telegram import InlineQuery, InlineQueryResultsButton, InlineQueryResultVenue, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, InlineQueryHandler

from ocm_bot.context import BotContext
from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.inline import RESULT_SECONDS, PlaceNotFound, searchable
from ocm_bot.domain.preferences import UserPreferences
from ocm_bot.domain.search import SearchResult
from ocm_bot.geocoding import GeocodingError
from ocm_bot.handlers import answers
from ocm_bot.handlers.common import UnusableUpdate
from ocm_bot.i18n import Translator
from ocm_bot.ocm.errors import OcmError
from ocm_bot.views.inline import (
    geocoder_down_text,
    no_chargers_text,
    no_place_text,
    ocm_down_text,
    open_bot_button,
    search_limit_notice,
    type_a_place_text,
    venue_results,
)

log = logging.getLogger(__name__)

NOTICE_CACHE_SECONDS = 5
"""An answer without results is cached briefly: OCM may be back, the person may type on."""


async def on_inline_query(update: Update, context: BotContext) -> None:
    """An inline query: venue results near the typed place or the person's location."""
    query = _inline_query_of(update)
    t, prefs = await answers.driver(update, context)
    text, inline = query.query.strip(), context.services.inline
    if (not text and query.location is None) or (text and not searchable(text)):
        await _notice(query, type_a_place_text(t))
        return
    typing = text and inline.cached_place(text, prefs) is None  # cached answers need no wait
    if typing and not await inline.debouncer.settle(query.from_user.id, update.update_id):
        return  # a newer query of the same person is answered instead; Telegram drops this one
    wait = context.services.search_limit.check(query.from_user.id) if typing or not text else None
    if wait is not None:
        await _notice(query, search_limit_notice(t, wait))
        return
    found = await _look_up(query, context, t, prefs, text)
    if isinstance(found, str):
        await _notice(query, found)
        return
    await _answer_results(query, context, t, found)


async def _look_up(
    query: InlineQuery, context: BotContext, t: Translator, prefs: UserPreferences, text: str
) -> SearchResult | str:
    """The result near the typed place or the person's location, or the notice that says why there is none."""
    inline, owner = context.services.inline, query.from_user.id
    try:
        if not text and query.location is not None:
            point = GeoPoint(query.location.latitude, query.location.longitude)
            return await inline.near_point(point, prefs, owner=owner)
        found = await inline.near_place(text, prefs, language=t.language, owner=owner)
    except OcmError as error:
        log.warning("Open Charge Map request failed for an inline query: %r", error)
        return ocm_down_text(t)
    except GeocodingError as error:
        log.warning("geocoding failed for an inline query: %r", error)
        return geocoder_down_text(t)
    return no_place_text(t, text) if isinstance(found, PlaceNotFound) else found


async def _answer_results(query: InlineQuery, context: BotContext, t: Translator, result: SearchResult) -> None:
    if not result.hits:
        await _notice(query, no_chargers_text(t))
        return
    page = int(query.offset) if query.offset.isdigit() and len(query.offset) < 4 else 0
    results, next_offset = venue_results(t, result, page, bot_username=context.bot.username, now=answers.now())
    await _answer(query, results, cache_time=int(RESULT_SECONDS), next_offset=next_offset)


async def _notice(query: InlineQuery, text: str) -> None:
    await _answer(query, [], cache_time=NOTICE_CACHE_SECONDS, button=open_bot_button(text))


async def _answer(
    query: InlineQuery,
    results: list[InlineQueryResultVenue],
    *,
    cache_time: int,
    button: InlineQueryResultsButton | None = None,
    next_offset: str | None = None,
) -> None:
    try:
        await query.answer(results, cache_time=cache_time, is_personal=True, next_offset=next_offset, button=button)
    except BadRequest as error:  # "query is too old": the person moved on
        log.info("an inline answer was refused: %s", error)


def _inline_query_of(update: Update) -> InlineQuery:
    if update.inline_query is None:
        raise UnusableUpdate(f"update {update.update_id} is no inline query")
    return update.inline_query


def handlers() -> list[BaseHandler]:
    return [InlineQueryHandler(on_inline_query)]
