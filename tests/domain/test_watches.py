"""Watches: what they store, which chargers they contain and accept, and what counts as a change."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.watch_changes import Condition, KnownCharger, classify
from ocm_bot.domain.watches import (
    Announce,
    InvalidWatch,
    Watch,
    WatchBook,
    WatchDraft,
    WatchFilters,
    WatchIndex,
)
from ocm_bot.geometry import haversine_km
from ocm_bot.ocm.models import (
    Address,
    Charger,
    CheckinStatusType,
    Comment,
    CommentType,
    Connection,
    ConnectionType,
    Operator,
    StatusType,
)

BOW = GeoPoint(51.5255, -0.0335)
OPERATIONAL = StatusType(50, "Operational", True)
BROKEN = StatusType(100, "Not Operational", False)
REMOVED = StatusType(200, "Removed (Decommissioned)", False)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
LAST_POLL = NOW - timedelta(minutes=5)


def charger(
    charger_id: int = 1,
    lat: float = BOW.latitude,
    lon: float = BOW.longitude,
    *,
    status: StatusType | None = OPERATIONAL,
    kw: float = 50,
    connection_type: int = 33,
    operator: int | None = 3,
    created: datetime = NOW - timedelta(days=400),
    comments: tuple[Comment, ...] = (),
) -> Charger:
    return Charger(
        id=charger_id,
        address=Address("Somewhere", lat, lon),
        connections=(Connection(1, ConnectionType(connection_type, "CCS"), power_kw=kw),),
        operator=None if operator is None else Operator(operator, "Op"),
        status=status,
        date_created=created,
        date_last_status_update=NOW,
        comments=comments,
    )


def checkin(comment_id: int, status_id: int, *, positive: bool, created: datetime = NOW) -> Comment:
    return Comment(
        comment_id, CommentType(10, "General"), CheckinStatusType(status_id, "x", positive), date_created=created
    )


def watch(watch_id: int, centre: GeoPoint = BOW, radius_km: float = 5, **options: object) -> Watch:
    return Watch(chat_id=-100 - watch_id, centre=centre, radius_km=radius_km, id=watch_id, **options)  # type: ignore[arg-type]


# The index ---------------------------------------------------------------------------------------


def test_a_charger_inside_the_radius_matches_and_one_just_outside_does_not() -> None:
    index = WatchIndex([watch(1, radius_km=5)])
    inside = charger(1, BOW.latitude + 4.9 / 111.19, BOW.longitude)
    outside = charger(2, BOW.latitude + 5.1 / 111.19, BOW.longitude)
    assert [w.id for w in index.matching(inside)] == [1]
    assert list(index.matching(outside)) == []


def test_filters_keep_out_slow_other_connector_and_other_operator_chargers() -> None:
    index = WatchIndex([watch(1, filters=WatchFilters(min_power_kw=50, connection_type_ids=frozenset({33})))])
    index.add(watch(2, filters=WatchFilters(operator_ids=frozenset({3}))))
    assert {w.id for w in index.matching(charger(kw=150))} == {1, 2}
    assert [w.id for w in index.matching(charger(kw=22))] == [2]
    assert [w.id for w in index.matching(charger(connection_type=2))] == [2]
    assert [w.id for w in index.matching(charger(operator=9))] == [1]
    assert list(index.matching(charger(operator=None, kw=7))) == []


@pytest.mark.parametrize("centre", [GeoPoint(0, 179.99), GeoPoint(64.1, -21.9), GeoPoint(-33.9, 151.2)])
def test_the_index_answers_exactly_what_measuring_every_watch_answers(centre: GeoPoint) -> None:
    rng = random.Random(7)
    watches = [
        watch(
            i,
            GeoPoint(centre.latitude + rng.uniform(-1, 1), ((centre.longitude + rng.uniform(-1, 1) + 180) % 360) - 180),
            rng.choice([0.5, 1, 3, 10, 25, 50]),
        )
        for i in range(400)
    ]
    index = WatchIndex(watches)
    for n in range(400):
        lat = centre.latitude + rng.uniform(-1.2, 1.2)
        lon = ((centre.longitude + rng.uniform(-1.2, 1.2) + 180) % 360) - 180
        expected = {
            w.id for w in watches if haversine_km(w.centre.latitude, w.centre.longitude, lat, lon) <= w.radius_km
        }
        assert {w.id for w in index.matching(charger(n, lat, lon))} == expected


def test_a_watch_is_refused_outside_its_ranges() -> None:
    with pytest.raises(InvalidWatch):
        WatchDraft(chat_id=1, centre=BOW, radius_km=0)
    with pytest.raises(InvalidWatch):
        WatchDraft(chat_id=1, centre=BOW, radius_km=5, announce=frozenset())


async def test_a_watch_is_stored_and_read_back_as_it_was(sqlite_storage) -> None:
    book = WatchBook(sqlite_storage)
    draft = WatchDraft(
        chat_id=-1001,
        centre=BOW,
        radius_km=12.5,
        filters=WatchFilters(min_power_kw=50, connection_type_ids=frozenset({33, 2}), operator_ids=frozenset({3})),
        announce=frozenset({Announce.NEW, Announce.FAULT}),
    )
    stored = await book.add(draft)
    [again] = await WatchBook(sqlite_storage).for_chat(-1001)
    assert again == stored and again.filters == draft.filters and again.announce == draft.announce
    paused = await book.set_paused(-1001, stored.id, True)
    assert paused is not None and paused.paused and not paused.wants(Announce.NEW)
    assert not await book.remove(-999, stored.id)  # another chat's watch stays
    assert await book.remove(-1001, stored.id)
    assert await book.all() == []


# Classification ----------------------------------------------------------------------------------


def test_a_charger_created_since_the_last_poll_is_new_and_an_old_one_first_seen_is_not() -> None:
    [event] = classify(None, charger(created=NOW - timedelta(minutes=2)), since=LAST_POLL)
    assert event.kind is Announce.NEW
    assert classify(None, charger(), since=LAST_POLL) == []


def test_working_to_broken_to_removed_are_status_changes_and_unknown_is_none() -> None:
    known = KnownCharger(Condition.WORKING)
    [broke] = classify(known, charger(status=BROKEN), since=LAST_POLL)
    assert (broke.kind, broke.before, broke.after) == (Announce.STATUS, Condition.WORKING, Condition.NOT_WORKING)
    [gone] = classify(KnownCharger(Condition.NOT_WORKING), charger(status=REMOVED), since=LAST_POLL)
    assert gone.after is Condition.REMOVED
    assert classify(known, charger(status=None), since=LAST_POLL) == []
    assert classify(known, charger(), since=LAST_POLL) == []


def test_only_a_new_failed_checkin_is_a_fault_report() -> None:
    failed, fine = checkin(11, 20, positive=False), checkin(12, 10, positive=True)
    old_failure = checkin(5, 20, positive=False)
    [fault] = classify(
        KnownCharger(Condition.WORKING, 5), charger(comments=(failed, fine, old_failure)), since=LAST_POLL
    )
    assert fault.kind is Announce.FAULT and fault.comment == failed
    assert fault.fingerprint == "fault:11"
    assert classify(KnownCharger(Condition.WORKING, 11), charger(comments=(failed,)), since=LAST_POLL) == []


def test_what_the_bot_knows_survives_storage() -> None:
    broken = charger(status=BROKEN, comments=(checkin(3, 20, positive=False),))
    known = KnownCharger.of(broken)
    position = (broken.address.latitude, broken.address.longitude)
    assert KnownCharger.from_data(known.to_data()) == KnownCharger(Condition.NOT_WORKING, 3, position)
    assert KnownCharger.from_data({"condition": "working", "comment": None}) == KnownCharger(Condition.WORKING)
    assert KnownCharger.from_data(None) is None
