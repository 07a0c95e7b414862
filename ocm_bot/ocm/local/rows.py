"""Index rows: the few fields of a POI that queries filter on, read straight from its JSON.

A POI is indexed from its ID, coordinates, reference IDs (country, operator, usage type, status,
data provider, submission status), dates and connections, read the way the API client's parser
(:func:`ocm_bot.ocm.parse.parse_poi`) reads them but without building a ``Charger``: that is
parsed only when a query returns the POI (see :mod:`ocm_bot.ocm.local.index`). A :data:`Row` is
those fields as plain values (cheap to pickle from a worker process); an :class:`Entry` is a row
in the index, with where the POI's JSON is.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from ocm_bot.ocm.parse import _ci, _date, _float, _int
from ocm_bot.ocm.reference import PUBLISHED_SUBMISSION_IDS, REMOVED_STATUS_IDS, ReferenceData


class Entry:
    """One POI as the index sees it: the fields queries filter on, and the POI itself.

    The :class:`Charger` is parsed when a query returns it (and kept in a bounded cache) from
    ``where``: the POI's JSON text, or ``(file number, offset, length)`` in the dump (length -1:
    the whole file).
    """

    __slots__ = (
        "connections",
        "coslat",
        "country_id",
        "created",
        "id",
        "lat",
        "lon",
        "modified",
        "open_data",
        "operator_id",
        "provider_id",
        "rlat",
        "rlon",
        "status_id",
        "submission_id",
        "usage_type_id",
        "where",
    )

    id: int
    lat: float
    lon: float
    rlat: float
    rlon: float
    coslat: float
    country_id: int | None
    operator_id: int | None
    usage_type_id: int | None
    status_id: int | None
    provider_id: int | None
    submission_id: int | None
    open_data: bool | None
    modified: str | None  # a UTC time as a sortable string, see time_key
    created: str | None
    connections: tuple[tuple[int | None, int | None, float | None], ...]
    where: Where

    @property
    def is_listed(self) -> bool:
        """OCM never returns removed chargers nor submissions that are not published."""
        if self.status_id in REMOVED_STATUS_IDS:
            return False
        return self.submission_id is None or self.submission_id in PUBLISHED_SUBMISSION_IDS


def _camel(name: str) -> str:
    """Json.NET's camel-casing, as OCM's ``camelcase=true`` applies it: ID -> id, ISOCode -> isoCode."""
    chars = list(name)
    for i, char in enumerate(chars):
        if i == 1 and not char.isupper():
            break
        if i > 0 and i + 1 < len(chars) and not chars[i + 1].isupper():
            break
        chars[i] = char.lower()
    return "".join(chars)


class _Keys:
    """The key names of one spelling of OCM's JSON (the parser reads keys case-insensitively)."""

    def __init__(self, spell: Callable[[str], str]) -> None:
        names = (
            "ID AddressInfo Latitude Longitude CountryID Country OperatorID OperatorInfo UsageTypeID UsageType "
            "StatusTypeID StatusType DataProviderID DataProvider SubmissionStatusTypeID SubmissionStatus "
            "DateLastStatusUpdate DateCreated Connections ConnectionTypeID ConnectionType LevelID Level PowerKW "
            "IsOpenDataLicensed"
        )
        for name in names.split():
            setattr(self, name, spell(name))

    def __getattr__(self, name: str) -> str:  # only to please type checkers; every name is set above
        raise AttributeError(name)


_PASCAL, _CAMEL, _LOWER = _Keys(lambda name: name), _Keys(_camel), _Keys(str.lower)


def _as_int(value: Any) -> int | None:
    return value if type(value) is int else _int(value)


def _as_float(value: Any) -> float | None:
    kind = type(value)
    if kind is float and math.isfinite(value):
        return value
    return float(value) if kind is int else _float(value)


def _reference_id(item: Mapping[str, Any], id_key: str, object_key: str) -> int | None:
    """The ID the parser resolves: the ``...ID`` field, else the inline object's ``ID``."""
    value = _as_int(item.get(id_key))
    if value is None:
        inline = item.get(object_key)
        if isinstance(inline, Mapping):
            value = _int(_ci(inline).get("id"))
    return value


Row = tuple[Any, ...]
"""The index fields of one POI, as :func:`index_row` reads them (plain values: cheap to pickle)."""


