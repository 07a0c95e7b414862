"""The fake OCM server answers like Open Charge Map: shapes, search, auth, comments, faults."""

from __future__ import annotations

import itertools
import json
import math
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import polyline
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes.ocm import GENERATED_ID_BASE, FakeOcmServer, shared_dir

PORTLAND = (45.5122, -122.6587)
UA = "ocm-bot-tests/1.0 (+https://example.org)"


@pytest.fixture(scope="module")
def shared_client(ocm_server_session: FakeOcmServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ocm_server_session.url, timeout=5, verify=False) as c:
        yield c


@pytest.fixture
def client(ocm_server: FakeOcmServer, shared_client: httpx.Client) -> httpx.Client:
    """A keep-alive client with a valid key and a custom User-Agent (headers restored per test)."""
    shared_client.headers.clear()
    shared_client.headers.update({"X-API-Key": ocm_server.api_key, "User-Agent": UA})
    return shared_client


def sample_file(name: str) -> list[dict[str, Any]]:
    return json.loads((shared_dir() / "ocm" / name).read_text(encoding="utf-8"))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


def ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [poi["ID"] for poi in response.json()]


def with_distance_of(sample: dict[str, Any], rendered: dict[str, Any]) -> dict[str, Any]:
    """The rendered POI with AddressInfo.Distance/DistanceUnit taken from the sample (query-dependent)."""
    out = dict(rendered)
    address = dict(out["AddressInfo"])
    address.pop("Distance", None)
    for key in ("Distance", "DistanceUnit"):
        if key in sample["AddressInfo"]:
            address[key] = sample["AddressInfo"][key]
    out["AddressInfo"] = address
    return out


# ------------------------------------------------------------------------------------ shapes
@pytest.mark.parametrize(
    ("slice_", "params"),
    [
        (slice(0, 10), {}),
        (slice(10, 30), {"verbose": "false"}),
        (slice(30, 35), {"compact": "true", "verbose": "false", "includecomments": "true"}),
    ],
    ids=["verbose", "verbose-false", "compact"],
)
def test_each_sample_comes_back_in_its_own_shape(client, slice_, params):
    samples = sample_file("poi-samples.json")[slice_]
    wanted = ",".join(str(s["ID"]) for s in samples)
    got = {p["ID"]: p for p in client.get("/poi", params={"chargepointid": wanted, **params}).json()}
    for sample in samples:
        assert with_distance_of(sample, got[sample["ID"]]) == sample


def test_compact_london_cluster_matches_recorded_answer(client):
    samples = sample_file("poi-more.json")[:100]
    wanted = ",".join(str(s["ID"]) for s in samples)
    params = {"chargepointid": wanted, "compact": "true", "verbose": "false", "maxresults": 500}
    got = {p["ID"]: p for p in client.get("/poi", params=params).json()}
    assert len(got) == 100
    for sample in samples:
        assert with_distance_of(sample, got[sample["ID"]]) == sample


def test_compact_with_verbose_default_keeps_nulls_and_drops_reference_objects(client):
    poi = client.get("/poi", params={"chargepointid": 102848, "compact": "true"}).json()[0]
    assert poi["DataProvider"] is None and poi["OperatorInfo"] is None
    assert poi["AddressInfo"]["Country"] is None
    assert poi["Connections"][0]["ConnectionType"] is None
    assert poi["DataProviderID"] == 2 and poi["Connections"][0]["ConnectionTypeID"] == 1
    assert "UsageCost" in poi and poi["UsageCost"] is None


def test_verbose_answer_is_indented_and_compact_is_not(client):
    verbose = client.get("/poi", params={"maxresults": 1}).text
    compact = client.get("/poi", params={"maxresults": 1, "compact": "true"}).text
    assert verbose.startswith("[\n  {") and "\n" not in compact


def test_compact_poi_resolves_reference_objects_when_asked_verbose(client):
    poi = client.get("/poi", params={"chargepointid": 157899}).json()[0]
    assert poi["OperatorInfo"]["ID"] == 8
    assert poi["AddressInfo"]["Country"]["ISOCode"] == "GB"
    assert poi["Connections"][0]["ConnectionType"]["ID"] == 2
    assert poi["DataProvider"]["Title"] == "Open Charge Map Contributors"


def test_camelcase_renames_every_key_like_system_text_json(client):
    poi = client.get("/poi", params={"chargepointid": 102848, "camelcase": "true"}).json()[0]
    assert poi["id"] == 102848 and poi["uuid"] and poi["dataProviderID"] == 2
    assert poi["addressInfo"]["country"]["isoCode"] == "US"
    assert poi["connections"][0]["powerKW"] == 3.7
    assert poi["dataProvider"]["websiteURL"] == "http://www.afdc.energy.gov/"


def test_comments_and_media_only_with_includecomments(client):
    plain = client.get("/poi", params={"chargepointid": 52224}).json()[0]
    assert plain["UserComments"] is None and plain["MediaItems"] is None
    full = client.get("/poi", params={"chargepointid": 52224, "includecomments": "true"}).json()[0]
    assert len(full["UserComments"]) == 4 and len(full["MediaItems"]) == 5
    assert full["UserComments"][0]["CheckinStatusType"]["Title"] == "Charged Successfully"


