"""Small helpers every handler module shares: the user's translator and preferences."""

from __future__ import annotations

from typing import Any

from telegram import Update

from ocm_bot.context import BotContext
from ocm_bot.domain.preferences import UserPreferences
from ocm_bot.i18n import Translator, negotiate_language, translator


async def preferences_for(update: Update, context: BotContext) -> UserPreferences:
    """The saved preferences of the update's user (defaults for a new user or a group)."""
    _, prefs = await load_preferences(update, context)
    return prefs


async def load_preferences(update: Update, context: BotContext) -> tuple[dict[str, Any], UserPreferences]:
    """The user's stored document (other features may keep keys there too) and their preferences."""
    user, storage = update.effective_user, context.services.storage
    document = (await storage.get_user(user.id) or {}) if user is not None and storage is not None else {}
    return document, UserPreferences.from_dict(document)


async def save_preferences(context: BotContext, user_id: int, document: dict[str, Any], prefs: UserPreferences) -> None:
    """Save ``prefs`` into the user's document, keeping whatever else is stored there."""
    storage = context.services.storage
    if storage is None:
        raise RuntimeError("settings cannot be saved: storage is not configured")
    await storage.save_user(user_id, {**document, **prefs.to_dict()})


async def translator_for(update: Update, context: BotContext) -> Translator:
    """The translator for the update's user: saved override, Telegram language, bot default."""
    return driver_translator(update, context, await preferences_for(update, context))


def driver_translator(update: Update, context: BotContext, prefs: UserPreferences) -> Translator:
    """The translator for ``prefs`` (just read or just changed), without reading storage again."""
    user = update.effective_user
    language = negotiate_language(
        prefs.language,
        user.language_code if user else None,
        default=context.services.settings.default_language,
    )
    return translator(language)
