"""Chargers in a town or district: ``/area Leeds`` or "chargers in Leeds" typed in a private chat.

"chargers in <place>" is read in the driver's language (the catalog's translation of the message id
``chargers in {place}``, e.g. "Ladestationen in {place}") and in English; another language's phrase
stays a place name searched nearby, as does a place typed alone.

The place is geocoded with its outline (Nominatim ``polygon_geojson``; its bounding box when it has
none), searched with ONE OCM request (:mod:`ocm_bot.domain.area`) and answered with a summary and
paged cards, the same results message as a nearby search (paging, details and export buttons).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import cache

from telegram import Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from ocm_bot.context import BotContext
from ocm_bot.domain.area import area_of, place_after_phrase, search_in_area
from ocm_bot.geocoding import GeocoderBusy, GeocodingError
from ocm_bot.handlers import answers, search
from ocm_bot.handlers.common import button_message, message_of, query_of
from ocm_bot.i18n import available_languages, translator
from ocm_bot.ocm.errors import OcmError
from ocm_bot.views.area import area_usage_text, chargers_in_phrases, no_area_text
from ocm_bot.views.callbacks import action_pattern
from ocm_bot.views.common import View, retry_keyboard
from ocm_bot.views.results import geocoder_busy_text, geocoder_down_text, place_not_found_text, results_view

log = logging.getLogger(__name__)

RETRY = "ar"
"""``ar|<note id>``: the same area search again (after OCM or Nominatim failed)."""
CHARGERS_IN = re.compile(r"^\s*(?:ev\s+)?(?:chargers?|charging\s+stations?)\s+in\s+(?P<place>\S.*?)\s*[?.!]*\s*$", re.I)
"""English variants that ask for an area besides the catalog's phrase ("EV chargers in", "charging stations in")."""


async def on_area_command(update: Update, context: BotContext) -> None:
    query = " ".join(context.args or ()).strip()
    if not query:
        t, _ = await answers.driver(update, context)
        await answers.reply(update, area_usage_text(t))
        return
    await search_area_named(update, context, query)


async def on_chargers_in(update: Update, context: BotContext) -> None:
    """ "chargers in <place>" in the driver's language or in English; any other text is a nearby search."""
    t, _ = await answers.driver(update, context)
    place = typed_area(message_of(update).text or "", chargers_in_phrases(t))
    if place is None:
        await search.on_text(update, context)  # another language's phrase: a place name as typed
        return
    await search_area_named(update, context, place)


def typed_area(text: str, phrases: Iterable[str]) -> str | None:
    """The place of "chargers in <place>" typed with one of ``phrases`` (or English's variants)."""
    for phrase in phrases:
        if (place := place_after_phrase(text, phrase)) is not None:
            return place
    found = CHARGERS_IN.match(text)
    return found.group("place") if found else None


@cache
def _every_phrase() -> tuple[str, ...]:
    """The area phrase of every language the bot speaks (what the message filter lets through)."""
    return tuple(
        dict.fromkeys(p for language in available_languages() for p in chargers_in_phrases(translator(language)))
    )


class _AreaPhrase(filters.MessageFilter):
    """A text that asks for an area in some language; the handler checks it is the driver's."""

    def filter(self, message: Message) -> bool:
        return typed_area(message.text or "", _every_phrase()) is not None


async def on_retry(update: Update, context: BotContext) -> None:
    button = await answers.button(update, context)
    note = await context.services.search.recall(button.args[0]) if button and len(button.args) == 1 else None
    if not isinstance(note, dict) or not isinstance(note.get("area"), str):
        await answers.expired(update, context)
        return
    await query_of(update).answer()
    await search_area_named(update, context, note["area"], edit=True)


async def search_area_named(update: Update, context: BotContext, query: str, *, edit: bool = False) -> None:
    """Geocode ``query`` with its outline, search inside it, send the results message."""
    t, prefs = await answers.driver(update, context)
    owner = answers.user_id(update)
    services = context.services
    message = button_message(query_of(update)) if edit else None
    try:
        places = await services.geocoder.search(query, language=t.language, outline=True)
    except GeocodingError as error:
        log.warning("geocoding an area failed: %r", error)
        retry = services.callbacks.encode(RETRY, await services.search.remember({"area": query}, owner=owner))
        notice = geocoder_busy_text(t) if isinstance(error, GeocoderBusy) else geocoder_down_text(t)
        await answers.reply(update, View(notice.text, retry_keyboard(t, retry)), edit=message)
        return
    if not places:
        await answers.reply(update, place_not_found_text(t, query), edit=message)
        return
    place = places[0]  # the most important match: "Leeds" is the city, not a street named after it
    area = area_of(place.outline, place.bounds)
    if area is None:
        await answers.reply(update, no_area_text(t, query), edit=message)
        return
    try:
        result = await search_in_area(
            services.search,
            area,
            prefs,
            centre=place.point,
            label=place.short_label,
            country_iso=place.country_code,
            owner=owner,
        )
    except OcmError as error:
        retry = services.callbacks.encode(RETRY, await services.search.remember({"area": query}, owner=owner))
        await answers.report_ocm_failure(update, context, t, error, retry, edit=message)
        return
    view = results_view(t, result, 0, services.callbacks, now=answers.now(), reference=await answers.reference(context))
    await answers.reply(update, view, edit=message)


def handlers() -> list[BaseHandler]:
    private_text = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE
    return [
        CommandHandler("area", on_area_command),
        MessageHandler(private_text & _AreaPhrase(), on_chargers_in),
        CallbackQueryHandler(on_retry, pattern=action_pattern(RETRY)),
    ]
