""" "Charger not listed?": OCM's add-a-charger page and what it will ask for. Pure functions.

OCM's page (``/site/poi/add``, ``POIController.Add()`` in openchargemap/ocm-system) takes no URL
parameters: it cannot be opened at the driver's position. So the message gives the position to
type in OCM's step 1 (location), and says in one line what OCM asks for (sign-in; location; basic
details; equipment, the three steps of its ``Edit`` form).

Button: ``nl|<latitude>|<longitude>`` (4 decimals, about 10 m).
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ocm_bot.i18n import Translator
from ocm_bot.ocm.identity import add_charger_url
from ocm_bot.views.callbacks import CallbackCodec
from ocm_bot.views.common import View
from ocm_bot.views.format import coordinate, coordinates
from ocm_bot.views.html import Html, escape, gettext_html

NOT_LISTED = "nl"


def not_listed_button(t: Translator, codec: CallbackCodec, latitude: float, longitude: float) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        t.gettext("➕ Charger not listed?"),
        callback_data=codec.encode(NOT_LISTED, coordinate(latitude), coordinate(longitude)),
    )


def not_listed_view(t: Translator, latitude: float, longitude: float) -> View:
    """Where to add a missing charger, what OCM will ask for, and the position to give it."""
    position = Html("<code>{}</code>").format(escape(coordinates(latitude, longitude)))
    text = gettext_html(
        t,
        "A charger missing from the map? Add it on Open Charge Map: it asks you to sign in, then for "
        "the location (address and map pin), the basics (operator, access, cost) and the equipment "
        "(plugs and power). The position to enter: {position}",
        position=position,
    )
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(t.gettext("Add it on Open Charge Map ↗"), url=add_charger_url())]]
    )
    return View(text, keyboard)
