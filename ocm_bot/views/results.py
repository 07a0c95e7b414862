"""The results message: a header, a page of cards and the buttons under them.

Header: where, the radius, the active filters (each removable with one tap below), the count.
Buttons (UX.md): per charger ``[1 · Open in OCM ↗] [1 · Navigate 🧭]``, a row of ``[ℹ️ 1] ...``
details buttons, ``[‹ Prev] [2/4] [Next ›]``, one ``[✕ filter]`` chip per active filter (or
``[Relax: ≥ 50 kW]`` when few chargers are shown), ``[🔎 Wider radius]`` when few, ``[⚙️ Filters]``.

Callback data (signed by :class:`~ocm_bot.views.callbacks.CallbackCodec`, all under 64 bytes)::

    pg|<search id>|<page>        a page of a kept result
    dt|<charger id>|<search id>  details ("-" when there is no search)
    fx|<search id>|<filter key>  the same search without one filter
    wr|<search id>               the same search, next radius step
    sf                           open /settings

Example::

    view = results_view(t, result, 0, codec, now=now, reference=reference)
    await message.reply_text(view.text, parse_mode="HTML", reply_markup=view.keyboard)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ocm_bot.domain.filters import FilterKey, active_filters
from ocm_bot.domain.places import PlaceProblem
from ocm_bot.domain.preferences import DistanceUnitChoice, UsageChoice, UserPreferences
from ocm_bot.domain.search import ResultKind, SearchResult, wider_radius
from ocm_bot.i18n import N_, Translator
from ocm_bot.ocm.reference import ReferenceData
from ocm_bot.views.area import area_summary_lines, area_title
from ocm_bot.views.callbacks import CallbackCodec
from ocm_bot.views.cards import card, navigation_url, poi_url
from ocm_bot.views.common import View, reading_order
from ocm_bot.views.format import clip, power, radius
from ocm_bot.views.html import Html, bold, gettext_html, join, lines, ngettext_html
from ocm_bot.views.missing import not_listed_button
from ocm_bot.views.preferences.labels import connector_names, short_level_name
from ocm_bot.views.route import NEAR_DESTINATION, along_line, route_summary_lines, route_title
from ocm_bot.views.trust import charger_button_style

EXPORT = "xp"
"""``xp|<search id>``: the result's chargers as GPX and KML documents (:mod:`ocm_bot.views.export`)."""

PAGE = "pg"
DETAILS = "dt"
DROP_FILTER = "fx"
WIDER = "wr"
SETTINGS = "sf"
NO_SEARCH = "-"
MAX_MESSAGE_CHARS = 4096
_SAFE_MESSAGE_CHARS = 4000  # the HTML source is longer than what Telegram counts, so this is safe
CHIPS_PER_ROW = 3
LABEL_CHARS = 60

FILTER_NAMES = {
    FilterKey.OPERATIONAL: N_("working only"),
    FilterKey.OPEN_DATA: N_("open data only"),
}
USAGE_NAMES = {
    UsageChoice.PUBLIC_ONLY: N_("public only"),
    UsageChoice.INCLUDE_MEMBERSHIP: N_("no private"),
}


def unit_of(result: SearchResult) -> DistanceUnitChoice:
    """The unit of every distance on a results message (the one rule in :mod:`ocm_bot.domain.units`)."""
    return result.unit


def filter_label(t: Translator, key: FilterKey, prefs: UserPreferences, reference: ReferenceData | None = None) -> str:
    """A short name for an active filter ("≥ 50 kW", "CCS (Type 2) +1", "public only").

    Plugs and levels are named and counted as the driver picked them in /settings (a group such as
    Tesla / NACS is one pick, in the driver's language), not by OCM's connection type IDs.
    """
    known = reference or ReferenceData()
    if key is FilterKey.MIN_POWER:
        return t.gettext("≥ {power}", power=power(t, prefs.min_power_kw or 0))
    if key is FilterKey.CONNECTORS:
        return _first_and_count(t, connector_names(t, prefs, known), N_("plugs"))
    if key is FilterKey.OPERATORS:
        titles = sorted(
            (known.operators[i].title if i in known.operators and known.operators[i].title else f"#{i}")
            for i in prefs.operator_ids
        )
        return _first_and_count(t, titles, N_("operators"))
    if key is FilterKey.LEVELS:
        return _first_and_count(t, [short_level_name(t, i) for i in sorted(prefs.level_ids)], N_("levels"))
    if key is FilterKey.USAGE:
        return t.gettext(USAGE_NAMES.get(prefs.usage, N_("public only")))
    return t.gettext(FILTER_NAMES[key])


