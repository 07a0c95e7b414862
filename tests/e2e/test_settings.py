"""/settings through the fake Bot API: a driver changes filters in one message, edited in place, and
the bot remembers them (storage) and uses them (the next search's OCM request)."""

from __future__ import annotations

from typing import Any

from ocm_bot.domain.preferences import UserPreferences
from tests.fakes.telegram.driver import FakeUser

PORTLAND = (45.5122, -122.6587)


async def stored_preferences(bot: Any, user: FakeUser) -> UserPreferences:
    """What the bot has saved for ``user`` (read through its storage)."""
    return UserPreferences.from_dict(await bot.services.storage.get_user(user.id) or {})


async def open_settings(user: FakeUser):
    await user.send_text("/settings")
    return await user.wait_for_message(containing="Settings")


async def tap(user: FakeUser, message, label: str):
    """Press a button, wait for the answer and the edit; the edited message."""
    pressed = await user.press(message, label)
    await pressed.answered()
    return await user.wait_for_edit(message)


async def test_driver_sets_50_kw_and_ccs_and_the_menu_and_storage_show_it(telegram, bot):
    ada = telegram.user("Ada")
    menu = await open_settings(ada)
    assert "Minimum power: any power" in menu.text
    assert "Plugs: any plug" in menu.text

    power = await tap(ada, menu, "⚡ Minimum power")
    assert power.message_id == menu.message_id
    assert "✓ Any power" in power.labels
    menu = await tap(ada, power, "50 kW")
    assert "Minimum power: ≥ 50 kW" in menu.text

    plugs = await tap(ada, menu, "🔌 Plugs")
    plugs = await tap(ada, plugs, "CCS (Type 2)")
    assert "✓ CCS (Type 2)" in plugs.labels
    assert "✓ Any plug" not in plugs.labels
    menu = await tap(ada, plugs, "‹ Back")
    assert "Plugs: CCS (Type 2)" in menu.text

    assert len(ada.messages) == 1  # one settings message from the bot, edited in place
    prefs = await stored_preferences(bot, ada)
    assert prefs.min_power_kw == 50
    assert prefs.connection_type_ids == {33}


async def test_switching_language_re_renders_the_menu_in_german(telegram, bot):
    ada = telegram.user("Ada", language_code="en")
    menu = await open_settings(ada)
    languages = await tap(ada, menu, "🌐 Language")
    assert "✓ As in Telegram (English)" in languages.labels
    menu = await tap(ada, languages, "Deutsch")
    assert "⚙️ Einstellungen" in menu.text
    assert "Sprache: Deutsch" in menu.text
    assert "🔌 Stecker" in menu.labels
    assert (await stored_preferences(bot, ada)).language == "de"

    await ada.send_text("/settings")
    again = await ada.wait_for_message(containing="Einstellungen")
    assert "Mindestleistung: jede Leistung" in again.text


async def test_a_german_telegram_user_gets_german_settings_without_choosing(telegram, bot):
    hans = telegram.user("Hans", language_code="de")
    await hans.send_text("/settings")
    menu = await hans.wait_for_message(containing="Einstellungen")
    assert "Sprache: wie in Telegram (Deutsch)" in menu.text


async def test_toggles_and_single_choices_are_saved(telegram, bot):
    ada = telegram.user("Ada")
    menu = await open_settings(ada)
    menu = await tap(ada, menu, "✓ Working chargers only")
    assert "Working chargers only: off" in menu.text
    menu = await tap(ada, menu, "Open data only")
    assert "Open data only: on" in menu.text
    assert "✓ Open data only" in menu.labels
    menu = await tap(ada, await tap(ada, menu, "🔓 Access"), "Public only")
    menu = await tap(ada, await tap(ada, menu, "📐 Distance unit"), "Miles")
    assert "Distance unit: miles" in menu.text
    radius = await tap(ada, menu, "📏 Radius")
    assert "15 mi" in radius.labels
    menu = await tap(ada, radius, "15 mi")
    assert "Radius: 15 mi" in menu.text
    menu = await tap(ada, await tap(ada, menu, "📄 Results per page"), "8")
    assert "Results per page: 8" in menu.text

    prefs = await stored_preferences(bot, ada)
    assert prefs.operational_only is False and prefs.open_data_only is True
    assert prefs.usage.value == "public" and prefs.unit.value == "mi" and prefs.page_size == 8
    assert round(prefs.radius_km, 2) == 24.14


