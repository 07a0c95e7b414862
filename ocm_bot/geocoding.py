"""Addresses and place names to points, with geopy's Nominatim geocoder over httpx.

Nominatim's usage policy (https://operations.osmfoundation.org/policies/nominatim/) asks for a
custom User-Agent, at most one request per second, and caching; :class:`Geocoder` does all three:
one throttle shared by every user, answers cached for a day, the driver's language sent as
``accept-language``. geopy's own async adapter needs aiohttp; :class:`HttpxAdapter` lets geopy
run on the bot's httpx instead.

Errors (the view picks the words)::

    GeocodingError
    ├── GeocoderDown          timeouts, connection errors, 5xx, answers we cannot read
    ├── GeocoderBusy          Nominatim said 429, or our own one-per-second queue is too long;
    │                         ``retry_after`` seconds
    └── GeocoderRefused       401/403: Nominatim refuses this bot (User-Agent, blocked)

An unknown place is not an error: :meth:`Geocoder.search` returns an empty list.

Example::

    geocoder = Geocoder("https://nominatim.openstreetmap.org", user_agent="ocm-bot/0.1 (+https://...)")
    places = await geocoder.search("Pioneer Courthouse Square", language="en")
    places[0].point, places[0].short_label
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from cachetools import TTLCache
from geopy import exc as geopy_errors
from geopy.adapters import AdapterHTTPError, BaseAsyncAdapter
from geopy.geocoders import Nominatim

from ocm_bot import metrics
from ocm_bot.domain.geo import GeoPoint
from ocm_bot.errors import OcmBotError
from ocm_bot.ocm.single_flight import SingleFlight

log = logging.getLogger(__name__)

MAX_MATCHES = 5


class GeocodingError(OcmBotError):
    """Base class of what :class:`Geocoder` raises."""


class GeocoderDown(GeocodingError):
    """Nominatim did not answer in time, failed, or answered something unreadable."""


class GeocoderBusy(GeocodingError):
    """Too many lookups right now; try again after ``retry_after`` seconds."""

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message or "geocoder busy")
        self.retry_after = retry_after


class GeocoderRefused(GeocodingError):
    """Nominatim refused this bot's requests (401/403)."""


@dataclass(frozen=True, slots=True)
class GeocodedPlace:
    label: str
    point: GeoPoint
    country_code: str | None = None
    bounds: tuple[float, float, float, float] | None = None
    """Nominatim's bounding box: south, north, west, east (degrees)."""
    outline: tuple[tuple[tuple[float, float], ...], ...] = ()
    """The place's outer rings as (lat, lon), when asked for (``outline=True``) and it has an area."""

    @property
    def short_label(self) -> str:
        """The first two parts of Nominatim's display name ("Pioneer Courthouse Square, Portland")."""
        parts = [part.strip() for part in self.label.split(",") if part.strip()]
        return ", ".join(parts[:2]) if parts else self.label


class HttpxAdapter(BaseAsyncAdapter):
    """A geopy adapter on an ``httpx.AsyncClient`` (geopy's own async adapter needs aiohttp)."""

    def __init__(self, *, proxies: Any, ssl_context: Any, client: httpx.AsyncClient) -> None:
        super().__init__(proxies=proxies, ssl_context=ssl_context)
        self._client = client

    async def get_text(self, url: str, *, timeout: float, headers: dict[str, str]) -> str:  # noqa: ASYNC109 (geopy API)
        return (await self._get(url, timeout=timeout, headers=headers)).text

    async def get_json(self, url: str, *, timeout: float, headers: dict[str, str]) -> Any:  # noqa: ASYNC109 (geopy API)
        response = await self._get(url, timeout=timeout, headers=headers)
        try:
            return response.json()
        except ValueError as error:
            raise geopy_errors.GeocoderParseError(f"not JSON: {response.text[:200]!r}") from error

    async def _get(self, url: str, *, timeout: float, headers: dict[str, str]) -> httpx.Response:  # noqa: ASYNC109
        try:
            response = await self._client.get(url, timeout=timeout, headers=headers)
        except httpx.TimeoutException as error:
            raise geopy_errors.GeocoderTimedOut("Service timed out") from error
        except httpx.TransportError as error:
            raise geopy_errors.GeocoderUnavailable(str(error) or type(error).__name__) from error
        except httpx.HTTPError as error:
            raise geopy_errors.GeocoderServiceError(str(error)) from error
        if response.status_code >= 400:
            raise AdapterHTTPError(
                f"Non-successful status code {response.status_code}",
                status_code=response.status_code,
                headers=response.headers,
                text=response.text,
            )
        return response


class _Throttle:
    """One request per ``interval`` seconds for the whole bot; refuses to queue longer than ``max_wait``."""

    def __init__(self, interval: float, max_wait: float, clock: Callable[[], float]) -> None:
        self._interval = interval
        self._max_wait = max_wait
        self._clock = clock
        self._next = 0.0

    def reserve(self) -> float:
        """Seconds to wait before our turn (no await between the check and the booking)."""
        now = self._clock()
        slot = max(now, self._next)
        if slot - now > self._max_wait:
            raise GeocoderBusy("local queue too long", retry_after=slot - now)
        self._next = slot + self._interval
        return slot - now

    def back_off(self, seconds: float) -> None:
        self._next = max(self._next, self._clock() + seconds)


