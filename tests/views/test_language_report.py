"""The state of the twelve languages, as a report and as facts the README states.

``.venv/bin/pytest -q -s tests/views/test_language_report.py`` prints, per language: translated
entries, plural forms and how many (message, plural category) pairs were checked, glossary terms,
and the longest button label drawn by the every-view scenarios. The tests check that every
language is complete, that each plural category of each language fills in its number where the
word's form cannot say it, and that README's table of languages matches the catalogs and glossaries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.pofile import read_po
from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup

from ocm_bot.i18n import DOMAIN, FSI, LOCALES_DIR, PDI, available_languages, translator
from ocm_bot.views.common import View
from tests.test_glossary import glossary_path, read_glossary
from tests.views.test_every_view import LONG, scenarios, search_results

README = Path(__file__).resolve().parents[2] / "README.md"
# Counts from 1 up (0 is left to the Arabic test: a count of nothing has its own messages, "No
# chargers found"), and a million, which some languages (it, pt) word apart.
COUNTS = (*range(1, 200), 1_000_000)
VALUES = {"name": "X", "names": "X", "filter": "X", "ids": "X", "place": "X", "radius": "X"}


@dataclass(frozen=True)
class LanguageRow:
    code: str
    name: str
    entries: int
    plural_forms: int
    plural_checks: int
    glossary_terms: int | None
    longest_button: str


@cache
def catalog(language: str):
    with (LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as handle:
        return read_po(handle, locale=language)


def plural_problems(language: str) -> tuple[int, list[str]]:
    """(pairs checked, problems): each plural message at a count of each of the language's categories."""
    t, rule = translator(language), Locale.parse(language).plural_form
    samples: dict[str, list[int]] = {}
    for n in COUNTS:  # the first two counts of each category the language has (uk "one": 1 and 21)
        if len(found := samples.setdefault(rule(n), [])) < 2:
            found.append(n)
    problems = []
    checked = 0
    for message in catalog(language):
        if not message.pluralizable or not message.id:
            continue
        singular, plural = message.id
        for category, n in ((category, n) for category, counts in samples.items() for n in counts):
            text = t.ngettext(singular, plural, n, **VALUES)
            checked += 1
            shown = text.replace(FSI, "").replace(PDI, "")
            if not text.strip():
                problems.append(f"{singular!r} is empty for {n} ({category})")
            elif n > 2 and "{n}" in plural and not re.search(rf"(?<!\d){n}(?!\d)", shown):
                problems.append(f"{singular!r} does not say {n} ({category}): {text!r}")
    return checked, problems


async def longest_button_label(language: str) -> str:
    wide, filtered = await search_results()
    labels: list[str] = []
    for draw in scenarios(translator(language), wide, filtered).values():
        screens = draw()
        for screen in screens if isinstance(screens, list) else [screens]:
            keyboard = screen.keyboard if isinstance(screen, View) else screen
            if isinstance(keyboard, InlineKeyboardMarkup):
                labels += [button.text for row in keyboard.inline_keyboard for button in row]
            elif isinstance(keyboard, ReplyKeyboardMarkup):
                labels += [button.text for row in keyboard.keyboard for button in row]
    return max((label for label in labels if LONG[:12] not in label), key=len)  # ours, not OCM's names


async def language_report() -> list[LanguageRow]:
    rows = []
    for language in available_languages():
        po = catalog(language)
        glossary = glossary_path(language)
        rows.append(
            LanguageRow(
                code=language,
                name=Locale.parse(language).get_display_name(language),
                entries=sum(1 for m in po if m.id and (all(m.string) if m.pluralizable else m.string)),
                plural_forms=po.num_plurals,
                plural_checks=plural_problems(language)[0],
                glossary_terms=len(read_glossary(glossary)) if glossary.exists() else None,
                longest_button=await longest_button_label(language),
            )
        )
    return rows


def readme_table() -> dict[str, list[str]]:
    """README's table of languages: code -> its cells."""
    section = README.read_text(encoding="utf-8").split("## Languages", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 5 and re.fullmatch(r"`[a-z]{2}`", cells[1]):
            rows[cells[1].strip("`")] = cells
    return rows


async def test_the_language_report_shows_twelve_complete_languages():
    rows = await language_report()
    heading = f"{'code':5} {'name':18} {'entries':>7} {'forms':>5} {'plurals checked':>15} {'glossary':>8}"
    print(f"\n{heading}  longest button")
    for row in rows:
        glossary = row.glossary_terms if row.glossary_terms is not None else "-"
        print(
            f"{row.code:5} {row.name:18} {row.entries:7} {row.plural_forms:5} {row.plural_checks:15} {glossary:>8}  "
            f"{row.longest_button!r} ({len(row.longest_button)})"
        )
    assert len(rows) == 12
    english = rows[0]
    assert english.code == "en"
    assert all(row.entries == english.entries for row in rows), [(r.code, r.entries) for r in rows]
    assert all(row.glossary_terms and row.glossary_terms >= 10 for row in rows[1:])
    # A button alone on its row shows about 50 characters on a phone before Telegram cuts it.
    assert all(len(row.longest_button) <= 50 for row in rows), [(r.code, r.longest_button) for r in rows]


@pytest.mark.parametrize("language", available_languages())
def test_every_plural_category_of_the_language_says_its_number(language):
    checked, problems = plural_problems(language)
    assert checked >= 2 * 16
    assert not problems, problems


def test_readme_lists_the_twelve_languages_as_the_catalogs_and_glossaries_are():
    table = readme_table()
    assert set(table) == set(available_languages())
    for code, cells in table.items():
        _name, _code, register, forms, terms = cells[:5]
        assert register, code
        assert int(forms) == catalog(code).num_plurals, code
        glossary = glossary_path(code)
        assert terms == (str(len(read_glossary(glossary))) if glossary.exists() else "—"), code
    assert "is being translated" not in README.read_text(encoding="utf-8")
