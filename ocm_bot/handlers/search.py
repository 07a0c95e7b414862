"""Find chargers: locations, venues, typed places and links in; result cards out.

Inputs: a location (attachment, "Send my location" button, forwarded), a venue, a live location's
first message (its later positions are :mod:`ocm_bot.handlers.live`'s), and in private chats typed
text (coordinates and map links read locally, anything else geocoded). Buttons: paging, filter
chips, wider radius, ⚙️ Filters, place choice and retry (see :mod:`ocm_bot.views.results` for their
callback data). A charger's details and the favourites are :mod:`ocm_bot.handlers.details`; the
steps these share (reply or edit, report a failure, decode a button) are :mod:`ocm_bot.handlers.answers`.

Failures of OCM or Nominatim are answered here, with a Retry button, and logged as one line;
everything else goes to the application's error handler. The kept results and notes the buttons
name are in storage (:mod:`ocm_bot.domain.results`), so any instance answers them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from ocm_bot.context import BotContext, Services
from ocm_bot.domain.filters import FilterKey
from ocm_bot.domain.geo import GeoPoint, haversine_km
from ocm_bot.domain.group_preferences import Asker
from ocm_bot.domain.places import Coordinates, PlaceInputError, parse_place
from ocm_bot.domain.search import SearchResult, SearchService
from ocm_bot.geocoding import GeocodedPlace, GeocoderBusy, GeocodingError
from ocm_bot.handlers import answers, route
from ocm_bot.handlers.common import (
    button_message,
    is_group,
    message_of,
    query_of,
)
from ocm_bot.i18n import Translator
from ocm_bot.ocm.errors import OcmError
from ocm_bot.views.callbacks import action_pattern
from ocm_bot.views.common import expired_button_text, retry_keyboard
from ocm_bot.views.results import (
    DROP_FILTER,
    PAGE,
    SETTINGS,
    WIDER,
    View,
    geocoder_busy_text,
    geocoder_down_text,
    place_choice_keyboard,
    place_choice_text,
    place_error_text,
    place_not_found_text,
    results_view,
    search_limit_text,
)

log = logging.getLogger(__name__)


PICK = "pk"
RETRY = "rs"
SAME_PLACE_KM = 1.0
"""Geocoded matches this close to the first are one place (a square and its bus stop)."""


# Inputs --------------------------------------------------------------------------------------------


async def on_location(update: Update, context: BotContext) -> None:
    """A location, venue, forwarded location or a live location's first message: nearest chargers."""
    message = message_of(update)
    if await _over_the_limit(update, context):
        return
    location = answers.shared_location(message)
    label = message.venue.title if message.venue else None
    point = GeoPoint(location.latitude, location.longitude)
    await route.remember_here(update, context, point)  # "here" in /route
    sent, result = await _search_and_send(update, context, point, label)
    live_period = answers.live_seconds(location)
    if live_period and sent is not None and result is not None:
        await context.services.search.live.start(
            (message.chat_id, message.message_id),
            point,
            results_message_id=sent.message_id,
            live_period=live_period,
            search_id=result.id,
            owner=answers.user_id(update),
        )


async def on_text(update: Update, context: BotContext) -> None:
    """Typed text: coordinates and map links are read locally; anything else is geocoded."""
    await search_typed(update, context, message_of(update).text)


async def search_typed(update: Update, context: BotContext, text: str | None) -> None:
    """Chargers near a typed place (``/near <place>``, a mention, a reply with a place, private text)."""
    if await _over_the_limit(update, context):
        return
    try:
        place = parse_place(text)
    except PlaceInputError as error:
        t, _ = await answers.driver(update, context)
        await answers.reply(update, place_error_text(t, error.reason))
        return
    if isinstance(place, Coordinates):
        label = place.label or place.as_typed  # echoed as the driver wrote it, not as a reformatted float
        await _search_and_send(update, context, place.point, label)
        return
    await _geocode_and_send(update, context, place.text)


# Buttons -------------------------------------------------------------------------------------------


async def on_page(update: Update, context: BotContext) -> None:
    """‹ Prev / Next ›: another page of a kept result, without asking OCM."""
    button = await answers.button(update, context)
    kept = await _kept_result(update, context, button.args[0]) if button and len(button.args) == 2 else None
    if kept is _FAILED:
        return
    if button is None or not isinstance(kept, SearchResult):
        await answers.expired(update, context)
        return
    await query_of(update).answer()
    t, _ = await answers.driver(update, context)
    await _show_result(update, context, t, kept, button.int_arg(1))


