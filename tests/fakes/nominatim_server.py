"""A fake Nominatim (``/search``, ``/reverse``, ``/lookup``) on loopback, over a small real gazetteer.

    server = FakeNominatimServer().start()
    httpx.get(f"{server.url}/search", params={"q": "Springfield", "format": "jsonv2"},
              headers={"User-Agent": "ocm-bot-tests/1.0 (ops@example.org)"})
    server.inject("429")                     # the OSMF Varnish "Too many requests" page
    server.min_interval("/search")           # smallest gap between two searches, in seconds

Answers use Nominatim's response shapes (see ../shared/nominatim/) and real coordinates. The
usage policy is enforced like nominatim.openstreetmap.org: no User-Agent, or a library's default one
(python-httpx/..., python-requests/..., geopy/...), gets the 403 "Access blocked" page.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from tests.fakes.ocm.loopback import COMMON_FAULTS, Fault, LoopbackServer, RecordedRequest, Response

LICENCE = "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright"
FORMATS = ("xml", "json", "jsonv2", "geojson", "geocodejson")
BLOCKED_AGENTS = (
    "python-httpx/", "python-requests/", "python-urllib/", "geopy/", "aiohttp/", "go-http-client/",
    "java/", "okhttp/", "wget/", "libwww-perl/",
)  # fmt: skip
ACCESS_BLOCKED = """<html><head><title>Access blocked</title></head><body>
<h1>Access blocked</h1>
<p>You have been blocked because you have violated the
<a href="https://operations.osmfoundation.org/policies/nominatim/">usage policy</a>
of OSM's Nominatim geocoding service. Please be aware that OSM's resources are
limited and shared between many users. The usage policy is there to ensure that
the service remains usable for everybody.</p>
<p>Please review the terms and make sure that your
software adheres to the terms. You should in particular verify that you have set a
custom HTTP referrer or HTTP user agent that identifies your application, and
that you are not overusing the service with massive bulk requests.</p>
</body></html>
"""
TOO_MANY_REQUESTS = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN"
 "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html>
  <head>
    <title>429 Too many requests</title>
  </head>
  <body>
    <h1>Error 429 Too many requests</h1>
    <p>Too many requests</p>
    <h3>Error 54113</h3>
    <p>Details: cache-fake-loopback 0 0</p>
    <hr>
    <p>Varnish cache server</p>
  </body>
</html>
"""


@dataclass
class Place:
    """One gazetteer entry; ``terms`` are extra words a query may use to find it."""

    place_id: int
    osm_type: str
    osm_id: int
    lat: float
    lon: float
    category: str
    type: str
    place_rank: int
    importance: float
    addresstype: str
    name: str
    address: dict[str, str]
    terms: str = ""  # context words a query may add (state codes, country, county)
    names: dict[str, str] = field(default_factory=dict)  # language -> name in that language
    extent_km: float = 1.0
    aliases: str = ""  # other names the place is searched by
    outline: tuple[tuple[float, float], ...] = ()  # (lat, lon) ring for polygon_geojson=1; else a box

    def geojson(self) -> dict[str, Any]:
        """The place's geometry as ``polygon_geojson=1`` gives it: a node is a Point; a way or relation
        its outline (``outline``, else its bounding box as a ring), in GeoJSON's [lon, lat] order."""
        if self.osm_type == "node" and not self.outline:
            return {"type": "Point", "coordinates": [self.lon, self.lat]}
        if self.outline:
            ring = [[lon, lat] for lat, lon in self.outline]
        else:
            south, north, west, east = (float(v) for v in self.boundingbox())
            ring = [[west, south], [east, south], [east, north], [west, north]]
        return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}

    @property
    def country_code(self) -> str:
        return self.address.get("country_code", "")

    def local_name(self, language: str | None) -> str:
        return self.names.get(language or "", self.name)

    def localised_address(self, language: str | None) -> dict[str, str]:
        if language != "en":
            return dict(self.address)
        return {k: ENGLISH.get(v, v) for k, v in self.address.items()}

    def display_name(self, language: str | None = None) -> str:
        parts = [self.local_name(language)] if self.name else []
        for key, value in self.localised_address(language).items():
            if key in ("country_code", self.category) or key.startswith("ISO3166"):
                continue  # the object's own entry is its name, already first
            if value not in parts:
                parts.append(value)
        return ", ".join(parts)

    def boundingbox(self) -> list[str]:
        dlat = self.extent_km / 111.195
        dlon = self.extent_km / (111.195 * max(0.01, math.cos(math.radians(self.lat))))
        return [f"{self.lat - dlat:.7f}", f"{self.lat + dlat:.7f}", f"{self.lon - dlon:.7f}", f"{self.lon + dlon:.7f}"]

    def searchable(self) -> set[str]:
        english = [ENGLISH.get(v, v) for v in self.address.values()]
        text = " ".join([self.name, *self.names.values(), *self.address.values(), *english, self.terms, self.aliases])
        return set(_tokens(text))

    def name_tokens(self) -> set[str]:
        return set(_tokens(" ".join([self.name, *self.names.values(), self.aliases])))


