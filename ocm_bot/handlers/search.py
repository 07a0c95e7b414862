"""Find chargers: locations, live locations, venues, typed places and links in; result cards out.

Inputs: a location (attachment, "Send my location" button, forwarded), a venue, a live location
(the first message answers, later positions edit that answer; see :mod:`ocm_bot.domain.live`),
and in private chats typed text (coordinates and map links read locally, anything else geocoded).
Commands: ``/charger <id>``, ``/start poi-<id>`` (deep link), ``/favourites``. Buttons: paging,
details, favourite, filter chips, wider radius, place choice and retry (see
:mod:`ocm_bot.views.results` for their callback data).

Failures of OCM or Nominatim are answered here, with a Retry button, and logged as one line;
everything else goes to the application's error handler.

Over 400 lines because every input and button of the search feature shares the steps at the bottom
(search and send, report a failure, reply or edit); the kept results, notes and live sessions they
name are in storage (:mod:`ocm_bot.domain.results`), so any instance answers them.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Location, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters
from telegram.warnings import PTBDeprecationWarning

from ocm_bot.context import BotContext, Services
from ocm_bot.domain.favourites import Favourites, FavouritesFull
from ocm_bot.domain.filters import FilterKey
from ocm_bot.domain.geo import GeoPoint, haversine_km, initial_bearing
from ocm_bot.domain.places import Coordinates, PlaceInputError, parse_place
from ocm_bot.domain.preferences import UserPreferences
from ocm_bot.domain.search import SearchResult, SearchService
from ocm_bot.domain.units import place_country, unit_for_place
from ocm_bot.geocoding import GeocodedPlace, GeocoderBusy, GeocodingError
from ocm_bot.handlers.common import (
    UnusableUpdate,
    button_message,
    chat_of,
    driver_translator,
    edit_unless_not_modified,
    is_private,
    message_of,
    preferences_for,
    query_of,
    user_of,
)
from ocm_bot.i18n import Translator
from ocm_bot.ocm.errors import OcmError
from ocm_bot.ocm.reference import ReferenceData
from ocm_bot.views.callbacks import Callback, InvalidCallback, action_pattern
from ocm_bot.views.common import expired_button_text, ocm_error_text, retry_keyboard
from ocm_bot.views.details import FAVOURITE, details_view, favourites_views, venue_address, venue_title
from ocm_bot.views.results import (
    DETAILS,
    DROP_FILTER,
    NO_SEARCH,
    PAGE,
    SETTINGS,
    WIDER,
    View,
    charger_not_found_text,
    charger_usage_text,
    geocoder_busy_text,
    geocoder_down_text,
    place_choice_keyboard,
    place_choice_text,
    place_error_text,
    place_not_found_text,
    results_view,
)

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

PICK = "pk"
RETRY = "rs"
FAVOURITES_RETRY = "fl"
LAST_PLACE_UNIT = "search.place_unit"
"""user_data key: the unit of the last searched place ("km" or "mi"), whatever the driver chose."""
SAME_PLACE_KM = 1.0
"""Geocoded matches this close to the first are one place (a square and its bus stop)."""
_DEEP_LINK = r"^/start(?:@\w+)?\s+poi-(\d{1,9})\s*$"


# Inputs --------------------------------------------------------------------------------------------


async def on_location(update: Update, context: BotContext) -> None:
    """A location, venue, forwarded location or a live location's first message: nearest chargers."""
    message = message_of(update)
    location = _shared_location(message)
    label = message.venue.title if message.venue else None
    point = GeoPoint(location.latitude, location.longitude)
    sent, result = await _search_and_send(update, context, point, label)
    live_period = _live_seconds(location)
    if live_period and sent is not None and result is not None:
        await context.services.search.live.start(
            (message.chat_id, message.message_id),
            point,
            results_message_id=sent.message_id,
            live_period=live_period,
            search_id=result.id,
            owner=_user_id(update),
        )


