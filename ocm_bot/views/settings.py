"""The /settings menus, /language, /forget and /privacy: texts and keyboards (pure functions).

Every screen is one message that the handlers edit in place. Buttons carry signed callback data
``st|v|<screen>`` (show a screen) or ``st|s|<setting>|<value>...`` (change a setting); account
buttons are ``ac|...``. Every choice shows ✓ on the current value.

Example::

    menu = MenuContext(t, prefs, reference, codec, automatic_unit=DistanceUnitChoice.KM,
                       telegram_language="en", languages=available_languages())
    view = render(Screen.POWER, menu)
    await query.edit_message_text(view.text, parse_mode="HTML", reply_markup=view.keyboard)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape as escape_html

from babel import Locale, UnknownLocaleError
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ocm_bot.domain.filters import FilterKey, active_filters
from ocm_bot.domain.preferences import PAGE_SIZES, POWER_STEPS_KW, DistanceUnitChoice, UsageChoice, UserPreferences
from ocm_bot.domain.settings_edit import (
    ANY,
    AUTOMATIC,
    COMMON_CONNECTORS,
    Setting,
    is_group_selected,
    other_connection_type_ids,
    radius_choices,
)
from ocm_bot.i18n import N_, Translator
from ocm_bot.ocm.models import Operator
from ocm_bot.ocm.reference import ReferenceData
from ocm_bot.views.callbacks import Callback, CallbackCodec, InvalidCallback
from ocm_bot.views.common import View
from ocm_bot.views.format import radius as format_radius

SETTINGS_ACTION = "st"
ACCOUNT_ACTION = "ac"
SHOW = "v"
SET = "s"
CLOSE = "x"
CHECK = "✓ "
MAX_NAMES_IN_SUMMARY = 3
MAX_QUERY_SHOWN = 60


class Screen(enum.StrEnum):
    """The settings screens; the values travel in buttons."""

    MAIN = "m"
    POWER = "pw"
    CONNECTORS = "ct"
    LEVELS = "lv"
    USAGE = "us"
    OPERATORS = "or"
    OPERATOR_SEARCH = "os"
    RADIUS = "rd"
    UNIT = "un"
    PAGE_SIZE = "ps"
    LANGUAGE = "lg"


class AccountChoice(enum.StrEnum):
    FORGET = "fg"
    KEEP = "kp"


def escape(text: str) -> str:
    """Text for an HTML message (quotes stay as they are: they are not inside attributes)."""
    return escape_html(text, quote=False)


# Labels of the connector groups in ocm_bot.domain.settings_edit.COMMON_CONNECTORS.
CONNECTOR_LABELS: dict[str, str] = {
    "t2": N_("Type 2"),
    "c2": N_("CCS (Type 2)"),
    "ch": N_("CHAdeMO"),
    "t1": N_("Type 1 (J1772)"),
    "c1": N_("CCS (Type 1)"),
    "ts": N_("Tesla / NACS"),
    "gb": N_("GB/T"),
    "dm": N_("Domestic socket"),
}

# OCM's charging levels (ocm_bot.domain.settings_edit.LEVEL_IDS), named the way drivers know them.
LEVEL_LABELS: dict[int, str] = {
    1: N_("Level 1 · slow, under 2 kW"),
    2: N_("Level 2 · over 2 kW"),
    3: N_("Level 3 · rapid, over 40 kW"),
}

USAGE_LABELS: dict[UsageChoice, str] = {
    UsageChoice.PUBLIC_ONLY: N_("Public only"),
    UsageChoice.INCLUDE_MEMBERSHIP: N_("Public, including membership"),
    UsageChoice.INCLUDE_RESTRICTED: N_("All, including restricted"),
}


# Small labels (also usable in other views, e.g. a results header) --------------------------------


def power_label(t: Translator, power_kw: float | None) -> str:
    if power_kw is None:
        return t.gettext("any power")
    return t.gettext("≥ {power} kW", power=t.number(power_kw))


def distance_label(t: Translator, value: float, unit: DistanceUnitChoice) -> str:
    if unit is DistanceUnitChoice.MILES:
        return t.gettext("{distance} mi", distance=t.number(value))
    return t.gettext("{distance} km", distance=t.number(value))


def radius_label(t: Translator, radius_km: float, unit: DistanceUnitChoice) -> str:
    """The radius as the results header shows it ("6.2 mi", "24 km")."""
    return format_radius(t, radius_km, unit)


def connector_names(t: Translator, prefs: UserPreferences, reference: ReferenceData) -> list[str]:
    """One name per plug the driver picked: common groups by our (translated) name, any other
    type by OCM's title. A group such as Type 2 is one pick however many OCM types it holds."""
    groups = [group for group in COMMON_CONNECTORS if is_group_selected(prefs, group)]
    covered = set().union(*(group.connection_type_ids for group in groups))
    names = [t.gettext(CONNECTOR_LABELS[group.key]) for group in groups]
    names += [_connection_type_title(t, reference, type_id) for type_id in sorted(prefs.connection_type_ids - covered)]
    return names


