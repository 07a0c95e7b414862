"""Searching OCM by area: a bounding box, a polygon, or a corridor along a route line.

OCM's area parameters do not answer exactly what they seem to ask (``../shared/README.md``, read
from the server's source), so every area search here is one request that over-asks, then an exact
local filter:

- ``polygon`` is replaced by its convex hull: the answer is filtered to the real polygon;
- ``boundingbox`` answers are unsorted: the caller orders them;
- ``polyline`` with ``distance`` buffers the line by ``distance_km / 200`` *degrees*, about ±0.56·D km
  north-south but only ±0.35·D km east-west at 51° N: :func:`corridor_distance_km` asks for a
  ``distance`` whose buffer covers the wanted width in every direction at the route's highest
  latitude, and the answer is filtered to the real corridor (distance to the unsimplified line);
- a request line over about 8 KB is refused: a long line is simplified (Douglas-Peucker, tolerance
  well under the corridor width, :func:`simplify_km`) until its encoded form fits, and the distance
  asked for grows by the tolerance so the buffer still covers the corridor.

Example::

    corridor = Corridor(line=((52.52, 13.40), (52.39, 13.06)), width_km=2)
    query = area_query(corridor, base=PoiQuery(maxresults=200, minpowerkw=50))
    chargers = [c for c in await source.search(query) if contains(corridor, c.latitude, c.longitude)]
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from urllib.parse import quote

import polyline as polyline_codec

from ocm_bot.geometry import KM_PER_DEGREE, haversine_km, point_in_polygon, segment_distance_km
from ocm_bot.ocm.models import Charger
from ocm_bot.ocm.query import PoiQuery
from ocm_bot.ocm.source import ChargerSource

Point = tuple[float, float]
"""(latitude, longitude) in degrees."""

OCM_DEGREES_PER_KM = 1 / 200
"""OCM's polyline buffer: ``distance_km / 200`` degrees."""
MAX_SHAPE_CHARS = 5_000
"""The encoded polyline or polygon, percent-encoded, stays under this (the request line under 8 KB)."""
_FIRST_TOLERANCE_SHARE = 0.05  # of the corridor width
_MAX_TOLERANCE_SHARE = 0.4


@dataclass(frozen=True, slots=True)
class BoundingBox:
    north: float
    west: float
    south: float
    east: float

    def __post_init__(self) -> None:
        if not (self.north > self.south and self.east > self.west):
            raise ValueError(f"a bounding box needs north > south and east > west, got {self!r}")


@dataclass(frozen=True, slots=True)
class Polygon:
    """One or more rings (the parts of a multipolygon); a point inside any ring is inside."""

    rings: tuple[tuple[Point, ...], ...]

    def __post_init__(self) -> None:
        if not self.rings or any(len(ring) < 3 for ring in self.rings):
            raise ValueError("a polygon needs at least one ring of three points")

    @property
    def points(self) -> tuple[Point, ...]:
        return tuple(p for ring in self.rings for p in ring)


@dataclass(frozen=True, slots=True)
class Corridor:
    """Everything within ``width_km`` of a route line."""

    line: tuple[Point, ...]
    width_km: float

    def __post_init__(self) -> None:
        if len(self.line) < 2:
            raise ValueError("a corridor needs a line of two points or more")
        if not (math.isfinite(self.width_km) and self.width_km > 0):
            raise ValueError(f"a corridor needs a positive width, got {self.width_km!r}")


Area = BoundingBox | Polygon | Corridor


def area_query(area: Area, base: PoiQuery) -> PoiQuery:
    """``base`` (its filters, maxresults, shape of the answer) asked over ``area`` in one request."""
    base = base.replace(latitude=None, longitude=None, distance=None, boundingbox=None, polygon=(), polyline=())
    if isinstance(area, BoundingBox):
        return base.replace(boundingbox=((area.north, area.west), (area.south, area.east)))
    if isinstance(area, Polygon):
        return base.replace(polygon=_fitting_ring(area))
    line, tolerance = fitting_line(area.line, area.width_km)
    return base.replace(polyline=line, distance=corridor_distance_km(line, area.width_km + tolerance))


def contains(area: Area, latitude: float, longitude: float) -> bool:
    """Whether a point lies in the real area (not OCM's hull or degree buffer)."""
    if isinstance(area, BoundingBox):
        return area.south <= latitude <= area.north and area.west <= longitude <= area.east
    if isinstance(area, Polygon):
        return any(point_in_polygon(latitude, longitude, ring) for ring in area.rings)
    return distance_to_line_km(area.line, latitude, longitude) <= area.width_km


async def search_area(source: ChargerSource, area: Area, base: PoiQuery) -> list[Charger]:
    """One OCM request for ``area``, filtered to the exact area (OCM's answer order kept)."""
    chargers = await source.search(area_query(area, base))
    return [c for c in chargers if contains(area, c.latitude, c.longitude)]


