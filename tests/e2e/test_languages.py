"""A driver is answered in the language of their Telegram app: Norwegian Bokmål for "nb", "no" and "nn",
Portuguese for "pt-br", Arabic right to left with Latin names isolated; /language switches at once.

The catalogs of the newer languages are the translators'; these tests give the bot small ones of
their own (a locales folder with the shipped catalogs and a few Bokmål, Portuguese and Arabic
messages), so they prove the choice and the direction, not the translations."""

from __future__ import annotations

import shutil

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from ocm_bot import i18n
from ocm_bot.i18n import DOMAIN, FSI, PDI

HI = {
    "nb": ("Hei {name}!", "Send meg posisjonen din"),
    "pt": ("Olá {name}!", "Envie-me a sua localização"),
    "ar": ("مرحبًا {name}!", "أرسل لي موقعك"),
}


@pytest.fixture
def new_languages(tmp_path, monkeypatch):
    locales = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES_DIR, locales)
    for language, (hello, _) in HI.items():
        catalog = Catalog(locale=language, domain=DOMAIN)
        catalog.add("Hi {name}!", hello)
        folder = locales / language / "LC_MESSAGES"
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f"{DOMAIN}.po").open("wb") as out:
            write_po(out, catalog)
    monkeypatch.setattr(i18n, "LOCALES_DIR", locales)
    i18n.translator.cache_clear()
    yield locales
    i18n.translator.cache_clear()


async def test_the_welcome_is_in_the_language_of_the_driver_s_telegram(new_languages, start_bot, telegram):
    await start_bot()
    for language_code, hello in [
        ("nb", "Hei Kari!"),
        ("no", "Hei Kari!"),
        ("nn", "Hei Kari!"),
        ("pt-br", "Olá Kari!"),
        ("sw", "Hi Kari!"),  # no Swahili catalog: DEFAULT_LANGUAGE
    ]:
        kari = telegram.user("Kari", language_code=language_code)
        await kari.send_text("/start")
        welcome = await kari.wait_for_message()
        assert welcome.text.startswith(hello), language_code


async def test_an_arabic_driver_reads_a_latin_name_isolated_inside_arabic(new_languages, start_bot, telegram):
    await start_bot()
    ada = telegram.user("Ada Lovelace", language_code="ar")
    await ada.send_text("/start")
    welcome = await ada.wait_for_message()
    assert welcome.text.startswith(f"مرحبًا {FSI}Ada Lovelace{PDI}!")


async def test_the_bokmal_menu_is_also_shown_to_no_and_nn(new_languages, start_bot, telegram_server):
    await start_bot()
    assert {call.get("language_code") for call in telegram_server.calls("setMyCommands")} >= {"nb", "no", "nn"}