def _first_and_count(t: Translator, names: list[str], plural: str) -> str:
    """ "CCS (Type 1)" for one pick, "CCS (Type 1) +1" for two."""
    if not names:
        return t.gettext(plural)
    if len(names) == 1:
        return clip(names[0], 24)
    return clip(names[0], 18) + " " + t.gettext("+{n}", n=len(names) - 1)


def header(t: Translator, result: SearchResult, reference: ReferenceData | None) -> Html:
    unit = unit_of(result)
    where = (
        gettext_html(t, "Chargers near {place}", place=clip(result.label, LABEL_CHARS))
        if result.label
        else gettext_html(t, "Chargers near you")
    )
    if result.kind is ResultKind.AREA:
        header_lines = [area_title(t, result)]
    elif result.kind is ResultKind.ROUTE:
        header_lines = [route_title(t, result)]
    else:
        header_lines = [
            bold(where) + " · " + gettext_html(t, "within {radius}", radius=radius(t, result.radius_km, unit))
        ]
    keys = active_filters(result.prefs)
    if keys:
        labels = [filter_label(t, key, result.prefs, reference) for key in keys]
        header_lines.append(gettext_html(t, "Filters: {filters}", filters=join(" · ", labels)))
    return lines(*header_lines)


def summary_line(t: Translator, result: SearchResult, page: int) -> Html:
    if result.kind is ResultKind.AREA:
        return lines(*area_summary_lines(t, result, page))
    if result.kind is ResultKind.ROUTE:
        return lines(*route_summary_lines(t, result, page))
    count = len(result.hits)
    if not count:
        return gettext_html(
            t, "No chargers found within {radius}.", radius=radius(t, result.radius_km, unit_of(result))
        )
    if result.complete:
        line = ngettext_html(t, "{n} charger, nearest first", "{n} chargers, nearest first", count)
    else:
        line = ngettext_html(t, "the nearest charger", "the {n} nearest chargers", count)
    if result.page_count() > 1:
        line += " · " + gettext_html(t, "page {page} of {pages}", page=page + 1, pages=result.page_count())
    return line


def relax_lines(t: Translator, result: SearchResult, reference: ReferenceData | None) -> list[Html]:
    hints: list[Html] = []
    for hint in result.relax:
        name = filter_label(t, hint.key, result.prefs, reference)
        if hint.hidden:
            hints.append(
                ngettext_html(
                    t,
                    "“{filter}” hides {n} charger here.",
                    "“{filter}” hides {n} chargers here.",
                    hint.hidden,
                    filter=name,
                )
            )
    if result.relax and not hints:
        hints.append(gettext_html(t, "Your filters may hide chargers here."))
    return hints


def results_text(
    t: Translator, result: SearchResult, page: int, *, now: datetime, reference: ReferenceData | None = None
) -> Html:
    page = _clamp(result, page)
    unit = unit_of(result)
    intro = [header(t, result, reference), summary_line(t, result, page)]
    if result.few:
        intro += relax_lines(t, result, reference)
    first = page * result.prefs.page_size + 1
    for compact in (False, True):
        cards = [
            card(
                t,
                hit.charger,
                now=now,
                unit=unit,
                index=first + n,
                distance_km=None if result.kind is ResultKind.ROUTE else hit.distance_km,  # its 🛣 line says
                bearing=hit.bearing,
                compact=compact,
            )
            + (Html("\n   ") + along_line(t, result, hit) if result.kind is ResultKind.ROUTE else "")
            for n, hit in enumerate(result.page(page))
        ]
        text = lines(*intro) + (Html("\n\n") + join("\n\n", cards) if cards else "")
        if len(text) <= _SAFE_MESSAGE_CHARS:
            return text
    return text[: _SAFE_MESSAGE_CHARS - 1] + "…"  # unreachable with clipped cards; never over the limit


