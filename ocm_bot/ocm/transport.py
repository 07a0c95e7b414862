"""HTTP to OCM: headers, timeouts, the retry policy and the per-minute request budget.

- the API key travels only in the ``X-API-Key`` header (never in a URL, a log line or a repr);
- a descriptive ``User-Agent`` (:func:`ocm_bot.ocm.identity.user_agent`) names the bot;
- only idempotent GETs are retried, with jittered exponential backoff honouring ``Retry-After``;
- over the per-minute budget a request waits a few seconds for a free slot, or raises
  :class:`OcmBudgetExhausted` without calling OCM.

Statuses and bodies become errors in :mod:`ocm_bot.ocm.errors`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from ocm_bot import metrics
from ocm_bot.ocm.errors import (
    OcmBadResponse,
    OcmBudgetExhausted,
    OcmTooManyRequests,
    OcmUnavailable,
    raise_for_response,
)
from ocm_bot.ocm.identity import user_agent

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openchargemap.io/v3"
USER_AGENT = user_agent()
CLIENT_NAME = "ocm-bot"


@dataclass(frozen=True, slots=True)
class OcmLimits:
    """Timeouts, caps and cache sizes. Tests shrink the delays; production keeps the defaults."""

    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    total_timeout: float = 25.0  # OCM has hung for 20 s and more on valid requests (ocm-system#260)
    # A POST (a check-in, a sign-in) has a driver watching "Sending…": give up within 10 s of the
    # tap. Safe for check-ins: one whose answer never came is looked for on OCM before it is posted
    # again (domain.outbox), so a slow OCM that stored it anyway does not get it twice.
    post_timeout: float = 7.0
    max_concurrency: int = 4
    requests_per_minute: int = 60
    max_results: int = 200  # per request; with requests_per_minute it bounds what one instance can pull
    default_results: int = 10
    max_radius_km: float = 100.0
    retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    # A longer wait (OCM's Retry-After, or for a slot of our own per-minute budget) is handed to
    # the caller at once: a driver is waiting, and a search gives up after 5 s (domain.search).
    max_retry_after: float = 3.0
    search_ttl: float = 600.0
    search_cache_size: int = 512
    charger_ttl: float = 600.0
    reference_max_age: timedelta = timedelta(days=1)
    reference_retry_interval: float = 3600.0  # between background refresh tries while OCM fails

    def __post_init__(self) -> None:
        for name in ("max_concurrency", "requests_per_minute", "max_results", "default_results"):
            if getattr(self, name) < 1:
                raise ValueError(f"OcmLimits.{name} must be at least 1")
        if self.retries < 0 or self.max_radius_km <= 0:
            raise ValueError("OcmLimits.retries must be >= 0 and max_radius_km > 0")


class OcmTransport:
    """Requests to one OCM server on an injected ``httpx.AsyncClient``, within ``limits``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        api_key: str | None,
        limits: OcmLimits,
        user_agent: str,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key or None
        self.limits = limits
        self._user_agent = user_agent
        self._clock = clock
        self._sleep = sleep
        self._timeout = httpx.Timeout(limits.read_timeout, connect=limits.connect_timeout)
        self._semaphore = asyncio.Semaphore(limits.max_concurrency)
        self._sent_at: deque[float] = deque()

    def __repr__(self) -> str:
        key = "'***'" if self.api_key else "None"
        return f"OcmTransport(base_url={self.base_url!r}, api_key={key})"

    def _headers(self, accept: str = "application/json") -> dict[str, str]:
        headers = {"User-Agent": self._user_agent, "Accept": accept}
        if self.api_key:
            headers["X-API-Key"] = self.api_key
        return headers

    async def get(self, path: str, params: Mapping[str, str]) -> httpx.Response:
        """An idempotent GET: retried on unavailability and 429, with jittered backoff.

        OCM's ``Retry-After`` is waited out only while all the waiting stays within
        ``limits.max_retry_after`` (a driver is waiting); past that the 429 goes to the caller.
        """
        attempt = 0
        waited = 0.0
        while True:
            try:
                return await self._send("GET", path, params=params)
            except (OcmUnavailable, OcmTooManyRequests) as exc:
                if attempt >= self.limits.retries:
                    raise
                retry_after = getattr(exc, "retry_after", None)
                if retry_after is not None and waited + retry_after > self.limits.max_retry_after:
                    raise
                delay = min(self.limits.backoff_max, self.limits.backoff_base * 2**attempt)
                delay = random.uniform(delay / 2, delay)
                if retry_after is not None:
                    delay = max(delay, retry_after)
                log.info("OCM %s %s failed (%s); retry %d in %.2fs", "GET", path, exc, attempt + 1, delay)
                await self._sleep(delay)
                waited += delay
                attempt += 1

    async def post(
        self,
        path: str,
        body: Mapping[str, Any],
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """A POST: never retried (OCM has no idempotency keys; a retry could post twice)."""
        return await self._send("POST", path, params=params, json_body=body, headers=headers)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        wait = self._take_budget()
        if wait > 0:
            await self._sleep(wait)
        request_headers = {**self._headers(), **(headers or {})}
        url = f"{self.base_url}{path}"
        timeout, total = self._timeout, self.limits.total_timeout
        if method == "POST":
            timeout = httpx.Timeout(self.limits.post_timeout, connect=self.limits.connect_timeout)
            total = min(total, self.limits.post_timeout)
        async with self._semaphore:
            started = self._clock()
            try:
                async with asyncio.timeout(total):
                    response = await self.http.request(
                        method, url, params=params, json=_encodable(json_body), headers=request_headers, timeout=timeout
                    )
            except (httpx.TimeoutException, TimeoutError) as exc:
                metrics.OCM_ERRORS.labels(kind="Timeout").inc()
                raise OcmUnavailable(f"OCM did not answer {method} {path} in time") from exc
            except httpx.TransportError as exc:
                metrics.OCM_ERRORS.labels(kind=type(exc).__name__).inc()
                raise OcmUnavailable(f"could not reach OCM for {method} {path}: {type(exc).__name__}") from exc
        log.debug(
            "OCM %s %s -> %d (%d bytes, %.0f ms)",
            method,
            path,
            response.status_code,
            len(response.content),
            (self._clock() - started) * 1000,
        )
        metrics.OCM_REQUESTS.labels(path=path, status=str(response.status_code)).inc()
        try:
            raise_for_response(response)
        except Exception as error:
            metrics.OCM_ERRORS.labels(kind=type(error).__name__).inc()
            raise
        metrics.ocm_succeeded()
        return response

    def _take_budget(self) -> float:
        """Reserve a request of the per-minute budget: how long to wait for it (0: now).

        A slot that frees within ``limits.max_retry_after`` is reserved and waited for; a longer
        wait raises :class:`OcmBudgetExhausted` without calling OCM.
        """
        now = self._clock()
        while self._sent_at and now - self._sent_at[0] >= 60.0:
            self._sent_at.popleft()
        limit = self.limits.requests_per_minute
        if len(self._sent_at) < limit:
            self._sent_at.append(now)
            return 0.0
        # Reservations already made are in the deque too (in the future), in order.
        at = self._sent_at[len(self._sent_at) - limit] + 60.0
        wait = at - now
        if wait > self.limits.max_retry_after:
            raise OcmBudgetExhausted(
                f"local budget of {limit} OCM requests per minute used up", retry_after=math.ceil(wait)
            )
        self._sent_at.append(at)
        return wait


def json_of(response: httpx.Response) -> Any:
    """``response``'s JSON, or :class:`OcmBadResponse`."""
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise OcmBadResponse(f"OCM sent unreadable JSON for {response.request.url.path}") from exc


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _encodable(body: Any) -> Any:
    """``body`` with every lone surrogate in its strings replaced by U+FFFD: Telegram may hand us text
    (a comment, a typed password) that UTF-8 cannot encode, and the request must still be sent."""
    if isinstance(body, str):
        return _LONE_SURROGATE.sub("\ufffd", body)
    if isinstance(body, Mapping):
        return {key: _encodable(value) for key, value in body.items()}
    if isinstance(body, list | tuple):
        return [_encodable(value) for value in body]
    return body
