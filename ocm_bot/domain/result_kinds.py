"""What a kept result answers besides "chargers near a point": an area or a route (its destination).

Example::

    RouteInfo(GeoPoint(53.79, -1.39), "Garforth", length_km=12.4, by_road=True)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ocm_bot.domain.geo import GeoPoint


class ResultKind(enum.StrEnum):
    """What a result answers: chargers near a point, in an area (:mod:`ocm_bot.domain.area`), or along a
    route (:mod:`ocm_bot.domain.route`). Paging, details and export treat them alike."""

    NEARBY = "nearby"
    AREA = "area"
    ROUTE = "route"


@dataclass(frozen=True, slots=True)
class RouteInfo:
    """The route a route result lies along: its end, its length, and whether a router drew the line."""

    destination: GeoPoint
    destination_label: str | None
    length_km: float
    by_road: bool
    """False: no router was configured or reachable, the line is the great circle between the ends."""
