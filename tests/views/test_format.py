"""Numbers, distances, power, prices, dates and relative times in the driver's locale (Babel), and
right-to-left text that keeps numbers, units and Latin names readable (Unicode isolates)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from telegram import InlineKeyboardButton

from ocm_bot import i18n
from ocm_bot.domain.preferences import DistanceUnitChoice
from ocm_bot.i18n import DOMAIN, FSI, PDI, translator
from ocm_bot.views.cards import card
from ocm_bot.views.common import reading_order
from ocm_bot.views.format import ago, amount, coordinates, date, distance, power, price, radius
from tests.domain.samples import by_id

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
NBSP = "\u00a0"
KM = DistanceUnitChoice.KM


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "3.7 kW"), ("de", "3,7 kW"), ("fr", "3,7 kW"), ("es", "3,7 kW"), ("nl", "3,7 kW")],
)
def test_power_uses_the_locale_s_decimal_sign(language, expected):
    assert power(translator(language), 3.7) == expected


def test_distances_use_the_locale_s_numbers():
    assert distance(translator("de"), 1.46, DistanceUnitChoice.KM) == "1,5 km"
    assert distance(translator("fr"), 0.62, DistanceUnitChoice.KM) == "620 m"
    assert radius(translator("de"), 1500, DistanceUnitChoice.KM) == "1.500 km"
    assert amount(translator("de"), 1000, "V") == f"1.000{NBSP}V"


def test_relative_times_and_dates_read_in_the_driver_s_language():
    three_days_ago = NOW - timedelta(days=3)
    assert ago(translator("de"), three_days_ago, NOW) == "vor 3 Tagen"
    assert ago(translator("fr"), three_days_ago, NOW) == "il y a 3 jours"
    assert ago(translator("en"), three_days_ago, NOW) == "3 days ago"
    assert date(translator("de"), NOW) == "04.12.2026"
    assert date(translator("en"), NOW) == "Dec 4, 2026"


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "1 minute ago"), ("de", "vor 1 Minute"), ("nb", "for 1 minutt siden")]
)
def test_a_moment_ago_or_a_clock_slightly_ahead_reads_as_past_not_future(language, expected):
    """OCM's clock a second ahead of ours, or a charger verified seconds ago: never "in 0 seconds"."""
    t = translator(language)
    assert ago(t, NOW - timedelta(seconds=20), NOW) == expected
    assert ago(t, NOW + timedelta(seconds=2), NOW) == expected


@pytest.mark.parametrize(
    ("language", "text", "country", "expected"),
    [
        ("de", "£0.45/kWh", "GB", f"0,45{NBSP}£/kWh"),
        ("en", "£0.45/kWh", "GB", "£0.45/kWh"),
        ("en", "0,39 € per kWh", "DE", "€0.39/kWh"),
        ("fr", "EUR 0.359 /kWh", "FR", f"0,359{NBSP}€/kWh"),
        ("de", "$0.48/kWh", "US", f"0,48{NBSP}$/kWh"),
        ("de", "$0.48/kWh", None, None),  # which dollar? OCM's text as it is
        ("de", "Free", "GB", None),
        ("de", "£0.45/kWh, £1 connection fee", "GB", None),
    ],
)
def test_a_bare_price_is_formatted_for_the_locale_and_anything_else_left_alone(language, text, country, expected):
    assert price(translator(language), text, country) == expected


def test_a_german_card_shows_german_numbers_and_price():
    charger = by_id(100049)  # OCM: "£0.35/kWh"
    text = card(translator("de"), charger, now=NOW, unit=DistanceUnitChoice.KM, index=1, distance_km=1.26)
    assert "1,3 km" in text
    assert f"0,35{NBSP}£/kWh" in text and "£0.35" not in text
    assert "vor 4 Jahren" in text


# Right to left -----------------------------------------------------------------------------------


@pytest.fixture
def arabic(tmp_path, monkeypatch):
    """An Arabic catalog of a few messages (the real one comes from the translators)."""
    catalog = Catalog(locale="ar", domain=DOMAIN)
    catalog.add("Chargers near {place}", "شواحن قرب {place}")
    catalog.add("{n} kW", "{n} كيلوواط")
    catalog.add("{n} km", "{n} كم")
    catalog.add("Operator: {name}", "المشغل: {name}")
    for language in ("en", "ar"):
        folder = tmp_path / language / "LC_MESSAGES"
        folder.mkdir(parents=True)
        with (folder / f"{DOMAIN}.po").open("wb") as out:
            write_po(out, catalog if language == "ar" else Catalog(locale="en", domain=DOMAIN))
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    translator.cache_clear()
    yield translator("ar")
    translator.cache_clear()


def test_arabic_is_right_to_left_and_the_others_are_not(arabic):
    assert arabic.language == "ar" and arabic.rtl
    assert not translator("en").rtl


