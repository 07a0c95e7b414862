"""The fake OCM's data: reference data, POIs normalised to one full shape, a spatial grid, rendering.

POIs arrive in any of the three shapes OCM answers (verbose, ``verbose=false``, ``compact=true``).
They are stored as *full verbose records*: every key of OCM's ChargePoint template present (null where
unknown), reference objects inline (taken from the POI when it carried them, else resolved from
referencedata.json). ``render()`` turns a stored record back into any answer shape.
"""

from __future__ import annotations

import copy
import heapq
import json
import math
import os
import random
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

EARTH_RADIUS_KM = 6371.0  # OCM's GeoManager.CalcDistance
EARTH_RADIUS_MILES = 3959.0
KM_PER_MILE = 1.609344
GENERATED_ID_BASE = 90_000_000
GENERATED_PROVIDER_ID = 9999
GRID_DEG = 0.01  # about 1.1 km of latitude per cell

# (record key, ID key, referencedata list) for the reference objects OCM inlines in a POI.
TOP_REFERENCES = (
    ("DataProvider", "DataProviderID", "DataProviders"),
    ("OperatorInfo", "OperatorID", "Operators"),
    ("UsageType", "UsageTypeID", "UsageTypes"),
    ("StatusType", "StatusTypeID", "StatusTypes"),
    ("SubmissionStatus", "SubmissionStatusTypeID", "SubmissionStatusTypes"),
)
CONNECTION_REFERENCES = (
    ("ConnectionType", "ConnectionTypeID", "ConnectionTypes"),
    ("StatusType", "StatusTypeID", "StatusTypes"),
    ("Level", "LevelID", "ChargerTypes"),
    ("CurrentType", "CurrentTypeID", "CurrentTypes"),
)
COMMENT_REFERENCES = (
    ("CommentType", "CommentTypeID", "UserCommentTypes"),
    ("CheckinStatusType", "CheckinStatusTypeID", "CheckinStatusTypes"),
)
STATUS_HIDDEN_ALWAYS = (200, 210)  # Removed (Decommissioned), Removed (Duplicate Listing)
PUBLISHED_SUBMISSIONS = (100, 200)


def repo_root() -> Path:
    return Path(__file__).resolve().parents[3]


def shared_dir() -> Path:
    """../shared next to the repository, or $OCM_BOT_SHARED_DIR."""
    override = os.environ.get("OCM_BOT_SHARED_DIR")
    return Path(override) if override else repo_root().parent / "shared"


@cache
def _load_json(path: str) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def load_shared_json(*parts: str) -> Any:
    """A parsed file under shared/ (cached; callers must deep-copy before mutating)."""
    return _load_json(str(shared_dir().joinpath(*parts)))


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def format_ocm_date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ocm_date(value: Any) -> datetime | None:
    """OCM dates ("2020-06-26T03:03:00Z", "2015-12-25T15:46:03.333Z") as naive UTC."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dlat = p2 - p1
    dlon = math.radians(lon2 - lon1)
    a = math.sin(dlat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2) ** 2
    return EARTH_RADIUS_KM * 2 * math.atan2(math.sqrt(a), math.sqrt(1 - a))


class ReferenceData:
    """referencedata.json indexed by ID, plus the key orders OCM serialises in."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.by_id: dict[str, dict[int, dict[str, Any]]] = {}
        self.key_order: dict[str, list[str]] = {}
        for name, items in document.items():
            if isinstance(items, list) and items and isinstance(items[0], dict) and "ID" in items[0]:
                self.by_id[name] = {item["ID"]: item for item in items}
                keys: list[str] = []
                for item in items:
                    keys.extend(k for k in item if k not in keys)
                self.key_order[name] = keys
        template = document["ChargePoint"]
        self.poi_keys = list(template)
        self.address_keys = list(template["AddressInfo"])
        self.connection_keys = list(template["Connections"][0])
        self.comment_keys = list(document["UserComment"])
        self.countries_by_iso = {c["ISOCode"].upper(): c["ID"] for c in document["Countries"]}

    @classmethod
    def load(cls) -> ReferenceData:
        document = copy.deepcopy(load_shared_json("ocm", "referencedata.json"))
        document["DataProviders"].append(
            {
                "WebsiteURL": None,
                "Comments": "Synthetic chargers made by the ocm-bot test suite; not real places.",
                "DataProviderStatusType": {"IsProviderEnabled": True, "ID": 1, "Title": "Manual Data Entry"},
                "IsRestrictedEdit": False,
                "IsOpenDataLicensed": True,
                "IsApprovedImport": True,
                "License": "Synthetic test data (public domain).",
                "DateLastImported": None,
                "ID": GENERATED_PROVIDER_ID,
                "Title": "generated test data",
            }
        )
        return cls(document)

    def lookup(self, kind: str, ident: Any) -> dict[str, Any] | None:
        """The reference entry itself, shared: stored records are replaced, never edited in place."""
        if ident is None:
            return None
        return self.by_id.get(kind, {}).get(ident)

    def resolve(self, kind: str, ident: Any, inline: Any) -> dict[str, Any] | None:
        """The inline object in OCM's key order (missing keys null), else the reference entry."""
        if isinstance(inline, dict) and inline:
            order = self.key_order.get(kind, [])
            full = {k: inline.get(k) for k in order}
            full.update({k: v for k, v in inline.items() if k not in full})
            return full
        return self.lookup(kind, ident)


