"""Nearby search: asks OCM as rarely as it can and remembers results for paging.

Over 400 lines (about 410): the search service and the result record every kind of search shares
(nearby, area, route) belong together; area and route add only their fields and two entry points.

:class:`SearchService` answers "the nearest chargers around this point for these preferences"
with a :class:`SearchResult` (distances and bearings computed here, nearest first), kept under a
short id so that paging, details and filter chips work without asking OCM again.

When OCM is asked, and when not: the source's one search cache decides
(:class:`~ocm_bot.ocm.cached_source.CachingSource`, in front of any source that lacks one).
An earlier answer is reused when it proves the new one, or at least :data:`REUSE_MIN_HITS` of
its nearest chargers that pass the driver's filters; the local filter
(:func:`~ocm_bot.domain.filters.matches`) then narrows it. So paging, a narrower filter, a status
or usage change, and a live location moving inside the circle cost no OCM call; a new place, a
wider radius or a wider server filter does. Chargers by ID come from the source's cache too.

A result with few chargers says which active filters hide how many (:class:`RelaxHint`) and
whether a wider radius is possible.

Example::

    service = SearchService(ocm_client)
    result = await service.nearby(GeoPoint(45.5122, -122.6587), prefs, label="Pioneer Square")
    result.page(0, 5)                 # the first five hits
    await service.get(result.id)      # the same result, kept for its buttons (None once expired)
"""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from cachetools import TTLCache

from ocm_bot.domain.filters import (
    MAX_RESULTS,
    FilterKey,
    ServerFilter,
    active_filters,
    failed_filters,
    ocm_query,
    without,
)
from ocm_bot.domain.geo import GeoPoint, haversine_km, initial_bearing
from ocm_bot.domain.live import LiveTracker
from ocm_bot.domain.preferences import RADIUS_STEPS_KM, DistanceUnitChoice, UserPreferences
from ocm_bot.domain.preferences_edit import RADIUS_STEPS_MI
from ocm_bot.domain.result_kinds import ResultKind, RouteInfo
from ocm_bot.domain.results import MemoryResults, ResultStore
from ocm_bot.domain.units import place_country, unit_for_place
from ocm_bot.geometry import miles_to_km
from ocm_bot.ocm.cached_source import CachingSource
from ocm_bot.ocm.errors import OcmUnavailable
from ocm_bot.ocm.models import Charger
from ocm_bot.ocm.source import CachedChargerSource, ChargerSource, may_be_partial, returned_count

REUSE_MIN_HITS = 10
"""An earlier answer that covers less than the radius is still used if it proves two pages of matches."""
MAX_RADIUS_KM = 100.0  # the OCM client's cap too: OCM is not asked for wider circles
WIDER_RADIUS_STEPS_KM = (*RADIUS_STEPS_KM, MAX_RADIUS_KM)
_EDGE_TOLERANCE = 1.005  # OCM's and our distance formulas differ a little at the edge of the radius


@dataclass(frozen=True, slots=True)
class Hit:
    """A charger as seen from the search point; on a route, ``distance_km`` is along it from the start."""

    charger: Charger
    distance_km: float
    bearing: float
    detour_km: float | None = None  # on a route: twice the distance from the line (there and back)


@dataclass(frozen=True, slots=True)
class RelaxHint:
    """An active filter that hides results; ``hidden`` is None when OCM applied it (count unknown)."""

    key: FilterKey
    hidden: int | None