def connectors_label(t: Translator, prefs: UserPreferences, reference: ReferenceData) -> str:
    """The chosen plugs: common groups by our name, any other type by OCM's title."""
    return _names_summary(t, connector_names(t, prefs, reference), empty=t.gettext("any plug"))


def short_level_name(t: Translator, level_id: int) -> str:
    """A charging level in a few characters ("level 3"), for filter chips."""
    return t.gettext("level {id}", id=level_id)


def levels_label(t: Translator, prefs: UserPreferences) -> str:
    names = [
        t.gettext(LEVEL_LABELS[level_id]) if level_id in LEVEL_LABELS else short_level_name(t, level_id)
        for level_id in sorted(prefs.level_ids)
    ]
    return _names_summary(t, names, empty=t.gettext("any level"))


def operators_label(t: Translator, prefs: UserPreferences, reference: ReferenceData) -> str:
    names = sorted((_operator_title(t, reference, op_id) for op_id in prefs.operator_ids), key=str.casefold)
    return _names_summary(t, names, empty=t.gettext("any operator"))


def language_name(code: str) -> str:
    """A language's own name for itself ("Deutsch", "English", "Français")."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (UnknownLocaleError, ValueError):
        return code
    return name[:1].upper() + name[1:]


def _names_summary(t: Translator, names: Sequence[str], *, empty: str) -> str:
    if not names:
        return empty
    shown = ", ".join(names[:MAX_NAMES_IN_SUMMARY])
    hidden = len(names) - MAX_NAMES_IN_SUMMARY
    if hidden > 0:
        return t.ngettext("{names} and {n} more", "{names} and {n} more", hidden, names=shown)
    return shown


def _connection_type_title(t: Translator, reference: ReferenceData, type_id: int) -> str:
    known = reference.connection_types.get(type_id)
    return known.title if known and known.title else t.gettext("plug #{id}", id=type_id)


def _operator_title(t: Translator, reference: ReferenceData, operator_id: int) -> str:
    known = reference.operators.get(operator_id)
    return known.title if known and known.title else t.gettext("operator #{id}", id=operator_id)


def _on_off(t: Translator, value: bool) -> str:
    return t.gettext("on") if value else t.gettext("off")


def _marked(label: str, current: bool) -> str:
    return CHECK + label if current else label


# Buttons --------------------------------------------------------------------------------------


def _show(codec: CallbackCodec, screen: Screen) -> str:
    return codec.encode(SETTINGS_ACTION, SHOW, screen.value)


def _set(codec: CallbackCodec, setting: Setting, *values: str | int) -> str:
    return codec.encode(SETTINGS_ACTION, SET, setting.value, *values)


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def _toggle(label: str, on: bool, data: str) -> InlineKeyboardButton:
    return _button(_marked(label, on), data)


def _rows(buttons: Iterable[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    items = list(buttons)
    return [items[start : start + width] for start in range(0, len(items), width)]


def _back(t: Translator, codec: CallbackCodec, screen: Screen = Screen.MAIN) -> list[InlineKeyboardButton]:
    return [_button(t.gettext("‹ Back"), _show(codec, screen))]


def _submenu(title: str, *lines: str) -> str:
    return "\n".join([f"<b>{escape(title)}</b>", *lines])


# Screens --------------------------------------------------------------------------------------


def main_menu(
    t: Translator,
    prefs: UserPreferences,
    reference: ReferenceData,
    codec: CallbackCodec,
    *,
    automatic_unit: DistanceUnitChoice | None,
    telegram_language: str,
) -> View:
    """The overview: every setting with its value, and a button to change each.

    ``automatic_unit`` is the unit used while the driver has not chosen one (None: it follows the
    searched place's country); ``telegram_language`` the language used while they have not chosen one.
    """
    unit = prefs.unit or automatic_unit or DistanceUnitChoice.KM
    if prefs.unit is not None:
        unit_value = _unit_name(t, prefs.unit)
    elif automatic_unit is None:
        unit_value = t.gettext("automatic (by country)")
    else:
        unit_value = t.gettext("automatic ({unit})", unit=_unit_name(t, automatic_unit))
    language_value = (
        t.gettext("as in Telegram ({language})", language=language_name(telegram_language))
        if prefs.language is None
        else language_name(prefs.language)
    )
    lines = [
        "<b>" + escape(t.gettext("⚙️ Settings")) + "</b>",
        "",
        _line(t.gettext("Minimum power"), power_label(t, prefs.min_power_kw)),
        _line(t.gettext("Plugs"), connectors_label(t, prefs, reference)),
        _line(t.gettext("Charging level"), levels_label(t, prefs)),
        _line(t.gettext("Operators"), operators_label(t, prefs, reference)),
        _line(t.gettext("Access"), t.gettext(USAGE_LABELS[prefs.usage])),
        _line(t.gettext("Working chargers only"), _on_off(t, prefs.operational_only)),
        _line(t.gettext("Open data only"), _on_off(t, prefs.open_data_only)),
        _line(t.gettext("Radius"), radius_label(t, prefs.radius_km, unit)),
        _line(t.gettext("Distance unit"), unit_value),
        _line(t.gettext("Results per page"), t.number(prefs.page_size, digits=0)),
        _line(t.gettext("Language"), language_value),
        "",
        escape(t.gettext("Tap a setting to change it. Your next search uses these settings.")),
    ]
    keyboard = [
        [
            _button(t.gettext("⚡ Minimum power"), _show(codec, Screen.POWER)),
            _button(t.gettext("🔌 Plugs"), _show(codec, Screen.CONNECTORS)),
        ],
        [
            _button(t.gettext("🔋 Charging level"), _show(codec, Screen.LEVELS)),
            _button(t.gettext("🔓 Access"), _show(codec, Screen.USAGE)),
        ],
        [_button(t.gettext("🏢 Operators"), _show(codec, Screen.OPERATORS))],
        [_toggle(t.gettext("Working chargers only"), prefs.operational_only, _set(codec, Setting.OPERATIONAL))],
        [_toggle(t.gettext("Open data only"), prefs.open_data_only, _set(codec, Setting.OPEN_DATA))],
        [
            _button(t.gettext("📏 Radius"), _show(codec, Screen.RADIUS)),
            _button(t.gettext("📐 Distance unit"), _show(codec, Screen.UNIT)),
        ],
        [
            _button(t.gettext("📄 Results per page"), _show(codec, Screen.PAGE_SIZE)),
            _button(t.gettext("🌐 Language"), _show(codec, Screen.LANGUAGE)),
        ],
        [
            _button(t.gettext("↺ Reset filters"), _set(codec, Setting.RESET)),
            _button(t.gettext("Done"), codec.encode(SETTINGS_ACTION, CLOSE)),
        ],
    ]
    return View("\n".join(lines), InlineKeyboardMarkup(keyboard))


def _line(name: str, value: str) -> str:
    return f"{escape(name)}: <b>{escape(value)}</b>"


def _automatic_unit(t: Translator, automatic: DistanceUnitChoice | None) -> str:
    if automatic is None:
        return t.gettext("Automatic (by country)")
    return t.gettext("Automatic ({unit})", unit=_unit_name(t, automatic))


def _unit_name(t: Translator, unit: DistanceUnitChoice) -> str:
    return t.gettext("miles") if unit is DistanceUnitChoice.MILES else t.gettext("kilometres")


def closed_menu(t: Translator, prefs: UserPreferences, reference: ReferenceData, *, unit: DistanceUnitChoice) -> View:
    """What the settings message becomes after "Done": every active filter and the radius, no buttons."""
    named = {
        FilterKey.MIN_POWER: (t.gettext("Minimum power"), power_label(t, prefs.min_power_kw)),
        FilterKey.CONNECTORS: (t.gettext("Plugs"), connectors_label(t, prefs, reference)),
        FilterKey.LEVELS: (t.gettext("Charging level"), levels_label(t, prefs)),
        FilterKey.OPERATORS: (t.gettext("Operators"), operators_label(t, prefs, reference)),
        FilterKey.USAGE: (t.gettext("Access"), t.gettext(USAGE_LABELS[prefs.usage])),
        FilterKey.OPERATIONAL: (t.gettext("Working chargers only"), _on_off(t, True)),
        FilterKey.OPEN_DATA: (t.gettext("Open data only"), _on_off(t, True)),
    }
    # Every filter the search applies (ocm_bot.domain.filters decides which are active), none left out.
    lines = [_line(*named[key]) for key in active_filters(prefs)]
    if not lines:
        lines = [escape(t.gettext("No filters: every charger is shown."))]
    return View(
        "\n".join(
            [
                "<b>" + escape(t.gettext("Settings saved")) + "</b>",
                *lines,
                _line(t.gettext("Radius"), radius_label(t, prefs.radius_km, unit)),
                "",
                escape(t.gettext("Send a location or an address to search. /settings changes them again.")),
            ]
        )
    )


def power_menu(t: Translator, prefs: UserPreferences, codec: CallbackCodec) -> View:
    buttons = [_button(_marked(t.gettext("Any power"), prefs.min_power_kw is None), _set(codec, Setting.POWER, ANY))]
    for step in POWER_STEPS_KW:
        label = t.gettext("{power} kW", power=t.number(step))
        buttons.append(_button(_marked(label, prefs.min_power_kw == step), _set(codec, Setting.POWER, _arg(step))))
    text = _submenu(
        t.gettext("Minimum power"),
        escape(t.gettext("Show chargers with at least one connector of this power or more.")),
    )
    return View(text, InlineKeyboardMarkup([*_rows(buttons, 3), _back(t, codec)]))


def connectors_menu(t: Translator, prefs: UserPreferences, reference: ReferenceData, codec: CallbackCodec) -> View:
    buttons = [
        _button(
            _marked(t.gettext(CONNECTOR_LABELS[group.key]), is_group_selected(prefs, group)),
            _set(codec, Setting.CONNECTORS, group.key),
        )
        for group in COMMON_CONNECTORS
    ]
    buttons += [
        _button(_marked(_connection_type_title(t, reference, type_id), True), _set(codec, Setting.CONNECTORS, type_id))
        for type_id in other_connection_type_ids(prefs)
    ]
    any_plug = _button(
        _marked(t.gettext("Any plug"), not prefs.connection_type_ids), _set(codec, Setting.CONNECTORS, ANY)
    )
    text = _submenu(
        t.gettext("Plugs"),
        escape(t.gettext("Tick every plug your car can use; chargers with any of them are shown.")),
    )
    return View(text, InlineKeyboardMarkup([*_rows(buttons, 2), [any_plug], _back(t, codec)]))


def levels_menu(t: Translator, prefs: UserPreferences, codec: CallbackCodec) -> View:
    rows = [
        [_button(_marked(t.gettext(label), level_id in prefs.level_ids), _set(codec, Setting.LEVELS, level_id))]
        for level_id, label in LEVEL_LABELS.items()
    ]
    any_level = _button(_marked(t.gettext("Any level"), not prefs.level_ids), _set(codec, Setting.LEVELS, ANY))
    text = _submenu(
        t.gettext("Charging level"),
        escape(t.gettext("Tick the levels you want; chargers with a connector of any of them are shown.")),
    )
    return View(text, InlineKeyboardMarkup([*rows, [any_level], _back(t, codec)]))


def usage_menu(t: Translator, prefs: UserPreferences, codec: CallbackCodec) -> View:
    rows = [
        [_button(_marked(t.gettext(label), prefs.usage is choice), _set(codec, Setting.USAGE, choice.value))]
        for choice, label in USAGE_LABELS.items()
    ]
    text = _submenu(
        t.gettext("Access"),
        escape(t.gettext("Which chargers to show: open to everyone, needing a membership card, or private.")),
    )
    return View(text, InlineKeyboardMarkup([*rows, _back(t, codec)]))


def operators_menu(t: Translator, prefs: UserPreferences, reference: ReferenceData, codec: CallbackCodec) -> View:
    selected = sorted(prefs.operator_ids, key=lambda op_id: _operator_title(t, reference, op_id).casefold())
    rows = [
        [_button(_marked(_operator_title(t, reference, op_id), True), _set(codec, Setting.OPERATORS, op_id))]
        for op_id in selected
    ]
    rows.append([_button(t.gettext("🔎 Add an operator"), _show(codec, Screen.OPERATOR_SEARCH))])
    rows.append(
        [_button(_marked(t.gettext("Any operator"), not prefs.operator_ids), _set(codec, Setting.OPERATORS, ANY))]
    )
    hint = (
        t.gettext("Only chargers of the ticked networks are shown. Tap one to remove it.")
        if selected
        else t.gettext("Chargers of every network are shown. Add an operator to see only theirs.")
    )
    text = _submenu(t.gettext("Operators"), escape(hint))
    return View(text, InlineKeyboardMarkup([*rows, _back(t, codec)]))


def operator_search_prompt(t: Translator, codec: CallbackCodec) -> View:
    text = _submenu(
        t.gettext("Operators"),
        escape(t.gettext("Type the operator's name, or part of it (for example: Ionity).")),
    )
    return View(text, InlineKeyboardMarkup([_back(t, codec, Screen.OPERATORS)]))


def operator_matches(
    t: Translator,
    prefs: UserPreferences,
    query: str,
    matches: Sequence[Operator],
    codec: CallbackCodec,
) -> View:
    """The operators found for what the driver typed; tapping one ticks or unticks it."""
    rows = [
        [
            _button(
                _marked(operator.title, operator.id in prefs.operator_ids),
                _set(codec, Setting.OPERATORS, operator.id),
            )
        ]
        for operator in matches
    ]
    shown = query.strip() if len(query.strip()) <= MAX_QUERY_SHOWN else query.strip()[: MAX_QUERY_SHOWN - 1] + "…"
    if matches:
        hint = t.gettext("Operators matching “{query}”. Tap to tick or untick.", query=shown)
    else:
        hint = t.gettext("No operator matches “{query}”. Try a shorter part of the name.", query=shown)
    text = _submenu(t.gettext("Operators"), escape(hint))
    rows.append([_button(t.gettext("🔎 Search again"), _show(codec, Screen.OPERATOR_SEARCH))])
    return View(text, InlineKeyboardMarkup([*rows, _back(t, codec, Screen.OPERATORS)]))


def operators_unavailable(t: Translator, codec: CallbackCodec) -> View:
    text = _submenu(
        t.gettext("Operators"),
        escape(t.gettext("I could not load the list of operators from Open Charge Map. Please try again in a minute.")),
    )
    return View(text, InlineKeyboardMarkup([_back(t, codec)]))


def radius_menu(t: Translator, prefs: UserPreferences, codec: CallbackCodec, *, unit: DistanceUnitChoice) -> View:
    buttons = [
        _button(
            _marked(distance_label(t, choice.value, unit), choice.is_current(prefs)),
            _set(codec, Setting.RADIUS, _arg(choice.value), unit.value),
        )
        for choice in radius_choices(unit)
    ]
    text = _submenu(t.gettext("Radius"), escape(t.gettext("How far from the place you send to look for chargers.")))
    return View(text, InlineKeyboardMarkup([*_rows(buttons, 3), _back(t, codec)]))


def unit_menu(
    t: Translator, prefs: UserPreferences, codec: CallbackCodec, *, automatic: DistanceUnitChoice | None
) -> View:
    choices: list[tuple[str, DistanceUnitChoice | None]] = [
        (_automatic_unit(t, automatic), None),
        (t.gettext("Kilometres"), DistanceUnitChoice.KM),
        (t.gettext("Miles"), DistanceUnitChoice.MILES),
    ]
    rows = [
        [_button(_marked(label, prefs.unit is value), _set(codec, Setting.UNIT, value.value if value else AUTOMATIC))]
        for label, value in choices
    ]
    text = _submenu(
        t.gettext("Distance unit"),
        escape(t.gettext("Automatic uses miles in the United States and the United Kingdom, kilometres elsewhere.")),
    )
    return View(text, InlineKeyboardMarkup([*rows, _back(t, codec)]))


def page_size_menu(t: Translator, prefs: UserPreferences, codec: CallbackCodec) -> View:
    buttons = [
        _button(_marked(t.number(size, digits=0), prefs.page_size == size), _set(codec, Setting.PAGE_SIZE, size))
        for size in PAGE_SIZES
    ]
    text = _submenu(t.gettext("Results per page"), escape(t.gettext("How many chargers to show in one message.")))
    return View(text, InlineKeyboardMarkup([buttons, _back(t, codec)]))


def language_menu(
    t: Translator,
    prefs: UserPreferences,
    codec: CallbackCodec,
    *,
    languages: Sequence[str],
    telegram_language: str,
) -> View:
    rows = [
        [
            _button(
                _marked(
                    t.gettext("As in Telegram ({language})", language=language_name(telegram_language)),
                    prefs.language is None,
                ),
                _set(codec, Setting.LANGUAGE, AUTOMATIC),
            )
        ]
    ]
    rows += _rows(
        (
            _button(_marked(language_name(code), prefs.language == code), _set(codec, Setting.LANGUAGE, code))
            for code in languages
        ),
        2,
    )
    text = _submenu(t.gettext("Language"), escape(t.gettext("The language I answer you in.")))
    return View(text, InlineKeyboardMarkup([*rows, _back(t, codec)]))


@dataclass(frozen=True, slots=True)
class MenuContext:
    """What every settings screen is drawn from.

    ``automatic_unit`` is the unit used while the driver has not chosen one (None: it follows the
    searched place's country); ``telegram_language`` the language used while they have not chosen
    one; ``languages`` those with a catalog.
    """

    t: Translator
    prefs: UserPreferences
    reference: ReferenceData
    codec: CallbackCodec
    automatic_unit: DistanceUnitChoice | None
    telegram_language: str
    languages: Sequence[str]

    @property
    def unit(self) -> DistanceUnitChoice:
        """The unit to show distances in here (kilometres while it depends on the place)."""
        return self.prefs.unit or self.automatic_unit or DistanceUnitChoice.KM


def render(screen: Screen, menu: MenuContext) -> View:
    """The view of ``screen`` (the operator search results are drawn by :func:`operator_matches`)."""
    t, prefs, codec = menu.t, menu.prefs, menu.codec
    if screen is Screen.POWER:
        return power_menu(t, prefs, codec)
    if screen is Screen.CONNECTORS:
        return connectors_menu(t, prefs, menu.reference, codec)
    if screen is Screen.LEVELS:
        return levels_menu(t, prefs, codec)
    if screen is Screen.USAGE:
        return usage_menu(t, prefs, codec)
    if screen is Screen.OPERATORS:
        return operators_menu(t, prefs, menu.reference, codec)
    if screen is Screen.OPERATOR_SEARCH:
        if not menu.reference.operators:
            return operators_unavailable(t, codec)
        return operator_search_prompt(t, codec)
    if screen is Screen.RADIUS:
        return radius_menu(t, prefs, codec, unit=menu.unit)
    if screen is Screen.UNIT:
        return unit_menu(t, prefs, codec, automatic=menu.automatic_unit)
    if screen is Screen.PAGE_SIZE:
        return page_size_menu(t, prefs, codec)
    if screen is Screen.LANGUAGE:
        return language_menu(t, prefs, codec, languages=menu.languages, telegram_language=menu.telegram_language)
    return main_menu(
        t, prefs, menu.reference, codec, automatic_unit=menu.automatic_unit, telegram_language=menu.telegram_language
    )


def screen_after(setting: Setting) -> Screen:
    """Where a choice leads: multi-selects stay open, everything else returns to the overview
    (a new language shows the whole menu in it at once)."""
    if setting is Setting.CONNECTORS:
        return Screen.CONNECTORS
    if setting is Setting.LEVELS:
        return Screen.LEVELS
    if setting is Setting.OPERATORS:
        return Screen.OPERATORS
    return Screen.MAIN


@dataclass(frozen=True, slots=True)
class SettingsButton:
    """A pressed settings button: show ``screen``, apply ``setting`` with ``values``, or close."""

    screen: Screen | None = None
    setting: Setting | None = None
    values: tuple[str, ...] = ()
    close: bool = False


def read_settings_button(callback: Callback) -> SettingsButton:
    """Parse decoded ``st`` callback data; InvalidCallback when it is not a settings button."""
    kind, *rest = callback.args or ("",)
    try:
        if callback.action == SETTINGS_ACTION and kind == SHOW and len(rest) == 1:
            return SettingsButton(screen=Screen(rest[0]))
        if callback.action == SETTINGS_ACTION and kind == SET and rest:
            return SettingsButton(setting=Setting(rest[0]), values=tuple(rest[1:]))
    except ValueError as error:
        raise InvalidCallback(f"unknown settings button {callback!r}") from error
    if callback.action == SETTINGS_ACTION and kind == CLOSE and not rest:
        return SettingsButton(close=True)
    raise InvalidCallback(f"not a settings button: {callback!r}")


def read_account_button(callback: Callback) -> AccountChoice:
    """Parse decoded ``ac`` callback data; InvalidCallback when it is not an account button."""
    if callback.action != ACCOUNT_ACTION or len(callback.args) != 1:
        raise InvalidCallback(f"not an account button: {callback!r}")
    try:
        return AccountChoice(callback.args[0])
    except ValueError as error:
        raise InvalidCallback(f"unknown account button {callback!r}") from error


def private_chat_only(t: Translator, command: str) -> str:
    """The answer to a personal command sent in a group (``command`` like "/settings")."""
    return escape(t.gettext("This is personal: send {command} to me in a private chat.", command=command))


def settings_button_expired(t: Translator) -> str:
    return t.gettext("This button has expired. Send /settings again.")


def saved_notice(t: Translator) -> str:
    return t.gettext("Saved")


def _arg(value: float) -> str:
    """A number as it travels in a button: "50", "3.7"."""
    return f"{value:g}"


# Account: /forget and /privacy -----------------------------------------------------------------


def forget_confirmation(t: Translator, codec: CallbackCodec) -> View:
    text = "\n\n".join(
        [
            "<b>" + escape(t.gettext("Delete everything I store about you?")) + "</b>",
            escape(
                t.gettext(
                    "That is your settings, favourites, unfinished and unsent check-ins and your Open Charge Map "
                    "sign-in. Check-ins already on Open Charge Map stay there. This cannot be undone."
                )
            ),
        ]
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                _button(t.gettext("🗑 Delete everything"), codec.encode(ACCOUNT_ACTION, AccountChoice.FORGET.value)),
                _button(t.gettext("Cancel"), codec.encode(ACCOUNT_ACTION, AccountChoice.KEEP.value)),
            ]
        ]
    )
    return View(text, keyboard)


def forgotten(t: Translator) -> View:
    return View(
        escape(
            t.gettext("Done: I deleted everything I stored about you. Send /start whenever you want to begin again.")
        )
    )


def nothing_deleted(t: Translator) -> View:
    return View(escape(t.gettext("Nothing was deleted.")))


def forget_button_expired(t: Translator) -> str:
    return t.gettext("This button has expired. Send /forget again.")


def privacy_text(t: Translator) -> str:
    lines = [
        "<b>" + escape(t.gettext("What I store about you")) + "</b>",
        escape(t.gettext("• Your settings: filters, radius, unit, results per page and language.")),
        escape(t.gettext("• Your favourite chargers.")),
        escape(t.gettext("• A check-in you have started, and check-ins waiting to be sent to Open Charge Map.")),
        escape(t.gettext("• Your Open Charge Map sign-in, if you signed in (encrypted).")),
        "",
        escape(t.gettext("Check-ins you submit are published on Open Charge Map for every driver to see.")),
        escape(t.gettext("/forget deletes everything I store about you.")),
    ]
    return "\n".join(lines)