def _us(city: str, state: str, county: str, state_code: str, postcode: str | None = None) -> dict[str, str]:
    address = {"city": city, "county": county, "state": state, "ISO3166-2-lvl4": f"US-{state_code}"}
    if postcode:
        address["postcode"] = postcode
    address.update({"country": "United States", "country_code": "us"})
    return address


GAZETTEER: list[Place] = [
    Place(
        300001, "way", 15386580, 45.5189, -122.6793, "leisure", "park", 25, 0.41, "leisure",
        "Pioneer Courthouse Square",
        {"leisure": "Pioneer Courthouse Square", "road": "Southwest Yamhill Street", "suburb": "Downtown",
         **_us("Portland", "Oregon", "Multnomah County", "OR", "97204")},
        terms="downtown or usa us", aliases="pioneer square", extent_km=0.06,
    ),
    Place(
        300002, "relation", 186579, 45.5202471, -122.674194, "boundary", "administrative", 16, 0.74,
        "city", "Portland", _us("Portland", "Oregon", "Multnomah County", "OR"),
        terms="or usa us", aliases="pdx", extent_km=15,
    ),
    Place(
        300003, "relation", 132500, 43.6610277, -70.2548596, "boundary", "administrative", 16, 0.62,
        "city", "Portland", _us("Portland", "Maine", "Cumberland County", "ME"),
        terms="me usa us", extent_km=8,
    ),
    Place(
        300004, "relation", 198770, 40.7596198, -111.8867975, "boundary", "administrative", 16, 0.71,
        "city", "Salt Lake City", _us("Salt Lake City", "Utah", "Salt Lake County", "UT"),
        terms="ut usa us", aliases="slc", extent_km=12,
    ),
    Place(
        300005, "relation", 186610, 45.4206749, -122.6706498, "boundary", "administrative", 16, 0.5,
        "city", "Lake Oswego", _us("Lake Oswego", "Oregon", "Clackamas County", "OR"),
        terms="or usa us", extent_km=5,
    ),
    Place(
        300006, "relation", 122604, 39.7990175, -89.6439575, "boundary", "administrative", 16, 0.66,
        "city", "Springfield", _us("Springfield", "Illinois", "Sangamon County", "IL"),
        terms="il usa us", extent_km=10,
    ),
    Place(
        300007, "relation", 1839150, 42.1018764, -72.5886727, "boundary", "administrative", 16, 0.63,
        "city", "Springfield", _us("Springfield", "Massachusetts", "Hampden County", "MA"),
        terms="ma usa us", extent_km=8,
    ),
    Place(
        300008, "relation", 145167, 37.2081729, -93.2922715, "boundary", "administrative", 16, 0.61,
        "city", "Springfield", _us("Springfield", "Missouri", "Greene County", "MO"),
        terms="mo usa us", extent_km=12,
    ),
    Place(
        300009, "relation", 186665, 44.0462362, -123.0220289, "boundary", "administrative", 16, 0.55,
        "city", "Springfield", _us("Springfield", "Oregon", "Lane County", "OR"),
        terms="or usa us", extent_km=6,
    ),
    Place(
        300010, "relation", 87842, 53.7974185, -1.5437941, "boundary", "administrative", 12, 0.75,
        "city", "Leeds",
        {"city": "Leeds", "state_district": "West Yorkshire", "state": "England",
         "ISO3166-2-lvl4": "GB-ENG", "country": "United Kingdom", "country_code": "gb"},
        terms="uk gb england yorkshire", extent_km=15,
    ),
    Place(
        300011, "node", 27365440, 53.7919, -1.3886, "place", "town", 16, 0.45, "town", "Garforth",
        {"town": "Garforth", "city": "Leeds", "state_district": "West Yorkshire", "state": "England",
         "postcode": "LS25", "country": "United Kingdom", "country_code": "gb"},
        terms="uk gb england yorkshire", extent_km=2.5,
    ),
    Place(
        300012, "relation", 2804753, 42.5069391, 1.5212467, "boundary", "administrative", 16, 0.6,
        "city", "Andorra la Vella",
        {"city": "Andorra la Vella", "postcode": "AD500", "country": "Andorra", "country_code": "ad"},
        terms="ad andorra", extent_km=3,
    ),
    Place(
        300013, "relation", 62428, 48.1371079, 11.5753822, "boundary", "administrative", 12, 0.8,
        "city", "München",
        {"city": "München", "state": "Bayern", "ISO3166-2-lvl4": "DE-BY", "country": "Deutschland",
         "country_code": "de"},
        terms="bavaria germany de", aliases="muenchen munchen", names={"en": "Munich"}, extent_km=14,
    ),
    Place(
        300014, "relation", 2145268, 48.9467562, 11.4038717, "boundary", "administrative", 8, 0.78,
        "state", "Bayern",
        {"state": "Bayern", "ISO3166-2-lvl4": "DE-BY", "country": "Deutschland", "country_code": "de"},
        terms="germany de", names={"en": "Bavaria"}, extent_km=170,
    ),
    Place(
        300015, "relation", 172546, 47.6739, 12.0133, "boundary", "administrative", 16, 0.4,
        "village", "Bayrischzell",
        {"village": "Bayrischzell", "county": "Landkreis Miesbach", "state": "Bayern",
         "ISO3166-2-lvl4": "DE-BY", "postcode": "83735", "country": "Deutschland", "country_code": "de"},
        terms="bavaria germany de", extent_km=4,
    ),
    Place(
        300016, "relation", 118167, 52.2823, -1.5849, "boundary", "administrative", 16, 0.52,
        "town", "Warwick",
        {"town": "Warwick", "county": "Warwickshire", "state": "England", "ISO3166-2-lvl4": "GB-ENG",
         "country": "United Kingdom", "country_code": "gb"},
        terms="uk gb england warwickshire", extent_km=3,
    ),
    Place(
        300017, "node", 20829941, 51.5249, -0.0332, "place", "suburb", 19, 0.42, "suburb", "Mile End",
        {"suburb": "Mile End", "city_district": "London Borough of Tower Hamlets", "city": "London",
         "state": "England", "postcode": "E1 4NS", "country": "United Kingdom", "country_code": "gb"},
        terms="london uk gb england e3 tower hamlets", extent_km=1.2,
    ),
    Place(
        300018, "node", 26559591, 51.5282, -0.0217, "place", "suburb", 19, 0.41, "suburb", "Bow",
        {"suburb": "Bow", "city_district": "London Borough of Tower Hamlets", "city": "London",
         "state": "England", "postcode": "E3 2AA", "country": "United Kingdom", "country_code": "gb"},
        terms="london uk gb england e3 tower hamlets", extent_km=1.2,
    ),
    Place(  # the borough; its outline here is a simplified L shape over the Bow / Mile End POIs, for tests
        300023, "relation", 1000023, 51.5203, -0.0293, "boundary", "administrative", 10, 0.5,
        "city_district", "Tower Hamlets",
        {"city_district": "London Borough of Tower Hamlets", "city": "London", "state": "England",
         "ISO3166-2-lvl4": "GB-ENG", "country": "United Kingdom", "country_code": "gb"},
        terms="london uk gb england borough", extent_km=1.5,
        outline=((51.5100, -0.0470), (51.5320, -0.0470), (51.5320, -0.0330), (51.5210, -0.0330),
                 (51.5210, -0.0120), (51.5100, -0.0120)),
    ),
    Place(
        300019, "relation", 65606, 51.5074456, -0.1277653, "boundary", "administrative", 8, 0.92,
        "city", "London",
        {"city": "London", "state": "England", "ISO3166-2-lvl4": "GB-ENG", "country": "United Kingdom",
         "country_code": "gb"},
        terms="uk gb england greater", extent_km=25,
    ),
    Place(
        300020, "relation", 1597935, 54.3482907, 18.6540233, "boundary", "administrative", 16, 0.7,
        "city", "Gdańsk",
        {"city": "Gdańsk", "state": "województwo pomorskie", "ISO3166-2-lvl4": "PL-22",
         "country": "Polska", "country_code": "pl"},
        terms="poland pl pomorskie", aliases="gdansk danzig", extent_km=12,
    ),
    Place(
        300021, "relation", 62422, 52.5170365, 13.3888599, "boundary", "administrative", 8, 0.85,
        "city", "Berlin",
        {"city": "Berlin", "ISO3166-2-lvl4": "DE-BE", "country": "Deutschland", "country_code": "de"},
        terms="germany de", extent_km=20,
    ),
    Place(
        300022, "way", 518071791, 52.5162746, 13.3777041, "tourism", "attraction", 30, 0.66,
        "tourism", "Brandenburger Tor",
        {"tourism": "Brandenburger Tor", "road": "Pariser Platz", "quarter": "Dorotheenstadt",
         "suburb": "Mitte", "borough": "Mitte", "city": "Berlin", "ISO3166-2-lvl4": "DE-BE",
         "postcode": "10117", "country": "Deutschland", "country_code": "de"},
        terms="germany de", aliases="brandenburg gate", names={"en": "Brandenburg Gate"}, extent_km=0.05,
    ),
]  # fmt: skip

