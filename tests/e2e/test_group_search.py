"""Searching in a group, end to end through the fake Bot API, with privacy mode on (as BotFather
sets it: the bot sees commands, replies to its own messages and service messages only)."""

from __future__ import annotations

import json
from typing import Any

from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.group_preferences import group_preferences
from ocm_bot.domain.watches import WatchBook, WatchDraft
from tests.fakes.telegram.driver import FakeUser

PORTLAND = (45.5122, -122.6587)
ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}


async def club_with_bot(telegram: Any) -> tuple[Any, FakeUser, FakeUser]:
    ada, bea = telegram.user("Ada"), telegram.user("Bea")
    club = telegram.group("EV Club", members=[bea], admins=[ada])
    await club.add_bot(ada)
    return club, ada, bea


async def tap(user: FakeUser, message: Any, label: str, chat: Any) -> Any:
    pressed = await user.press(message, label)
    await pressed.answered()
    return await chat.wait_for_edit(message)


def markups_sent_to(server: Any, chat_id: int) -> list[dict]:
    """Every reply_markup the bot sent or edited into messages of ``chat_id``."""
    markups = []
    for request in server.requests:
        params = request.params
        if str(params.get("chat_id")) == str(chat_id) and params.get("reply_markup") is not None:
            markup = params["reply_markup"]
            markups.append(json.loads(markup) if isinstance(markup, str) else markup)
    return markups


def assert_no_reply_keyboard(server: Any, chat_id: int) -> None:
    markups = markups_sent_to(server, chat_id)
    assert markups, "the test sent nothing with a keyboard to check"
    assert not [m for m in markups if "keyboard" in m or "remove_keyboard" in m], markups


async def test_near_with_a_place_answers_in_the_group(telegram, bot, telegram_server):
    club, _, bea = await club_with_bot(telegram)
    await bea.send_text_in(club, "/near Garforth")
    results = await club.wait_for_message(containing="Chargers near Garforth")
    assert "1. Lidl-Garforth — 0.5 mi" in results.text
    assert results.url_buttons["1 · Open in OCM ↗"].startswith("https://openchargemap.org/")

    await bea.send_text_in(club, "/near@ocm_test_bot Garforth")
    again = await club.wait_for_message(containing="Chargers near Garforth")
    assert again.message_id != results.message_id
    assert_no_reply_keyboard(telegram_server, club.chat_id)


async def test_near_without_a_place_asks_the_asker_and_their_reply_is_the_place(telegram, bot, telegram_server):
    club, _, bea = await club_with_bot(telegram)
    asked = await bea.send_text_in(club, "/near")
    prompt = await club.wait_for_message(containing="Near which place?")
    [call] = [c for c in telegram_server.calls("sendMessage") if "Near which place?" in c["text"]]
    assert call["reply_markup"]["force_reply"] is True and call["reply_markup"]["selective"] is True
    assert call["reply_parameters"]["message_id"] == asked.message_id  # selective: it reaches Bea

    await bea.send_text(" Garforth ", chat=club, reply_to=prompt)  # a reply reaches the bot in privacy mode
    results = await club.wait_for_message(containing="Chargers near Garforth")
    assert "Lidl-Garforth" in results.text
    assert_no_reply_keyboard(telegram_server, club.chat_id)


async def test_a_location_shared_as_a_reply_is_searched_and_paged_in_one_message(telegram, bot, telegram_server):
    club, ada, bea = await club_with_bot(telegram)
    await bea.send_text_in(club, "/near")
    prompt = await club.wait_for_message(containing="Near which place?")
    await bea.send_location(*PORTLAND, chat=club, reply_to=prompt)
    results = await club.wait_for_message(containing="nearest first")
    assert "1/" in " ".join(results.labels)

    # Anyone may page: Ada turns the page of Bea's search; the same message changes, none is added.
    page2 = await tap(ada, results, "Next ›", club)
    assert page2.message_id == results.message_id and "2/" in " ".join(page2.labels)
    page1 = await tap(bea, page2, "‹ Prev", club)
    assert page1.text == results.text
    await telegram.wait_until_idle()
    assert [m.message_id for m in club.messages] == [prompt.message_id, results.message_id]
    assert_no_reply_keyboard(telegram_server, club.chat_id)


