"""/watch and /watches in a group, end to end through the fake Bot API: admins only, every change checked."""

from __future__ import annotations

from typing import Any

from ocm_bot.domain.watches import Announce, WatchBook
from ocm_bot.geometry import miles_to_km
from tests.fakes.telegram.driver import FakeUser

LEEDS = (53.7974185, -1.5437941)
ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}


async def watches_of(bot: Any, group: Any) -> list:
    return await WatchBook(bot.services.storage).for_chat(group.chat_id)


async def tap(user: FakeUser, message: Any, label: str, group: Any) -> Any:
    pressed = await user.press(message, label)
    await pressed.answered()
    return await group.wait_for_edit(message)


async def club_with_bot(telegram: Any) -> tuple[Any, FakeUser, FakeUser]:
    ada, bea = telegram.user("Ada"), telegram.user("Bea")
    club = telegram.group("EV Club", members=[bea], admins=[ada])
    await club.add_bot(ada)
    return club, ada, bea


async def create_leeds_watch(ada: FakeUser, club: Any, *, filters: bool = True) -> Any:
    # The bot keeps to Telegram's ~20 messages a minute per group (each edit counts): few taps per test.
    await ada.send_text_in(club, "/watch Leeds")
    setup = await club.wait_for_message(containing="How far around it?")
    assert "Watch around Leeds" in setup.text
    options = await tap(ada, setup, "5 mi", club)  # Leeds drives in miles
    assert "Radius: 5 mi" in options.text
    if filters:
        options = await tap(ada, options, "Fault reports", club)  # off: new chargers and status changes only
        options = await tap(ada, options, "CCS (Type 2)", club)
    saved = await tap(ada, options, "💾 Save", club)
    assert "Watch saved: Leeds, West Yorkshire, within 5 mi" in saved.text
    return saved


async def test_an_admin_creates_a_watch_with_a_place_and_a_radius_and_lists_it(telegram, bot):
    club, ada, _ = await club_with_bot(telegram)
    await create_leeds_watch(ada, club)

    [watch] = await watches_of(bot, club)
    assert abs(watch.centre.latitude - LEEDS[0]) < 0.01 and abs(watch.centre.longitude - LEEDS[1]) < 0.01
    assert abs(watch.radius_km - miles_to_km(5)) < 0.01
    assert watch.announce == {Announce.NEW, Announce.STATUS}
    assert watch.filters.connection_type_ids == {33}
    assert watch.label == "Leeds, West Yorkshire" and not watch.paused

    await ada.send_text_in(club, "/watches")
    listing = await club.wait_for_message(containing="This group's watches")
    assert (
        "1. Leeds, West Yorkshire · 5 mi · any power, plugs: CCS (Type 2) · New chargers, Status changes · active"
        in listing.text
    )


async def test_an_admin_pauses_and_resumes_a_watch(telegram, bot):
    club, ada, _ = await club_with_bot(telegram)
    await create_leeds_watch(ada, club, filters=False)
    await ada.send_text_in(club, "/watches")
    listing = await club.wait_for_message(containing="This group's watches")

    listing = await tap(ada, listing, "1. ⏸ Pause", club)
    assert "· paused" in listing.text
    assert (await watches_of(bot, club))[0].paused
    listing = await tap(ada, listing, "1. ▶ Resume", club)
    assert "· active" in listing.text
    assert not (await watches_of(bot, club))[0].paused


async def test_an_admin_edits_a_watch(telegram, bot):
    club, ada, _ = await club_with_bot(telegram)
    await create_leeds_watch(ada, club, filters=False)
    await ada.send_text_in(club, "/watches")
    listing = await club.wait_for_message(containing="This group's watches")
    setup = await tap(ada, listing, "✏️ Edit", club)
    setup = await tap(ada, setup, "Change radius", club)
    setup = await tap(ada, setup, "25 mi", club)
    saved = await tap(ada, setup, "💾 Save", club)
    assert "within 25 mi" in saved.text
    [watch] = await watches_of(bot, club)
    assert abs(watch.radius_km - miles_to_km(25)) < 0.01 and watch.announce == set(Announce)


