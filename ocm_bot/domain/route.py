"""Chargers along a route, in driving order.

The line comes from the router when there is one (the handler asks it), else it is the great circle
between the ends (:func:`ocm_bot.routing.great_circle`; the result says so). ONE OCM request for the
whole route (fair use: never a series of point searches along it): a ``polyline`` corridor built by
:func:`ocm_bot.ocm.area.area_query` (simplified under OCM's 8 KB request line, with a ``distance``
whose degree buffer covers :data:`CORRIDOR_KM` at the route's latitude), narrowed to the exact
corridor and the driver's filters. Each hit's ``distance_km`` is how far along the route it lies
from the start; its ``detour_km`` is estimated as twice its distance from the line (there and back).

Example::

    result = await search_along(service, line, prefs, start_label="Berlin", destination=end,
                                destination_label="Potsdam", by_road=True, length_km=35.2)
"""

from __future__ import annotations

import logging
import secrets
from typing import Protocol

from ocm_bot.domain.filters import failed_filters, ocm_query
from ocm_bot.domain.geo import GeoPoint, initial_bearing
from ocm_bot.domain.preferences import UserPreferences
from ocm_bot.domain.search import Hit, ResultKind, RouteInfo, SearchResult, SearchService
from ocm_bot.domain.units import place_country
from ocm_bot.errors import InputError
from ocm_bot.ocm.area import Corridor, line_length_km, position_along_km, search_area
from ocm_bot.ocm.source import returned_count
from ocm_bot.routing import RoutingError, great_circle

log = logging.getLogger(__name__)
Line = tuple[tuple[float, float], ...]

CORRIDOR_KM = 2.0
"""How far from the line a charger may be: a detour of about 4 km at most."""
ROUTE_MAX_RESULTS = 200
MAX_ROUTE_KM = 1500.0
"""Longer routes are refused: one request could not hold their chargers, and a series is not fair use."""


class RouteTooLong(InputError):
    """The ends are farther apart than :data:`MAX_ROUTE_KM`."""


class LineSource(Protocol):
    """A router (:class:`ocm_bot.routing.Router`): the driving line between two points and its length."""

    async def route(self, start: tuple[float, float], end: tuple[float, float]) -> tuple[Line, float]: ...


class RoutePlanner:
    """Route lines: the router's (``ROUTER_URL``) when there is one and it answers, else the great circle."""

    def __init__(self, router: LineSource | None = None) -> None:
        self.router = router

    async def line(self, start: GeoPoint, end: GeoPoint) -> tuple[Line, float | None, bool]:
        """(the line, its length in km or None, whether it follows roads)."""
        ends = (start.latitude, start.longitude), (end.latitude, end.longitude)
        if self.router is not None:
            try:
                line, length_km = await self.router.route(*ends)
                return line, length_km, True
            except RoutingError as error:
                log.warning("the router failed, the route is a great circle: %r", error)
        return great_circle(*ends), None, False


async def search_along(
    service: SearchService,
    line: tuple[tuple[float, float], ...],
    prefs: UserPreferences,
    *,
    start_label: str | None,
    destination_label: str | None,
    by_road: bool,
    length_km: float | None = None,
    width_km: float = CORRIDOR_KM,
    owner: int | None = None,
) -> SearchResult:
    """Chargers within ``width_km`` of ``line`` that ``prefs`` lets through, in driving order."""
    length = length_km if length_km is not None else line_length_km(line)
    if length > MAX_ROUTE_KM:
        raise RouteTooLong(f"{length:.0f} km")
    start = GeoPoint(*line[0])
    destination = GeoPoint(*line[-1])
    corridor = Corridor(line, width_km)
    base = ocm_query(prefs, start, radius_km=1.0, max_results=ROUTE_MAX_RESULTS)
    chargers = await service.ask(lambda source: search_area(source, corridor, base))
    hits = []
    for charger in chargers:
        if failed_filters(charger, prefs, stop_at_first=True):
            continue
        along, off = position_along_km(line, charger.latitude, charger.longitude)
        where = GeoPoint(charger.latitude, charger.longitude)
        hits.append(Hit(charger, along, initial_bearing(start, where), detour_km=2 * off))
    hits.sort(key=lambda hit: (hit.distance_km, hit.charger.id))
    result = SearchResult(
        id=secrets.token_urlsafe(6),
        point=start,
        label=start_label,
        radius_km=width_km,
        prefs=prefs,
        hits=tuple(hits),
        country_iso=place_country(start, None),
        complete=returned_count(chargers) < ROUTE_MAX_RESULTS,
        kind=ResultKind.ROUTE,
        route=RouteInfo(destination, destination_label, length, by_road),
    )
    return await service.keep(result, owner=owner)
