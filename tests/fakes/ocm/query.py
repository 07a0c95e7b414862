"""Parsing /v3/poi query parameters the way OCM's ServiceParameterParser does, and running the search.

Lenient like the real server: a value it cannot parse is ignored (as if absent), never a 400.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polyline as polyline_codec

from .store import (
    KM_PER_MILE,
    PUBLISHED_SUBMISSIONS,
    STATUS_HIDDEN_ALWAYS,
    PoiStore,
    parse_ocm_date,
)

DEFAULT_LATLNG_DISTANCE_KM = 50.0
DEFAULT_POLYLINE_DISTANCE_KM = 5.0
_DOUBLE = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")
_INT = re.compile(r"^\s*[+-]?\d+\s*$")
_DATE_FORMATS = (
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
)


def parse_double(value: str | None) -> float | None:
    if value is None or not _DOUBLE.match(value):
        return None
    return float(value)


def parse_int(value: str | None) -> int | None:
    if value is None or not _INT.match(value):
        return None
    number = int(value)
    return number if -(2**31) <= number < 2**31 else None


def parse_int_list(value: str | None) -> list[int] | None:
    if not value:
        return None
    return [n for n in (parse_int(part) for part in value.split(",")) if n is not None]


def parse_bool(value: str | None, default: bool) -> bool:
    """Only "true"/"false" count; anything else (even "1") gives the *parser's* default."""
    if value is None:
        return default
    value = value.strip().lower()
    if value == "true":
        return True
    if value == "false":
        return False
    return default


def parse_bool_nullable(value: str | None) -> bool | None:
    if not value:
        return None
    value = value.strip().lower()
    return {"true": True, "false": False}.get(value)


def parse_date(value: str | None) -> datetime | None:
    """DateTime.TryParse for the forms clients send; times are taken as UTC."""
    if not value:
        return None
    text = value.strip()
    iso = parse_ocm_date(text)
    if iso is not None:
        return iso
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def parse_points(value: str | None) -> list[tuple[float, float]] | None:
    """ "(lat,lng),(lat,lng)" or a Google encoded polyline -> [(lat, lng), ...]; None if unparseable."""
    if not value:
        return None
    value = value.strip()
    try:
        if value.startswith("(") and value.endswith(")"):
            points = []
            for chunk in value.split(")"):
                chunk = chunk.strip().lstrip(",").strip().lstrip("(")
                if not chunk:
                    continue
                lat_text, lng_text = chunk.split(",")
                lat, lng = parse_double(lat_text), parse_double(lng_text)
                if lat is None or lng is None:
                    return None
                points.append((lat, lng))
            return points or None
        decoded = polyline_codec.decode(value)
        return [(float(a), float(b)) for a, b in decoded] or None
    except Exception:
        return None


@dataclass
class PoiQuery:
    output: str = "json"
    max_results: int = 100
    country_ids: list[int] | None = None
    latitude: float | None = None
    longitude: float | None = None
    distance: float | None = None
    distance_unit_km: bool = False
    operator_ids: list[int] | None = None
    connection_type_ids: list[int] | None = None
    level_ids: list[int] | None = None
    usage_type_ids: list[int] | None = None
    status_type_ids: list[int] | None = None
    data_provider_ids: list[int] | None = None
    submission_status_ids: list[int] | None = None
    chargepoint_ids: list[int] | None = None
    min_power_kw: float | None = None
    max_power_kw: float | None = None
    modified_since: datetime | None = None
    created_since: datetime | None = None
    open_data: bool | None = None
    include_comments: bool = False
    verbose: bool = True
    compact: bool = False
    camelcase: bool = False
    callback: str | None = None
    bounding_box: list[tuple[float, float]] | None = None
    polygon: list[tuple[float, float]] | None = None
    polyline: list[tuple[float, float]] | None = None
    sort_by: str | None = None
    greater_than_id: int | None = None

    @property
    def shape(self) -> tuple[bool, bool, bool, bool]:
        return (self.compact, self.verbose, self.include_comments, self.camelcase)

    @property
    def distance_km(self) -> float | None:
        if self.distance is None:
            return None
        return self.distance if self.distance_unit_km else self.distance * KM_PER_MILE