async def test_an_admin_removes_a_watch_after_confirming(telegram, bot, telegram_server):
    club, ada, _ = await club_with_bot(telegram)
    await create_leeds_watch(ada, club, filters=False)
    await ada.send_text_in(club, "/watches")
    listing = await club.wait_for_message(containing="This group's watches")
    confirm = await tap(ada, listing, "🗑 Remove", club)
    assert "Remove the watch around Leeds" in confirm.text
    listing = await tap(ada, confirm, "Keep it", club)
    assert len(await watches_of(bot, club)) == 1
    confirm = await tap(ada, listing, "🗑 Remove", club)
    emptied = await tap(ada, confirm, "Yes, remove it", club)
    assert "no watches yet" in emptied.text
    assert await watches_of(bot, club) == []

    # The same button replayed: the watch is gone, the bot says so and changes nothing.
    replayed = telegram_server.new_callback_query(
        ada.user, club.chat_id, confirm.message_id, confirm.button("Yes, remove it").value
    )
    await telegram.wait_until_idle()
    [answer] = [c for c in telegram_server.calls("answerCallbackQuery") if c["callback_query_id"] == replayed]
    assert answer["text"] == "This button doesn't work here any more."
    assert club.message(emptied).edits == emptied.edits


async def test_a_non_admin_cannot_add_edit_or_remove(telegram, bot, telegram_server):
    club, ada, bea = await club_with_bot(telegram)
    await bea.send_text_in(club, "/watch Leeds")
    refusal = await club.wait_for_message(containing="only this group's admins")
    assert "How far" not in refusal.text

    await create_leeds_watch(ada, club, filters=False)
    await ada.send_text_in(club, "/watches")
    listing = await club.wait_for_message(containing="This group's watches")
    for label in ("1. ⏸ Pause", "🗑 Remove", "✏️ Edit"):
        pressed = await bea.press(listing, label)
        answer = await pressed.answered()
        assert answer.text == "Sorry, only this group's admins can change its watches." and answer.show_alert
    await telegram.wait_until_idle()
    assert club.message(listing).edits == 0
    [watch] = await watches_of(bot, club)
    assert not watch.paused

    # An admin demoted between two presses is refused at the second one.
    club.set_role(ada, "member")
    pressed = await ada.press(listing, "1. ⏸ Pause")
    assert "only this group's admins" in (await pressed.answered()).text
    assert not (await watches_of(bot, club))[0].paused


async def test_a_forged_or_foreign_button_is_refused(telegram, bot, telegram_server):
    club, ada, _ = await club_with_bot(telegram)
    await create_leeds_watch(ada, club, filters=False)
    [watch] = await watches_of(bot, club)
    other = telegram.group("Other club", admins=[ada])
    await other.add_bot(ada)
    await ada.send_text_in(other, "/watches")
    empty = await other.wait_for_message(containing="no watches yet")
    codec = bot.services.callbacks

    # A correctly signed button for the first group's watch, pressed in the other group.
    for data in (
        codec.encode("wl", club.chat_id, "y", watch.id),
        codec.encode("wl", other.chat_id, "y", watch.id),  # the other group's id, this group's watch
        "wl|" + str(club.chat_id) + "|y|" + str(watch.id) + "|forged00",
    ):
        query_id = telegram_server.new_callback_query(ada.user, other.chat_id, empty.message_id, data)
        await telegram.wait_until_idle()
        [answer] = [
            call for call in telegram_server.calls("answerCallbackQuery") if call["callback_query_id"] == query_id
        ]
        assert answer["text"] == "This button doesn't work here any more."
    assert len(await watches_of(bot, club)) == 1


async def test_an_anonymous_admin_sets_up_a_watch_by_typing_the_place(telegram, bot, telegram_server):
    club, _, bea = await club_with_bot(telegram)
    sender_chat = {"id": club.chat_id, "type": "supergroup", "title": "EV Club"}
    telegram_server.user_message(
        club.chat_id,
        ANONYMOUS_ADMIN,
        {"text": "/watch", "entities": [{"type": "bot_command", "offset": 0, "length": 6}], "sender_chat": sender_chat},
    )
    setup = await club.wait_for_message(containing="Which area should I watch?")
    # Bea's reply is hers, not the asking admin's: it is left alone.
    await bea.send_text(reply_to=setup, text="Paris", chat=club)
    await telegram.wait_until_idle()
    assert club.message(setup).edits == 0
    telegram_server.user_message(
        club.chat_id,
        ANONYMOUS_ADMIN,
        {
            "text": "Leeds",
            "sender_chat": sender_chat,
            "reply_to_message": club.message(setup).raw,
        },
    )
    radius = await club.wait_for_edit(setup, containing="How far around it?")
    assert "Watch around Leeds" in radius.text


