"""Parsing OCM POIs: every payload shape gives the same Charger; bad records never sink a page.

The samples in ``../shared/ocm/`` hold each POI in one shape only (no ID appears twice across
shapes), so the other shapes are derived here from each verbose record by OCM's documented
transformations (openapi.yaml, ``/poi`` parameters):

- ``verbose=false``: "null items removed" (every null-valued property dropped, recursively);
- ``compact=true``: "reference data as IDs instead of full objects" (``DataProvider``,
  ``OperatorInfo``, ``UsageType``, ``StatusType``, ``SubmissionStatus``, ``AddressInfo.Country``,
  connection ``ConnectionType``/``StatusType``/``Level``/``CurrentType`` and comment
  ``CommentType``/``CheckinStatusType`` removed, the ``...ID`` fields kept), with nulls dropped;
- ``camelcase=true``: property names camel-cased the way OCM's JSON.NET resolver does
  (``ID`` -> ``id``, ``ISOCode`` -> ``isoCode``, ``PowerKW`` -> ``powerKW``).

The real compact samples are checked to have exactly that shape, so the derivation is faithful.
"""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocm_bot.ocm.errors import OcmBadResponse
from ocm_bot.ocm.models import Charger
from ocm_bot.ocm.parse import parse_poi, parse_pois
from ocm_bot.ocm.reference import ReferenceData

SHARED = Path(__file__).resolve().parents[3] / "shared" / "ocm"  # ../shared/ocm from the repo root

POI_REFERENCE_OBJECTS = ("DataProvider", "OperatorInfo", "UsageType", "StatusType", "SubmissionStatus")
CONNECTION_REFERENCE_OBJECTS = ("ConnectionType", "StatusType", "Level", "CurrentType")
COMMENT_REFERENCE_OBJECTS = ("CommentType", "CheckinStatusType")


def _load(name: str) -> Any:
    return json.loads((SHARED / name).read_text(encoding="utf-8"))


REFERENCE = ReferenceData.from_json(_load("referencedata.json"))
SAMPLES: list[dict[str, Any]] = _load("poi-samples.json")
MORE: list[dict[str, Any]] = _load("poi-more.json")
ALL_POIS = SAMPLES + MORE


def is_verbose(record: dict[str, Any]) -> bool:
    return "DataProvider" in record and "DatePlanned" in record  # nulls and objects kept


def is_compact(record: dict[str, Any]) -> bool:
    return not any(key in record for key in POI_REFERENCE_OBJECTS)


VERBOSE = [p for p in ALL_POIS if is_verbose(p)]
COMPACT = [p for p in ALL_POIS if is_compact(p)]
NON_VERBOSE = [p for p in ALL_POIS if not is_verbose(p) and not is_compact(p)]


def without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def compacted(record: dict[str, Any]) -> dict[str, Any]:
    poi = copy.deepcopy(record)
    for key in POI_REFERENCE_OBJECTS:
        poi.pop(key, None)
    if isinstance(poi.get("AddressInfo"), dict):
        poi["AddressInfo"].pop("Country", None)
    for connection in poi.get("Connections") or []:
        for key in CONNECTION_REFERENCE_OBJECTS:
            connection.pop(key, None)
    for comment in poi.get("UserComments") or []:
        for key in COMMENT_REFERENCE_OBJECTS:
            comment.pop(key, None)
    return without_nulls(poi)


def camel_name(name: str) -> str:
    """JSON.NET's CamelCasePropertyNamesContractResolver: lower the leading capitals run."""
    chars = list(name)
    for i, ch in enumerate(chars):
        if not ch.isupper():
            break
        has_next = i + 1 < len(chars)
        if i > 0 and has_next and not chars[i + 1].isupper():
            break
        chars[i] = ch.lower()
    return "".join(chars)


def camelised(value: Any) -> Any:
    if isinstance(value, dict):
        return {camel_name(k): camelised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camelised(v) for v in value]
    return value


def test_samples_cover_all_three_shapes() -> None:
    assert len(VERBOSE) >= 100 and len(NON_VERBOSE) >= 20 and len(COMPACT) >= 100


def test_camel_case_names_follow_json_net() -> None:
    assert [camel_name(n) for n in ("ID", "UUID", "ISOCode", "PowerKW", "AddressInfo", "ItemURL")] == [
        "id",
        "uuid",
        "isoCode",
        "powerKW",
        "addressInfo",
        "itemURL",
    ]


def test_derived_compact_shape_matches_ocms_real_compact_answers() -> None:
    real_keys = {key for record in COMPACT for key in record}
    derived_keys = {key for record in VERBOSE for key in compacted(record)}
    assert not real_keys & set(POI_REFERENCE_OBJECTS)
    assert not derived_keys & set(POI_REFERENCE_OBJECTS)
    for record in COMPACT:
        assert "Country" not in record["AddressInfo"]
        for connection in record.get("Connections", []):
            assert not set(connection) & set(CONNECTION_REFERENCE_OBJECTS)
            assert None not in connection.values()
    assert real_keys <= derived_keys | {"MetadataValues"}


@pytest.mark.parametrize("record", VERBOSE, ids=lambda r: str(r["ID"]))
def test_same_poi_parses_equal_in_every_shape(record: dict[str, Any]) -> None:
    verbose = parse_poi(record, REFERENCE)
    assert verbose is not None
    shapes = {
        "verbose=false": without_nulls(record),
        "compact": compacted(record),
        "camelCase verbose": camelised(record),
        "camelCase compact": camelised(compacted(record)),
    }
    for name, shaped in shapes.items():
        assert parse_poi(shaped, REFERENCE) == verbose, name


