"""Watched areas announce to their group: one message per new charger, a digest for a burst, nothing
twice after a restart; the bot removed from a group drops its watches, a migration keeps them."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

import pytest

from ocm_bot.app import Overrides
from ocm_bot.domain.announcements import AnnouncementQueue
from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.watch_poller import LAST_POLL_KEY
from ocm_bot.domain.watches import WatchBook, WatchDraft
from ocm_bot.settings import Secret
from ocm_bot.storage import open_storage
from ocm_bot.storage.base import utc_now
from tests.e2e.test_watches import tap

CHARGER = 100627  # a real POI in east London


def centre_of(ocm_server) -> GeoPoint:
    address = ocm_server.poi(CHARGER)["AddressInfo"]
    return GeoPoint(address["Latitude"], address["Longitude"])


def polls(ocm_server) -> int:
    return len([r for r in ocm_server.requests_to("/v3/poi") if "modifiedsince" in r.params])


async def wait_for_polls(ocm_server, count: int) -> None:
    """Wait until ``count`` more watch polls reached OCM (an observable event, not a fixed delay)."""
    target = polls(ocm_server) + count
    async with asyncio.timeout(15):
        while polls(ocm_server) < target:  # noqa: ASYNC110  # the fake OCM server has no event to await
            await asyncio.sleep(0.05)


async def wait_for_polls_of(bot, count: int) -> None:
    """Wait until the bot's watch job ran ``count`` more times (it notes each run in storage)."""
    storage = bot.services.storage
    seen = await storage.get_value(LAST_POLL_KEY)
    for _ in range(count):
        async with asyncio.timeout(15):
            while (now := await storage.get_value(LAST_POLL_KEY)) == seen:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        seen = now


async def watching_group(bot, telegram, ocm_server, radius_km: float = 3, **group):
    ada = telegram.user("Ada")
    club = telegram.group("EV Club", members=[ada], admins=[ada], **group)
    await club.add_bot(by=ada)
    await WatchBook(bot.services.storage).add(
        WatchDraft(chat_id=club.chat_id, centre=centre_of(ocm_server), radius_km=radius_km)
    )
    return ada, club


async def test_a_new_charger_inside_a_watch_is_announced_once_with_its_card_and_never_again_after_a_restart(
    start_bot, telegram, ocm_server
) -> None:
    bot = await start_bot(watch_poll_seconds=1)
    _, club = await watching_group(bot, telegram, ocm_server)
    centre = centre_of(ocm_server)
    [inside] = ocm_server.generate_chargers(
        1, (centre.latitude, centre.longitude), radius_km=0.5, seed=1, stamp_now=True
    )
    ocm_server.generate_chargers(1, (centre.latitude + 0.5, centre.longitude), radius_km=0.5, seed=2, stamp_now=True)
    name = ocm_server.poi(inside)["AddressInfo"]["Title"]

    message = await club.wait_for_message(containing="New charger", timeout=15)
    assert name in message.text
    assert message.url_buttons["Open in OCM ↗"].endswith(f"/{inside}")
    assert "Navigate 🧭" in message.url_buttons and "ℹ️ Details" in message.callback_buttons
    await wait_for_polls(ocm_server, 2)
    await telegram.wait_until_idle()
    assert len(club.messages) == 1  # the one outside the circle was not announced
    assert await AnnouncementQueue(bot.services.storage).pending() == {}

    await bot.stop()
    await start_bot(watch_poll_seconds=1)
    await wait_for_polls(ocm_server, 2)
    await telegram.wait_until_idle()
    await club.expect_silence()


async def test_a_status_change_and_a_fault_checkin_each_give_one_announcement(start_bot, telegram, ocm_server) -> None:
    bot = await start_bot(watch_poll_seconds=1)
    _, club = await watching_group(bot, telegram, ocm_server, radius_km=2)
    ocm_server.modify_poi(CHARGER, UsageCost="Free")  # seen working first
    await wait_for_polls(ocm_server, 2)
    ocm_server.modify_poi(CHARGER, StatusTypeID=100)
    broke = await club.wait_for_message(containing="out of order", timeout=15)
    assert ocm_server.poi(CHARGER)["AddressInfo"]["Title"] in broke.text

    ocm_server.store.add_comment(
        CHARGER,
        {"CommentTypeID": 10, "CheckinStatusTypeID": 20, "Comment": "dead <b>", "DateCreated": utc_now().isoformat()},
    )
    fault = await club.wait_for_message(containing="reported a fault", timeout=15)
    assert "“dead <b>”" in fault.text  # what the driver wrote, escaped
    await wait_for_polls(ocm_server, 2)
    await telegram.wait_until_idle()
    assert len(club.messages) == 2


