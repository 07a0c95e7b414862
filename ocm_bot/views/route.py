"""The top of a route result and each charger's place along it.

    <b>Chargers along Berlin → Potsdam</b> · within 2 km of the route
    35 km by road
    9 chargers in driving order
    ...
    1. <b>Ladepunkt Mitte</b>
       ...
       🛣 4.3 km from the start · detour about 0.6 km

Without a router the line is the great circle between the ends, and the header says so.
"""

from __future__ import annotations

from ocm_bot.domain.search import Hit, SearchResult
from ocm_bot.i18n import Translator
from ocm_bot.views.common import View
from ocm_bot.views.format import clip, distance, radius
from ocm_bot.views.html import Html, bold, gettext_html, italic, ngettext_html

LABEL_CHARS = 40
NEAR_DESTINATION = "nd"
"""Callback data ``nd|<search id>``: chargers near the route's destination, with the driver's filters."""


def route_title(t: Translator, result: SearchResult) -> Html:
    start = clip(result.label, LABEL_CHARS) if result.label else t.gettext("start")
    end = result.route.destination_label if result.route else None
    destination = clip(end, LABEL_CHARS) if end else t.gettext("destination")
    title = bold(gettext_html(t, "Chargers along {start} → {destination}", start=start, destination=destination))
    width = radius(t, result.radius_km, result.unit)
    return title + " · " + gettext_html(t, "within {radius} of the route", radius=width)


def route_summary_lines(t: Translator, result: SearchResult, page: int) -> list[Html]:
    out = []
    if result.route is not None:
        length = distance(t, result.route.length_km, result.unit)
        if result.route.by_road:
            out.append(gettext_html(t, "{length} by road", length=length))
        else:
            out.append(
                italic(
                    gettext_html(
                        t,
                        "No road route available: this is the straight line (great circle) between the two places, "
                        "{length}. Chargers near the roads you take may be missing.",
                        length=length,
                    )
                )
            )
    count = len(result.hits)
    if not count:
        out.append(gettext_html(t, "No chargers found along the route."))
        return out
    line = ngettext_html(t, "{n} charger in driving order", "{n} chargers in driving order", count)
    if result.page_count() > 1:
        line += " · " + gettext_html(t, "page {page} of {pages}", page=page + 1, pages=result.page_count())
    out.append(line)
    if not result.complete:
        out.append(gettext_html(t, "Open Charge Map sent its first {n}: narrow your filters to see all.", n=count))
    return out


def along_line(t: Translator, result: SearchResult, hit: Hit) -> Html:
    """Where a charger lies on the route: distance from the start and the detour (an estimate)."""
    from_start = distance(t, hit.distance_km, result.unit)
    detour = distance(t, hit.detour_km or 0.0, result.unit)
    return gettext_html(t, "🛣 {along} from the start · detour about {detour}", along=from_start, detour=detour)


def here_words(t: Translator) -> frozenset[str]:
    """What a driver may type for "the location I last shared" as an end of a route, in English and theirs."""
    # Translators: typed by a driver as one end of "/route here -> Leeds"; one short lower-case word.
    return frozenset({"here", "my location", t.gettext("here").casefold()})


def route_usage_text(t: Translator) -> View:
    return View(
        gettext_html(
            t,
            "Send /route with a start and a destination, for example: /route Leeds -> Garforth\n"
            "Each end can be a place, an address, coordinates, or “here” for the location you last shared.",
        )
    )


def route_end_not_found_text(t: Translator, query: str) -> View:
    return View(gettext_html(t, "I could not find “{query}” for the route.", query=clip(query, LABEL_CHARS)))


def route_here_unknown_text(t: Translator) -> View:
    return View(gettext_html(t, "Share your location first, then “here” means where you are."))


def route_too_long_text(t: Translator) -> View:
    return View(gettext_html(t, "That route is too long to search in one go. Try a shorter stretch."))
