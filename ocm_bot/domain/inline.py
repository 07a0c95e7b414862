"""Inline and guest search: "@bot <place>" typed in any chat, answered from as few lookups as possible.

A person typing "@bot Leeds" sends Telegram one inline query per keystroke ("L", "Le", "Lee",
...). :class:`InlineSearch` keeps those from reaching Nominatim or OCM one by one:

- a query shorter than :data:`MIN_QUERY_CHARS` is never looked up;
- :class:`Debouncer`: a query waits :data:`DEBOUNCE_SECONDS` before its lookup, and a newer query
  of the same person (a later update) supersedes it at once, so only the query the person
  stopped typing at is looked up. Superseding goes by update order, not by arrival time, so it
  does not depend on which handler task happened to run first;
- the results of a query (normalised: case, spaces) with the driver's search preferences are kept
  for :data:`RESULT_SECONDS` and shared by concurrent askers: at most one geocoding and one OCM
  search per distinct query, and its pages (``next_offset``) come from the kept result.

Guest mode ("@bot CCS near Leeds" in a chat the bot has not joined) parses an optional plug or
power hint before "near" (:func:`parse_guest_request`) and shares the same cache.

Example::

    inline = InlineSearch(search_service, geocoder)
    if await inline.debouncer.settle(user_id, update_id):
        found = await inline.near_place("Leeds", prefs, language="en", owner=user_id)
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import Protocol

from cachetools import TTLCache

from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.places import Coordinates, PlaceInputError, parse_place
from ocm_bot.domain.preferences import UserPreferences
from ocm_bot.domain.search import SearchResult, SearchService
from ocm_bot.geocoding import GeocodedPlace

MIN_QUERY_CHARS = 3
"""Shorter queries are not looked up: "Le" names no place worth a Nominatim request."""
DEBOUNCE_SECONDS = 0.4
"""How long a query waits for a newer one of the same person before it is looked up."""
RESULT_SECONDS = 300.0
"""How long a query's results are kept (also Telegram's ``cache_time`` for them)."""
PAGE_SIZE = 10
"""Results per inline answer; the next ones come with ``next_offset``."""
POINT_DECIMALS = 3
"""A person's location is rounded to about 100 m for the cache: a step does not ask OCM again."""


class PlaceLookup(Protocol):
    """Place names to points (:class:`ocm_bot.geocoding.Geocoder`, the demo's gazetteer)."""

    async def search(self, query: str, *, language: str | None = None, limit: int = ...) -> list[GeocodedPlace]: ...


def normalise_query(text: str) -> str:
    """The cache key of a typed query: case, surrounding punctuation and repeated spaces do not count."""
    return " ".join(text.casefold().split()).strip(" ,.;:!?")


def searchable(text: str) -> bool:
    """Long enough to look up (:data:`MIN_QUERY_CHARS` letters or digits, spaces aside)."""
    return len(normalise_query(text).replace(" ", "")) >= MIN_QUERY_CHARS


@dataclass(frozen=True)
class PlaceNotFound:
    """The geocoder knows no place by that name."""

    query: str


@dataclass(frozen=True)
class GuestRequest:
    """What a guest message asks: a place, and an optional plug or power hint ("CCS near Leeds")."""

    place: str
    min_power_kw: float | None = None
    plug_words: tuple[str, ...] = ()

    def preferences(self, prefs: UserPreferences, connector_ids: frozenset[int]) -> UserPreferences:
        """``prefs`` narrowed by the hint (``connector_ids``: the plug types the words name)."""
        changed = prefs
        if self.min_power_kw is not None:
            changed = replace(changed, min_power_kw=self.min_power_kw)
        if connector_ids:
            changed = replace(changed, connection_type_ids=connector_ids)
        return changed


_POWER = re.compile(r"^(?:>=?|≥)?\s*(\d{1,3}(?:[.,]\d)?)\s*kw$", re.IGNORECASE)
_NEAR = re.compile(r"\s+(?:near|in|around|at)\s+", re.IGNORECASE)


def parse_guest_request(text: str, bot_username: str | None) -> GuestRequest:
    """ "@bot CCS 50kW near Leeds" -> place "Leeds", 50 kW, plug words ("CCS",); "@bot Leeds" -> "Leeds"."""
    words = [w for w in text.split() if not (bot_username and w.casefold() == f"@{bot_username}".casefold())]
    cleaned = " ".join(words)
    parts = _NEAR.split(f" {cleaned}", maxsplit=1)
    if len(parts) != 2 or not parts[1].strip():
        return GuestRequest(cleaned.removeprefix("near ").strip())
    hint, place = re.sub(r"(\d)\s+kw\b", r"\1kW", parts[0].strip(), flags=re.IGNORECASE), parts[1].strip()
    power: float | None = None
    plugs: list[str] = []
    for word in re.split(r"[\s,]+", hint):
        if not word:
            continue
        if match := _POWER.match(word):
            power = float(match.group(1).replace(",", "."))
        elif word.isdigit() and plugs:
            plugs[-1] = f"{plugs[-1]} {word}"  # "Type 2"
        elif word.casefold() not in ("chargers", "charger", "fast", "a", "any"):
            plugs.append(word)
    return GuestRequest(place, power, tuple(plugs))