async def test_only_the_asker_changes_a_search(telegram, bot, telegram_server):
    club, ada, bea = await club_with_bot(telegram)
    await bea.send_text_in(club, "/near Garforth")
    results = await club.wait_for_message(containing="Chargers near Garforth")

    pressed = await ada.press(results, "✕ working only")
    answer = await pressed.answered()
    assert answer.text == "Only Bea can change this search."
    pressed = await ada.press(results, "🔎 Wider radius")
    assert (await pressed.answered()).text == "Only Bea can change this search."
    await telegram.wait_until_idle()
    assert club.message(results).edits == results.edits and club.message(results).text == results.text

    wider = await tap(bea, results, "🔎 Wider radius", club)
    assert "within 15 mi" in wider.text and wider.message_id == results.message_id
    # The refined search keeps its asker.
    pressed = await ada.press(wider, "✕ working only")
    assert (await pressed.answered()).text == "Only Bea can change this search."
    narrower = await tap(bea, wider, "✕ working only", club)
    assert "working only" not in narrower.text.splitlines()[1]

    # A forged button (callback data the bot did not sign) changes nothing.
    forged = telegram_server.new_callback_query(bea.user, club.chat_id, results.message_id, "wd|forged")
    await telegram.wait_until_idle()
    [refusal] = [c for c in telegram_server.calls("answerCallbackQuery") if c["callback_query_id"] == forged]
    assert refusal["text"] == "This button has expired. Please search again."
    assert club.message(results).edits == narrower.edits


async def test_a_mention_with_a_place_is_answered(telegram, bot, telegram_server):
    club, ada, bea = await club_with_bot(telegram)
    await club.promote_bot(ada)  # an admin bot sees every message, mentions included
    await bea.send_text_in(club, "@ocm_test_bot Garforth")
    results = await club.wait_for_message(containing="Chargers near Garforth")
    assert "Lidl-Garforth" in results.text

    await bea.send_text_in(club, "anyone charging in Garforth today?")  # not for the bot
    await bea.send_text_in(club, "@ocm_test_bot")  # a mention without a place: the bot asks
    await club.wait_for_message(containing="Near which place?")
    await club.expect_silence()
    assert_no_reply_keyboard(telegram_server, club.chat_id)


async def test_a_non_admin_cannot_open_or_change_the_group_settings(telegram, bot, telegram_server):
    club, ada, bea = await club_with_bot(telegram)
    await bea.send_text_in(club, "/settings")
    refusal = await club.wait_for_message()
    assert refusal.text == (
        "Only this group's admins can change its settings; searches here use them for everyone. "
        "For your own settings, send /settings to me in a private chat."
    )

    await ada.send_text_in(club, "/settings")
    menu = await club.wait_for_message(containing="This group's settings")
    pressed = await bea.press(menu, "📏 Radius")
    assert (await pressed.answered()).text.startswith("Only this group's admins")
    await telegram.wait_until_idle()
    assert club.message(menu).edits == menu.edits
    # Bea became an admin a moment ago: getChatMember is asked at each tap.
    club.set_role(bea, "administrator")
    radius = await tap(bea, menu, "📏 Radius", club)
    await tap(bea, radius, "25 km", club)
    assert (await group_preferences(bot.services.storage, club.chat_id)).radius_km == 25
    # A forged settings button (data the bot did not sign), even from an admin, changes nothing.
    forged = telegram_server.new_callback_query(ada.user, club.chat_id, menu.message_id, "st|s|rd|2")
    await telegram.wait_until_idle()
    [refusal] = [c for c in telegram_server.calls("answerCallbackQuery") if c["callback_query_id"] == forged]
    assert refusal["text"] == "This button has expired. Send /settings again."
    assert (await group_preferences(bot.services.storage, club.chat_id)).radius_km == 25
    assert_no_reply_keyboard(telegram_server, club.chat_id)


async def test_group_searches_use_the_group_settings_not_the_askers(telegram, bot):
    club, ada, bea = await club_with_bot(telegram)
    await bea.send_text("/start")  # Bea's own settings: 50 km radius, in private
    await bea.wait_for_message()
    await bea.send_text("/settings")
    menu = await bea.wait_for_message(containing="Settings")
    radius = await tap(bea, menu, "📏 Radius", bea)
    await tap(bea, radius, "50 km", bea)

    await ada.send_text_in(club, "/settings")
    menu = await club.wait_for_message(containing="This group's settings")
    radius = await tap(ada, menu, "📏 Radius", club)
    await tap(ada, radius, "5 km", club)

    await bea.send_text_in(club, "/near Garforth")
    results = await club.wait_for_message(containing="Chargers near Garforth")
    assert "within 3.1 mi" in results.text  # 5 km, in Garforth's miles


