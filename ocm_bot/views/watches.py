"""The group screens of watches: the ``/watch`` setup (one message edited in place) and ``/watches``.

Buttons carry signed callback data with the group's chat id, so a button copied into another group
(or forged) is refused: ``wf|<chat>|<op>|<value>`` for the setup, ``wl|<chat>|<op>|<watch id>`` for
the list, ``wq|<chat>|<op>|<step>`` for the quiet hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ocm_bot.domain.preferences import DistanceUnitChoice
from ocm_bot.domain.preferences_edit import COMMON_CONNECTORS
from ocm_bot.domain.watch_quiet import QuietHours
from ocm_bot.domain.watch_setup import RADIUS_STEPS, Step, WatchSetup
from ocm_bot.domain.watches import Announce, Watch
from ocm_bot.geometry import miles_to_km
from ocm_bot.i18n import N_, Translator
from ocm_bot.views.callbacks import Callback, CallbackCodec, InvalidCallback
from ocm_bot.views.common import View
from ocm_bot.views.format import TYPED_PLACE_CHARS, clip, clock_hour, utc_offset
from ocm_bot.views.format import radius as format_radius
from ocm_bot.views.html import Html, bold, escape, gettext_html, lines
from ocm_bot.views.preferences.labels import CONNECTOR_LABELS, marked, power_label

SETUP_ACTION = "wf"
LIST_ACTION = "wl"
QUIET_ACTION = "wq"
WATCH_HERE_ACTION = "wh"
OPERATOR_CHARS = 28  # an operator's name on its button

ANNOUNCE_LABELS: dict[Announce, str] = {
    Announce.NEW: N_("New chargers"),
    Announce.STATUS: N_("Status changes"),
    Announce.FAULT: N_("Fault reports"),
}


class SetupOp:
    OPERATOR = "o"
    RADIUS = "r"
    POWER = "p"
    CONNECTOR = "c"
    ANNOUNCE = "a"
    AREA = "A"
    SAVE = "s"
    CANCEL = "q"


class ListOp:
    PAUSE = "p"
    RESUME = "r"
    EDIT = "e"
    REMOVE = "x"
    CONFIRM = "y"
    KEEP = "n"


class QuietOp:
    OPEN = "o"
    START = "s"
    END = "e"
    OFFSET = "z"
    TOGGLE = "t"
    BACK = "b"


@dataclass(frozen=True, slots=True)
class WatchButton:
    """A tapped watch button, read back: the group it was made for, what it does and its value."""

    action: str
    chat_id: int
    op: str
    value: str


def read_watch_button(callback: Callback) -> WatchButton:
    if callback.action not in (SETUP_ACTION, LIST_ACTION, QUIET_ACTION) or len(callback.args) != 3:
        raise InvalidCallback(f"not a watch button: {callback!r}")
    return WatchButton(callback.action, callback.int_arg(0), callback.args[1], callback.args[2])


def _button(
    codec: CallbackCodec, label: str, action: str, chat_id: int, op: str, value: str | int = ""
) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=codec.encode(action, chat_id, op, value))


def watch_here_button(t: Translator, codec: CallbackCodec, chat_id: int, charger_id: int) -> InlineKeyboardButton:
    """On a charger's details in a group: start ``/watch`` around it (``wh|<chat>|<charger id>``; admins)."""
    return InlineKeyboardButton(
        t.gettext("🔔 Watch here"), callback_data=codec.encode(WATCH_HERE_ACTION, chat_id, charger_id)
    )


def read_watch_here_button(callback: Callback) -> tuple[int, int]:
    """The group and the charger of a "Watch here" button."""
    if callback.action != WATCH_HERE_ACTION or len(callback.args) != 2:
        raise InvalidCallback(f"not a watch-here button: {callback!r}")
    return callback.int_arg(0), callback.int_arg(1)


# Labels -----------------------------------------------------------------------------------------


def announce_summary(t: Translator, announce: frozenset[Announce]) -> str:
    return ", ".join(t.gettext(ANNOUNCE_LABELS[kind]) for kind in Announce if kind in announce)