def results_keyboard(
    t: Translator,
    result: SearchResult,
    page: int,
    codec: CallbackCodec,
    *,
    reference: ReferenceData | None = None,
    now: datetime | None = None,
) -> InlineKeyboardMarkup:
    """The buttons under a page; with ``now``, each ℹ️ button carries its charger's status colour."""
    page = _clamp(result, page)
    hits = result.page(page)
    first = page * result.prefs.page_size + 1
    rows: list[list[InlineKeyboardButton]] = []
    for n, hit in enumerate(hits, start=first):
        rows.append(
            [
                InlineKeyboardButton(t.gettext("{n} · Open in OCM ↗", n=n), url=poi_url(hit.charger.id)),
                InlineKeyboardButton(t.gettext("{n} · Navigate 🧭", n=n), url=navigation_url(hit.charger)),
            ]
        )
    if hits:
        rows.append(
            [
                InlineKeyboardButton(
                    f"ℹ️ {n}",
                    callback_data=codec.encode(DETAILS, hit.charger.id, result.id),
                    style=charger_button_style(hit.charger, now) if now is not None else None,
                )
                for n, hit in enumerate(hits, start=first)
            ]
        )
    pages = result.page_count()
    if pages > 1:
        paging = []
        if page > 0:
            paging.append(
                InlineKeyboardButton(t.gettext("‹ Prev"), callback_data=codec.encode(PAGE, result.id, page - 1))
            )
        paging.append(InlineKeyboardButton(f"{page + 1}/{pages}", callback_data=codec.encode(PAGE, result.id, page)))
        if page < pages - 1:
            paging.append(
                InlineKeyboardButton(t.gettext("Next ›"), callback_data=codec.encode(PAGE, result.id, page + 1))
            )
        rows.append(reading_order(t, paging))
    if result.kind is ResultKind.NEARBY:  # area and route results are not refined by radius or chips
        rows.extend(_filter_rows(t, result, codec, reference))
    if result.kind is ResultKind.ROUTE and result.route is not None:
        rows.append(
            [
                InlineKeyboardButton(
                    t.gettext("📍 Near my destination"), callback_data=codec.encode(NEAR_DESTINATION, result.id)
                )
            ]
        )
    if hits:
        rows.append(
            [InlineKeyboardButton(t.gettext("📤 Export (GPX, KML)"), callback_data=codec.encode(EXPORT, result.id))]
        )
    if result.few and result.can_widen:
        wider = radius(t, wider_radius(result.radius_km, unit_of(result)), unit_of(result))
        rows.append(
            [
                InlineKeyboardButton(
                    t.gettext("🔎 Wider radius: {radius}", radius=wider), callback_data=codec.encode(WIDER, result.id)
                )
            ]
        )
    filters_button = InlineKeyboardButton(t.gettext("⚙️ Filters"), callback_data=codec.encode(SETTINGS))
    rows.append([filters_button, not_listed_button(t, codec, result.point.latitude, result.point.longitude)])
    return InlineKeyboardMarkup(rows)