def _ordered(raw: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    out = {k: raw.get(k) for k in keys}
    out.update({k: v for k, v in raw.items() if k not in out})
    return out


def normalise_poi(raw: dict[str, Any], ref: ReferenceData, *, trusted: bool = False) -> dict[str, Any]:
    """Any OCM POI shape -> the full verbose record the store keeps (``trusted``: no defensive copy)."""
    if "ID" not in raw:
        raise ValueError("a POI needs an ID")
    if not trusted:
        raw = copy.deepcopy(raw)
    record = _ordered(raw, ref.poi_keys)
    for key, id_key, kind in TOP_REFERENCES:
        record[key] = ref.resolve(kind, record.get(id_key), raw.get(key))
    address = _ordered(raw.get("AddressInfo") or {}, ref.address_keys)
    address["Country"] = ref.resolve("Countries", address.get("CountryID"), address.get("Country"))
    address["Distance"] = None
    address["DistanceUnit"] = 0
    record["AddressInfo"] = address
    connections = []
    for raw_conn in raw.get("Connections") or []:
        conn = _ordered(raw_conn, ref.connection_keys)
        for key, id_key, kind in CONNECTION_REFERENCES:
            conn[key] = ref.resolve(kind, conn.get(id_key), raw_conn.get(key))
        connections.append(conn)
    record["Connections"] = connections
    if record.get("UserComments"):
        for comment in record["UserComments"]:
            for key, id_key, kind in COMMENT_REFERENCES:
                if comment.get(key) is None and comment.get(id_key) is not None:
                    comment[key] = ref.lookup(kind, comment[id_key])
    return record


def _richness(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_richness(v) for v in value.values())
    if isinstance(value, list):
        return sum(_richness(v) for v in value) + 1
    return 0 if value is None else 1


def merge_records(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Two shapes of one POI -> the richer one, with its nulls filled from the other."""
    base, other = (old, new) if _richness(old) >= _richness(new) else (new, old)
    return _fill(copy.deepcopy(base), other)


def _fill(base: Any, other: Any) -> Any:
    if isinstance(base, dict) and isinstance(other, dict):
        for key, value in other.items():
            if base.get(key) is None:
                base[key] = copy.deepcopy(value)
            else:
                base[key] = _fill(base[key], value)
    return base


# ------------------------------------------------------------------------------------ rendering
def strip_nulls(value: Any) -> Any:
    """What System.Text.Json's WhenWritingNull does to an object graph (OCM's verbose=false)."""
    if type(value) is dict:
        return {k: strip_nulls(v) if type(v) in _CONTAINERS else v for k, v in value.items() if v is not None}
    if type(value) is list:
        return [strip_nulls(v) if type(v) in _CONTAINERS else v for v in value]
    return value


_CONTAINERS = (dict, list)


@cache
def camel_name(name: str) -> str:
    """System.Text.Json's JsonNamingPolicy.CamelCase: "ID"->"id", "ISOCode"->"isoCode", "PowerKW"->"powerKW"."""
    if not name or not name[0].isupper():
        return name
    chars = list(name)
    for i in range(len(chars)):
        if i == 1 and not chars[i].isupper():
            break
        has_next = i + 1 < len(chars)
        if i > 0 and has_next and not chars[i + 1].isupper():
            if chars[i + 1] == " ":
                chars[i] = chars[i].lower()
            break
        chars[i] = chars[i].lower()
    return "".join(chars)


def camelise(value: Any) -> Any:
    if type(value) is dict:
        return {camel_name(k): camelise(v) if type(v) in _CONTAINERS else v for k, v in value.items()}
    if type(value) is list:
        return [camelise(v) if type(v) in _CONTAINERS else v for v in value]
    return value


def shape_record(
    record: dict[str, Any], *, compact: bool, verbose: bool, include_comments: bool, camelcase: bool
) -> dict[str, Any]:
    """One stored record in an answer shape, AddressInfo without Distance/DistanceUnit (added per query)."""
    out = dict(record)
    address = dict(record["AddressInfo"])
    address.pop("Distance", None)
    address.pop("DistanceUnit", None)
    if compact:
        for key, _, _ in TOP_REFERENCES:
            out[key] = None
        address["Country"] = None
        connections = []
        for conn in record["Connections"] or []:
            conn = dict(conn)
            for key, _, _ in CONNECTION_REFERENCES:
                conn[key] = None
            connections.append(conn)
        out["Connections"] = connections
    out["AddressInfo"] = address
    if not include_comments:
        out["UserComments"] = None
        out["MediaItems"] = None
    elif compact and out.get("UserComments"):
        comments = []
        for comment in out["UserComments"]:
            comment = dict(comment)
            comment["CommentType"] = None
            comment["CheckinStatusType"] = None
            comments.append(comment)
        out["UserComments"] = comments
    if not verbose:
        out = strip_nulls(out)
    if camelcase:
        out = camelise(out)
    return out


# ------------------------------------------------------------------------------------ store
class PoiStore:
    """POIs by ID with a lat/lon grid; thread-safe for one writer (tests) and the server thread."""

    def __init__(self, ref: ReferenceData) -> None:
        self.ref = ref
        self.records: dict[int, dict[str, Any]] = {}
        # cell -> {poi id: (lat, lon, lat in radians, cos lat)}; nearest() reads these, not the records
        self.grid: dict[tuple[int, int], dict[int, tuple[float, float, float, float]]] = {}
        self.lock = threading.RLock()
        self.version = 0
        self._shape_cache: dict[int, dict[tuple[bool, bool, bool, bool], dict[str, Any]]] = {}
        self._json_cache: dict[int, dict[tuple[Any, ...], tuple[bytes, bytes, bytes]]] = {}
        self._order_cache: dict[str, tuple[int, list[int]]] = {}
        self._next_generated = GENERATED_ID_BASE
        self._next_comment_id = 5_000_000
        # POIs found by location but served without coordinates (a broken AddressInfo: OCM's
        # spatial index is a separate field, so such records do turn up in location searches)
        self.without_coordinates: set[int] = set()

    # ---- loading
    def load_shared_samples(self) -> None:
        for name in ("poi-samples.json", "poi-more.json"):
            self.add(load_shared_json("ocm", name))

    def add(self, raws: Iterable[dict[str, Any]], *, trusted: bool = False) -> list[int]:
        ids = []
        with self.lock:
            for raw in raws:
                record = normalise_poi(raw, self.ref, trusted=trusted)
                existing = self.records.get(record["ID"])
                if existing is not None:
                    record = merge_records(existing, record)
                self._put(record)
                ids.append(record["ID"])
        return ids

    def _put(self, record: dict[str, Any]) -> None:
        poi_id = record["ID"]
        self._unindex(poi_id)
        self.records[poi_id] = record
        cell = self._cell_of(record)
        if cell is not None:
            lat, lon = record["AddressInfo"]["Latitude"], record["AddressInfo"]["Longitude"]
            lat_r = math.radians(lat)
            self.grid.setdefault(cell, {})[poi_id] = (lat, lon, lat_r, math.cos(lat_r))
        self._changed(poi_id)

    def _unindex(self, poi_id: int) -> None:
        old = self.records.get(poi_id)
        if old is None:
            return
        cell = self._cell_of(old)
        if cell is not None and cell in self.grid:
            self.grid[cell].pop(poi_id, None)
            if not self.grid[cell]:
                del self.grid[cell]

    def _changed(self, poi_id: int) -> None:
        self.version += 1
        self._shape_cache.pop(poi_id, None)
        self._json_cache.pop(poi_id, None)

    @staticmethod
    def _cell_of(record: dict[str, Any]) -> tuple[int, int] | None:
        address = record.get("AddressInfo") or {}
        lat, lon = address.get("Latitude"), address.get("Longitude")
        if lat is None or lon is None:
            return None
        return (math.floor(lat / GRID_DEG), math.floor(lon / GRID_DEG))

    def snapshot(self) -> PoiStore:
        """A copy to ``restore()`` later (records deep-copied once; restoring shares them)."""
        with self.lock:
            clone = PoiStore(self.ref)
            clone.records = copy.deepcopy(self.records)
            clone.grid = {cell: dict(points) for cell, points in self.grid.items()}
            clone._next_generated = self._next_generated
            return clone

    def restore(self, snapshot: PoiStore) -> None:
        # Records are replaced, never mutated in place, so sharing the snapshot's dicts is safe.
        with self.lock:
            self.records = dict(snapshot.records)
            self.grid = {cell: dict(points) for cell, points in snapshot.grid.items()}
            self._next_generated = snapshot._next_generated
            self.without_coordinates = set()
            self.version += 1
            self._shape_cache.clear()
            self._json_cache.clear()
            self._order_cache.clear()

    def remove(self, poi_id: int) -> None:
        with self.lock:
            if poi_id not in self.records:
                raise KeyError(poi_id)
            self._unindex(poi_id)
            del self.records[poi_id]
            self._changed(poi_id)

    def modify(self, poi_id: int, changes: dict[str, Any], *, bump: bool = True) -> dict[str, Any]:
        with self.lock:
            record = copy.deepcopy(self.records[poi_id])
            for key, value in changes.items():
                if key == "AddressInfo" and isinstance(value, dict):
                    record["AddressInfo"].update(value)
                    if "CountryID" in value:
                        record["AddressInfo"]["Country"] = None
                else:
                    record[key] = copy.deepcopy(value)
                for ref_key, id_key, _ in TOP_REFERENCES:
                    if key == id_key and ref_key not in changes:
                        record[ref_key] = None
            if bump and "DateLastStatusUpdate" not in changes:
                now = utc_now()
                record["DateLastStatusUpdate"] = format_ocm_date(now)
                record["DateLastVerified"] = format_ocm_date(now)
                record["IsRecentlyVerified"] = True
            self._put(normalise_poi(record, self.ref, trusted=True))
            return self.records[poi_id]

    def serve_without_coordinates(self, poi_id: int) -> None:
        with self.lock:
            if poi_id not in self.records:
                raise KeyError(poi_id)
            self.without_coordinates.add(poi_id)
            self._changed(poi_id)

    def add_comment(self, poi_id: int, comment: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            record = copy.deepcopy(self.records[poi_id])
            self._next_comment_id += 1
            comment = {**comment, "ID": self._next_comment_id, "ChargePointID": poi_id}
            comment = {k: comment.get(k) for k in self.ref.comment_keys}
            for key, id_key, kind in COMMENT_REFERENCES:
                comment[key] = self.ref.lookup(kind, comment.get(id_key))
            record["UserComments"] = [comment, *(record.get("UserComments") or [])]
            now = utc_now()
            record["DateLastStatusUpdate"] = format_ocm_date(now)
            record["DateLastVerified"] = format_ocm_date(now)
            record["IsRecentlyVerified"] = True
            self._put(record)
            return comment

    def add_media_item(self, poi_id: int, item: dict[str, Any]) -> None:
        """A photo on a POI (first in its ``MediaItems``); the POI counts as updated now."""
        with self.lock:
            record = copy.deepcopy(self.records[poi_id])
            record["MediaItems"] = [item, *(record.get("MediaItems") or [])]
            record["DateLastStatusUpdate"] = format_ocm_date(utc_now())
            self._put(record)

    # ---- generated data
    def generate(
        self,
        n: int,
        center: tuple[float, float],
        radius_km: float,
        seed: int | None,
        country_id: int | None = None,
        stamp_now: bool = False,
    ) -> list[int]:
        lat0, lon0 = center
        if country_id is None:
            country_id = self._nearest_country(lat0, lon0)
        raws = []
        with self.lock:
            # Deterministic for a seed, yet two calls in one test do not stack chargers on the same spots.
            rng = random.Random(None if seed is None else f"{seed}:{self._next_generated}")
            now = format_ocm_date(utc_now())
            for _ in range(n):
                self._next_generated += 1
                raw = self._generated_poi(rng, self._next_generated, lat0, lon0, radius_km, country_id)
                if stamp_now:
                    raw.update(DateCreated=now, DateLastStatusUpdate=now, DateLastVerified=now, IsRecentlyVerified=True)
                raws.append(raw)
        return self.add(raws, trusted=True)

    def _nearest_country(self, lat: float, lon: float) -> int | None:
        best, best_d = None, 500.0
        for record in self.records.values():
            address = record["AddressInfo"]
            if address.get("Latitude") is None or record["ID"] >= GENERATED_ID_BASE:
                continue
            d = haversine_km(lat, lon, address["Latitude"], address["Longitude"])
            if d < best_d:
                best, best_d = address.get("CountryID"), d
        return best

    @staticmethod
    def _generated_poi(
        rng: random.Random, poi_id: int, lat0: float, lon0: float, radius_km: float, country_id: int | None
    ) -> dict[str, Any]:
        k = poi_id - GENERATED_ID_BASE
        distance = radius_km * math.sqrt(rng.random())
        bearing = rng.uniform(0, 2 * math.pi)
        lat = lat0 + (distance * math.cos(bearing)) / 111.195
        lon = lon0 + (distance * math.sin(bearing)) / (111.195 * max(0.01, math.cos(math.radians(lat0))))
        kinds = [  # connection type, level, current type, kW, amps, volts
            (25, 2, 10, 7.4, 32, 230),
            (25, 2, 20, 22.0, 32, 400),
            (1036, 2, 20, 11.0, 16, 400),
            (33, 3, 30, 50.0, 125, 400),
            (33, 3, 30, 150.0, 375, 400),
            (2, 3, 30, 50.0, 125, 500),
            (1, 2, 10, 3.7, 16, 230),
            (32, 3, 30, 350.0, 500, 800),
            (3, 1, 10, 1.8, 8, 230),
        ]
        connections = []
        for i in range(rng.randint(1, 3)):
            ct, level, current, kw, amps, volts = rng.choice(kinds)
            connections.append(
                {
                    "ID": poi_id * 10 + i,
                    "ConnectionTypeID": ct,
                    "StatusTypeID": rng.choice([50, 50, 50, None, 0, 100]),
                    "LevelID": level,
                    "Amps": amps,
                    "Voltage": volts,
                    "PowerKW": kw,
                    "CurrentTypeID": current,
                    "Quantity": rng.randint(1, 4),
                }
            )
        created = datetime(2016, 1, 1) + timedelta(minutes=rng.randrange(0, 8 * 365 * 24 * 60))
        updated = created + timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
        return {
            "IsRecentlyVerified": False,
            "DateLastVerified": format_ocm_date(updated),
            "ID": poi_id,
            "UUID": str(uuid.UUID(int=rng.getrandbits(128))).upper(),
            "DataProviderID": GENERATED_PROVIDER_ID,
            "OperatorID": rng.choice([3, 5, 23, 8, 45, 1]),
            "UsageTypeID": rng.choice([1, 1, 1, 4, 5, 6, 2]),
            "UsageCost": rng.choice([None, "Free", "£0.45/kWh", "0.39 EUR/kWh"]),
            "AddressInfo": {
                "ID": poi_id,
                "Title": f"Generated charger {k}",
                "AddressLine1": f"{k} Test Street",
                "Town": "Generated Town",
                "CountryID": country_id,
                "Latitude": round(lat, 7),
                "Longitude": round(lon, 7),
            },
            "Connections": connections,
            "NumberOfPoints": len(connections),
            "GeneralComments": "Synthetic charger for tests; it does not exist.",
            "StatusTypeID": rng.choice([50, 50, 50, 50, 0, 75, 100, 150, None]),
            "DateLastStatusUpdate": format_ocm_date(updated),
            "DataQualityLevel": 1,
            "DateCreated": format_ocm_date(created),
            "SubmissionStatusTypeID": 200,
        }

    # ---- reading
    def shaped(self, poi_id: int, shape: tuple[bool, bool, bool, bool]) -> dict[str, Any]:
        shapes = self._shape_cache.setdefault(poi_id, {})
        cached = shapes.get(shape)
        if cached is None:
            compact, verbose, include_comments, camelcase = shape
            cached = shape_record(
                self.records[poi_id],
                compact=compact,
                verbose=verbose,
                include_comments=include_comments,
                camelcase=camelcase,
            )
            if poi_id in self.without_coordinates:
                address_key = "addressInfo" if camelcase else "AddressInfo"
                names = ("latitude", "longitude") if camelcase else ("Latitude", "Longitude")
                address = {k: v for k, v in cached[address_key].items() if k not in names}
                if verbose:
                    address.update(dict.fromkeys(names))
                cached = {**cached, address_key: address}
            shapes[shape] = cached
        return cached

    def shaped_json(
        self, poi_id: int, shape: tuple[bool, bool, bool, bool], indent: bool
    ) -> tuple[bytes, bytes, bytes]:
        """The shaped POI pre-serialised as (before, indentation, after) around the spot where
        AddressInfo's Distance/DistanceUnit go; ``indent`` gives a list element at depth 1."""
        shapes = self._json_cache.setdefault(poi_id, {})
        key = (shape, indent)
        cached = shapes.get(key)
        if cached is None:
            shaped = dict(self.shaped(poi_id, shape))
            address_key = "addressInfo" if shape[3] else "AddressInfo"
            shaped[address_key] = {**shaped[address_key], _DISTANCE_MARKER: None}
            if indent:
                text = json.dumps([shaped], indent=2)[2:-2]
                token = '"\\u0000d": null'
            else:
                text = json.dumps(shaped, separators=(",", ":"))
                token = '"\\u0000d":null'
            at = text.index(token)
            line_start = text.rfind("\n", 0, at) + 1
            cached = (
                text[:at].encode(),
                text[line_start:at].encode() if indent else b"",
                text[at + len(token) :].encode(),
            )
            shapes[key] = cached
        return cached

    def ordered_ids(self, order: str) -> list[int]:
        """All IDs in one of OCM's orders: "id_desc" (default), "id_asc", "created_asc", "modified_asc"."""
        cached = self._order_cache.get(order)
        if cached is not None and cached[0] == self.version:
            return cached[1]
        records = self.records
        if order == "id_asc":
            ids = sorted(records)
        elif order == "created_asc":
            ids = sorted(records, key=lambda i: (_date_key(records[i].get("DateCreated")), i))
        elif order == "modified_asc":
            ids = sorted(records, key=lambda i: (_date_key(records[i].get("DateLastStatusUpdate")), i))
        else:
            ids = sorted(records, reverse=True)
        self._order_cache[order] = (self.version, ids)
        return ids

    def ids_in_box(self, south: float, west: float, north: float, east: float) -> Iterator[int]:
        """Candidate IDs whose grid cell touches the box (callers still check exact positions)."""
        for cell in self._cells_in_box(south, west, north, east):
            yield from self.grid[cell]

    def nearest(
        self,
        lat: float,
        lon: float,
        max_km: float,
        accept: Callable[[dict[str, Any]], bool],
        limit: int,
    ) -> list[tuple[float, int]]:
        """Up to ``limit`` accepted POIs within ``max_km``, nearest first, as (km, id).

        Visits grid cells in order of their distance from the point and stops once the next cell
        is farther than the ``limit``-th best hit, so dense data stays fast.
        """
        if limit <= 0 or max_km <= 0:
            return []
        dlat = max_km / 111.195
        south, north = max(-90.0, lat - dlat), min(90.0, lat + dlat)
        cos_min = max(0.01, min(math.cos(math.radians(south)), math.cos(math.radians(north))))
        dlon = min(180.0, max_km / (111.195 * cos_min))
        cells = []
        for cell in self._cells_in_box(south, lon - dlon, north, lon + dlon):
            i, j = cell
            dy = max(0.0, i * GRID_DEG - lat, lat - (i + 1) * GRID_DEG) * 111.195
            dx = max(0.0, j * GRID_DEG - lon, lon - (j + 1) * GRID_DEG) * 111.195 * cos_min
            lower_bound = math.hypot(dx, dy) * 0.995
            if lower_bound < max_km:
                cells.append((lower_bound, cell))
        cells.sort()
        records = self.records
        grid = self.grid
        best: list[tuple[float, int]] = []  # max-heap of the nearest accepted: (-km, -id)
        bound = max_km  # nothing farther can enter the result any more
        lat_r = math.radians(lat)
        cos_lat = math.cos(lat_r)
        km_per_deg = math.pi * EARTH_RADIUS_KM / 180
        sin, asin, sqrt, radians = math.sin, math.asin, math.sqrt, math.radians
        for lower_bound, cell in cells:
            if lower_bound > bound:
                break
            for poi_id, (plat, plon, plat_r, pcos) in grid[cell].items():
                if abs(plat - lat) * km_per_deg > bound:  # the latitude gap alone is too far
                    continue
                h = sin((plat_r - lat_r) / 2) ** 2 + cos_lat * pcos * sin(radians(plon - lon) / 2) ** 2
                d = 2 * EARTH_RADIUS_KM * asin(sqrt(min(1.0, h)))
                if d >= max_km or (len(best) >= limit and (d, poi_id) > (-best[0][0], -best[0][1])):
                    continue
                if not accept(records[poi_id]):
                    continue
                if len(best) < limit:
                    heapq.heappush(best, (-d, -poi_id))
                else:
                    heapq.heapreplace(best, (-d, -poi_id))
                if len(best) >= limit:
                    bound = -best[0][0]
        return sorted((-d, -i) for d, i in best)

    def _cells_in_box(self, south: float, west: float, north: float, east: float) -> Iterator[tuple[int, int]]:
        i0, i1 = math.floor(south / GRID_DEG), math.floor(north / GRID_DEG)
        j0, j1 = math.floor(west / GRID_DEG), math.floor(east / GRID_DEG)
        if (i1 - i0 + 1) * (j1 - j0 + 1) > len(self.grid):
            for cell in self.grid:
                if i0 <= cell[0] <= i1 and j0 <= cell[1] <= j1:
                    yield cell
            return
        for i in range(i0, i1 + 1):
            for j in range(j0, j1 + 1):
                if (i, j) in self.grid:
                    yield (i, j)


_DISTANCE_MARKER = "\x00d"


def _date_key(value: Any) -> datetime:
    return parse_ocm_date(value) or datetime.min