def filters_summary(t: Translator, min_power_kw: float | None, connectors: Sequence[str]) -> str:
    plugs = ", ".join(t.gettext(CONNECTOR_LABELS[key]) for key in connectors if key in CONNECTOR_LABELS)
    return t.gettext("{power}, plugs: {plugs}", power=power_label(t, min_power_kw), plugs=plugs or t.gettext("any"))


def area_label(t: Translator, label: str) -> str:
    return clip(label, TYPED_PLACE_CHARS) or t.gettext("the shared location")


# The setup --------------------------------------------------------------------------------------


def setup_view(t: Translator, codec: CallbackCodec, setup: WatchSetup, unit: DistanceUnitChoice) -> View:
    """The setup message at its current step."""
    chat = setup.chat_id
    cancel = _button(codec, t.gettext("Cancel"), SETUP_ACTION, chat, SetupOp.CANCEL)
    if setup.step == Step.AREA:
        text = lines(
            bold(t.gettext("New watch")),
            gettext_html(
                t,
                "Which area should I watch? Share a location in this group, or reply to this message "
                "with a place name, a charger's ID or its Open Charge Map link.",
            ),
        )
        return View(text, InlineKeyboardMarkup([[cancel]]))
    place = escape(area_label(t, setup.label))
    if setup.step == Step.RADIUS:
        row = [
            _button(codec, format_radius(t, _km(step, unit), unit), SETUP_ACTION, chat, SetupOp.RADIUS, step)
            for step in RADIUS_STEPS
        ]
        text = lines(bold(gettext_html(t, "Watch around {place}", place=place)), gettext_html(t, "How far around it?"))
        return View(text, InlineKeyboardMarkup([row[:3], row[3:], [cancel]]))
    assert setup.radius_km is not None
    connectors = [group.key for group in COMMON_CONNECTORS if group.key in setup.connectors]
    text = lines(
        bold(gettext_html(t, "Watch around {place}", place=place)),
        gettext_html(t, "Radius: {radius}", radius=format_radius(t, setup.radius_km, unit)),
        gettext_html(t, "Chargers: {filters}", filters=filters_summary(t, setup.min_power_kw, connectors)),
        gettext_html(t, "Announce: {what}", what=announce_summary(t, setup.announce)),
        _operators_line(t, setup),
        "",
        gettext_html(t, "Tap to change, then Save."),
    )
    rows = [
        [
            _button(
                codec,
                t.gettext("Minimum power: {power}", power=power_label(t, setup.min_power_kw)),
                SETUP_ACTION,
                chat,
                SetupOp.POWER,
            )
        ],
    ]
    plug_buttons = [
        _button(
            codec,
            marked(t.gettext(CONNECTOR_LABELS[group.key]), group.key in setup.connectors),
            SETUP_ACTION,
            chat,
            SetupOp.CONNECTOR,
            group.key,
        )
        for group in COMMON_CONNECTORS
    ]
    rows += [plug_buttons[i : i + 2] for i in range(0, len(plug_buttons), 2)]
    operator_buttons = [
        _button(codec, marked(name[:OPERATOR_CHARS], operator_id in setup.operators), SETUP_ACTION, chat,
                SetupOp.OPERATOR, operator_id)
        for operator_id, name in setup.operator_choices
    ]  # fmt: skip
    rows += [operator_buttons[i : i + 2] for i in range(0, len(operator_buttons), 2)]
    rows.append(
        [
            _button(
                codec,
                marked(t.gettext(ANNOUNCE_LABELS[kind]), kind in setup.announce),
                SETUP_ACTION,
                chat,
                SetupOp.ANNOUNCE,
                kind.value,
            )
            for kind in Announce
        ]
    )
    rows.append(
        [
            _button(codec, t.gettext("Change radius"), SETUP_ACTION, chat, SetupOp.RADIUS, 0),
            _button(codec, t.gettext("Change area"), SETUP_ACTION, chat, SetupOp.AREA),
        ]
    )
    rows.append([_button(codec, t.gettext("💾 Save"), SETUP_ACTION, chat, SetupOp.SAVE), cancel])
    return View(text, InlineKeyboardMarkup(rows))