async def on_drop_filter(update: Update, context: BotContext) -> None:
    """``✕ filter`` / ``Relax: filter``: the same search without that filter."""
    button = await answers.button(update, context)
    key = _filter_key(button.args[1]) if button and len(button.args) == 2 else None
    kept = await _kept_result(update, context, button.args[0]) if button and key is not None else None
    if kept is _FAILED:
        return
    if button is None or key is None or kept is None:
        await answers.expired(update, context)
        return
    allowed, asker = await answers.may_change(update, context, button.args[0])
    if not allowed:
        return
    await query_of(update).answer()
    await _refresh(
        update, context, lambda search: search.relax(button.args[0], key, owner=answers.user_id(update)), asker
    )


async def on_wider(update: Update, context: BotContext) -> None:
    """🔎 Wider radius: the same search with the next radius step."""
    button = await answers.button(update, context)
    kept = await _kept_result(update, context, button.args[0]) if button and len(button.args) == 1 else None
    if kept is _FAILED:
        return
    if button is None or kept is None:
        await answers.expired(update, context)
        return
    allowed, asker = await answers.may_change(update, context, button.args[0])
    if not allowed:
        return
    await query_of(update).answer()
    await _refresh(update, context, lambda search: search.widen(button.args[0], owner=answers.user_id(update)), asker)


async def on_pick(update: Update, context: BotContext) -> None:
    """A choice among several geocoded places."""
    button = await answers.button(update, context)
    note = await context.services.search.recall(button.args[0]) if button and len(button.args) == 2 else None
    places = _places_from_note(note)
    index = button.int_arg(1) if button is not None and places is not None else -1
    if button is None or places is None or not 0 <= index < len(places):
        await answers.expired(update, context)
        return
    allowed, _ = await answers.may_change(update, context, button.args[0])  # the asker picks the place they meant
    if not allowed:
        return
    await query_of(update).answer()
    place = places[index]
    await _search_and_send(
        update,
        context,
        place.point,
        place.short_label,
        country=place.country_code,
        edit=button_message(query_of(update)),
    )


async def on_retry(update: Update, context: BotContext) -> None:
    """🔄 Retry after OCM or Nominatim failed: the same search again."""
    button = await answers.button(update, context)
    note = await context.services.search.recall(button.args[0]) if button and len(button.args) == 1 else None
    if not isinstance(note, dict) or note.get("kind") not in ("point", "text"):
        await answers.expired(update, context)
        return
    await query_of(update).answer()
    if note["kind"] == "point":
        point = GeoPoint(note["lat"], note["lon"])
        await _search_and_send(
            update, context, point, note["label"], country=note["country"], edit=button_message(query_of(update))
        )
    else:
        await _geocode_and_send(update, context, note["text"], edit=button_message(query_of(update)))


async def on_settings(update: Update, context: BotContext) -> None:
    """⚙️ Filters: open /settings in a new message (the results stay)."""
    if await answers.button(update, context) is None:
        await answers.expired(update, context)
        return
    if is_group(update):  # a group's searches use the group's settings, changed by its admins
        from ocm_bot.handlers import groups

        await groups.show_group_settings(update, context)
        return
    await query_of(update).answer()
    from ocm_bot.handlers import preferences  # the preferences feature owns that menu

    await preferences.show_settings(update, context)


# Steps shared by the handlers ---------------------------------------------------------------------


async def _over_the_limit(update: Update, context: BotContext) -> bool:
    """True (and the driver told when to try again) when they searched too often this minute."""
    wait = context.services.search_limit.check(answers.user_id(update))
    if wait is None:
        return False
    t, _ = await answers.driver(update, context)
    await answers.reply(update, search_limit_text(t, wait))
    return True


async def _search_and_send(
    update: Update,
    context: BotContext,
    point: GeoPoint,
    label: str | None,
    *,
    country: str | None = None,
    edit: Message | None = None,
) -> tuple[Message | None, SearchResult | None]:
    """Search around ``point`` (``country``: the geocoder's, for a typed place) and send the results."""
    t, prefs = await answers.driver(update, context)
    try:
        result = await context.services.search.nearby(
            point, prefs, label=label, country_iso=country, owner=answers.user_id(update)
        )
    except OcmError as error:
        note = await context.services.search.remember(
            {"kind": "point", "lat": point.latitude, "lon": point.longitude, "label": label, "country": country},
            owner=answers.user_id(update),
        )
        await answers.report_ocm_failure(
            update, context, t, error, context.services.callbacks.encode(RETRY, note), edit=edit
        )
        return None, None
    answers.remember_place_unit(context, result)
    await answers.keep_asker(update, context, result.id, None)
    view = results_view(
        t, result, 0, context.services.callbacks, now=answers.now(), reference=await answers.reference(context)
    )
    return await answers.reply(update, view, edit=edit), result


