"""Watches: a chat's area (centre, radius, filters) whose new, broken and fixed chargers it is told of.

A :class:`Watch` is kept as a subscription in storage (``SubscriptionStore``); its JSON ``data`` is
owned here (:meth:`Watch.to_data` / :meth:`Watch.from_data`). :class:`WatchBook` adds, lists,
changes and removes a chat's watches. :class:`WatchIndex` answers "which watches contain this point
and accept this charger" without looking at every watch: each watch sits in the few grid cells its
circle touches, on a grid level whose cells are at least as wide as its radius.

Example::

    book = WatchBook(storage)
    watch = await book.add(WatchDraft(chat_id=-100123, centre=GeoPoint(51.52, -0.03), radius_km=5))
    index = WatchIndex(await book.all())
    for watch in index.matching(charger):
        ...
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from ocm_bot.domain.geo import GeoPoint
from ocm_bot.errors import InputError
from ocm_bot.geometry import KM_PER_DEGREE, hav, hav_of_km
from ocm_bot.ocm.models import Charger
from ocm_bot.storage.base import JSON, Subscription, SubscriptionStore

MIN_RADIUS_KM = 0.1
MAX_RADIUS_KM = 100.0
DATA_VERSION = 1


class Announce(enum.StrEnum):
    """What a watch tells its chat about (stored values)."""

    NEW = "new"  # a charger that was not there before
    STATUS = "status"  # working <-> not working, or removed
    FAULT = "fault"  # a new check-in reporting a failure


ALL_ANNOUNCEMENTS = frozenset(Announce)


class InvalidWatch(InputError):
    """A watch's area or filters are out of range (the guided flow keeps drivers from reaching it)."""


@dataclass(frozen=True, slots=True)
class WatchFilters:
    """Which chargers a watch accepts; empty sets and None mean "any"."""

    min_power_kw: float | None = None
    connection_type_ids: frozenset[int] = frozenset()
    operator_ids: frozenset[int] = frozenset()

    def accepts(self, charger: Charger) -> bool:
        if self.operator_ids and (charger.operator is None or charger.operator.id not in self.operator_ids):
            return False
        if self.min_power_kw is None and not self.connection_type_ids:
            return True
        # One connection must meet both: a 50 kW CHAdeMO does not make a 7 kW Type 2 fast.
        for connection in charger.connections:
            if self.connection_type_ids and (
                connection.connection_type is None or connection.connection_type.id not in self.connection_type_ids
            ):
                continue
            if self.min_power_kw is not None and (
                connection.power_kw is None or connection.power_kw < self.min_power_kw
            ):
                continue
            return True
        return False


@dataclass(frozen=True, slots=True)
class WatchDraft:
    """A watch before storage gave it an id."""

    chat_id: int
    centre: GeoPoint
    radius_km: float
    filters: WatchFilters = WatchFilters()
    announce: frozenset[Announce] = ALL_ANNOUNCEMENTS
    paused: bool = False
    label: str = ""  # how the group named the area ("Leeds"), shown in /watches

    def __post_init__(self) -> None:
        if not math.isfinite(self.radius_km) or not MIN_RADIUS_KM <= self.radius_km <= MAX_RADIUS_KM:
            raise InvalidWatch(f"radius must be {MIN_RADIUS_KM}-{MAX_RADIUS_KM} km, got {self.radius_km!r}")
        power = self.filters.min_power_kw
        if power is not None and (not math.isfinite(power) or power < 0):
            raise InvalidWatch(f"minimum power must be a positive number, got {power!r}")
        if not self.announce:
            raise InvalidWatch("a watch announces at least one kind of event")