def test_reference_data_resolves_every_id_in_the_samples() -> None:
    chargers = parse_pois(ALL_POIS, REFERENCE)
    assert len(chargers) == len(ALL_POIS)
    unresolved = []
    for charger in chargers:
        entities = [
            charger.operator,
            charger.usage_type,
            charger.status,
            charger.data_provider,
            charger.submission_status,
            charger.address.country,
        ]
        for connection in charger.connections:
            entities += [connection.connection_type, connection.status, connection.level, connection.current_type]
        for comment in charger.comments:
            entities += [comment.comment_type, comment.checkin_status]
        unresolved += [(charger.id, e) for e in entities if e is not None and not e.title]
    assert unresolved == []


def test_compact_sample_reads_like_a_driver_would_see_it() -> None:
    [lidl] = [c for c in parse_pois(SAMPLES, REFERENCE) if c.id == 100627]
    assert lidl.name == "Lidl-Garforth"
    assert lidl.address.town == "Leeds" and lidl.address.country and lidl.address.country.iso_code == "GB"
    assert lidl.max_power_kw == 50.0
    assert lidl.status and lidl.status.is_operational is True
    assert lidl.operator and lidl.operator.title == "POD Point (UK)"
    assert [c.connection_type.title for c in lidl.connections if c.connection_type] == [
        "CHAdeMO",
        "Type 2 (Tethered Connector)",
        "CCS (Type 2)",
    ]
    assert lidl.data_provider and lidl.data_provider.is_open_data_licensed
    [comment] = lidl.comments
    assert (comment.user_name, comment.rating, comment.text) == ("Nero", 5, "24/7")
    assert comment.checkin_status and comment.checkin_status.title == "Charged Successfully"
    assert comment.date_created and comment.date_created.tzinfo is UTC
    assert lidl.media_items[0].thumbnail_url and lidl.media_items[0].thumbnail_url.endswith(".jpg")


def test_dates_are_aware_utc_whatever_ocm_wrote() -> None:
    record = {
        "ID": 1,
        "AddressInfo": {"Latitude": 51.5, "Longitude": -0.1},
        "DateCreated": "2015-12-02T10:08:14.25Z",
        "DateLastVerified": "2011-09-28T15:11:00",
        "DateLastStatusUpdate": "2020-09-16T05:35:30.7731234Z",
        "DatePlanned": "not a date",
    }
    charger = parse_poi(record, REFERENCE)
    assert charger is not None
    assert charger.date_created and charger.date_created.isoformat() == "2015-12-02T10:08:14.250000+00:00"
    assert charger.date_last_verified and charger.date_last_verified.tzinfo is UTC
    assert charger.date_last_status_update and charger.date_last_status_update.microsecond == 773123
    assert charger.date_planned is None


def test_poi_without_coordinates_is_skipped_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    page = [
        {"ID": 1, "AddressInfo": {"Title": "No place"}},
        {"ID": 2, "AddressInfo": None},
        {"ID": 3},
        {"ID": 4, "AddressInfo": {"Latitude": 0, "Longitude": 0}},
        {"ID": 5, "AddressInfo": {"Latitude": 53.8, "Longitude": -1.5, "Title": "Fine"}},
    ]
    with caplog.at_level(logging.WARNING, logger="ocm_bot.ocm.parse"):
        chargers = parse_pois(page, REFERENCE)
    assert [c.id for c in chargers] == [5]
    assert len(caplog.records) == 1 and "skipped 4 of 5" in caplog.records[0].getMessage()


def test_nulls_and_odd_types_never_sink_the_page() -> None:
    page: list[Any] = [
        None,
        "garbage",
        {"ID": "x", "AddressInfo": {"Latitude": 1, "Longitude": 1}},
        {
            "ID": 7,
            "AddressInfo": {"Latitude": "53.8", "Longitude": -1.5, "Title": 12, "Country": "GB"},
            "Connections": [None, {"PowerKW": "fast", "ConnectionTypeID": "33", "Quantity": 2.0}, 3],
            "UserComments": {"not": "a list"},
            "StatusTypeID": 99999,
            "OperatorInfo": {"ID": 99999, "Title": "New network"},
            "NumberOfPoints": True,
        },
    ]
    [charger] = parse_pois(page, REFERENCE)
    assert charger.id == 7 and charger.latitude == 53.8 and charger.name == "12"
    [connection] = charger.connections
    assert connection.power_kw is None and connection.quantity == 2
    assert connection.connection_type and connection.connection_type.title == "CCS (Type 2)"
    assert charger.status and (charger.status.id, charger.status.title) == (99999, "")
    assert charger.operator and charger.operator.title == "New network"  # inline, unknown to reference
    assert charger.number_of_points is None and charger.comments == ()


@pytest.mark.parametrize("payload", [{"ID": 1}, "Error", None, 42])
def test_answer_that_is_not_a_list_is_a_bad_response(payload: Any) -> None:
    with pytest.raises(OcmBadResponse):
        parse_pois(payload, REFERENCE)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
poi_keys = st.sampled_from(
    ["ID", "AddressInfo", "Connections", "StatusTypeID", "OperatorInfo", "UserComments", "MediaItems", "DateCreated"]
)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.dictionaries(poi_keys, json_values, max_size=6), max_size=4))
def test_any_json_list_parses_without_crashing(page: list[dict[str, Any]]) -> None:
    for charger in parse_pois(page, REFERENCE):
        assert isinstance(charger, Charger)
