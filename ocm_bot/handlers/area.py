"""Chargers in a town or district: ``/area Leeds`` or "chargers in Leeds" typed in a private chat.

The place is geocoded with its outline (Nominatim ``polygon_geojson``; its bounding box when it has
none), searched with ONE OCM request (:mod:`ocm_bot.domain.area`) and answered with a summary and
paged cards, the same results message as a nearby search (paging, details and export buttons).
"""

from __future__ import annotations

import logging
import re

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from ocm_bot.context import BotContext
from ocm_bot.domain.area import area_of, search_in_area
from ocm_bot.geocoding import GeocoderBusy, GeocodingError
from ocm_bot.handlers import answers
from ocm_bot.handlers.common import button_message, message_of, query_of
from ocm_bot.ocm.errors import OcmError
from ocm_bot.views.area import area_usage_text, no_area_text
from ocm_bot.views.callbacks import action_pattern
from ocm_bot.views.common import View, retry_keyboard
from ocm_bot.views.results import geocoder_busy_text, geocoder_down_text, place_not_found_text, results_view

log = logging.getLogger(__name__)

RETRY = "ar"
"""``ar|<note id>``: the same area search again (after OCM or Nominatim failed)."""
CHARGERS_IN = re.compile(r"^\s*(?:ev\s+)?(?:chargers?|charging\s+stations?)\s+in\s+(?P<place>\S.*?)\s*[?.!]*\s*$", re.I)
"""English text that asks for an area; anything else typed stays a nearby search."""


async def on_area_command(update: Update, context: BotContext) -> None:
    query = " ".join(context.args or ()).strip()
    if not query:
        t, _ = await answers.driver(update, context)
        await answers.reply(update, area_usage_text(t))
        return
    await search_area_named(update, context, query)


async def on_chargers_in(update: Update, context: BotContext) -> None:
    found = CHARGERS_IN.match(message_of(update).text or "")
    if found is not None:
        await search_area_named(update, context, found.group("place"))


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
        MessageHandler(private_text & filters.Regex(CHARGERS_IN), on_chargers_in),
        CallbackQueryHandler(on_retry, pattern=action_pattern(RETRY)),
    ]