async def on_live_update(update: Update, context: BotContext) -> None:
    """A live location moved: edit its results message (once a minute at most, after moving > 1 km)."""
    message = message_of(update)
    location = _shared_location(message)
    point = GeoPoint(location.latitude, location.longitude)
    live = context.services.search.live
    key = (message.chat_id, message.message_id)
    decision = await live.on_move(key, point, live=bool(_live_seconds(location)))
    if not decision.update or decision.session is None:
        return
    t, prefs = await _driver(update, context)
    try:
        result = await context.services.search.nearby(point, prefs, owner=_user_id(update))
    except OcmError as error:
        log.warning("live location refresh failed: %r", error)
        return  # the last results stay up; the next move tries again
    _remember_place_unit(context, result)
    view = results_view(t, result, 0, context.services.callbacks, now=_now(), reference=await _reference(context))
    try:
        await edit_unless_not_modified(
            context.bot.edit_message_text,
            text=view.text,
            chat_id=message.chat_id,
            message_id=decision.session.results_message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=view.keyboard,
            link_preview_options=NO_PREVIEW,
        )
    except BadRequest as error:
        log.info("live results message can no longer be edited: %s", error)
        await live.stop(key)


async def on_text(update: Update, context: BotContext) -> None:
    """Typed text: coordinates and map links are read locally; anything else is geocoded."""
    try:
        place = parse_place(message_of(update).text)
    except PlaceInputError as error:
        t, _ = await _driver(update, context)
        await _reply(update, place_error_text(t, error.reason))
        return
    if isinstance(place, Coordinates):
        label = place.label or place.as_typed  # echoed as the driver wrote it, not as a reformatted float
        await _search_and_send(update, context, place.point, label)
        return
    await _geocode_and_send(update, context, place.text)


async def on_charger_command(update: Update, context: BotContext) -> None:
    """``/charger <id>``: one charger's details."""
    args = context.args or []
    if len(args) != 1 or not args[0].lstrip("#").isdigit() or len(args[0]) > 10:
        t, _ = await _driver(update, context)
        await _reply(update, charger_usage_text(t))
        return
    await _send_details(update, context, int(args[0].lstrip("#")), None)


async def on_poi_deep_link(update: Update, context: BotContext) -> None:
    """``/start poi-<id>`` from a ``https://t.me/<bot>?start=poi-<id>`` link: that charger's details."""
    args = context.args or []
    charger_id = int(context.matches[0].group(1)) if context.matches else int(args[0].split("-")[1])
    await _send_details(update, context, charger_id, None)


async def on_favourites(update: Update, context: BotContext) -> None:
    """``/favourites``: the driver's saved chargers with their current status (one OCM request)."""
    t, prefs = await _driver(update, context)
    favourites = Favourites(context.services.storage, context.services.search)
    try:
        chargers, gone = await favourites.chargers(user_of(update).id)
    except OcmError as error:
        await _report_ocm_failure(update, context, t, error, context.services.callbacks.encode(FAVOURITES_RETRY))
        return
    unit = unit_for_place(prefs, _country_of(chargers))  # no searched place: the chargers' own country
    for view in favourites_views(t, chargers, gone, context.services.callbacks, unit=unit):
        await _reply(update, view)


# Buttons -------------------------------------------------------------------------------------------


async def on_page(update: Update, context: BotContext) -> None:
    """‹ Prev / Next ›: another page of a kept result, without asking OCM."""
    button = await _button(update, context)
    kept = await _kept_result(update, context, button.args[0]) if button and len(button.args) == 2 else None
    if kept is _FAILED:
        return
    if button is None or not isinstance(kept, SearchResult):
        await _expired(update, context)
        return
    await query_of(update).answer()
    t, _ = await _driver(update, context)
    await _show_result(update, context, t, kept, button.int_arg(1))


async def on_drop_filter(update: Update, context: BotContext) -> None:
    """``✕ filter`` / ``Relax: filter``: the same search without that filter."""
    button = await _button(update, context)
    key = _filter_key(button.args[1]) if button and len(button.args) == 2 else None
    kept = await _kept_result(update, context, button.args[0]) if button and key is not None else None
    if kept is _FAILED:
        return
    if button is None or key is None or kept is None:
        await _expired(update, context)
        return
    await query_of(update).answer()
    await _refresh(update, context, lambda search: search.relax(button.args[0], key, owner=_user_id(update)))


async def on_wider(update: Update, context: BotContext) -> None:
    """🔎 Wider radius: the same search with the next radius step."""
    button = await _button(update, context)
    kept = await _kept_result(update, context, button.args[0]) if button and len(button.args) == 1 else None
    if kept is _FAILED:
        return
    if button is None or kept is None:
        await _expired(update, context)
        return
    await query_of(update).answer()
    await _refresh(update, context, lambda search: search.widen(button.args[0], owner=_user_id(update)))


