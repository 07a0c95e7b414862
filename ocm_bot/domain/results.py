"""Where search results are kept for their buttons: in this process, or in storage for every instance.

A results message's buttons (‹ Prev / Next ›, the details buttons, filter chips, wider radius) name a
result by a short id. With one process, memory is enough (:class:`MemoryResults`, the default,
also used by tests and the demo). Behind a webhook with several instances on one PostgreSQL
database, the button may reach another instance than the search did, so the result is kept in
storage (:class:`StoredResults`): compactly, as the query and each hit's charger id, distance and
bearing; the chargers are read again from the charger source (its cache) when another instance
needs them. :class:`~ocm_bot.domain.search.SearchService` keeps a per-process read-through cache
in front of either, so paging on the instance that searched never reads storage.

Example::

    service = SearchService(source, results=StoredResults(storage))
    result = await service.nearby(point, prefs)      # kept in storage for result_ttl
    await other_instance.get(result.id)              # the same hits, read back by id
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from cachetools import TLRUCache, TTLCache

from ocm_bot.domain.filters import FilterKey
from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.preferences import UserPreferences
from ocm_bot.ocm.models import Charger
from ocm_bot.storage.base import StorageError

if TYPE_CHECKING:
    from ocm_bot.domain.search import SearchResult

log = logging.getLogger(__name__)

ChargerLookup = Callable[[list[int]], Awaitable[list[Charger]]]
"""Several chargers by id, in the order asked, unknown ones left out (``SearchService.chargers``)."""

KIND = "search"
"""The kind of the storage rows holding search results."""
_FORMAT = 1


class ShortLivedState(Protocol):
    """What :class:`StoredResults` and live-location sessions need from storage
    (``ocm_bot.storage.ShortLivedStore``; :class:`MemoryShortLived` for one process)."""

    async def put_short_lived(
        self, kind: str, key: str, value: Any, ttl_seconds: float, *, user_id: int | None = None
    ) -> None: ...

    async def get_short_lived(self, kind: str, key: str) -> Any: ...

    async def delete_short_lived(self, kind: str, key: str) -> bool: ...


class MemoryShortLived:
    """:class:`ShortLivedState` in this process's memory (one instance, tests)."""

    def __init__(self, *, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._kept: TLRUCache[tuple[str, str], tuple[Any, float]] = TLRUCache(
            max_entries, lambda _key, value, now: now + value[1], timer=clock
        )

    async def put_short_lived(
        self, kind: str, key: str, value: Any, ttl_seconds: float, *, user_id: int | None = None
    ) -> None:
        self._kept[(kind, key)] = (value, ttl_seconds)

    async def get_short_lived(self, kind: str, key: str) -> Any:
        kept = self._kept.get((kind, key))
        return None if kept is None else kept[0]

    async def delete_short_lived(self, kind: str, key: str) -> bool:
        return self._kept.pop((kind, key), None) is not None


NOTE_KIND = "note"
"""The kind of the storage rows holding notes (a Retry button's search, a choice of places)."""


class ResultStore(Protocol):
    """Keeps search results, and notes for buttons, under their id for ``ttl_seconds``."""

    async def save(self, result: SearchResult, ttl_seconds: float, *, owner: int | None = None) -> None:
        """Keep ``result``; ``owner`` (the driver's user id) lets /forget delete it."""
        ...

    async def load(self, search_id: str, chargers: ChargerLookup) -> SearchResult | None:
        """The result, or None once expired or unknown; ``chargers`` reads hits' chargers again if needed."""
        ...

    async def save_note(self, note_id: str, value: Any, ttl_seconds: float, *, owner: int | None = None) -> None:
        """Keep a JSON-able ``value`` (a button payload too big for callback data)."""
        ...

    async def load_note(self, note_id: str) -> Any:
        """The note, or None once expired or unknown."""
        ...


class MemoryResults:
    """Results in this process's memory: enough for one instance (tests, the demo, SQLite)."""

    def __init__(self, *, max_results: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        # max_results: about 40 MB at worst (40 hits each); older buttons expire.
        self._kept: TLRUCache[str, tuple[SearchResult, float]] = TLRUCache(
            max_results, lambda _key, value, now: now + value[1], timer=clock
        )
        self._notes: TLRUCache[str, tuple[Any, float]] = TLRUCache(
            max_results, lambda _key, value, now: now + value[1], timer=clock
        )

    async def save(self, result: SearchResult, ttl_seconds: float, *, owner: int | None = None) -> None:
        self._kept[result.id] = (result, ttl_seconds)

    async def load(self, search_id: str, chargers: ChargerLookup) -> SearchResult | None:
        kept = self._kept.get(search_id)
        return None if kept is None else kept[0]

    async def save_note(self, note_id: str, value: Any, ttl_seconds: float, *, owner: int | None = None) -> None:
        self._notes[note_id] = (value, ttl_seconds)

    async def load_note(self, note_id: str) -> Any:
        kept = self._notes.get(note_id)
        return None if kept is None else kept[0]


class StoredResults:
    """Results in storage, so that any instance sharing the database answers any button."""

    def __init__(self, storage: ShortLivedState) -> None:
        self._storage = storage
        # Notes storage refused (it was down): kept here, so that at least this instance answers.
        self._unstored: TTLCache[str, Any] = TTLCache(1000, 3600)

    async def save(self, result: SearchResult, ttl_seconds: float, *, owner: int | None = None) -> None:
        try:
            await self._storage.put_short_lived(KIND, result.id, to_record(result), ttl_seconds, user_id=owner)
        except StorageError as error:
            # The driver still gets the results; their buttons work on this instance only.
            log.warning("a search result could not be stored for other instances: %r", error)

    async def save_note(self, note_id: str, value: Any, ttl_seconds: float, *, owner: int | None = None) -> None:
        try:
            await self._storage.put_short_lived(NOTE_KIND, note_id, value, ttl_seconds, user_id=owner)
        except StorageError as error:
            log.warning("a button's note could not be stored for other instances: %r", error)
            self._unstored[note_id] = value

    async def load_note(self, note_id: str) -> Any:
        if note_id in self._unstored:
            return self._unstored[note_id]
        return await self._storage.get_short_lived(NOTE_KIND, note_id)

    async def load(self, search_id: str, chargers: ChargerLookup) -> SearchResult | None:
        record = await self._storage.get_short_lived(KIND, search_id)
        if not isinstance(record, dict) or record.get("v") != _FORMAT:
            return None
        ids = [int(hit[0]) for hit in record["hits"]]
        found = {charger.id: charger for charger in await chargers(ids)} if ids else {}
        return from_record(search_id, record, found)


def to_record(result: SearchResult) -> dict[str, Any]:
    """A JSON-able record of ``result``: the query and, per hit, charger id, distance and bearing."""
    return {
        "v": _FORMAT,
        "point": [result.point.latitude, result.point.longitude],
        "label": result.label,
        "radius_km": result.radius_km,
        "prefs": result.prefs.to_dict(),
        "hits": [[hit.charger.id, hit.distance_km, hit.bearing] for hit in result.hits],
        "relax": [[hint.key.value, hint.hidden] for hint in result.relax],
        "can_widen": result.can_widen,
        "country_iso": result.country_iso,
        "complete": result.complete,
        **_route_record(result),
    }


def _route_record(result: SearchResult) -> dict[str, Any]:
    """Area and route results add their kind, the route and each hit's detour (nearby ones add nothing)."""
    if result.kind.value == "nearby":
        return {}
    record: dict[str, Any] = {"kind": result.kind.value, "detours": [hit.detour_km for hit in result.hits]}
    if result.route is not None:
        route = result.route
        record["route"] = [
            route.destination.latitude,
            route.destination.longitude,
            route.destination_label,
            route.length_km,
            route.by_road,
        ]
    return record


def from_record(search_id: str, record: dict[str, Any], chargers: dict[int, Charger]) -> SearchResult:
    """The result ``to_record`` kept; hits whose charger is gone from the source are left out."""
    # search imports this module
    from ocm_bot.domain.search import Hit, RelaxHint, ResultKind, RouteInfo, SearchResult

    latitude, longitude = record["point"]
    detours = record.get("detours") or [None] * len(record["hits"])
    hits = tuple(
        Hit(chargers[int(charger_id)], float(distance), float(bearing), detour)
        for (charger_id, distance, bearing), detour in zip(record["hits"], detours, strict=True)
        if int(charger_id) in chargers
    )
    route = None
    if record.get("route"):
        lat, lon, label, length, by_road = record["route"]
        route = RouteInfo(GeoPoint(lat, lon), label, float(length), bool(by_road))
    return SearchResult(
        id=search_id,
        point=GeoPoint(latitude, longitude),
        label=record["label"],
        radius_km=float(record["radius_km"]),
        prefs=UserPreferences.from_dict(record["prefs"]),
        hits=hits,
        relax=tuple(RelaxHint(FilterKey(key), hidden) for key, hidden in record["relax"]),
        can_widen=bool(record["can_widen"]),
        country_iso=record["country_iso"],
        complete=bool(record["complete"]),
        kind=ResultKind(record.get("kind", "nearby")),
        route=route,
    )