STRUCTURED_WITH_Q = (
    "Structured query parameters (amenity, street, city, county, state, postalcode, country) "
    "cannot be used together with 'q' parameter."
)
# What accept-language=en turns local names into (Nominatim answers in local names by default).
ENGLISH = {
    "München": "Munich",
    "Bayern": "Bavaria",
    "Deutschland": "Germany",
    "Polska": "Poland",
    "województwo pomorskie": "Pomeranian Voivodeship",
    "Landkreis Miesbach": "Miesbach",
}
_STOPWORDS = {"the", "of", "in", "near", "city", "de"}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss").replace("ł", "l").replace("Ł", "L"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", _fold(text))


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


class FakeNominatimServer(LoopbackServer):
    """Nominatim's ``/search``, ``/reverse`` and ``/lookup`` over ``GAZETTEER`` (+ ``add_place``)."""

    fault_kinds = COMMON_FAULTS | {"no-result"}
    default_fault_prefix = "/"

    def __init__(self) -> None:
        super().__init__()
        self.places: list[Place] = list(GAZETTEER)
        self.enforce_user_agent = True

    @property
    def url(self) -> str:
        return self.root_url

    def reset(self) -> None:
        super().reset()
        self.places = list(GAZETTEER)
        self.enforce_user_agent = True

    def add_place(self, place: Place) -> None:
        self.places.append(place)

    def min_interval(self, path_prefix: str = "/") -> float | None:
        """The smallest gap (s) between consecutive recorded requests under ``path_prefix``."""
        stamps = [r.monotonic for r in self.requests_to(path_prefix)]
        return min((b - a for a, b in itertools.pairwise(stamps)), default=None)

    # ------------------------------------------------------------------ faults
    def fault_response(self, fault: Fault, request: RecordedRequest) -> Response | None:
        if fault.kind == "429":
            page = Response.text(TOO_MANY_REQUESTS, 429, "text/html; charset=utf-8")
            return page.with_headers({"Retry-After": str(fault.options.get("retry_after", 60))})
        if fault.kind == "no-result":
            return Response.json({"error": "Unable to geocode"} if request.path.startswith("/reverse") else [])
        if fault.kind == "status503":
            return Response.text("<html><body><h1>503 Service Unavailable</h1></body></html>", 503, "text/html")
        return super().fault_response(fault, request)

    # ------------------------------------------------------------------ dispatch
    def dispatch(self, request: RecordedRequest) -> Response:
        if self.enforce_user_agent and _blocked(request.headers.get("User-Agent")):
            return Response.text(ACCESS_BLOCKED, 403, "text/html; charset=utf-8")
        path = request.path.rstrip("/").removesuffix(".php") or "/"
        params = request.params
        endpoint = path.lstrip("/")
        if endpoint not in ("search", "reverse", "lookup", "status"):
            return Response.text("Not Found", 404, "text/plain")
        if endpoint == "status":
            return Response.text("OK", 200, "text/plain; charset=utf-8")
        # /search defaults to jsonv2 since Nominatim 4; /reverse and /lookup still default to xml.
        fmt = params.get("format", "jsonv2" if endpoint == "search" else "xml")
        if fmt not in FORMATS:
            return _error(400, f"Parameter 'format': must be one of: {', '.join(FORMATS)}")
        wanted_languages = params.get("accept-language") or request.headers.get("Accept-Language") or ""
        language = wanted_languages.split(",")[0].split(";")[0].split("-")[0].strip().lower() or None
        if endpoint == "search":
            return self._search(params, fmt, language)
        if endpoint == "reverse":
            return self._reverse(params, fmt, language)
        return self._lookup(params, fmt, language)

    def _search(self, params: dict[str, str], fmt: str, language: str | None) -> Response:
        query = params.get("q")
        structured = [params.get(k) for k in ("amenity", "street", "city", "county", "state", "country", "postalcode")]
        if query is None and not any(structured):
            return _error(400, "Nominatim needs either a free-form query (q=) or a structured query.")
        if query is not None and any(structured):
            return _error(400, STRUCTURED_WITH_Q)
        text = query if query is not None else " ".join(s for s in structured if s)
        wanted = [t for t in _tokens(text) if t not in _STOPWORDS]
        limit = _int(params.get("limit"), 10, 1, 40)
        codes = {c.strip().lower() for c in (params.get("countrycodes") or "").split(",") if c.strip()}
        hits = []
        if wanted:
            for place in self.places:
                if codes and place.country_code not in codes:
                    continue
                if all(token in place.searchable() for token in wanted) and place.name_tokens() & set(wanted):
                    hits.append(place)
        hits.sort(key=lambda p: -p.importance)
        details = params.get("addressdetails") == "1"
        polygon = params.get("polygon_geojson") == "1"
        return _render(hits[:limit], fmt, language, details, text, single=False, polygon=polygon)

    def _reverse(self, params: dict[str, str], fmt: str, language: str | None) -> Response:
        lat, lon = _float(params.get("lat")), _float(params.get("lon"))
        if lat is None or lon is None:
            return _error(400, "Need coordinates or OSM object to lookup.")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return _error(400, "Invalid coordinates.")
        zoom = _int(params.get("zoom"), 18, 0, 18)
        reach_km = 2.0 if zoom >= 16 else 25.0 if zoom >= 10 else 250.0
        best = None
        for place in self.places:
            d = _haversine_km(lat, lon, place.lat, place.lon)
            if d <= max(reach_km, place.extent_km) and (best is None or d < best[0]):
                best = (d, place)
        if best is None:
            return Response.json({"error": "Unable to geocode"})
        details = params.get("addressdetails", "1") != "0"
        return _render([best[1]], fmt, language, details, f"{lat},{lon}", single=True)

    def _lookup(self, params: dict[str, str], fmt: str, language: str | None) -> Response:
        wanted = [w.strip().upper() for w in (params.get("osm_ids") or "").split(",") if w.strip()]
        found = []
        for ident in wanted[:50]:
            for place in self.places:
                if ident == f"{place.osm_type[0].upper()}{place.osm_id}":
                    found.append(place)
        details = params.get("addressdetails", "1") != "0"
        return _render(found, fmt, language, details, ",".join(wanted), single=False)


