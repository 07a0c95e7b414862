"""A driver's favourite chargers: kept in storage, shown with their current OCM data.

Example::

    favourites = Favourites(storage, search_service)
    await favourites.toggle(user_id, 100627)     # True: now a favourite
    chargers, gone = await favourites.chargers(user_id)   # one OCM request for all of them
"""

from __future__ import annotations

from ocm_bot.domain.search import SearchService
from ocm_bot.errors import OcmBotError
from ocm_bot.ocm.models import Charger
from ocm_bot.storage.base import FavouriteStore

MAX_FAVOURITES = 30
"""Enough for a driver's regular stops; keeps /favourites to one message and one OCM request."""


class FavouritesFull(OcmBotError):
    """The driver already has :data:`MAX_FAVOURITES` favourites."""


class Favourites:
    def __init__(self, storage: FavouriteStore, search: SearchService, *, limit: int = MAX_FAVOURITES) -> None:
        self._storage = storage
        self._search = search
        self._limit = limit

    async def is_favourite(self, user_id: int, charger_id: int) -> bool:
        return await self._storage.is_favourite(user_id, charger_id)

    async def toggle(self, user_id: int, charger_id: int) -> bool:
        """Add or remove ``charger_id``; True when it is a favourite afterwards."""
        if await self._storage.remove_favourite(user_id, charger_id):
            return False
        if len(await self._storage.list_favourites(user_id)) >= self._limit:
            raise FavouritesFull(charger_id)
        await self._storage.add_favourite(user_id, charger_id)
        return True

    async def chargers(self, user_id: int) -> tuple[list[Charger], list[int]]:
        """The favourites OCM still lists (oldest first), and the IDs it no longer does."""
        ids = await self._storage.list_favourites(user_id)
        if not ids:
            return [], []
        found = await self._search.chargers(ids)
        known = {charger.id for charger in found}
        return found, [charger_id for charger_id in ids if charger_id not in known]
