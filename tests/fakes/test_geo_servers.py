"""The fake Nominatim and OSRM servers answer like the real services."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator

import httpx
import polyline
import pytest

from tests.fakes.nominatim_server import FakeNominatimServer
from tests.fakes.ocm import shared_dir
from tests.fakes.osrm_server import FakeOsrmServer

UA = "ocm-bot-tests/1.0 (ops@example.org)"


@pytest.fixture(scope="module")
def _geocoder(nominatim_server_session: FakeNominatimServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=nominatim_server_session.url, headers={"User-Agent": UA}, verify=False) as c:
        yield c


@pytest.fixture(scope="module")
def _router(osrm_server_session: FakeOsrmServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=osrm_server_session.url, headers={"User-Agent": UA}, verify=False) as c:
        yield c


@pytest.fixture
def geocoder(nominatim_server: FakeNominatimServer, _geocoder: httpx.Client) -> httpx.Client:
    return _geocoder


@pytest.fixture
def router(osrm_server: FakeOsrmServer, _router: httpx.Client) -> httpx.Client:
    return _router


def search(client: httpx.Client, q: str, **params: str) -> list[dict]:
    r = client.get("/search", params={"q": q, "format": "jsonv2", **params})
    assert r.status_code == 200, r.text
    return r.json()


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b[1] - a[1]) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


# ------------------------------------------------------------------------------------ Nominatim
def test_search_answers_in_jsonv2_shape(geocoder):
    [hit] = search(geocoder, "Pioneer Courthouse Square, Portland", addressdetails="1")
    sample = json.loads((shared_dir() / "nominatim" / "search-jsonv2-1.json").read_text())[0]
    assert set(hit) == set(sample)
    assert (float(hit["lat"]), float(hit["lon"])) == (45.5189, -122.6793)
    assert hit["address"]["city"] == "Portland" and hit["address"]["country_code"] == "us"
    assert isinstance(hit["place_id"], int) and len(hit["boundingbox"]) == 4


def test_json_format_uses_class_like_the_documented_example(geocoder):
    [hit] = search(geocoder, "Leeds", format="json")
    sample = json.loads((shared_dir() / "nominatim" / "search-json-1.json").read_text())[0]
    assert set(hit) == set(sample) - {"svg", "address"}
    assert hit["class"] == "boundary"


def test_ambiguous_name_offers_several_places(geocoder):
    states = {hit["display_name"].split(", ")[-2] for hit in search(geocoder, "Springfield")}
    assert states == {"Illinois", "Massachusetts", "Missouri", "Oregon"}
    assert len(search(geocoder, "Portland")) == 2
    assert [h["display_name"] for h in search(geocoder, "Portland, OR")] == [
        "Portland, Multnomah County, Oregon, United States"
    ]


@pytest.mark.parametrize(
    ("query", "where", "within_km"),
    [
        ("Salt Lake City", (40.7608, -111.8910), 3),
        ("Leeds", (53.8008, -1.5491), 3),
        ("Garforth", (53.792, -1.388), 2),
        ("Andorra la Vella", (42.5063, 1.5218), 2),
        ("Munich", (48.1351, 11.582), 3),
        ("Bayrischzell", (47.674, 12.012), 3),
        ("Warwick", (52.2819, -1.5849), 3),
        ("Mile End, London", (51.525, -0.033), 2),
        ("Bow", (51.528, -0.020), 2),
        ("Gdańsk", (54.352, 18.6466), 3),
        ("Brandenburger Tor", (52.5163, 13.3777), 0.3),
    ],
)
def test_gazetteer_coordinates_are_real(geocoder, query, where, within_km):
    hit = search(geocoder, query, limit="1")[0]
    assert km((float(hit["lat"]), float(hit["lon"])), where) < within_km


def test_limit_countrycodes_and_unknown_place(geocoder):
    assert len(search(geocoder, "Springfield", limit="2")) == 2
    assert search(geocoder, "Springfield", countrycodes="gb") == []
    assert [h["name"] for h in search(geocoder, "Leeds", countrycodes="gb,de")] == ["Leeds"]
    assert search(geocoder, "Atlantis under the sea") == []


def test_accept_language_and_default_local_names(geocoder):
    assert search(geocoder, "München")[0]["display_name"] == "München, Bayern, Deutschland"
    english = search(geocoder, "Munich", **{"accept-language": "en-GB,en;q=0.8"})[0]
    assert english["display_name"] == "Munich, Bavaria, Germany"


def test_address_only_with_addressdetails(geocoder):
    assert "address" not in search(geocoder, "Leeds")[0]
    assert search(geocoder, "Leeds", addressdetails="1")[0]["address"]["city"] == "Leeds"


def test_reverse_finds_the_nearest_place(geocoder):
    r = geocoder.get("/reverse", params={"lat": 45.5190, "lon": -122.6792, "format": "jsonv2"})
    assert r.json()["name"] == "Pioneer Courthouse Square" and "address" in r.json()
    nowhere = geocoder.get("/reverse", params={"lat": -40, "lon": -120, "format": "jsonv2"})
    assert nowhere.json() == {"error": "Unable to geocode"}
    missing = geocoder.get("/reverse", params={"format": "jsonv2"})
    assert missing.status_code == 400 and missing.json()["error"]["code"] == 400


def test_geojson_and_geocodejson_and_lookup(geocoder):
    geo = geocoder.get("/search", params={"q": "Leeds", "format": "geojson"}).json()
    assert geo["type"] == "FeatureCollection" and geo["features"][0]["geometry"]["coordinates"][1] > 53
    gcj = geocoder.get("/search", params={"q": "Leeds", "format": "geocodejson"}).json()
    assert gcj["geocoding"]["query"] == "Leeds" and gcj["features"][0]["properties"]["geocoding"]["label"]
    looked = geocoder.get("/lookup", params={"osm_ids": "R87842", "format": "json"}).json()
    assert looked[0]["display_name"].startswith("Leeds")


@pytest.mark.parametrize("agent", [None, "python-httpx/0.28.1", "geopy/2.4.1", "python-requests/2.32"])
def test_default_or_missing_user_agent_is_blocked(nominatim_server, agent):
    with httpx.Client(verify=False) as c:
        if agent is None:
            del c.headers["User-Agent"]  # httpx would send its own default otherwise
        else:
            c.headers["User-Agent"] = agent
        r = c.get(f"{nominatim_server.url}/search", params={"q": "Leeds", "format": "jsonv2"})
    assert r.status_code == 403 and "Access blocked" in r.text


def test_geocoder_faults(geocoder, nominatim_server):
    nominatim_server.inject("429")
    too_many = geocoder.get("/search", params={"q": "Leeds"})
    assert too_many.status_code == 429 and "Too many requests" in too_many.text
    nominatim_server.inject("no-result", path_prefix="/search")
    assert search(geocoder, "Leeds") == []
    nominatim_server.inject("status503")
    assert geocoder.get("/search", params={"q": "Leeds"}).status_code == 503
    nominatim_server.inject("hang")
    with pytest.raises(httpx.ReadTimeout):
        geocoder.get("/search", params={"q": "Leeds"}, timeout=0.2)
    assert search(geocoder, "Leeds")  # the hang was for one request only


def test_request_timestamps_show_the_request_rate(geocoder, nominatim_server):
    search(geocoder, "Leeds")
    time.sleep(0.05)
    search(geocoder, "Bow")
    gap = nominatim_server.min_interval("/search")
    assert gap is not None and 0.05 <= gap < 1
    assert [r.params["q"] for r in nominatim_server.requests_to("/search")] == ["Leeds", "Bow"]


# ------------------------------------------------------------------------------------ OSRM
BERLIN = "13.388798,52.517033;13.39763,52.529432;13.428554,52.523239"


def test_berlin_waypoints_get_the_recorded_answer(router):
    recorded = json.loads((shared_dir() / "osrm" / "route-driving-berlin-polyline6.json").read_text())
    r = router.get(f"/route/v1/driving/{BERLIN}", params={"overview": "full", "geometries": "polyline6"})
    assert r.json() == recorded
    five = router.get(f"/route/v1/driving/{BERLIN}", params={"geometries": "polyline"}).json()
    precise = polyline.decode(recorded["routes"][0]["geometry"], 6)
    assert polyline.decode(five["routes"][0]["geometry"], 5) == [pytest.approx(p, abs=1e-5) for p in precise]


def test_other_routes_are_straight_segments_with_plausible_numbers(router):
    a, b = (45.5189, -122.6793), (45.4207, -122.6706)
    r = router.get(f"/route/v1/driving/{a[1]},{a[0]};{b[1]},{b[0]}", params={"geometries": "polyline6"})
    body = r.json()
    assert body["code"] == "Ok"
    route = body["routes"][0]
    assert route["distance"] == pytest.approx(km(a, b) * 1300, rel=1e-3)
    assert route["duration"] == pytest.approx(route["distance"] / (50 / 3.6), rel=1e-3)
    assert polyline.decode(route["geometry"], 6) == [pytest.approx(a), pytest.approx(b)]
    assert [w["location"] for w in body["waypoints"]] == [[a[1], a[0]], [b[1], b[0]]]
    assert len(route["legs"]) == 1 and route["legs"][0]["steps"] == []
    geojson = router.get(f"/route/v1/driving/{a[1]},{a[0]};{b[1]},{b[0]}", params={"geometries": "geojson"})
    assert geojson.json()["routes"][0]["geometry"]["type"] == "LineString"
    bare = router.get(f"/route/v1/driving/{a[1]},{a[0]};{b[1]},{b[0]}", params={"overview": "false"})
    assert "geometry" not in bare.json()["routes"][0]


def test_osrm_errors_in_osrm_shape(router, osrm_server):
    malformed = router.get("/route/v1/driving/abc;def")
    assert malformed.status_code == 400 and malformed.json()["code"] == "InvalidQuery"
    assert router.get("/route/v1/driving/200,10;1,1").json()["code"] == "InvalidValue"
    assert router.get("/route/v1/driving/13.4,52.5").json()["code"] == "InvalidOptions"
    ocean = router.get("/route/v1/driving/-0.1,51.5;-74.0,40.7")
    assert (ocean.status_code, ocean.json()["code"]) == (400, "NoRoute")
    osrm_server.block_area(52.5, 13.4, 1)
    assert router.get("/route/v1/driving/13.4,52.5;13.5,52.6").json()["code"] == "NoSegment"
    osrm_server.inject("no-route")
    assert router.get("/route/v1/driving/1,1;1.1,1.1").json()["code"] == "NoRoute"


def test_geopy_nominatim_works_against_the_fake(nominatim_server):
    from geopy.exc import GeocoderInsufficientPrivileges
    from geopy.geocoders import Nominatim

    domain = f"127.0.0.1:{nominatim_server.port}"
    geocoder = Nominatim(domain=domain, scheme="http", user_agent=UA)
    places = geocoder.geocode("Springfield", exactly_one=False)
    assert len(places) == 4
    assert geocoder.reverse((45.5189, -122.6793)).address.startswith("Pioneer Courthouse Square, ")
    with pytest.raises(GeocoderInsufficientPrivileges):
        Nominatim(domain=domain, scheme="http").geocode("Leeds")  # geopy's default User-Agent


def test_polygon_geojson_gives_outlines_of_areas_and_points_of_nodes(geocoder):
    plain = search(geocoder, "Tower Hamlets")
    assert "geojson" not in plain[0]  # only when asked, like Nominatim
    [borough] = search(geocoder, "Tower Hamlets", polygon_geojson="1")
    shape = borough["geojson"]
    assert shape["type"] == "Polygon"
    ring = shape["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 7  # closed; GeoJSON order [lon, lat]
    assert all(-0.05 < lon < -0.01 and 51.5 < lat < 51.54 for lon, lat in ring)
    [leeds] = search(geocoder, "Leeds", polygon_geojson="1", format="json")
    assert leeds["geojson"]["type"] == "Polygon"  # a relation without an outline here: its bounding box
    [bow] = search(geocoder, "Bow", polygon_geojson="1")
    assert bow["geojson"] == {"type": "Point", "coordinates": [float(bow["lon"]), float(bow["lat"])]}
