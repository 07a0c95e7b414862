"""A typed query for OCM's ``GET /poi``.

Field names follow OCM's parameters (https://openchargemap.org/site/develop/api and
``../shared/ocm/openapi.yaml``). Construction validates and normalises; :meth:`PoiQuery.to_params`
renders the query string in OCM's documented format:

- lists are comma-separated (``connectiontypeid=25,33``), sorted and de-duplicated;
- ``modifiedsince`` is UTC with its offset, ``YYYY-MM-DDTHH:MM:SSZ`` (OCM parses it in its own zone, UTC);
- booleans are ``true`` / ``false``;
- ``boundingbox`` is ``(lat,lng),(lat2,lng2)``, top-left (north-west) corner first;
- ``polygon`` and ``polyline`` are Google encoded polylines (the ``polyline`` package);
- ``distanceunit`` is ``km`` or ``miles`` (OCM's own default is miles, so we always say which).

An empty tuple means "no filter". An explicitly empty *list* is refused, because "match none of
these connection types" and "no filter" would otherwise look the same.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import polyline as polyline_codec

from ocm_bot.geometry import KM_PER_MILE


class OutputFormat(enum.StrEnum):
    JSON = "json"
    GEOJSON = "geojson"
    XML = "xml"
    CSV = "csv"
    KML = "kml"


class SortBy(enum.StrEnum):
    CREATED_ASC = "created_asc"
    MODIFIED_ASC = "modified_asc"
    ID_ASC = "id_asc"


ID_FILTER_FIELDS = (
    "countryid",
    "operatorid",
    "connectiontypeid",
    "levelid",
    "usagetypeid",
    "statustypeid",
    "dataproviderid",
)
"""The reference-ID lists that narrow a search (a charger matches one ID of each list given)."""
_ID_LIST_FIELDS = (*ID_FILTER_FIELDS, "chargepointid")
_CALLBACK = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$")
_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True, slots=True)
class PoiQuery:
    """What to ask ``GET /poi`` for. Construction validates; invalid values raise ValueError.

    Example::

        PoiQuery(latitude=45.5122, longitude=-122.6587, distance=10, maxresults=50,
                 connectiontypeid=(33, 25), minpowerkw=50)
    """

    output: OutputFormat = OutputFormat.JSON
    maxresults: int | None = None
    countrycode: tuple[str, ...] = ()
    countryid: tuple[int, ...] = ()
    latitude: float | None = None
    longitude: float | None = None
    distance: float | None = None
    distance_in_miles: bool = False
    operatorid: tuple[int, ...] = ()
    connectiontypeid: tuple[int, ...] = ()
    levelid: tuple[int, ...] = ()
    minpowerkw: float | None = None
    maxpowerkw: float | None = None
    usagetypeid: tuple[int, ...] = ()
    statustypeid: tuple[int, ...] = ()
    dataproviderid: tuple[int, ...] = ()
    modifiedsince: datetime | None = None
    opendata: bool | None = None
    includecomments: bool = False
    verbose: bool = False
    compact: bool = True
    camelcase: bool = False
    callback: str | None = None
    chargepointid: tuple[int, ...] = ()
    boundingbox: tuple[tuple[float, float], tuple[float, float]] | None = None
    polygon: tuple[tuple[float, float], ...] = ()
    polyline: tuple[tuple[float, float], ...] = ()
    sortby: SortBy | None = None
    greaterthanid: int | None = None

    def __post_init__(self) -> None:
        _set = object.__setattr__  # frozen: normalise in place once, at construction
        _set(self, "output", _enum(OutputFormat, self.output, "output"))
        if self.sortby is not None:
            _set(self, "sortby", _enum(SortBy, self.sortby, "sortby"))
        for name in _ID_LIST_FIELDS:
            _set(self, name, _id_list(name, getattr(self, name)))
        _set(self, "countrycode", _country_codes(self.countrycode))
        if len(self.countrycode) > 1:
            # OCM looks up one ISO code and silently ignores "GB,IE" (no filter at all).
            raise ValueError("countrycode takes one country; use countryid for several")
        if self.countrycode and self.countryid:
            raise ValueError("give countrycode or countryid, not both (OCM would drop countryid)")

        if self.maxresults is not None:
            _set(self, "maxresults", _positive_int("maxresults", self.maxresults))
        if self.greaterthanid is not None:
            _set(self, "greaterthanid", _non_negative_int("greaterthanid", self.greaterthanid))

        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude must be given together")
        if self.latitude is not None and self.longitude is not None:
            _set(self, "latitude", _latitude(self.latitude))
            _set(self, "longitude", _longitude(self.longitude))

        if self.distance is not None:
            distance = _finite("distance", self.distance)
            if distance <= 0:
                raise ValueError(f"distance must be positive, got {self.distance!r}")
            if self.latitude is None and not self.polyline:
                raise ValueError("distance needs a latitude/longitude (or a polyline) to measure from")
            _set(self, "distance", distance)

        for name in ("minpowerkw", "maxpowerkw"):
            value = getattr(self, name)
            if value is not None:
                value = _finite(name, value)
                if value < 0:
                    raise ValueError(f"{name} must not be negative, got {value!r}")
                _set(self, name, value)
        if self.minpowerkw is not None and self.maxpowerkw is not None and self.minpowerkw > self.maxpowerkw:
            raise ValueError(f"minpowerkw {self.minpowerkw} is above maxpowerkw {self.maxpowerkw}")

        if self.modifiedsince is not None:
            if not isinstance(self.modifiedsince, datetime):
                raise ValueError("modifiedsince must be a datetime")
            if self.modifiedsince.tzinfo is None:
                raise ValueError("modifiedsince must be timezone-aware (OCM reads it as UTC)")
            _set(self, "modifiedsince", self.modifiedsince.astimezone(UTC))

        if self.callback is not None and not _CALLBACK.match(self.callback):
            raise ValueError(f"callback must be a JavaScript identifier, got {self.callback!r}")

        if self.boundingbox is not None:
            _set(self, "boundingbox", _bounding_box(self.boundingbox))
        _set(self, "polygon", _points("polygon", self.polygon, minimum=3))
        _set(self, "polyline", _points("polyline", self.polyline, minimum=2))
        for name in ("opendata",):
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise ValueError(f"{name} must be True, False or None")

    # Derived values ---------------------------------------------------------------------------

    @property
    def has_point(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def radius_km(self) -> float | None:
        """``distance`` in kilometres (None when the query has no distance)."""
        if self.distance is None:
            return None
        return self.distance * KM_PER_MILE if self.distance_in_miles else self.distance

    # Rendering --------------------------------------------------------------------------------

    def to_params(self) -> dict[str, str]:
        """The query string OCM expects (without the API key, which travels as a header)."""
        params: dict[str, str] = {"output": self.output.value}
        if self.maxresults is not None:
            params["maxresults"] = str(self.maxresults)
        if self.countrycode:
            params["countrycode"] = ",".join(self.countrycode)
        if self.latitude is not None and self.longitude is not None:
            params["latitude"] = _number(self.latitude)
            params["longitude"] = _number(self.longitude)
        if self.distance is not None:
            params["distance"] = _number(self.distance)
        if self.has_point or self.distance is not None:
            params["distanceunit"] = "miles" if self.distance_in_miles else "km"
        for name in _ID_LIST_FIELDS:
            values = getattr(self, name)
            if values:
                params[name] = ",".join(str(v) for v in values)
        if self.minpowerkw is not None:
            params["minpowerkw"] = _number(self.minpowerkw)
        if self.maxpowerkw is not None:
            params["maxpowerkw"] = _number(self.maxpowerkw)
        if self.modifiedsince is not None:
            params["modifiedsince"] = self.modifiedsince.strftime("%Y-%m-%dT%H:%M:%SZ")
        if self.opendata is not None:
            params["opendata"] = _bool(self.opendata)
        if self.includecomments:
            params["includecomments"] = "true"
        params["verbose"] = _bool(self.verbose)
        params["compact"] = _bool(self.compact)
        if self.camelcase:
            params["camelcase"] = "true"
        if self.callback is not None:
            params["callback"] = self.callback
        if self.boundingbox is not None:
            (lat1, lng1), (lat2, lng2) = self.boundingbox
            params["boundingbox"] = f"({_number(lat1)},{_number(lng1)}),({_number(lat2)},{_number(lng2)})"
        if self.polygon:
            params["polygon"] = polyline_codec.encode(list(self.polygon))
        if self.polyline:
            params["polyline"] = polyline_codec.encode(list(self.polyline))
        if self.sortby is not None:
            params["sortby"] = self.sortby.value
        if self.greaterthanid is not None:
            params["greaterthanid"] = str(self.greaterthanid)
        return params

    def cache_key(self) -> tuple[tuple[str, str], ...]:
        """Equal for queries that send OCM the same request (order of list items ignored)."""
        return tuple(sorted(self.to_params().items()))

    def replace(self, **changes: Any) -> PoiQuery:
        """A copy with ``changes`` applied (validated again)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return PoiQuery(**values)


