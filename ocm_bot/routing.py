"""Route lines from an OSRM-compatible router (``ROUTER_URL``), over httpx.

``GET {ROUTER_URL}/route/v1/driving/{lon},{lat};{lon},{lat}?overview=full&geometries=polyline6``
answers ``{"code": "Ok", "routes": [{"geometry": "<polyline6>", "distance": metres, ...}]}``
(the shape of ``../shared/osrm/route-driving-berlin-polyline6.json``). Errors::

    RoutingError
    ├── RouterDown       timeouts, connection errors, 5xx, answers we cannot read
    └── NoRoute          the router answered, but found no road between the points (OSRM's
                         NoRoute / NoSegment): the caller may fall back to a great-circle line

Example::

    router = Router("https://router.project-osrm.org", user_agent="ocm-bot/0.1 (+https://...)")
    line, metres = await router.route((52.5170, 13.3889), (52.3906, 13.0645))
"""

from __future__ import annotations

import asyncio
import math

import httpx
import polyline as polyline_codec

from ocm_bot.errors import OcmBotError
from ocm_bot.geometry import EARTH_RADIUS_KM

Point = tuple[float, float]

ROUTE_TIMEOUT_SECONDS = 3.0
"""The whole exchange with the router, at most: a driver whose router hangs gets the great circle after this."""


class RoutingError(OcmBotError):
    """Base class of what :class:`Router` raises."""


class RouterDown(RoutingError):
    """The router did not answer in time, failed, or answered something unreadable."""


class NoRoute(RoutingError):
    """The router found no road between the points."""


class Router:
    """An OSRM ``/route/v1/driving`` client. See the module docstring."""

    def __init__(
        self,
        base_url: str,
        *,
        user_agent: str,
        timeout: float = ROUTE_TIMEOUT_SECONDS,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._headers = {"User-Agent": user_agent}
        self._timeout = timeout
        self.requests = 0

    async def route(self, start: Point, end: Point) -> tuple[tuple[Point, ...], float]:
        """The driving line from ``start`` to ``end`` as (lat, lon) points, and its length in km."""
        where = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in (start, end))
        url = f"{self._base}/route/v1/driving/{where}"
        params = {"overview": "full", "geometries": "polyline6"}
        self.requests += 1
        try:
            async with asyncio.timeout(self._timeout):  # the whole answer, not each read of it
                response = await self._client.get(url, params=params, headers=self._headers, timeout=self._timeout)
        except (httpx.HTTPError, TimeoutError) as error:
            raise RouterDown(f"router unreachable: {type(error).__name__}") from error
        try:
            body = response.json()
        except ValueError as error:
            raise RouterDown(f"router answered {response.status_code} without JSON") from error
        code = body.get("code") if isinstance(body, dict) else None
        if code in ("NoRoute", "NoSegment"):
            raise NoRoute(str(code))
        if response.status_code != 200 or code != "Ok":
            raise RouterDown(f"router answered {response.status_code} {code!r}")
        try:
            best = body["routes"][0]
            line = tuple((float(lat), float(lon)) for lat, lon in polyline_codec.decode(best["geometry"], 6))
            length_km = float(best["distance"]) / 1000
        except (KeyError, IndexError, TypeError, ValueError) as error:
            raise RouterDown(f"unreadable route: {error!r}") from error
        if len(line) < 2:
            raise RouterDown("a route without a line")
        return line, length_km

    async def close(self) -> None:
        if self._own_client:
            await self._client.aclose()


def great_circle(start: Point, end: Point, *, step_km: float = 10.0) -> tuple[Point, ...]:
    """The great circle from ``start`` to ``end`` as points about ``step_km`` apart (the line without a router)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*start, *end))
    d = 2 * math.asin(
        math.sqrt(math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    )
    steps = max(1, math.ceil(d * EARTH_RADIUS_KM / step_km))
    if d == 0:
        return (start, end)
    points = []
    for k in range(steps + 1):
        f = k / steps
        a, b = math.sin((1 - f) * d) / math.sin(d), math.sin(f * d) / math.sin(d)
        x = a * math.cos(lat1) * math.cos(lon1) + b * math.cos(lat2) * math.cos(lon2)
        y = a * math.cos(lat1) * math.sin(lon1) + b * math.cos(lat2) * math.sin(lon2)
        z = a * math.sin(lat1) + b * math.sin(lat2)
        points.append((math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x))))
    return tuple(points)
