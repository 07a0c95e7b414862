"""Small helpers every handler module shares: the user's translator and preferences."""

from __future__ import annotations

from telegram import Update

from ocm_bot.context import BotContext
from ocm_bot.domain.preferences import UserPreferences
from ocm_bot.i18n import Translator, negotiate_language, translator


async def preferences_for(update: Update, context: BotContext) -> UserPreferences:
    """The saved preferences of the update's user (defaults for a new user or a group)."""
    user = update.effective_user
    storage = context.services.storage
    if user is None or storage is None:
        return UserPreferences()
    return UserPreferences.from_dict(await storage.get_user(user.id) or {})


async def translator_for(update: Update, context: BotContext) -> Translator:
    """The translator for the update's user: saved override, Telegram language, bot default."""
    prefs = await preferences_for(update, context)
    user = update.effective_user
    language = negotiate_language(
        prefs.language,
        user.language_code if user else None,
        default=context.services.settings.default_language,
    )
    return translator(language)