@dataclass(frozen=True)
class SearchResult:
    id: str
    point: GeoPoint
    label: str | None
    radius_km: float
    prefs: UserPreferences
    hits: tuple[Hit, ...]
    relax: tuple[RelaxHint, ...] = ()
    can_widen: bool = False
    country_iso: str | None = None
    """The searched place's country as far as the unit goes (:func:`~ocm_bot.domain.units.place_country`)."""
    complete: bool = True
    """False when OCM's answer stopped short of the radius: the hits are the nearest ones, not all."""
    kind: ResultKind = ResultKind.NEARBY
    route: RouteInfo | None = None

    def page_count(self, size: int | None = None) -> int:
        size = size or self.prefs.page_size
        return max(1, math.ceil(len(self.hits) / size))

    def page(self, number: int, size: int | None = None) -> tuple[Hit, ...]:
        """Hits on page ``number`` (0-based; clamped to the pages there are)."""
        size = size or self.prefs.page_size
        number = min(max(0, number), self.page_count(size) - 1)
        return self.hits[number * size : (number + 1) * size]

    @property
    def unit(self) -> DistanceUnitChoice:
        """The unit of every distance shown for this search: the driver's, else the place's (never the results')."""
        return unit_for_place(self.prefs, self.country_iso)

    @property
    def few(self) -> bool:
        return len(self.hits) < self.prefs.page_size


@dataclass(frozen=True, slots=True)
class _Fetch:
    """What the source answered for one search, and the circle within which it is complete."""

    point: GeoPoint
    server: ServerFilter
    chargers: tuple[Charger, ...]
    radius_km: float
    coverage_km: float
    complete: bool


@dataclass
class SearchStats:
    """Counters for the benchmark and the logs."""

    searches: int = 0
    source_searches: int = 0  # asked of the source (its cache may answer them without OCM)
    source_lookups: int = 0