def test_jsonp_callback_and_other_outputs(client):
    r = client.get("/poi", params={"maxresults": 1, "callback": "cb"})
    assert r.text.startswith("cb([") and r.text.endswith("])")
    geo = client.get("/poi", params={"maxresults": 2, "output": "geojson"})
    assert geo.headers["content-type"] == "application/geo+json"
    assert geo.json()["features"][0]["geometry"]["type"] == "Point"
    assert client.get("/poi", params={"output": "csv"}).text.startswith("ID,")
    assert "<kml" in client.get("/poi", params={"output": "kml"}).text
    assert client.get("/poi", params={"output": "bogus"}).headers["content-type"] == "text/xml"


# ------------------------------------------------------------------------------------ search
def test_location_search_sorts_nearest_first_with_correct_distances(client):
    params = {"latitude": PORTLAND[0], "longitude": PORTLAND[1], "distance": 10, "distanceunit": "km"}
    pois = client.get("/poi", params={**params, "verbose": "false"}).json()
    assert len(pois) >= 10
    distances = [p["AddressInfo"]["Distance"] for p in pois]
    assert distances == sorted(distances)
    for poi in pois:
        a = poi["AddressInfo"]
        assert a["DistanceUnit"] == 1
        expected = haversine_km(*PORTLAND, a["Latitude"], a["Longitude"])
        assert a["Distance"] == pytest.approx(expected, rel=1e-9)
        assert a["Distance"] < 10


def test_distance_defaults_to_miles(client):
    params = {"latitude": PORTLAND[0], "longitude": PORTLAND[1], "distance": 1}
    pois = client.get("/poi", params=params).json()
    assert pois and all(p["AddressInfo"]["DistanceUnit"] == 2 for p in pois)
    first = pois[0]["AddressInfo"]
    km = haversine_km(*PORTLAND, first["Latitude"], first["Longitude"])
    assert first["Distance"] == pytest.approx(km / 1.609344, rel=1e-6)
    assert len(pois) == 8 and all(p["AddressInfo"]["Distance"] < 1 for p in pois)
    in_km = client.get("/poi", params={**params, "distanceunit": "KM"}).json()
    assert len(in_km) == 4  # 1 km is less than 1 mile


def test_without_location_newest_id_first_and_no_distance(client):
    pois = client.get("/poi", params={"maxresults": 5}).json()
    got = [p["ID"] for p in pois]
    assert got == sorted(got, reverse=True) and len(got) == 5
    assert pois[0]["AddressInfo"]["Distance"] is None and pois[0]["AddressInfo"]["DistanceUnit"] == 0


def test_maxresults_defaults_to_100(client):
    assert len(client.get("/poi").json()) == 100
    assert len(client.get("/poi", params={"maxresults": "x"}).json()) == 100
    assert client.get("/poi", params={"maxresults": 0}).json() == []


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"countrycode": "GB"}, lambda p: p["AddressInfo"]["CountryID"] == 1),
        ({"countrycode": "ad"}, lambda p: p["AddressInfo"]["CountryID"] == 10),
        ({"countryid": "10,179"}, lambda p: p["AddressInfo"]["CountryID"] in (10, 179)),
        ({"operatorid": "5,23"}, lambda p: p.get("OperatorID") in (5, 23)),
        ({"usagetypeid": "6"}, lambda p: p.get("UsageTypeID") == 6),
        ({"statustypeid": "50"}, lambda p: p.get("StatusTypeID") == 50),
        ({"dataproviderid": "2"}, lambda p: p.get("DataProviderID") == 2),
        ({"levelid": "3"}, lambda p: any(c.get("LevelID") == 3 for c in p["Connections"])),
        (
            {"connectiontypeid": "33,2"},
            lambda p: any(c.get("ConnectionTypeID") in (33, 2) for c in p["Connections"]),
        ),
        ({"minpowerkw": "43"}, lambda p: any((c.get("PowerKW") or 0) >= 43 for c in p["Connections"])),
        ({"maxpowerkw": "4"}, lambda p: any((c.get("PowerKW") or 99) <= 4 for c in p["Connections"])),
        ({"greaterthanid": "200000"}, lambda p: p["ID"] > 200000),
        ({"opendata": "true"}, lambda p: p.get("DataProviderID") in (1, 2, 18)),
        ({"modifiedsince": "2023-05-27T06:00"}, lambda p: p["DateLastStatusUpdate"] >= "2023-05-27T06:00"),
        ({"createdsince": "2023-03-04"}, lambda p: p["DateCreated"] >= "2023-03-04"),
    ],
)
def test_each_filter_keeps_only_matching_pois(client, params, check):
    terse = {"maxresults": 1000, "compact": "true", "verbose": "false"}
    pois = client.get("/poi", params={**params, **terse}).json()
    everything = client.get("/poi", params=terse).json()
    assert pois, params
    assert all(check(p) for p in pois), params
    assert len(pois) == sum(1 for p in everything if check(p)), params


def test_unknown_countrycode_is_ignored_like_ocm(client):
    assert len(client.get("/poi", params={"countrycode": "XX", "maxresults": 1000}).json()) == 236


