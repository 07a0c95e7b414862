"""Chargers along a route: ``/route Leeds -> Garforth`` (also ``→``, or `` to `` when it appears once).

Each end is a place or address (geocoded, the best match), coordinates or a map link (read locally),
or "here": the location the driver last shared (kept a day, deleted by /forget). The line comes from
the router at ``ROUTER_URL``, else it is the great circle between the ends (the message says so).
ONE OCM request per route (:mod:`ocm_bot.domain.route`). The results message pages like any other,
with a "📍 Near my destination" button: a nearby search at the destination with the driver's filters
(cached like every nearby search).
"""

from __future__ import annotations

import logging
import re

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from ocm_bot.context import BotContext
from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.places import Coordinates, PlaceInputError, parse_place
from ocm_bot.domain.route import RouteTooLong, search_along
from ocm_bot.domain.search import SearchResult
from ocm_bot.errors import OcmBotError
from ocm_bot.geocoding import GeocoderBusy, GeocodingError
from ocm_bot.handlers import answers
from ocm_bot.handlers.common import button_message, query_of
from ocm_bot.ocm.errors import OcmError
from ocm_bot.views.callbacks import action_pattern
from ocm_bot.views.common import View, retry_keyboard
from ocm_bot.views.results import geocoder_busy_text, geocoder_down_text, place_error_text, results_view
from ocm_bot.views.route import (
    NEAR_DESTINATION,
    here_words,
    route_end_not_found_text,
    route_here_unknown_text,
    route_too_long_text,
    route_usage_text,
)

log = logging.getLogger(__name__)

RETRY = "rr"
"""``rr|<note id>``: the same route search again (after OCM or Nominatim failed)."""
HERE_KIND = "here"
"""Storage kind of the driver's last shared location (key: the user id)."""
HERE_TTL = 24 * 3600.0
_ARROWS = re.compile(r"\s*(?:->|→|⟶|➡️?)\s*")
_TO = re.compile(r"\s+to\s+", re.I)


class _NoEnd(OcmBotError):
    """An end of the route could not be placed; ``view`` says why."""

    def __init__(self, view: View) -> None:
        super().__init__()
        self.view = view


def split_route(text: str) -> tuple[str, str] | None:
    """("Leeds", "Garforth") from "Leeds -> Garforth", "Leeds → Garforth" or "Leeds to Garforth"; None when
    the text has no single clear separator (a place named "Stratford to Bow Road" with an arrow is fine)."""
    for separator in (_ARROWS, _TO):
        parts = separator.split(text.strip())
        if len(parts) == 2 and all(part.strip() for part in parts):
            return parts[0].strip(), parts[1].strip()
        if len(parts) > 2:
            return None
    return None


async def remember_here(update: Update, context: BotContext, point: GeoPoint) -> None:
    """Keep the driver's shared location for "here" in a route (called by the location handlers)."""
    owner = answers.user_id(update)
    if owner is not None:
        value = [point.latitude, point.longitude]
        await context.services.storage.put_short_lived(HERE_KIND, str(owner), value, HERE_TTL, user_id=owner)


async def on_route_command(update: Update, context: BotContext) -> None:
    ends = split_route(" ".join(context.args or ()))
    if ends is None:
        t, _ = await answers.driver(update, context)
        await answers.reply(update, route_usage_text(t))
        return
    await search_route(update, context, *ends)


async def on_retry(update: Update, context: BotContext) -> None:
    button = await answers.button(update, context)
    note = await context.services.search.recall(button.args[0]) if button and len(button.args) == 1 else None
    if not isinstance(note, dict) or not isinstance(note.get("route"), list) or len(note["route"]) != 2:
        await answers.expired(update, context)
        return
    await query_of(update).answer()
    await search_route(update, context, str(note["route"][0]), str(note["route"][1]), edit=True)


async def on_near_destination(update: Update, context: BotContext) -> None:
    """📍 Near my destination: the nearest chargers at the route's end, with the driver's filters."""
    button = await answers.button(update, context)
    kept = await context.services.search.get(button.args[0]) if button and len(button.args) == 1 else None
    if not isinstance(kept, SearchResult) or kept.route is None:
        await answers.expired(update, context)
        return
    await query_of(update).answer()
    t, prefs = await answers.driver(update, context)
    route = kept.route
    try:
        result = await context.services.search.nearby(
            route.destination, prefs, label=route.destination_label, owner=answers.user_id(update)
        )
    except OcmError as error:
        await answers.report_ocm_failure(update, context, t, error, answers.button_data(update))
        return
    view = results_view(
        t, result, 0, context.services.callbacks, now=answers.now(), reference=await answers.reference(context)
    )
    await answers.reply(update, view)


async def search_route(update: Update, context: BotContext, start: str, end: str, *, edit: bool = False) -> None:
    t, prefs = await answers.driver(update, context)
    owner = answers.user_id(update)
    services = context.services
    message = button_message(query_of(update)) if edit else None

    async def retry() -> str:
        return services.callbacks.encode(RETRY, await services.search.remember({"route": [start, end]}, owner=owner))

    try:
        start_point, start_label = await _place(update, context, start)
        end_point, end_label = await _place(update, context, end)
    except _NoEnd as problem:
        await answers.reply(update, problem.view, edit=message)
        return
    except GeocodingError as error:
        log.warning("geocoding a route's end failed: %r", error)
        notice = geocoder_busy_text(t) if isinstance(error, GeocoderBusy) else geocoder_down_text(t)
        await answers.reply(update, View(notice.text, retry_keyboard(t, await retry())), edit=message)
        return
    line, length_km, by_road = await services.routes.line(start_point, end_point)
    try:
        result = await search_along(
            services.search,
            line,
            prefs,
            start_label=start_label,
            destination_label=end_label,
            by_road=by_road,
            length_km=length_km,
            owner=owner,
        )
    except RouteTooLong:
        await answers.reply(update, route_too_long_text(t), edit=message)
        return
    except OcmError as error:
        await answers.report_ocm_failure(update, context, t, error, await retry(), edit=message)
        return
    view = results_view(t, result, 0, services.callbacks, now=answers.now(), reference=await answers.reference(context))
    await answers.reply(update, view, edit=message)


async def _place(update: Update, context: BotContext, text: str) -> tuple[GeoPoint, str]:
    """Where one end of the route is, and how to name it."""
    t, _ = await answers.driver(update, context)
    if text.casefold() in here_words(t):
        owner = answers.user_id(update)
        kept = await context.services.storage.get_short_lived(HERE_KIND, str(owner)) if owner is not None else None
        if not isinstance(kept, list) or len(kept) != 2:
            raise _NoEnd(route_here_unknown_text(t))
        return GeoPoint(float(kept[0]), float(kept[1])), t.gettext("your location")
    try:
        place = parse_place(text)
    except PlaceInputError as error:
        raise _NoEnd(place_error_text(t, error.reason)) from error
    if isinstance(place, Coordinates):
        return place.point, place.label or place.as_typed or text
    found = await context.services.geocoder.search(place.text, language=t.language)
    if not found:
        raise _NoEnd(route_end_not_found_text(t, text))
    return found[0].point, found[0].short_label


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("route", on_route_command),
        CallbackQueryHandler(on_retry, pattern=action_pattern(RETRY)),
        CallbackQueryHandler(on_near_destination, pattern=action_pattern(NEAR_DESTINATION)),
    ]
