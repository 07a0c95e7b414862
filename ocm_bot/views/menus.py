"""What Telegram shows about the bot before a chat starts: the command menus and the descriptions.

One menu per scope (private chats, and every group chat) and per language; the texts respect
Telegram's limits (a command's description 1-256 characters, the description 512, the short
description 120)::

    menus = bot_menus(translator("de"))
    menus.commands[GROUP_SCOPE]    # [BotCommand("near", "Ladestationen an einem Ort"), ...]
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import BotCommand

from ocm_bot.i18n import LANGUAGE_ALIASES, N_, Translator

PRIVATE_SCOPE = "default"  # BotCommandScopeDefault: private chats (groups have their own menu)
GROUP_SCOPE = "all_group_chats"  # BotCommandScopeAllGroupChats

DESCRIPTION_CHARS = 512
SHORT_DESCRIPTION_CHARS = 120
COMMAND_DESCRIPTION_CHARS = 256

# The commands a driver uses in a private chat with the bot.
PRIVATE_COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Find chargers near you")),
    ("settings", N_("Power, plugs, radius, units, language")),
    ("favourites", N_("Your saved chargers")),
    ("alerts", N_("Alerts when a favourite breaks")),
    ("language", N_("Change the language")),
    ("help", N_("What this bot can do")),
    ("privacy", N_("What the bot stores about you")),
)

# The commands of a group chat: a search anyone may start, and what admins set up for the group.
GROUP_COMMANDS: tuple[tuple[str, str], ...] = (
    ("near", N_("Chargers near a place, for the whole group")),
    ("watch", N_("Announce new or changed chargers in an area (admins)")),
    ("watches", N_("This group's watched areas (admins)")),
    ("settings", N_("The group's search settings and language (admins)")),
    ("help", N_("What this bot can do")),
    ("language", N_("Change the language")),
)

DESCRIPTION = N_(
    "Find charging stations for your electric car, from Open Charge Map: power, plugs, status, cost and "
    "what other drivers report. Share your location or type a place to start. Add the bot to a group to "
    "search together and get news of chargers in your area."
)
SHORT_DESCRIPTION = N_("EV charging stations near you, from Open Charge Map, in your language.")


@dataclass(frozen=True)
class BotMenus:
    """Everything Telegram shows about the bot in one language."""

    commands: dict[str, list[BotCommand]]
    description: str
    short_description: str


def bot_menus(t: Translator) -> BotMenus:
    return BotMenus(
        commands={
            PRIVATE_SCOPE: _commands(t, PRIVATE_COMMANDS),
            GROUP_SCOPE: _commands(t, GROUP_COMMANDS),
        },
        description=t.gettext(DESCRIPTION)[:DESCRIPTION_CHARS],
        short_description=t.gettext(SHORT_DESCRIPTION)[:SHORT_DESCRIPTION_CHARS],
    )


def _commands(t: Translator, commands: tuple[tuple[str, str], ...]) -> list[BotCommand]:
    return [BotCommand(name, t.gettext(description)[:COMMAND_DESCRIPTION_CHARS]) for name, description in commands]


def menu_language_codes(language: str) -> list[str]:
    """The Telegram language codes that should see ``language``'s menus: "nb" also for "no" and "nn".

    Telegram takes two-letter ISO 639-1 codes only, so a regional catalog ("pt_BR") is published
    under its language ("pt").
    """
    base = language.split("_")[0].lower()
    return [base, *sorted(alias for alias, target in LANGUAGE_ALIASES.items() if target == base)]