def test_filter_names_are_case_insensitive(client):
    assert ids(client.get("/poi", params={"CountryCode": "PL"})) == [52224]
    assert ids(client.get("/poi", params={"ChargePointID": "8378,3428"})) == [8378, 3428]


def test_unparseable_numbers_are_ignored_not_rejected(client):
    r = client.get("/poi", params={"latitude": "north", "longitude": "-122.6", "maxresults": 3})
    assert r.status_code == 200
    assert r.json()[0]["AddressInfo"]["Distance"] is None  # no location search happened


def test_decommissioned_and_unpublished_pois_are_hidden(client, ocm_server):
    ocm_server.modify_poi(8378, StatusTypeID=200)
    ocm_server.modify_poi(3428, SubmissionStatusTypeID=1)
    assert ids(client.get("/poi", params={"chargepointid": "8378,3428,13343"})) == [13343]
    under_review = client.get("/poi", params={"chargepointid": 3428, "submissionstatustypeid": 1})
    assert ids(under_review) == [3428]


def test_bounding_box_either_corner_order(client):
    box = "(51.53,-0.05),(51.51,-0.01)"
    got = client.get("/poi", params={"boundingbox": box, "maxresults": 500}).json()
    assert len(got) > 50
    assert all(51.51 <= p["AddressInfo"]["Latitude"] <= 51.53 for p in got)
    swapped = client.get("/poi", params={"boundingbox": "(51.51,-0.01),(51.53,-0.05)", "maxresults": 500})
    assert sorted(ids(swapped)) == sorted(p["ID"] for p in got)


def test_polyline_search_finds_chargers_along_route(client):
    route = polyline.encode([(45.52, -122.68), (45.40, -122.65)])
    got = client.get("/poi", params={"polyline": route, "distance": 1, "distanceunit": "km"}).json()
    towns = {p["AddressInfo"]["Town"] for p in got}
    assert {"Portland", "Lake Oswego"} <= towns
    assert "Salt Lake City" not in towns and "Oregon City" not in towns
    assert all(p["AddressInfo"]["Distance"] is None for p in got)


def test_polygon_search(client):
    ring = polyline.encode([(40.7, -111.95), (40.8, -111.95), (40.8, -111.85), (40.7, -111.85)])
    got = client.get("/poi", params={"polygon": ring}).json()
    assert got and all(p["AddressInfo"]["Town"] == "Salt Lake City" for p in got)


def test_sortby_orders(client):
    created = client.get("/poi", params={"sortby": "created_asc", "maxresults": 50}).json()
    assert [p["DateCreated"] for p in created] == sorted(p["DateCreated"] for p in created)
    modified = client.get("/poi", params={"sortby": "modified_asc", "maxresults": 50}).json()
    stamps = [p["DateLastStatusUpdate"] for p in modified]
    assert stamps == sorted(stamps)
    by_id = ids(client.get("/poi", params={"sortby": "id_asc", "maxresults": 10}))
    assert by_id == sorted(by_id) and by_id[0] == 2738


def test_modifiedsince_sees_modified_and_new_pois_only(client, ocm_server):
    since = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() - 60))
    assert client.get("/poi", params={"modifiedsince": since}).json() == []
    ocm_server.modify_poi(100627, UsageCost="£0.79/kWh")
    [new_id] = ocm_server.generate_chargers(1, center=(53.79, -1.38), radius_km=1, seed=3)
    new_id_stamp = ocm_server.poi(new_id)["DateLastStatusUpdate"]
    ocm_server.modify_poi(new_id, DateLastStatusUpdate=new_id_stamp)  # keep its old stamp
    changed = client.get("/poi", params={"modifiedsince": since}).json()
    assert [p["ID"] for p in changed] == [100627]
    assert changed[0]["UsageCost"] == "£0.79/kWh"


def test_new_chargers_stamped_now_show_up_in_a_modifiedsince_poll(client, ocm_server):
    since = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() - 60))
    old = ocm_server.generate_chargers(2, center=(53.79, -1.38), radius_km=1)
    new = ocm_server.generate_chargers(3, center=(53.79, -1.38), radius_km=1, stamp_now=True)
    assert set(old).isdisjoint(new)
    assert sorted(ids(client.get("/poi", params={"modifiedsince": since}))) == sorted(new)


def test_remove_poi_and_add_pois(client, ocm_server):
    ocm_server.remove_poi(100627)
    assert client.get("/poi", params={"chargepointid": 100627}).json() == []
    [raw] = [p for p in sample_file("poi-samples.json") if p["ID"] == 100627]
    ocm_server.add_pois([{**raw, "ID": 777}])
    assert ids(client.get("/poi", params={"chargepointid": 777})) == [777]


