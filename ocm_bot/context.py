"""Typed access to the bot's services from handlers (no string keys into ``bot_data``).

Example::

    async def on_location(update: Update, context: BotContext) -> None:
        results = await context.services.search.nearby(...)
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from telegram.ext import Application, CallbackContext, ExtBot

from ocm_bot.domain.checkin import CheckinService
from ocm_bot.domain.inline import InlineSearch
from ocm_bot.domain.photos import PhotoService
from ocm_bot.domain.route import RoutePlanner
from ocm_bot.domain.search import SearchService
from ocm_bot.domain.search_limit import SearchRateLimit
from ocm_bot.domain.watch_poller import WatchPoller
from ocm_bot.geocoding import GeocodedPlace
from ocm_bot.ocm.source import ChargerSource
from ocm_bot.ocm.writing import CommentSubmission, OcmSession
from ocm_bot.settings import Settings
from ocm_bot.storage import Storage
from ocm_bot.storage.base import utc_now
from ocm_bot.views.callbacks import CallbackCodec


class OcmApi(ChargerSource, Protocol):
    """Open Charge Map as the bot uses it: search, sign-in, check-ins (:class:`ocm_bot.ocm.client.OcmClient`;
    the offline demo's :class:`ocm_bot.demo.ocm.DemoOcm`)."""

    async def authenticate(self, email: str, password: str) -> OcmSession: ...

    async def submit_comment(
        self, submission: CommentSubmission, *, token: str | None = None, write_key: str | None = None
    ) -> None: ...

    async def aclose(self) -> None: ...


class PlaceFinder(Protocol):
    """Place names to points (:class:`ocm_bot.geocoding.Geocoder` on Nominatim; the demo's offline gazetteer)."""

    async def search(
        self, query: str, *, language: str | None = None, limit: int = ..., outline: bool = ...
    ) -> list[GeocodedPlace]: ...

    async def close(self) -> None: ...


Closer = Callable[[], Awaitable[None]]


@dataclass
class Services:
    """Long-lived clients and domain services, every one built by :func:`ocm_bot.app.open_services`
    (the composition root) in ``post_init``; handlers read them, never build them."""

    settings: Settings
    callbacks: CallbackCodec
    storage: Storage
    ocm_client: OcmApi
    chargers: ChargerSource  # the OCM client, or the operator's local dump (OCM_DATA_FILE)
    geocoder: PlaceFinder
    search: SearchService
    checkin: CheckinService
    watch_poller: WatchPoller  # one OCM request per interval for every watch (under a storage lease)
    inline: InlineSearch  # inline and guest queries: debounced, cached per query
    routes: RoutePlanner  # ROUTER_URL's OSRM router, else great circles
    photos: PhotoService  # drivers' photos of chargers, through the check-in outbox
    search_limit: SearchRateLimit = field(default_factory=lambda: SearchRateLimit(0, time.monotonic))
    closers: list[Closer] = field(default_factory=list)  # closed in reverse order at shutdown
    clock: Callable[[], datetime] = utc_now  # the time groups' quiet hours are read against


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
