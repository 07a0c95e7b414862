"""The production application answers a driver's first message, in their language."""

from __future__ import annotations

import pytest

from tests.fakes.telegram.driver import PressedButton


async def test_start_answers_with_a_welcome_and_a_send_my_location_button(bot, telegram):
    ada = telegram.user("Ada", language_code="en")
    await ada.send_text("/start")
    welcome = await ada.wait_for_message()
    assert "Hi Ada!" in welcome.text
    assert "chargers" in welcome.text
    assert ada.reply_keyboard_labels == ["📍 Send my location"]
    [button] = [b for row in ada.reply_keyboard for b in row]
    assert button.raw.get("request_location") is True


async def test_start_in_german_for_a_german_telegram_user(bot, telegram):
    hans = telegram.user("Hans", language_code="de")
    await hans.send_text("/start")
    welcome = await hans.wait_for_message()
    assert "Hallo Hans!" in welcome.text
    assert hans.reply_keyboard_labels == ["📍 Meinen Standort senden"]


async def test_help_lists_the_commands(bot, telegram):
    ada = telegram.user("Ada")
    await ada.send_text("/help")
    reply = await ada.wait_for_message()
    for command in ("/settings", "/favourites", "/charger", "/checkin", "/forget"):
        assert command in reply.text


async def test_an_unknown_command_gets_a_translated_hint(bot, telegram):
    ada = telegram.user("Ada")
    await ada.send_text("/frobnicate")
    reply = await ada.wait_for_message()
    assert "/help" in reply.text


async def test_a_forged_button_is_answered_as_expired_without_asking_ocm(bot, telegram, telegram_server, ocm_server):
    ada = telegram.user("Ada")
    await ada.send_text("/start")
    welcome = await ada.wait_for_message()
    ocm_server.clear()
    forged = "pg|nonsense|2|AAAAAAAA"
    query_id = telegram_server.new_callback_query(ada.user, welcome.chat_id, welcome.message_id, forged)
    answer = await PressedButton(query_id, forged, welcome, telegram_server).answered()
    assert "expired" in answer.text
    assert ocm_server.requests_to("/v3/poi") == []


async def test_the_command_menu_is_set_in_every_language(bot, telegram, telegram_server):
    calls = telegram_server.calls("setMyCommands")
    languages = {call.get("language_code") for call in calls}
    assert None in languages and "de" in languages


@pytest.mark.parametrize(
    ("reply_markup", "text", "named"),
    [
        ({"inline_keyboard": [[{"text": "x", "callback_data": "y" * 65}]]}, "fine", "callback_data"),
        (None, "<b>unclosed", "invalid HTML"),
        (None, "5 < 7 & so on", "invalid HTML"),
    ],
)
async def test_a_schema_violation_is_refused_and_named(telegram, telegram_server, reply_markup, text, named):
    """The loopback Bot API server refuses what Telegram would refuse, and names the violation."""
    import httpx

    ada = telegram.user("Ada")
    await ada.send_text("/start")
    body = {"chat_id": ada.id, "text": text, "parse_mode": "HTML"}
    if reply_markup:
        body["reply_markup"] = reply_markup
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{telegram_server.api_url}{telegram_server.token}/sendMessage", json=body)
    assert response.status_code == 400
    violations = [str(v) for v in telegram_server.take_violations()]
    assert violations and named in " ".join(violations)


async def test_with_ocm_down_at_first_start_the_bot_still_starts_and_says_so(start_bot, telegram, ocm_server):
    ocm_server.inject("status503", times=None, path_prefix="/v3")
    bot = await start_bot()
    assert (await bot.services.chargers.reference_data()).connection_types  # the bundled copy
    ada = telegram.user("Ada")
    await ada.send_text("/start")
    assert "Hi Ada!" in (await ada.wait_for_message()).text
    await ada.send_location(45.5122, -122.6587)
    answer = await ada.wait_for_message(timeout=30)
    assert "Open Charge Map is not answering" in answer.text
    assert "🔄 Retry" in answer.labels

    ocm_server.clear_faults()
    await (await ada.press(answer, "🔄 Retry")).answered()
    results = await ada.wait_for_edit(answer, containing="Chargers near", timeout=30)
    assert "openchargemap.org/site/poi/details/" in " ".join(results.url_buttons.values())


async def test_help_in_a_group_explains_the_group_commands_and_who_chooses_the_settings(bot, telegram):
    ada, bea = telegram.user("Ada"), telegram.user("Bea")
    club = telegram.group("EV Club", members=[bea], admins=[ada])
    await club.add_bot(ada)
    await bea.send_text_in(club, "/help")
    reply = await club.wait_for_message(containing="/near")
    for command in ("/near", "/watch", "/watches", "/settings", "/language"):
        assert command in reply.text
    assert "admins" in reply.text and "radius, filters, units and language" in reply.text
    # Not the private help: no personal commands that only work with the bot in private.
    for personal in ("/favourites", "/checkin", "/login", "/forget"):
        assert personal not in reply.text


async def test_private_help_names_area_route_inline_mode_and_alerts(bot, telegram):
    ada = telegram.user("Ada")
    await ada.send_text("/help")
    reply = await ada.wait_for_message()
    assert "/area" in reply.text and "/route" in reply.text and "/alerts" in reply.text
    assert "@ocm_test_bot Leeds" in reply.text  # inline mode, with the bot's own name


async def test_help_in_a_group_speaks_the_group_language(bot, telegram):
    ada = telegram.user("Ada", language_code="en")
    club = telegram.group("EV Club", admins=[ada])
    await club.add_bot(ada)
    await ada.send_text_in(club, "/language")
    languages = await club.wait_for_message(containing="Language")
    await (await ada.press(languages, "Deutsch")).answered()
    await club.wait_for_edit(languages)
    await ada.send_text_in(club, "/help")
    reply = await club.wait_for_message(containing="/near")
    assert "Admins" in reply.text or "Admin" in reply.text
    assert "Ladestationen" in reply.text
