"""Personal alerts: a favourite's status change or fault report reaches its owner in private,
with working alternatives; /alerts turns them off; a charger nobody keeps alerts nobody.

The watch poll (one ``modifiedsince`` request) runs against the loopback OCM server, and
``send_favourite_alerts`` (what the poll job calls for each ``PollResult.alerts`` entry) sends
through the fake Bot API."""

from __future__ import annotations

from ocm_bot.domain.announcements import QUEUE_KEY, Announcement, AnnouncementQueue
from ocm_bot.domain.watch_changes import Condition
from ocm_bot.domain.watch_poller import WatchPoller
from ocm_bot.domain.watches import Announce
from ocm_bot.handlers.alerts import send_favourite_alerts
from ocm_bot.handlers.announcements import poll_and_announce
from ocm_bot.storage.base import Notice, utc_now
from tests.e2e.test_settings import tap

CHARGER = 100627  # a real POI in east London (poi-more.json)


def poll_requests(ocm_server) -> list:
    return [r for r in ocm_server.requests_to("/v3/poi") if "modifiedsince" in r.params]


async def alerts_screen(user):
    await user.send_text("/alerts")
    return await user.wait_for_message(containing="Alerts are")


async def poll_and_send(bot, poller):
    result = await poller.poll()
    assert result is not None
    sent = {}
    for user_id, events in result.alerts.items():
        sent[user_id] = await send_favourite_alerts(bot.application.bot, bot.services, user_id, events)
    return result, sent


def add_fault(ocm_server, charger_id: int, text: str) -> None:
    comment = {"CommentTypeID": 10, "CheckinStatusTypeID": 20, "Comment": text, "DateCreated": utc_now().isoformat()}
    ocm_server.store.add_comment(charger_id, comment)


def near(ocm_server, charger_id: int, n: int) -> list[int]:
    address = ocm_server.poi(charger_id)["AddressInfo"]
    return ocm_server.generate_chargers(n, (address["Latitude"], address["Longitude"]), radius_km=1.0)


async def test_a_favourites_fault_report_reaches_its_owner_in_private_with_two_alternatives(
    telegram, bot, ocm_server
) -> None:
    ada = telegram.user("Ada")
    assert "Alerts are on" in (await alerts_screen(ada)).text  # on by default
    await bot.services.storage.add_favourite(ada.id, CHARGER)
    near(ocm_server, CHARGER, 6)
    poller = WatchPoller(bot.services.ocm_client, bot.services.storage, instance_id="test")
    ocm_server.clear()

    add_fault(ocm_server, CHARGER, "Screen dead, cable cut")
    result, sent = await poll_and_send(bot, poller)
    assert [e.kind for e in result.alerts[ada.id]] == [Announce.FAULT]
    assert result.events == {}  # no group watches: nothing for a group
    assert sent == {ada.id: 1}
    assert len(poll_requests(ocm_server)) == 1
    alert = ada.messages[-1]
    name = ocm_server.poi(CHARGER)["AddressInfo"]["Title"]
    assert "A driver reported a fault at your favourite." in alert.text
    assert "Screen dead, cable cut" in alert.text
    assert name in alert.text
    assert "Nearest working alternatives for your filters:" in alert.text
    assert "1. " in alert.text and "2. " in alert.text and "3. " not in alert.text
    assert set(alert.url_buttons) >= {"Open in OCM ↗", "Navigate 🧭", "1. Navigate 🧭", "2. Navigate 🧭"}
    assert str(CHARGER) in alert.url_buttons["Open in OCM ↗"]

    again, sent_again = await poll_and_send(bot, poller)
    assert again.alerts == {} and sent_again == {}  # never the same report twice


