"""Distances and directions on the Earth's surface, for every layer: the OCM client's search cache,
the local OCM index, the domain's search and live locations.

One sphere for all: :data:`EARTH_RADIUS_KM` is 6371.0 km, the radius OCM itself computes each
charger's ``Distance`` with (``GeoManager.CalcDistance``). A distance the bot computes then agrees
with the one OCM returns, which the search cache's "an earlier answer proves this one" reasoning
compares against. (The IUGG mean radius, 6371.0088 km, differs by 1.4 ppm: under a metre in 500 km.)

:func:`haversine_km` is plain ``math`` because searches call it for thousands of chargers, and the
local index compares distances in haversine units (:func:`hav`, :func:`hav_of_km`), which order
points like kilometres do without a square root or an arcsine per point. :func:`initial_bearing` is
asked once per charger shown, so it comes from geographiclib (on the WGS84 ellipsoid);
:data:`KM_PER_MILE` is geopy's (the international mile). :func:`point_in_polygon` and
:func:`segment_distance_km` answer OCM's polygon and route searches (the local source's). Example::

    haversine_km(45.5122, -122.6587, 45.5084, -122.6647)     # 0.63
    compass_sector(initial_bearing(45.5122, -122.6587, 45.5084, -122.6647))   # 5 (south-west)
"""

from __future__ import annotations

import math

from geographiclib.geodesic import Geodesic
from geopy import units

EARTH_RADIUS_KM = 6371.0
"""OCM's sphere (see the module docstring for why this one)."""
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180
"""111.19: a degree of latitude on OCM's sphere, everywhere (and of longitude at the equator)."""
KM_PER_MILE: float = units.kilometers(miles=1)
"""1.609344: the international mile."""


def hav(angle: float) -> float:
    """The haversine of an angle in radians: sin²(angle / 2)."""
    return math.sin(angle / 2) ** 2


def hav_of_km(km: float) -> float:
    """A great-circle distance in haversine units (a distance past the antipode counts as the antipode)."""
    return hav(min(km / EARTH_RADIUS_KM, math.pi))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres on OCM's sphere."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    h = hav(phi2 - phi1) + math.cos(phi1) * math.cos(phi2) * hav(math.radians(lon2 - lon1))
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


def point_in_polygon(lat: float, lon: float, polygon: tuple[tuple[float, float], ...]) -> bool:
    """Whether a point is inside a polygon of (lat, lon) vertices (even-odd rule, degrees as plane coordinates)."""
    inside = False
    previous_lat, previous_lon = polygon[-1]
    for vertex_lat, vertex_lon in polygon:
        if (vertex_lat > lat) != (previous_lat > lat):
            crossing = vertex_lon + (lat - vertex_lat) * (previous_lon - vertex_lon) / (previous_lat - vertex_lat)
            if lon < crossing:
                inside = not inside
        previous_lat, previous_lon = vertex_lat, vertex_lon
    return inside


def segment_distance_km(lat: float, lon: float, start: tuple[float, float], end: tuple[float, float]) -> float:
    """Distance from a point to a route segment, on a plane tangent at the segment (routes are short)."""
    mid_cos = math.cos(math.radians((start[0] + end[0]) / 2))

    def xy(point_lat: float, point_lon: float) -> tuple[float, float]:
        dlon = (point_lon - start[1] + 540) % 360 - 180
        return dlon * mid_cos * KM_PER_DEGREE, (point_lat - start[0]) * KM_PER_DEGREE

    px, py = xy(lat, lon)
    ex, ey = xy(*end)
    length2 = ex * ex + ey * ey
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, (px * ex + py * ey) / length2))
    return math.hypot(px - t * ex, py - t * ey)
