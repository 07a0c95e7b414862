"""The /settings screens: the overview, one screen per setting, and what "Done" leaves behind.

Every screen is one message that the handlers edit in place; every choice shows ✓ on the current value.

Over 400 lines (about 440) because it holds one short function per screen (the overview and ten setting screens,
plus the operator search); they share the private helpers here and read best side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup

from ocm_bot.domain.filters import FilterKey, active_filters
from ocm_bot.domain.preferences import PAGE_SIZES, POWER_STEPS_KW, DistanceUnitChoice, UserPreferences
from ocm_bot.domain.preferences_edit import (
    ANY,
    AUTOMATIC,
    COMMON_CONNECTORS,
    Setting,
    is_group_selected,
    other_connection_type_ids,
    radius_choices,
)
from ocm_bot.i18n import Translator
from ocm_bot.ocm.models import Operator
from ocm_bot.ocm.reference import ReferenceData
from ocm_bot.views.callbacks import CallbackCodec
from ocm_bot.views.common import View
from ocm_bot.views.format import clip
from ocm_bot.views.html import Html, bold, escape, join
from ocm_bot.views.preferences.buttons import (
    CLOSE,
    SETTINGS_ACTION,
    Screen,
    arg,
    back_row,
    button,
    in_rows,
    set_value,
    show_screen,
    toggle,
)
from ocm_bot.views.preferences.labels import (
    CONNECTOR_LABELS,
    LEVEL_LABELS,
    USAGE_LABELS,
    connection_type_title,
    connectors_label,
    distance_label,
    language_name,
    levels_label,
    marked,
    on_off,
    operator_title,
    operators_label,
    power_label,
    radius_label,
)

MAX_QUERY_SHOWN = 60
BUTTON_NAME_CHARS = 48  # an operator's or plug's name on a button (Telegram shows about that much)


def _submenu(title: str, *lines: Html) -> Html:
    return join("\n", [bold(title), *lines])


def main_menu(
    t: Translator,
    prefs: UserPreferences,
    reference: ReferenceData,
    codec: CallbackCodec,
    *,
    automatic_unit: DistanceUnitChoice | None,
    telegram_language: str,
    group: bool = False,
) -> View:
    """The overview: every setting with its value, and a button to change each.

    ``automatic_unit`` is the unit used while the driver has not chosen one (None: it follows the
    searched place's country); ``telegram_language`` the language used while they have not chosen one
    (in a ``group``, the bot's default language: a group has no Telegram language).
    """
    unit = prefs.unit or automatic_unit or DistanceUnitChoice.KM
    if prefs.unit is not None:
        unit_value = _unit_name(t, prefs.unit)
    elif automatic_unit is None:
        unit_value = t.gettext("automatic (by country)")
    else:
        unit_value = t.gettext("automatic ({unit})", unit=_unit_name(t, automatic_unit))
    if prefs.language is not None:
        language_value = language_name(prefs.language, in_sentence=True)
    elif group:
        language_value = t.gettext(
            "bot's default ({language})", language=language_name(telegram_language, in_sentence=True)
        )
    else:
        language_value = t.gettext(
            "as in Telegram ({language})", language=language_name(telegram_language, in_sentence=True)
        )
    lines = [
        bold(t.gettext("⚙️ Settings")),
        "",
        _line(t.gettext("Minimum power"), power_label(t, prefs.min_power_kw)),
        _line(t.gettext("Plugs"), connectors_label(t, prefs, reference)),
        _line(t.gettext("Charging level"), levels_label(t, prefs)),
        _line(t.gettext("Operators"), operators_label(t, prefs, reference)),
        _line(t.gettext("Access"), t.gettext(USAGE_LABELS[prefs.usage])),
        _line(t.gettext("Working chargers only"), on_off(t, prefs.operational_only)),
        _line(t.gettext("Hide recent fault reports"), on_off(t, prefs.hide_recent_faults)),
        _line(t.gettext("Open data only"), on_off(t, prefs.open_data_only)),
        _line(t.gettext("Radius"), radius_label(t, prefs.radius_km, unit)),
        _line(t.gettext("Distance unit"), unit_value),
        _line(t.gettext("Results per page"), t.number(prefs.page_size, digits=0)),
        _line(t.gettext("Language"), language_value),
        "",
        escape(t.gettext("Tap a setting to change it. Your next search uses these settings.")),
    ]
    keyboard = [
        [
            button(t.gettext("⚡ Minimum power"), show_screen(codec, Screen.POWER)),
            button(t.gettext("🔌 Plugs"), show_screen(codec, Screen.CONNECTORS)),
        ],
        [
            button(t.gettext("🔋 Charging level"), show_screen(codec, Screen.LEVELS)),
            button(t.gettext("🔓 Access"), show_screen(codec, Screen.USAGE)),
        ],
        [button(t.gettext("🏢 Operators"), show_screen(codec, Screen.OPERATORS))],
        [toggle(t.gettext("Working chargers only"), prefs.operational_only, set_value(codec, Setting.OPERATIONAL))],
        [
            toggle(
                t.gettext("Hide recent fault reports"), prefs.hide_recent_faults, set_value(codec, Setting.HIDE_FAULTS)
            )
        ],
        [toggle(t.gettext("Open data only"), prefs.open_data_only, set_value(codec, Setting.OPEN_DATA))],
        [
            button(t.gettext("📏 Radius"), show_screen(codec, Screen.RADIUS)),
            button(t.gettext("📐 Distance unit"), show_screen(codec, Screen.UNIT)),
        ],
        [
            button(t.gettext("📄 Results per page"), show_screen(codec, Screen.PAGE_SIZE)),
            button(t.gettext("🌐 Language"), show_screen(codec, Screen.LANGUAGE)),
        ],
        [
            button(t.gettext("↺ Reset filters"), set_value(codec, Setting.RESET)),
            button(t.gettext("Done"), codec.encode(SETTINGS_ACTION, CLOSE)),
        ],
    ]
    return View(join("\n", lines), InlineKeyboardMarkup(keyboard))


def _line(name: str, value: str) -> Html:
    return Html("{}: <b>{}</b>").format(name, value)


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
        FilterKey.OPERATIONAL: (t.gettext("Working chargers only"), on_off(t, True)),
        FilterKey.OPEN_DATA: (t.gettext("Open data only"), on_off(t, True)),
    }
    # Every filter the search applies (ocm_bot.domain.filters decides which are active), none left out.
    lines = [_line(*named[key]) for key in active_filters(prefs)]
    if not lines:
        lines = [escape(t.gettext("No filters: every charger is shown."))]
    return View(
        join(
            "\n",
            [
                bold(t.gettext("Settings saved")),
                *lines,
                _line(t.gettext("Radius"), radius_label(t, prefs.radius_km, unit)),
                "",
                escape(t.gettext("Send a location or an address to search. /settings changes them again.")),
            ],
        )
    )


def power_menu(t: Translator, prefs: UserPreferences, codec: CallbackCodec) -> View:
    buttons = [button(marked(t.gettext("Any power"), prefs.min_power_kw is None), set_value(codec, Setting.POWER, ANY))]
    for step in POWER_STEPS_KW:
        label = t.gettext("{power} kW", power=t.number(step))
        buttons.append(button(marked(label, prefs.min_power_kw == step), set_value(codec, Setting.POWER, arg(step))))
    text = _submenu(
        t.gettext("Minimum power"),
        escape(t.gettext("Show chargers with at least one connector of this power or more.")),
    )
    return View(text, InlineKeyboardMarkup([*in_rows(buttons, 3), back_row(t, codec)]))


def connectors_menu(t: Translator, prefs: UserPreferences, reference: ReferenceData, codec: CallbackCodec) -> View:
    buttons = [
        button(
            marked(t.gettext(CONNECTOR_LABELS[group.key]), is_group_selected(prefs, group)),
            set_value(codec, Setting.CONNECTORS, group.key),
        )
        for group in COMMON_CONNECTORS
    ]
    buttons += [
        button(
            marked(clip(connection_type_title(t, reference, type_id), BUTTON_NAME_CHARS), True),
            set_value(codec, Setting.CONNECTORS, type_id),
        )
        for type_id in other_connection_type_ids(prefs)
    ]
    any_plug = button(
        marked(t.gettext("Any plug"), not prefs.connection_type_ids), set_value(codec, Setting.CONNECTORS, ANY)
    )
    text = _submenu(
        t.gettext("Plugs"),
        escape(t.gettext("Tick every plug your car can use; chargers with any of them are shown.")),
    )
    return View(text, InlineKeyboardMarkup([*in_rows(buttons, 2), [any_plug], back_row(t, codec)]))


def levels_menu(t: Translator, prefs: UserPreferences, codec: CallbackCodec) -> View:
    rows = [
        [button(marked(t.gettext(label), level_id in prefs.level_ids), set_value(codec, Setting.LEVELS, level_id))]
        for level_id, label in LEVEL_LABELS.items()
    ]
    any_level = button(marked(t.gettext("Any level"), not prefs.level_ids), set_value(codec, Setting.LEVELS, ANY))
    text = _submenu(
        t.gettext("Charging level"),
        escape(t.gettext("Tick the levels you want; chargers with a connector of any of them are shown.")),
    )
    return View(text, InlineKeyboardMarkup([*rows, [any_level], back_row(t, codec)]))


def usage_menu(t: Translator, prefs: UserPreferences, codec: CallbackCodec) -> View:
    rows = [
        [button(marked(t.gettext(label), prefs.usage is choice), set_value(codec, Setting.USAGE, choice.value))]
        for choice, label in USAGE_LABELS.items()
    ]
    text = _submenu(
        t.gettext("Access"),
        escape(t.gettext("Which chargers to show: open to everyone, needing a membership card, or private.")),
    )
    return View(text, InlineKeyboardMarkup([*rows, back_row(t, codec)]))


def operators_menu(t: Translator, prefs: UserPreferences, reference: ReferenceData, codec: CallbackCodec) -> View:
    selected = sorted(prefs.operator_ids, key=lambda op_id: operator_title(t, reference, op_id).casefold())
    rows = [
        [
            button(
                marked(clip(operator_title(t, reference, op_id), BUTTON_NAME_CHARS), True),
                set_value(codec, Setting.OPERATORS, op_id),
            )
        ]
        for op_id in selected
    ]
    rows.append([button(t.gettext("🔎 Add an operator"), show_screen(codec, Screen.OPERATOR_SEARCH))])
    rows.append(
        [button(marked(t.gettext("Any operator"), not prefs.operator_ids), set_value(codec, Setting.OPERATORS, ANY))]
    )
    hint = (
        t.gettext("Only chargers of the ticked networks are shown. Tap one to remove it.")
        if selected
        else t.gettext("Chargers of every network are shown. Add an operator to see only theirs.")
    )
    text = _submenu(t.gettext("Operators"), escape(hint))
    return View(text, InlineKeyboardMarkup([*rows, back_row(t, codec)]))


def operator_search_prompt(t: Translator, codec: CallbackCodec) -> View:
    text = _submenu(
        t.gettext("Operators"),
        escape(t.gettext("Type the operator's name, or part of it (for example: Ionity).")),
    )
    return View(text, InlineKeyboardMarkup([back_row(t, codec, Screen.OPERATORS)]))


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
            button(
                marked(clip(operator.title, BUTTON_NAME_CHARS), operator.id in prefs.operator_ids),
                set_value(codec, Setting.OPERATORS, operator.id),
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
    rows.append([button(t.gettext("🔎 Search again"), show_screen(codec, Screen.OPERATOR_SEARCH))])
    return View(text, InlineKeyboardMarkup([*rows, back_row(t, codec, Screen.OPERATORS)]))


def operators_unavailable(t: Translator, codec: CallbackCodec) -> View:
    text = _submenu(
        t.gettext("Operators"),
        escape(t.gettext("I could not load the list of operators from Open Charge Map. Please try again in a minute.")),
    )
    return View(text, InlineKeyboardMarkup([back_row(t, codec)]))


def radius_menu(t: Translator, prefs: UserPreferences, codec: CallbackCodec, *, unit: DistanceUnitChoice) -> View:
    buttons = [
        button(
            marked(distance_label(t, choice.value, unit), choice.is_current(prefs)),
            set_value(codec, Setting.RADIUS, arg(choice.value), unit.value),
        )
        for choice in radius_choices(unit)
    ]
    text = _submenu(t.gettext("Radius"), escape(t.gettext("How far from the place you send to look for chargers.")))
    return View(text, InlineKeyboardMarkup([*in_rows(buttons, 3), back_row(t, codec)]))


def unit_menu(
    t: Translator, prefs: UserPreferences, codec: CallbackCodec, *, automatic: DistanceUnitChoice | None
) -> View:
    choices: list[tuple[str, DistanceUnitChoice | None]] = [
        (_automatic_unit(t, automatic), None),
        (t.gettext("Kilometres"), DistanceUnitChoice.KM),
        (t.gettext("Miles"), DistanceUnitChoice.MILES),
    ]
    rows = [
        [
            button(
                marked(label, prefs.unit is value), set_value(codec, Setting.UNIT, value.value if value else AUTOMATIC)
            )
        ]
        for label, value in choices
    ]
    text = _submenu(
        t.gettext("Distance unit"),
        escape(t.gettext("Automatic uses miles in the United States and the United Kingdom, kilometres elsewhere.")),
    )
    return View(text, InlineKeyboardMarkup([*rows, back_row(t, codec)]))


def page_size_menu(t: Translator, prefs: UserPreferences, codec: CallbackCodec) -> View:
    buttons = [
        button(marked(t.number(size, digits=0), prefs.page_size == size), set_value(codec, Setting.PAGE_SIZE, size))
        for size in PAGE_SIZES
    ]
    text = _submenu(t.gettext("Results per page"), escape(t.gettext("How many chargers to show in one message.")))
    return View(text, InlineKeyboardMarkup([buttons, back_row(t, codec)]))


def language_menu(
    t: Translator,
    prefs: UserPreferences,
    codec: CallbackCodec,
    *,
    languages: Sequence[str],
    telegram_language: str,
    group: bool = False,
) -> View:
    """The language choice; its automatic choice is Telegram's language, in a ``group`` the bot's default."""
    automatic = (
        t.gettext("Bot's default ({language})", language=language_name(telegram_language, in_sentence=True))
        if group
        else t.gettext("As in Telegram ({language})", language=language_name(telegram_language, in_sentence=True))
    )
    rows = [[button(marked(automatic, prefs.language is None), set_value(codec, Setting.LANGUAGE, AUTOMATIC))]]
    rows += in_rows(
        (
            button(marked(language_name(code), prefs.language == code), set_value(codec, Setting.LANGUAGE, code))
            for code in languages
        ),
        2,
    )
    about = t.gettext("The language I speak in this group.") if group else t.gettext("The language I answer you in.")
    text = _submenu(t.gettext("Language"), escape(about))
    return View(text, InlineKeyboardMarkup([*rows, back_row(t, codec)]))


@dataclass(frozen=True, slots=True)
class MenuContext:
    """What every settings screen is drawn from.

    ``automatic_unit`` is the unit used while the driver has not chosen one (None: it follows the
    searched place's country); ``telegram_language`` the language used while they have not chosen
    one; ``languages`` those with a catalog; ``group``: a group's settings (its automatic language is
    the bot's default).
    """

    t: Translator
    prefs: UserPreferences
    reference: ReferenceData
    codec: CallbackCodec
    automatic_unit: DistanceUnitChoice | None
    telegram_language: str
    languages: Sequence[str]
    group: bool = False

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
        return language_menu(
            t, prefs, codec, languages=menu.languages, telegram_language=menu.telegram_language, group=menu.group
        )
    return main_menu(
        t,
        prefs,
        menu.reference,
        codec,
        automatic_unit=menu.automatic_unit,
        telegram_language=menu.telegram_language,
        group=menu.group,
    )


def private_chat_only(t: Translator, command: str) -> View:
    """The answer to a personal command sent in a group (``command`` like "/settings")."""
    return View(escape(t.gettext("This is personal: send {command} to me in a private chat.", command=command)))


def settings_button_expired(t: Translator) -> str:
    return t.gettext("This button has expired. Send /settings again.")


def saved_notice(t: Translator) -> str:
    return t.gettext("Saved")