async def test_the_group_language_is_chosen_by_an_admin_and_used_for_everything(telegram, bot):
    club, ada, _ = await club_with_bot(telegram)
    chloe = telegram.user("Chloé", language_code="fr")
    await club.add_member(chloe)
    await ada.send_text_in(club, "/settings")
    menu = await club.wait_for_message(containing="This group's settings")
    languages = await tap(ada, menu, "🌐 Language", club)
    german = await tap(ada, languages, "Deutsch", club)
    assert "Einstellungen dieser Gruppe" in german.text

    await chloe.send_text_in(club, "/near Garforth")  # a French speaker asks: the group's German answers
    results = await club.wait_for_message(containing="Garforth")
    assert "Ladestationen" in results.text or "Ladepunkt" in results.text, results.text
    await chloe.send_text_in(club, "/watches")
    watches = await club.wait_for_message()
    assert "Beobachtung" in watches.text or "Gruppe" in watches.text, watches.text
    await chloe.send_text_in(club, "/start")
    welcome = await club.wait_for_message()
    assert "Hallo zusammen" in welcome.text


async def test_removing_the_bot_deletes_the_group_settings(telegram, bot):
    club, ada, _ = await club_with_bot(telegram)
    await ada.send_text_in(club, "/settings")
    menu = await club.wait_for_message(containing="This group's settings")
    radius = await tap(ada, menu, "📏 Radius", club)
    await tap(ada, radius, "25 km", club)
    assert (await group_preferences(bot.services.storage, club.chat_id)).radius_km == 25

    await club.remove_bot(by=ada)
    await telegram.wait_until_idle()
    assert await bot.services.storage.get_value(f"group-settings:{club.chat_id}") is None


async def test_an_anonymous_admin_opens_the_group_settings(telegram, bot, telegram_server):
    club, _, _ = await club_with_bot(telegram)
    sender_chat = {"id": club.chat_id, "type": "supergroup", "title": "EV Club"}
    telegram_server.user_message(
        club.chat_id,
        ANONYMOUS_ADMIN,
        {
            "text": "/settings",
            "entities": [{"type": "bot_command", "offset": 0, "length": 9}],
            "sender_chat": sender_chat,
        },
    )
    menu = await club.wait_for_message()
    assert "This group's settings" in menu.text


async def test_no_reply_keyboard_ever_reaches_a_group(telegram, bot, telegram_server):
    club, ada, bea = await club_with_bot(telegram)
    commands = [
        "/start", "/help", "/settings", "/language", "/favourites", "/alerts", "/privacy", "/forget",
        "/charger 1", "/checkin 1", "/near", "/watches", "/whatever",
    ]  # fmt: skip
    for n, command in enumerate(commands):  # an admin and a member; few enough for the group's 20 a minute
        await (ada if n % 2 else bea).send_text_in(club, command)
        await telegram.wait_until_idle()
    await bea.send_text_in(club, "/near Garforth")
    results = await club.wait_for_message(containing="Chargers near Garforth")
    details = await ada.press(results, "ℹ️ 1")
    await details.answered()
    card = await club.wait_for_message(containing="Lidl-Garforth", where=lambda m: m.message_id != results.message_id)
    # A check-in from a group card goes on in a private chat with the bot, not in the group.
    assert card.url_buttons["✅ Check in"].startswith("https://t.me/ocm_test_bot?start=")
    await telegram.wait_until_idle()
    assert_no_reply_keyboard(telegram_server, club.chat_id)
    assert not [m for m in club.messages if m.reply_keyboard], [m.text for m in club.messages if m.reply_keyboard]


async def test_the_asker_picks_among_several_places_and_the_choice_becomes_the_results(telegram, bot):
    club, ada, bea = await club_with_bot(telegram)
    await bea.send_text_in(club, "/near Portland")
    choice = await club.wait_for_message(containing="Portland")
    oregon = next(label for label in choice.labels if "Oregon" in label)
    pressed = await ada.press(choice, oregon)
    assert (await pressed.answered()).text == "Only Bea can change this search."
    results = await tap(bea, choice, oregon, club)
    assert "nearest first" in results.text and results.message_id == choice.message_id
    await telegram.wait_until_idle()
    assert [m.message_id for m in club.messages] == [choice.message_id]


