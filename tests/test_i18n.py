"""Translations: every message the code uses is in every catalog, placeholders survive translation,
the driver's language is chosen as promised, and plural forms follow each language's rules.

The translator compiles the packaged .po files in memory, as the installed bot does."""

from __future__ import annotations

import re
import string
from functools import cache
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


@cache
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


# What each catalog must be: complete, no fuzzy guesses, the same placeholders and HTML as the English.


@pytest.mark.parametrize("language", available_languages())
def test_no_entry_is_fuzzy_or_empty(language):
    """A fuzzy entry (a guess by the tools) is not used, and an empty one shows English: both are gaps."""
    used = set(used_message_ids())
    gaps = [
        message.id
        for message in catalog(language)
        if message.id
        and (message.id if isinstance(message.id, str) else message.id[0]) in used
        and (message.fuzzy or not all(message.string if isinstance(message.string, tuple) else (message.string,)))
    ]
    assert not gaps, f"locales/{language}: {len(gaps)} fuzzy or empty entries, first ones: {gaps[:5]}"


def placeholder_problems(msgid: str | tuple[str, ...], translated: str | tuple[str, ...]) -> list[str]:
    """Placeholders a translation lost or added ({n} may be left out of a plural form: "one charger")."""
    ids = msgid if isinstance(msgid, tuple) else (msgid,)
    strings = translated if isinstance(translated, tuple) else (translated,)
    wanted = set().union(*(fields(text) for text in ids))
    problems = []
    for text in strings:
        found = fields(text)
        if found - wanted:
            problems.append(f"added {sorted(found - wanted)}")
        lost = wanted - found - ({"n"} if isinstance(msgid, tuple) else set())
        if lost:
            problems.append(f"lost {sorted(lost)}")
    return problems


@pytest.mark.parametrize(
    ("msgid", "translated", "expected"),
    [
        ("Chargers near {place}", "Ladestationen bei {place}", []),
        ("Chargers near {place}", "Ladestationen in der Nähe", ["lost ['place']"]),
        ("Chargers near {place}", "Ladestationen bei {ort}", ["added ['ort']", "lost ['place']"]),
        (("{n} charger", "{n} chargers"), ("eine Ladestation", "{n} Ladestationen"), []),
        (("{n} on {day}", "{n} on {day}"), ("{n}", "{n} am {day}"), ["lost ['day']"]),
    ],
)
def test_the_placeholder_check_finds_a_lost_or_added_placeholder(msgid, translated, expected):
    assert placeholder_problems(msgid, translated) == expected


@pytest.mark.parametrize("language", available_languages())
def test_translations_neither_lose_nor_add_placeholders(language):
    problems = {
        message.id if isinstance(message.id, str) else message.id[0]: found
        for message in catalog(language)
        if message.id and any(message.string if isinstance(message.string, tuple) else (message.string,))
        if (found := placeholder_problems(message.id, message.string))
    }
    assert not problems, f"locales/{language}: {problems}"


# Telegram's HTML (https://core.telegram.org/bots/api#html-style): these tags, with these attributes.
TELEGRAM_TAGS = {
    "b": set(),
    "strong": set(),
    "i": set(),
    "em": set(),
    "u": set(),
    "ins": set(),
    "s": set(),
    "strike": set(),
    "del": set(),
    "span": {"class"},
    "tg-spoiler": set(),
    "a": {"href"},
    "tg-emoji": {"emoji-id"},
    "code": {"class"},
    "pre": set(),
    "blockquote": {"expandable"},
}


def html_problems(text: str) -> tuple[list[str], list[tuple[str, tuple[tuple[str, str | None], ...]]]]:
    """What Telegram would refuse in ``text`` (unknown tags or attributes, unbalanced tags, a bare
    ``<`` or ``&``), and the tags with their attributes in order."""
    from html.parser import HTMLParser

    problems: list[str] = []
    tags: list[tuple[str, tuple[tuple[str, str | None], ...]]] = []
    open_tags: list[str] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag not in TELEGRAM_TAGS:
                problems.append(f"<{tag}> is not a Telegram tag")
            elif extra := {name for name, _ in attrs} - TELEGRAM_TAGS[tag]:
                problems.append(f"<{tag}> cannot have {sorted(extra)}")
            tags.append((tag, tuple(attrs)))
            open_tags.append(tag)

        def handle_endtag(self, tag):
            if not open_tags or open_tags[-1] != tag:
                problems.append(f"</{tag}> closes nothing open")
            else:
                open_tags.pop()

    parser = Parser(convert_charrefs=False)
    parser.feed(text)
    parser.close()
    problems += [f"<{tag}> is never closed" for tag in open_tags]
    stray = re.sub(r"</?[a-z][a-z-]*(\s[^<>]*)?>|&(lt|gt|amp|quot|#\d+|#x[0-9a-f]+);", "", text, flags=re.I)
    if "<" in stray or ">" in stray or "&" in stray:
        problems.append("a bare < > or & (write &lt; &gt; &amp;)")
    return problems, tags


def translation_html_problems(msgid: str | tuple[str, ...], translated: str | tuple[str, ...]) -> list[str]:
    """Broken Telegram HTML in a translation, or tags and attributes other than the English text's."""
    english = msgid[0] if isinstance(msgid, tuple) else msgid
    _, wanted = html_problems(english)
    found_problems: list[str] = []
    for text in translated if isinstance(translated, tuple) else (translated,):
        if not text:
            continue
        problems, tags = html_problems(text)
        if wanted:
            found_problems += problems
        # Plain English text is escaped where it meets HTML (views.html.gettext_html): an & is fine there,
        # a tag would show as text.
        if sorted(tags) != sorted(wanted):
            found_problems.append(f"tags {tags} instead of {wanted}")
    return found_problems


@pytest.mark.parametrize(
    ("msgid", "translated", "broken"),
    [
        ("Tap <b>Send</b>", "Tippe auf <b>Senden</b>", False),
        ("Tap <b>Send</b>", "Tippe auf <b>Senden", True),  # unclosed
        ("Tap <b>Send</b>", "Tippe auf <b>Senden</i>", True),  # crossed
        ("Tap <b>Send</b>", "Tippe auf <blink>Senden</blink>", True),  # not Telegram's
        ('See <a href="{url}">OCM</a>', 'Siehe <a href="{url}">OCM</a>', False),
        ('See <a href="{url}">OCM</a>', "Siehe <a>OCM</a>", True),  # the link lost its target
        ("Fish and chips", "Fisch & Pommes", False),  # plain text: escaped where it is used
        ("Fish and chips", "Fisch <b>und</b> Pommes", True),  # a tag the English does not have
    ],
)
def test_the_html_check_finds_broken_telegram_html(msgid, translated, broken):
    assert bool(translation_html_problems(msgid, translated)) is broken


@pytest.mark.parametrize("language", available_languages())
def test_translations_keep_telegram_s_html_intact(language):
    problems = {
        message.id if isinstance(message.id, str) else message.id[0]: found
        for message in catalog(language)
        if message.id and message.string
        if (found := translation_html_problems(message.id, message.string))
    }
    assert not problems, f"locales/{language}: {problems}"