def _operators_line(t: Translator, setup: WatchSetup) -> Html:
    names = [name for operator_id, name in setup.operator_choices if operator_id in setup.operators]
    if not names:
        return gettext_html(t, "Operators: any")
    return gettext_html(t, "Operators: {operators}", operators=", ".join(names))


def _km(value: float, unit: DistanceUnitChoice) -> float:
    return miles_to_km(value) if unit is DistanceUnitChoice.MILES else float(value)


def radius_km(value: int, unit: DistanceUnitChoice) -> float:
    """The radius button's value (in the group's unit) in kilometres."""
    if value not in RADIUS_STEPS:
        raise InvalidCallback(f"no radius button {value!r}")
    return _km(value, unit)


def saved_view(t: Translator, watch: Watch, unit: DistanceUnitChoice) -> View:
    return View(
        lines(
            gettext_html(
                t,
                "✅ Watch saved: {place}, within {radius}.",
                place=escape(area_label(t, watch.label)),
                radius=format_radius(t, watch.radius_km, unit),
            ),
            gettext_html(t, "I'll announce here: {what}.", what=announce_summary(t, watch.announce)),
            gettext_html(t, "/watches lists this group's watches."),
        )
    )


def cancelled_view(t: Translator) -> View:
    return View.plain(t.gettext("Watch setup cancelled."))


def place_not_found_view(t: Translator, codec: CallbackCodec, setup: WatchSetup, query: str) -> View:
    text = gettext_html(
        t,
        "I couldn't find “{place}”. Reply to this message with another place name, or share a location.",
        place=clip(query, TYPED_PLACE_CHARS),
    )
    cancel = _button(codec, t.gettext("Cancel"), SETUP_ACTION, setup.chat_id, SetupOp.CANCEL)
    return View(lines(bold(t.gettext("New watch")), text), InlineKeyboardMarkup([[cancel]]))


def groups_only_text(t: Translator) -> str:
    return t.gettext(
        "Watches are for groups: add me to your group, then an admin sends /watch there. "
        "I'll tell the group about new, broken and fixed chargers in its area."
    )


def admins_only_text(t: Translator) -> str:
    return t.gettext("Sorry, only this group's admins can change its watches.")


def button_refused_text(t: Translator) -> str:
    return t.gettext("This button doesn't work here any more.")


# The list ---------------------------------------------------------------------------------------


def watches_view(
    t: Translator,
    codec: CallbackCodec,
    chat_id: int,
    watches: Sequence[Watch],
    unit_of: dict[int, DistanceUnitChoice],
    quiet: QuietHours | None = None,
) -> View:
    if not watches:
        return View.plain(t.gettext("This group has no watches yet. An admin can start one with /watch."))
    entries: list[str | Html] = [bold(t.gettext("This group's watches"))]
    rows: list[list[InlineKeyboardButton]] = []
    for number, watch in enumerate(watches, start=1):
        connectors = [g.key for g in COMMON_CONNECTORS if g.connection_type_ids <= watch.filters.connection_type_ids]
        state = t.gettext("paused") if watch.paused else t.gettext("active")
        entries.append(
            gettext_html(
                t,
                "{number}. {place} · {radius} · {filters} · {what} · {state}",
                number=number,
                place=escape(area_label(t, watch.label)),
                radius=format_radius(t, watch.radius_km, unit_of.get(watch.id, DistanceUnitChoice.KM)),
                filters=filters_summary(t, watch.filters.min_power_kw, connectors),
                what=announce_summary(t, watch.announce),
                state=state,
            )
        )
        toggle = (
            _button(
                codec, t.gettext("{number}. ▶ Resume", number=number), LIST_ACTION, chat_id, ListOp.RESUME, watch.id
            )
            if watch.paused
            else _button(
                codec, t.gettext("{number}. ⏸ Pause", number=number), LIST_ACTION, chat_id, ListOp.PAUSE, watch.id
            )
        )
        rows.append(
            [
                toggle,
                _button(codec, t.gettext("✏️ Edit"), LIST_ACTION, chat_id, ListOp.EDIT, watch.id),
                _button(codec, t.gettext("🗑 Remove"), LIST_ACTION, chat_id, ListOp.REMOVE, watch.id),
            ]
        )
    entries += ["", _quiet_summary(t, quiet)]
    rows.append([_button(codec, t.gettext("🌙 Quiet hours"), QUIET_ACTION, chat_id, QuietOp.OPEN)])
    return View(lines(*entries), InlineKeyboardMarkup(rows))