class SearchService:
    """Nearby search, details and favourites' lookups over a :class:`ChargerSource`."""

    def __init__(
        self,
        source: ChargerSource,
        *,
        max_results: int = MAX_RESULTS,
        result_ttl: float = 3600.0,
        max_cached_results: int = 10_000,  # about 40 MB at worst (40 hits each); older buttons expire
        deadline: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        live: LiveTracker | None = None,
        results: ResultStore | None = None,
    ) -> None:
        """``results`` keeps results for their buttons (default: this process's memory; with several
        instances, :class:`~ocm_bot.domain.results.StoredResults`); ``_results`` reads through it."""
        # The one search cache is the source's; a source without one gets it here.
        self._source: CachedChargerSource = (
            source if isinstance(source, CachedChargerSource) else CachingSource(source, clock=clock)
        )
        self.live = live or LiveTracker(clock=clock)
        self._max_results = max_results
        self._deadline = deadline
        self._clock = clock
        self._results: TTLCache[str, SearchResult] = TTLCache(max_cached_results, result_ttl, timer=clock)
        self._result_ttl = result_ttl
        self._kept = results or MemoryResults(max_results=max_cached_results, clock=clock)
        self.stats = SearchStats()

    @property
    def result_ttl(self) -> float:
        """How long a result (and its buttons) is kept, in seconds."""
        return self._result_ttl

    # Searching ---------------------------------------------------------------------------------

    async def nearby(
        self,
        point: GeoPoint,
        prefs: UserPreferences,
        *,
        label: str | None = None,
        radius_km: float | None = None,
        country_iso: str | None = None,
        owner: int | None = None,
    ) -> SearchResult:
        """The chargers around ``point`` that ``prefs`` lets through, nearest first.

        ``country_iso`` is the geocoder's country for a typed place (else it is read from ``point``);
        ``owner`` is the driver's user id (their kept result is deleted by /forget).
        """
        radius = min(radius_km or prefs.radius_km, MAX_RADIUS_KM)
        server = ServerFilter.of(prefs)
        self.stats.searches += 1
        fetch = await self._fetch(point, server, prefs, radius)
        result = self._result(fetch, point, prefs, radius, label)
        return await self._store(replace(result, country_iso=place_country(point, country_iso)), owner)

    async def get(self, search_id: str) -> SearchResult | None:
        """A result kept from an earlier search, by this instance or another (None once expired or unknown)."""
        found = self._results.get(search_id)
        if found is None:
            found = await self._kept.load(search_id, self.chargers)
            if found is not None:
                self._results[search_id] = found
        return found

    async def refine(self, search_id: str, prefs: UserPreferences, *, owner: int | None = None) -> SearchResult | None:
        """The same search with other preferences (the same point, label and radius)."""
        previous = await self.get(search_id)
        if previous is None:
            return None
        return await self.nearby(
            previous.point,
            prefs,
            label=previous.label,
            radius_km=previous.radius_km,
            country_iso=previous.country_iso,
            owner=owner,
        )

    async def relax(self, search_id: str, key: FilterKey, *, owner: int | None = None) -> SearchResult | None:
        """The same search with one filter switched off."""
        previous = await self.get(search_id)
        if previous is None:
            return None
        return await self.refine(search_id, without(previous.prefs, key), owner=owner)

    async def widen(self, search_id: str, *, owner: int | None = None) -> SearchResult | None:
        """The same search with the next larger radius."""
        previous = await self.get(search_id)
        if previous is None:
            return None
        radius = wider_radius(previous.radius_km, previous.unit)
        return await self.nearby(
            previous.point,
            previous.prefs,
            label=previous.label,
            radius_km=radius,
            country_iso=previous.country_iso,
            owner=owner,
        )

    async def keep(self, result: SearchResult, *, owner: int | None = None) -> SearchResult:
        """Keep an area or route result (domain/area.py, domain/route.py) for its buttons."""
        return await self._store(result, owner)

    async def ask(self, search: Callable[[CachedChargerSource], Any]) -> Any:
        return await self._with_deadline(search(self._source))

    # Single chargers ---------------------------------------------------------------------------

    async def charger(self, charger_id: int, *, include_comments: bool = False) -> Charger | None:
        """One charger by OCM ID (the source keeps it a few minutes), or None when OCM does not know it."""
        found = await self.chargers([charger_id], include_comments=include_comments)
        return found[0] if found else None

    async def chargers(self, charger_ids: list[int], *, include_comments: bool = False) -> list[Charger]:
        """Several chargers in one OCM request, in the order asked; unknown IDs are left out."""
        if not charger_ids:
            return []
        self.stats.source_lookups += 1
        lookup = self._source.get_chargers(list(charger_ids), include_comments=include_comments)
        return await self._with_deadline(lookup)

    # Short-lived notes (button payloads too big for callback data) ------------------------------

    async def remember(self, value: Any, *, owner: int | None = None) -> str:
        """Keep a JSON-able ``value`` for as long as results are kept, for every instance;
        returns a short id for callback data. ``owner``: the driver's user id, for /forget."""
        note_id = _new_id()
        await self._kept.save_note(note_id, value, self._result_ttl, owner=owner)
        return note_id

    async def recall(self, note_id: str) -> Any:
        """What :meth:`remember` kept (None once expired or unknown)."""
        return await self._kept.load_note(note_id)

    # Internals ---------------------------------------------------------------------------------

    async def _fetch(self, point: GeoPoint, server: ServerFilter, prefs: UserPreferences, radius: float) -> _Fetch:
        query = ocm_query(prefs, point, radius_km=radius, max_results=self._max_results)
        self.stats.source_searches += 1
        chargers = await self._with_deadline(self._source.search(query, enough=REUSE_MIN_HITS))
        if returned_count(chargers) > len(chargers) and not _at_least(
            REUSE_MIN_HITS, tuple(chargers), point, math.inf, prefs
        ):
            # The nearest part of an earlier answer, but too few of them pass the local filters.
            self.stats.source_searches += 1
            chargers = await self._with_deadline(self._source.search(query))
        # Decided from what OCM sent, not from what could be read: a page cut at the size asked
        # for, with one unusable record in it, is still cut.
        complete = returned_count(chargers) < (query.maxresults or self._max_results)
        coverage = radius
        if may_be_partial(chargers) or not chargers:
            # An empty answer, or one OCM gave while its cache rebuilds, proves nothing about
            # the area beyond what it lists.
            complete, coverage = False, 0.0
        elif not complete:
            coverage = min(radius, max((haversine_km(point, _where(c)) for c in chargers), default=radius))
        return _Fetch(point, server, tuple(chargers), radius, coverage, complete)

    def _result(
        self, fetch: _Fetch, point: GeoPoint, prefs: UserPreferences, radius: float, label: str | None
    ) -> SearchResult:
        reach = min(radius, fetch.coverage_km - haversine_km(fetch.point, point)) * _EDGE_TOLERANCE
        same_point = fetch.point == point
        hits: list[Hit] = []
        hidden: dict[FilterKey, int] = {}
        for charger in fetch.chargers:
            where = _where(charger)
            distance = haversine_km(point, where)
            if distance > reach and not (same_point and distance <= radius * 1.02):
                continue
            failed = failed_filters(charger, prefs)
            if not failed:
                hits.append(Hit(charger, distance, initial_bearing(point, where)))
            elif len(failed) == 1 and None not in failed:
                key = next(iter(failed))
                assert key is not None
                hidden[key] = hidden.get(key, 0) + 1
        hits.sort(key=lambda hit: (hit.distance_km, hit.charger.id))
        result = SearchResult(
            id=_new_id(),
            point=point,
            label=label,
            radius_km=radius,
            prefs=prefs,
            hits=tuple(hits),
            complete=reach >= radius,
        )
        if result.few:
            result = replace(
                result,
                relax=_relax_hints(prefs, fetch.server, hidden),
                can_widen=radius < MAX_RADIUS_KM,
            )
        return result

    async def _store(self, result: SearchResult, owner: int | None = None) -> SearchResult:
        self._results[result.id] = result
        await self._kept.save(result, self._result_ttl, owner=owner)
        return result

    async def _with_deadline(self, call: Any) -> Any:
        """Await an OCM call, giving up after ``deadline`` seconds (OCM has hung for 20 s and more)."""
        try:
            async with asyncio.timeout(self._deadline):
                return await call
        except TimeoutError as error:
            raise OcmUnavailable(f"no answer within {self._deadline:g} s") from error


