"""Distances and directions on the Earth's surface, and distance units.

Example::

    here, there = GeoPoint(45.5122, -122.6587), GeoPoint(45.5084, -122.6647)
    haversine_km(here, there)                 # 0.63
    compass_point(initial_bearing(here, there))   # "SW"
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG), as geopy's great_circle uses
KM_PER_MILE = 1.609344
COMPASS_POINTS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
COMPASS_ARROWS = ("↑", "↗", "→", "↘", "↓", "↙", "←", "↖")


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
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def initial_bearing(a: GeoPoint, b: GeoPoint) -> float:
    """The compass bearing (0-360°, 0 = north) to set off from ``a`` towards ``b``."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlon = math.radians(b.longitude - a.longitude)
    x = math.sin(dlon) * math.cos(lat2)
    y = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(dlon)
    return (math.degrees(math.atan2(x, y)) + 360.0) % 360.0


def _sector(bearing: float) -> int:
    return int(((bearing % 360.0) + 22.5) // 45.0) % 8


def compass_point(bearing: float) -> str:
    """One of the eight compass points (N, NE, ... NW) nearest ``bearing``."""
    return COMPASS_POINTS[_sector(bearing)]


def compass_arrow(bearing: float) -> str:
    """An arrow pointing the way of ``bearing`` (↑ for north)."""
    return COMPASS_ARROWS[_sector(bearing)]


def km_to_miles(km: float) -> float:
    return km / KM_PER_MILE


def miles_to_km(miles: float) -> float:
    return miles * KM_PER_MILE