_ERRORS: tuple[tuple[type[Exception], type[GeocodingError]], ...] = (
    (geopy_errors.GeocoderRateLimited, GeocoderBusy),
    (geopy_errors.GeocoderQuotaExceeded, GeocoderBusy),
    (geopy_errors.GeocoderInsufficientPrivileges, GeocoderRefused),
    (geopy_errors.GeocoderAuthenticationFailure, GeocoderRefused),
    (geopy_errors.GeopyError, GeocoderDown),
)


class Geocoder:
    """Nominatim search, throttled and cached. See the module docstring."""

    def __init__(
        self,
        base_url: str,
        *,
        user_agent: str,
        timeout: float = 3.0,
        min_interval: float = 1.0,
        max_wait: float = 1.5,  # with the 3 s timeout and the 5 s OCM deadline: an answer within 10 s
        cache_size: int = 4096,
        cache_ttl: float = 24 * 3600.0,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._nominatim = Nominatim(
            domain=parts.netloc + parts.path,
            scheme=parts.scheme or "https",
            user_agent=user_agent,
            timeout=timeout,
            adapter_factory=functools.partial(HttpxAdapter, client=self._client),
        )
        self._throttle = _Throttle(min_interval, max_wait, clock)
        self._cache: TTLCache[tuple[str, str, int, bool], list[GeocodedPlace]] = TTLCache(
            cache_size, cache_ttl, timer=clock
        )
        self._sleep = sleep
        self._flights = SingleFlight()  # the same text from several drivers at once: one request
        self.requests = 0

    async def search(
        self, query: str, *, language: str | None = None, limit: int = MAX_MATCHES, outline: bool = False
    ) -> list[GeocodedPlace]:
        """Up to ``limit`` places matching ``query``, best first; [] when Nominatim knows none.

        ``outline``: ask for each place's polygon too (``polygon_geojson=1``), for area searches."""
        key = (" ".join(query.casefold().split()), (language or "").lower(), limit, outline)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        return await self._flights.run(key, lambda: self._lookup(key, query, language, limit))

    async def _lookup(
        self, key: tuple[str, str, int, bool], query: str, language: str | None, limit: int
    ) -> list[GeocodedPlace]:
        await self._sleep(self._throttle.reserve())
        self.requests += 1
        try:
            found = await self._nominatim.geocode(
                query,
                exactly_one=False,
                limit=limit,
                language=(language or "").replace("_", "-") or False,  # Accept-Language spells pt-BR
                addressdetails=True,
                geometry="geojson" if key[3] else None,
            )
        except geopy_errors.GeocoderQueryError:
            found = None  # Nominatim could not make sense of the text: no place by that name
        except geopy_errors.GeopyError as error:
            translated = self._translate(error)
            metrics.GEOCODER_CALLS.labels(outcome=type(translated).__name__).inc()
            raise translated from error
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            metrics.GEOCODER_CALLS.labels(outcome="GeocoderDown").inc()
            raise GeocoderDown(f"unreadable Nominatim answer: {error!r}") from error
        metrics.GEOCODER_CALLS.labels(outcome="ok").inc()
        read = (_place(location) for location in found or ())
        places = [place for place in read if place is not None][:limit]
        self._cache[key] = places
        return places

    def _translate(self, error: Exception) -> GeocodingError:
        for source, target in _ERRORS:
            if isinstance(error, source):
                if target is GeocoderBusy:
                    retry_after = getattr(error, "retry_after", None) or 5.0
                    self._throttle.back_off(retry_after)
                    return GeocoderBusy(str(error), retry_after=retry_after)
                return target(str(error))
        return GeocoderDown(str(error))

    async def close(self) -> None:
        if self._own_client:
            await self._client.aclose()


def _place(location: Any) -> GeocodedPlace | None:
    try:
        point = GeoPoint(float(location.latitude), float(location.longitude))
    except (TypeError, ValueError):
        return None
    raw: dict[str, Any] = location.raw if isinstance(location.raw, dict) else {}
    address: dict[str, Any] = raw["address"] if isinstance(raw.get("address"), dict) else {}
    country = address.get("country_code")
    return GeocodedPlace(
        label=str(location.address or raw.get("display_name") or f"{point.latitude:.5f}, {point.longitude:.5f}"),
        point=point,
        country_code=country.upper() if isinstance(country, str) and country else None,
        bounds=_bounds(raw.get("boundingbox")),
        outline=_outline(raw.get("geojson")),
    )


def _bounds(box: Any) -> tuple[float, float, float, float] | None:
    """Nominatim's ``boundingbox`` (strings: south, north, west, east), or None when unreadable."""
    try:
        south, north, west, east = (float(v) for v in box)
    except (TypeError, ValueError):
        return None
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        return None
    return south, north, west, east


def _outline(geometry: Any) -> tuple[tuple[tuple[float, float], ...], ...]:
    """The outer rings of a GeoJSON Polygon or MultiPolygon as (lat, lon); () for anything else."""
    if not isinstance(geometry, dict):
        return ()
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    polygons: Any = [coordinates] if kind == "Polygon" else coordinates if kind == "MultiPolygon" else []
    rings = []
    try:
        for polygon in polygons or []:
            ring = tuple((float(lat), float(lon)) for lon, lat, *_ in polygon[0])
            if len(ring) >= 4:
                rings.append(ring)
    except (TypeError, ValueError, IndexError):
        return ()
    return tuple(rings)
