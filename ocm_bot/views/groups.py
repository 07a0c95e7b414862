"""What the bot says about searching in a group: the "which place?" prompt, the group's settings
header, and the refusals (a non-admin changing settings, someone changing another's search)."""

from __future__ import annotations

from ocm_bot.i18n import Translator
from ocm_bot.views.common import View, placeholder
from ocm_bot.views.html import Html, bold, escape, gettext_html, lines


def near_prompt(t: Translator) -> View:
    """``/near`` without a place: the asker replies to this message (a selective ForceReply)."""
    return View(
        gettext_html(t, "Near which place? Reply to this message with a place name, or share a location as a reply.")
    )


def near_prompt_placeholder(t: Translator) -> str:
    """The input field's hint while the asker answers the prompt (at most 64 characters)."""
    return placeholder(t.gettext("A place or a location"))


def group_welcome_view(t: Translator) -> View:
    """/start in a group: how to search here (no "Send my location" button in groups)."""
    return View(
        Html("\n\n").join(
            [
                bold(t.gettext("Hi everyone!"))
                + " "
                + gettext_html(t, "I find electric-vehicle chargers, using Open Charge Map."),
                gettext_html(
                    t,
                    "Search here with /near and a place (/near Leeds station), or send /near and answer my "
                    "question with a place or a shared location.",
                ),
                gettext_html(t, "Admins choose this group's radius, filters, units and language in /settings."),
            ]
        )
    )


def group_help_view(t: Translator) -> View:
    """/help in a group: what the group can do with the bot, and that its admins choose the settings."""
    return View(
        lines(
            bold(t.gettext("What I can do in this group")),
            t.gettext("/near PLACE: the nearest chargers, for everyone here. /near alone: I ask which place."),
            t.gettext("/watch: announce new, broken and fixed chargers around a place (admins)."),
            t.gettext("/watches: the group's watched areas, quiet hours, pause or remove (admins)."),
            t.gettext(
                "/settings: the radius, filters, units and language of this group. Admins choose them; "
                "every search here uses them."
            ),
            t.gettext("/language: the language I speak in this group (admins)."),
            "",
            t.gettext("Your own settings, favourites, alerts and check-ins: talk to me in a private chat."),
        )
    )


def group_settings_view(t: Translator, menu: View) -> View:
    """The /settings menu as a group sees it: the group's settings, changed by its admins only."""
    header = (
        bold(t.gettext("This group's settings"))
        + "\n"
        + escape(t.gettext("Searches in this group use them. Only admins can change them."))
    )
    return View(header + "\n\n" + menu.text, menu.keyboard)


def admins_only_settings_text(t: Translator) -> str:
    """A non-admin's /settings (or a settings button) in a group: a reply or a button's toast."""
    return t.gettext(
        "Only this group's admins can change its settings; searches here use them for everyone. "
        "For your own settings, send /settings to me in a private chat."
    )


def only_asker_text(t: Translator, name: str | None) -> str:
    """Someone else tapped a button that changes a search (a filter, a wider radius): a short toast."""
    if name:
        return t.gettext("Only {name} can change this search.", name=name)
    return t.gettext("Only the person who asked can change this search.")


def operator_reply_hint(t: Translator, menu: View) -> View:
    """The operator search of a group's settings: the admin's typed name reaches the bot as a reply."""
    return View(
        menu.text + "\n" + escape(t.gettext("In a group, send the name as a reply to this message.")), menu.keyboard
    )
