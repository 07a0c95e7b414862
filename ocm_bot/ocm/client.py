"""The Open Charge Map API v3 client: the only place that speaks HTTP to OCM.

Fair use (https://openchargemap.org/site/develop/api, ``DEVELOPERS.md``) is built in:

- the API key travels only in the ``X-API-Key`` header (never in a URL, a log line or a repr);
  a write key (the user the bot posts as) goes as OCM's ``apikey`` parameter, the only place OCM
  looks it up; httpx's request log is off (``logging_setup``) and the key is masked in logs;
- a descriptive ``User-Agent`` and ``client=`` name the bot, so OCM never takes it for a robot;
- searches ask for ``compact=true&verbose=false`` and reference IDs are resolved locally;
- answers are cached; a search inside a cached wider one is answered locally
  (:mod:`ocm_bot.ocm.cache`); identical concurrent requests share one HTTP request;
- only idempotent GETs are retried, with jittered exponential backoff honouring ``Retry-After``;
- hard caps (results per request, radius, requests per minute) make crawling impossible:
  over the per-minute budget the client waits a few seconds for a free slot, or raises
  :class:`OcmBudgetExhausted` without calling OCM.

Example::

    async with httpx.AsyncClient() as http:
        ocm = OcmClient(http, base_url="https://api.openchargemap.io/v3", api_key=key,
                        reference_cache_path=Path("var/ocm-reference.json"))
        await ocm.start()
        chargers = await ocm.search(PoiQuery(latitude=51.52, longitude=-0.03, distance=2,
                                             maxresults=10, minpowerkw=50))
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import math
import os
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from cachetools import TTLCache

from ocm_bot import __version__
from ocm_bot.ocm.cache import CachedSearch, SearchCache, is_area_search, is_truncated, may_contain
from ocm_bot.ocm.errors import (
    OcmAuthError,
    OcmBadResponse,
    OcmBlockedAsRobot,
    OcmBudgetExhausted,
    OcmError,
    OcmPasswordlessAccount,
    OcmRejected,
    OcmTooManyRequests,
    OcmUnavailable,
)
from ocm_bot.ocm.models import Charger
from ocm_bot.ocm.parse import parse_pois
from ocm_bot.ocm.query import KM_PER_MILE, OutputFormat, PoiQuery, SortBy
from ocm_bot.ocm.reference import ReferenceData
from ocm_bot.ocm.source import SearchAnswer
from ocm_bot.ocm.wire import comment_body

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.openchargemap.io/v3"
USER_AGENT = f"ocm-bot/{__version__} (+https://github.com/ocm-bot; Telegram bot for EV drivers)"
CLIENT_NAME = "ocm-bot"

# One table from HTTP status to error (geopy's ERROR_CODE_MAP); special bodies are read first
# in _error_for: 503 robots JSON, 200 "Error: Validation Failed", unreadable 200 bodies.
ERROR_CODE_MAP: dict[int, type[OcmError]] = {
    400: OcmRejected,
    401: OcmAuthError,
    403: OcmAuthError,
    404: OcmRejected,
    408: OcmUnavailable,
    409: OcmRejected,
    413: OcmRejected,
    422: OcmRejected,
    429: OcmTooManyRequests,
    500: OcmUnavailable,
    502: OcmUnavailable,
    503: OcmUnavailable,
    504: OcmUnavailable,
}
_ROBOTS_MESSAGE = "requests by robots"
_VALIDATION_FAILED = "Error: Validation Failed"


@dataclass(frozen=True, slots=True)
class OcmLimits:
    """Timeouts, caps and cache sizes. Tests shrink the delays; production keeps the defaults."""

    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    total_timeout: float = 25.0  # OCM has hung for 20 s and more on valid requests (ocm-system#260)
    max_concurrency: int = 4
    requests_per_minute: int = 60
    max_results: int = 200  # per request; with requests_per_minute it bounds what one instance can pull
    default_results: int = 10
    # An area search asks OCM for this many, to answer the next ones locally; in the bench 40 cuts
    # requests to a quarter without downloading more than one request per action would.
    prefetch_results: int = 40
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


@dataclass(frozen=True, slots=True)
class OcmSession:
    """A signed-in OCM user; ``token`` is the JWT for ``Authorization: Bearer``."""

    token: str = field(repr=False)
    user_id: int | None
    username: str | None


@dataclass(frozen=True, slots=True)
class CommentSubmission:
    """A check-in or comment for ``POST /comment`` (OCM's rules checked before sending).

    Example::

        CommentSubmission(charger_id=100627, checkin_status_type_id=10, rating=5, comment="Quick")
    """

    charger_id: int
    comment_type_id: int | None = None  # OCM uses 10 "General Comment" when absent
    checkin_status_type_id: int | None = None
    rating: int | None = None
    comment: str | None = None
    user_name: str | None = None
    related_url: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.charger_id, bool) or not isinstance(self.charger_id, int) or self.charger_id < 1:
            raise ValueError(f"charger_id must be a positive OCM ID, got {self.charger_id!r}")
        if self.rating is not None and (
            isinstance(self.rating, bool) or not isinstance(self.rating, int) or not 1 <= self.rating <= 5
        ):
            raise ValueError(f"rating must be 1 to 5, got {self.rating!r}")
        for name, longest in (("comment", 4000), ("user_name", 100), ("related_url", 500)):
            value = getattr(self, name)
            if value is not None and len(value) > longest:
                raise ValueError(f"{name} is longer than OCM's {longest} characters")

    def to_json(self) -> dict[str, Any]:
        return comment_body(self)


class OcmClient:
    """Open Charge Map API v3 on an injected ``httpx.AsyncClient`` (a :class:`ChargerSource`).

    Example::

        ocm = OcmClient(http, base_url=settings.ocm_api_url, api_key=settings.ocm_api_key,
                        reference_cache_path=Path("var/ocm-reference.json"))
        await ocm.start()
        near = await ocm.search(PoiQuery(latitude=53.8, longitude=-1.5, distance=5))
        [detail] = await ocm.get_chargers([near[0].id], include_comments=True)
        await ocm.aclose()
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        reference_cache_path: Path | None = None,
        limits: OcmLimits | None = None,
        user_agent: str = USER_AGENT,
        client_name: str = CLIENT_NAME,
        reference_country_ids: Iterable[int] = (),
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        owns_http: bool = False,
    ) -> None:
        self._http = http
        self._owns_http = owns_http
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key or None
        self._reference_path = reference_cache_path
        self.limits = limits or OcmLimits()
        self._user_agent = user_agent
        self._client_name = client_name
        self._reference_country_ids = tuple(sorted(set(reference_country_ids)))
        self._clock = clock
        self._now = now
        self._sleep = sleep
        self._timeout = httpx.Timeout(self.limits.read_timeout, connect=self.limits.connect_timeout)
        self._semaphore = asyncio.Semaphore(self.limits.max_concurrency)
        self._sent_at: deque[float] = deque()
        self._in_flight: dict[Any, asyncio.Future[Any]] = {}
        self._waiters: dict[asyncio.Future[Any], int] = {}  # callers awaiting each shared request
        self._pending_areas: dict[Any, PoiQuery] = {}
        self._searches = SearchCache(maxsize=self.limits.search_cache_size, ttl=self.limits.search_ttl, timer=clock)
        self._chargers: TTLCache[tuple[int, bool], Charger] = TTLCache(
            maxsize=self.limits.search_cache_size * 20, ttl=self.limits.charger_ttl, timer=clock
        )
        self._reference: ReferenceData | None = None
        self._reference_fetched_at: datetime | None = None
        self._refresh_task: asyncio.Future[bool] | None = None
        self._refresh_tried_at: float | None = None

    @classmethod
    def create(
        cls,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        reference_cache_path: Path | None = None,
        limits: OcmLimits | None = None,
        **options: Any,
    ) -> OcmClient:
        """A client with its own keep-alive HTTP/1.1 connection pool (closed by :meth:`aclose`)."""
        limits = limits or OcmLimits()
        http = httpx.AsyncClient(
            timeout=httpx.Timeout(limits.read_timeout, connect=limits.connect_timeout),
            limits=httpx.Limits(
                max_connections=limits.max_concurrency,
                max_keepalive_connections=limits.max_concurrency,
                keepalive_expiry=30.0,
            ),
            http1=True,
            http2=False,
        )
        return cls(
            http,
            base_url=base_url,
            api_key=api_key,
            reference_cache_path=reference_cache_path,
            limits=limits,
            owns_http=True,
            **options,
        )

    def __repr__(self) -> str:
        key = "'***'" if self._api_key else "None"
        return f"OcmClient(base_url={self._base_url!r}, api_key={key})"

    # Life cycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Load reference data: a fresh disk copy, else OCM, else (OCM down) a stale disk copy."""
        stored = await asyncio.to_thread(self._read_reference_file)
        if stored is not None and self._now() - stored[1] < self.limits.reference_max_age:
            self._reference, self._reference_fetched_at = stored
            return
        try:
            await self._fetch_reference_data()
        except OcmError:
            if stored is None:
                raise
            log.warning("OCM unreachable; starting from reference data of %s", stored[1].isoformat())
            self._reference, self._reference_fetched_at = stored

    async def aclose(self) -> None:
        """Stop a background refresh; close the HTTP client if this client made it."""
        task, self._refresh_task = self._refresh_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> OcmClient:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # Reference data ---------------------------------------------------------------------------

    async def reference_data(self) -> ReferenceData:
        """The current reference data (loaded on first use if :meth:`start` was not called).

        A copy older than ``limits.reference_max_age`` (or the bundled one) is still returned at
        once, while a refresh runs in the background (at most one try per
        ``limits.reference_retry_interval`` while OCM fails).
        """
        if self._reference is None:
            await self.start()
        assert self._reference is not None
        self._refresh_if_stale()
        return self._reference

    def _refresh_if_stale(self) -> None:
        fetched_at = self._reference_fetched_at
        if fetched_at is not None and self._now() - fetched_at < self.limits.reference_max_age:
            return
        if self._refresh_task is not None and not self._refresh_task.done():
            return
        now = self._clock()
        if self._refresh_tried_at is not None and now - self._refresh_tried_at < self.limits.reference_retry_interval:
            return
        self._refresh_tried_at = now
        self._refresh_task = asyncio.ensure_future(self.refresh_reference_data())

    def use_reference_data(self, reference: ReferenceData) -> None:
        """Start from ``reference`` (e.g. the bundled copy when OCM is down at the first start).

        It is not written to disk and counts as stale: the next daily refresh replaces it.
        """
        self._reference, self._reference_fetched_at = reference, None

    async def refresh_reference_data(self) -> bool:
        """Fetch reference data again (the daily job); on failure keep the current copy.

        Returns True when refreshed, False when OCM could not be reached (logged).
        """
        try:
            await self._fetch_reference_data()
        except OcmError as exc:
            log.warning("reference data refresh failed, keeping the current copy: %s", exc)
            return False
        return True

    async def _fetch_reference_data(self) -> ReferenceData:
        async def fetch() -> ReferenceData:
            params = {"client": self._client_name}
            if self._reference_country_ids:
                params["countryid"] = ",".join(str(i) for i in self._reference_country_ids)
            payload = _json(await self._get("/referencedata", params))
            if not isinstance(payload, Mapping):
                raise OcmBadResponse("reference data is not a JSON object")
            try:
                reference = ReferenceData.from_json(payload)
            except (TypeError, ValueError, KeyError, AttributeError) as exc:
                raise OcmBadResponse(f"unreadable reference data: {exc}") from exc
            if not reference.connection_types or not reference.status_types:
                raise OcmBadResponse("reference data without connection or status types")
            self._reference, self._reference_fetched_at = reference, self._now()
            await asyncio.to_thread(self._write_reference_file, payload)
            return reference

        return await self._coalesced(("referencedata",), fetch)

    def _read_reference_file(self) -> tuple[ReferenceData, datetime] | None:
        if self._reference_path is None or not self._reference_path.exists():
            return None
        try:
            stored = json.loads(self._reference_path.read_text(encoding="utf-8"))
            fetched_at = datetime.fromisoformat(stored["fetched_at"])
            return ReferenceData.from_json(stored["payload"]), fetched_at
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("ignoring unreadable reference data file %s: %s", self._reference_path, exc)
            return None

    def _write_reference_file(self, payload: Mapping[str, Any]) -> None:
        if self._reference_path is None:
            return
        document = {"fetched_at": self._now().isoformat(), "payload": payload}
        temporary = self._reference_path.with_name(self._reference_path.name + ".tmp")
        try:
            self._reference_path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(document), encoding="utf-8")
            os.replace(temporary, self._reference_path)  # readers never see half a file
        except OSError as exc:
            log.warning("could not save reference data to %s: %s", self._reference_path, exc)

    # Searching --------------------------------------------------------------------------------

    async def search(self, query: PoiQuery) -> list[Charger]:
        """Chargers matching ``query``, nearest first when it has a point.

        Answered from the cache when an earlier answer provably contains it; otherwise one
        request (shared with identical concurrent searches) that also fills the cache. A search
        asking for comments always asks OCM: it is how a check-in is confirmed.
        """
        if query.output is not OutputFormat.JSON or query.callback is not None:
            raise ValueError("search() reads JSON; use export() for other formats and JSONP")
        query = self._capped(query)
        if query.includecomments:
            fresh = await self._coalesced(("poi", query.cache_key()), lambda: self._search_ocm(query))
            return _answer_of(fresh)
        found = self._searches.answer(query, self.limits.default_results)
        if found is not None:
            return found
        exact = self._searches.exact(query)
        if exact is not None:
            return _answer_of(exact)
        found = await self._answer_after_pending(query)
        if found is not None:
            return found
        sent = self._prefetching(query)
        entry = self._searches.exact(sent)
        if entry is None:
            key = ("poi", sent.cache_key())
            future = self._shared(key, lambda: self._search_ocm(sent))
            if is_area_search(sent) and key not in self._pending_areas:
                self._pending_areas[key] = sent
                future.add_done_callback(lambda _: self._pending_areas.pop(key, None))
            entry = await self._wait_for(future)
        if sent is query:
            return _answer_of(entry)
        answered = self._searches.answer(query, self.limits.default_results)
        return answered if answered is not None else _answer_of(entry, query.maxresults)

    async def _answer_after_pending(self, query: PoiQuery) -> list[Charger] | None:
        """Wait for an in-flight search that may contain ``query``, then answer from the cache."""
        if not is_area_search(query):
            return None
        for key, pending in list(self._pending_areas.items()):
            future = self._in_flight.get(key)
            if future is None or not may_contain(pending, query):
                continue
            with contextlib.suppress(OcmError):
                await self._wait_for(future)
            found = self._searches.answer(query, self.limits.default_results)
            if found is not None:
                return found
        return None

    async def get_chargers(self, ids: list[int], *, include_comments: bool = False) -> list[Charger]:
        """Chargers by OCM ID, in the order asked; unknown IDs are left out."""
        wanted = list(dict.fromkeys(int(i) for i in ids))
        if not wanted:
            return []
        if len(wanted) > self.limits.max_results:
            raise ValueError(f"at most {self.limits.max_results} chargers per call")
        known = {i: c for i in wanted if (c := self._chargers.get((i, include_comments))) is not None}
        missing = [i for i in wanted if i not in known]
        if missing:
            query = PoiQuery(chargepointid=tuple(missing), maxresults=len(missing), includecomments=include_comments)
            entry = await self._coalesced(("poi", query.cache_key()), lambda: self._search_ocm(query))
            known.update((c.id, c) for c in entry.chargers)
        return [known[i] for i in wanted if i in known]

    async def modified_since(
        self,
        since: datetime,
        *,
        bbox: tuple[tuple[float, float], tuple[float, float]] | None = None,
        maxresults: int | None = None,
    ) -> list[Charger]:
        """Chargers added or changed after ``since`` (oldest change first), for the group poll.

        Never answered from cache: the poll exists to see what changed. Cached searches that
        hold a changed charger are dropped, so the next search shows the change.
        """
        query = self._capped(
            PoiQuery(
                modifiedsince=since,
                boundingbox=bbox,
                maxresults=maxresults or self.limits.max_results,
                sortby=SortBy.MODIFIED_ASC,
            )
        )
        key = ("poi-fresh", query.cache_key())
        entry = await self._coalesced(key, lambda: self._search_ocm(query, cache=False))
        changed = {charger.id for charger in entry.chargers}
        if changed:
            self._searches.discard(lambda cached: any(c.id in changed for c in cached.chargers))
            for charger in entry.chargers:
                self._chargers.pop((charger.id, True), None)
                self._chargers[(charger.id, False)] = charger
        return list(entry.chargers)

    async def export(self, query: PoiQuery) -> bytes:
        """OCM's own rendering of ``query`` (xml, csv, kml, geojson, json) as raw bytes."""
        query = self._capped(query)
        return (await self._get("/poi", self._poi_params(query))).content

    async def _search_ocm(self, query: PoiQuery, *, cache: bool = True) -> CachedSearch:
        reference = await self.reference_data()
        payload = _json(await self._get("/poi", self._poi_params(query)))
        chargers = parse_pois(payload, reference)
        doubtful = bool(payload) and self._searches.contradicts(
            query, chargers, truncated=is_truncated(query, len(payload))
        )
        if doubtful:
            log.warning("OCM's answer lacks chargers it listed before; not taking it as complete")
        entry = CachedSearch.from_answer(query, chargers, raw_count=len(payload), may_be_partial=doubtful)
        if cache:
            self._searches.put(entry)
            for charger in chargers:
                self._chargers[(charger.id, query.includecomments)] = charger
                if query.includecomments:
                    self._chargers[(charger.id, False)] = _without_comments(charger)
        return entry

    def _forget_charger(self, charger_id: int) -> None:
        for with_comments in (False, True):
            self._chargers.pop((charger_id, with_comments), None)
        self._searches.discard(
            lambda entry: (
                charger_id in entry.query.chargepointid
                or (entry.query.includecomments and any(c.id == charger_id for c in entry.chargers))
            )
        )

    def _poi_params(self, query: PoiQuery) -> dict[str, str]:
        return {**query.to_params(), "client": self._client_name}

    def _capped(self, query: PoiQuery) -> PoiQuery:
        """``query`` within the hard caps: results per request and radius are clamped."""
        changes: dict[str, Any] = {}
        results = query.maxresults or self.limits.default_results
        if results > self.limits.max_results or query.maxresults is None:
            changes["maxresults"] = min(results, self.limits.max_results)
        radius = query.radius_km
        if radius is not None and radius > self.limits.max_radius_km:
            unit = KM_PER_MILE if query.distance_in_miles else 1.0
            changes["distance"] = self.limits.max_radius_km / unit
        return query.replace(**changes) if changes else query

    def _prefetching(self, query: PoiQuery) -> PoiQuery:
        """What to ask OCM for ``query``: an area search asks for more, to answer the next ones."""
        if not is_area_search(query) or query.maxresults is None:
            return query
        wanted = min(max(query.maxresults, self.limits.prefetch_results), self.limits.max_results)
        return query.replace(maxresults=wanted) if wanted != query.maxresults else query

    # Writing ----------------------------------------------------------------------------------

    async def authenticate(self, email: str, password: str) -> OcmSession:
        """Sign a user in; the password goes to OCM only and is never kept or logged."""
        response = await self._post("/profile/authenticate", {"emailaddress": email, "password": password})
        if not response.content.strip():
            # OCM's sign-in throws for an account without a password (social login) and its
            # middleware swallows that: 200, no body. Retrying cannot help; setting a password can.
            raise OcmPasswordlessAccount
        data = _ci(_ci(_json(response)).get("data"))
        profile = _ci(data.get("userprofile"))
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise OcmBadResponse("authentication answer without an access token")
        user_id = profile.get("id")
        return OcmSession(
            token=token,
            user_id=int(user_id) if isinstance(user_id, int) else None,
            username=profile.get("username"),
        )

    async def submit_comment(
        self, submission: CommentSubmission, *, token: str | None = None, write_key: str | None = None
    ) -> None:
        """``POST /comment`` as the signed-in user (``token``) or with a write-enabled app key.

        OCM's edge accepts only the application's primary (read) key in ``X-API-Key``; the user
        a write key stands for is looked up from the ``apikey`` parameter (before any token), so
        the read key stays in the header and the write key goes as ``apikey``.

        Raises OcmAuthError(401) without either, OcmRejected with OCM's description when refused.
        """
        if not token and not write_key:
            raise OcmAuthError("a user token or a write-enabled API key is needed", status=401)
        headers = {"Authorization": f"Bearer {token}"} if token and not write_key else {}
        params = {"apikey": write_key} if write_key else None
        try:
            response = await self._post("/comment", submission.to_json(), headers=headers, params=params)
        finally:
            # Whatever happened (even a timeout: OCM may have stored it), the next look at this
            # charger's comments must come from OCM, not from our cache.
            self._forget_charger(submission.charger_id)
        if token and not write_key and not response.content.strip():
            # A token OCM cannot read makes its JWT middleware throw: 200 with no body. The post
            # was not stored; the driver has to sign in again.
            raise OcmAuthError("OCM could not read the sign-in token", status=response.status_code, user_token=True)
        answer = _ci(_json(response))
        if str(answer.get("status", "")).upper() != "OK":
            raise OcmRejected(str(answer.get("description") or "OCM did not accept the comment"), status=200)

    # HTTP -------------------------------------------------------------------------------------

    def _headers(self, accept: str = "application/json") -> dict[str, str]:
        headers = {"User-Agent": self._user_agent, "Accept": accept}
        if self._api_key:
            headers["X-API-Key"] = self._api_key
        return headers

    async def _get(self, path: str, params: Mapping[str, str]) -> httpx.Response:
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

    async def _post(
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
        url = f"{self._base_url}{path}"
        async with self._semaphore:
            started = self._clock()
            try:
                async with asyncio.timeout(self.limits.total_timeout):
                    response = await self._http.request(
                        method, url, params=params, json=json_body, headers=request_headers, timeout=self._timeout
                    )
            except (httpx.TimeoutException, TimeoutError) as exc:
                raise OcmUnavailable(f"OCM did not answer {method} {path} in time") from exc
            except httpx.TransportError as exc:
                raise OcmUnavailable(f"could not reach OCM for {method} {path}: {type(exc).__name__}") from exc
        log.debug(
            "OCM %s %s -> %d (%d bytes, %.0f ms)",
            method,
            path,
            response.status_code,
            len(response.content),
            (self._clock() - started) * 1000,
        )
        _raise_for_response(response)
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

    async def _coalesced(self, key: Any, run: Callable[[], Awaitable[T]]) -> T:
        """Run ``run`` once for all concurrent callers with the same ``key``."""
        return await self._wait_for(self._shared(key, run))

    def _shared(self, key: Any, run: Callable[[], Awaitable[T]]) -> asyncio.Future[T]:
        """The in-flight future for ``key``, started now if there is none.

        Callers await it through :meth:`_wait_for`, so one caller giving up does not cancel
        the request for the others; the last one giving up does.
        """
        future = self._in_flight.get(key)
        if future is None:
            future = asyncio.ensure_future(run())
            self._in_flight[key] = future
            self._waiters[future] = 0
            future.add_done_callback(lambda _: self._in_flight.pop(key, None))
            future.add_done_callback(lambda f: self._waiters.pop(f, None))
            # Retrieve the outcome even when every waiter has gone, so asyncio logs nothing.
            future.add_done_callback(lambda f: f.cancelled() or f.exception())
        return future

    async def _wait_for(self, future: asyncio.Future[T]) -> T:
        """Await a shared request; when every caller has given up (a driver's deadline passed),
        cancel it, so that httpx closes its connection and OCM hanging on it holds no slot of
        the pool once OCM answers again (ocm-system#260)."""
        self._waiters[future] = self._waiters.get(future, 0) + 1
        try:
            return await asyncio.shield(future)
        finally:
            left = self._waiters.get(future, 1) - 1
            if future.done():
                pass
            elif left > 0:
                self._waiters[future] = left
            else:
                future.cancel()


# Response checking ------------------------------------------------------------------------------


def _raise_for_response(response: httpx.Response) -> None:
    """Raise the error ``response`` stands for, ``from`` httpx's own status error."""
    error = _error_for(response)
    if error is None:
        return
    try:
        response.raise_for_status()
    except httpx.HTTPStatusError as exc:
        raise error from exc
    raise error


def _error_for(response: httpx.Response) -> OcmError | None:
    status = response.status_code
    text = _text_of(response)
    description = _description(text)
    if status == 503 and _ROBOTS_MESSAGE in text.lower():
        return OcmBlockedAsRobot(description or "OCM took us for a robot", status=status)
    if 200 <= status < 300:
        if text.strip().startswith(_VALIDATION_FAILED):
            return OcmRejected(_VALIDATION_FAILED, status=status)
        return None
    kind = ERROR_CODE_MAP.get(status) or (OcmUnavailable if status >= 500 else OcmRejected)
    if kind is OcmTooManyRequests:
        return OcmTooManyRequests(
            description or "OCM asks us to slow down", status=status, retry_after=_retry_after(response)
        )
    if kind is OcmRejected:
        return OcmRejected(description or f"HTTP {status}", status=status)
    message = f"HTTP {status}: {description}" if description else f"HTTP {status}"
    return kind(message, status=status)


def _text_of(response: httpx.Response) -> str:
    try:
        return response.text
    except (UnicodeDecodeError, LookupError):
        return ""


def _description(text: str) -> str:
    """OCM's ``description`` from a JSON error, or the start of a text/HTML error page."""
    stripped = text.strip()
    if stripped.startswith("{"):
        with contextlib.suppress(ValueError, AttributeError):
            payload = _ci(json.loads(stripped))
            if payload.get("description"):
                return str(payload["description"])
    return " ".join(stripped.split())[:200]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise OcmBadResponse(f"OCM sent unreadable JSON for {response.request.url.path}") from exc


def _ci(value: Any) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in value.items()} if isinstance(value, Mapping) else {}


def _answer_of(entry: CachedSearch, limit: int | None = None) -> SearchAnswer:
    """``entry``'s chargers (the first ``limit``), saying whether OCM cut the list short."""
    chargers = entry.chargers if limit is None else entry.chargers[:limit]
    returned = entry.returned
    if limit is not None and (entry.truncated or len(entry.chargers) > limit):
        returned = max(limit, len(chargers))  # cut here: there is more than this
    elif limit is not None:
        returned = len(chargers)
    return SearchAnswer(chargers, returned=returned, may_be_partial=entry.may_be_partial)


def _without_comments(charger: Charger) -> Charger:
    return replace(charger, comments=(), media_items=())