async def test_a_burst_of_thirty_new_chargers_is_one_digest(start_bot, telegram, ocm_server) -> None:
    bot = await start_bot(watch_poll_seconds=1)
    _, club = await watching_group(bot, telegram, ocm_server)
    await wait_for_polls(ocm_server, 1)
    centre = centre_of(ocm_server)
    ocm_server.generate_chargers(30, (centre.latitude, centre.longitude), radius_km=1, seed=3, stamp_now=True)

    digest = await club.wait_for_message(containing="30 changes", timeout=15)
    assert "New charger" in digest.text and digest.labels == ["1/3", "Next ›"]
    first_page = digest.text
    ada = telegram.user("Bea")
    await club.add_member(ada)
    await ada.press(digest, "Next ›")
    page_two = await club.wait_for_edit(digest)
    assert (
        page_two.text != first_page
        and "New charger" in page_two.text
        and page_two.labels == ["‹ Prev", "2/3", "Next ›"]
    )
    await wait_for_polls(ocm_server, 2)
    await telegram.wait_until_idle()
    assert len(club.messages) == 1


async def test_nothing_watched_means_no_poll_request_to_ocm(start_bot, telegram, ocm_server) -> None:
    bot = await start_bot(watch_poll_seconds=1)
    await wait_for_polls_of(bot, 2)
    assert polls(ocm_server) == 0


async def test_the_bot_removed_from_a_group_forgets_its_watches(start_bot, telegram, ocm_server) -> None:
    bot = await start_bot()
    ada, club = await watching_group(bot, telegram, ocm_server)
    book = WatchBook(bot.services.storage)
    assert len(await book.for_chat(club.chat_id)) == 1
    await club.remove_bot(by=ada)
    await telegram.wait_until_idle()
    assert await book.for_chat(club.chat_id) == []


async def test_a_group_migrated_to_a_supergroup_keeps_its_watches(start_bot, telegram, ocm_server) -> None:
    bot = await start_bot()
    ada, club = await watching_group(bot, telegram, ocm_server, supergroup=False)
    old_id = club.chat_id
    await club.upgrade_to_supergroup(by=ada)
    await telegram.wait_until_idle()
    book = WatchBook(bot.services.storage)
    assert club.chat_id != old_id
    assert await book.for_chat(old_id) == []
    [moved] = await book.for_chat(club.chat_id)
    assert moved.radius_km == 3


async def test_the_poll_lease_is_released_at_a_clean_stop_so_the_next_instance_polls_at_once(
    start_bot, ocm_server
) -> None:
    first = await start_bot(watch_poll_seconds=600)  # the lease lasts 20 minutes unless released
    await WatchBook(first.services.storage).add(WatchDraft(chat_id=-5, centre=centre_of(ocm_server), radius_km=3))
    await wait_for_polls(ocm_server, 1)
    await first.stop()
    await start_bot(watch_poll_seconds=600)
    await wait_for_polls(ocm_server, 1)  # within seconds of the start, not after the old lease ran out


async def test_an_announcement_telegram_did_not_take_stays_queued_and_arrives_once_later(
    start_bot, telegram, telegram_server, ocm_server
) -> None:
    bot = await start_bot(watch_poll_seconds=1)
    _, club = await watching_group(bot, telegram, ocm_server)
    await wait_for_polls(ocm_server, 1)
    telegram_server.inject_error("sendMessage", 502, "Bad Gateway", times=20, chat_id=club.chat_id)
    centre = centre_of(ocm_server)
    ocm_server.generate_chargers(1, (centre.latitude, centre.longitude), radius_km=0.5, seed=4, stamp_now=True)

    await club.wait_for_message(containing="New charger", timeout=30)
    await wait_for_polls(ocm_server, 2)
    await telegram.wait_until_idle()
    assert len(club.messages) == 1
    assert await AnnouncementQueue(bot.services.storage).pending() == {}


async def test_a_user_who_blocked_the_bot_gets_no_more_alerts(start_bot, telegram, telegram_server, ocm_server) -> None:
    bot = await start_bot(watch_poll_seconds=1)
    storage = bot.services.storage
    ada, bob = telegram.user("Ada"), telegram.user("Bob")
    await ada.send_text("/start")
    await bob.send_text("/start")
    await telegram.wait_until_idle()
    await ada.block_bot()
    await telegram.wait_until_idle()
    assert await storage.get_value(f"alerts:{ada.id}") is False

    # A send refused with 403 stops them too, and the event leaves the queue.
    await WatchBook(storage).add(WatchDraft(chat_id=bob.id, centre=centre_of(ocm_server), radius_km=3))
    telegram_server.inject_error("sendMessage", 403, "Forbidden: bot was blocked by the user", times=5, chat_id=bob.id)
    await wait_for_polls(ocm_server, 1)
    centre = centre_of(ocm_server)
    ocm_server.generate_chargers(1, (centre.latitude, centre.longitude), radius_km=0.5, seed=5, stamp_now=True)
    await wait_for_polls(ocm_server, 2)
    await telegram.wait_until_idle()
    assert await storage.get_value(f"alerts:{bob.id}") is False
    assert await AnnouncementQueue(storage).pending() == {}


