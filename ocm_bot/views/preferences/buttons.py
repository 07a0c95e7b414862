"""The buttons of the /settings menus and of /forget: their callback data, and reading it back.

Buttons carry signed callback data ``st|v|<screen>`` (show a screen) or ``st|s|<setting>|<value>...``
(change a setting); account buttons are ``ac|...``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from telegram import InlineKeyboardButton

from ocm_bot.domain.preferences_edit import Setting
from ocm_bot.i18n import Translator
from ocm_bot.views.callbacks import Callback, CallbackCodec, InvalidCallback
from ocm_bot.views.preferences.labels import marked

SETTINGS_ACTION = "st"
ACCOUNT_ACTION = "ac"
SHOW = "v"
SET = "s"
CLOSE = "x"


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


def show_screen(codec: CallbackCodec, screen: Screen) -> str:
    return codec.encode(SETTINGS_ACTION, SHOW, screen.value)


def set_value(codec: CallbackCodec, setting: Setting, *values: str | int) -> str:
    return codec.encode(SETTINGS_ACTION, SET, setting.value, *values)


def button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def toggle(label: str, on: bool, data: str) -> InlineKeyboardButton:
    return button(marked(label, on), data)


def in_rows(buttons: Iterable[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    items = list(buttons)
    return [items[start : start + width] for start in range(0, len(items), width)]


def back_row(t: Translator, codec: CallbackCodec, screen: Screen = Screen.MAIN) -> list[InlineKeyboardButton]:
    return [button(t.gettext("‹ Back"), show_screen(codec, screen))]


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


def arg(value: float) -> str:
    """A number as it travels in a button: "50", "3.7"."""
    return f"{value:g}"
