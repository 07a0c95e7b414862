"""What Telegram shows about the bot: its command menus (private chats and group chats) and its
descriptions, in every language, set at start-up and not sent again when nothing changed."""

from __future__ import annotations

import json
import time

from ocm_bot.app import MENUS_SECONDS
from ocm_bot.i18n import available_languages, translator
from ocm_bot.views.menus import (
    DESCRIPTION,
    DESCRIPTION_CHARS,
    GROUP_COMMANDS,
    PRIVATE_COMMANDS,
    SHORT_DESCRIPTION,
    SHORT_DESCRIPTION_CHARS,
    bot_menus,
    menu_language_codes,
)

MENU_METHODS = ("setMyCommands", "setMyDescription", "setMyShortDescription")


def menu(telegram_server, scope: str, language: str = "") -> list[dict]:
    return telegram_server.commands.get(json.dumps([{"type": scope}, language], sort_keys=True), [])


def menu_calls(telegram_server) -> int:
    return sum(len(telegram_server.calls(method)) for method in MENU_METHODS)


async def test_the_german_menu_is_german_and_the_default_one_english(bot, telegram_server):
    german = {c["command"]: c["description"] for c in menu(telegram_server, "default", "de")}
    english = {c["command"]: c["description"] for c in menu(telegram_server, "default")}
    assert german["start"] == "Ladestationen in deiner Nähe finden"
    assert english["start"] == "Find chargers near you"
    assert list(german) == [name for name, _ in PRIVATE_COMMANDS]


async def test_group_chats_get_the_group_commands_in_every_language(bot, telegram_server):
    for language in available_languages():
        code = "" if language == "en" else language.split("_")[0]
        commands = [c["command"] for c in menu(telegram_server, "all_group_chats", code)]
        assert commands == ["near", "watch", "watches", "settings", "help", "language"], language
    assert [name for name, _ in GROUP_COMMANDS] == ["near", "watch", "watches", "settings", "help", "language"]
    german = {c["command"]: c["description"] for c in menu(telegram_server, "all_group_chats", "de")}
    assert german["near"] == "Ladestationen an einem Ort, für die ganze Gruppe"


async def test_the_descriptions_are_set_in_every_language(bot, telegram_server):
    assert "Open Charge Map" in telegram_server.descriptions[""]
    assert telegram_server.descriptions["de"].startswith("Finde Ladestationen")
    assert telegram_server.short_descriptions["fr"].startswith("Les bornes de recharge")
    for language in available_languages():
        code = "" if language == "en" else language.split("_")[0]
        assert 0 < len(telegram_server.short_descriptions[code]) <= 120
        assert 0 < len(telegram_server.descriptions[code]) <= 512


async def test_a_restart_sends_nothing_when_the_menus_did_not_change(bot, start_bot, telegram_server):
    first = menu_calls(telegram_server)
    assert first >= 4 * len(available_languages())
    await bot.stop()
    again = await start_bot()
    assert again.services is not None
    assert menu_calls(telegram_server) == first


async def test_the_bot_starts_when_telegram_refuses_the_menus_and_finishes_them_at_the_next_start(
    start_bot, telegram_server, telegram
):
    telegram_server.inject_error("setMyDescription", 429, "Too Many Requests: retry after 3600", retry_after=3600)
    started = time.monotonic()
    first = await start_bot()
    assert time.monotonic() - started < MENUS_SECONDS  # Telegram's hour is not waited for
    ada = telegram.user("Ada", language_code="en")
    await ada.send_text("/start")
    assert "Hi Ada!" in (await ada.wait_for_message()).text  # the bot works without its description
    assert "" not in telegram_server.descriptions
    await first.stop()
    await start_bot()
    assert "Open Charge Map" in telegram_server.descriptions[""]
    assert "de" in telegram_server.short_descriptions


async def test_every_language_has_its_own_menus_and_descriptions_within_telegram_s_limits(bot, telegram_server):
    """Each language code Telegram may send gets translated command descriptions (private chats and
    groups) and descriptions that fit whole: at most one command description per menu is the
    English one (a word shared across languages), and nothing was cut to fit."""
    english = bot_menus(translator("en"))
    published = 0
    for language in available_languages():
        if language == "en":
            continue
        t = translator(language)
        for code in menu_language_codes(language):
            for scope, names in (("default", PRIVATE_COMMANDS), ("all_group_chats", GROUP_COMMANDS)):
                sent = menu(telegram_server, scope, code)
                assert [c["command"] for c in sent] == [name for name, _ in names], (code, scope)
                same = [
                    c["command"]
                    for c, mine in zip(sent, english.commands[scope], strict=True)
                    if c["description"] == mine.description
                ]
                assert len(same) <= 1, (code, scope, same)
                assert all(c["description"] == t.gettext(msgid) for c, (_, msgid) in zip(sent, names, strict=True))
                published += 1
            description, short = telegram_server.descriptions[code], telegram_server.short_descriptions[code]
            assert description == t.gettext(DESCRIPTION) != english.description, code  # whole, not cut
            assert short == t.gettext(SHORT_DESCRIPTION) != english.short_description, code
            assert len(description) <= DESCRIPTION_CHARS and len(short) <= SHORT_DESCRIPTION_CHARS, code
    assert published == 2 * (len(available_languages()) - 1 + 2)  # nb also under "no" and "nn"
    assert len(available_languages()) == 12
