"""The words and emoji a driver reads for check-in outcomes (the domain only knows their IDs)."""

from __future__ import annotations

import json

import pytest

from ocm_bot.domain.checkin import find_outcome, group_outcomes, outcomes_from
from ocm_bot.i18n import translator
from ocm_bot.ocm.models import CheckinStatusType
from ocm_bot.ocm.reference import ReferenceData
from ocm_bot.views.vocabulary import compass_arrow, compass_point, group_label, outcome_label, outcome_text
from tests.fakes.ocm import shared_dir

REFERENCE = ReferenceData.from_json(json.loads((shared_dir() / "ocm" / "referencedata.json").read_text()))
OUTCOMES = outcomes_from(REFERENCE.checkin_status_types.values())


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