@pytest.mark.parametrize(
    ("moment", "database"), [("polling", "sqlite"), ("queued", "sqlite"), ("queued", "postgresql")]
)
async def test_ocm_bot_killed_mid_announcement_sends_it_exactly_once_after_restart(
    bot_settings, bot_process, telegram, telegram_server, ocm_server, moment, database, request
) -> None:
    if database == "postgresql":
        url = request.getfixturevalue("postgres_url")
        bot_settings = dataclasses.replace(bot_settings, database_url=Secret(url))
    ada = telegram.user("Ada")
    club = telegram.group("EV Club", members=[ada], admins=[ada])
    await club.add_bot(by=ada)
    database_url = bot_settings.database_url.get() if bot_settings.database_url else None
    async with await open_storage(database_url, data_dir=bot_settings.data_dir, secret=None) as storage:
        await WatchBook(storage).add(WatchDraft(chat_id=club.chat_id, centre=centre_of(ocm_server), radius_km=3))
    quick = {"WATCH_POLL_SECONDS": "1"}
    first = bot_process(bot_settings, **quick)
    await wait_for_polls(ocm_server, 1)
    if moment == "polling":
        ocm_server.inject("hang", times=None, path_prefix="/v3/poi")  # OCM answers no poll
    else:
        # Telegram refuses the group's messages: the event waits in the queue, sent never.
        telegram_server.inject_error("sendMessage", 502, "Bad Gateway", times=1000, chat_id=club.chat_id)
    centre = centre_of(ocm_server)
    [inside] = ocm_server.generate_chargers(
        1, (centre.latitude, centre.longitude), radius_km=0.5, seed=7, stamp_now=True
    )
    if moment == "polling":
        await wait_for_polls(ocm_server, 1)  # a poll that would find it is under way
    else:
        # The poll queued the event (and marked it told); the send did not go through.
        await telegram.wait_for_request("sendMessage", timeout=30, where=lambda p: p.get("chat_id") == club.chat_id)
    first.kill()
    assert club.messages == []
    ocm_server.clear_faults()
    telegram_server.injected.clear()

    second = bot_process(bot_settings, **quick)
    message = await club.wait_for_message(containing="New charger", timeout=30)
    assert ocm_server.poi(inside)["AddressInfo"]["Title"] in message.text
    await wait_for_polls(ocm_server, 3)  # the job that sent it is over, and two more polls found nothing new
    assert len(club.messages) == 1
    assert second.terminate() == 0  # before the PostgreSQL database (set up after it) is dropped


async def test_quiet_hours_set_from_watches_keep_announcements_until_they_end_then_one_digest(
    start_bot, telegram, ocm_server
) -> None:
    clock = [datetime(2026, 1, 10, 21, 30, tzinfo=UTC)]  # 22:30 on the group's clock (UTC+1)
    bot = await start_bot(watch_poll_seconds=1, overrides=Overrides(clock=lambda: clock[0]))
    ada, club = await watching_group(bot, telegram, ocm_server)
    await ada.send_text_in(club, "/watches")
    listing = await club.wait_for_message(containing="This group's watches")
    assert "🌙 Quiet hours: off" in listing.text
    screen = await tap(ada, listing, "🌙 Quiet hours", club)
    assert "Off. When on: from 10:00\u202fPM to 7:00\u202fAM (UTC+00:00)." in screen.text  # London: UTC+0 guessed
    screen = await tap(ada, screen, "UTC offset +1 h", club)
    screen = await tap(ada, screen, "🌙 Turn on", club)
    assert "On: from 10:00 PM to 7:00 AM (UTC+01:00)." in screen.text
    back = await tap(ada, screen, "‹ Back", club)
    assert "🌙 Quiet hours: 10:00 PM–7:00 AM (UTC+01:00)" in back.text
    shown = len(club.messages)

    centre = centre_of(ocm_server)
    ocm_server.generate_chargers(2, (centre.latitude, centre.longitude), radius_km=0.5, seed=8, stamp_now=True)
    queue = AnnouncementQueue(bot.services.storage)
    async with asyncio.timeout(15):
        while len((await queue.pending()).get(club.chat_id, [])) < 2:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    await wait_for_polls(ocm_server, 2)
    assert len(club.messages) == shown  # quiet: they wait

    clock[0] = datetime(2026, 1, 11, 6, 0, tzinfo=UTC)  # 07:00 for the group: quiet hours are over
    digest = await club.wait_for_message(containing="2 changes", timeout=15)
    assert digest.text.count("New charger") == 2
    await wait_for_polls(ocm_server, 2)
    assert len(club.messages) == shown + 1
    assert await queue.pending() == {}