def parse_query(params: dict[str, str], countries_by_iso: dict[str, int]) -> PoiQuery:
    """``params`` has lower-cased names (ASP.NET binds query names case-insensitively)."""
    q = PoiQuery()
    get = params.get
    q.output = (get("output") or "json").strip().lower()[:100] or "json"
    if get("maxresults"):
        q.max_results = n if (n := parse_int(get("maxresults"))) is not None else 100
    q.chargepoint_ids = parse_int_list(get("id")) or None
    if get("chargepointid"):
        q.chargepoint_ids = parse_int_list(get("chargepointid"))
    q.greater_than_id = parse_int(get("greaterthanid"))
    q.operator_ids = parse_int_list(get("operatorid"))
    q.connection_type_ids = parse_int_list(get("connectiontypeid"))
    q.country_ids = parse_int_list(get("countryid"))
    q.level_ids = parse_int_list(get("levelid"))
    q.usage_type_ids = parse_int_list(get("usagetypeid"))
    q.status_type_ids = parse_int_list(get("statustypeid"))
    q.data_provider_ids = parse_int_list(get("dataproviderid"))
    q.submission_status_ids = parse_int_list(get("submissionstatustypeid"))
    q.open_data = parse_bool_nullable(get("opendata"))
    min_kw = parse_double(get("minpowerkw"))
    q.min_power_kw = min_kw if min_kw is not None and min_kw >= 1 else None
    max_kw = parse_double(get("maxpowerkw"))
    q.max_power_kw = max_kw if max_kw is not None and max_kw >= 1 else None
    code = get("countrycode")
    if code and code.strip().upper() in countries_by_iso:
        q.country_ids = [countries_by_iso[code.strip().upper()]]
    lat = parse_double(get("latitude"))
    q.latitude = lat if lat is not None and -90 <= lat <= 90 else None
    lon = parse_double(get("longitude"))
    q.longitude = lon if lon is not None and -180 <= lon <= 180 else None
    q.distance = parse_double(get("distance"))
    unit = (get("distanceunit") or "").strip().lower()
    q.distance_unit_km = unit in ("km", "kilometers")
    q.polyline = parse_points(get("polyline"))
    box = parse_points(get("boundingbox"))
    q.bounding_box = box if box and len(box) >= 2 else None
    polygon = parse_points(get("polygon"))
    if polygon and polygon[0] != polygon[-1]:
        polygon.append(polygon[0])
    q.polygon = polygon if polygon and len(polygon) >= 4 else None
    q.modified_since = parse_date(get("modifiedsince"))
    q.created_since = parse_date(get("createdsince"))
    q.include_comments = parse_bool(get("includecomments"), False)
    if get("verbose"):
        q.verbose = parse_bool(get("verbose"), False)
    q.compact = parse_bool(get("compact"), False)
    q.camelcase = parse_bool(get("camelcase"), False)
    q.callback = (get("callback") or None) and get("callback")[:100]
    if get("sortby"):
        q.sort_by = get("sortby").strip().lower()
    return q


