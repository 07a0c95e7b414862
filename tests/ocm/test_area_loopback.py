"""Area searches (ocm/area.py) against the loopback OCM server, which buffers polylines by
``distance_km / 200`` degrees, hulls polygons and refuses request lines over 8 KB like the real one.

The contract: the client finds every charger within the asked corridor or shape, and only those,
in ONE request; expected sets come from brute force over the fake's own data with haversine.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import polyline
import pytest

from ocm_bot.ocm.area import (
    BoundingBox,
    Corridor,
    Polygon,
    area_query,
    corridor_distance_km,
    encoded_size,
    search_area,
    simplify_km,
)
from ocm_bot.ocm.client import OcmClient
from ocm_bot.ocm.query import PoiQuery
from tests.fakes.ocm import FakeOcmServer, haversine_km

BASE = PoiQuery(maxresults=200)


@pytest.fixture
async def ocm(http: httpx.AsyncClient, ocm_server: FakeOcmServer, reference_copy: Path) -> AsyncIterator[OcmClient]:
    client = OcmClient(http, base_url=ocm_server.url, api_key=ocm_server.api_key, reference_cache_path=reference_copy)
    await client.start()
    ocm_server.clear()
    yield client
    await client.aclose()


def _densified(line: list[tuple[float, float]], step_km: float = 0.1) -> list[tuple[float, float]]:
    out = []
    for (lat1, lon1), (lat2, lon2) in itertools.pairwise(line):
        n = max(1, math.ceil(haversine_km(lat1, lon1, lat2, lon2) / step_km))
        out += [(lat1 + (lat2 - lat1) * k / n, lon1 + (lon2 - lon1) * k / n) for k in range(n)]
    return [*out, line[-1]]


def brute_force_corridor(server: FakeOcmServer, ids: list[int], line, width_km: float, step_km: float = 0.1):
    """(certainly inside, certainly outside): haversine to the line sampled every ``step_km`` (a sample
    spacing s overstates a distance w by about s²/8w: 2 m for 100 m at 3 km); 50 m either side of the edge
    left out."""
    dense = _densified(line, step_km)
    inside, outside = set(), set()
    for poi_id in ids:
        address = server.poi(poi_id)["AddressInfo"]
        km = min(haversine_km(address["Latitude"], address["Longitude"], lat, lon) for lat, lon in dense)
        if km <= width_km - 0.05:
            inside.add(poi_id)
        elif km >= width_km + 0.05:
            outside.add(poi_id)
    return inside, outside


@pytest.mark.parametrize(
    "line",
    [
        [(51.30, -1.40), (51.30, -0.60)],  # east-west: OCM's buffer is narrowest across it
        [(51.00, -1.00), (51.60, -1.00)],  # north-south
        [(51.05, -1.35), (51.30, -1.00), (51.10, -0.70), (51.55, -0.65)],
    ],
)
async def test_the_client_finds_every_charger_within_the_asked_corridor_in_one_request(
    ocm: OcmClient, ocm_server: FakeOcmServer, line
) -> None:
    generated = ocm_server.generate_chargers(600, center=(51.3, -1.0), radius_km=35, seed=5)
    corridor = Corridor(tuple(line), width_km=3.0)
    found = await search_area(ocm, corridor, BASE)
    inside, outside = brute_force_corridor(ocm_server, generated, line, 3.0)
    got = {c.id for c in found}
    assert inside <= got, f"missed {len(inside - got)} chargers within 3 km of the route"
    assert not got & outside
    assert len(inside) > 20
    [request] = ocm_server.requests_to("/v3/poi")
    assert "polyline" in request.params and float(request.params["distance"]) > 3.0 / 0.35


async def test_a_corridor_asked_with_distance_equal_to_its_width_would_miss_chargers(
    ocm: OcmClient, ocm_server: FakeOcmServer
) -> None:
    """Why the distance is chosen: OCM's ±distance/200 degrees is narrower than ±distance km."""
    generated = ocm_server.generate_chargers(800, center=(51.3, -1.0), radius_km=20, seed=6)
    line = ((51.30, -1.30), (51.30, -0.70))
    naive = await ocm.search(PoiQuery(polyline=line, distance=3.0, maxresults=200))
    inside, _ = brute_force_corridor(ocm_server, generated, line, 3.0)
    assert inside - {c.id for c in naive}