def _blocked(user_agent: str | None) -> bool:
    if not user_agent or not user_agent.strip():
        return True
    return user_agent.strip().lower().startswith(BLOCKED_AGENTS)


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(value))) if value is not None else default
    except ValueError:
        return default


def _float(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _error(status: int, message: str) -> Response:
    return Response.json({"error": {"code": status, "message": message}}, status=status)


def _entry(place: Place, fmt: str, language: str | None, details: bool, polygon: bool = False) -> dict[str, Any]:
    """One result in Nominatim's key order: jsonv2 as the live service, json as its documented example."""
    name = place.local_name(language)
    base = {"place_id": place.place_id, "licence": LICENCE, "osm_type": place.osm_type, "osm_id": place.osm_id}
    if fmt == "json":
        out: dict[str, Any] = {
            **base,
            "boundingbox": place.boundingbox(),
            "lat": f"{place.lat}",
            "lon": f"{place.lon}",
            "display_name": place.display_name(language),
            "class": place.category,
            "type": place.type,
            "importance": place.importance,
        }
        if details:
            out["address"] = place.localised_address(language)
        if polygon:
            out["geojson"] = place.geojson()
        return out
    out = {
        **base,
        "lat": f"{place.lat}",
        "lon": f"{place.lon}",
        "category": place.category,
        "type": place.type,
        "place_rank": place.place_rank,
        "importance": place.importance,
        "addresstype": place.addresstype,
        "name": name,
        "display_name": place.display_name(language),
    }
    if details:
        out["address"] = place.localised_address(language)
    out["boundingbox"] = place.boundingbox()
    if polygon:
        out["geojson"] = place.geojson()
    return out


def _render(
    places: list[Place], fmt: str, language: str | None, details: bool, query: str, single: bool, polygon: bool = False
) -> Response:
    if fmt in ("json", "jsonv2"):
        entries = [_entry(p, fmt, language, details, polygon) for p in places]
        return Response.json(entries[0] if single else entries)
    if fmt == "geojson":
        features = []
        for p in places:
            props = _entry(p, "jsonv2", language, details)
            bbox = props.pop("boundingbox")
            for key in ("licence", "lat", "lon"):
                props.pop(key)
            features.append(
                {
                    "type": "Feature",
                    "properties": props,
                    "bbox": [float(bbox[2]), float(bbox[0]), float(bbox[3]), float(bbox[1])],
                    "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                }
            )
        return Response.json({"type": "FeatureCollection", "licence": LICENCE, "features": features})
    if fmt == "geocodejson":
        features = []
        for p in places:
            geocoding: dict[str, Any] = {
                "place_id": p.place_id,
                "osm_type": p.osm_type,
                "osm_id": p.osm_id,
                "type": p.type,
                "label": p.display_name(language),
                "name": p.local_name(language),
            }
            address = p.localised_address(language)
            for key in ("postcode", "city", "county", "state", "country"):
                if key in address:
                    geocoding[key] = address[key]
            features.append(
                {
                    "type": "Feature",
                    "properties": {"geocoding": geocoding},
                    "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                }
            )
        document = {
            "type": "FeatureCollection",
            "geocoding": {"version": "0.1.0", "attribution": LICENCE, "licence": "ODbL", "query": query},
            "features": features,
        }
        return Response.json(document)
    if single:
        [p] = places
        parts = "".join(f"<{key}>{escape(value)}</{key}>" for key, value in p.localised_address(language).items())
        body = (
            f'<?xml version="1.0" encoding="UTF-8" ?><reversegeocode attribution={quoteattr(LICENCE)} '
            f"querystring={quoteattr(query)}><result place_id={quoteattr(str(p.place_id))} "
            f"osm_type={quoteattr(p.osm_type)} osm_id={quoteattr(str(p.osm_id))} lat={quoteattr(str(p.lat))} "
            f"lon={quoteattr(str(p.lon))}>{escape(p.display_name(language))}</result>"
            f"<addressparts>{parts}</addressparts></reversegeocode>"
        )
        return Response(200, body.encode(), "text/xml; charset=utf-8")
    rows = "".join(
        f"<place place_id={quoteattr(str(p.place_id))} osm_type={quoteattr(p.osm_type)} "
        f"osm_id={quoteattr(str(p.osm_id))} lat={quoteattr(str(p.lat))} lon={quoteattr(str(p.lon))} "
        f"display_name={quoteattr(p.display_name(language))} class={quoteattr(p.category)} "
        f"type={quoteattr(p.type)} importance={quoteattr(str(p.importance))}/>"
        for p in places
    )
    head = f'<?xml version="1.0" encoding="UTF-8" ?><searchresults querystring={quoteattr(query)}>'
    body = f"{head}{rows}</searchresults>"
    return Response(200, body.encode(), "text/xml; charset=utf-8")