async def test_a_double_tap_is_answered_twice_and_changes_nothing_more(telegram, telegram_server, bot):
    ada = telegram.user("Ada")
    power = await tap(ada, await open_settings(ada), "⚡ Minimum power")
    data = power.callback_buttons["50 kW"]
    # Both taps arrive before the first edit: the second renders the same menu again, which Telegram
    # refuses as "message is not modified"; the bot takes that calmly and still answers the button.
    first = telegram_server.new_callback_query(ada.user, ada.id, power.message_id, data)
    second = telegram_server.new_callback_query(ada.user, ada.id, power.message_id, data)
    await ada.wait_until(
        lambda: all(telegram_server.callback_queries[q].answer for q in (first, second)), what="two answers"
    )
    menu = ada.message(power)
    assert "Minimum power: ≥ 50 kW" in menu.text
    assert telegram.unanswered_callback_queries() == []
    assert (await stored_preferences(bot, ada)).min_power_kw == 50


async def test_resetting_unchanged_filters_keeps_the_menu(telegram, bot):
    ada = telegram.user("Ada")
    menu = await open_settings(ada)
    pressed = await ada.press(menu, "↺ Reset filters")
    assert (await pressed.answered()).text == "Saved"
    assert ada.message(menu).text == menu.text


async def test_operator_search_by_name(telegram, bot):
    ada = telegram.user("Ada")
    menu = await open_settings(ada)
    operators = await tap(ada, menu, "🏢 Operators")
    assert "✓ Any operator" in operators.labels
    prompt = await tap(ada, operators, "🔎 Add an operator")
    assert "Type the operator's name" in prompt.text

    await ada.send_text("aldi sud")
    matches = await ada.wait_for_edit(prompt)
    assert matches.message_id == menu.message_id
    assert "ALDI SÜD" in matches.labels
    operators = await tap(ada, matches, "ALDI SÜD")
    assert "✓ ALDI SÜD" in operators.labels
    menu = await tap(ada, operators, "‹ Back")
    assert "Operators: ALDI SÜD" in menu.text
    assert (await stored_preferences(bot, ada)).operator_ids == {3464}


async def test_an_operator_name_nobody_has_says_so(telegram, bot):
    ada = telegram.user("Ada")
    prompt = await tap(ada, await tap(ada, await open_settings(ada), "🏢 Operators"), "🔎 Add an operator")
    await ada.send_text("Zzyzx Power Co")
    nothing = await ada.wait_for_edit(prompt)
    assert "No operator matches “Zzyzx Power Co”" in nothing.text
    assert "🔎 Search again" in nothing.labels


async def test_a_forged_settings_button_is_answered_as_expired_and_changes_nothing(telegram, telegram_server, bot):
    ada = telegram.user("Ada")
    menu = await open_settings(ada)
    forged = menu.callback_buttons["⚡ Minimum power"].rsplit("|", 2)[0] + "|s|pw|350|AAAAAAAA"
    query_id = telegram_server.new_callback_query(ada.user, ada.id, menu.message_id, forged)
    await ada.wait_until(
        lambda: telegram_server.callback_queries[query_id].answer, what="an answer to the forged button"
    )
    answer = telegram_server.callback_queries[query_id].answer
    assert "expired" in answer["text"]
    assert ada.message(menu).edits == menu.edits
    assert await bot.services.storage.get_user(ada.id) is None


async def test_settings_in_a_group_point_to_the_private_chat(telegram, bot):
    ada = telegram.user("Ada")
    club = telegram.group("EV Club", members=[ada])
    await club.add_bot(by=ada)
    await ada.send_text_in(club, "/settings")
    reply = await club.wait_for_message()
    assert "send /settings to me in a private chat" in reply.text


