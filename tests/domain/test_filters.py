from dataclasses import replace

import pytest

from ocm_bot.domain.filters import (
    FilterKey,
    ServerFilter,
    StatusKind,
    active_filters,
    failed_filters,
    matches,
    ocm_query,
    status_kind,
    without,
)
from ocm_bot.domain.preferences import UsageChoice, UserPreferences
from ocm_bot.ocm.models import Connection, ConnectionType, StatusType, SubmissionStatusType, UsageType
from tests.domain.samples import PORTLAND, by_id, reference

LIDL_GARFORTH = 100627  # CCS 50 kW, CHAdeMO 50 kW, Type 2 43 kW; operational; public
OMSI_NO_STATUS = 3428  # no status, no connections
WATER_AVENUE_UNKNOWN = 8473  # status 0 (unknown), NEMA 5-20R, CarStations.com (not open data)


def with_status(charger, status_id):
    return replace(charger, status=reference().status_types[status_id])


def test_default_query_asks_ocm_for_a_compact_page_around_the_point_in_km():
    params = ocm_query(UserPreferences(), PORTLAND, radius_km=10).to_params()
    assert params["latitude"] == "45.5122" and params["longitude"] == "-122.6587"
    assert params["distance"] == "10" and params["distanceunit"] == "km"
    assert params["compact"] == "true" and params["verbose"] == "false"
    assert params["maxresults"] == "40"
    for absent in ("minpowerkw", "connectiontypeid", "operatorid", "levelid", "opendata", "statustypeid"):
        assert absent not in params


def test_power_plugs_operators_levels_and_open_data_are_sent_to_ocm():
    prefs = UserPreferences(
        min_power_kw=50,
        connection_type_ids=frozenset({33, 2}),
        operator_ids=frozenset({3}),
        level_ids=frozenset({3}),
        open_data_only=True,
    )
    params = ocm_query(prefs, PORTLAND, radius_km=25).to_params()
    assert params["minpowerkw"] == "50"
    assert params["connectiontypeid"] == "2,33"
    assert params["operatorid"] == "3"
    assert params["levelid"] == "3"
    assert params["opendata"] == "true"


@pytest.mark.parametrize(
    ("status_id", "kind"),
    [
        (0, StatusKind.UNKNOWN),
        (10, StatusKind.OPERATIONAL),
        (30, StatusKind.OPERATIONAL),
        (50, StatusKind.OPERATIONAL),
        (75, StatusKind.OPERATIONAL),
        (100, StatusKind.NOT_OPERATIONAL),
        (150, StatusKind.PLANNED),
        (200, StatusKind.REMOVED),
        (210, StatusKind.REMOVED),
    ],
)
def test_status_kinds_follow_ocm_status_types(status_id, kind):
    assert status_kind(with_status(by_id(LIDL_GARFORTH), status_id)) is kind


def test_operational_only_hides_not_working_and_planned_but_keeps_unknown():
    prefs = UserPreferences(operational_only=True)
    lidl = by_id(LIDL_GARFORTH)
    assert matches(lidl, prefs)
    assert not matches(with_status(lidl, 100), prefs)
    assert not matches(with_status(lidl, 150), prefs)
    assert matches(by_id(WATER_AVENUE_UNKNOWN), prefs)
    assert matches(by_id(OMSI_NO_STATUS), prefs)
    odd = replace(lidl, status=StatusType(999, "Broken in a new way", is_operational=False))
    assert not matches(odd, prefs)


def test_removed_duplicate_and_delisted_are_never_shown():
    prefs = UserPreferences(operational_only=False, usage=UsageChoice.INCLUDE_RESTRICTED)
    lidl = by_id(LIDL_GARFORTH)
    assert matches(with_status(lidl, 100), prefs)
    assert not matches(with_status(lidl, 200), prefs)
    assert not matches(with_status(lidl, 210), prefs)
    delisted = replace(lidl, submission_status=SubmissionStatusType(1001, "Delisted - Duplicate", is_live=False))
    assert not matches(delisted, prefs)


def test_power_and_plug_must_be_met_by_the_same_connection():
    lidl = by_id(LIDL_GARFORTH)
    assert matches(lidl, UserPreferences(min_power_kw=50, connection_type_ids=frozenset({33})))
    # Type 2 tethered (1036) is 43 kW: a 50 kW need on that plug is not met by the CCS next to it.
    assert not matches(lidl, UserPreferences(min_power_kw=50, connection_type_ids=frozenset({1036})))
    assert matches(lidl, UserPreferences(min_power_kw=43, connection_type_ids=frozenset({1036})))
    assert not matches(lidl, UserPreferences(min_power_kw=150))


def test_unknown_power_never_meets_a_minimum():
    unknown = replace(
        by_id(LIDL_GARFORTH), connections=(Connection(1, ConnectionType(33, "CCS (Type 2)"), power_kw=None),)
    )
    assert not matches(unknown, UserPreferences(min_power_kw=3.7))
    assert matches(unknown, UserPreferences(connection_type_ids=frozenset({33})))


@pytest.mark.parametrize(
    ("usage_id", "public", "membership", "restricted"),
    [
        (1, True, True, True),
        (5, True, True, True),
        (7, True, True, True),
        (0, True, True, True),
        (4, False, True, True),
        (2, False, False, True),
        (6, False, False, True),
        (3, False, False, True),
    ],
)
def test_usage_choices(usage_id, public, membership, restricted):
    charger = replace(by_id(LIDL_GARFORTH), usage_type=UsageType(usage_id, "x"))
    assert matches(charger, UserPreferences(usage=UsageChoice.PUBLIC_ONLY)) is public
    assert matches(charger, UserPreferences(usage=UsageChoice.INCLUDE_MEMBERSHIP)) is membership
    assert matches(charger, UserPreferences(usage=UsageChoice.INCLUDE_RESTRICTED)) is restricted


def test_operator_and_open_data_filters():
    lidl = by_id(LIDL_GARFORTH)
    assert matches(lidl, UserPreferences(operator_ids=frozenset({lidl.operator.id})))
    assert failed_filters(lidl, UserPreferences(operator_ids=frozenset({99999}))) == {FilterKey.OPERATORS}
    assert matches(lidl, UserPreferences(open_data_only=True))
    assert failed_filters(by_id(WATER_AVENUE_UNKNOWN), UserPreferences(open_data_only=True)) == {FilterKey.OPEN_DATA}


def test_a_wider_server_filter_covers_a_narrower_one():
    wide = ServerFilter(min_power_kw=22, connection_type_ids=frozenset({33, 2}))
    assert wide.covers(ServerFilter(min_power_kw=50, connection_type_ids=frozenset({33})))
    assert ServerFilter().covers(wide)
    assert not wide.covers(ServerFilter(min_power_kw=11, connection_type_ids=frozenset({33})))
    assert not wide.covers(ServerFilter(min_power_kw=50))
    assert not wide.covers(ServerFilter(min_power_kw=50, connection_type_ids=frozenset({33, 25})))
    assert not ServerFilter(open_data_only=True).covers(ServerFilter())


def test_each_active_filter_can_be_removed():
    prefs = UserPreferences(
        min_power_kw=50,
        connection_type_ids=frozenset({33}),
        operator_ids=frozenset({3}),
        level_ids=frozenset({3}),
        usage=UsageChoice.PUBLIC_ONLY,
        operational_only=True,
        open_data_only=True,
    )
    keys = active_filters(prefs)
    assert set(keys) == set(FilterKey)
    for key in keys:
        assert active_filters(without(prefs, key)) == [other for other in keys if other is not key]