async def on_details(update: Update, context: BotContext) -> None:
    """ℹ️ n: a charger's details with comments, and a venue pin."""
    button = await _button(update, context)
    if button is None or len(button.args) != 2:
        await _expired(update, context)
        return
    await query_of(update).answer()
    await _send_details(update, context, button.int_arg(0), None if button.args[1] == NO_SEARCH else button.args[1])


async def on_favourite(update: Update, context: BotContext) -> None:
    """☆ / ★ Favourite: toggle, and flip the star on the button."""
    button = await _button(update, context)
    if button is None or len(button.args) != 2:
        await _expired(update, context)
        return
    t, _ = await _driver(update, context)
    try:
        now_favourite = await Favourites(context.services.storage, context.services.search).toggle(
            user_of(update).id, button.int_arg(0)
        )
    except FavouritesFull:
        await query_of(update).answer(t.gettext("You have too many favourites. Remove one first."))
        return
    await query_of(update).answer(
        t.gettext("Added to your favourites.") if now_favourite else t.gettext("Removed from your favourites.")
    )
    await _flip_star(update, t, now_favourite)


async def on_pick(update: Update, context: BotContext) -> None:
    """A choice among several geocoded places."""
    button = await _button(update, context)
    note = await context.services.search.recall(button.args[0]) if button and len(button.args) == 2 else None
    places = _places_from_note(note)
    index = button.int_arg(1) if button is not None and places is not None else -1
    if places is None or not 0 <= index < len(places):
        await _expired(update, context)
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
    button = await _button(update, context)
    note = await context.services.search.recall(button.args[0]) if button and len(button.args) == 1 else None
    if not isinstance(note, dict) or note.get("kind") not in ("point", "text"):
        await _expired(update, context)
        return
    await query_of(update).answer()
    if note["kind"] == "point":
        point = GeoPoint(note["lat"], note["lon"])
        await _search_and_send(
            update, context, point, note["label"], country=note["country"], edit=button_message(query_of(update))
        )
    else:
        await _geocode_and_send(update, context, note["text"], edit=button_message(query_of(update)))


async def on_favourites_retry(update: Update, context: BotContext) -> None:
    """🔄 Retry for /favourites."""
    if await _button(update, context) is None:
        await _expired(update, context)
        return
    await query_of(update).answer()
    await on_favourites(update, context)


async def on_settings(update: Update, context: BotContext) -> None:
    """⚙️ Filters: open /settings in a new message (the results stay)."""
    if await _button(update, context) is None:
        await _expired(update, context)
        return
    await query_of(update).answer()
    from ocm_bot.handlers import preferences  # the preferences feature owns that menu

    await preferences.show_settings(update, context)


# Steps shared by the handlers ---------------------------------------------------------------------


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
    t, prefs = await _driver(update, context)
    try:
        result = await context.services.search.nearby(
            point, prefs, label=label, country_iso=country, owner=_user_id(update)
        )
    except OcmError as error:
        note = await context.services.search.remember(
            {"kind": "point", "lat": point.latitude, "lon": point.longitude, "label": label, "country": country},
            owner=_user_id(update),
        )
        await _report_ocm_failure(update, context, t, error, context.services.callbacks.encode(RETRY, note), edit=edit)
        return None, None
    _remember_place_unit(context, result)
    view = results_view(t, result, 0, context.services.callbacks, now=_now(), reference=await _reference(context))
    return await _reply(update, view, edit=edit), result


async def _geocode_and_send(update: Update, context: BotContext, query: str, *, edit: Message | None = None) -> None:
    t, _ = await _driver(update, context)
    try:
        places = await context.services.geocoder.search(query, language=t.language)
    except GeocodingError as error:
        log.warning("geocoding failed: %r", error)  # not the typed text: it is the driver's
        note = await context.services.search.remember({"kind": "text", "text": query}, owner=_user_id(update))
        retry = context.services.callbacks.encode(RETRY, note)
        notice = geocoder_busy_text(t) if isinstance(error, GeocoderBusy) else geocoder_down_text(t)
        await _reply(update, View(notice.text, retry_keyboard(t, retry)), edit=edit)
        return
    places = _distinct(places)
    if not places:
        await _reply(update, place_not_found_text(t, query), edit=edit)
    elif len(places) == 1:
        place = places[0]
        await _search_and_send(update, context, place.point, place.short_label, country=place.country_code, edit=edit)
    else:
        note = await context.services.search.remember(
            [
                {"label": p.label, "lat": p.point.latitude, "lon": p.point.longitude, "country": p.country_code}
                for p in places
            ],
            owner=_user_id(update),
        )
        keyboard = place_choice_keyboard([p.label for p in places], context.services.callbacks, PICK, note)
        await _reply(update, View(place_choice_text(t, query).text, keyboard), edit=edit)