async def test_done_leaves_a_summary(telegram, bot):
    ada = telegram.user("Ada")
    menu = await open_settings(ada)
    menu = await tap(ada, await tap(ada, menu, "⚡ Minimum power"), "22 kW")
    menu = await tap(ada, await tap(ada, menu, "🔓 Access"), "Public only")
    menu = await tap(ada, await tap(ada, menu, "🔋 Charging level"), "Level 2 · over 2 kW")
    menu = await tap(ada, await tap(ada, await tap(ada, menu, "‹ Back"), "🏢 Operators"), "🔎 Add an operator")
    await ada.send_text("ionity")
    menu = await tap(ada, await tap(ada, await ada.wait_for_edit(menu), "Ionity"), "‹ Back")
    done = await tap(ada, menu, "Done")
    assert done.text.startswith("Settings saved")
    for line in [
        "Minimum power: ≥ 22 kW",
        "Charging level: Level 2 · over 2 kW",
        "Operators: Ionity",
        "Access: Public only",
        "Working chargers only: on",
    ]:
        assert line in done.text.splitlines(), line
    assert done.labels == []


async def test_the_next_search_asks_ocm_for_50_kw_and_ccs(telegram, ocm_server, bot):
    ada = telegram.user("Ada")
    menu = await open_settings(ada)
    menu = await tap(ada, await tap(ada, menu, "⚡ Minimum power"), "50 kW")
    await tap(ada, await tap(ada, menu, "🔌 Plugs"), "CCS (Type 2)")
    asked_before = len(ocm_server.requests_to("/v3/poi"))

    await ada.send_location(*PORTLAND)
    results = await ada.wait_for_message(containing="kW", timeout=10)
    searches = ocm_server.requests_to("/v3/poi")[asked_before:]
    assert searches, "the search did not ask OCM"
    assert searches[-1].params["minpowerkw"] == "50"
    assert searches[-1].params["connectiontypeid"] == "33"
    assert "≥ 50 kW" in results.text


async def test_an_operator_name_is_not_searched_as_a_place(telegram, ocm_server, bot):
    ada = telegram.user("Ada")
    prompt = await tap(ada, await tap(ada, await open_settings(ada), "🏢 Operators"), "🔎 Add an operator")
    asked_before = len(ocm_server.requests_to("/v3/poi"))
    await ada.send_text("Tesla")
    matches = await ada.wait_for_edit(prompt)
    assert any("Tesla" in label for label in matches.labels)
    assert len(ocm_server.requests_to("/v3/poi")) == asked_before
    assert len(ada.messages) == 1  # no "searching…" or "place not found" answer


async def test_quick_taps_on_two_plugs_keep_both(telegram, telegram_server, bot):
    ada = telegram.user("Ada")
    plugs = await tap(ada, await open_settings(ada), "🔌 Plugs")
    # The driver ticks two plugs faster than the bot answers; updates are handled concurrently.
    for label in ("CCS (Type 2)", "Type 2", "CHAdeMO"):
        telegram_server.new_callback_query(ada.user, ada.id, plugs.message_id, plugs.callback_buttons[label])
    await ada.wait_until(lambda: not telegram.unanswered_callback_queries(), what="every tap answered")
    await telegram.wait_until_idle()  # answered, not only fetched
    assert (await stored_preferences(bot, ada)).connection_type_ids == {33, 25, 1036, 2}
    ticked = {"✓ CCS (Type 2)", "✓ Type 2", "✓ CHAdeMO"}
    await ada.wait_until(lambda: ticked <= set(ada.message(plugs).labels), what="the menu showing all three")


async def test_settings_and_a_pending_operator_search_survive_a_restart(telegram, bot, start_bot):
    ada = telegram.user("Ada")
    menu = await open_settings(ada)
    menu = await tap(ada, await tap(ada, menu, "⚡ Minimum power"), "150 kW")
    prompt = await tap(ada, await tap(ada, menu, "🏢 Operators"), "🔎 Add an operator")
    await bot.stop()

    restarted = await start_bot()
    await ada.send_text("aldi")
    matches = await ada.wait_for_edit(prompt)
    assert "ALDI SÜD" in matches.labels
    assert (await stored_preferences(restarted, ada)).min_power_kw == 150
