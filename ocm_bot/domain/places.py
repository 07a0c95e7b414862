"""Read a place from what a driver types: coordinates, ``geo:`` URIs and map links.

:func:`parse_place` never calls a geocoder. It answers one of:

- :class:`Coordinates` — the text held a point (``52.52, 13.405``, ``52.52 13.405``,
  ``52°31'12"N 13°24'18"E``, ``N 52° 31.2' E 13° 24.3'``, ``geo:52.52,13.405``, or a Google Maps,
  Apple Maps, OpenStreetMap or Waze link with coordinates in it);
- :class:`PlaceQuery` — text (or a link's search words) to geocode;
- raises :class:`PlaceInputError` for input that cannot be a place (empty, too long, no letters or
  digits, coordinates off the globe, a map link without a point in it).

Example::

    parse_place("https://www.openstreetmap.org/?mlat=52.52&mlon=13.405#map=15/52.52/13.405")
    # Coordinates(GeoPoint(52.52, 13.405), label=None)
    parse_place("Pioneer Courthouse Square, Portland")   # PlaceQuery("Pioneer Courthouse Square, Portland")
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote_plus, urlsplit

from ocm_bot.domain.geo import GeoPoint
from ocm_bot.errors import InputError

MAX_QUERY_CHARS = 200
"""Longer text is not an address; Nominatim would only waste a request on it."""


class PlaceProblem(enum.StrEnum):
    """Why text cannot name a place; picks the message the driver sees."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    NO_TEXT = "no_text"
    LATITUDE_RANGE = "latitude_range"
    LONGITUDE_RANGE = "longitude_range"
    LINK_WITHOUT_POINT = "link_without_point"


class PlaceInputError(InputError):
    """Text that cannot name a place; ``reason`` picks the message the driver sees."""

    EMPTY = PlaceProblem.EMPTY
    TOO_LONG = PlaceProblem.TOO_LONG
    NO_TEXT = PlaceProblem.NO_TEXT
    LATITUDE_RANGE = PlaceProblem.LATITUDE_RANGE
    LONGITUDE_RANGE = PlaceProblem.LONGITUDE_RANGE
    LINK_WITHOUT_POINT = PlaceProblem.LINK_WITHOUT_POINT

    def __init__(self, reason: PlaceProblem) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Coordinates:
    """A point read from text; ``as_typed`` is how the driver wrote it ("45.5122, -122.6587"), to echo back."""

    point: GeoPoint
    label: str | None = None
    as_typed: str | None = None


@dataclass(frozen=True, slots=True)
class PlaceQuery:
    text: str


Place = Coordinates | PlaceQuery

_NUMBER = r"[-+−]?\d{1,3}(?:[.,]\d+)?"
_DECIMAL_PAIR = re.compile(
    rf"^\s*(?P<lat>{_NUMBER.replace('[.,]', '[.]')})\s*(?P<sep>[,;\s])\s*(?P<lon>{_NUMBER.replace('[.,]', '[.]')})\s*$"
)
# One coordinate in degrees (decimal, degrees-minutes or degrees-minutes-seconds) with an
# optional hemisphere letter before or after: 52°31'12"N, N 52° 31.2', 52.52°N, 13.405 E.
_DMS = (
    r"(?P<{p}h1>[NSEWnsew])?\s*"
    r"(?P<{p}deg>\d{{1,3}}(?:[.,]\d+)?)\s*(?:°|º|˚|deg|d|\s)\s*"
    r"(?:(?P<{p}min>\d{{1,2}}(?:[.,]\d+)?)\s*(?:'|′|’|m|\s)\s*)?"
    r"(?:(?P<{p}sec>\d{{1,2}}(?:[.,]\d+)?)\s*(?:\"|″|”|''|′′|s)\s*)?"
    r"(?({p}h1)|(?P<{p}h2>[NSEWnsew])?)"  # a hemisphere letter before or after, not both
)
_DMS_PAIR = re.compile(r"^\s*" + _DMS.format(p="a") + r"\s*[,;]?\s*" + _DMS.format(p="b") + r"\s*$")
_GEO_URI = re.compile(
    r"^\s*geo:\s*(?P<lat>[-+]?\d+(?:\.\d+)?)\s*,\s*(?P<lon>[-+]?\d+(?:\.\d+)?)(?P<rest>\S.*)?\s*$", re.I
)
_PAIR_IN_TEXT = re.compile(r"(?P<lat>[-+]?\d{1,3}(?:\.\d+)?)\s*,\s*(?P<lon>[-+]?\d{1,3}(?:\.\d+)?)")
_GOOGLE_AT = re.compile(r"@(?P<lat>[-+]?\d{1,3}(?:\.\d+)?),(?P<lon>[-+]?\d{1,3}(?:\.\d+)?)")
_GOOGLE_DATA = re.compile(r"!3d(?P<lat>[-+]?\d{1,3}(?:\.\d+)?)!4d(?P<lon>[-+]?\d{1,3}(?:\.\d+)?)")
_OSM_MAP = re.compile(r"map=\d{1,2}(?:\.\d+)?/(?P<lat>[-+]?\d{1,3}(?:\.\d+)?)/(?P<lon>[-+]?\d{1,3}(?:\.\d+)?)")
_WAZE_LL = re.compile(r"ll\.(?P<lat>[-+]?\d{1,3}(?:\.\d+)?),(?P<lon>[-+]?\d{1,3}(?:\.\d+)?)")
_MAP_HOSTS = ("google.", "goo.gl", "maps.app.goo.gl", "apple.com", "openstreetmap.org", "osm.org", "waze.com")


