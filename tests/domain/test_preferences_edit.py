"""Editing preferences the way the /settings menus do, and what the choices mean for OCM."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocm_bot.domain.preferences import DistanceUnitChoice, UsageChoice, UserPreferences
from ocm_bot.domain.preferences_edit import (
    ANY,
    AUTOMATIC,
    COMMON_CONNECTORS,
    LEVEL_IDS,
    MAX_OPERATORS,
    InvalidChoice,
    Setting,
    apply_choice,
    radius_choices,
    search_operators,
    toggle_connector_group,
)
from ocm_bot.ocm.models import Operator
from ocm_bot.ocm.reference import ReferenceData

REFERENCE_FILE = Path(__file__).resolve().parents[3] / "shared" / "ocm" / "referencedata.json"


@pytest.fixture(scope="module")
def reference() -> ReferenceData:
    return ReferenceData.from_json(json.loads(REFERENCE_FILE.read_text()))


def test_choosing_50_kw_sets_the_minimum_power_and_any_clears_it():
    prefs = apply_choice(UserPreferences(), Setting.POWER, "50")
    assert prefs.min_power_kw == 50
    assert apply_choice(prefs, Setting.POWER, "3.7").min_power_kw == 3.7
    assert apply_choice(prefs, Setting.POWER, ANY).min_power_kw is None


@pytest.mark.parametrize("value", ["49", "-50", "nan", "inf", "fast", ""])
def test_a_power_the_menu_does_not_offer_is_refused(value):
    with pytest.raises(InvalidChoice):
        apply_choice(UserPreferences(), Setting.POWER, value)


def test_ccs_type_2_toggles_on_and_off():
    prefs = apply_choice(UserPreferences(), Setting.CONNECTORS, "c2")
    assert prefs.connection_type_ids == {33}
    assert apply_choice(prefs, Setting.CONNECTORS, "c2").connection_type_ids == frozenset()


def test_type_2_selects_the_socket_and_the_tethered_cable():
    prefs = apply_choice(UserPreferences(), Setting.CONNECTORS, "t2")
    assert prefs.connection_type_ids == {25, 1036}


def test_plugs_add_up_and_any_plug_clears_them():
    prefs = UserPreferences()
    for key in ("c2", "t2", "ch"):
        prefs = apply_choice(prefs, Setting.CONNECTORS, key)
    assert prefs.connection_type_ids == {33, 25, 1036, 2}
    assert apply_choice(prefs, Setting.CONNECTORS, ANY).connection_type_ids == frozenset()


def test_a_half_selected_group_is_completed_by_a_tap_not_cleared():
    prefs = UserPreferences(connection_type_ids=frozenset({25}))  # socket only, from an older setting
    assert toggle_connector_group(prefs, "t2").connection_type_ids == {25, 1036}


def test_a_selected_type_outside_the_common_groups_can_be_removed_but_not_added_by_id():
    prefs = UserPreferences(connection_type_ids=frozenset({21, 33}))
    assert apply_choice(prefs, Setting.CONNECTORS, "21").connection_type_ids == {33}
    with pytest.raises(InvalidChoice):
        apply_choice(UserPreferences(), Setting.CONNECTORS, "21")


def test_every_common_connector_id_exists_in_ocm_reference_data(reference):
    for group in COMMON_CONNECTORS:
        assert group.connection_type_ids <= reference.connection_types.keys(), group.key
    assert reference.connection_types[33].title == "CCS (Type 2)"


def test_common_groups_do_not_overlap():
    seen: set[int] = set()
    for group in COMMON_CONNECTORS:
        assert not seen & group.connection_type_ids, group.key
        seen |= group.connection_type_ids


@given(st.lists(st.sampled_from([group.key for group in COMMON_CONNECTORS]), max_size=12))
def test_toggling_each_group_twice_changes_nothing(keys):
    prefs = UserPreferences()
    for key in keys + keys[::-1]:
        prefs = toggle_connector_group(prefs, key)
    assert prefs.connection_type_ids == frozenset()


def test_toggles_flip_working_only_and_open_data_only():
    prefs = apply_choice(UserPreferences(), Setting.OPERATIONAL)
    assert prefs.operational_only is False
    assert apply_choice(prefs, Setting.OPERATIONAL).operational_only is True
    assert apply_choice(UserPreferences(), Setting.OPEN_DATA).open_data_only is True


def test_radius_in_miles_is_stored_in_kilometres():
    prefs = apply_choice(UserPreferences(), Setting.RADIUS, "5", "mi")
    assert math.isclose(prefs.radius_km, 8.04672)
    assert [choice.is_current(prefs) for choice in radius_choices(DistanceUnitChoice.MILES)] == [
        False,
        False,
        True,
        False,
        False,
    ]
    assert apply_choice(prefs, Setting.RADIUS, "25", "km").radius_km == 25


@pytest.mark.parametrize("values", [("7", "km"), ("5", "parsecs"), ("5",), ("-5", "km")])
def test_a_radius_the_menu_does_not_offer_is_refused(values):
    with pytest.raises(InvalidChoice):
        apply_choice(UserPreferences(), Setting.RADIUS, *values)


def test_unit_page_size_and_usage():
    prefs = apply_choice(UserPreferences(), Setting.UNIT, "mi")
    assert prefs.unit is DistanceUnitChoice.MILES
    assert apply_choice(prefs, Setting.UNIT, AUTOMATIC).unit is None
    assert apply_choice(prefs, Setting.PAGE_SIZE, "8").page_size == 8
    assert apply_choice(prefs, Setting.USAGE, "public").usage is UsageChoice.PUBLIC_ONLY
    for setting, value in [(Setting.PAGE_SIZE, "7"), (Setting.UNIT, "ly"), (Setting.USAGE, "nobody")]:
        with pytest.raises(InvalidChoice):
            apply_choice(prefs, setting, value)


def test_only_languages_with_a_catalog_can_be_chosen():
    prefs = apply_choice(UserPreferences(), Setting.LANGUAGE, "de", languages=("en", "de"))
    assert prefs.language == "de"
    assert apply_choice(prefs, Setting.LANGUAGE, AUTOMATIC, languages=("en", "de")).language is None
    with pytest.raises(InvalidChoice):
        apply_choice(prefs, Setting.LANGUAGE, "xx", languages=("en", "de"))


def test_reset_clears_the_filters_but_keeps_language_unit_and_page_size():
    prefs = UserPreferences(
        language="de",
        unit=DistanceUnitChoice.MILES,
        page_size=8,
        min_power_kw=50,
        connection_type_ids=frozenset({33}),
        operator_ids=frozenset({1}),
        operational_only=False,
        radius_km=50,
    )
    reset = apply_choice(prefs, Setting.RESET)
    assert reset == UserPreferences(language="de", unit=DistanceUnitChoice.MILES, page_size=8)


def test_an_unknown_setting_or_a_missing_value_is_refused():
    with pytest.raises(InvalidChoice):
        apply_choice(UserPreferences(), "zz", "1")
    with pytest.raises(InvalidChoice):
        apply_choice(UserPreferences(), Setting.POWER)


# Operators -------------------------------------------------------------------------------------


def test_operator_search_ignores_case_and_accents(reference):
    found = search_operators(reference.operators, "aldi sud")
    assert [operator.title for operator in found][:1] == ["ALDI SÜD"]


def test_operator_search_puts_the_whole_name_and_prefixes_first():
    operators = {
        1: Operator(1, "Pod Point"),
        2: Operator(2, "Podium Charging"),
        3: Operator(3, "EcoPod"),
        4: Operator(4, "Shell Recharge"),
        5: Operator(5, "POD"),
    }
    assert [operator.id for operator in search_operators(operators, "pod")] == [5, 1, 2, 3]


def test_operator_search_matches_every_word_anywhere():
    operators = {1: Operator(1, "Tesla Motors (Worldwide)"), 2: Operator(2, "Tesla Destination")}
    assert [operator.id for operator in search_operators(operators, "worldwide tesla")] == [1]


@pytest.mark.parametrize("query", ["", " ", "a", "🔌", "!!"])
def test_operator_search_needs_two_letters(reference, query):
    assert search_operators(reference.operators, query) == []


def test_operator_search_returns_at_most_the_limit(reference):
    assert len(search_operators(reference.operators, "e", limit=8)) == 0
    assert len(search_operators(reference.operators, "en", limit=8)) == 8


def test_operator_search_survives_5000_characters(reference):
    assert search_operators(reference.operators, "x" * 5000) == []


def test_operators_are_added_from_reference_data_and_removed_by_a_second_tap(reference):
    prefs = apply_choice(UserPreferences(), Setting.OPERATORS, "3464", operators=reference.operators)
    assert prefs.operator_ids == {3464}
    assert apply_choice(prefs, Setting.OPERATORS, "3464", operators={}).operator_ids == frozenset()
    assert apply_choice(prefs, Setting.OPERATORS, ANY).operator_ids == frozenset()


def test_an_operator_ocm_does_not_know_is_refused(reference):
    with pytest.raises(InvalidChoice):
        apply_choice(UserPreferences(), Setting.OPERATORS, "999999999", operators=reference.operators)
    with pytest.raises(InvalidChoice):
        apply_choice(UserPreferences(), Setting.OPERATORS, "ionity", operators=reference.operators)


def test_at_most_ten_operators(reference):
    prefs = UserPreferences()
    ids = sorted(reference.operators)[: MAX_OPERATORS + 1]
    for operator_id in ids[:MAX_OPERATORS]:
        prefs = apply_choice(prefs, Setting.OPERATORS, str(operator_id), operators=reference.operators)
    with pytest.raises(InvalidChoice):
        apply_choice(prefs, Setting.OPERATORS, str(ids[-1]), operators=reference.operators)


def test_charging_levels_are_a_multi_select_with_any(reference):
    prefs = apply_choice(UserPreferences(), Setting.LEVELS, "3")
    prefs = apply_choice(prefs, Setting.LEVELS, "2")
    assert prefs.level_ids == {2, 3}
    assert apply_choice(prefs, Setting.LEVELS, "3").level_ids == {2}
    assert apply_choice(prefs, Setting.LEVELS, ANY).level_ids == frozenset()
    assert set(LEVEL_IDS) == set(reference.levels)
    for value in ("7", "0", "fast"):
        with pytest.raises(InvalidChoice):
            apply_choice(prefs, Setting.LEVELS, value)
