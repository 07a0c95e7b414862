"""The words and emoji a driver reads for check-in outcomes (the domain only knows their IDs)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ocm_bot.domain.checkin import find_outcome, group_outcomes, outcomes_from
from ocm_bot.i18n import translator
from ocm_bot.ocm.models import CheckinStatusType, ConnectionType, Country, CurrentType, StatusType, UsageType
from ocm_bot.ocm.reference import ReferenceData
from ocm_bot.views.vocabulary import (
    charging_level_name,
    checkin_status_name,
    compass_arrow,
    compass_point,
    connection_type_name,
    country_name,
    current_type_name,
    group_label,
    outcome_label,
    outcome_text,
    status_type_name,
    usage_type_name,
)
from tests.fakes.ocm import shared_dir

REFERENCE = ReferenceData.from_json(json.loads((shared_dir() / "ocm" / "referencedata.json").read_text()))
OUTCOMES = outcomes_from(REFERENCE.checkin_status_types.values())
NOW = datetime(2026, 11, 25, tzinfo=UTC)


def test_first_screen_groups_read_as_the_ux_sketch_shows():
    assert [group_label(translator("en"), g) for g in group_outcomes(OUTCOMES)] == [
        "✅ Charged successfully",
        "⚠️ Could not charge",
        "🚗 Spot taken by another EV",
        "🚫 Blocked / not accessible",
        "❓ Other",
    ]


def test_other_group_shows_positive_outcomes_before_negative_ones_with_their_emoji():
    t = translator("en")
    other = next(g for g in group_outcomes(OUTCOMES) if g.name == "other")
    emoji = [outcome_label(t, o).split(" ")[0] for o in other.outcomes]
    assert emoji == sorted(emoji, key=["✅", "⚠️", "❓"].index)
    assert outcome_label(t, find_outcome(other.outcomes, 0)) == "❓ Did not visit"


def test_a_known_outcome_is_in_the_driver_s_language_and_an_unknown_one_keeps_ocm_s_title():
    outcomes = outcomes_from([*REFERENCE.checkin_status_types.values(), CheckinStatusType(999, "Brand new", False)])
    assert outcome_text(translator("de"), find_outcome(outcomes, 10)) != "Charged successfully"
    assert outcome_label(translator("de"), find_outcome(outcomes, 999)) == "⚠️ Brand new"


@pytest.mark.parametrize(
    ("bearing", "point", "arrow"),
    [
        (0, "N", "↑"),
        (90, "E", "→"),
        (180, "S", "↓"),
        (270, "W", "←"),
        (45, "NE", "↗"),
        (225, "SW", "↙"),
        (359, "N", "↑"),
    ],
)
def test_a_bearing_reads_as_the_nearest_compass_point_and_its_arrow(bearing, point, arrow):
    assert compass_point(bearing) == point
    assert compass_arrow(bearing) == arrow
    assert translator("de").gettext(compass_point(270)) == "W"


# OCM's vocabulary in the driver's language ------------------------------------------------------


def test_a_german_card_names_the_plugs_in_german():
    from ocm_bot.domain.preferences import DistanceUnitChoice
    from ocm_bot.views.cards import card
    from tests.domain.samples import by_id

    text = card(translator("de"), by_id(100332), now=NOW, unit=DistanceUnitChoice.KM)
    assert "Typ 2 (nur Steckdose)" in text and "Socket Only" not in text


def test_german_details_name_plugs_current_and_country_in_german():
    from ocm_bot.domain.preferences import DistanceUnitChoice
    from ocm_bot.views.details import details_text
    from tests.domain.samples import by_id

    text = details_text(translator("de"), by_id(100627), now=NOW, unit=DistanceUnitChoice.KM)
    assert "Typ 2 (festes Kabel)" in text and "AC (dreiphasig)" in text
    assert "Vereinigtes Königreich" in text and "United Kingdom" not in text
    assert "Tethered" not in text and "Three-Phase" not in text


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (lambda t: connection_type_name(t, ConnectionType(25, "Type 2 (Socket Only)")), "Type 2 (prise seule)"),
        (lambda t: current_type_name(t, CurrentType(10, "AC (Single-Phase)")), "CA (monophasé)"),
        (lambda t: status_type_name(t, StatusType(30, "Temporarily Unavailable")), "Temporairement indisponible"),
        (lambda t: usage_type_name(t, UsageType(4, "Public - Membership Required")), "Abonnement requis"),
        (lambda t: charging_level_name(t, 3), "Niveau 3 · rapide, plus de 40 kW"),
        (lambda t: checkin_status_name(t, CheckinStatusType(15, "Charged Successfully (Automated Checkin)")), None),
        (lambda t: country_name(t, Country(1, "Germany", "DE")), "Allemagne"),
    ],
)
def test_ocm_s_vocabulary_is_in_the_driver_s_language(name, expected):
    french = name(translator("fr"))
    english = name(translator("en"))
    assert french != english
    if expected is not None:
        assert french == expected


def test_a_type_ocm_added_since_keeps_ocm_s_english_title():
    t = translator("de")
    assert connection_type_name(t, ConnectionType(4711, "Megawatt  Charging System")) == "Megawatt Charging System"
    assert current_type_name(t, CurrentType(40, "AC (Two-Phase)")) == "AC (Two-Phase)"
    assert status_type_name(t, StatusType(999, "Brand new status")) == "Brand new status"
    assert usage_type_name(t, UsageType(99, "Public - Bring Your Own Cable")) == "Public - Bring Your Own Cable"
    assert country_name(t, Country(999, "Atlantis", None)) == "Atlantis"
    assert connection_type_name(t, None) == "Unbekannter Stecker"


def test_every_ocm_reference_type_has_a_message_id():
    """The generated table covers OCM's reference data (run tools/generate_ocm_vocabulary.py when it grows)."""
    from ocm_bot.views import ocm_vocabulary as v

    assert set(REFERENCE.connection_types) <= set(v.CONNECTION_TYPES)
    assert set(REFERENCE.checkin_status_types) <= set(v.CHECKIN_STATUS_TYPES)
    assert set(REFERENCE.status_types) <= set(v.STATUS_TYPES)
    assert set(REFERENCE.usage_types) <= set(v.USAGE_TYPES)


def test_a_plug_outside_the_common_groups_has_the_same_name_on_the_chip_and_in_settings():
    from ocm_bot.domain.filters import FilterKey
    from ocm_bot.domain.preferences import UserPreferences
    from ocm_bot.views.format import clip
    from ocm_bot.views.preferences.labels import connectors_label
    from ocm_bot.views.results import filter_label

    t = translator("de")
    prefs = UserPreferences(connection_type_ids=frozenset({1038}))
    assert connectors_label(t, prefs, REFERENCE) == "GB/T AC – GB/T 20234.2 (Steckdose)"
    assert filter_label(t, FilterKey.CONNECTORS, prefs, REFERENCE) == clip("GB/T AC – GB/T 20234.2 (Steckdose)", 24)


def test_details_name_each_connection_s_status_type_in_the_driver_s_language():
    from dataclasses import replace

    from ocm_bot.views.details import connection_line
    from tests.domain.samples import by_id

    connection = by_id(100627).connections[0]
    duplicate = replace(connection, status=StatusType(210, "Removed (Duplicate Listing)", False))
    assert connection_line(translator("de"), duplicate).endswith("🚫 Entfernt (doppelter Eintrag)")
    assert connection_line(translator("en"), duplicate).endswith("🚫 Removed (duplicate listing)")
