"""Translations: every message the code uses is in every catalog, placeholders survive translation,
the driver's language is chosen as promised, and plural forms follow each language's rules.

The translator compiles the packaged .po files in memory, as the installed bot does."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from ocm_bot import i18n
from ocm_bot.i18n import (
    DOMAIN,
    EXTRACTION_KEYWORDS,
    LOCALES_DIR,
    SOURCE_LANGUAGE,
    available_languages,
    negotiate_language,
    translator,
)

PACKAGE_DIR = Path(i18n.__file__).resolve().parent


def used_message_ids() -> dict[str, str]:
    """Every message id in the package, with where it is used."""
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE_DIR), method_map=[("**.py", "python")], keywords=EXTRACTION_KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, f"ocm_bot/{filename}:{lineno}")
    return found


def catalog(language: str) -> Catalog:
    with (LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as handle:
        return read_po(handle, locale=language)


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("language", available_languages())
def test_every_message_the_code_uses_is_in_the_catalog(language):
    known = {message.id if isinstance(message.id, str) else message.id[0] for message in catalog(language)}
    missing = {msgid: where for msgid, where in used_message_ids().items() if msgid not in known}
    assert not missing, (
        f"{len(missing)} message ids are missing from locales/{language}: run "
        f"`python -m ocm_bot.i18n extract` and commit the catalogs. First ones: {list(missing.items())[:5]}"
    )


def test_the_source_language_catalog_is_complete():
    untranslated = [message.id for message in catalog(SOURCE_LANGUAGE) if message.id and not message.string]
    assert not untranslated


@pytest.mark.parametrize("language", available_languages())
def test_translations_keep_the_placeholders_of_their_message(language):
    for message in catalog(language):
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        allowed = set().union(*(fields(msgid) for msgid in ids))
        for translated in strings:
            if translated:
                assert fields(translated) <= allowed, (language, message.id, translated)


@pytest.mark.parametrize("language", available_languages())
def test_a_translated_plural_has_every_form_of_the_language(language):
    po = catalog(language)
    for message in po:
        if message.pluralizable and any(message.string):
            assert len(message.string) == po.num_plurals, (language, message.id)
            assert all(message.string), (language, message.id)


def test_english_is_always_available_and_listed_first():
    languages = available_languages()
    assert languages[0] == "en"
    assert len(set(languages)) == len(languages)


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        (("de",), "de"),
        (("de-AT",), "de"),
        (("DE_ch",), "de"),
        (("en-US",), "en"),
        (("tlh",), "en"),  # no Klingon catalog: the bot's default
        ((None, "de"), "de"),  # no override: Telegram's language_code
        (("", "de"), "de"),
        (("en", "de"), "en"),  # the driver's override beats Telegram's language
        (("xx", "de"), "de"),  # an override without a catalog (removed since) falls through
    ],
)
def test_negotiate_language_picks_the_override_then_telegram_s_language(candidates, expected):
    assert "de" in available_languages()
    assert negotiate_language(*candidates) == expected


def test_negotiate_language_falls_back_to_the_configured_default_then_english():
    assert negotiate_language("tlh", default="de") == "de"
    assert negotiate_language("tlh", default="xx") == "en"
    assert negotiate_language(None, None) == "en"


def test_a_message_is_translated_and_its_placeholders_filled():
    assert translator("de").gettext("Filters: {filters}", filters="≥ 50 kW") == "Filter: ≥ 50 kW"
    assert translator("en").gettext("Filters: {filters}", filters="≥ 50 kW") == "Filters: ≥ 50 kW"


def test_a_message_without_a_translation_shows_the_english_text():
    assert translator("de").gettext("A message no catalog has") == "A message no catalog has"
    assert translator("tlh").language == "en"


@pytest.mark.parametrize(
    ("language", "n", "expected"),
    [
        ("en", 1, "A and 1 more"),
        ("en", 2, "A and 2 more"),
        ("de", 1, "A und 1 weiterer"),
        ("de", 2, "A und 2 weitere"),
        ("de", 0, "A und 0 weitere"),
    ],
)
def test_plural_forms_follow_the_language(language, n, expected):
    assert translator(language).ngettext("{names} and {n} more", "{names} and {n} more", n, names="A") == expected


def test_numbers_are_formatted_for_the_driver_s_locale():
    assert translator("en").number(3.7) == "3.7"
    assert translator("de").number(3.7) == "3,7"
    assert translator("de").number(1500, digits=0) == "1.500"
    assert translator("en").number(50.0) == "50"


@pytest.fixture
def twelve_catalogs(tmp_path, monkeypatch):
    """A locales folder with a catalog for each of the twelve languages the bot ships (empty ones)."""
    for language in ("en", "de", "fr", "es", "it", "nl", "pl", "uk", "ar", "nb", "sv", "pt"):
        folder = tmp_path / language / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / f"{DOMAIN}.po").write_text(f'msgid ""\nmsgstr ""\n"Language: {language}\\n"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("telegram_language", "expected"),
    [
        ("pt-BR", "pt"),
        ("pt-br", "pt"),
        ("pt", "pt"),
        ("no", "nb"),  # Norwegian: Telegram's clients send "no" or "nb"; Bokmål is what we write
        ("nn", "nb"),  # Nynorsk readers read Bokmål far better than English
        ("nb", "nb"),
        ("nb-NO", "nb"),
        ("no-NO", "nb"),
        ("uk", "uk"),
        ("ar-EG", "ar"),
        ("sv-FI", "sv"),
        ("zh-hans", "de"),  # no catalog: the configured default
        ("", "de"),
    ],
)
def test_telegram_s_language_code_finds_its_catalog(twelve_catalogs, telegram_language, expected):
    assert negotiate_language(None, telegram_language, default="de") == expected


def test_an_alias_never_names_a_language_without_a_catalog(twelve_catalogs):
    (twelve_catalogs / "nb" / "LC_MESSAGES" / f"{DOMAIN}.po").unlink()
    assert negotiate_language("no", default="de") == "de"


def test_the_override_still_beats_an_aliased_telegram_language(twelve_catalogs):
    assert negotiate_language("sv", "no") == "sv"
    assert negotiate_language("no", "sv") == "nb"