def connector_ids_for(words: Iterable[str], connection_types: dict[int, str]) -> frozenset[int]:
    """The OCM plug types whose title contains every letter group of one of ``words`` ("CCS" -> CCS 1 and 2)."""
    found: set[int] = set()
    for word in words:
        needle = re.sub(r"[^0-9a-z]", "", word.casefold())
        if len(needle) < 3:
            continue
        found.update(
            type_id
            for type_id, title in connection_types.items()
            if needle in re.sub(r"[^0-9a-z]", "", title.casefold())
        )
    return frozenset(found)


class Debouncer:
    """Lets through only the last query of a burst from one person.

    ``settle(person, order)`` returns True after :data:`DEBOUNCE_SECONDS` when no later query of
    the same person came, and False as soon as one did (or one already had: ``order`` is the
    update's position, so a late-running handler of an older query gives way too).
    """

    def __init__(self, delay: float = DEBOUNCE_SECONDS) -> None:
        self._delay = delay
        self._latest: dict[int, tuple[int, asyncio.Event]] = {}

    async def settle(self, person: int, order: int) -> bool:
        current = self._latest.get(person)
        if current is not None:
            if current[0] > order:
                return False
            current[1].set()  # an older query still waiting: superseded
        superseded = asyncio.Event()
        self._latest[person] = (order, superseded)
        try:
            async with asyncio.timeout(self._delay):
                await superseded.wait()
            return False
        except TimeoutError:
            return True
        finally:
            if self._latest.get(person, (None, None))[1] is superseded:
                del self._latest[person]


Found = SearchResult | PlaceNotFound


class InlineSearch:
    """Nearby search for inline and guest queries, cached per normalised query and preferences."""

    def __init__(
        self,
        search: SearchService,
        geocoder: PlaceLookup,
        *,
        debounce_seconds: float = DEBOUNCE_SECONDS,
        result_seconds: float = RESULT_SECONDS,
        max_kept: int = 2048,
    ) -> None:
        self._search = search
        self._geocoder = geocoder
        self.debouncer = Debouncer(debounce_seconds)
        self._kept: TTLCache[tuple[object, ...], Found] = TTLCache(max_kept, result_seconds)
        self._running: dict[tuple[object, ...], asyncio.Future[Found]] = {}

    def cached_place(self, text: str, prefs: UserPreferences) -> Found | None:
        """The kept answer for ``text`` with ``prefs``, without any lookup (None when there is none)."""
        return self._kept.get(("place", normalise_query(text), _search_key(prefs)))

    async def near_place(self, text: str, prefs: UserPreferences, *, language: str | None, owner: int | None) -> Found:
        """The chargers near the place ``text`` names (coordinates, a map link, or the geocoder's best
        match), nearest first."""
        key = ("place", normalise_query(text), _search_key(prefs))

        async def look_up() -> Found:
            try:
                typed = parse_place(text)
            except PlaceInputError:
                return PlaceNotFound(text)
            if isinstance(typed, Coordinates):  # coordinates and map links need no geocoder
                label = typed.label or typed.as_typed
                return await self._search.nearby(typed.point, prefs, label=label, owner=owner)
            places = await self._geocoder.search(text, language=language)
            if not places:
                return PlaceNotFound(text)
            place = places[0]  # the geocoder's ranking: inline mode cannot ask which one was meant
            return await self._search.nearby(
                place.point, prefs, label=place.short_label, country_iso=place.country_code, owner=owner
            )

        return await self._once(key, look_up)

    async def near_point(self, point: GeoPoint, prefs: UserPreferences, *, owner: int | None) -> SearchResult:
        """The chargers near a person's location (rounded to about 100 m for the cache)."""
        rounded = GeoPoint(round(point.latitude, POINT_DECIMALS), round(point.longitude, POINT_DECIMALS))
        key = ("point", rounded, _search_key(prefs))
        found = await self._once(key, lambda: self._search.nearby(point, prefs, owner=owner))
        assert isinstance(found, SearchResult)
        return found

    async def _once(self, key: tuple[object, ...], run: Callable[[], Awaitable[Found]]) -> Found:
        kept = self._kept.get(key)
        if kept is not None:
            return kept
        running = self._running.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[Found] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            found = await run()
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: an asker that left must not leave it unobserved
            raise
        else:
            future.set_result(found)
            self._kept[key] = found
            return found
        finally:
            del self._running[key]


def _search_key(prefs: UserPreferences) -> tuple[object, ...]:
    """The preferences that change which chargers are found (not the language or the page size)."""
    return (
        prefs.radius_km,
        prefs.min_power_kw,
        prefs.connection_type_ids,
        prefs.operator_ids,
        prefs.level_ids,
        prefs.usage,
        prefs.operational_only,
        prefs.open_data_only,
        prefs.unit,
    )