def test_generated_chargers_are_labelled_and_searchable_fast(client, ocm_server):
    new = ocm_server.generate_chargers(3_000, center=(48.137, 11.575), radius_km=8, seed=7)
    assert len(new) == 3_000 and min(new) > GENERATED_ID_BASE
    params = {"latitude": 48.137, "longitude": 11.575, "maxresults": 50, "compact": "true", "verbose": "false"}
    started = time.perf_counter()
    pois = client.get("/poi", params=params).json()
    assert time.perf_counter() - started < 0.5
    assert len(pois) == 50
    assert pois[0]["AddressInfo"]["Title"].startswith("Generated charger ")
    assert pois[0]["DataProviderID"] == 9999 and pois[0]["AddressInfo"]["CountryID"] == 87
    distances = [p["AddressInfo"]["Distance"] for p in pois]
    assert distances == sorted(distances)
    # The grid search must agree with a brute-force nearest-50 over everything generated.
    everything = [ocm_server.poi(i)["AddressInfo"] for i in new]  # none is decommissioned
    brute = sorted(haversine_km(48.137, 11.575, a["Latitude"], a["Longitude"]) for a in everything)
    assert [d * 1.609344 for d in distances] == pytest.approx(brute[:50], rel=1e-9)
    providers = client.get("/referencedata").json()["DataProviders"]
    assert any(p["ID"] == 9999 and p["Title"] == "generated test data" for p in providers)


def test_reset_restores_samples(ocm_server, client):
    terse = {"chargepointid": 100627, "compact": "true", "verbose": "false"}
    ocm_server.modify_poi(100627, UsageCost="changed")
    assert client.get("/poi", params=terse).json()[0]["UsageCost"] == "changed"
    ocm_server.generate_chargers(10, center=PORTLAND, radius_km=1)
    ocm_server.remove_poi(8378)
    ocm_server.reset()
    assert len(client.get("/poi", params={"maxresults": 1000}).json()) == 236
    assert client.get("/poi", params=terse).json()[0]["UsageCost"] == "£0.28/kWh"


# ------------------------------------------------------------------------------------ access
def test_missing_or_malformed_api_key_is_403_text(client, ocm_server):
    del client.headers["X-API-Key"]
    missing = client.get("/poi")
    assert missing.status_code == 403 and missing.text.startswith("You must specify an API key")
    assert missing.headers["content-type"].startswith("text/plain")
    bad = client.get("/poi", headers={"X-API-Key": "not-a-guid"})
    assert (bad.status_code, bad.text) == (403, "Invalid API key.")
    unknown = client.get("/poi", headers={"X-API-Key": "00000000-0000-0000-0000-000000000000"})
    assert unknown.status_code == 403
    assert client.get("/poi", params={"key": ocm_server.api_key, "maxresults": 1}).status_code == 200
    assert client.post("/comment", json={}).status_code == 403


@pytest.mark.parametrize(
    "agent", ["Googlebot/2.1", "okhttp/3.9.1", "Dart/3.1 (dart:io)", "PHP/8", "Apache-HttpClient/4"]
)
def test_robot_user_agents_get_503(client, agent):
    r = client.get("/poi", headers={"User-Agent": agent})
    assert r.status_code == 503
    assert r.json() == {"status": "error", "description": "API requests by robots are temporarily disabled."}


def test_reference_data_is_served(client):
    data = client.get("/referencedata").json()
    assert {c["ISOCode"] for c in data["Countries"]} >= {"GB", "US", "PL"}
    assert any(t["ID"] == 10 for t in data["CheckinStatusTypes"])


