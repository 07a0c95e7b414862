"""Translations (gettext catalogs under ``ocm_bot/locales/``) and locale-aware formatting.

Every user-facing string goes through a :class:`Translator`; message ids are the English text, and
placeholders are filled with ``str.format`` after translation, so translators can move them::

    t = translator("de")
    t.gettext("Chargers near {place}", place=escaped_place)
    t.ngettext("{n} charger", "{n} chargers", n)
    t.number(3.7)            # "3,7"

``python -m ocm_bot.i18n extract`` refreshes the catalogs from the code (English is filled with the
message ids, so it is always complete). The ``.po`` files are the one truth and ship inside the
package: each is compiled in memory the first time its language is used (about 30 ms), so an
installed wheel, a container or a Procfile platform speaks every language with no build step.
``python -m ocm_bot.i18n check`` compiles them all and fails on a broken catalog.
"""

from __future__ import annotations

import gettext as _gettext
import io
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, cached_property
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_timedelta
from babel.numbers import format_decimal

DOMAIN = "ocm_bot"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"
SOURCE_LANGUAGE = "en"


# Functions whose string arguments are message ids: the translator's own, ``N_`` for constants, and
# the typed-HTML helpers in ``views.html`` (whose first argument is the translator).
EXTRACTION_KEYWORDS = {
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
    "gettext_html": (2,),
    "ngettext_html": (2, 3),
}


def N_(message: str) -> str:
    """Mark a constant for extraction; translate it later with ``Translator.gettext``."""
    return message


