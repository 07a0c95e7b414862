"""What a driver is told while signing in to Open Charge Map (/login) and out (/logout). Pure functions.

Prompts and refusals are plain text; the one HTML message is :func:`signed_in_text`.
"""

from __future__ import annotations

from ocm_bot.i18n import Translator
from ocm_bot.views.common import View
from ocm_bot.views.html import bold, gettext_html, ngettext_html


def login_private_only_text(t: Translator) -> str:
    return t.gettext("For your safety, sign in only in a private chat with me.")


def login_disabled_text(t: Translator) -> str:
    return t.gettext(
        "Signing in is turned off on this bot: its operator has not set up safe storage for sign-ins "
        "(STORAGE_SECRET). You can still check in on the Open Charge Map site."
    )


def ask_email_text(t: Translator) -> str:
    return t.gettext(
        "Sign in to Open Charge Map so your check-ins are posted with your account.\n"
        "What is the e-mail address of your Open Charge Map account? (/cancel to stop)"
    )


def not_an_email_text(t: Translator) -> str:
    return t.gettext(
        "That does not look like an e-mail address. Send the e-mail of your Open Charge Map account, or /cancel."
    )


def ask_password_text(t: Translator) -> str:
    return t.gettext(
        "Now your Open Charge Map password. I delete your message at once and keep only the sign-in "
        "token Open Charge Map gives back, encrypted."
    )


def signed_in_text(t: Translator, username: str | None, resumed: int) -> View:
    text = (
        gettext_html(t, "Signed in to Open Charge Map as {name}.", name=bold(username))
        if username
        else gettext_html(t, "Signed in to Open Charge Map.")
    )
    text += " " + gettext_html(t, "Your check-ins are now posted with your account. /logout signs you out.")
    if resumed:
        text += "\n" + ngettext_html(
            t,
            "Sending the {n} check-in that waited for your sign-in.",
            "Sending the {n} check-ins that waited for your sign-in.",
            resumed,
        )
    return View(text)


def wrong_password_text(t: Translator) -> str:
    return t.gettext("Open Charge Map did not accept that e-mail and password. Send /login to try again.")


def login_failed_text(t: Translator, reason: str = "") -> str:
    return " ".join(part for part in (reason, t.gettext("Send /login to try again.")) if part)


def login_cancelled_text(t: Translator) -> str:
    return t.gettext("Sign-in cancelled.")


def login_timed_out_text(t: Translator) -> str:
    return t.gettext("Sign-in timed out. Send /login to start again.")


def login_too_late_text(t: Translator) -> str:
    return t.gettext(
        "Sign-in timed out while I was away, so I deleted your message in case it was your password. "
        "Send /login to start again."
    )


def signed_out_text(t: Translator, was_signed_in: bool) -> str:
    if was_signed_in:
        return t.gettext("Signed out. I no longer keep your Open Charge Map sign-in.")
    return t.gettext("You were not signed in.")