# Quiet hours ------------------------------------------------------------------------------------


def _quiet_summary(t: Translator, quiet: QuietHours | None) -> Html:
    if quiet is None or not quiet.on:
        return gettext_html(t, "🌙 Quiet hours: off")
    return gettext_html(
        t,
        "🌙 Quiet hours: {start}–{end} ({offset})",
        start=clock_hour(t, quiet.start_hour),
        end=clock_hour(t, quiet.end_hour),
        offset=utc_offset(quiet.utc_offset_minutes),
    )


def quiet_hours_view(t: Translator, codec: CallbackCodec, chat_id: int, quiet: QuietHours) -> View:
    """The group's quiet hours: on or off, start and end hour, the group's UTC offset."""
    hours = {
        "start": clock_hour(t, quiet.start_hour),
        "end": clock_hour(t, quiet.end_hour),
        "offset": utc_offset(quiet.utc_offset_minutes),
    }
    state = (
        gettext_html(t, "On: from {start} to {end} ({offset}).", **hours)
        if quiet.on
        else gettext_html(t, "Off. When on: from {start} to {end} ({offset}).", **hours)
    )
    text = lines(
        bold(t.gettext("🌙 Quiet hours")),
        state,
        "",
        gettext_html(
            t, "Announcements that come during quiet hours wait, and arrive together in one message when they end."
        ),
    )

    def step(label: str, op: str, value: int) -> InlineKeyboardButton:
        return _button(codec, label, QUIET_ACTION, chat_id, op, value)

    rows = [
        [step(t.gettext("Start −1 h"), QuietOp.START, -1), step(t.gettext("Start +1 h"), QuietOp.START, 1)],
        [step(t.gettext("End −1 h"), QuietOp.END, -1), step(t.gettext("End +1 h"), QuietOp.END, 1)],
        [step(t.gettext("UTC offset −1 h"), QuietOp.OFFSET, -1), step(t.gettext("UTC offset +1 h"), QuietOp.OFFSET, 1)],
        [
            step(t.gettext("🔔 Turn off") if quiet.on else t.gettext("🌙 Turn on"), QuietOp.TOGGLE, 0),
            step(t.gettext("‹ Back"), QuietOp.BACK, 0),
        ],
    ]
    return View(text, InlineKeyboardMarkup(rows))


def confirm_removal_view(t: Translator, codec: CallbackCodec, watch: Watch, unit: DistanceUnitChoice) -> View:
    text = gettext_html(
        t,
        "Remove the watch around {place} ({radius})? The group will no longer hear about its chargers.",
        place=escape(area_label(t, watch.label)),
        radius=format_radius(t, watch.radius_km, unit),
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                _button(codec, t.gettext("Yes, remove it"), LIST_ACTION, watch.chat_id, ListOp.CONFIRM, watch.id),
                _button(codec, t.gettext("Keep it"), LIST_ACTION, watch.chat_id, ListOp.KEEP, watch.id),
            ]
        ]
    )
    return View(text, keyboard)


def watch_changed_notice(t: Translator, op: str) -> str:
    return {
        ListOp.PAUSE: t.gettext("Paused."),
        ListOp.RESUME: t.gettext("Resumed."),
        ListOp.CONFIRM: t.gettext("Watch removed."),
    }.get(op, "")