def parse_place(text: str | None) -> Place:
    """What ``text`` names: coordinates read locally, or a query for the geocoder."""
    cleaned = _clean(text or "")
    if not cleaned:
        raise PlaceInputError(PlaceInputError.EMPTY)
    if len(cleaned) > MAX_QUERY_CHARS and not _looks_like_link(cleaned):
        raise PlaceInputError(PlaceInputError.TOO_LONG)
    if not any(ch.isalnum() for ch in cleaned):
        raise PlaceInputError(PlaceInputError.NO_TEXT)

    if geo := _GEO_URI.match(cleaned):
        return _from_geo_uri(geo)
    if _looks_like_link(cleaned):
        return _from_link(cleaned)
    pair = _DECIMAL_PAIR.match(cleaned)
    # "12 34" could be a house number and a street number; demand a comma or a decimal point.
    if pair and (pair["sep"] in ",;" or "." in pair["lat"] + pair["lon"]):
        return Coordinates(_point(_float(pair["lat"]), _float(pair["lon"])), as_typed=cleaned)
    if dms := _DMS_PAIR.match(cleaned):
        point = _from_dms(dms)
        if point is not None:
            return Coordinates(point, as_typed=cleaned)
    return PlaceQuery(cleaned)


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    return " ".join(text.split())


def _looks_like_link(text: str) -> bool:
    lowered = text.lower()
    if " " in lowered:
        return False
    if lowered.startswith(("http://", "https://")):
        return True
    return any(lowered.startswith(host) or lowered.startswith("www." + host) for host in _MAP_HOSTS)


def _float(text: str) -> float:
    return float(text.replace("−", "-").replace(",", "."))


def _pair(lat: str, lon: str, label: str | None = None) -> Coordinates:
    """Coordinates from a link's or URI's two numbers, echoed as they were written there."""
    return Coordinates(_point(_float(lat), _float(lon)), label, as_typed=f"{lat.strip()}, {lon.strip()}")


def _point(lat: float, lon: float) -> GeoPoint:
    if not -90 <= lat <= 90:
        raise PlaceInputError(PlaceInputError.LATITUDE_RANGE)
    if not -180 <= lon <= 180:
        raise PlaceInputError(PlaceInputError.LONGITUDE_RANGE)
    return GeoPoint(lat, lon)


def _from_geo_uri(match: re.Match[str]) -> Place:
    """RFC 5870 ``geo:lat,lon[,alt][;u=..]``, and Android's ``geo:0,0?q=lat,lon(Label)``."""
    rest = match["rest"] or ""
    query = parse_qs(rest.partition("?")[2]).get("q", [""])[0]
    if (match["lat"], match["lon"]) == ("0", "0") and query:
        pair = _PAIR_IN_TEXT.match(query)
        if pair:
            label = query[pair.end() :].strip().strip("()") or None
            return _pair(pair["lat"], pair["lon"], label)
        return PlaceQuery(unquote_plus(query))
    return _pair(match["lat"], match["lon"])