@dataclass(frozen=True, slots=True)
class Watch(WatchDraft):
    """A stored watch: one chat's area and what it wants to hear about it."""

    id: int = field(default=0, kw_only=True)

    def contains(self, charger: Charger) -> bool:
        """The charger lies within the radius (measured on the sphere, as the search does)."""
        address = charger.address
        return _within(self.centre.latitude, self.centre.longitude, address.latitude, address.longitude, self.radius_km)

    def accepts(self, charger: Charger) -> bool:
        """Inside the area and through the filters (paused or not: the caller decides)."""
        return self.contains(charger) and self.filters.accepts(charger)

    def wants(self, kind: Announce) -> bool:
        return not self.paused and kind in self.announce

    def to_data(self) -> dict[str, JSON]:
        return _data_of(self)

    @classmethod
    def from_subscription(cls, subscription: Subscription) -> Watch:
        return cls.from_data(subscription.id, subscription.chat_id, subscription.data)

    @classmethod
    def from_data(cls, watch_id: int, chat_id: int, data: Any) -> Watch:
        """The watch stored as ``data``; a document this code cannot read raises :class:`InvalidWatch`."""
        try:
            filters = WatchFilters(
                min_power_kw=None if data.get("min_power_kw") is None else float(data["min_power_kw"]),
                connection_type_ids=frozenset(int(i) for i in data.get("connection_type_ids") or ()),
                operator_ids=frozenset(int(i) for i in data.get("operator_ids") or ()),
            )
            return cls(
                chat_id=chat_id,
                centre=GeoPoint(float(data["lat"]), float(data["lon"])),
                radius_km=float(data["radius_km"]),
                filters=filters,
                announce=frozenset(Announce(a) for a in data.get("announce", [a.value for a in Announce])),
                paused=bool(data.get("paused", False)),
                label=str(data.get("label") or ""),
                id=watch_id,
            )
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise InvalidWatch(f"watch {watch_id} cannot be read: {error}") from None


def _data_of(draft: WatchDraft) -> dict[str, JSON]:
    return {
        "v": DATA_VERSION,
        "lat": draft.centre.latitude,
        "lon": draft.centre.longitude,
        "radius_km": draft.radius_km,
        "min_power_kw": draft.filters.min_power_kw,
        "connection_type_ids": sorted(draft.filters.connection_type_ids),
        "operator_ids": sorted(draft.filters.operator_ids),
        "announce": sorted(a.value for a in draft.announce),
        "paused": draft.paused,
        "label": draft.label,
    }


class WatchBook:
    """A chat's watches in storage (subscriptions whose ``data`` is a watch)."""

    def __init__(self, storage: SubscriptionStore) -> None:
        self.storage = storage

    async def add(self, draft: WatchDraft) -> Watch:
        watch_id = await self.storage.save_subscription(draft.chat_id, _data_of(draft))
        return Watch(**{name: getattr(draft, name) for name in WatchDraft.__dataclass_fields__}, id=watch_id)

    async def update(self, watch: Watch) -> Watch:
        """Store a changed watch (same id, same chat); :class:`InvalidWatch` if it is not that chat's."""
        if await self.get(watch.chat_id, watch.id) is None:
            raise InvalidWatch(f"chat {watch.chat_id} has no watch {watch.id}")
        await self.storage.save_subscription(watch.chat_id, watch.to_data(), subscription_id=watch.id)
        return watch

    async def set_paused(self, chat_id: int, watch_id: int, paused: bool) -> Watch | None:
        watch = await self.get(chat_id, watch_id)
        if watch is None:
            return None
        return await self.update(replace(watch, paused=paused))

    async def get(self, chat_id: int, watch_id: int) -> Watch | None:
        for watch in await self.for_chat(chat_id):
            if watch.id == watch_id:
                return watch
        return None

    async def for_chat(self, chat_id: int) -> list[Watch]:
        return list(_readable(await self.storage.subscriptions_for(chat_id)))

    async def all(self) -> list[Watch]:
        """Every readable watch (one that cannot be read is left out, never fatal)."""
        return list(_readable(await self.storage.list_subscriptions()))

    async def remove(self, chat_id: int, watch_id: int) -> bool:
        """Remove one of the chat's watches; False if the chat has no such watch."""
        if await self.get(chat_id, watch_id) is None:
            return False
        return await self.storage.delete_subscription(watch_id)