async def test_watch_in_private_explains_it_is_for_groups(telegram, bot):
    ada = telegram.user("Ada")
    await ada.send_text("/watch")
    reply = await ada.wait_for_message()
    assert "Watches are for groups" in reply.text


async def test_an_admin_sets_the_area_by_sharing_a_location_in_the_group(telegram, bot):
    club, ada, _ = await club_with_bot(telegram)
    await club.promote_bot(ada)  # an admin bot sees every message, not only replies
    await ada.send_text_in(club, "/watch")
    setup = await club.wait_for_message(containing="Which area should I watch?")
    await ada.send_location(*LEEDS, chat=club)
    radius = await club.wait_for_edit(setup, containing="How far around it?")
    assert "Watch around the shared location" in radius.text
    options = await tap(ada, radius, "10 mi", club)  # the point lies in Great Britain: miles
    saved = await tap(ada, options, "💾 Save", club)
    assert "Watch saved: the shared location, within 10 mi" in saved.text
    [watch] = await watches_of(bot, club)
    assert (watch.centre.latitude, watch.centre.longitude) == LEEDS


async def test_a_deleted_setup_message_comes_back_with_the_next_step_and_its_buttons_work(
    telegram, bot, telegram_server
):
    club, ada, _ = await club_with_bot(telegram)
    await club.promote_bot(ada)
    await ada.send_text_in(club, "/watch")
    setup = await club.wait_for_message(containing="Which area should I watch?")
    telegram_server.chats[club.chat_id].delete(setup.message_id)  # another admin tidied the group
    await ada.send_text_in(club, "Leeds")
    radius = await club.wait_for_message(containing="How far around it?")
    options = await tap(ada, radius, "3 mi", club)
    saved = await tap(ada, options, "💾 Save", club)
    assert "within 3 mi" in saved.text
    assert len(await watches_of(bot, club)) == 1


async def test_help_names_the_group_commands_and_the_private_alerts(telegram, bot):
    club, ada, _ = await club_with_bot(telegram)
    await ada.send_text("/help")
    reply = await ada.wait_for_message()
    assert "/alerts" in reply.text
    assert "/watch" in reply.text and "/watches" in reply.text
    await ada.send_text_in(club, "/help")
    in_group = await club.wait_for_message(containing="/watches")
    assert "/watch:" in in_group.text


async def test_a_charger_id_or_ocm_link_is_an_area_and_each_admin_keeps_their_own_draft(
    telegram, bot, ocm_server, nominatim_server
):
    ada, cy = telegram.user("Ada"), telegram.user("Cy")
    club = telegram.group("EV Club", admins=[ada, cy])
    await club.add_bot(ada)
    charger = ocm_server.poi(100627)
    name, address = charger["AddressInfo"]["Title"], charger["AddressInfo"]

    await ada.send_text_in(club, "/watch")
    adas = await club.wait_for_message(containing="Which area should I watch?")
    await cy.send_text_in(club, "/watch")
    cys = await club.wait_for_message(containing="Which area should I watch?")
    assert cys.message_id != adas.message_id

    await ada.send_text(reply_to=adas, text="https://openchargemap.org/site/poi/details/100627", chat=club)
    adas = await club.wait_for_edit(adas, containing="How far around it?")
    assert f"Watch around {name}" in adas.text
    await cy.send_text(reply_to=cys, text="Leeds", chat=club)
    cys = await club.wait_for_edit(cys, containing="Watch around Leeds")  # Cy's draft was kept apart

    options = await tap(ada, adas, "3 mi", club)  # the charger is in England
    saved = await tap(ada, options, "💾 Save", club)
    assert f"Watch saved: {name}, within 3 mi" in saved.text
    [watch] = await watches_of(bot, club)
    assert (watch.centre.latitude, watch.centre.longitude) == (address["Latitude"], address["Longitude"])
    assert "How far around it?" in cys.text  # still Cy's to finish