def _acceptor(q: PoiQuery) -> Any:
    """The non-spatial filters (OCM's ApplyQueryFilters) as one predicate over stored records."""
    operator_ids = set(q.operator_ids) if q.operator_ids else None
    if q.submission_status_ids and any(t > 0 for t in q.submission_status_ids):
        submissions = set(q.submission_status_ids)
    else:
        submissions = set(PUBLISHED_SUBMISSIONS)
    country_ids = set(q.country_ids) if q.country_ids else None
    chargepoint_ids = set(q.chargepoint_ids) if q.chargepoint_ids else None
    usage_ids = set(q.usage_type_ids) if q.usage_type_ids else None
    status_ids = set(q.status_type_ids) if q.status_type_ids else None
    provider_ids = set(q.data_provider_ids) if q.data_provider_ids else None
    connection_ids = set(q.connection_type_ids) if q.connection_type_ids else None
    level_ids = set(q.level_ids) if q.level_ids else None
    modified = q.modified_since
    created = q.created_since

    def accept(r: dict[str, Any]) -> bool:
        if operator_ids is not None and r.get("OperatorID") not in operator_ids:
            return False
        if r.get("SubmissionStatusTypeID") not in submissions:
            return False
        if r.get("SubmissionStatusTypeID") == 1010:
            return False
        if q.open_data is not None:
            licensed = bool((r.get("DataProvider") or {}).get("IsOpenDataLicensed"))
            if licensed != q.open_data:
                return False
        if q.greater_than_id is not None and not r["ID"] > q.greater_than_id:
            return False
        if country_ids is not None and r["AddressInfo"].get("CountryID") not in country_ids:
            return False
        if chargepoint_ids is not None and r["ID"] not in chargepoint_ids:
            return False
        if usage_ids is not None and r.get("UsageTypeID") not in usage_ids:
            return False
        if status_ids is not None and r.get("StatusTypeID") not in status_ids:
            return False
        if r.get("StatusTypeID") in STATUS_HIDDEN_ALWAYS:
            return False
        if provider_ids is not None and r.get("DataProviderID") not in provider_ids:
            return False
        if modified is not None:
            changed = parse_ocm_date(r.get("DateLastStatusUpdate"))
            if changed is None or changed < modified:
                return False
        if created is not None:
            born = parse_ocm_date(r.get("DateCreated"))
            if born is None or born < created:
                return False
        connections = r.get("Connections") or []
        if q.min_power_kw is not None and not any(
            (c.get("PowerKW") or 0) >= q.min_power_kw for c in connections if c.get("PowerKW") is not None
        ):
            return False
        if q.max_power_kw is not None and not any(
            c.get("PowerKW") <= q.max_power_kw for c in connections if c.get("PowerKW") is not None
        ):
            return False
        if connection_ids is not None and not any(c.get("ConnectionTypeID") in connection_ids for c in connections):
            return False
        if level_ids is not None and not any(c.get("LevelID") in level_ids for c in connections):
            return False
        return r["AddressInfo"].get("Latitude") is not None

    return accept


def run_search(store: PoiStore, q: PoiQuery) -> list[tuple[int, float | None]]:
    """(id, distance in the query's unit or None), in OCM's order, at most maxresults."""
    limit = max(0, q.max_results)
    accept = _acceptor(q)
    records = store.records
    shape_points = q.polyline or q.bounding_box or q.polygon
    if shape_points:
        inside = _shape_test(q)
        lats = [p[0] for p in shape_points]
        lons = [p[1] for p in shape_points]
        pad = _polyline_degrees(q) if q.polyline else 0.0
        candidates = {
            i
            for i in store.ids_in_box(min(lats) - pad, min(lons) - pad, max(lats) + pad, max(lons) + pad)
            if inside(records[i]["AddressInfo"]) and accept(records[i])
        }
        if q.bounding_box and not q.polyline and not q.sort_by:
            # OCM answers a bounding box in database order, unsorted: here, the order POIs were stored in.
            return [(i, None) for i in records if i in candidates][:limit]
        order = store.ordered_ids(_order_name(q.sort_by))
        if len(candidates) < len(order) / 8:
            ranked = sorted(candidates, key=_sort_key(store, q.sort_by))
        else:
            ranked = [i for i in order if i in candidates]
        return [(i, None) for i in ranked[:limit]]
    if q.latitude is not None and q.longitude is not None:
        max_km = q.distance_km if q.distance is not None else DEFAULT_LATLNG_DISTANCE_KM
        hits = store.nearest(q.latitude, q.longitude, max_km, accept, limit)
        factor = 1.0 if q.distance_unit_km else 1 / KM_PER_MILE
        return [(i, km * factor) for km, i in hits]
    out = []
    for poi_id in store.ordered_ids(_order_name(q.sort_by)):
        if len(out) >= limit:
            break
        if accept(records[poi_id]):
            out.append((poi_id, None))
    return out