def corridor_distance_km(line: tuple[Point, ...], width_km: float) -> float:
    """The ``distance`` (km) whose OCM buffer (``distance / 200`` degrees) reaches ``width_km`` east-west
    at the line's highest latitude, the narrowest place of the buffer (and so everywhere)."""
    widest_lat = min(89.0, max(abs(lat) for lat, _ in line))
    degrees = width_km / (KM_PER_DEGREE * math.cos(math.radians(widest_lat)))
    return degrees / OCM_DEGREES_PER_KM * 1.001  # a hair over, for rounding in the request


def distance_to_line_km(line: tuple[Point, ...], latitude: float, longitude: float) -> float:
    if len(line) == 1:
        return haversine_km(latitude, longitude, *line[0])
    return min(segment_distance_km(latitude, longitude, a, b) for a, b in itertools.pairwise(line))


def position_along_km(line: tuple[Point, ...], latitude: float, longitude: float) -> tuple[float, float]:
    """(how far along ``line`` the point's nearest spot is, the distance to the line), in km."""
    best = (math.inf, 0.0)
    travelled = 0.0
    for a, b in itertools.pairwise(line):
        segment = haversine_km(*a, *b)
        off = segment_distance_km(latitude, longitude, a, b)
        if off < best[0]:
            along_segment = math.sqrt(max(0.0, haversine_km(latitude, longitude, *a) ** 2 - off**2))
            best = (off, travelled + min(segment, along_segment))
        travelled += segment
    return best[1], best[0]


def line_length_km(line: tuple[Point, ...]) -> float:
    return sum(haversine_km(*a, *b) for a, b in itertools.pairwise(line))


def simplify_km(line: tuple[Point, ...], tolerance_km: float) -> tuple[Point, ...]:
    """Douglas-Peucker: the fewest points of ``line`` such that no left-out point is farther than
    ``tolerance_km`` from the simplified line (iterative: routes can have tens of thousands of points)."""
    if len(line) < 3:
        return tuple(line)
    keep = [False] * len(line)
    keep[0] = keep[-1] = True
    stack = [(0, len(line) - 1)]
    while stack:
        first, last = stack.pop()
        farthest, index = -1.0, -1
        for i in range(first + 1, last):
            off = segment_distance_km(line[i][0], line[i][1], line[first], line[last])
            if off > farthest:
                farthest, index = off, i
        if index >= 0 and farthest > tolerance_km:
            keep[index] = True
            stack.append((first, index))
            stack.append((index, last))
    return tuple(p for p, kept in zip(line, keep, strict=True) if kept)


def fitting_line(line: tuple[Point, ...], width_km: float) -> tuple[tuple[Point, ...], float]:
    """``line`` simplified until its request fits (:data:`MAX_SHAPE_CHARS`), and the tolerance used (km).

    Starts at 5 % of the corridor width and grows to at most 40 %: the corridor asked of OCM widens
    by the tolerance, so nothing within ``width_km`` of the real line is lost."""
    line = tuple((round(lat, 5), round(lng, 5)) for lat, lng in line)
    tolerance = width_km * _FIRST_TOLERANCE_SHARE
    while True:
        simplified = simplify_km(line, tolerance)
        if encoded_size(simplified) <= MAX_SHAPE_CHARS or tolerance >= width_km * _MAX_TOLERANCE_SHARE:
            return simplified, tolerance
        tolerance = min(tolerance * 1.6, width_km * _MAX_TOLERANCE_SHARE)


def encoded_size(points: tuple[Point, ...]) -> int:
    """Characters the points take in the request line (Google encoded polyline, percent-encoded)."""
    return len(quote(polyline_codec.encode(list(points)), safe=""))


def _fitting_ring(polygon: Polygon) -> tuple[Point, ...]:
    """The points OCM gets for a polygon: it searches their convex hull anyway, so send the hull,
    thinned until it fits the request line (the local filter uses the real rings)."""
    hull = _convex_hull(polygon.points)
    step = 1
    while encoded_size(hull[::step]) > MAX_SHAPE_CHARS and len(hull[::step]) > 8:
        step += 1
    if step == 1:
        return hull
    # A thinned hull would cut corners: pad it outwards a little by using its bounding box instead.
    lats = [p[0] for p in hull]
    lngs = [p[1] for p in hull]
    return ((max(lats), min(lngs)), (max(lats), max(lngs)), (min(lats), max(lngs)), (min(lats), min(lngs)))


def _convex_hull(points: tuple[Point, ...]) -> tuple[Point, ...]:
    unique = sorted({(round(lat, 6), round(lng, 6)) for lat, lng in points})
    if len(unique) < 3:
        return tuple(unique)

    def cross(o: Point, a: Point, b: Point) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    def half(sequence: list[Point]) -> list[Point]:
        chain: list[Point] = []
        for point in sequence:
            while len(chain) >= 2 and cross(chain[-2], chain[-1], point) <= 0:
                chain.pop()
            chain.append(point)
        return chain[:-1]

    return tuple(half(unique) + half(unique[::-1]))
