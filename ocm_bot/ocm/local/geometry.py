"""Distances on the Earth for the local source: haversine units, point in polygon, distance to a route.

The grid compares distances in haversine units (``hav`` of the central angle), which orders points
like kilometres do without a square root or an arcsine per point.
"""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0  # the mean radius; OCM's GeoManager uses it too
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180  # of latitude (and of longitude at the equator)


def hav(angle: float) -> float:
    """The haversine of an angle in radians: sin²(angle / 2)."""
    return math.sin(angle / 2) ** 2


def hav_of_km(km: float) -> float:
    """A great-circle distance in haversine units (a distance past the antipode counts as the antipode)."""
    return hav(min(km / EARTH_RADIUS_KM, math.pi))


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
    scale = KM_PER_DEGREE

    def xy(point_lat: float, point_lon: float) -> tuple[float, float]:
        dlon = (point_lon - start[1] + 540) % 360 - 180
        return dlon * mid_cos * scale, (point_lat - start[0]) * scale

    px, py = xy(lat, lon)
    ex, ey = xy(*end)
    length2 = ex * ex + ey * ey
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, (px * ex + py * ey) / length2))
    return math.hypot(px - t * ex, py - t * ey)