async def test_a_long_route_is_simplified_to_fit_the_request_line(ocm: OcmClient, ocm_server: FakeOcmServer) -> None:
    """A 400 km winding route of 8,000 points (an OSRM 'full' overview, ~51 KB encoded): sent as it is,
    OCM would answer 414; Douglas-Peucker with a tolerance of a few % of the corridor makes it fit."""
    rng = random.Random(3)
    line = [
        (51.0 + 0.9 * k / 8000 + 0.15 * math.sin(k / 150) + rng.uniform(-0.0004, 0.0004), -4.0 + 5.0 * k / 8000)
        for k in range(8000)
    ]
    generated = ocm_server.generate_chargers(500, center=(51.45, -1.5), radius_km=120, seed=8)
    corridor = Corridor(tuple(line), width_km=2.0)
    assert encoded_size(tuple(line)) > 8192
    found = await search_area(ocm, corridor, PoiQuery(maxresults=200))
    [request] = ocm_server.requests_to("/v3/poi")
    assert request.status == 200
    assert len(request.path) + len(request.query) < 8192
    sent = polyline.decode(request.params["polyline"])
    assert 20 < len(sent) < 1000  # the route's shape is kept, its noise dropped
    # the tolerance stayed well under the corridor: the distance asked grew by under 20 %
    assert float(request.params["distance"]) < corridor_distance_km(tuple(line), 2.0 * 1.2)
    inside, outside = brute_force_corridor(ocm_server, generated, [*line[::10], line[-1]], 2.0, step_km=0.4)
    got = {c.id for c in found}
    assert inside and inside <= got
    assert not got & outside


async def test_a_polygon_search_keeps_only_chargers_in_the_real_shape(
    ocm: OcmClient, ocm_server: FakeOcmServer
) -> None:
    """A U around Portland's centre: OCM answers its convex hull (the notch too); the client drops the notch."""
    lat, lon, d = 45.5122, -122.6587, 0.05
    ocm_server.generate_chargers(150, center=(lat, lon), radius_km=6, seed=9)
    u_shape = (
        (lat - d, lon - d),
        (lat + d, lon - d),
        (lat + d, lon - d / 2),
        (lat - d / 2, lon - d / 2),
        (lat - d / 2, lon + d / 2),
        (lat + d, lon + d / 2),
        (lat + d, lon + d),
        (lat - d, lon + d),
    )
    found = await search_area(ocm, Polygon((u_shape,)), BASE)
    everything = await ocm.search(PoiQuery(boundingbox=((lat + d, lon - d), (lat - d, lon + d)), maxresults=200))
    in_notch = {
        c.id for c in everything if lat - d / 2 < c.latitude < lat + d and lon - d / 2 < c.longitude < lon + d / 2
    }
    assert in_notch and found
    assert not in_notch & {c.id for c in found}
    assert {c.id for c in found} == {c.id for c in everything} - in_notch
    assert len(ocm_server.requests_to("/v3/poi")) == 2
    assert len(everything) < 200  # not cut: the comparison is complete


async def test_a_bounding_box_search_is_one_request_in_documented_format(
    ocm: OcmClient, ocm_server: FakeOcmServer
) -> None:
    box = BoundingBox(north=51.53, west=-0.05, south=51.51, east=-0.01)
    found = await search_area(ocm, box, BASE)
    [request] = ocm_server.requests_to("/v3/poi")
    assert request.params["boundingbox"] == "(51.53,-0.05),(51.51,-0.01)"
    assert found and all(51.51 <= c.latitude <= 51.53 for c in found)


def test_the_corridor_distance_covers_the_width_east_west_at_the_routes_latitude() -> None:
    for lat in (0.0, 51.0, 60.0):
        query = area_query(Corridor(((lat, 10.0), (lat, 10.5)), width_km=2.0), BASE)
        degrees = query.radius_km / 200
        east_west_km = degrees * 111.195 * math.cos(math.radians(lat))
        assert 2.0 <= east_west_km <= 2.0 * 1.2


def test_douglas_peucker_keeps_every_left_out_point_within_its_tolerance() -> None:
    rng = random.Random(12)
    line = tuple((51.0 + 0.3 * math.sin(k / 40) + rng.uniform(-0.002, 0.002), -2.0 + k / 1000) for k in range(3000))
    for tolerance in (0.05, 0.5):
        simplified = simplify_km(line, tolerance)
        assert simplified[0] == line[0] and simplified[-1] == line[-1]
        assert len(simplified) < len(line) / 3
        kept = [line.index(point) for point in simplified]
        worst = 0.0
        for first, last in itertools.pairwise(kept):  # each left-out point against the segment that replaced it
            for k in range(first + 1, last, 17):
                worst = max(worst, _km_to_segment(line[k], line[first], line[last]))
        assert worst <= tolerance + 0.002  # the sampling of the segment adds at most ~1 m


def _km_to_segment(p, a, b) -> float:
    """Haversine to the segment sampled every 20 m (independent of the module's projection)."""
    steps = max(1, math.ceil(haversine_km(*a, *b) / 0.02))
    return min(
        haversine_km(*p, a[0] + (b[0] - a[0]) * k / steps, a[1] + (b[1] - a[1]) * k / steps) for k in range(steps + 1)
    )