# ------------------------------------------------------------------------------------ auth + comments
def sign_in(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post("/profile/authenticate", json={"emailaddress": email, "password": password})


def test_authenticate_returns_profile_and_token(client, ocm_server):
    ocm_server.register_user("ann@example.org", "s3cret", username="Ann")
    r = sign_in(client, "ann@example.org", "s3cret")
    assert r.status_code == 200
    data = r.json()["Data"]
    assert data["UserProfile"]["Username"] == "Ann" and data["access_token"].count(".") == 2
    wrong = sign_in(client, "ann@example.org", "nope")
    assert (wrong.status_code, wrong.content) == (401, b"")
    assert sign_in(client, "bob@example.org", "x").status_code == 401


def post_comment(client: httpx.Client, body: Any, token: str | None = None, raw: bytes | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if raw is not None:
        return client.post("/comment", content=raw, headers={**headers, "Content-Type": "application/json"})
    return client.post("/comment", json=body, headers=headers)


@pytest.fixture
def token(client, ocm_server) -> str:
    ocm_server.register_user("ann@example.org", "s3cret", username="Ann")
    return sign_in(client, "ann@example.org", "s3cret").json()["Data"]["access_token"]


def test_comment_success_is_stored_and_listed(client, ocm_server, token):
    body = {"ChargePointID": 100627, "CheckinStatusTypeID": 10, "Rating": 4, "Comment": "Worked <b>fine</b>"}
    r = post_comment(client, body, token)
    assert (r.status_code, r.json()) == (200, {"status": "OK", "description": "OK"})
    [stored] = ocm_server.comments
    assert (stored.poi_id, stored.username, stored.rating, stored.comment_type_id) == (100627, "Ann", 4, 10)
    poi = client.get("/poi", params={"chargepointid": 100627, "includecomments": "true"}).json()[0]
    newest = poi["UserComments"][0]
    assert newest["Comment"] == "Worked <b>fine</b>" and newest["UserName"] == "Ann"
    assert newest["CheckinStatusType"]["Title"] == "Charged Successfully"
    assert poi["DateLastStatusUpdate"] > "2025" and poi["IsRecentlyVerified"] is True


def test_comment_without_user_is_401_empty(client, ocm_server, token):
    r = post_comment(client, {"ChargePointID": 100627})
    assert (r.status_code, r.content) == (401, b"")
    header, payload, _ = token.split(".")
    forged = post_comment(client, {"ChargePointID": 100627}, token=f"{header}.{payload}.c2lnbmVk")
    assert (forged.status_code, forged.content) == (401, b"")


@pytest.mark.parametrize("malformed", ["a.b.c", "not-a-jwt", "eyJhbGciOiJIUzI1NiJ9.bm9wZQ.x"])
def test_a_malformed_bearer_token_gets_200_with_an_empty_body(client, ocm_server, malformed):
    """OCM's JWT handler throws on a token it cannot read and its middleware swallows it."""
    r = post_comment(client, {"ChargePointID": 100627, "Comment": "x"}, token=malformed)
    assert (r.status_code, r.content) == (200, b"")
    assert ocm_server.comments == []


def test_a_social_login_account_signs_in_to_200_with_an_empty_body(client, ocm_server):
    ocm_server.register_user("sam@example.org", None, username="Sam")  # made with Google: no password
    for password in ("anything", ""):
        r = sign_in(client, "sam@example.org", password)
        assert (r.status_code, r.content) == (200, b"")


def test_comment_with_write_key_as_apikey_next_to_the_app_key(client, ocm_server):
    """The edge takes the application's primary key; the write key names the user (``apikey=``)."""
    key = ocm_server.add_write_key(username="ocm-bot")
    body = {"chargePointID": 52224, "comment": "ok"}
    r = client.post("/comment", json=body, params={"apikey": key})  # X-API-Key: the app's own key
    assert r.status_code == 200
    [stored] = ocm_server.comments
    assert (stored.via, stored.username) == ("write-key", "ocm-bot")


@pytest.mark.parametrize("where", ["header", "key="])
def test_a_write_key_in_place_of_the_app_key_is_refused_at_the_edge(client, ocm_server, where):
    key = ocm_server.add_write_key(username="ocm-bot")
    body = {"ChargePointID": 52224, "Comment": "ok"}
    if where == "header":
        r = client.post("/comment", json=body, headers={"X-API-Key": key})
    else:
        r = client.post("/comment", json=body, params={"key": key}, headers={"X-API-Key": ""})
    assert (r.status_code, r.text) == (403, "Invalid API key.")
    assert r.headers["content-type"].startswith("text/plain")
    assert ocm_server.comments == []


def test_the_write_key_is_resolved_before_a_bearer_token(client, ocm_server, token):
    key = ocm_server.add_write_key(username="ocm-bot")
    headers = {"Authorization": f"Bearer {token}"}
    r = client.post("/comment", json={"ChargePointID": 52224}, params={"apikey": key}, headers=headers)
    assert r.status_code == 200 and ocm_server.comments[0].username == "ocm-bot"


def test_an_app_key_that_stands_for_no_user_leaves_the_user_to_the_token(client, ocm_server, token):
    r = post_comment(client, {"ChargePointID": 52224}, token)
    assert r.status_code == 200 and ocm_server.comments[0].username == "Ann"
    unknown = client.post("/comment", json={"ChargePointID": 52224}, params={"apikey": str(uuid.uuid4())})
    assert (unknown.status_code, unknown.content) == (401, b"")


def test_comment_validation_answers(client, token):
    bad_json = post_comment(client, None, token, raw=b"{not json")
    assert (bad_json.status_code, bad_json.text) == (200, "Error: Validation Failed")
    wrong_type = post_comment(client, {"ChargePointID": 100627, "Rating": "great"}, token)
    assert wrong_type.text == "Error: Validation Failed"
    failed = {"status": "error", "description": "Failed"}
    for body in (
        {"ChargePointID": 1},
        {"Comment": "no POI"},
        {"ChargePointID": 100627, "Rating": 6},
        {"ChargePointID": 100627, "Comment": "x" * 4001},
        {"ChargePointID": 100627, "CheckinStatusTypeID": 999},
        {"ChargePointID": 100627, "CommentTypeID": 3},
    ):
        r = post_comment(client, body, token)
        assert (r.status_code, r.json()) == (400, failed), body


def test_comment_type_defaults_to_general(client, ocm_server, token):
    post_comment(client, {"ChargePointID": 100627, "Comment": "hi"}, token)
    assert ocm_server.comments[0].stored["CommentTypeID"] == 10


def test_read_only_mode(client, ocm_server, token):
    ocm_server.read_only = True
    r = post_comment(client, {"ChargePointID": 100627}, token)
    assert r.status_code == 400 and r.json()["description"].startswith("API is read only.")


def test_expired_tokens_are_refused(client, ocm_server, token):
    ocm_server.expire_tokens()
    assert post_comment(client, {"ChargePointID": 100627}, token).status_code == 401


# ------------------------------------------------------------------------------------ faults + log
async def test_waiting_for_requests_from_another_thread(ocm_server):
    url, headers = f"{ocm_server.url}/poi", {"X-API-Key": ocm_server.api_key, "User-Agent": UA}
    threading.Timer(0.05, lambda: httpx.get(url, headers=headers)).start()
    [seen] = await ocm_server.wait_for_requests_async(1, "/v3/poi", within=3)
    assert seen.status == 200 or seen.status is None  # answered or being answered
    with pytest.raises(TimeoutError):
        ocm_server.wait_for_requests(2, "/v3/poi", within=0.05)


def test_request_log_records_everything(client, ocm_server):
    client.get("/poi", params={"Latitude": "1", "maxresults": 2})
    [req] = ocm_server.requests_to("/v3/poi")
    assert req.params == {"latitude": "1", "maxresults": "2"}
    assert req.headers["x-api-key"] == ocm_server.api_key and req.user_agent == UA
    assert req.status == 200 and req.response_bytes > 100
    ocm_server.clear()
    assert ocm_server.requests == []


@pytest.mark.parametrize(
    ("kind", "status", "body_check"),
    [
        ("status500", 500, lambda r: True),
        ("status503", 503, lambda r: True),
        ("502-text", 502, lambda r: "Bad Gateway" in r.text),
        ("429", 429, lambda r: r.headers["retry-after"] == "60"),
        ("validation-failed", 200, lambda r: r.text == "Error: Validation Failed"),
        ("robot", 503, lambda r: r.json()["description"].startswith("API requests by robots")),
        ("empty", 200, lambda r: r.content == b""),
        ("bad-json", 200, lambda r: r.text.startswith("[") and not r.text.endswith("]")),
    ],
)
def test_faults_hit_once_then_normal(client, ocm_server, kind, status, body_check):
    ocm_server.inject(kind)
    r = client.get("/poi", params={"maxresults": 1})
    assert r.status_code == status and body_check(r)
    assert client.get("/poi", params={"maxresults": 1}).status_code == 200
    assert ocm_server.requests[0].fault == kind


def test_a_rebuilding_cache_answers_200_with_none_or_part_of_the_chargers(client, ocm_server):
    params = {"latitude": 51.5255, "longitude": -0.0335, "distance": 2, "distanceunit": "km", "maxresults": 200}
    everything = ids(client.get("/poi", params=params))
    ocm_server.inject("partial")
    part = client.get("/poi", params=params)
    assert part.status_code == 200 and ids(part) == everything[::2]
    ocm_server.inject("empty-list")
    empty = client.get("/poi", params=params)
    assert (empty.status_code, empty.json()) == (200, [])
    ocm_server.inject("empty-list")
    refused = client.get("/poi", params=params, headers={"X-API-Key": str(uuid.uuid4())})
    assert (refused.status_code, refused.text) == (403, "Invalid API key.")  # the edge still checks the key
    assert ids(client.get("/poi", params=params)) == everything


def test_a_poi_can_be_served_without_its_coordinates(client, ocm_server):
    params = {"latitude": 51.5255, "longitude": -0.0335, "distance": 2, "distanceunit": "km", "maxresults": 5}
    nearest = ids(client.get("/poi", params=params))
    ocm_server.serve_without_coordinates(nearest[0])
    for verbose in ("true", "false"):
        served = client.get("/poi", params={**params, "verbose": verbose}).json()
        assert [p["ID"] for p in served] == nearest  # still found, still counted
        address = served[0]["AddressInfo"]
        assert address.get("Latitude") is None and address.get("Longitude") is None
        assert ("Latitude" in address) == (verbose == "true")
    ocm_server.reset()
    assert client.get("/poi", params=params).json()[0]["AddressInfo"]["Latitude"] is not None


def test_fault_only_on_its_path(client, ocm_server):
    ocm_server.inject("status500", times=2, path_prefix="/v3/referencedata")
    assert client.get("/poi", params={"maxresults": 1}).status_code == 200
    assert client.get("/referencedata").status_code == 500


def test_delay_and_hang_faults(client, ocm_server):
    ocm_server.inject("delay", delay=0.3)
    started = time.perf_counter()
    assert client.get("/poi", params={"maxresults": 1}).status_code == 200
    assert time.perf_counter() - started >= 0.3
    ocm_server.inject("hang", times=None)
    with pytest.raises(httpx.ReadTimeout):
        client.get("/poi", params={"maxresults": 1}, timeout=0.3)
    ocm_server.reset()  # releases the hung request and clears the fault
    assert client.get("/poi", params={"maxresults": 1}).status_code == 200


async def test_serves_an_asyncio_client(ocm_server):
    async with httpx.AsyncClient(
        base_url=ocm_server.url, headers={"X-API-Key": ocm_server.api_key, "User-Agent": UA}
    ) as c:
        r = await c.get("/poi", params={"chargepointid": 52224})
    assert r.json()[0]["AddressInfo"]["Town"] == "Gdańsk"


def test_stop_is_prompt_even_with_a_hung_request():
    server = FakeOcmServer(load_samples=False).start()
    server.inject("hang", times=None)
    headers = {"X-API-Key": server.api_key}
    with pytest.raises(httpx.TimeoutException):
        httpx.get(f"{server.url}/poi", headers=headers, timeout=0.2)
    started = time.perf_counter()
    server.stop()
    assert time.perf_counter() - started < 2


# ------------------------------------------------------------------------------------ HTTP layer
def _raw_exchange(server: FakeOcmServer, payload: bytes, answers: int) -> list[bytes]:
    """Send raw bytes on one connection and read ``answers`` HTTP responses (Content-Length framed)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(payload)
        stream = sock.makefile("rb")
        out = []
        for _ in range(answers):
            status = stream.readline()
            length = 0
            while (line := stream.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            out.append(status + stream.read(length))
        return out


def test_pipelined_requests_are_answered_in_order(ocm_server):
    head = f"Host: x\r\nX-API-Key: {ocm_server.api_key}\r\nUser-Agent: {UA}\r\n\r\n"
    payload = (f"GET /v3/poi?chargepointid=8378&verbose=false HTTP/1.1\r\n{head}").encode()
    payload += (f"GET /v3/poi?chargepointid=3428&verbose=false HTTP/1.1\r\n{head}").encode()
    first, second = _raw_exchange(ocm_server, payload, 2)
    assert first.startswith(b"HTTP/1.1 200") and b'"ID": 8378' in first
    assert second.startswith(b"HTTP/1.1 200") and b'"ID": 3428' in second


def test_chunked_request_body_is_read(ocm_server):
    ocm_server.register_user("ann@example.org", "s3cret", username="Ann")
    body = b'{"emailaddress": "ann@example.org", "password": "s3cret"}'
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    payload = (
        f"POST /v3/profile/authenticate HTTP/1.1\r\nHost: x\r\nX-API-Key: {ocm_server.api_key}\r\n"
        f"User-Agent: {UA}\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
    ).encode() + chunked
    [answer] = _raw_exchange(ocm_server, payload, 1)
    assert answer.startswith(b"HTTP/1.1 200") and b"access_token" in answer


def test_repeated_parameters_are_joined_like_aspnet(client, ocm_server):
    got = client.get("/poi", params=[("countryid", "10"), ("countryid", "179")]).json()
    assert sorted(p["AddressInfo"]["CountryID"] for p in got) == [10, 179]
    assert ocm_server.requests[-1].params["countryid"] == "10,179"


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lat=st.floats(51.40, 51.64),
    lon=st.floats(-0.25, 0.19),
    distance=st.floats(0.1, 30),
    limit=st.integers(1, 60),
    min_kw=st.sampled_from([None, 11, 50]),
)
def test_grid_search_agrees_with_brute_force(dense_london, client, lat, lon, distance, limit, min_kw):
    params = {"latitude": lat, "longitude": lon, "distance": distance, "distanceunit": "km", "maxresults": limit}
    params.update({"compact": "true", "verbose": "false"})
    if min_kw:
        params["minpowerkw"] = min_kw
    got = [(p["ID"], p["AddressInfo"]["Distance"]) for p in client.get("/poi", params=params).json()]
    expected = []
    for record in dense_london:
        a = record["AddressInfo"]
        d = haversine_km(lat, lon, a["Latitude"], a["Longitude"])
        powerful = min_kw is None or any((c.get("PowerKW") or 0) >= min_kw for c in record["Connections"])
        if d < distance and powerful and record.get("StatusTypeID") not in (200, 210):
            expected.append((d, record["ID"]))
    expected.sort()
    assert [i for i, _ in got] == [i for _, i in expected[:limit]]
    assert [d for _, d in got] == pytest.approx([d for d, _ in expected[:limit]], rel=1e-9)


@pytest.fixture
def dense_london(ocm_server) -> list[dict[str, Any]]:
    """2,000 generated chargers around Bow plus the real London samples, as stored records."""
    ocm_server.generate_chargers(2_000, center=(51.52, -0.03), radius_km=12, seed=5)
    return [r for r in ocm_server.store.records.values() if r["AddressInfo"]["CountryID"] == 1]


def test_serves_a_client_in_another_process(ocm_server):
    script = (
        "import httpx, sys; r = httpx.get(sys.argv[1], params={'chargepointid': 52224},"
        " headers={'X-API-Key': sys.argv[2], 'User-Agent': 'subprocess-bot/1.0'}); print(r.json()[0]['ID'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, f"{ocm_server.url}/poi", ocm_server.api_key],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.stdout.strip() == "52224", done.stderr
    assert ocm_server.requests_to("/v3/poi")[0].user_agent == "subprocess-bot/1.0"


def test_a_request_line_over_8_kb_is_refused_as_the_real_server_does(client):
    # A long route as pairs of coordinates; the real server's host answers 414 with no body.
    points = ",".join(f"({51 + i / 1000:.5f},{-1 - i / 1000:.5f})" for i in range(500))
    assert len(points) > 8192
    refused = client.get("/poi", params={"polyline": points, "distance": 1})
    assert refused.status_code == 414 and refused.content == b""
    shorter = client.get("/poi", params={"polyline": points[:2000].rsplit(",(", 1)[0], "distance": 1})
    assert shorter.status_code == 200


def test_a_polygon_is_searched_as_its_convex_hull_as_the_real_server_does(client):
    """A U-shaped polygon around Portland's centre: OCM fills the notch, so chargers in it are found."""
    centre_lat, centre_lon = 45.5122, -122.6587
    d = 0.05
    u_shape = [
        (centre_lat - d, centre_lon - d),
        (centre_lat + d, centre_lon - d),
        (centre_lat + d, centre_lon - d / 2),
        (centre_lat - d / 2, centre_lon - d / 2),  # the notch reaches down past the centre
        (centre_lat - d / 2, centre_lon + d / 2),
        (centre_lat + d, centre_lon + d / 2),
        (centre_lat + d, centre_lon + d),
        (centre_lat - d, centre_lon + d),
    ]
    polygon = ",".join(f"({lat:.5f},{lon:.5f})" for lat, lon in u_shape)
    box = f"({centre_lat - d},{centre_lon - d}),({centre_lat + d},{centre_lon + d})"
    in_hull = set(ids(client.get("/poi", params={"polygon": polygon, "maxresults": 500})))
    in_box = set(ids(client.get("/poi", params={"boundingbox": box, "maxresults": 500})))
    notch = {
        poi["ID"]
        for poi in client.get("/poi", params={"boundingbox": box, "maxresults": 500}).json()
        if centre_lat - d / 2 < poi["AddressInfo"]["Latitude"] < centre_lat + d
        and centre_lon - d / 2 < poi["AddressInfo"]["Longitude"] < centre_lon + d / 2
    }
    assert notch, "the sample data has chargers in the notch"
    assert notch <= in_hull  # the dent is filled, as OCM's convex hull does
    assert in_hull == in_box  # this U's hull is its bounding square


def _degree_distance_to_segment(lat, lon, a, b):
    """Plain (lat, lng) degrees, as the real server buffers a line: no cos(latitude) shrink."""
    dx, dy = b[1] - a[1], b[0] - a[0]
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((lon - a[1]) * dx + (lat - a[0]) * dy) / length2))
    return math.hypot(lon - (a[1] + t * dx), lat - (a[0] + t * dy))