async def test_a_favourite_that_stops_working_alerts_its_owner(telegram, bot, ocm_server) -> None:
    ada = telegram.user("Ada")
    await alerts_screen(ada)
    await bot.services.storage.add_favourite(ada.id, CHARGER)
    poller = WatchPoller(bot.services.ocm_client, bot.services.storage, instance_id="test")
    ocm_server.modify_poi(CHARGER, UsageCost="Free")  # seen working first
    first, _ = await poll_and_send(bot, poller)
    assert first.alerts == {}

    ocm_server.modify_poi(CHARGER, StatusTypeID=100)
    broke, sent = await poll_and_send(bot, poller)
    assert [(e.before, e.after) for e in broke.alerts[ada.id]] == [("working", "not_working")]
    assert sent == {ada.id: 1}
    assert "Your favourite is not working." in ada.messages[-1].text


async def test_alerts_off_sends_nothing_and_on_again_sends(telegram, bot, ocm_server) -> None:
    ada = telegram.user("Ada")
    screen = await alerts_screen(ada)
    off = await tap(ada, screen, "🔕 Turn alerts off")
    assert "Alerts are off" in off.text and off.labels == ["🔔 Turn alerts on"]
    assert await bot.services.storage.get_value(f"alerts:{ada.id}") is False
    await bot.services.storage.add_favourite(ada.id, CHARGER)
    poller = WatchPoller(bot.services.ocm_client, bot.services.storage, instance_id="test")
    before = len(ada.messages)

    add_fault(ocm_server, CHARGER, "broken")
    result, sent = await poll_and_send(bot, poller)
    assert result.alerts == {} and sent == {}
    assert len(ada.messages) == before

    on = await tap(ada, off, "🔔 Turn alerts on")
    assert "Alerts are on" in on.text
    add_fault(ocm_server, CHARGER, "still broken")
    _, sent = await poll_and_send(bot, poller)
    assert sent == {ada.id: 1}
    assert "still broken" in ada.messages[-1].text


async def test_a_change_at_a_charger_that_is_not_a_favourite_alerts_nobody(telegram, bot, ocm_server) -> None:
    ada = telegram.user("Ada")
    await alerts_screen(ada)
    await bot.services.storage.add_favourite(ada.id, CHARGER)
    poller = WatchPoller(bot.services.ocm_client, bot.services.storage, instance_id="test")
    before = len(ada.messages)

    [other] = near(ocm_server, CHARGER, 1)
    add_fault(ocm_server, other, "broken")
    result, sent = await poll_and_send(bot, poller)
    assert result.changed >= 1 and result.alerts == {} and sent == {}
    assert len(ada.messages) == before


async def test_forget_deletes_the_alerts_choice_and_privacy_mentions_alerts(telegram, bot) -> None:
    ada = telegram.user("Ada")
    await tap(ada, await alerts_screen(ada), "🔕 Turn alerts off")
    await ada.send_text("/privacy")
    privacy = await ada.wait_for_message(containing="What I store about you")
    assert "/alerts" in privacy.text
    await ada.send_text("/forget")
    question = await ada.wait_for_message(containing="Delete everything I store about you?")
    await tap(ada, question, "🗑 Delete everything")
    assert await bot.services.storage.get_value(f"alerts:{ada.id}") is None
    assert "Alerts are on" in (await alerts_screen(ada)).text


async def test_alerts_in_a_group_points_to_the_private_chat_and_changes_nothing(telegram, bot) -> None:
    ada = telegram.user("Ada")
    club = telegram.group("EV Club", members=[ada])
    await club.add_bot(by=ada)
    await ada.send_text_in(club, "/alerts")
    answer = await club.wait_for_message(containing="/alerts")
    assert answer.labels == []
    assert await bot.services.storage.get_value(f"alerts:{ada.id}") is None


async def test_a_favourite_starred_on_its_card_alerts_at_its_first_breakdown(telegram, bot, ocm_server) -> None:
    ada = telegram.user("Ada")
    await ada.send_text(f"/charger {CHARGER}")
    details = await ada.wait_for_message(containing="Connections")
    lookups = len(ocm_server.requests_to("/v3/poi"))
    pressed = await ada.press(details, "☆ Favourite")
    await pressed.answered()
    assert len(ocm_server.requests_to("/v3/poi")) == lookups  # its state came from the cache
    poller = WatchPoller(bot.services.ocm_client, bot.services.storage, instance_id="test")

    ocm_server.modify_poi(CHARGER, StatusTypeID=100)  # the first poll that ever sees it
    result, sent = await poll_and_send(bot, poller)
    assert [(e.before, e.after) for e in result.alerts[ada.id]] == [("working", "not_working")]
    assert sent == {ada.id: 1}
    assert "Your favourite is not working." in ada.messages[-1].text