def _order_name(sort_by: str | None) -> str:
    return sort_by if sort_by in ("created_asc", "modified_asc", "id_asc") else "id_desc"


def _sort_key(store: PoiStore, sort_by: str | None) -> Any:
    order = store.ordered_ids(_order_name(sort_by))
    position = {poi_id: n for n, poi_id in enumerate(order)} if len(order) < 5000 else None
    if position is not None:
        return position.__getitem__
    name = _order_name(sort_by)
    records = store.records
    if name == "id_asc":
        return lambda i: i
    if name == "id_desc":
        return lambda i: -i
    date_key = "DateCreated" if name == "created_asc" else "DateLastStatusUpdate"
    return lambda i: (parse_ocm_date(records[i].get(date_key)) or datetime.min, i)


def _polyline_km(q: PoiQuery) -> float:
    return q.distance_km if q.distance is not None else DEFAULT_POLYLINE_DISTANCE_KM


def _polyline_degrees(q: PoiQuery) -> float:
    """OCM buffers the line by ``distance_km / 200`` plain degrees (about ±0.56·D km north-south and
    ±0.35·D km east-west at 51° N), not by D km: the corridor is narrower than asked, and narrower
    east-west than north-south."""
    return _polyline_km(q) / 200


def _shape_test(q: PoiQuery) -> Any:
    if q.polyline:
        points = q.polyline
        buffer = _polyline_degrees(q)

        def near_line(address: dict[str, Any]) -> bool:
            lat, lon = address["Latitude"], address["Longitude"]
            if len(points) == 1:
                return math.hypot(lat - points[0][0], lon - points[0][1]) <= buffer
            return any(_segment_degrees(lat, lon, a, b) <= buffer for a, b in itertools.pairwise(points))

        return near_line
    if q.bounding_box:
        (lat1, lon1), (lat2, lon2) = q.bounding_box[0], q.bounding_box[1]
        south, north = min(lat1, lat2), max(lat1, lat2)
        west, east = min(lon1, lon2), max(lon1, lon2)

        def in_box(address: dict[str, Any]) -> bool:
            return south <= address["Latitude"] <= north and west <= address["Longitude"] <= east

        return in_box
    # OCM replaces a polygon by its convex hull (shared/README.md): a dent in the shape finds chargers too.
    ring = _convex_hull(q.polygon or [])

    def in_polygon(address: dict[str, Any]) -> bool:
        return _point_in_polygon(address["Latitude"], address["Longitude"], ring)

    return in_polygon


def _segment_degrees(lat: float, lon: float, a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance from a point to segment a-b in plain (lat, lng) degrees, as the real server's buffer."""
    dx, dy = b[1] - a[1], b[0] - a[0]
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((lon - a[1]) * dx + (lat - a[0]) * dy) / length2))
    return math.hypot(lon - (a[1] + t * dx), lat - (a[0] + t * dy))


def _convex_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The closed convex hull of ``points`` (Andrew's monotone chain, in plain degrees)."""
    unique = sorted(set(points))
    if len(unique) < 3:
        return points

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    def half(sequence: list[tuple[float, float]]) -> list[tuple[float, float]]:
        chain: list[tuple[float, float]] = []
        for point in sequence:
            while len(chain) >= 2 and cross(chain[-2], chain[-1], point) <= 0:
                chain.pop()
            chain.append(point)
        return chain[:-1]

    hull = half(unique) + half(unique[::-1])
    return [*hull, hull[0]]


def _point_in_polygon(lat: float, lon: float, ring: list[tuple[float, float]]) -> bool:
    inside = False
    for (lat1, lon1), (lat2, lon2) in itertools.pairwise(ring):
        if (lat1 > lat) != (lat2 > lat):
            cross = lon1 + (lat - lat1) * (lon2 - lon1) / (lat2 - lat1)
            if lon < cross:
                inside = not inside
    return inside
