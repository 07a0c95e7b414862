"""Chargers in an area: a city, a district, a box.

One OCM request over the place's outline (or its bounding box), with the driver's server-side filters
(:func:`~ocm_bot.domain.filters.ocm_query`); the answer is narrowed to the real shape by the OCM layer
(:func:`ocm_bot.ocm.area.search_area`: OCM searches a polygon's convex hull) and to the rest of the
driver's filters here. Hits are ordered by distance from the place's centre (OCM answers a box
unsorted) and kept like any result, so paging, details and export work the same. The summary (how
many, how many fast DC, by connector type, by operator) is computed from the hits.

Example::

    area = Polygon(rings=place.outline) if place.outline else box_of(place.bounds)
    result = await search_in_area(service, area, prefs, centre=place.point, label="Leeds")
    summary = summarise(result.hits)
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass

from ocm_bot.domain.filters import failed_filters, ocm_query
from ocm_bot.domain.geo import GeoPoint, haversine_km, initial_bearing
from ocm_bot.domain.preferences import UserPreferences
from ocm_bot.domain.search import Hit, ResultKind, SearchResult, SearchService
from ocm_bot.domain.units import place_country
from ocm_bot.ocm.area import Area, BoundingBox, Polygon, search_area
from ocm_bot.ocm.models import Charger
from ocm_bot.ocm.source import returned_count

AREA_MAX_RESULTS = 200
"""The OCM client's cap per request: an area holding more shows the first 200 and says so."""
FAST_DC_KW = 50.0
DC_CURRENT_TYPE = 30  # OCM's "DC"


PLACE_FIELD = "{place}"
_END_PUNCTUATION = "?.!¿¡。？！ \t"


def place_after_phrase(text: str, phrase: str) -> str | None:
    """The place in ``text`` when it is ``phrase`` ("chargers in {place}") with a place filled in, else None.

    The phrase is split on ``{place}``: what comes before must open the text as whole words and what
    comes after must close it (a language that puts the place first), ignoring case, runs of spaces
    and a closing "?" or "!". Nothing in the phrase is a pattern, so a translation cannot break the
    matching. A phrase without exactly one ``{place}``, or with nothing but it, matches nothing.
    """
    if phrase.count(PLACE_FIELD) != 1:
        return None
    before, after = (" ".join(part.split()).casefold() for part in phrase.split(PLACE_FIELD))
    said = " ".join(text.split()).rstrip(_END_PUNCTUATION)
    folded = said.casefold()
    if len(folded) != len(said):  # a letter whose case folding changes its length: positions would drift
        return None
    if not (before or after) or not folded.startswith(before):
        return None  # a phrase of the place alone would make every place an area search
    if before and before[-1].isalnum() and folded[len(before) : len(before) + 1].isalnum():
        return None  # "chargers inverness" is no "chargers in …"
    end = len(folded)
    if after:
        if not folded.endswith(after) or (after[0].isalnum() and folded[-len(after) - 1 : -len(after)].isalnum()):
            return None
        end -= len(after)
    place = said[len(before) : end].strip(" ,:;-–—")
    return place or None


def area_of(
    outline: tuple[tuple[tuple[float, float], ...], ...], bounds: tuple[float, float, float, float] | None
) -> Area | None:
    """The place's outline when the geocoder gave one, else its bounding box (south, north, west, east)."""
    if outline:
        return Polygon(outline)
    if bounds is not None:
        south, north, west, east = bounds
        return BoundingBox(north=north, west=west, south=south, east=east)
    return None


async def search_in_area(
    service: SearchService,
    area: Area,
    prefs: UserPreferences,
    *,
    centre: GeoPoint,
    label: str | None,
    country_iso: str | None = None,
    owner: int | None = None,
) -> SearchResult:
    """The chargers inside ``area`` that ``prefs`` lets through, nearest ``centre`` first (one OCM request)."""
    base = ocm_query(prefs, centre, radius_km=1.0, max_results=AREA_MAX_RESULTS)
    chargers = await service.ask(lambda source: search_area(source, area, base))
    hits = [
        Hit(charger, haversine_km(centre, _where(charger)), initial_bearing(centre, _where(charger)))
        for charger in chargers
        if not failed_filters(charger, prefs, stop_at_first=True)
    ]
    hits.sort(key=lambda hit: (hit.distance_km, hit.charger.id))
    result = SearchResult(
        id=secrets.token_urlsafe(6),
        point=centre,
        label=label,
        radius_km=max((hit.distance_km for hit in hits), default=0.0),
        prefs=prefs,
        hits=tuple(hits),
        country_iso=place_country(centre, country_iso),
        complete=returned_count(chargers) < AREA_MAX_RESULTS,
        kind=ResultKind.AREA,
    )
    return await service.keep(result, owner=owner)


@dataclass(frozen=True, slots=True)
class AreaSummary:
    """What is in an area at a glance; connector types and operators by OCM's names, most first."""

    chargers: int
    fast_dc: int
    by_connector: tuple[tuple[str, int], ...]
    by_operator: tuple[tuple[str, int], ...]


def summarise(hits: tuple[Hit, ...], *, top: int = 4) -> AreaSummary:
    connectors: Counter[str] = Counter()
    operators: Counter[str] = Counter()
    for hit in hits:
        charger = hit.charger
        connectors.update({c.connection_type.title for c in charger.connections if c.connection_type})
        if charger.operator is not None and charger.operator.id != 1 and charger.operator.title:
            operators[charger.operator.title] += 1
    return AreaSummary(
        chargers=len(hits),
        fast_dc=sum(1 for hit in hits if is_fast_dc(hit.charger)),
        by_connector=tuple(connectors.most_common(top)),
        by_operator=tuple(operators.most_common(top)),
    )


def is_fast_dc(charger: Charger) -> bool:
    """A DC connection of at least :data:`FAST_DC_KW`."""
    return any(
        c.current_type is not None and c.current_type.id == DC_CURRENT_TYPE and (c.power_kw or 0) >= FAST_DC_KW
        for c in charger.connections
    )


def _where(charger: Charger) -> GeoPoint:
    return GeoPoint(charger.latitude, charger.longitude)
