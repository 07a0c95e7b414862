"""The filter: which index entries answer a :class:`~ocm_bot.ocm.query.PoiQuery`, in OCM's order.

Queries follow OCM's own semantics (read from openchargemap/ocm-system, ``CacheProviderMongoDB``):
with a point, the nearest chargers within ``distance`` (50 km when not given), nearest first;
``boundingbox``, ``polygon`` and ``polyline`` (buffered by ``distance``, 5 km when not given)
replace the point; otherwise ``sortby`` orders the results, highest ID first by default;
``maxresults`` defaults to 100. Removed chargers (status 200/210) and unpublished submissions are
never returned. Connection filters (type, level, power) each need *some* connection to match.
Unknown ``countrycode`` values match nothing (OCM ignores them).
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable, Iterable, Iterator

from ocm_bot.geometry import point_in_polygon
from ocm_bot.ocm.local.index import Index
from ocm_bot.ocm.local.rows import Entry, datetime_key
from ocm_bot.ocm.query import PoiQuery, SortBy
from ocm_bot.ocm.reference import PUBLISHED_SUBMISSION_IDS, REMOVED_STATUS_IDS

DEFAULT_RADIUS_KM = 50.0  # OCM's DefaultLatLngSearchDistanceKM
DEFAULT_POLYLINE_DISTANCE_KM = 5.0  # OCM's DefaultPolylineSearchDistanceKM
DEFAULT_MAX_RESULTS = 100  # OCM's APIRequestParams.MaxResults


def select(index: Index, query: PoiQuery) -> list[Entry]:
    """The entries that answer ``query``: nearest first with a point, else in ``sortby`` order."""
    limit = query.maxresults or DEFAULT_MAX_RESULTS
    matches = matcher(query, index)
    if query.boundingbox is not None or query.polygon or query.polyline:
        found = [e for e in _in_area(index, query) if matches(e)]
        return _sorted(found, query.sortby, limit)
    if query.latitude is not None and query.longitude is not None:
        radius_km = query.radius_km if query.radius_km is not None else DEFAULT_RADIUS_KM
        return index.grid.nearest(query.latitude, query.longitude, radius_km, limit, matches)
    return _sorted([e for e in _candidates(index, query) if matches(e)], query.sortby, limit)


def _in_area(index: Index, query: PoiQuery) -> Iterator[Entry]:
    """The entries inside a query's route (buffered), bounding box or polygon."""
    if query.polyline:
        distance = query.radius_km if query.radius_km is not None else DEFAULT_POLYLINE_DISTANCE_KM
        yield from index.grid.near_polyline(query.polyline, distance)
    elif query.boundingbox is not None:
        (north, west), (south, east) = query.boundingbox
        for entry in index.grid.in_box(north, west, south, east):
            if south <= entry.lat <= north and west <= entry.lon <= east:
                yield entry
    else:
        polygon = query.polygon
        lats = [p[0] for p in polygon]
        lons = [p[1] for p in polygon]
        for entry in index.grid.in_box(max(lats), min(lons), min(lats), max(lons)):
            if point_in_polygon(entry.lat, entry.lon, polygon):
                yield entry


def matcher(query: PoiQuery, index: Index) -> Callable[[Entry], bool]:
    """One predicate for every non-geometric filter of ``query`` (and OCM's standing exclusions)."""
    countries: frozenset[int] | None = None
    if query.countrycode:
        found = (index.reference.country_by_iso(code) for code in query.countrycode)
        countries = frozenset(country.id for country in found if country is not None)
    elif query.countryid:
        countries = frozenset(query.countryid)
    operators = frozenset(query.operatorid) or None
    usage_types = frozenset(query.usagetypeid) or None
    statuses = frozenset(query.statustypeid) or None
    providers = frozenset(query.dataproviderid) or None
    ids = frozenset(query.chargepointid) or None
    connection_types = frozenset(query.connectiontypeid) or None
    levels = frozenset(query.levelid) or None
    min_kw, max_kw = query.minpowerkw, query.maxpowerkw
    modified_since = datetime_key(query.modifiedsince) if query.modifiedsince is not None else None
    greater_than, open_data = query.greaterthanid, query.opendata

    def matches(entry: Entry) -> bool:
        if entry.status_id in REMOVED_STATUS_IDS:
            return False
        if entry.submission_id is not None and entry.submission_id not in PUBLISHED_SUBMISSION_IDS:
            return False
        if ids is not None and entry.id not in ids:
            return False
        if greater_than is not None and entry.id <= greater_than:
            return False
        if countries is not None and entry.country_id not in countries:
            return False
        if operators is not None and entry.operator_id not in operators:
            return False
        if usage_types is not None and entry.usage_type_id not in usage_types:
            return False
        if statuses is not None and entry.status_id not in statuses:
            return False
        if providers is not None and entry.provider_id not in providers:
            return False
        if open_data is not None and (entry.open_data is True) != open_data:
            return False
        if modified_since is not None and (entry.modified is None or entry.modified < modified_since):
            return False
        connections = entry.connections
        if connection_types is not None and not any(c[0] in connection_types for c in connections):
            return False
        if levels is not None and not any(c[1] in levels for c in connections):
            return False
        if min_kw is not None and not any(c[2] is not None and c[2] >= min_kw for c in connections):
            return False
        return max_kw is None or any(c[2] is not None and c[2] <= max_kw for c in connections)

    return matches


def _candidates(index: Index, query: PoiQuery) -> Iterable[Entry]:
    """The smallest ready-made list that holds every match of a query without geometry."""
    if query.chargepointid:
        return [index.by_id[i] for i in query.chargepointid if i in index.by_id]
    if query.modifiedsince is not None:
        start = bisect.bisect_left(index.modified_keys, datetime_key(query.modifiedsince))
        return index.by_modified[start:]
    if query.countryid and not query.countrycode:
        return [e for country in query.countryid for e in index.by_country.get(country, ())]
    return index.entries


def _sorted(entries: list[Entry], sortby: SortBy | None, limit: int) -> list[Entry]:
    """The first ``limit`` entries in ``sortby`` order (OCM's default: highest ID first)."""
    if sortby is SortBy.ID_ASC:
        return heapq.nsmallest(limit, entries, key=lambda e: e.id)
    if sortby is SortBy.CREATED_ASC:  # OCM (.NET) puts charges with no date first
        return heapq.nsmallest(limit, entries, key=lambda e: (e.created is not None, e.created or "", e.id))
    if sortby is SortBy.MODIFIED_ASC:
        return heapq.nsmallest(limit, entries, key=lambda e: (e.modified is not None, e.modified or "", e.id))
    return heapq.nlargest(limit, entries, key=lambda e: e.id)
