"""Texts and keyboards shared by every feature: welcome, help, errors, the location keyboard.

The rule for every view function: a message the bot sends with ``parse_mode=HTML`` is a ``View`` (its
``Html`` text and its inline keyboard), never bare text. A view returns ``str`` only for what is not
HTML: a callback-query alert or toast (``answer(text)``), a plain-text message sent without a parse mode,
or a label; a handler that shows such text in an HTML message wraps it in ``View.plain``, which escapes it.
``Html`` on its own is for the parts a screen is built from (``views/html.py`` and a few named parts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from ocm_bot.i18n import Translator
from ocm_bot.ocm.errors import (
    OcmAuthError,
    OcmBadResponse,
    OcmBlockedAsRobot,
    OcmBudgetExhausted,
    OcmError,
    OcmPasswordlessAccount,
    OcmRateLimited,
    OcmRejected,
    OcmUnavailable,
)
from ocm_bot.ocm.identity import add_charger_url
from ocm_bot.ocm.local import LocalDataError
from ocm_bot.views.format import clip
from ocm_bot.views.html import Html, bold, escape, gettext_html, lines

OCM_ADD_CHARGER_URL = add_charger_url()


@dataclass(frozen=True, slots=True)
class View:
    """One message of any screen: HTML text (sent with ``parse_mode=HTML``) and its inline keyboard."""

    text: Html
    keyboard: InlineKeyboardMarkup | None = None

    @classmethod
    def plain(cls, text: str, keyboard: InlineKeyboardMarkup | None = None) -> View:
        """A screen of plain text (an error, a notice), escaped for the HTML message."""
        return cls(escape(text), keyboard)


def welcome_view(t: Translator, first_name: str | None) -> View:
    """/start (the "Send my location" reply keyboard is the handler's: it is not an inline keyboard)."""
    greeting = gettext_html(t, "Hi {name}!", name=first_name) if first_name else gettext_html(t, "Hi!")
    text = Html("\n\n").join(
        [
            bold(greeting) + " " + gettext_html(t, "I find electric-vehicle chargers near you, using Open Charge Map."),
            gettext_html(
                t,
                "Send me your location with the button below, or type an address, a place name, "
                "coordinates or a map link.",
            ),
            gettext_html(t, "Set the power and plugs your car needs in /settings. /help lists everything I can do."),
        ]
    )
    return View(text)


def help_view(t: Translator, bot_username: str | None = None) -> View:
    """/help in a private chat (a group's /help is :func:`ocm_bot.views.groups.group_help_view`)."""
    mention = "@" + (bot_username or "bot")
    help_lines = [
        bold(t.gettext("What I can do")),
        t.gettext("📍 Send a location, an address, coordinates or a map link: the nearest chargers."),
        t.gettext("/area PLACE: every charger in a town or district, with a summary."),
        t.gettext("/route FROM -> TO: the chargers along the way, in driving order."),
        t.gettext(
            "In any chat, type {example} and a place: pick a nearby charger to share it there.",
            example=mention + " Leeds",
        ),
        t.gettext("/settings: minimum power, plugs, operators, radius, units, language."),
        t.gettext("/favourites: your saved chargers with their current status."),
        t.gettext("/alerts: a message when a favourite breaks, is fixed or gets a fault report."),
        t.gettext("In a group: /watch: announce new, broken and fixed chargers around a place (admins)."),
        t.gettext("In a group: /watches: the group's watched areas, quiet hours, pause or remove."),
        t.gettext("/charger ID: one charger by its Open Charge Map ID."),
        t.gettext("/checkin ID: tell other drivers how charging went."),
        t.gettext("/language: choose the language I answer in."),
        t.gettext("/login: sign in to Open Charge Map so your check-ins carry your name."),
        t.gettext("/privacy: what I store about you; /forget: delete all of it."),
        "",
        t.gettext("Charger data: Open Charge Map and its data providers, credited on each card."),
    ]
    return View(lines(*help_lines))


def location_keyboard(t: Translator) -> ReplyKeyboardMarkup:
    """The reply keyboard with the "Send my location" button (private chats only)."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(t.gettext("📍 Send my location"), request_location=True)]],
        resize_keyboard=True,
        input_field_placeholder=placeholder(t.gettext("An address, a place or a map link")),
    )


def location_prompt(t: Translator) -> str:
    """The words that come with the "Send my location" keyboard when it is sent again (a new language)."""
    return t.gettext("Send me a location, an address, a place name, coordinates or a map link.")


PLACEHOLDER_CHARS = 64
"""Telegram refuses the whole message when an input field placeholder is longer (Bot API: 1-64 characters)."""


def placeholder(text: str) -> str:
    """``text`` fit for ``input_field_placeholder``: a long translation must not make the message unsendable."""
    return clip(text, PLACEHOLDER_CHARS)


def expired_button_text(t: Translator) -> str:
    return t.gettext("This button has expired. Please search again.")


def unexpected_error_text(t: Translator) -> str:
    return t.gettext("Sorry, something went wrong on my side. Please try again in a moment.")


def ocm_error_text(t: Translator, error: OcmError) -> str:
    """What a driver is told when Open Charge Map fails (the retry path is offered by the caller)."""
    if isinstance(error, OcmBudgetExhausted):
        seconds = _whole_seconds(error.retry_after)
        return t.ngettext(
            "This bot is busy right now. Please try again in {n} second.",
            "This bot is busy right now. Please try again in {n} seconds.",
            seconds,
        )
    if isinstance(error, OcmRateLimited):
        if error.retry_after is None:
            return t.gettext("Open Charge Map asks us to slow down. Please try again in a minute.")
        seconds = _whole_seconds(error.retry_after)
        if seconds >= 120:
            return t.ngettext(
                "Open Charge Map asks us to slow down. Please try again in {n} minute.",
                "Open Charge Map asks us to slow down. Please try again in {n} minutes.",
                math.ceil(seconds / 60),
            )
        return t.ngettext(
            "Open Charge Map asks us to slow down. Please try again in {n} second.",
            "Open Charge Map asks us to slow down. Please try again in {n} seconds.",
            seconds,
        )
    if isinstance(error, OcmPasswordlessAccount):
        return t.gettext(
            "Open Charge Map could not sign you in with a password: this account signs in with Google, "
            "GitHub or another social login and has no password yet. Set one in your profile on "
            "openchargemap.org first."
        )
    if isinstance(error, OcmAuthError) and error.is_user_token:
        return t.gettext("Your Open Charge Map sign-in has expired. Please /login again.")
    if isinstance(error, OcmAuthError | OcmBlockedAsRobot):
        return t.gettext(
            "Open Charge Map refused this bot's request. The bot's operator has been told; please try later."
        )
    if isinstance(error, OcmRejected) and error.status == 200:
        # "200 Error: Validation Failed" to a request we built correctly: OCM's trouble, worth a retry.
        return t.gettext("Open Charge Map could not answer. Please try again in a minute.")
    if isinstance(error, OcmRejected):
        return t.gettext("Open Charge Map did not accept that request.")
    if isinstance(error, OcmBadResponse):
        return t.gettext("Open Charge Map sent an answer I could not read. Please try again in a minute.")
    if isinstance(error, OcmUnavailable):
        return t.gettext("Open Charge Map is not answering right now. Please try again in a minute.")
    if isinstance(error, LocalDataError):
        # The bot's own copy of OCM's data (OCM_DATA_FILE) is broken: not OCM's doing, and not
        # something a driver can fix; the operator sees the file's problem in the log.
        return t.gettext("I cannot read my own copy of the charger data right now. Please try again later.")
    return t.gettext("Open Charge Map could not answer. Please try again in a minute.")


def _whole_seconds(seconds: float | None) -> int:
    return max(1, math.ceil(seconds or 60))


def retry_keyboard(t: Translator, callback_data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t.gettext("🔄 Retry"), callback_data=callback_data)]])


def reading_order(t: Translator, row: list[InlineKeyboardButton]) -> list[InlineKeyboardButton]:
    """A row whose order means something (‹ Prev · 2/4 · Next ›) as the driver reads it.

    Telegram lays out a bot's buttons left to right in every language; in a right-to-left language
    "previous" belongs on the right, where reading starts (its "‹" is mirrored to "›" by the
    Unicode bidi algorithm inside Arabic text, so it points the right way).
    """
    return row[::-1] if t.rtl else row
