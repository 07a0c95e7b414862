"""The /settings menus, /language, /forget and /privacy: texts and keyboards (pure functions).

- :mod:`.labels`: names of plugs, levels, access, operators, languages and values;
- :mod:`.buttons`: the screens' buttons, their callback data and reading it back;
- :mod:`.menus`: the screens themselves;
- :mod:`.account`: /forget and /privacy.

The handlers import what they need from here.

Example::

    menu = MenuContext(t, prefs, reference, codec, automatic_unit=DistanceUnitChoice.KM,
                       telegram_language="en", languages=available_languages())
    view = render(Screen.POWER, menu)
    await query.edit_message_text(view.text, parse_mode="HTML", reply_markup=view.keyboard)
"""

from ocm_bot.views.common import View
from ocm_bot.views.preferences.account import (
    forget_button_expired,
    forget_confirmation,
    forgotten,
    nothing_deleted,
    privacy_text,
)
from ocm_bot.views.preferences.buttons import (
    ACCOUNT_ACTION,
    SETTINGS_ACTION,
    AccountChoice,
    Screen,
    SettingsButton,
    read_account_button,
    read_settings_button,
    screen_after,
)
from ocm_bot.views.preferences.labels import connector_names, language_name, short_level_name
from ocm_bot.views.preferences.menus import (
    MenuContext,
    closed_menu,
    operator_matches,
    private_chat_only,
    render,
    saved_notice,
    settings_button_expired,
)

__all__ = [
    "ACCOUNT_ACTION",
    "SETTINGS_ACTION",
    "AccountChoice",
    "MenuContext",
    "Screen",
    "SettingsButton",
    "View",
    "closed_menu",
    "connector_names",
    "forget_button_expired",
    "forget_confirmation",
    "forgotten",
    "language_name",
    "nothing_deleted",
    "operator_matches",
    "privacy_text",
    "private_chat_only",
    "read_account_button",
    "read_settings_button",
    "render",
    "saved_notice",
    "screen_after",
    "settings_button_expired",
    "short_level_name",
]
