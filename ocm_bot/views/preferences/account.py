"""/forget and /privacy: the confirmation, its outcomes, and what the bot stores about a driver."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from ocm_bot.i18n import Translator
from ocm_bot.views.callbacks import CallbackCodec
from ocm_bot.views.common import View
from ocm_bot.views.html import bold, escape, join
from ocm_bot.views.preferences.buttons import ACCOUNT_ACTION, AccountChoice, button


def forget_confirmation(t: Translator, codec: CallbackCodec) -> View:
    text = join(
        "\n\n",
        [
            bold(t.gettext("Delete everything I store about you?")),
            escape(
                t.gettext(
                    "That is your settings, favourites, unfinished and unsent check-ins and your Open Charge Map "
                    "sign-in. Check-ins already on Open Charge Map stay there. This cannot be undone."
                )
            ),
        ],
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                button(t.gettext("🗑 Delete everything"), codec.encode(ACCOUNT_ACTION, AccountChoice.FORGET.value)),
                button(t.gettext("Cancel"), codec.encode(ACCOUNT_ACTION, AccountChoice.KEEP.value)),
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


def privacy_text(t: Translator) -> View:
    lines = [
        bold(t.gettext("What I store about you")),
        escape(t.gettext("• Your settings: filters, radius, unit, results per page and language.")),
        escape(t.gettext("• Your favourite chargers.")),
        escape(
            t.gettext(
                "• Whether your favourites alert you when they stop working, work again or get a fault report "
                "(on unless you turned them off with /alerts)."
            )
        ),
        escape(t.gettext("• A check-in you have started, and check-ins waiting to be sent to Open Charge Map.")),
        escape(t.gettext("• Your Open Charge Map sign-in, if you signed in (encrypted).")),
        escape(t.gettext("Kept until you send /forget (your sign-in also ends with /logout).")),
        "",
        bold(t.gettext("For a short time only")),
        escape(
            t.gettext(
                "• Your recent searches (the place you sent and the chargers found), so that their buttons "
                "keep working: about an hour."
            )
        ),
        escape(
            t.gettext(
                "• While you share your live location: where you are and which message shows your chargers, "
                "until a few minutes after sharing ends."
            )
        ),
        escape(
            t.gettext(
                "• While you sign in: the step you are at and the e-mail you typed (encrypted), for a few "
                "minutes at most. I never store your password."
            )
        ),
        "",
        bold(t.gettext("In groups")),
        escape(
            t.gettext(
                "• A group's settings and watched areas, and which chargers it was told about, chosen by its "
                "admins: kept while I am in the group, deleted when I am removed from it. They belong to the "
                "group, so /forget does not delete them."
            )
        ),
        "",
        escape(t.gettext("Check-ins you submit are published on Open Charge Map for every driver to see.")),
        escape(t.gettext("/forget deletes everything I store about you.")),
    ]
    return View(join("\n", lines))