def index_row(item: Any) -> Row | None:
    """Index fields of one POI, read the way :func:`ocm_bot.ocm.parse.parse_poi` reads them, or None.

    OCM's two spellings (PascalCase, camelCase) are read directly, which is several times faster
    than lower-casing every key; any other spelling goes through the parser's case-folding.
    """
    if not isinstance(item, Mapping):
        return None
    if "AddressInfo" in item:
        keys, poi = _PASCAL, item
    elif "addressInfo" in item:
        keys, poi = _CAMEL, item
    else:
        keys, poi = _LOWER, _ci(item)
    info = poi.get(keys.AddressInfo)
    if not isinstance(info, Mapping):
        return None
    if keys is _LOWER:
        info = _ci(info)
    poi_id = _as_int(poi.get(keys.ID))
    lat, lon = _as_float(info.get(keys.Latitude)), _as_float(info.get(keys.Longitude))
    if lat is None and keys is not _LOWER:  # odd casing inside: read it the slow, sure way
        return index_row(_lowered(item))
    if poi_id is None or lat is None or lon is None:
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None  # the parser skips these too
    inline_open = _ci(poi.get(keys.DataProvider)).get("isopendatalicensed")
    connections = poi.get(keys.Connections)
    if isinstance(connections, list):
        type_key, type_object, level_key, level_object, power_key = (
            keys.ConnectionTypeID,
            keys.ConnectionType,
            keys.LevelID,
            keys.Level,
            keys.PowerKW,
        )
        plugs = tuple(
            (
                _reference_id(conn, type_key, type_object),
                _reference_id(conn, level_key, level_object),
                _as_float(conn.get(power_key)),
            )
            for conn in (_ci(c) if keys is _LOWER else c for c in connections if isinstance(c, Mapping))
        )
    else:
        plugs = ()
    return (
        poi_id,
        lat,
        lon,
        _reference_id(info, keys.CountryID, keys.Country),
        _reference_id(poi, keys.OperatorID, keys.OperatorInfo),
        _reference_id(poi, keys.UsageTypeID, keys.UsageType),
        _reference_id(poi, keys.StatusTypeID, keys.StatusType),
        _reference_id(poi, keys.DataProviderID, keys.DataProvider),
        _reference_id(poi, keys.SubmissionStatusTypeID, keys.SubmissionStatus),
        inline_open if isinstance(inline_open, bool) else None,
        time_key(poi.get(keys.DateLastStatusUpdate)),
        time_key(poi.get(keys.DateCreated)),
        plugs,
    )


Where = bytes | tuple[int, int, int]
"""Where a POI's JSON is: the text itself, or (file number, offset, length) in the dump."""


def entry_from_row(row: Row, where: Where, reference: ReferenceData) -> Entry:
    entry = Entry()
    (
        entry.id,
        entry.lat,
        entry.lon,
        entry.country_id,
        entry.operator_id,
        entry.usage_type_id,
        entry.status_id,
        entry.provider_id,
        entry.submission_id,
        inline_open,
        entry.modified,
        entry.created,
        entry.connections,
    ) = row
    entry.rlat, entry.rlon = math.radians(entry.lat), math.radians(entry.lon)
    entry.coslat = math.cos(entry.rlat)
    provider = reference.data_providers.get(entry.provider_id) if entry.provider_id is not None else None
    entry.open_data = provider.is_open_data_licensed if provider is not None else inline_open
    entry.where = where
    return entry


def entry_from(item: Any, where: Where | None, reference: ReferenceData) -> Entry | None:
    row = index_row(item)
    if row is None:
        return None
    return entry_from_row(row, where if where is not None else compact_json(item), reference)


def compact_json(item: Any) -> bytes:
    """A POI's JSON text, for one read from a document the index cannot point into."""
    return json.dumps(item, separators=(",", ":")).encode()


def time_key(value: Any) -> str | None:
    """An OCM date as ``YYYY-MM-DDTHH:MM:SS[.ffffff]`` in UTC: strings in this form sort by time.

    OCM writes whole-second UTC times (``2023-05-27T05:42:00Z``); those are sliced, which is
    several times faster than building datetimes for a world-sized dump. Others go through the
    parser's date reader.
    """
    if type(value) is str and len(value) == 20 and value[19] == "Z" and value[10] == "T":
        return value[:19]
    parsed = _date(value)
    return datetime_key(parsed) if parsed is not None else None


def datetime_key(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{moment.microsecond:06d}" if moment.microsecond else text


def _lowered(value: Any) -> Any:
    """A JSON value with every object's keys lower-cased, at every depth."""
    if isinstance(value, Mapping):
        return {str(key).lower(): _lowered(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_lowered(item) for item in value]
    return value