async def _send_details(update: Update, context: BotContext, charger_id: int, search_id: str | None) -> None:
    t, prefs = await _driver(update, context)
    search = context.services.search
    try:
        charger = await search.charger(charger_id, include_comments=True)
    except OcmError as error:
        retry = context.services.callbacks.encode(DETAILS, charger_id, search_id or NO_SEARCH)
        await _report_ocm_failure(update, context, t, error, retry)
        return
    if charger is None:
        await _reply(update, charger_not_found_text(t, charger_id))
        return
    try:
        result = await search.get(search_id) if search_id else None
    except OcmError as error:  # another instance's search whose chargers could not be read again
        log.warning("the search of a details button could not be read: %r", error)
        result = None  # the details without the distance from the searched point
    where = GeoPoint(charger.latitude, charger.longitude)
    user = update.effective_user
    view = details_view(
        t,
        charger,
        context.services.callbacks,
        now=_now(),
        unit=result.unit if result else unit_for_place(prefs, place_country(where, _country_of([charger]))),
        is_favourite=user is not None and await context.services.storage.is_favourite(user.id, charger_id),
        private=is_private(update),
        bot_username=context.bot.username,
        search_id=search_id,
        distance_km=haversine_km(result.point, where) if result else None,
        bearing=initial_bearing(result.point, where) if result else None,
    )
    await _reply(update, view)
    await context.bot.send_venue(
        chat_of(update).id, charger.latitude, charger.longitude, venue_title(charger), venue_address(charger)
    )


async def _show_result(update: Update, context: BotContext, t: Translator, result: SearchResult, page: int) -> None:
    view = results_view(t, result, page, context.services.callbacks, now=_now(), reference=await _reference(context))
    await _reply(update, view, edit=button_message(query_of(update)))


async def _refresh(
    update: Update, context: BotContext, run: Callable[[SearchService], Awaitable[SearchResult | None]]
) -> None:
    t, _ = await _driver(update, context)
    try:
        result = await run(context.services.search)
    except OcmError as error:
        await _report_ocm_failure(update, context, t, error, _button_data(update))
        return
    if result is None:
        await _reply(update, View.plain(expired_button_text(t)))
        return
    await _show_result(update, context, t, result, 0)


_FAILED = object()
"""What :func:`_kept_result` returns when it has answered the button with OCM's failure."""


async def _kept_result(update: Update, context: BotContext, search_id: str) -> SearchResult | object | None:
    """The result a button names; another instance's search needs its chargers read again, and
    when OCM cannot answer that, the driver is told so with a Retry of the same button."""
    try:
        return await context.services.search.get(search_id)
    except OcmError as error:
        t, _ = await _driver(update, context)
        await query_of(update).answer()
        await _report_ocm_failure(update, context, t, error, _button_data(update))
        return _FAILED


async def _report_ocm_failure(
    update: Update, context: BotContext, t: Translator, error: OcmError, retry: str, *, edit: Message | None = None
) -> None:
    log.warning("Open Charge Map request failed: %r", error)
    await _reply(update, View.plain(ocm_error_text(t, error), retry_keyboard(t, retry)), edit=edit)


async def _reply(update: Update, view: View, *, edit: Message | None = None) -> Message | None:
    """Send ``view`` (or edit ``edit`` into it); an unchanged message is not an error."""
    options: dict[str, Any] = {
        "parse_mode": ParseMode.HTML,
        "reply_markup": view.keyboard,
        "link_preview_options": NO_PREVIEW,
    }
    if edit is not None:
        try:
            edited = await edit_unless_not_modified(edit.edit_text, text=view.text, **options)
            return edited if isinstance(edited, Message) else edit
        except BadRequest as error:
            log.info("could not edit message, sending a new one: %s", error)
    message = message_of(update)
    return await message.get_bot().send_message(message.chat_id, view.text, **options)


