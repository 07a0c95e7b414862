"""PoiQuery: invalid searches are refused before any request; valid ones render OCM's format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import polyline
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocm_bot.ocm.query import OutputFormat, PoiQuery, SortBy


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"latitude": 95, "longitude": 0}, "latitude must be between -90 and 90"),
        ({"latitude": 10, "longitude": 181}, "longitude must be between -180 and 180"),
        ({"latitude": float("nan"), "longitude": 0}, "latitude must be finite"),
        ({"latitude": 51.5}, "latitude and longitude must be given together"),
        ({"longitude": -0.1}, "latitude and longitude must be given together"),
        ({"latitude": 51.5, "longitude": -0.1, "distance": -2}, "distance must be positive"),
        ({"latitude": 51.5, "longitude": -0.1, "distance": 0}, "distance must be positive"),
        ({"distance": 5}, "distance needs a latitude/longitude"),
        ({"maxresults": 0}, "maxresults must be a positive integer"),
        ({"maxresults": True}, "maxresults must be a positive integer"),
        ({"connectiontypeid": []}, "connectiontypeid is an empty list"),
        ({"operatorid": [3, -1]}, "operatorid IDs must not be negative"),
        ({"statustypeid": ["50"]}, "statustypeid must hold integer IDs"),
        ({"countrycode": ["GBR"]}, "countrycode must be a 2-letter ISO code"),
        ({"countrycode": []}, "countrycode is an empty list"),
        ({"countrycode": ("GB", "IE")}, "countrycode takes one country; use countryid for several"),
        ({"countrycode": "GB", "countryid": (1,)}, "give countrycode or countryid, not both"),
        ({"boundingbox": ((51.4, -0.2), (51.6, 0.1))}, "top-left (north-west) then bottom-right"),
        ({"boundingbox": ((51.6, 0.1), (51.4, -0.2))}, "top-left (north-west) then bottom-right"),
        ({"boundingbox": ((91, 0.1), (51.4, 0.2))}, "boundingbox latitude must be between"),
        ({"polygon": ((51.5, -0.1), (51.6, -0.1))}, "polygon needs at least 3 points"),
        ({"polyline": ((51.5, -0.1),)}, "polyline needs at least 2 points"),
        ({"minpowerkw": -1}, "minpowerkw must not be negative"),
        ({"minpowerkw": 50, "maxpowerkw": 22}, "minpowerkw 50.0 is above maxpowerkw 22.0"),
        ({"modifiedsince": datetime(2024, 1, 1)}, "modifiedsince must be timezone-aware"),
        ({"output": "pdf"}, "output must be one of json, geojson, xml, csv, kml"),
        ({"sortby": "nearest"}, "sortby must be one of"),
        ({"callback": "alert(1)"}, "callback must be a JavaScript identifier"),
        ({"greaterthanid": -5}, "greaterthanid must be a non-negative integer"),
    ],
)
def test_invalid_query_is_refused_with_a_clear_message(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        PoiQuery(**kwargs)


def test_default_query_asks_for_compact_non_verbose_json() -> None:
    assert PoiQuery().to_params() == {"output": "json", "verbose": "false", "compact": "true"}


def test_every_parameter_renders_in_ocms_documented_format() -> None:
    since = datetime(2024, 3, 9, 14, 5, 59, tzinfo=timezone(timedelta(hours=2)))
    route = ((52.52, 13.405), (52.5, 13.42), (52.48, 13.45))
    query = PoiQuery(
        output="json",
        maxresults=25,
        countryid=(1, 103),
        latitude=51.5194,
        longitude=-0.0310432,
        distance=2.5,
        distance_in_miles=True,
        operatorid=(8, 3, 3),
        connectiontypeid=[33, 25],
        levelid=(3,),
        minpowerkw=50,
        maxpowerkw=150.5,
        usagetypeid=(1, 4),
        statustypeid=(50, 0),
        dataproviderid=(1,),
        modifiedsince=since,
        opendata=True,
        includecomments=True,
        verbose=True,
        compact=False,
        camelcase=True,
        callback="cb_1",
        chargepointid=(100627, 52224),
        boundingbox=((51.6, -0.2), (51.4, 0.1)),
        polygon=route,
        polyline=route,
        sortby="modified_asc",
        greaterthanid=1000,
    )
    assert query.to_params() == {
        "output": "json",
        "maxresults": "25",
        "countryid": "1,103",
        "latitude": "51.5194",
        "longitude": "-0.031043",
        "distance": "2.5",
        "distanceunit": "miles",
        "operatorid": "3,8",
        "connectiontypeid": "25,33",
        "levelid": "3",
        "minpowerkw": "50",
        "maxpowerkw": "150.5",
        "usagetypeid": "1,4",
        "statustypeid": "0,50",
        "dataproviderid": "1",
        "modifiedsince": "2024-03-09T12:05:59Z",
        "opendata": "true",
        "includecomments": "true",
        "verbose": "true",
        "compact": "false",
        "camelcase": "true",
        "callback": "cb_1",
        "chargepointid": "52224,100627",
        "boundingbox": "(51.6,-0.2),(51.4,0.1)",
        "polygon": polyline.encode(list(route)),
        "polyline": polyline.encode(list(route)),
        "sortby": "modified_asc",
        "greaterthanid": "1000",
    }
    assert query.sortby is SortBy.MODIFIED_ASC


def test_distance_unit_is_always_explicit_because_ocm_defaults_to_miles() -> None:
    params = PoiQuery(latitude=53.8, longitude=-1.5, distance=10).to_params()
    assert params["distanceunit"] == "km"
    assert PoiQuery(latitude=53.8, longitude=-1.5).to_params()["distanceunit"] == "km"


def test_country_code_is_upper_case() -> None:
    assert PoiQuery(countrycode="gb").to_params()["countrycode"] == "GB"


def test_opendata_false_is_sent_and_absent_opendata_is_not() -> None:
    assert PoiQuery(opendata=False).to_params()["opendata"] == "false"
    assert "opendata" not in PoiQuery().to_params()


@pytest.mark.parametrize("fmt", ["xml", "csv", "kml", "geojson", OutputFormat.KML])
def test_export_formats_are_accepted(fmt: str) -> None:
    assert PoiQuery(output=fmt).to_params()["output"] == str(fmt)


def test_encoded_polyline_round_trips_through_the_polyline_package() -> None:
    route = ((51.5, -0.12), (51.51, -0.1), (51.52, -0.08))
    encoded = PoiQuery(polyline=route, distance=2).to_params()["polyline"]
    assert polyline.decode(encoded) == list(route)


def test_equivalent_queries_share_a_cache_key_and_different_ones_do_not() -> None:
    one = PoiQuery(latitude=51.5, longitude=-0.1, distance=5, connectiontypeid=(33, 25, 33))
    two = PoiQuery(latitude=51.5, longitude=-0.1, distance=5.0, connectiontypeid=[25, 33])
    other = PoiQuery(latitude=51.5, longitude=-0.1, distance=5, connectiontypeid=(25,))
    assert one.cache_key() == two.cache_key()
    assert one == two and hash(one) == hash(two)
    assert one.cache_key() != other.cache_key()


def test_modifiedsince_is_normalised_to_utc() -> None:
    query = PoiQuery(modifiedsince=datetime(2024, 1, 1, 1, 30, tzinfo=timezone(timedelta(hours=3))))
    assert query.modifiedsince == datetime(2023, 12, 31, 22, 30, tzinfo=UTC)


def test_replace_validates_again() -> None:
    query = PoiQuery(latitude=51.5, longitude=-0.1, distance=5)
    assert query.replace(distance=3).distance == 3
    with pytest.raises(ValueError, match="distance must be positive"):
        query.replace(distance=-3)


def test_radius_is_converted_to_kilometres() -> None:
    assert PoiQuery(latitude=0, longitude=0, distance=10, distance_in_miles=True).radius_km == pytest.approx(16.09344)


@settings(max_examples=50, deadline=None)
@given(
    lat=st.floats(-90, 90),
    lng=st.floats(-180, 180),
    distance=st.floats(0.001, 1000),
    ids=st.lists(st.integers(0, 10**6), max_size=5),
)
def test_any_valid_point_search_renders_parseable_numbers(
    lat: float, lng: float, distance: float, ids: list[int]
) -> None:
    params = PoiQuery(latitude=lat, longitude=lng, distance=distance, connectiontypeid=tuple(ids)).to_params()
    assert abs(float(params["latitude"]) - lat) < 1e-6
    assert abs(float(params["longitude"]) - lng) < 1e-6
    assert "e" not in params["distance"].lower()
    if ids:
        assert [int(i) for i in params["connectiontypeid"].split(",")] == sorted(set(ids))
