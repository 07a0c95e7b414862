"""The /watch setup's state: what it turns into at Save, and its round trip through chat data."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.watch_setup import Step, WatchSetup, charger_reference
from ocm_bot.domain.watches import Announce, Watch


def test_a_setup_becomes_the_watch_it_describes_and_survives_a_round_trip():
    setup = WatchSetup(chat_id=-100, admin_id=7, message_id=3).with_area(GeoPoint(53.8, -1.54), "Leeds", "GB")
    assert setup.step == Step.RADIUS
    setup = replace(setup, radius_km=8.0, step=Step.OPTIONS).next_power().next_power().toggled_connector("ch")
    setup = setup.toggled_announce(Announce.FAULT)
    draft = setup.draft()
    assert draft.filters.min_power_kw == 22.0 and draft.filters.connection_type_ids == {2}
    assert draft.announce == {Announce.NEW, Announce.STATUS} and draft.label == "Leeds"
    assert WatchSetup.from_dict(setup.to_dict()) == setup
    edited = WatchSetup.editing(Watch(**{n: getattr(draft, n) for n in draft.__dataclass_fields__}, id=5), 7)
    assert edited.connectors == {"ch"} and edited.watch_id == 5 and edited.draft() == draft


def test_the_last_announcement_stays_on_and_unknown_plugs_are_refused():
    setup = WatchSetup(chat_id=-100, admin_id=7, announce=frozenset({Announce.NEW}))
    assert setup.toggled_announce(Announce.NEW).announce == {Announce.NEW}
    with pytest.raises(ValueError):
        setup.toggled_connector("zz")
    with pytest.raises(ValueError):
        setup.draft()  # no area yet
    assert WatchSetup.from_dict({"chat_id": "x"}) is None


def test_operator_choices_keep_the_chosen_ones_first_and_reach_the_watch_and_storage() -> None:
    setup = WatchSetup(chat_id=-1, admin_id=2, radius_km=5.0).with_area(GeoPoint(53.8, -1.5), "Leeds", "GB")
    setup = setup.with_operator_choices([(1, "A"), (2, "B"), (3, "C"), (4, "D"), (5, "E")])
    assert [i for i, _ in setup.operator_choices] == [1, 2, 3, 4]
    setup = setup.toggled_operator(3)
    again = setup.with_area(GeoPoint(51.5, -0.1), "London", "GB").with_operator_choices([(9, "Z"), (3, "C")])
    assert again.operator_choices == ((3, "C"), (9, "Z")) and again.operators == {3}
    assert again.draft().filters.operator_ids == {3}
    assert WatchSetup.from_dict(again.to_dict()) == again
    with pytest.raises(ValueError):
        again.toggled_operator(1)  # not offered
    assert charger_reference("https://openchargemap.org/site/poi/details/100627") == 100627
    assert charger_reference("https://map.openchargemap.io/?id=42") == 42
    assert charger_reference("Leeds 2") is None
