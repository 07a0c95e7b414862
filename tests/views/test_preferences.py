"""The /settings screens as a driver sees them: values, ✓ marks, buttons that come back intact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from telegram import InlineKeyboardMarkup

from ocm_bot.domain.preferences import DistanceUnitChoice, UsageChoice, UserPreferences
from ocm_bot.domain.preferences_edit import Setting, apply_choice
from ocm_bot.i18n import translator
from ocm_bot.ocm.models import Operator
from ocm_bot.ocm.reference import ReferenceData
from ocm_bot.views.callbacks import MAX_CALLBACK_BYTES, Callback, CallbackCodec, InvalidCallback
from ocm_bot.views.preferences import (
    AccountChoice,
    MenuContext,
    Screen,
    closed_menu,
    forget_confirmation,
    language_name,
    operator_matches,
    read_account_button,
    read_settings_button,
    render,
)

REFERENCE_FILE = Path(__file__).resolve().parents[3] / "shared" / "ocm" / "referencedata.json"
CODEC = CallbackCodec(b"test key")


@pytest.fixture(scope="module")
def reference() -> ReferenceData:
    return ReferenceData.from_json(json.loads(REFERENCE_FILE.read_text()))


def menu(prefs: UserPreferences, reference: ReferenceData, *, language: str = "en", **changes) -> MenuContext:
    values = {
        "t": translator(language),
        "prefs": prefs,
        "reference": reference,
        "codec": CODEC,
        "automatic_unit": DistanceUnitChoice.KM,
        "telegram_language": "en",
        "languages": ("en", "de"),
    }
    values.update(changes)
    return MenuContext(**values)


def buttons(keyboard: InlineKeyboardMarkup | None) -> list[tuple[str, str]]:
    assert keyboard is not None
    return [(button.text, button.callback_data) for row in keyboard.inline_keyboard for button in row]


def labels(keyboard: InlineKeyboardMarkup | None) -> list[str]:
    return [text for text, _ in buttons(keyboard)]


def press(keyboard: InlineKeyboardMarkup | None, text: str):
    """What the bot reads back when the driver taps the button labelled ``text``."""
    data = dict(buttons(keyboard))[text]
    return read_settings_button(CODEC.decode(data))


def test_the_overview_shows_every_setting_with_its_value(reference):
    prefs = UserPreferences(
        min_power_kw=50, connection_type_ids=frozenset({33}), operator_ids=frozenset({3464}), page_size=8
    )
    text = render(Screen.MAIN, menu(prefs, reference)).text
    assert "Minimum power: <b>≥ 50 kW</b>" in text
    assert "Plugs: <b>CCS (Type 2)</b>" in text
    assert "Operators: <b>ALDI SÜD</b>" in text
    assert "Access: <b>Public, including membership</b>" in text
    assert "Working chargers only: <b>on</b>" in text
    assert "Open data only: <b>off</b>" in text
    assert "Radius: <b>10 km</b>" in text
    assert "Distance unit: <b>automatic (kilometres)</b>" in text
    assert "Results per page: <b>8</b>" in text
    assert "Language: <b>as in Telegram (English)</b>" in text


def test_the_overview_marks_the_toggles_that_are_on(reference):
    keyboard = render(Screen.MAIN, menu(UserPreferences(), reference)).keyboard
    assert "✓ Working chargers only" in labels(keyboard)
    assert "Open data only" in labels(keyboard)
    prefs = UserPreferences(operational_only=False, open_data_only=True)
    keyboard = render(Screen.MAIN, menu(prefs, reference)).keyboard
    assert "Working chargers only" in labels(keyboard)
    assert "✓ Open data only" in labels(keyboard)


def test_power_menu_marks_the_current_minimum_and_its_buttons_set_it(reference):
    keyboard = render(Screen.POWER, menu(UserPreferences(min_power_kw=50), reference)).keyboard
    assert labels(keyboard) == [
        "Any power", "3.7 kW", "7 kW", "11 kW", "22 kW", "✓ 50 kW", "100 kW", "150 kW", "350 kW", "‹ Back"
    ]  # fmt: skip
    choice = press(keyboard, "150 kW")
    assert apply_choice(UserPreferences(), choice.setting, *choice.values).min_power_kw == 150
    assert press(keyboard, "‹ Back").screen is Screen.MAIN


def test_any_power_is_marked_for_a_new_driver(reference):
    assert "✓ Any power" in labels(render(Screen.POWER, menu(UserPreferences(), reference)).keyboard)


def test_connectors_menu_is_a_multi_select_with_any(reference):
    prefs = UserPreferences(connection_type_ids=frozenset({33, 25, 1036}))
    keyboard = render(Screen.CONNECTORS, menu(prefs, reference)).keyboard
    shown = labels(keyboard)
    assert "✓ CCS (Type 2)" in shown and "✓ Type 2" in shown
    assert "CHAdeMO" in shown and "Any plug" in shown
    choice = press(keyboard, "CHAdeMO")
    assert choice.setting is Setting.CONNECTORS
    assert apply_choice(prefs, choice.setting, *choice.values).connection_type_ids == {33, 25, 1036, 2}
    assert "✓ Any plug" in labels(render(Screen.CONNECTORS, menu(UserPreferences(), reference)).keyboard)


def test_a_selected_type_outside_the_common_groups_is_shown_and_removable(reference):
    prefs = UserPreferences(connection_type_ids=frozenset({21}))
    keyboard = render(Screen.CONNECTORS, menu(prefs, reference)).keyboard
    choice = press(keyboard, "✓ XLR Plug (4 pin)")
    assert apply_choice(prefs, choice.setting, *choice.values).connection_type_ids == frozenset()


def test_usage_unit_page_size_and_language_menus_mark_the_current_value(reference):
    prefs = UserPreferences(usage=UsageChoice.PUBLIC_ONLY, unit=DistanceUnitChoice.MILES, page_size=3, language="de")
    assert "✓ Public only" in labels(render(Screen.USAGE, menu(prefs, reference)).keyboard)
    assert "✓ Miles" in labels(render(Screen.UNIT, menu(prefs, reference)).keyboard)
    assert "✓ 3" in labels(render(Screen.PAGE_SIZE, menu(prefs, reference)).keyboard)
    assert "✓ Deutsch" in labels(render(Screen.LANGUAGE, menu(prefs, reference)).keyboard)
    automatic = UserPreferences()
    assert "✓ Automatic (kilometres)" in labels(render(Screen.UNIT, menu(automatic, reference)).keyboard)
    assert "✓ As in Telegram (English)" in labels(render(Screen.LANGUAGE, menu(automatic, reference)).keyboard)


def test_the_language_menu_lists_every_language_with_a_catalog_by_its_own_name(reference):
    keyboard = render(Screen.LANGUAGE, menu(UserPreferences(), reference, languages=("en", "de", "fr"))).keyboard
    assert {"English", "Deutsch", "Français"} <= set(labels(keyboard))
    choice = press(keyboard, "Deutsch")
    assert apply_choice(UserPreferences(), choice.setting, *choice.values, languages=("en", "de")).language == "de"


def test_radius_is_offered_in_the_driver_s_unit(reference):
    miles = render(Screen.RADIUS, menu(UserPreferences(unit=DistanceUnitChoice.MILES), reference)).keyboard
    assert labels(miles)[:5] == ["1 mi", "3 mi", "5 mi", "15 mi", "30 mi"]
    km = render(Screen.RADIUS, menu(UserPreferences(), reference)).keyboard
    assert labels(km)[:5] == ["2 km", "5 km", "✓ 10 km", "25 km", "50 km"]
    choice = press(miles, "5 mi")
    prefs = apply_choice(UserPreferences(), choice.setting, *choice.values)
    overview = render(Screen.MAIN, menu(prefs, reference, automatic_unit=DistanceUnitChoice.MILES))
    assert "Radius: <b>5 mi</b>" in overview.text


def test_the_operators_menu_lists_the_chosen_networks_and_offers_a_search(reference):
    prefs = UserPreferences(operator_ids=frozenset({3464}))
    keyboard = render(Screen.OPERATORS, menu(prefs, reference)).keyboard
    assert labels(keyboard) == ["✓ ALDI SÜD", "🔎 Add an operator", "Any operator", "‹ Back"]
    assert press(keyboard, "🔎 Add an operator").screen is Screen.OPERATOR_SEARCH
    prompt = render(Screen.OPERATOR_SEARCH, menu(prefs, reference))
    assert "Type the operator's name" in prompt.text


def test_without_reference_data_the_operator_search_says_so(reference):
    view = render(Screen.OPERATOR_SEARCH, menu(UserPreferences(), ReferenceData()))
    assert "could not load the list of operators" in view.text


def test_operator_matches_mark_the_chosen_ones_and_escape_names():
    operators = [Operator(7, "<b>Evil</b> & Co"), Operator(8, "Good Energy")]
    view = operator_matches(
        translator("en"), UserPreferences(operator_ids=frozenset({8})), "<script>", operators, CODEC
    )
    assert "&lt;script&gt;" in view.text and "<script>" not in view.text
    assert labels(view.keyboard)[:2] == ["<b>Evil</b> & Co", "✓ Good Energy"]  # button text is plain text
    nothing = operator_matches(translator("en"), UserPreferences(), "zzz", [], CODEC)
    assert "No operator matches" in nothing.text


def test_ocm_names_are_html_escaped_in_the_overview():
    reference = ReferenceData(operators={5: Operator(5, "A<b>&")})
    text = render(Screen.MAIN, menu(UserPreferences(operator_ids=frozenset({5})), reference)).text
    assert "A&lt;b&gt;&amp;" in text


def test_many_operators_are_summarised(reference):
    ids = frozenset(sorted(reference.operators)[10:15])
    text = render(Screen.MAIN, menu(UserPreferences(operator_ids=ids), reference)).text
    assert "and 2 more" in text


@pytest.mark.parametrize("screen", list(Screen))
def test_every_button_fits_telegram_s_64_bytes_and_decodes(reference, screen):
    operators = frozenset(sorted(reference.operators)[-10:])
    prefs = UserPreferences(operator_ids=operators, connection_type_ids=frozenset({1043}))
    for _, data in buttons(render(screen, menu(prefs, reference)).keyboard):
        assert len(data.encode()) <= MAX_CALLBACK_BYTES
        read_settings_button(CODEC.decode(data))


def test_forged_or_foreign_settings_buttons_are_refused():
    with pytest.raises(InvalidCallback):
        read_settings_button(CODEC.decode("st|s|pw|50|AAAAAAAA"))
    for callback in [
        Callback("st", ("v", "nowhere")),
        Callback("st", ("s", "zz", "1")),
        Callback("st", ("s",)),
        Callback("st", ()),
        Callback("st", ("x", "extra")),
        Callback("pg", ("v", "m")),
    ]:
        with pytest.raises(InvalidCallback):
            read_settings_button(callback)


def test_the_whole_menu_is_in_german_for_a_german_driver(reference):
    prefs = UserPreferences(min_power_kw=3.7, connection_type_ids=frozenset({33}), language="de")
    view = render(Screen.MAIN, menu(prefs, reference, language="de"))
    assert "⚙️ Einstellungen" in view.text
    assert "Mindestleistung: <b>≥ 3,7 kW</b>" in view.text
    assert "Stecker: <b>CCS (Typ 2)</b>" in view.text
    assert "Sprache: <b>Deutsch</b>" in view.text
    assert "🌐 Sprache" in labels(view.keyboard)


def test_done_leaves_a_summary_without_buttons(reference):
    prefs = UserPreferences(min_power_kw=50, connection_type_ids=frozenset({33}))
    view = closed_menu(translator("en"), prefs, reference, unit=DistanceUnitChoice.KM)
    assert view.keyboard is None
    assert "Minimum power: <b>≥ 50 kW</b>" in view.text
    assert "Plugs: <b>CCS (Type 2)</b>" in view.text
    assert "Radius: <b>10 km</b>" in view.text


def test_settings_saved_lists_every_active_filter(reference):
    ionity = next(op.id for op in reference.operators.values() if op.title.casefold() == "ionity")
    prefs = UserPreferences(
        min_power_kw=50,
        connection_type_ids=frozenset({33, 2}),
        level_ids=frozenset({3}),
        operator_ids=frozenset({ionity}),
        usage=UsageChoice.PUBLIC_ONLY,
        operational_only=True,
        open_data_only=True,
        radius_km=25,
    )
    text = closed_menu(translator("en"), prefs, reference, unit=DistanceUnitChoice.KM).text
    for line in [
        "Minimum power: <b>≥ 50 kW</b>",
        "Plugs: <b>CCS (Type 2), CHAdeMO</b>",
        "Charging level: <b>Level 3 · rapid, over 40 kW</b>",
        "Operators: <b>Ionity</b>",
        "Access: <b>Public only</b>",
        "Working chargers only: <b>on</b>",
        "Open data only: <b>on</b>",
        "Radius: <b>25 km</b>",
    ]:
        assert line in text.splitlines(), line


def test_settings_saved_leaves_out_filters_that_are_off(reference):
    prefs = UserPreferences(usage=UsageChoice.INCLUDE_RESTRICTED, operational_only=False)
    text = closed_menu(translator("de"), prefs, reference, unit=DistanceUnitChoice.MILES).text
    assert "Umkreis: <b>6,2 mi</b>" in text
    for name in ("Mindestleistung", "Stecker:", "Betreiber", "Zugang", "Nur funktionierende"):
        assert name not in text
    assert "Keine Filter" in text


def test_forget_asks_before_deleting_and_its_buttons_come_back():
    view = forget_confirmation(translator("en"), CODEC)
    assert "Delete everything I store about you?" in view.text
    choices = {text: read_account_button(CODEC.decode(data)) for text, data in buttons(view.keyboard)}
    assert choices == {"🗑 Delete everything": AccountChoice.FORGET, "Cancel": AccountChoice.KEEP}
    with pytest.raises(InvalidCallback):
        read_account_button(Callback("ac", ("boom",)))


@pytest.mark.parametrize(("code", "name"), [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("zz", "zz")])
def test_language_names(code, name):
    assert language_name(code) == name


def test_a_partly_chosen_group_is_named_by_ocm_s_titles(reference):
    prefs = UserPreferences(connection_type_ids=frozenset({25, 33}))  # Type 2 socket without the cable
    text = render(Screen.MAIN, menu(prefs, reference)).text
    assert "Plugs: <b>CCS (Type 2), Type 2 (Socket Only)</b>" in text


def test_charging_level_menu_marks_the_chosen_levels(reference):
    prefs = UserPreferences(level_ids=frozenset({3}))
    keyboard = render(Screen.LEVELS, menu(prefs, reference)).keyboard
    assert labels(keyboard) == [
        "Level 1 · slow, under 2 kW", "Level 2 · over 2 kW", "✓ Level 3 · rapid, over 40 kW", "Any level", "‹ Back"
    ]  # fmt: skip
    choice = press(keyboard, "Level 2 · over 2 kW")
    assert apply_choice(prefs, choice.setting, *choice.values).level_ids == {2, 3}
    assert "Charging level: <b>Level 3 · rapid, over 40 kW</b>" in render(Screen.MAIN, menu(prefs, reference)).text
    assert "Charging level: <b>any level</b>" in render(Screen.MAIN, menu(UserPreferences(), reference)).text


def test_a_very_long_operator_query_is_shortened_in_the_answer():
    view = operator_matches(translator("en"), UserPreferences(), "x" * 5000, [], CODEC)
    assert len(view.text) < 300
    assert "x…”" in view.text


def test_the_automatic_unit_is_named_when_the_region_is_known(reference):
    unknown = menu(UserPreferences(), reference, automatic_unit=None)
    assert "Distance unit: <b>automatic (by country)</b>" in render(Screen.MAIN, unknown).text
    assert "✓ Automatic (by country)" in labels(render(Screen.UNIT, unknown).keyboard)
    assert "Radius: <b>10 km</b>" in render(Screen.MAIN, unknown).text
    british = menu(UserPreferences(), reference, automatic_unit=DistanceUnitChoice.MILES)
    assert "Distance unit: <b>automatic (miles)</b>" in render(Screen.MAIN, british).text
    assert "Radius: <b>6.2 mi</b>" in render(Screen.MAIN, british).text


def test_the_radius_reads_as_in_the_results_header(reference):
    from ocm_bot.views.format import radius

    fifteen_miles = apply_choice(UserPreferences(), Setting.RADIUS, "15", "mi")
    overview = render(Screen.MAIN, menu(fifteen_miles, reference, automatic_unit=DistanceUnitChoice.KM)).text
    assert "Radius: <b>24 km</b>" in overview
    assert radius(translator("en"), fifteen_miles.radius_km, DistanceUnitChoice.KM) == "24 km"
