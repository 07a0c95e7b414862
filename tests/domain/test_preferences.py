"""A driver's saved preferences: defaults, round trips through storage documents, units."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocm_bot.domain.preferences import (
    PAGE_SIZES,
    POWER_STEPS_KW,
    DistanceUnitChoice,
    UsageChoice,
    UserPreferences,
    region_of,
)


def test_a_new_driver_sees_working_public_and_membership_chargers_within_10_km():
    prefs = UserPreferences()
    assert prefs.operational_only is True
    assert prefs.usage is UsageChoice.INCLUDE_MEMBERSHIP
    assert prefs.radius_km == 10
    assert prefs.min_power_kw is None
    assert prefs.connection_type_ids == frozenset()
    assert prefs.page_size == 5
    assert prefs.language is None and prefs.unit is None


def test_saved_preferences_come_back_unchanged_from_a_storage_document():
    prefs = UserPreferences(
        language="de",
        unit=DistanceUnitChoice.MILES,
        radius_km=25,
        min_power_kw=50,
        connection_type_ids=frozenset({33, 25}),
        operator_ids=frozenset({3299}),
        level_ids=frozenset({3}),
        usage=UsageChoice.PUBLIC_ONLY,
        operational_only=False,
        open_data_only=True,
        page_size=8,
    )
    document = prefs.to_dict()
    assert document["connection_type_ids"] == [25, 33]
    assert document["unit"] == "mi"
    assert UserPreferences.from_dict(document) == prefs


@pytest.mark.parametrize(
    ("key", "bad_value"),
    [
        ("unit", "parsecs"),
        ("usage", "everyone"),
        ("radius_km", -5),
        ("radius_km", "far"),
        ("min_power_kw", -1),
        ("min_power_kw", "fast"),
        ("page_size", 0),
        ("page_size", 10_000),
        ("operational_only", "yes"),
        ("connection_type_ids", ["CCS"]),
        ("connection_type_ids", 33),
    ],
)
def test_a_damaged_stored_value_falls_back_to_its_default_and_keeps_the_rest(key, bad_value):
    prefs = UserPreferences.from_dict(
        {key: bad_value, "min_power_kw": 22} if key != "min_power_kw" else {key: bad_value}
    )
    assert getattr(prefs, key) == getattr(UserPreferences(), key)
    if key != "min_power_kw":
        assert prefs.min_power_kw == 22


def test_unknown_keys_of_other_features_are_ignored():
    assert UserPreferences.from_dict({"favourites_order": [1, 2], "radius_km": 5}).radius_km == 5


@given(
    power=st.sampled_from((None, *POWER_STEPS_KW)),
    page_size=st.sampled_from(PAGE_SIZES),
    connectors=st.frozensets(st.integers(min_value=0, max_value=2000), max_size=10),
    unit=st.sampled_from((None, *DistanceUnitChoice)),
    usage=st.sampled_from(tuple(UsageChoice)),
    flags=st.tuples(st.booleans(), st.booleans()),
)
def test_every_menu_value_survives_a_round_trip(power, page_size, connectors, unit, usage, flags):
    prefs = replace(
        UserPreferences(),
        min_power_kw=power,
        page_size=page_size,
        connection_type_ids=connectors,
        unit=unit,
        usage=usage,
        operational_only=flags[0],
        open_data_only=flags[1],
    )
    assert UserPreferences.from_dict(prefs.to_dict()) == prefs


@pytest.mark.parametrize(
    ("country", "language_code", "unit"),
    [
        ("US", None, DistanceUnitChoice.MILES),
        ("gb", None, DistanceUnitChoice.MILES),
        ("DE", None, DistanceUnitChoice.KM),
        (None, "en-US", DistanceUnitChoice.MILES),
        (None, "en-GB", DistanceUnitChoice.MILES),
        (None, "en", DistanceUnitChoice.KM),
        (None, "de-DE", DistanceUnitChoice.KM),
        (None, None, DistanceUnitChoice.KM),
        ("DE", "en-US", DistanceUnitChoice.KM),  # the searched place's country wins
    ],
)
def test_miles_are_the_default_for_us_and_uk_drivers(country, language_code, unit):
    assert UserPreferences().unit_for(country, language_code=language_code) is unit


def test_a_chosen_unit_beats_the_regional_default():
    assert UserPreferences(unit=DistanceUnitChoice.KM).unit_for("US", language_code="en-US") is DistanceUnitChoice.KM
    assert UserPreferences(unit=DistanceUnitChoice.MILES).unit_for("DE") is DistanceUnitChoice.MILES


@pytest.mark.parametrize(
    ("code", "region"),
    [("en-GB", "GB"), ("pt_br", "BR"), ("en", None), ("", None), (None, None), ("zh-hans", None)],
)
def test_region_of_a_telegram_language_code(code, region):
    assert region_of(code) == region