async def test_watch_with_a_charger_id_starts_at_the_radius(telegram, bot, ocm_server):
    club, ada, _ = await club_with_bot(telegram)
    await ada.send_text_in(club, "/watch 100627")
    setup = await club.wait_for_message(containing="How far around it?")
    assert ocm_server.poi(100627)["AddressInfo"]["Title"] in setup.text
    await ada.send_text_in(club, "/watch 999999999")
    missing = await club.wait_for_message(containing="couldn't find")
    assert "999999999" in missing.text


async def test_the_setup_offers_the_operators_common_near_the_area_and_the_watch_keeps_the_choice(telegram, bot):
    club, ada, _ = await club_with_bot(telegram)
    await ada.send_text_in(club, "/watch 100627")
    setup = await club.wait_for_message(containing="How far around it?")
    options = await tap(ada, setup, "10 mi", club)
    assert "Operators: any" in options.text and "POD Point (UK)" in options.labels  # the one near Garforth
    options = await tap(ada, options, "POD Point (UK)", club)
    assert "Operators: POD Point (UK)" in options.text and "✓ POD Point (UK)" in options.labels
    await tap(ada, options, "💾 Save", club)
    [watch] = await watches_of(bot, club)
    assert len(watch.filters.operator_ids) == 1

    await ada.send_text_in(club, "/watches")
    listing = await club.wait_for_message(containing="This group's watches")
    editing = await tap(ada, listing, "✏️ Edit", club)
    assert "Operators: POD Point (UK)" in editing.text and "✓ POD Point (UK)" in editing.labels


async def test_watches_use_the_unit_an_admin_chose_for_the_group(telegram, bot):
    club, ada, _ = await club_with_bot(telegram)
    await ada.send_text_in(club, "/settings")
    menu = await club.wait_for_message(containing="This group's settings")
    units = await tap(ada, menu, "📐 Distance unit", club)
    await tap(ada, units, "Kilometres", club)  # Leeds would read miles by its country

    await ada.send_text_in(club, "/watch Leeds")
    setup = await club.wait_for_message(containing="How far around it?")
    assert "5 km" in setup.labels and not [label for label in setup.labels if label.endswith(" mi")]
    options = await tap(ada, setup, "5 km", club)
    assert "Radius: 5 km" in options.text
    saved = await tap(ada, options, "💾 Save", club)
    assert "Watch saved: Leeds, West Yorkshire, within 5 km" in saved.text
    [watch] = await watches_of(bot, club)
    assert abs(watch.radius_km - 5) < 0.01

    await ada.send_text_in(club, "/watches")
    listing = await club.wait_for_message(containing="This group's watches")
    assert "1. Leeds, West Yorkshire · 5 km ·" in listing.text
    confirm = await tap(ada, listing, "🗑 Remove", club)
    assert "5 km" in confirm.text and " mi" not in confirm.text


async def test_watch_here_on_a_group_card_starts_a_watch_around_that_charger_for_admins_only(telegram, bot, ocm_server):
    club, ada, bea = await club_with_bot(telegram)
    await bea.send_text_in(club, "/near Garforth")
    results = await club.wait_for_message(containing="Chargers near Garforth")
    await (await bea.press(results, "ℹ️ 1")).answered()
    card = await club.wait_for_message(containing="Lidl-Garforth", where=lambda m: m.message_id != results.message_id)
    assert "🔔 Watch here" in card.labels

    refused = await (await bea.press(card, "🔔 Watch here")).answered()
    assert refused.text == "Sorry, only this group's admins can change its watches." and refused.show_alert
    await (await ada.press(card, "🔔 Watch here")).answered()
    setup = await club.wait_for_message(containing="How far around it?")
    assert "Watch around Lidl-Garforth" in setup.text
    options = await tap(ada, setup, "3 mi", club)
    await tap(ada, options, "💾 Save", club)
    [watch] = await watches_of(bot, club)
    charger = ocm_server.poi(100627)["AddressInfo"]
    assert (watch.centre.latitude, watch.centre.longitude) == (charger["Latitude"], charger["Longitude"])

    # In a private chat the same details have no such button.
    await ada.send_text("/charger 100627")
    private = await ada.wait_for_message(containing="Lidl-Garforth")
    assert "🔔 Watch here" not in private.labels and "✅ Check in" in private.labels