async def _flip_star(update: Update, t: Translator, now_favourite: bool) -> None:
    query = query_of(update)
    message = button_message(query)
    markup = message.reply_markup if message else None
    if markup is None:
        return
    label = t.gettext("★ Favourite") if now_favourite else t.gettext("☆ Favourite")
    rows = [
        [
            InlineKeyboardButton(label, callback_data=b.callback_data) if b.callback_data == query.data else b
            for b in row
        ]
        for row in markup.inline_keyboard
    ]
    try:
        await query.edit_message_reply_markup(InlineKeyboardMarkup(rows))
    except BadRequest as error:
        log.info("could not flip the favourite star: %s", error)


async def _button(update: Update, context: BotContext) -> Callback | None:
    try:
        return context.services.callbacks.decode(query_of(update).data)
    except InvalidCallback as error:
        log.info("refused a button: %s", error)
        return None


async def _expired(update: Update, context: BotContext) -> None:
    t, _ = await _driver(update, context)
    await query_of(update).answer(expired_button_text(t), show_alert=True)


async def _driver(update: Update, context: BotContext) -> tuple[Translator, UserPreferences]:
    """The user's translator and preferences, from one storage read."""
    prefs = await preferences_for(update, context)
    return driver_translator(update, context, prefs), prefs


async def _reference(context: BotContext) -> ReferenceData | None:
    source = context.services.chargers
    if source is None:
        return None
    try:
        return await source.reference_data()
    except OcmError:
        return None  # chips then name plugs and operators by ID


def _remember_place_unit(context: BotContext, result: SearchResult) -> None:
    """Keep the searched place's own unit, for screens without a place (the /settings radius menu)."""
    if context.user_data is not None:
        context.user_data[LAST_PLACE_UNIT] = unit_for_place(UserPreferences(), result.country_iso).value


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


def _country_of(chargers: list[Any]) -> str | None:
    for charger in chargers:
        country = charger.address.country
        if country is not None and country.iso_code:
            return country.iso_code
    return None


def _shared_location(message: Message) -> Location:
    """The location of a location or venue message (the only messages the location handlers take)."""
    location = message.venue.location if message.venue else message.location
    if location is None:
        raise UnusableUpdate(f"message {message.message_id} has no location")
    return location


def _button_data(update: Update) -> str:
    """The tapped button's data, for a Retry of the same button (the handler decoded it already)."""
    data = query_of(update).data
    if data is None:
        raise UnusableUpdate(f"update {update.update_id} is a button without data")
    return data


def _live_seconds(location: Location) -> int | None:
    """A live location's sharing period in seconds (None when not live).

    python-telegram-bot 22 warns that ``live_period`` becomes a ``timedelta``; both are read here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        period = location.live_period
    if period is None:
        return None
    return int(period.total_seconds()) if isinstance(period, timedelta) else int(period)


def _user_id(update: Update) -> int | None:
    """Whose search, note or live location it is: /forget deletes what is kept under it."""
    return update.effective_user.id if update.effective_user else None


def _places_from_note(note: Any) -> list[GeocodedPlace] | None:
    """The geocoded places a choice of places was offered from (kept as JSON by ``remember``)."""
    if not isinstance(note, list):
        return None
    return [GeocodedPlace(p["label"], GeoPoint(p["lat"], p["lon"]), p["country"]) for p in note]


def _now() -> datetime:
    return datetime.now(UTC)


# Wiring --------------------------------------------------------------------------------------------


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("start", on_poi_deep_link, filters=filters.Regex(_DEEP_LINK)),
        CommandHandler("charger", on_charger_command),
        CommandHandler(["favourites", "favorites"], on_favourites),
        MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.LOCATION, on_live_update),
        MessageHandler(filters.UpdateType.MESSAGE & (filters.LOCATION | filters.VENUE), on_location),
        CallbackQueryHandler(on_page, pattern=action_pattern(PAGE)),
        CallbackQueryHandler(on_details, pattern=action_pattern(DETAILS)),
        CallbackQueryHandler(on_favourite, pattern=action_pattern(FAVOURITE)),
        CallbackQueryHandler(on_drop_filter, pattern=action_pattern(DROP_FILTER)),
        CallbackQueryHandler(on_wider, pattern=action_pattern(WIDER)),
        CallbackQueryHandler(on_pick, pattern=action_pattern(PICK)),
        CallbackQueryHandler(on_retry, pattern=action_pattern(RETRY)),
        CallbackQueryHandler(on_favourites_retry, pattern=action_pattern(FAVOURITES_RETRY)),
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
