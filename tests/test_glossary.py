"""Each language keeps one word per idea: its glossary (``locales/<lang>/glossary.md``) names the
forms a translation may use for an English term, and every translated message whose English text
uses the term must use one of them.

A glossary is a Markdown table whose first three columns are the English term (matched as the start
of a word, case-insensitively: ``charger`` also matches "chargers"), the allowed forms in the
language (comma-separated; any one of them must appear in the translation, case-insensitively, so a
stem covers its inflections) and a note. A message where the term cannot appear in good prose (a
pronoun does the job) carries the translator comment ``# glossary-ok: <term>``. Placeholders
(``{radius}``) and command names (``/settings``) in the English text are not uses of a term, and
OCM's names of plug, current and status types (``views/ocm_vocabulary.py``, "Type 2 (Tethered
Connector)") are proper names a translation renders as drivers there know them, not prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from ocm_bot.i18n import DOMAIN, LOCALES_DIR, SOURCE_LANGUAGE, available_languages


@dataclass(frozen=True)
class Term:
    english: str
    forms: tuple[str, ...]


def glossary_path(language: str) -> Path:
    return LOCALES_DIR / language / "glossary.md"


def read_glossary(path: Path) -> list[Term]:
    terms = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.lstrip().startswith("|") or len(cells) < 2:
            continue
        english, forms = cells[0].strip("` "), cells[1]
        if not english or set(english) <= {"-", ":"} or english.lower() in {"english", "term"}:
            continue
        terms.append(Term(english.lower(), tuple(f.strip().lower() for f in forms.split(",") if f.strip())))
    return terms


def term_pattern(english: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(english)}", re.IGNORECASE)


# Placeholders ("{radius}") and command names ("/settings") are not words a translator chooses
NOT_PROSE = re.compile(r"\{[^{}]*\}|(?<![\w/])/[a-z_]+")


def is_ocm_vocabulary(locations: list[tuple[str, int | None]]) -> bool:
    return bool(locations) and all(path.endswith("views/ocm_vocabulary.py") for path, _line in locations)


def prose(msgid: str) -> str:
    return NOT_PROSE.sub(" ", msgid)


TRANSLATED_LANGUAGES = [lang for lang in available_languages() if lang != SOURCE_LANGUAGE]


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_translated_language_has_a_glossary(language):
    path = glossary_path(language)
    assert path.exists(), f"locales/{language}/glossary.md is missing"
    terms = read_glossary(path)
    assert len(terms) >= 10, f"locales/{language}/glossary.md lists only {len(terms)} terms"
    assert all(term.forms for term in terms), [term.english for term in terms if not term.forms]


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_translations_use_the_glossary_terms(language):
    path = glossary_path(language)
    if not path.exists():
        pytest.fail(f"locales/{language}/glossary.md is missing")
    terms = read_glossary(path)
    with (LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    offending = []
    for message in catalog:
        if not message.id or not message.string or is_ocm_vocabulary(message.locations):
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        excused = " ".join(message.user_comments).lower()
        for term in terms:
            if not any(term_pattern(term.english).search(prose(msgid)) for msgid in ids):
                continue
            if f"glossary-ok: {term.english}" in excused:
                continue
            for translated in strings:
                if translated and not any(form in translated.lower() for form in term.forms):
                    offending.append((term.english, ids[0], translated))
    assert not offending, f"{len(offending)} translations in {language} leave the glossary: {offending[:8]}"