@pytest.mark.parametrize(
    "line", [[(51.5, -1.3), (51.5, -0.7)], [(51.2, -1.0), (51.8, -1.0)], [(51.2, -1.3), (51.5, -1.0), (51.8, -1.2)]]
)
def test_a_polyline_is_buffered_by_distance_km_over_200_degrees_as_the_real_server_does(client, ocm_server, line):
    new = ocm_server.generate_chargers(3_000, center=(51.5, -1.0), radius_km=40, seed=11)
    got = set(
        ids(
            client.get(
                "/poi",
                params={"polyline": polyline.encode(line), "distance": 10, "distanceunit": "km", "maxresults": 5000},
            )
        )
    )
    buffer_degrees = 10 / 200
    expected, within_10_km = set(), set()
    for poi_id in new:
        address = ocm_server.poi(poi_id)["AddressInfo"]
        lat, lon = address["Latitude"], address["Longitude"]
        if min(_degree_distance_to_segment(lat, lon, a, b) for a, b in itertools.pairwise(line)) <= buffer_degrees:
            expected.add(poi_id)
        km = min(_segment_km(lat, lon, a, b) for a, b in itertools.pairwise(line))
        if km <= 10:
            within_10_km.add(poi_id)
    assert got & set(new) == expected
    # at 51.5° N the buffer reaches about ±5.6 km north-south and ±3.5 km east-west, not ±10 km
    assert within_10_km - got, "chargers 6-10 km from the line are outside the degree buffer"