async def test_a_group_upgraded_to_a_supergroup_keeps_its_settings(telegram, bot):
    ada = telegram.user("Ada")
    club = telegram.group("EV Club", admins=[ada], supergroup=False)
    await club.add_bot(ada)
    await ada.send_text_in(club, "/settings")
    menu = await club.wait_for_message(containing="This group's settings")
    radius = await tap(ada, menu, "📏 Radius", club)
    await tap(ada, radius, "25 km", club)
    await club.upgrade_to_supergroup(by=ada)
    await telegram.wait_until_idle()
    assert (await group_preferences(bot.services.storage, club.chat_id)).radius_km == 25
    assert await bot.services.storage.get_value(f"group-settings:{club.old_chat_id}") is None


async def test_a_group_hears_its_announcements_in_its_language(start_bot, telegram, ocm_server):
    bot = await start_bot(watch_poll_seconds=1)
    ada = telegram.user("Ada", language_code="en")
    club = telegram.group("EV Club", admins=[ada])
    await club.add_bot(by=ada)
    await ada.send_text_in(club, "/language")
    languages = await club.wait_for_message(containing="Language")
    await tap(ada, languages, "Deutsch", club)
    centre = ocm_server.poi(100627)["AddressInfo"]
    await WatchBook(bot.services.storage).add(
        WatchDraft(chat_id=club.chat_id, centre=GeoPoint(centre["Latitude"], centre["Longitude"]), radius_km=3)
    )
    ocm_server.generate_chargers(1, (centre["Latitude"], centre["Longitude"]), radius_km=0.5, seed=1, stamp_now=True)
    announcement = await club.wait_for_message(containing="🆕", timeout=15)
    assert "Neue Ladestation in eurer Gegend" in announcement.text


async def test_an_admin_adds_an_operator_filter_by_replying_with_its_name(telegram, bot):
    club, ada, bea = await club_with_bot(telegram)
    await ada.send_text_in(club, "/settings")
    menu = await club.wait_for_message(containing="This group's settings")
    operators = await tap(ada, menu, "🏢 Operators", club)
    prompt = await tap(ada, operators, "🔎 Add an operator", club)
    assert "send the name as a reply to this message" in prompt.text
    await bea.send_text("aldi sud", chat=club, reply_to=prompt)  # a member's reply changes nothing
    refusal = await club.wait_for_message()
    assert refusal.text.startswith("Only this group's admins")
    await ada.send_text("aldi sud", chat=club, reply_to=prompt)
    matches = await club.wait_for_edit(prompt)
    operators = await tap(ada, matches, "ALDI SÜD", club)
    assert "✓ ALDI SÜD" in operators.labels
    assert (await group_preferences(bot.services.storage, club.chat_id)).operator_ids == {3464}


async def test_near_works_in_a_private_chat_too(telegram, bot):
    ada = telegram.user("Ada")
    await ada.send_text("/near Garforth")
    assert "Lidl-Garforth" in (await ada.wait_for_message(containing="Chargers near Garforth")).text
    await ada.send_text("/near")
    prompt = await ada.wait_for_message(containing="Near which place?")
    await ada.send_text("Garforth", reply_to=prompt)
    assert "Lidl-Garforth" in (await ada.wait_for_message(containing="Chargers near Garforth")).text


async def test_a_group_language_menu_offers_the_bot_default_and_only_admins_open_it(telegram, bot):
    club, ada, bea = await club_with_bot(telegram)
    await bea.send_text_in(club, "/language")
    refusal = await club.wait_for_message()
    assert refusal.text.startswith("Only this group's admins can change its settings")
    assert not refusal.buttons

    await ada.send_text_in(club, "/settings")
    menu = await club.wait_for_message(containing="This group's settings")
    assert "Language: bot's default (English)" in menu.text and "Telegram" not in menu.text

    await ada.send_text_in(club, "/language")
    languages = await club.wait_for_message(containing="Language")
    assert "✓ Bot's default (English)" in languages.labels
    assert not [label for label in languages.labels if "Telegram" in label], languages.labels
    await tap(ada, languages, "Deutsch", club)
    assert (await group_preferences(bot.services.storage, club.chat_id)).language == "de"
    await ada.send_text_in(club, "/language")
    german = await club.wait_for_message(containing="Sprache")
    assert "Standardsprache des Bots (English)" in german.labels and "✓ Deutsch" in german.labels
