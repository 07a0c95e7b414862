"""Answering searches from earlier OCM answers, so repeat and nearby searches cost no request.

A cached search remembers the disc inside which it knows *every* charger matching its filters:

- OCM returned fewer chargers than ``maxresults``: the whole search circle;
- OCM stopped at ``maxresults``: only the circle up to the farthest charger it returned
  (a charger just beyond it may have been cut off).

A new search at a point P' with radius r wanting k results is answered from a cached search at P
whose filters are the same or fewer (and which, once re-filtered locally, yields exactly what OCM
would have answered) when either its whole circle lies inside the known disc, or at least k
matching chargers lie closer to P' than the edge of the known disc ("safe" distance): any charger
OCM knows but we do not is outside that disc, hence farther than those k.

Answers that prove nothing are kept apart: while OCM's cache rebuilds it answers ``200 []`` or
part of the list. An empty area answer, and one that lacks a charger an earlier answer showed in
its circle, answer no other search (their known disc is empty); the same search asks again at
once after an empty one, and after :data:`DOUBTFUL_TTL` after a partial one. Completeness always
counts what OCM *sent*, unusable records included.

Distances are haversine kilometres on OCM's 6371 km sphere, the formula of OCM's own ``Distance``
field. OCM's radius *filter* runs in MongoDB (``$nearSphere``, a 6378.1 km sphere: distances 0.11 %
longer), so the edge of a truncated answer is trusted only up to 99.5 % of its distance and the
offset between two centres is counted 0.12 % longer. Chargers within 0.11 % of a search's own edge
(5 m at 5 km) may still be judged differently from OCM; nobody driving will notice.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from cachetools import TTLCache

from ocm_bot.geometry import KM_PER_DEGREE, haversine_km
from ocm_bot.ocm.models import Charger
from ocm_bot.ocm.query import ID_FILTER_FIELDS, OutputFormat, PoiQuery
from ocm_bot.ocm.source import SearchAnswer

_DISTANCE_MARGIN = 0.995  # trust in the farthest charger of a truncated answer
_OFFSET_SCALE = 1.0012  # MongoDB's 6378.1 km sphere against our 6371 km one, rounded up

_Key = tuple[tuple[str, str], ...]
DOUBTFUL_TTL = 60.0  # an answer that may be partial (not an empty 200 []: never reused) is asked again after this
_MAX_TRIED = 16

# Parameters after which a result is no longer "the nearest chargers matching filters in a circle".
_NOT_AREA = ("boundingbox", "polygon", "polyline", "chargepointid", "modifiedsince", "callback")


def is_area_search(query: PoiQuery) -> bool:
    """True for "nearest chargers around a point" searches, the only ones answered by containment."""
    return (
        query.output is OutputFormat.JSON
        and query.has_point
        and query.sortby is None
        and query.greaterthanid is None
        and not any(getattr(query, name) for name in _NOT_AREA)
    )


@dataclass(frozen=True, slots=True)
class CachedSearch:
    """What OCM answered to ``query`` (as sent), and how far that answer is complete.

    ``returned`` counts the POIs OCM sent, usable or not; ``may_be_partial`` marks an answer that
    proves nothing about what OCM holds (empty, or missing chargers it answered before): its
    ``complete_km`` is 0, so it never answers another search, and it is kept only briefly.
    """

    query: PoiQuery
    chargers: tuple[Charger, ...]
    complete_km: float
    returned: int = 0
    may_be_partial: bool = False

    @classmethod
    def from_answer(
        cls, query: PoiQuery, chargers: Iterable[Charger], *, raw_count: int, may_be_partial: bool = False
    ) -> CachedSearch:
        """``raw_count`` is how many POIs OCM sent (before skipping unusable ones)."""
        chargers = tuple(chargers)
        truncated = is_truncated(query, raw_count)
        # While OCM's cache rebuilds it answers 200 [] where there are chargers: an empty answer
        # is never proof that an area is empty.
        may_be_partial = may_be_partial or (raw_count == 0 and is_area_search(query))
        if not query.has_point or may_be_partial:
            complete = 0.0
        elif query.radius_km is None or truncated:
            # Without a distance OCM applies a radius of its own choosing; either way we only
            # know the disc up to the farthest charger it sent.
            farthest = max((_distance(query, c) for c in chargers), default=0.0)
            complete = min(query.radius_km or math.inf, farthest) * _DISTANCE_MARGIN
        else:
            # Not truncated: OCM sent everything within its radius. Only a charger within a hair
            # (the ellipsoid/sphere difference) of the edge could be judged differently.
            complete = query.radius_km
        return cls(query, chargers, complete, max(raw_count, len(chargers)), may_be_partial)

    @property
    def truncated(self) -> bool:
        """OCM stopped at ``maxresults``: more chargers may match (counted from what OCM sent)."""
        return is_truncated(self.query, self.returned)


def is_truncated(query: PoiQuery, returned: int) -> bool:
    return query.maxresults is not None and returned >= query.maxresults


def answer_from(
    cached: CachedSearch, query: PoiQuery, default_results: int, *, enough: int | None = None
) -> list[Charger] | None:
    """``query``'s answer computed from ``cached``, or None when ``cached`` cannot prove it complete.

    With ``enough``, an answer whose ``enough`` (or more) nearest chargers are proven but not all
    of them is returned cut to those, as a :class:`SearchAnswer` that says it was cut.
    """
    wider = cached.query
    offset = _centre_offset_km(wider, query)
    if offset is None:
        return None
    safe = cached.complete_km - offset * _OFFSET_SCALE
    if safe <= 0:
        return None
    radius = query.radius_km if query.radius_km is not None else math.inf
    wanted = query.maxresults or default_results
    candidates = sorted(
        ((d, c) for c in cached.chargers if matches(query, c) and (d := _distance(query, c)) <= radius),
        key=lambda pair: pair[0],
    )
    cut = False
    if radius > safe:
        proven = sum(1 for d, _ in candidates[:wanted] if d <= safe)
        if proven < wanted:
            # A cut answer for no wider a circle only: a search wider than a cached one (or than a
            # complete one) is asked to see beyond, and only OCM knows what lies there.
            if enough is None or proven < enough or not cached.truncated or radius > _radius(wider):
                return None
            candidates, cut = candidates[:proven], True  # nearest first: these are the proven ones
    chosen = [c for _, c in candidates[:wanted]]
    if wider.includecomments and not query.includecomments:
        chosen = [replace(c, comments=(), media_items=()) for c in chosen]
    return SearchAnswer(chosen, returned=wanted) if cut else chosen


def may_contain(wider: PoiQuery, query: PoiQuery) -> bool:
    """Whether the answer to ``wider`` (not known yet) could answer ``query``: worth waiting for."""
    offset = _centre_offset_km(wider, query)
    return offset is not None and offset < (wider.radius_km if wider.radius_km is not None else math.inf)


def _centre_offset_km(wider: PoiQuery, query: PoiQuery) -> float | None:
    """How far ``query``'s centre lies from ``wider``'s; None when no answer to ``wider`` can answer ``query``."""
    if not (is_area_search(wider) and is_area_search(query) and filters_contain(wider, query)):
        return None
    if query.includecomments and not wider.includecomments:
        return None
    assert query.latitude is not None and query.longitude is not None
    assert wider.latitude is not None and wider.longitude is not None
    return haversine_km(wider.latitude, wider.longitude, query.latitude, query.longitude)


def filters_contain(wider: PoiQuery, narrower: PoiQuery) -> bool:
    """Every charger matching ``narrower``'s filters also matches ``wider``'s."""
    for name in ("countrycode", *ID_FILTER_FIELDS):
        broad, narrow = getattr(wider, name), getattr(narrower, name)
        if broad and not (narrow and set(narrow) <= set(broad)):
            return False
    if wider.minpowerkw is not None and (narrower.minpowerkw is None or narrower.minpowerkw < wider.minpowerkw):
        return False
    if wider.maxpowerkw is not None and (narrower.maxpowerkw is None or narrower.maxpowerkw > wider.maxpowerkw):
        return False
    # opendata=false is a filter too: OCM then returns only data without an open licence.
    return wider.opendata is None or narrower.opendata == wider.opendata


def matches(query: PoiQuery, charger: Charger) -> bool:
    """Whether OCM would return ``charger`` for ``query``'s filters (location aside).

    Same rules as OCM's POI manager: connection filters match when *any* connection does.
    """
    if query.operatorid and _id(charger.operator) not in query.operatorid:
        return False
    if query.usagetypeid and _id(charger.usage_type) not in query.usagetypeid:
        return False
    if query.statustypeid and _id(charger.status) not in query.statustypeid:
        return False
    if query.dataproviderid and _id(charger.data_provider) not in query.dataproviderid:
        return False
    country = charger.address.country
    if query.countryid and _id(country) not in query.countryid:
        return False
    if query.countrycode and (country is None or (country.iso_code or "").upper() not in query.countrycode):
        return False
    if query.opendata is not None and query.opendata != bool(
        charger.data_provider and charger.data_provider.is_open_data_licensed
    ):
        return False
    connections = charger.connections
    if query.connectiontypeid and not any(_id(c.connection_type) in query.connectiontypeid for c in connections):
        return False
    if query.levelid and not any(_id(c.level) in query.levelid for c in connections):
        return False
    if query.minpowerkw is not None and not any(
        c.power_kw is not None and c.power_kw >= query.minpowerkw for c in connections
    ):
        return False
    return query.maxpowerkw is None or any(
        c.power_kw is not None and c.power_kw <= query.maxpowerkw for c in connections
    )


class SearchCache:
    """A TTL cache of OCM search answers, looked up exactly first, then by containment.

    Example::

        cache = SearchCache(maxsize=256, ttl=600, timer=time.monotonic)
        cache.put(CachedSearch.from_answer(sent, chargers, raw_count=len(payload)))
        cache.answer(PoiQuery(latitude=..., longitude=..., distance=2, maxresults=5), 10)
    """

    def __init__(
        self, *, maxsize: int, ttl: float, timer: Callable[[], float], doubtful_ttl: float = DOUBTFUL_TTL
    ) -> None:
        self._maxsize = maxsize
        self._timer = timer
        self._doubtful_ttl = min(ttl, doubtful_ttl)
        self._doubtful_until: dict[_Key, float] = {}  # answers that may be partial expire sooner
        self._entries: TTLCache[_Key, CachedSearch] = TTLCache(maxsize=maxsize, ttl=ttl, timer=timer)
        # Area searches by centre, as plain tuples: scanning a TTLCache checks expiry per key, which
        # cost milliseconds per lookup with a few hundred entries. Expired keys are dropped lazily.
        self._areas: dict[_Key, tuple[float, float, float, CachedSearch]] = {}

    def __len__(self) -> int:
        self._entries.expire()
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()
        self._areas.clear()
        self._doubtful_until.clear()

    def discard(self, stale: Callable[[CachedSearch], bool]) -> None:
        """Drop every entry for which ``stale(entry)`` is true."""
        for key in [key for key, entry in self._entries.items() if stale(entry)]:
            self._entries.pop(key, None)
            self._areas.pop(key, None)

    def put(self, entry: CachedSearch) -> None:
        key = entry.query.cache_key()
        self._entries[key] = entry
        if entry.may_be_partial:
            self._doubtful_until[key] = self._timer() + self._doubtful_ttl
            if len(self._doubtful_until) > 2 * self._maxsize:
                now = self._timer()
                self._doubtful_until = {k: t for k, t in self._doubtful_until.items() if t > now}
        else:
            self._doubtful_until.pop(key, None)
        wider = entry.query
        if is_area_search(wider) and entry.complete_km > 0:
            assert wider.latitude is not None and wider.longitude is not None
            self._areas.pop(key, None)  # a repeated search moves to the end, like in the TTL cache
            self._areas[key] = (wider.latitude, wider.longitude, entry.complete_km, entry)
            if len(self._areas) > 2 * self._maxsize:
                self._areas = {k: v for k, v in self._areas.items() if k in self._entries}

    def exact(self, query: PoiQuery) -> CachedSearch | None:
        key = query.cache_key()
        entry = self._entries.get(key)
        if entry is not None and entry.may_be_partial and entry.returned == 0:
            # An empty 200 [] (OCM's cache rebuilding) shows the driver nothing: repeating the search
            # must ask OCM again, not repeat "no chargers". Identical searches in flight share it.
            return None
        if entry is not None and entry.may_be_partial and self._doubtful_until.get(key, 0.0) <= self._timer():
            self._entries.pop(key, None)
            self._doubtful_until.pop(key, None)
            return None
        return entry

    def contradicts(self, query: PoiQuery, chargers: Iterable[Charger], *, truncated: bool) -> bool:
        """Whether an answer to ``query`` lacks a charger that an earlier answer showed in its circle.

        OCM answers with part of what it holds while its cache rebuilds; such an answer must not
        be taken for complete. (A charger removed since then looks the same; that costs one
        request more, never a wrong "these are all".)
        """
        if not is_area_search(query) or query.radius_km is None:
            return False
        assert query.latitude is not None and query.longitude is not None
        got = {c.id for c in chargers}
        radius = query.radius_km
        if truncated:
            farthest = max((_distance(query, c) for c in chargers), default=0.0)
            radius = min(radius, farthest * _DISTANCE_MARGIN)
        for key, (lat, lng, _, entry) in list(self._areas.items()):
            reach = entry.query.radius_km if entry.query.radius_km is not None else math.inf
            if abs(lat - query.latitude) * KM_PER_DEGREE >= reach + radius:
                continue  # every charger of that answer lies within its radius
            if haversine_km(lat, lng, query.latitude, query.longitude) >= reach + radius or key not in self._entries:
                continue
            for charger in entry.chargers:
                if charger.id in got or not matches(query, charger):
                    continue
                if _distance(query, charger) <= radius * _DISTANCE_MARGIN:
                    return True
        return False

    def answer(self, query: PoiQuery, default_results: int, *, enough: int | None = None) -> list[Charger] | None:
        """The answer to ``query`` from any cached search that provably contains it (with ``enough``:
        else its nearest chargers, at least ``enough`` of them, cut there; see :func:`answer_from`).

        Only the ``_MAX_TRIED`` cached searches centred nearest to the query are tried, so a
        lookup stays cheap however many searches of the same city are cached.
        """
        if not is_area_search(query):
            return None
        lat, lng = query.latitude, query.longitude
        assert lat is not None and lng is not None
        nearby = []
        gone = []
        for key, (wider_lat, wider_lng, complete_km, entry) in self._areas.items():
            if abs(wider_lat - lat) * KM_PER_DEGREE >= complete_km:
                continue  # quick reject: a degree of latitude is 111 km everywhere
            offset = haversine_km(wider_lat, wider_lng, lat, lng)
            if offset >= complete_km:
                continue
            if key not in self._entries:  # expired or evicted
                gone.append(key)
                continue
            nearby.append((offset, entry))
        for key in gone:
            del self._areas[key]
        nearby.sort(key=lambda pair: pair[0])
        partial: list[Charger] | None = None
        for _, entry in nearby[:_MAX_TRIED]:
            found = answer_from(entry, query, default_results, enough=enough)
            if found is not None and not isinstance(found, SearchAnswer):
                return found
            if found is not None and (partial is None or len(found) > len(partial)):
                partial = found
        return partial


def _radius(query: PoiQuery) -> float:
    return query.radius_km if query.radius_km is not None else math.inf


def _distance(query: PoiQuery, charger: Charger) -> float:
    assert query.latitude is not None and query.longitude is not None
    return haversine_km(query.latitude, query.longitude, charger.latitude, charger.longitude)


def _id(entity: object | None) -> int | None:
    return getattr(entity, "id", None)
