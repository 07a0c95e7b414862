"""Distances and directions on the Earth's surface, for every layer: the OCM client's search cache,
the local OCM index, the domain's search and live locations.

One sphere for all: :data:`EARTH_RADIUS_KM` is 6371.0 km, the radius OCM itself computes each
charger's ``Distance`` with (``GeoManager.CalcDistance``). A distance the bot computes then agrees
with the one OCM returns, which the search cache's "an earlier answer proves this one" reasoning
compares against. (The IUGG mean radius, 6371.0088 km, differs by 1.4 ppm: under a metre in 500 km.)

:func:`haversine_km` is plain ``math`` because searches call it for thousands of chargers;
:func:`initial_bearing` is asked once per charger shown, so it comes from geographiclib (on the WGS84
ellipsoid); :data:`KM_PER_MILE` is geopy's (the international mile). Example::

    haversine_km(45.5122, -122.6587, 45.5084, -122.6647)     # 0.63
    compass_sector(initial_bearing(45.5122, -122.6587, 45.5084, -122.6647))   # 5 (south-west)
"""

from __future__ import annotations

import math

from geographiclib.geodesic import Geodesic
from geopy import units

EARTH_RADIUS_KM = 6371.0
"""OCM's sphere (see the module docstring for why this one)."""
KM_PER_MILE: float = units.kilometers(miles=1)
"""1.609344: the international mile."""


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres on OCM's sphere."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def initial_bearing(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The compass bearing (0-360°, 0 = north) to set off from the first point towards the second."""
    azimuth: float = Geodesic.WGS84.Inverse(lat1, lon1, lat2, lon2, Geodesic.AZIMUTH)["azi1"]
    return (azimuth + 360.0) % 360.0


def compass_sector(bearing: float) -> int:
    """Which of the eight compass points (0 = north, 1 = north-east, ... 7 = north-west) is nearest ``bearing``."""
    return int(((bearing % 360.0) + 22.5) // 45.0) % 8


def km_to_miles(km: float) -> float:
    return km / KM_PER_MILE


def miles_to_km(miles: float) -> float:
    return miles * KM_PER_MILE