def wider_radius(radius_km: float, unit: DistanceUnitChoice = DistanceUnitChoice.KM) -> float:
    """The next step up from ``radius_km`` (at most :data:`MAX_RADIUS_KM`), in the steps of the
    /settings radius menu of ``unit``: 10 km -> 25 km, but 6.2 mi -> 15 mi (not "16 mi")."""
    steps = WIDER_RADIUS_STEPS_KM
    if unit is DistanceUnitChoice.MILES:
        steps = (*(miles_to_km(step) for step in RADIUS_STEPS_MI), MAX_RADIUS_KM)
    return next((step for step in steps if step > radius_km + 1e-9), MAX_RADIUS_KM)


def _relax_hints(
    prefs: UserPreferences, fetched_with: ServerFilter, hidden: dict[FilterKey, int]
) -> tuple[RelaxHint, ...]:
    """Active filters that hide chargers: counted ones first (most hidden first), then the ones OCM applied."""
    applied_by_ocm = {key for key in active_filters(prefs) if _server_applied(key, fetched_with)}
    counted = [RelaxHint(key, count) for key, count in hidden.items() if count > 0 and key not in applied_by_ocm]
    counted.sort(key=lambda hint: -(hint.hidden or 0))
    unknown = [RelaxHint(key, None) for key in active_filters(prefs) if key in applied_by_ocm]
    return tuple(counted + unknown)


def _server_applied(key: FilterKey, server: ServerFilter) -> bool:
    return {
        FilterKey.MIN_POWER: server.min_power_kw is not None,
        FilterKey.CONNECTORS: bool(server.connection_type_ids),
        FilterKey.OPERATORS: bool(server.operator_ids),
        FilterKey.LEVELS: bool(server.level_ids),
        FilterKey.OPEN_DATA: server.open_data_only,
    }.get(key, False)


def _at_least(
    count: int, chargers: tuple[Charger, ...], point: GeoPoint, within_km: float, prefs: UserPreferences
) -> bool:
    """Whether ``count`` of ``chargers`` lie within ``within_km`` and pass ``prefs`` (stops counting there)."""
    found = 0
    for charger in chargers:
        if haversine_km(point, _where(charger)) <= within_km and not failed_filters(charger, prefs, stop_at_first=True):
            found += 1
            if found >= count:
                return True
    return False


def _where(charger: Charger) -> GeoPoint:
    return GeoPoint(charger.latitude, charger.longitude)


def _new_id() -> str:
    return secrets.token_urlsafe(6)