async def _geocode_and_send(update: Update, context: BotContext, query: str, *, edit: Message | None = None) -> None:
    t, _ = await answers.driver(update, context)
    try:
        places = await context.services.geocoder.search(query, language=t.language)
    except GeocodingError as error:
        log.warning("geocoding failed: %r", error)  # not the typed text: it is the driver's
        note = await context.services.search.remember({"kind": "text", "text": query}, owner=answers.user_id(update))
        retry = context.services.callbacks.encode(RETRY, note)
        notice = geocoder_busy_text(t) if isinstance(error, GeocoderBusy) else geocoder_down_text(t)
        await answers.reply(update, View(notice.text, retry_keyboard(t, retry)), edit=edit)
        return
    places = _distinct(places)
    if not places:
        await answers.reply(update, place_not_found_text(t, query), edit=edit)
    elif len(places) == 1:
        place = places[0]
        await _search_and_send(update, context, place.point, place.short_label, country=place.country_code, edit=edit)
    else:
        note = await context.services.search.remember(
            [
                {"label": p.label, "lat": p.point.latitude, "lon": p.point.longitude, "country": p.country_code}
                for p in places
            ],
            owner=answers.user_id(update),
        )
        await answers.keep_asker(update, context, note, None)
        keyboard = place_choice_keyboard([p.label for p in places], context.services.callbacks, PICK, note)
        await answers.reply(update, View(place_choice_text(t, query).text, keyboard), edit=edit)


async def _show_result(update: Update, context: BotContext, t: Translator, result: SearchResult, page: int) -> None:
    view = results_view(
        t, result, page, context.services.callbacks, now=answers.now(), reference=await answers.reference(context)
    )
    await answers.reply(update, view, edit=button_message(query_of(update)))


async def _refresh(
    update: Update,
    context: BotContext,
    run: Callable[[SearchService], Awaitable[SearchResult | None]],
    asker: Asker | None = None,
) -> None:
    t, _ = await answers.driver(update, context)
    try:
        result = await run(context.services.search)
    except OcmError as error:
        await answers.report_ocm_failure(update, context, t, error, answers.button_data(update))
        return
    if result is None:
        await answers.reply(update, View.plain(expired_button_text(t)))
        return
    await answers.keep_asker(update, context, result.id, asker)
    await _show_result(update, context, t, result, 0)


_FAILED = object()
"""What :func:`_kept_result` returns when it has answered the button with OCM's failure."""


async def _kept_result(update: Update, context: BotContext, search_id: str) -> SearchResult | object | None:
    """The result a button names; another instance's search needs its chargers read again, and
    when OCM cannot answer that, the driver is told so with a Retry of the same button."""
    try:
        return await context.services.search.get(search_id)
    except OcmError as error:
        t, _ = await answers.driver(update, context)
        await query_of(update).answer()
        await answers.report_ocm_failure(update, context, t, error, answers.button_data(update))
        return _FAILED


def _filter_key(value: str) -> FilterKey | None:
    try:
        return FilterKey(value)
    except ValueError:
        return None


def _distinct(places: list[GeocodedPlace]) -> list[GeocodedPlace]:
    """One place when all matches lie within :data:`SAME_PLACE_KM` of the first, else all of them."""
    if places and all(haversine_km(places[0].point, p.point) <= SAME_PLACE_KM for p in places):
        return places[:1]
    return places


def _places_from_note(note: Any) -> list[GeocodedPlace] | None:
    """The geocoded places a choice of places was offered from (kept as JSON by ``remember``)."""
    if not isinstance(note, list):
        return None
    return [GeocodedPlace(p["label"], GeoPoint(p["lat"], p["lon"]), p["country"]) for p in note]


# Wiring --------------------------------------------------------------------------------------------


def handlers() -> list[BaseHandler]:
    return [
        MessageHandler(filters.UpdateType.MESSAGE & (filters.LOCATION | filters.VENUE), on_location),
        CallbackQueryHandler(on_page, pattern=action_pattern(PAGE)),
        CallbackQueryHandler(on_drop_filter, pattern=action_pattern(DROP_FILTER)),
        CallbackQueryHandler(on_wider, pattern=action_pattern(WIDER)),
        CallbackQueryHandler(on_pick, pattern=action_pattern(PICK)),
        CallbackQueryHandler(on_retry, pattern=action_pattern(RETRY)),
        CallbackQueryHandler(on_settings, pattern=action_pattern(SETTINGS)),
    ]


def text_handlers() -> list[BaseHandler]:
    """Typed places: a catch-all for private text, so it must come after every conversation."""
    private_text = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE
    return [MessageHandler(private_text, on_text)]


async def prune_kept_results(context: BotContext) -> None:
    """Delete search results whose buttons have expired from storage (any instance may do it)."""
    services: Services | None = getattr(context.application.bot_data, "services", None)
    if services is None:  # a job before post_init
        return
    pruned = await services.storage.prune_short_lived()
    if pruned:
        log.info("pruned %d expired search results", pruned)


def schedule_pruning(application: Any) -> None:
    if application.job_queue is not None:
        application.job_queue.run_repeating(prune_kept_results, interval=3600, first=900, name="search-results-prune")