def _from_link(text: str) -> Place:
    url = text if "://" in text else "https://" + text
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    query = {key.lower(): values[0] for key, values in parse_qs(parts.query).items() if values}
    whole = unquote_plus(url)

    if "waze.com" in host:
        for key in ("ll", "to"):
            if pair := (_PAIR_IN_TEXT.search(query.get(key, "")) or _WAZE_LL.search(query.get(key, ""))):
                return _pair(pair["lat"], pair["lon"])
        if query.get("q"):
            return PlaceQuery(query["q"][:MAX_QUERY_CHARS])
    elif "openstreetmap.org" in host or host.endswith("osm.org"):
        if "mlat" in query and "mlon" in query:
            return _pair(query["mlat"], query["mlon"])
        if osm := _OSM_MAP.search(parts.fragment or whole):
            return _pair(osm["lat"], osm["lon"])
        if query.get("query"):
            return PlaceQuery(query["query"][:MAX_QUERY_CHARS])
    elif "apple.com" in host:
        for key in ("ll", "coordinate", "daddr", "sll", "q"):
            if pair := _PAIR_IN_TEXT.fullmatch(query.get(key, "").strip()):
                label = query.get("q") if key != "q" else None
                return _pair(pair["lat"], pair["lon"], label)
        for key in ("address", "q", "daddr"):
            if query.get(key):
                return PlaceQuery(query[key][:MAX_QUERY_CHARS])
    elif "google." in host or host.endswith("goo.gl"):
        if data := _GOOGLE_DATA.search(whole):  # the place's own pin, more exact than the map centre
            return _pair(data["lat"], data["lon"])
        for key in ("q", "query", "ll", "destination", "daddr", "center"):
            if pair := _PAIR_IN_TEXT.fullmatch(query.get(key, "").strip()):
                return _pair(pair["lat"], pair["lon"])
        if at := _GOOGLE_AT.search(whole):
            return _pair(at["lat"], at["lon"])
        for key in ("q", "query", "destination", "daddr"):
            if query.get(key):
                return PlaceQuery(query[key][:MAX_QUERY_CHARS])
        if place := re.search(r"/maps/(?:place|search)/([^/@]+)", parts.path):
            return PlaceQuery(unquote_plus(place[1])[:MAX_QUERY_CHARS])
    raise PlaceInputError(PlaceInputError.LINK_WITHOUT_POINT)


def _from_dms(match: re.Match[str]) -> GeoPoint | None:
    first = _dms_value(match, "a")
    second = _dms_value(match, "b")
    if first is None or second is None:
        return None
    (value_a, hemi_a), (value_b, hemi_b) = first, second
    if hemi_a in "EW" and hemi_b in "NS" and hemi_a and hemi_b:
        (value_a, hemi_a), (value_b, hemi_b) = (value_b, hemi_b), (value_a, hemi_a)
    if (hemi_a and hemi_a not in "NS") or (hemi_b and hemi_b not in "EW"):
        return None
    if not (hemi_a or hemi_b) and not _has_degree_marks(match):
        return None
    return _point(value_a, value_b)


def _has_degree_marks(match: re.Match[str]) -> bool:
    return any(mark in match.group(0) for mark in "°º˚'′\"″")


def _dms_value(match: re.Match[str], prefix: str) -> tuple[float, str] | None:
    hemispheres = [h.upper() for h in (match[f"{prefix}h1"], match[f"{prefix}h2"]) if h]
    if len(hemispheres) > 1:
        return None
    degrees = _float(match[f"{prefix}deg"])
    minutes = _float(match[f"{prefix}min"]) if match[f"{prefix}min"] else 0.0
    seconds = _float(match[f"{prefix}sec"]) if match[f"{prefix}sec"] else 0.0
    if minutes >= 60 or seconds >= 60:
        return None
    value = degrees + minutes / 60 + seconds / 3600
    hemisphere = hemispheres[0] if hemispheres else ""
    if hemisphere in ("S", "W"):
        value = -value
    return value, hemisphere