def test_a_polyline_distance_in_miles_is_converted_before_the_degree_buffer(client, ocm_server):
    [near, far] = ocm_server.generate_chargers(2, center=(51.5, -1.0), radius_km=0.01, seed=2)
    ocm_server.modify_poi(near, AddressInfo={"Latitude": 51.5 + 0.9 * 16.09344 / 200, "Longitude": -1.0})
    ocm_server.modify_poi(far, AddressInfo={"Latitude": 51.5 + 1.1 * 16.09344 / 200, "Longitude": -1.0})
    line = polyline.encode([(51.5, -1.2), (51.5, -0.8)])
    got = set(ids(client.get("/poi", params={"polyline": line, "distance": 10, "maxresults": 500})))
    assert near in got and far not in got


def _segment_km(lat, lon, a, b):
    k = math.cos(math.radians(lat))
    ax, ay = (a[1] - lon) * k, a[0] - lat
    bx, by = (b[1] - lon) * k, b[0] - lat
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length2))
    return math.hypot(ax + t * dx, ay + t * dy) * 111.195


def test_a_bounding_box_answers_in_storage_order_unless_sortby_is_given(client):
    box = "(51.53,-0.05),(51.51,-0.01)"
    got = ids(client.get("/poi", params={"boundingbox": box, "maxresults": 500}))
    stored_order = [p["ID"] for p in sample_file("poi-more.json")]
    assert len(got) > 50
    assert got == [i for i in stored_order if i in set(got)]  # the order the data was stored in
    assert got != sorted(got) and got != sorted(got, reverse=True)
    first_ten = ids(client.get("/poi", params={"boundingbox": box, "maxresults": 10}))
    assert first_ten == got[:10]  # maxresults cuts the unsorted answer, not the nearest or newest
    by_id = ids(client.get("/poi", params={"boundingbox": box, "maxresults": 500, "sortby": "id_asc"}))
    assert by_id == sorted(got)
