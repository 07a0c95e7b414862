"""Typed access to the bot's services from handlers (no string keys into ``bot_data``).

Example::

    async def on_location(update: Update, context: BotContext) -> None:
        results = await context.services.search.nearby(...)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

from ocm_bot.settings import Settings
from ocm_bot.views.callbacks import CallbackCodec

if TYPE_CHECKING:
    from ocm_bot.ocm.source import ChargerSource


@dataclass
class Services:
    """Long-lived clients and domain services, built once in ``post_init``.

    Fields typed ``Any`` are filled by the feature that owns them (storage, geocoder, search,
    check-in); see :func:`ocm_bot.app.open_services`.
    """

    settings: Settings
    callbacks: CallbackCodec
    chargers: ChargerSource | None = None
    ocm_client: Any = None
    storage: Any = None
    geocoder: Any = None
    search: Any = None
    checkin: Any = None
    closers: list[Any] = field(default_factory=list)


class BotData:
    """Application-wide state: ``settings`` from the start, ``services`` once ``post_init`` ran."""

    settings: Settings
    services: Services


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The context every handler receives."""

    @property
    def services(self) -> Services:
        return self.bot_data.services


BotApplication = Application[ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], BotData, Any]
