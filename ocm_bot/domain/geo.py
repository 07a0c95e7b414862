"""Points on the Earth's surface as the domain passes them around, and the distances between them.

The formulas and the Earth's radius are :mod:`ocm_bot.geometry`'s (one copy for every layer); here
they take :class:`GeoPoint`. The views name directions (:mod:`ocm_bot.views.vocabulary`). Example::

    here, there = GeoPoint(45.5122, -122.6587), GeoPoint(45.5084, -122.6647)
    haversine_km(here, there)                 # 0.63
    initial_bearing(here, there)              # 227.5 (south-west)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ocm_bot import geometry


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A WGS84 point; construction refuses coordinates outside the globe."""

    latitude: float
    longitude: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.latitude) and -90 <= self.latitude <= 90):
            raise ValueError(f"latitude must be between -90 and 90, got {self.latitude!r}")
        if not (math.isfinite(self.longitude) and -180 <= self.longitude <= 180):
            raise ValueError(f"longitude must be between -180 and 180, got {self.longitude!r}")

    def rounded(self, digits: int = 5) -> GeoPoint:
        """The point to ``digits`` decimals (5 decimals is about 1 m)."""
        return GeoPoint(round(self.latitude, digits), round(self.longitude, digits))


def haversine_km(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance in kilometres."""
    return geometry.haversine_km(a.latitude, a.longitude, b.latitude, b.longitude)


def initial_bearing(a: GeoPoint, b: GeoPoint) -> float:
    """The compass bearing (0-360°, 0 = north) to set off from ``a`` towards ``b``."""
    return geometry.initial_bearing(a.latitude, a.longitude, b.latitude, b.longitude)
