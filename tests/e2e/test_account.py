"""/forget, /language and /privacy through the fake Bot API."""

from __future__ import annotations

from tests.e2e.test_settings import open_settings, stored_preferences, tap


async def test_forget_removes_everything_stored_about_the_driver(telegram, bot):
    ada = telegram.user("Ada")
    storage = bot.services.storage
    menu = await open_settings(ada)
    menu = await tap(ada, await tap(ada, menu, "⚡ Minimum power"), "50 kW")
    await tap(ada, await tap(ada, menu, "🌐 Language"), "Deutsch")
    await storage.add_favourite(ada.id, 1234)
    await storage.save_draft(ada.id, {"charger_id": 1234, "step": "rating"})
    assert (await stored_preferences(bot, ada)).min_power_kw == 50

    await ada.send_text("/forget")
    question = await ada.wait_for_message(containing="?")
    assert question.labels == ["🗑 Alles löschen", "Abbrechen"]  # still in German until it is gone
    done = await tap(ada, question, "🗑 Alles löschen")
    assert "I deleted everything I stored about you" in done.text  # back to Telegram's language
    assert done.labels == []

    assert await storage.get_user(ada.id) is None
    assert await storage.list_favourites(ada.id) == []
    assert await storage.get_draft(ada.id) is None
    await ada.send_text("/settings")
    fresh = await ada.wait_for_message(containing="Settings")
    assert "Minimum power: any power" in fresh.text


async def test_cancelling_forget_deletes_nothing(telegram, bot):
    ada = telegram.user("Ada")
    await tap(ada, await tap(ada, await open_settings(ada), "⚡ Minimum power"), "22 kW")
    await bot.services.storage.add_favourite(ada.id, 99)
    await ada.send_text("/forget")
    question = await ada.wait_for_message(containing="Delete everything I store about you?")
    kept = await tap(ada, question, "Cancel")
    assert "Nothing was deleted." in kept.text
    assert (await stored_preferences(bot, ada)).min_power_kw == 22
    assert await bot.services.storage.list_favourites(ada.id) == [99]


async def test_a_forged_forget_button_deletes_nothing(telegram, telegram_server, bot):
    ada = telegram.user("Ada")
    await tap(ada, await tap(ada, await open_settings(ada), "⚡ Minimum power"), "22 kW")
    await ada.send_text("/forget")
    question = await ada.wait_for_message(containing="Delete everything")
    query_id = telegram_server.new_callback_query(ada.user, ada.id, question.message_id, "ac|fg|AAAAAAAA")
    await ada.wait_until(lambda: telegram_server.callback_queries[query_id].answer, what="an answer")
    assert "expired" in telegram_server.callback_queries[query_id].answer["text"]
    assert (await stored_preferences(bot, ada)).min_power_kw == 22


async def test_language_shortcut_lists_the_catalogs_and_applies_at_once(telegram, bot):
    ada = telegram.user("Ada", language_code="en-GB")
    await ada.send_text("/language")
    languages = await ada.wait_for_message(containing="Language")
    assert "✓ As in Telegram (English)" in languages.labels
    assert {"English", "Deutsch"} <= set(languages.labels)
    menu = await tap(ada, languages, "Deutsch")
    assert "Sprache: Deutsch" in menu.text
    assert "Entfernungseinheit: automatisch (Meilen)" in menu.text  # en-GB drives in miles
    languages = await tap(ada, menu, "🌐 Sprache")
    assert "✓ Deutsch" in languages.labels
    menu = await tap(ada, languages, "Wie in Telegram (English)")
    assert "Language: as in Telegram (English)" in menu.text
    assert (await stored_preferences(bot, ada)).language is None


async def test_privacy_says_what_is_stored_and_how_to_delete_it(telegram, bot):
    ada = telegram.user("Ada")
    await ada.send_text("/privacy")
    reply = await ada.wait_for_message(containing="What I store about you")
    assert "/forget deletes everything" in reply.text


async def test_privacy_says_how_long_searches_live_locations_and_sign_ins_are_kept(telegram, bot):
    ada = telegram.user("Ada")
    await ada.send_text("/privacy")
    reply = await ada.wait_for_message(containing="What I store about you")
    assert "Kept until you send /forget" in reply.text
    assert "Your recent searches" in reply.text and "about an hour" in reply.text
    assert "While you share your live location" in reply.text
    assert "While you sign in" in reply.text and "I never store your password" in reply.text


async def test_forget_in_a_group_points_to_the_private_chat(telegram, bot):
    ada = telegram.user("Ada")
    club = telegram.group("EV Club", members=[ada])
    await club.add_bot(by=ada)
    await ada.send_text_in(club, "/forget")
    reply = await club.wait_for_message()
    assert "send /forget to me in a private chat" in reply.text
    assert reply.labels == []