# Validation helpers -----------------------------------------------------------------------------


def _enum(kind: type[enum.StrEnum], value: Any, name: str) -> Any:
    try:
        return kind(str(value).lower())
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}") from None


def _id_list(name: str, values: Any) -> tuple[int, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        values = (values,)  # one ID given bare
    elif isinstance(values, list) and not values:
        raise ValueError(f"{name} is an empty list: omit it (or pass ()) for no filter")
    result = set()
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must hold integer IDs, got {value!r}")
        if value < 0:
            raise ValueError(f"{name} IDs must not be negative, got {value!r}")
        result.add(int(value))
    return tuple(sorted(result))


def _country_codes(values: Any) -> tuple[str, ...]:
    if isinstance(values, str):
        values = (values,)
    elif isinstance(values, list) and not values:
        raise ValueError("countrycode is an empty list: omit it (or pass ()) for no filter")
    codes = set()
    for value in values:
        code = str(value).strip().upper()
        if not _COUNTRY_CODE.match(code):
            raise ValueError(f"countrycode must be a 2-letter ISO code, got {value!r}")
        codes.add(code)
    return tuple(sorted(codes))


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _non_negative_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def _finite(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def _latitude(value: Any, name: str = "latitude") -> float:
    number = _finite(name, value)
    if not -90 <= number <= 90:
        raise ValueError(f"{name} must be between -90 and 90, got {value!r}")
    return number


def _longitude(value: Any, name: str = "longitude") -> float:
    number = _finite(name, value)
    if not -180 <= number <= 180:
        raise ValueError(f"{name} must be between -180 and 180, got {value!r}")
    return number


def _point(name: str, point: Any) -> tuple[float, float]:
    try:
        lat, lng = point
    except (TypeError, ValueError):
        raise ValueError(f"{name} points must be (latitude, longitude) pairs, got {point!r}") from None
    return _latitude(lat, f"{name} latitude"), _longitude(lng, f"{name} longitude")


def _bounding_box(box: Any) -> tuple[tuple[float, float], tuple[float, float]]:
    try:
        top_left, bottom_right = box
    except (TypeError, ValueError):
        raise ValueError("boundingbox must be ((lat, lng), (lat2, lng2))") from None
    (north, west), (south, east) = _point("boundingbox", top_left), _point("boundingbox", bottom_right)
    if north <= south or west >= east:
        raise ValueError(
            f"boundingbox corners must be top-left (north-west) then bottom-right (south-east), got {box!r}"
        )
    return (north, west), (south, east)


def _points(name: str, points: Any, *, minimum: int) -> tuple[tuple[float, float], ...]:
    if isinstance(points, list) and not points:
        raise ValueError(f"{name} is an empty list: omit it (or pass ()) for none")
    result = tuple(_point(name, p) for p in points)
    if result and len(result) < minimum:
        raise ValueError(f"{name} needs at least {minimum} points, got {len(result)}")
    return result


def _number(value: float) -> str:
    """A float as OCM reads it: no exponent, at most 6 decimals (about 0.1 m), no trailing zeros."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _bool(value: bool) -> str:
    return "true" if value else "false"