def _readable(subscriptions: Iterable[Subscription]) -> Iterator[Watch]:
    for subscription in subscriptions:
        try:
            yield Watch.from_subscription(subscription)
        except InvalidWatch:
            continue


# The spatial index ------------------------------------------------------------------------------


_FINEST_LEVEL = 16  # cells of 360/2**16 degrees: about 0.6 km north-south
_COARSEST_LEVEL = 2  # cells of 90 degrees

Cell = int  # (level << 40) | (row << 20) | column: one small int per cell keeps the index compact


def _level_for(radius_km: float) -> int:
    """The finest grid level whose cells are at least ``radius_km`` tall (so a circle spans <= 3 rows)."""
    level = math.floor(math.log2(360 * KM_PER_DEGREE / radius_km))
    return max(_COARSEST_LEVEL, min(_FINEST_LEVEL, level))


def _cell_degrees(level: int) -> float:
    return 360.0 / (1 << level)


def _row_col(level: int, latitude: float, longitude: float) -> tuple[int, int]:
    step = _cell_degrees(level)
    columns = 1 << level
    row = min(int((latitude + 90.0) // step), (columns >> 1) - 1)
    return row, int((longitude + 180.0) // step) % columns


def _cell(level: int, row: int, column: int) -> Cell:
    return (level << 40) | (row << 20) | column


def _cells_of(watch: WatchDraft) -> list[Cell]:
    """Every cell of the watch's level that its circle may touch (its bounding box, wrapped at 180°)."""
    level = _level_for(watch.radius_km)
    step = _cell_degrees(level)
    columns = 1 << level
    lat, lon = watch.centre.latitude, watch.centre.longitude
    dlat = watch.radius_km / KM_PER_DEGREE
    south, north = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    widest = max(abs(south), abs(north))
    dlon = 180.0 if widest >= 89.9 else min(180.0, dlat / math.cos(math.radians(widest)))
    first_row, last_row = _row_col(level, south, 0)[0], _row_col(level, north, 0)[0]
    first_column = int((lon - dlon + 180.0) // step)
    last_column = int((lon + dlon + 180.0) // step)
    if last_column - first_column + 1 >= columns:
        first_column, last_column = 0, columns - 1
    return [
        _cell(level, row, column % columns)
        for row in range(first_row, last_row + 1)
        for column in range(first_column, last_column + 1)
    ]


def _within(lat1: float, lon1: float, lat2: float, lon2: float, radius_km: float) -> bool:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    h = hav(phi2 - phi1) + math.cos(phi1) * math.cos(phi2) * hav(math.radians(lon2 - lon1))
    return h <= hav_of_km(radius_km)


class WatchIndex:
    """Watches by grid cell: a point is looked up in one cell per level in use, never in every watch."""

    def __init__(self, watches: Iterable[Watch] = ()) -> None:
        self._cells: dict[Cell, list[Watch]] = {}
        self._levels: list[int] = []
        self._count = 0
        for watch in watches:
            self.add(watch)

    def __len__(self) -> int:
        return self._count

    def add(self, watch: Watch) -> None:
        for cell in _cells_of(watch):
            self._cells.setdefault(cell, []).append(watch)
            if cell >> 40 not in self._levels:
                self._levels.append(cell >> 40)
        self._count += 1

    def around(self, latitude: float, longitude: float) -> Iterator[Watch]:
        """Watches whose circle contains the point (paused ones too; filters not applied)."""
        for level in self._levels:
            for watch in self._cells.get(_cell(level, *_row_col(level, latitude, longitude)), ()):
                centre = watch.centre
                if _within(centre.latitude, centre.longitude, latitude, longitude, watch.radius_km):
                    yield watch

    def matching(self, charger: Charger) -> Iterator[Watch]:
        """Watches that contain the charger and whose filters accept it (paused ones too)."""
        address = charger.address
        for watch in self.around(address.latitude, address.longitude):
            if watch.filters.accepts(charger):
                yield watch