def _filter_rows(
    t: Translator, result: SearchResult, codec: CallbackCodec, reference: ReferenceData | None
) -> list[list[InlineKeyboardButton]]:
    relax_keys = [hint.key for hint in result.relax] if result.few else []
    buttons = []
    for hint in result.relax if result.few else ():
        label = filter_label(t, hint.key, result.prefs, reference)
        text = (
            t.gettext("Relax: {filter} (+{n})", filter=label, n=hint.hidden)
            if hint.hidden
            else t.gettext("Relax: {filter}", filter=label)
        )
        buttons.append(InlineKeyboardButton(text, callback_data=codec.encode(DROP_FILTER, result.id, hint.key.value)))
    for key in active_filters(result.prefs):
        if key in relax_keys:
            continue
        label = "✕ " + filter_label(t, key, result.prefs, reference)
        buttons.append(InlineKeyboardButton(label, callback_data=codec.encode(DROP_FILTER, result.id, key.value)))
    return [buttons[i : i + CHIPS_PER_ROW] for i in range(0, len(buttons), CHIPS_PER_ROW)]


def results_view(
    t: Translator,
    result: SearchResult,
    page: int,
    codec: CallbackCodec,
    *,
    now: datetime,
    reference: ReferenceData | None = None,
) -> View:
    return View(
        results_text(t, result, page, now=now, reference=reference),
        results_keyboard(t, result, page, codec, reference=reference, now=now),
    )


def _clamp(result: SearchResult, page: int) -> int:
    return min(max(0, page), result.page_count() - 1)


def place_choice_text(t: Translator, query: str) -> View:
    return View(gettext_html(t, "Which “{query}” do you mean?", query=clip(query, LABEL_CHARS)))


def place_choice_keyboard(
    labels: Sequence[str], codec: CallbackCodec, action: str, note_id: str
) -> InlineKeyboardMarkup:
    """One button per geocoded match (labels are plain text: buttons are not HTML)."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(clip(label, 60), callback_data=codec.encode(action, note_id, n))]
            for n, label in enumerate(labels)
        ]
    )


# Answers to input that is not a place, and to failures -------------------------------------------

PLACE_ERRORS: dict[PlaceProblem, str] = {
    PlaceProblem.EMPTY: N_("Send me a location, an address, a place name, coordinates or a map link."),
    PlaceProblem.TOO_LONG: N_(
        "That is too long for an address. Send a shorter address or a place name, or your location."
    ),
    PlaceProblem.NO_TEXT: N_(
        "I could not read a place in that. Send an address, a place name, coordinates or your location."
    ),
    PlaceProblem.LATITUDE_RANGE: N_("Latitude must be between -90 and 90. Please check the coordinates."),
    PlaceProblem.LONGITUDE_RANGE: N_("Longitude must be between -180 and 180. Please check the coordinates."),
    PlaceProblem.LINK_WITHOUT_POINT: N_(
        "I could not find a place in that link. Share the location itself, or send coordinates or an address."
    ),
}


def place_error_text(t: Translator, reason: PlaceProblem) -> View:
    return View(gettext_html(t, PLACE_ERRORS[reason]))


def place_not_found_text(t: Translator, query: str) -> View:
    return View(
        gettext_html(
            t,
            "I could not find “{query}”. Try adding the town or country, or send your location.",
            query=clip(query, LABEL_CHARS),
        )
    )


def search_limit_text(t: Translator, wait_seconds: float) -> View:
    """A driver who searched too often this minute: when to try again."""
    seconds = max(1, math.ceil(wait_seconds))
    return View(
        ngettext_html(
            t,
            "That's a lot of searches in one minute. Please wait {n} second, then try again.",
            "That's a lot of searches in one minute. Please wait {n} seconds, then try again.",
            seconds,
        )
    )


def geocoder_busy_text(t: Translator) -> View:
    return View(
        gettext_html(
            t, "Too many address searches right now. Try again in a few seconds, or send your location instead."
        )
    )


def geocoder_down_text(t: Translator) -> View:
    return View(
        gettext_html(
            t,
            "The address search (OpenStreetMap Nominatim) is not answering right now. "
            "Try again in a minute, or send your location instead.",
        )
    )


def charger_not_found_text(t: Translator, charger_id: int) -> View:
    return View(gettext_html(t, "Open Charge Map has no charger #{id} (it may have been removed).", id=charger_id))


def charger_usage_text(t: Translator) -> View:
    return View(gettext_html(t, "Send /charger and the charger's Open Charge Map ID, for example: /charger 100627"))