def test_a_latin_name_inside_an_arabic_sentence_is_isolated(arabic):
    assert arabic.gettext("Chargers near {place}", place="Leeds (UK)") == f"شواحن قرب {FSI}Leeds (UK){PDI}"


def test_numbers_with_units_are_isolated_in_arabic(arabic):
    assert power(arabic, 22) == f"{FSI}{FSI}22{PDI} كيلوواط{PDI}"
    assert distance(arabic, 12.3, DistanceUnitChoice.KM) == f"{FSI}{FSI}12{PDI} كم{PDI}"
    assert amount(arabic, 32, "A") == f"{FSI}32{NBSP}A{PDI}"


def test_an_arabic_card_isolates_the_charger_s_name_operator_and_distance(arabic):
    charger = by_id(100627)
    text = card(arabic, charger, now=NOW, unit=DistanceUnitChoice.KM, index=1, distance_km=12.3)
    assert f"<b>{FSI}" in text  # the Latin name, bold and isolated
    assert f"{FSI}{FSI}12{PDI} كم{PDI}" in text
    assert text.count(FSI) == text.count(PDI)


def test_an_isolated_name_is_escaped_once(arabic):
    charger = by_id(100627)
    named = replace(charger, address=replace(charger.address, title="Fish & Chips <Leeds>"))
    text = card(arabic, named, now=NOW, unit=DistanceUnitChoice.KM)
    assert f"<b>{FSI}Fish &amp; Chips &lt;Leeds&gt;{PDI}</b>" in text


def test_english_text_has_no_isolates():
    text = card(translator("en"), by_id(100627), now=NOW, unit=DistanceUnitChoice.KM, index=1, distance_km=12.3)
    assert FSI not in text and PDI not in text


def test_previous_stays_where_reading_starts(arabic):
    row = [InlineKeyboardButton("‹", callback_data="p"), InlineKeyboardButton("›", callback_data="n")]
    assert [b.callback_data for b in reading_order(arabic, row)] == ["n", "p"]
    assert [b.callback_data for b in reading_order(translator("de"), row)] == ["p", "n"]


def test_a_planned_charger_s_opening_date_is_a_local_date():
    from ocm_bot.ocm.models import StatusType
    from ocm_bot.views.details import details_text

    planned = replace(by_id(100627), status=StatusType(150, "Planned For Future Date", False), date_planned=NOW)
    assert "Eröffnung geplant für 04.12.2026" in details_text(translator("de"), planned, now=NOW, unit=KM)
    assert "opening planned for Dec 4, 2026" in details_text(translator("en"), planned, now=NOW, unit=KM)


@pytest.mark.parametrize("language", ["en", "de", "fr", "ar"])
def test_the_position_to_type_into_ocm_s_form_has_a_dot_in_every_language(language):
    from ocm_bot.views.missing import not_listed_view

    text = str(not_listed_view(translator(language), 53.8, -1.54).text)
    assert "<code>53.8000, -1.5400</code>" in text
    assert coordinates(-33.86882, 151.20929) == "-33.8688, 151.2093"


def test_no_view_formats_a_number_itself():
    """Numbers reach the driver through views/format.py (Babel), never through a Python format spec."""
    import ast
    from pathlib import Path

    views = Path(__file__).resolve().parents[2] / "ocm_bot" / "views"
    # Not for reading: coordinates in a maps URL, numbers travelling in callback data, and the
    # machine fields of a KML or GPX document (coordinates, power as data for the navigation app).
    machine_text = {
        ("cards.py", "navigation_url"),
        ("buttons.py", "arg"),
        ("export.py", "kml"),
        ("export.py", "_coordinate"),
    }
    found = []
    for path in views.rglob("*.py"):
        if path.name == "format.py":
            continue
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(function, ast.FunctionDef) or (path.name, function.name) in machine_text:
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
                    found.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "round":
                    found.append(f"{path.name}:{node.lineno} round()")
    assert found == []


def test_an_arabic_rating_starts_with_1_where_reading_starts(arabic):
    from ocm_bot.domain.checkin import CheckinDraft
    from ocm_bot.views.callbacks import CallbackCodec
    from ocm_bot.views.checkin import rating_screen

    draft = CheckinDraft.start(charger_id=1, charger_name="Lidl", chat_id=7)
    codec = CallbackCodec(b"k" * 32)
    arabic_row = rating_screen(arabic, codec, draft).keyboard.inline_keyboard[0]
    english_row = rating_screen(translator("en"), codec, draft).keyboard.inline_keyboard[0]
    assert [b.text for b in arabic_row] == ["5", "4", "3", "2", "1"]
    assert [b.text for b in english_row] == ["1", "2", "3", "4", "5"]