async def test_an_alert_speaks_the_telegram_language_of_the_driver_who_starred_the_charger(
    telegram, bot, ocm_server
) -> None:
    ada = telegram.user("Ada", language_code="de")
    await ada.send_text(f"/charger {CHARGER}")
    details = await ada.wait_for_message(where=lambda m: "☆ Favorit" in m.labels)
    await (await ada.press(details, "☆ Favorit")).answered()
    poller = WatchPoller(bot.services.ocm_client, bot.services.storage, instance_id="test")

    ocm_server.modify_poi(CHARGER, StatusTypeID=100)
    _, sent = await poll_and_send(bot, poller)
    assert sent == {ada.id: 1}
    alert = ada.messages[-1]
    assert "Dein Favorit ist nicht in Betrieb." in alert.text
    assert "/alerts schaltet diese Nachrichten ab." in alert.text


async def test_help_tells_drivers_about_alerts(telegram, bot) -> None:
    ada = telegram.user("Ada", language_code="fr")
    await ada.send_text("/help")
    help_text = await ada.wait_for_message(containing="/favourites")
    assert "/alerts : un message quand un favori tombe en panne" in help_text.text


async def test_the_watch_job_alerts_a_favourites_owner_with_no_group_watching_anywhere(
    telegram, bot, ocm_server
) -> None:
    ada = telegram.user("Ada")
    await alerts_screen(ada)
    await bot.services.storage.add_favourite(ada.id, CHARGER)
    near(ocm_server, CHARGER, 6)
    assert await bot.services.storage.list_subscriptions() == []  # no group watches any area
    ocm_server.modify_poi(CHARGER, UsageCost="Free")  # seen working first
    await poll_and_announce(bot.application)
    ocm_server.clear()

    ocm_server.modify_poi(CHARGER, StatusTypeID=100)
    assert await poll_and_announce(bot.application) == 1
    assert len(poll_requests(ocm_server)) == 1
    assert "Your favourite is not working." in ada.messages[-1].text


async def test_forget_drops_the_drivers_alerts_still_waiting_to_be_sent(telegram, bot) -> None:
    ada = telegram.user("Ada")
    await ada.send_text("/start")
    waiting = Announcement(
        CHARGER, Announce.STATUS, 0, before=Condition.WORKING, after=Condition.NOT_WORKING, alert=True
    )
    await bot.services.storage.record_notices(
        [Notice(ada.id, CHARGER, "alert|x", (waiting.to_data(),))], queue_key=QUEUE_KEY
    )
    queue = AnnouncementQueue(bot.services.storage)
    assert ada.id in await queue.pending()
    await ada.send_text("/forget")
    question = await ada.wait_for_message(containing="Delete everything I store about you?")
    await tap(ada, question, "🗑 Delete everything")
    assert ada.id not in await queue.pending()


async def test_a_double_tap_on_turn_alerts_off_is_no_error(telegram, bot, telegram_server, caplog) -> None:
    """Found by the fuzzer: the second tap asks for the screen already shown ("message is not modified")."""
    ada = telegram.user("Ada")
    screen = await alerts_screen(ada)
    [turn_off] = [button for button in screen.buttons if button.text == "🔕 Turn alerts off"]
    await tap(ada, screen, "🔕 Turn alerts off")
    again = telegram_server.new_callback_query(ada.user, ada.id, screen.message_id, turn_off.value)
    await telegram.wait_until_idle()
    assert any(c["callback_query_id"] == again for c in telegram_server.calls("answerCallbackQuery"))
    assert not [record for record in caplog.records if record.levelname == "ERROR"]
    assert await bot.services.storage.get_value(f"alerts:{ada.id}") is False