def available_languages() -> tuple[str, ...]:
    """Languages with a catalog, source language first."""
    found = sorted(p.parent.parent.name for p in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (SOURCE_LANGUAGE, *(lang for lang in found if lang != SOURCE_LANGUAGE))


# Language codes that mean a language we write under another code: Telegram's clients send "no" for
# Norwegian, and Nynorsk readers read Bokmål far better than a fallback to English.
LANGUAGE_ALIASES = {"no": "nb", "nn": "nb"}


def negotiate_language(*candidates: str | None, default: str = SOURCE_LANGUAGE) -> str:
    """The first candidate (override, Telegram ``language_code`` like ``pt-br``) we have a catalog for.

    A regional code falls back to its language (``pt-BR`` -> ``pt``), an alias to the language we
    write (``no``, ``nn`` -> ``nb``); without a match, ``default`` (the bot's ``DEFAULT_LANGUAGE``).
    """
    languages = available_languages()
    for candidate in candidates:
        if not candidate:
            continue
        code = candidate.replace("-", "_").lower()
        base = code.split("_")[0]
        for option in (code, base, LANGUAGE_ALIASES.get(base)):
            match = next((lang for lang in languages if lang.lower() == option), None)
            if match:
                return match
    return default if default in languages else SOURCE_LANGUAGE


# Unicode bidirectional isolates: text between FSI and PDI is laid out on its own (its direction from
# its first strong character), so a Latin name or "3.7 kW" inside an Arabic sentence neither flips
# nor drags the punctuation around it.
FSI = "\u2068"
PDI = "\u2069"


def isolate(text: str) -> str:
    """``text`` between FSI and PDI (once: text that is one isolate already stays as it is)."""
    return text if not text or _one_isolate(text) else f"{FSI}{text}{PDI}"


def _one_isolate(text: str) -> bool:
    if not (text.startswith(FSI) and text.endswith(PDI)):
        return False
    depth = 0
    for position, char in enumerate(text):
        if char in "\u2066\u2067\u2068":
            depth += 1
        elif char == PDI:
            depth -= 1
            if depth == 0:
                return position == len(text) - 1
    return False


@dataclass(frozen=True)
class Translator:
    """Translates and formats for one language.

    In a right-to-left language (Arabic) every placeholder value is isolated (:func:`isolate`), so
    names, numbers and units filled into a translated sentence read in their own direction.
    """

    language: str
    _catalog: _gettext.NullTranslations

    def gettext(self, message: str, /, **values: object) -> str:
        text = self._catalog.gettext(message)
        return text.format(**self._placed(values)) if values else text

    def ngettext(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        text = self._catalog.ngettext(singular, plural, n)
        return text.format(**self._placed({"n": n, **values}))

    def _placed(self, values: dict[str, object]) -> dict[str, object]:
        if not self.rtl:
            return values
        # A value that is its own placeholder is filled later (views.html.gettext_html), isolated then.
        return {name: value if value == f"{{{name}}}" else isolate(str(value)) for name, value in values.items()}

    @cached_property
    def locale(self) -> Locale:
        try:
            return Locale.parse(self.language)
        except (UnknownLocaleError, ValueError):
            return Locale.parse(SOURCE_LANGUAGE)

    @cached_property
    def rtl(self) -> bool:
        """The language is written right to left (Arabic)."""
        return self.locale.character_order == "right-to-left"

    def number(self, value: float, *, digits: int = 1) -> str:
        """A number with at most ``digits`` decimals, in the user's locale ("3.7", "3,7", "50")."""
        pattern = "#,##0." + "#" * digits if digits else "#,##0"
        return format_decimal(value, format=pattern, locale=self.locale)

    def ago(self, moment: datetime, *, now: datetime) -> str:
        """How long ago, in words ("3 days ago")."""
        delta: timedelta = moment - now
        return format_timedelta(delta, add_direction=True, threshold=1.0, locale=self.locale)


@cache
def translator(language: str | None = None) -> Translator:
    """The translator for ``language`` (falls back to English where a catalog is missing)."""
    lang = negotiate_language(language)
    return Translator(lang, _load_catalog(lang))


def _load_catalog(language: str) -> _gettext.NullTranslations:
    """The language's ``.po`` compiled in memory; no catalog means the message ids (English)."""
    po_path = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        return _gettext.NullTranslations()
    return _gettext.GNUTranslations(io.BytesIO(_compile(po_path, language)))


def _compile(po_path: Path, language: str) -> bytes:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    return compiled.getvalue()


# Catalog maintenance -----------------------------------------------------------------------------


def _po_files() -> Iterable[Path]:
    return sorted(LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def check_catalogs() -> int:
    """Compile every catalog (in memory); returns how many, raising on a broken one."""
    files = list(_po_files())
    for po_path in files:
        _compile(po_path, po_path.parent.parent.name)
    translator.cache_clear()
    return len(files)


def extract_catalogs(languages: Iterable[str] = ()) -> None:
    """Extract message ids from the package and update (or create) every catalog."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po, write_po

    package_dir = Path(__file__).resolve().parent
    extracted = list(
        extract_from_dir(
            str(package_dir),
            method_map=[("**.py", "python")],
            keywords=EXTRACTION_KEYWORDS,
        )
    )

    def template() -> Catalog:
        # A fresh one per language: Catalog.update shares the template's message objects, so
        # filling English into a shared template would fill the other languages too.
        fresh = Catalog(project="ocm-bot", domain=DOMAIN)
        for filename, lineno, message, comments, context in extracted:
            fresh.add(message, None, [(f"ocm_bot/{filename}", lineno)], auto_comments=comments, context=context)
        return fresh

    wanted = set(languages) | {p.parent.parent.name for p in _po_files()} | {SOURCE_LANGUAGE}
    for lang in sorted(wanted):
        po_path = LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        if po_path.exists():
            with po_path.open("rb") as handle:
                catalog = read_po(handle, locale=lang)
        else:
            po_path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=lang, project="ocm-bot", domain=DOMAIN)
        catalog.update(template(), no_fuzzy_matching=True)
        catalog.obsolete.clear()
        if lang == SOURCE_LANGUAGE:
            for message in catalog:
                if not message.id:
                    continue
                if isinstance(message.id, tuple):
                    if not any(message.string or ()):
                        message.string = message.id
                elif not message.string:
                    message.string = message.id
        with po_path.open("wb") as out:
            write_po(out, catalog, width=100, sort_output=False, omit_header=False)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "check":
        print(f"{check_catalogs()} catalogs compile")
        return 0
    if command == "extract":
        extract_catalogs(argv[1:])
        return 0
    print("usage: python -m ocm_bot.i18n {check | extract [LANG ...]}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
