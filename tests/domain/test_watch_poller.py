"""The watch poll against the loopback OCM server: one request per poll for every watch, the right
events to the right chats, and none twice (also after a restart on the same storage)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ocm_bot.domain.announcements import AnnouncementQueue
from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.watch_poller import LAST_POLL_KEY, OVERLAP, WatchPoller, prune_known
from ocm_bot.domain.watches import Announce, WatchBook, WatchDraft, WatchFilters, WatchIndex
from ocm_bot.ocm.client import OcmClient, OcmLimits
from ocm_bot.ocm.local import LocalSource
from ocm_bot.ocm.query import PoiQuery
from ocm_bot.storage.base import utc_now
from tests.ocm.contract import shared_pois, shared_reference

CHARGER = 100627  # a real POI in east London (poi-more.json)
GROUP = -100_500


@pytest.fixture
async def client(ocm_server):
    limits = OcmLimits(connect_timeout=0.5, read_timeout=2, total_timeout=4, retries=0)
    client = OcmClient.create(base_url=ocm_server.url, api_key=ocm_server.api_key, limits=limits)
    await client.start()
    ocm_server.clear()  # what follows is the poll's traffic only
    yield client
    await client.aclose()


def position(ocm_server, charger_id: int = CHARGER) -> GeoPoint:
    address = ocm_server.poi(charger_id)["AddressInfo"]
    return GeoPoint(address["Latitude"], address["Longitude"])


def poll_requests(ocm_server) -> list:
    return [r for r in ocm_server.requests_to("/v3/poi") if "modifiedsince" in r.params]


def events_of(result, chat_id: int = GROUP) -> list[tuple[Announce, int]]:
    return [(e.event.kind, e.event.charger.id) for e in result.events.get(chat_id, [])]


async def test_one_modifiedsince_request_per_poll_with_one_and_with_a_thousand_watches(
    sqlite_storage, client, ocm_server
) -> None:
    book = WatchBook(sqlite_storage)
    centre = position(ocm_server)
    await book.add(WatchDraft(chat_id=GROUP, centre=centre, radius_km=5))
    poller = WatchPoller(client, sqlite_storage, instance_id="one")
    await poller.poll()
    assert len(poll_requests(ocm_server)) == 1

    for n in range(999):
        offset = (n % 40) * 0.0005  # within 20 m of each other
        point = GeoPoint(centre.latitude + offset, centre.longitude)
        await book.add(WatchDraft(chat_id=-200_000 - n, centre=point, radius_km=5))
    [new] = ocm_server.generate_chargers(1, (centre.latitude, centre.longitude), radius_km=0.5, stamp_now=True)
    ocm_server.clear()
    result = await poller.poll()
    assert result is not None and len(result.events) == 1000  # every watching group hears of it
    assert {chat_events[0].event.charger.id for chat_events in result.events.values()} == {new}
    [request] = poll_requests(ocm_server)
    params = request.params
    assert params["modifiedsince"].endswith("Z") and params["verbose"] == "false" and params["compact"] == "true"
    assert params["includecomments"] == "true"


async def test_a_new_charger_inside_a_watch_is_announced_once_and_none_outside_or_filtered_out(
    sqlite_storage, client, ocm_server
) -> None:
    centre = position(ocm_server)
    book = WatchBook(sqlite_storage)
    await book.add(WatchDraft(chat_id=GROUP, centre=centre, radius_km=3))
    await book.add(WatchDraft(chat_id=-7, centre=centre, radius_km=3, filters=WatchFilters(min_power_kw=1000)))
    await book.add(WatchDraft(chat_id=-8, centre=centre, radius_km=3, announce=frozenset({Announce.FAULT})))
    [inside] = ocm_server.generate_chargers(1, (centre.latitude, centre.longitude), radius_km=0.5, stamp_now=True)
    far_away = (centre.latitude + 0.5, centre.longitude)  # 55 km north
    ocm_server.generate_chargers(1, far_away, radius_km=0.5, seed=3, stamp_now=True)

    result = await WatchPoller(client, sqlite_storage, instance_id="one").poll()
    assert result is not None
    assert events_of(result) == [(Announce.NEW, inside)]
    assert set(result.events) == {GROUP}  # the 1000 kW watch and the faults-only watch heard nothing

    again = await WatchPoller(client, sqlite_storage, instance_id="one").poll()  # a restart
    assert again is not None and again.events == {}
    assert len(poll_requests(ocm_server)) == 2


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_storage(request):
    return request.getfixturevalue(f"{request.param}_storage")


async def test_a_status_change_and_a_fault_checkin_each_give_one_event_and_never_twice(
    any_storage, client, ocm_server
) -> None:
    await WatchBook(any_storage).add(WatchDraft(chat_id=GROUP, centre=position(ocm_server), radius_km=2))
    poller = WatchPoller(client, any_storage, instance_id="one")
    ocm_server.modify_poi(CHARGER, UsageCost="Free")  # seen working first
    first = await poller.poll()
    assert first is not None and first.events == {}

    ocm_server.modify_poi(CHARGER, StatusTypeID=100)
    broke = await poller.poll()
    assert broke is not None and events_of(broke) == [(Announce.STATUS, CHARGER)]
    [event] = broke.events[GROUP]
    assert (event.event.before, event.event.after) == ("working", "not_working")

    ocm_server.store.add_comment(
        CHARGER,
        {"CommentTypeID": 10, "CheckinStatusTypeID": 20, "Comment": "dead", "DateCreated": utc_now().isoformat()},
    )
    ocm_server.store.add_comment(CHARGER, {"CommentTypeID": 10, "CheckinStatusTypeID": 10, "Comment": "fine"})
    fault = await poller.poll()
    assert fault is not None and events_of(fault) == [(Announce.FAULT, CHARGER)]
    assert fault.events[GROUP][0].event.comment.text == "dead"

    restarted = await WatchPoller(client, any_storage, instance_id="two", interval_seconds=1).poll()
    assert restarted is None or restarted.events == {}  # the lease may still be the first instance's
    later = await WatchPoller(client, any_storage, instance_id="one").poll()
    assert later is not None and later.events == {}


async def test_a_full_answer_is_paged_by_id_and_every_change_is_matched(sqlite_storage, client, ocm_server) -> None:
    centre = position(ocm_server)
    await WatchBook(sqlite_storage).add(WatchDraft(chat_id=GROUP, centre=centre, radius_km=5))
    new = ocm_server.generate_chargers(450, (centre.latitude, centre.longitude), radius_km=3, stamp_now=True)

    result = await WatchPoller(client, sqlite_storage, instance_id="one", page_size=200).poll()
    assert result is not None
    pages = poll_requests(ocm_server)
    assert [p.params.get("greaterthanid") for p in pages] == ["0", str(sorted(new)[199]), str(sorted(new)[399])]
    assert all(p.params["sortby"] == "id_asc" for p in pages)
    assert sorted(charger_id for _, charger_id in events_of(result)) == sorted(new)


async def test_one_instance_polls_at_a_time(sqlite_storage, client, ocm_server) -> None:
    assert await WatchPoller(client, sqlite_storage, instance_id="one").poll() is not None
    assert await WatchPoller(client, sqlite_storage, instance_id="two").poll() is None
    assert len(poll_requests(ocm_server)) == 1
    await WatchPoller(client, sqlite_storage, instance_id="one").release()  # a clean shutdown
    assert await WatchPoller(client, sqlite_storage, instance_id="two").poll() is not None
    assert await WatchPoller(client, sqlite_storage, instance_id="one").poll() is None
    last = await WatchPoller(client, sqlite_storage, instance_id="two").last_poll()
    assert last is not None and utc_now() - last < timedelta(minutes=1)


async def test_with_a_local_data_file_the_poll_pages_through_every_change_in_it(sqlite_storage) -> None:
    source = LocalSource.from_pois(shared_pois(), shared_reference())
    since = datetime(2023, 5, 27, tzinfo=UTC)
    everything = await source.search(PoiQuery(modifiedsince=since, maxresults=100_000))
    assert len(everything) > 12
    await sqlite_storage.set_value(LAST_POLL_KEY, (since + OVERLAP).isoformat())
    result = await WatchPoller(source, sqlite_storage, instance_id="one", page_size=5).poll()
    assert result is not None
    assert result.changed == len(everything)
    assert result.requests == len(everything) // 5 + 1


async def test_a_poll_cut_at_its_page_limit_goes_on_above_the_last_id_in_the_next_poll(sqlite_storage) -> None:
    source = LocalSource.from_pois(shared_pois(), shared_reference())
    since = datetime(2023, 5, 27, tzinfo=UTC)
    everything = {c.id for c in await source.search(PoiQuery(modifiedsince=since, maxresults=100_000))}
    await sqlite_storage.set_value(LAST_POLL_KEY, (since + OVERLAP).isoformat())
    moments = iter(datetime(2026, 12, 4, 12, minute, tzinfo=UTC) for minute in range(60))
    poller = WatchPoller(source, sqlite_storage, instance_id="one", page_size=3, max_pages=2, now=lambda: next(moments))
    polls = []
    while not polls or polls[-1].changed == 6:
        result = await poller.poll()
        assert result is not None and result.since == since and result.requests <= 2
        polls.append(result)
    assert sum(p.changed for p in polls) == len(everything) and len(polls) > 2
    assert await poller.last_poll() == polls[0].polled_at  # the sweep's start: nothing in between is lost
    after = await poller.poll()
    assert after is not None and after.since == polls[0].polled_at - OVERLAP


async def test_a_poll_queues_its_events_and_alerts_in_the_step_that_marks_them_told(
    any_storage, client, ocm_server
) -> None:
    # A crash right after the poll (nothing sent yet) loses nothing: the queue holds the group's
    # event and the favourite's alert, and a poll after the restart finds nothing to queue again.
    await WatchBook(any_storage).add(WatchDraft(chat_id=GROUP, centre=position(ocm_server), radius_km=2))
    await any_storage.add_favourite(42, CHARGER)
    poller = WatchPoller(client, any_storage, instance_id="one")
    ocm_server.modify_poi(CHARGER, UsageCost="Free")  # seen working first
    await poller.poll()
    ocm_server.modify_poi(CHARGER, StatusTypeID=100)
    await poller.poll()

    queued = await AnnouncementQueue(any_storage).pending()
    assert [(i.kind, i.charger_id, i.after, i.alert) for i in queued[GROUP]] == [
        (Announce.STATUS, CHARGER, "not_working", False)
    ]
    assert [(i.kind, i.charger_id, i.after, i.alert) for i in queued[42]] == [
        (Announce.STATUS, CHARGER, "not_working", True)
    ]
    again = await WatchPoller(client, any_storage, instance_id="one").poll()
    assert again is not None and again.events == {} and again.alerts == {}
    assert await AnnouncementQueue(any_storage).pending() == queued


async def test_known_states_no_watch_or_favourite_covers_are_pruned_without_a_false_new_event(
    any_storage, client, ocm_server
) -> None:
    centre = position(ocm_server)
    book = WatchBook(any_storage)
    await book.add(WatchDraft(chat_id=GROUP, centre=centre, radius_km=2))
    [far] = ocm_server.generate_chargers(1, (centre.latitude + 0.5, centre.longitude), radius_km=0.1, seed=11)
    [starred] = ocm_server.generate_chargers(1, (centre.latitude + 1.0, centre.longitude), radius_km=0.1, seed=12)
    far_watch = await book.add(WatchDraft(chat_id=-9, centre=position(ocm_server, far), radius_km=1))
    await any_storage.add_favourite(42, starred)
    poller = WatchPoller(client, any_storage, instance_id="one")
    for charger in (CHARGER, far, starred):
        ocm_server.modify_poi(charger, UsageCost="Free")
    await poller.poll()
    known = [key for key, _ in await any_storage.values_with_prefix("watch-charger:")]
    assert known == sorted(f"watch-charger:{c}" for c in (CHARGER, far, starred))

    await book.remove(-9, far_watch.id)
    assert await prune_known(any_storage, WatchIndex(await book.all()), now=utc_now()) == 1
    known = [key for key, _ in await any_storage.values_with_prefix("watch-charger:")]
    assert known == sorted(f"watch-charger:{c}" for c in (CHARGER, starred))

    # Watched again: the old charger's next change is no "new" event; the kept states still tell changes.
    await book.add(WatchDraft(chat_id=-9, centre=position(ocm_server, far), radius_km=1))
    for charger in (CHARGER, far):
        ocm_server.modify_poi(charger, StatusTypeID=100)
    result = await poller.poll()
    assert result is not None
    assert events_of(result, -9) == []
    assert events_of(result) == [(Announce.STATUS, CHARGER)]


async def test_the_poll_prunes_the_known_states_once_a_day(sqlite_storage, client, ocm_server) -> None:
    clock = [utc_now()]
    await sqlite_storage.set_value("watch-charger:1", {"condition": "working", "comment": None, "at": [0.0, 0.0]})
    poller = WatchPoller(client, sqlite_storage, instance_id="one", now=lambda: clock[0])
    await poller.poll()
    clock[0] += timedelta(hours=23)
    await poller.poll()
    assert await sqlite_storage.get_value("watch-charger:1") is not None  # not a day yet
    clock[0] += timedelta(hours=2)
    await poller.poll()
    assert await sqlite_storage.get_value("watch-charger:1") is None
