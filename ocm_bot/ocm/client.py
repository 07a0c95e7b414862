"""The Open Charge Map API v3 client: the search façade over the modules that speak HTTP to OCM.

Fair use (https://openchargemap.org/site/develop/api, ``DEVELOPERS.md``) is built in:

- :mod:`ocm_bot.ocm.transport`: the API key only in the ``X-API-Key`` header, a descriptive
  ``User-Agent``, retries of idempotent GETs only, hard caps and a per-minute request budget;
- :mod:`ocm_bot.ocm.errors`: one table from OCM's statuses and bodies to the error tree;
- :mod:`ocm_bot.ocm.reference_store`: reference data fetched once, kept on disk, refreshed daily;
- :mod:`ocm_bot.ocm.single_flight`: identical concurrent requests share one HTTP request;
- :mod:`ocm_bot.ocm.writing`: sign-in and ``POST /comment``;
- here: searches ask for ``compact=true&verbose=false``; answers are cached, and a search inside
  a cached wider one is answered locally (:mod:`ocm_bot.ocm.cache`, the bot's only search cache);
  chargers are kept by ID for details and favourites (the only such cache).

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
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ocm_bot.ocm import writing
from ocm_bot.ocm.cached_source import CachingSource
from ocm_bot.ocm.errors import OcmError
from ocm_bot.ocm.models import Charger, Comment
from ocm_bot.ocm.parse import parse_pois
from ocm_bot.ocm.query import KM_PER_MILE, OutputFormat, PoiQuery, SortBy
from ocm_bot.ocm.reference import ReferenceData
from ocm_bot.ocm.reference_store import ReferenceStore
from ocm_bot.ocm.single_flight import SingleFlight
from ocm_bot.ocm.source import SearchAnswer, returned_count
from ocm_bot.ocm.transport import CLIENT_NAME, DEFAULT_BASE_URL, USER_AGENT, OcmLimits, OcmTransport, json_of
from ocm_bot.ocm.writing import CommentSubmission, OcmSession, PhotoSubmission

# CommentSubmission is imported from here by the outbox and the demo.
__all__ = ["CommentSubmission", "OcmClient", "OcmLimits", "OcmSession", "PhotoSubmission"]


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
        self.limits = limits or OcmLimits()
        self._owns_http = owns_http
        self._client_name = client_name
        self._transport = OcmTransport(
            http,
            base_url=base_url,
            api_key=api_key,
            limits=self.limits,
            user_agent=user_agent,
            clock=clock,
            sleep=sleep,
        )
        self._flights = SingleFlight()
        self._reference = ReferenceStore(
            self._transport,
            self._flights,
            path=reference_cache_path,
            limits=self.limits,
            client_name=client_name,
            country_ids=reference_country_ids,
            clock=clock,
            now=now,
        )
        self._pois = _OcmPois(self._transport, self._reference, client_name)
        self._cached = CachingSource(self._pois, limits=self.limits, clock=clock, flights=self._flights)

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
        key = "'***'" if self._transport.api_key else "None"
        return f"OcmClient(base_url={self._transport.base_url!r}, api_key={key})"

    # Life cycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Load reference data: a fresh disk copy, else OCM, else (OCM down) a stale disk copy."""
        await self._reference.start()

    async def aclose(self) -> None:
        """Stop a background refresh; close the HTTP client if this client made it."""
        await self._reference.aclose()
        if self._owns_http:
            await self._transport.http.aclose()

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
        return await self._reference.current()

    def use_reference_data(self, reference: ReferenceData) -> None:
        """Start from ``reference`` (e.g. the bundled copy when OCM is down at the first start).

        It is not written to disk and counts as stale: the next daily refresh replaces it.
        """
        self._reference.use(reference)

    async def refresh_reference_data(self) -> bool:
        """Fetch reference data again (the daily job); on failure keep the current copy.

        Returns True when refreshed, False when OCM could not be reached (logged).
        """
        return await self._reference.refresh()

    # Searching --------------------------------------------------------------------------------

    async def search(self, query: PoiQuery, *, enough: int | None = None) -> list[Charger]:
        """Chargers matching ``query``, nearest first when it has a point.

        Answered from the cache when an earlier answer provably contains it; otherwise one
        request (shared with identical concurrent searches) that also fills the cache. A search
        asking for comments always asks OCM: it is how a check-in is confirmed. ``enough``: see
        :meth:`CachingSource.search`.
        """
        if query.output is not OutputFormat.JSON or query.callback is not None:
            raise ValueError("search() reads JSON; use export() for other formats and JSONP")
        return await self._cached.search(self._capped(query), enough=enough)

    async def get_chargers(self, ids: list[int], *, include_comments: bool = False) -> list[Charger]:
        """Chargers by OCM ID, in the order asked; unknown IDs are left out."""
        return await self._cached.get_chargers(ids, include_comments=include_comments)

    def forget_charger(self, charger_id: int) -> None:
        """Ask OCM again next time for ``charger_id``."""
        self._cached.forget_charger(charger_id)

    async def modified_since(
        self,
        since: datetime,
        *,
        bbox: tuple[tuple[float, float], tuple[float, float]] | None = None,
        maxresults: int | None = None,
        after_id: int | None = None,
        include_comments: bool = False,
    ) -> list[Charger]:
        """Chargers added or changed after ``since`` (oldest change first), for the group poll.

        With ``after_id`` the answer is one page in ID order above that ID (``sortby=id_asc``,
        ``greaterthanid``): the next page of a full answer starts after its highest ID. The answer
        is a :class:`SearchAnswer` (``returned`` tells whether it was full).

        Never answered from cache: the poll exists to see what changed. Cached searches that
        hold a changed charger are dropped, so the next search shows the change.
        """
        query = self._capped(
            PoiQuery(
                modifiedsince=since,
                boundingbox=bbox,
                maxresults=maxresults or self.limits.max_results,
                sortby=SortBy.MODIFIED_ASC if after_id is None else SortBy.ID_ASC,
                greaterthanid=after_id,
                includecomments=include_comments,
            )
        )
        key = ("poi-fresh", query.cache_key())
        changed = await self._flights.run(key, lambda: self._pois.search(query))
        self._cached.changed(changed)
        return SearchAnswer(changed, returned=returned_count(changed))

    async def export(self, query: PoiQuery) -> bytes:
        """OCM's own rendering of ``query`` (xml, csv, kml, geojson, json) as raw bytes."""
        query = self._capped(query)
        return (await self._transport.get("/poi", self._poi_params(query))).content

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

    # Writing ----------------------------------------------------------------------------------

    async def authenticate(self, email: str, password: str) -> OcmSession:
        """Sign a user in; the password goes to OCM only and is never kept or logged."""
        return await writing.authenticate(self._transport, email, password)

    async def submit_comment(
        self, submission: CommentSubmission, *, token: str | None = None, write_key: str | None = None
    ) -> None:
        """``POST /comment`` as the signed-in user (``token``) or with a write-enabled app key
        (:func:`ocm_bot.ocm.writing.submit_comment`)."""
        try:
            await writing.submit_comment(self._transport, submission, token=token, write_key=write_key)
        finally:
            # Whatever happened (even a timeout: OCM may have stored it), the next look at this
            # charger's comments must come from OCM, not from our cache.
            self.forget_charger(submission.charger_id)

    async def note_own_checkin(self, submission: CommentSubmission, when: datetime) -> None:
        """A check-in the bot posted a moment ago: every cached copy of the charger shows it (its
        trust line on a card included) without asking OCM again."""
        try:
            reference = await self.reference_data()
        except OcmError:
            reference = None
        status = submission.checkin_status_type_id
        comment = Comment(
            id=None,
            comment_type=reference.comment_types.get(submission.comment_type_id or 10) if reference else None,
            checkin_status=reference.checkin_status_types.get(status) if reference and status is not None else None,
            rating=submission.rating,
            text=submission.comment,
            date_created=when,
        )
        self._cached.note_own_comment(submission.charger_id, comment)

    async def submit_photo(
        self, submission: PhotoSubmission, *, token: str | None = None, write_key: str | None = None
    ) -> None:
        """``POST /mediaitem`` (:func:`ocm_bot.ocm.writing.submit_photo`); the charger's cached copy
        is dropped whatever happened, so its photos are read again from OCM."""
        try:
            await writing.submit_photo(self._transport, submission, token=token, write_key=write_key)
        finally:
            self.forget_charger(submission.charger_id)


class _OcmPois:
    """OCM's ``GET /poi`` read as it is, uncached: a :class:`ChargerSource` for :class:`CachingSource`."""

    def __init__(self, transport: OcmTransport, reference: ReferenceStore, client_name: str) -> None:
        self._transport = transport
        self._reference = reference
        self._client_name = client_name

    async def reference_data(self) -> ReferenceData:
        return await self._reference.current()

    async def search(self, query: PoiQuery) -> SearchAnswer:
        """What OCM answered; ``returned`` counts every POI it sent, readable or not."""
        reference = await self._reference.current()
        payload = json_of(await self._transport.get("/poi", {**query.to_params(), "client": self._client_name}))
        return SearchAnswer(parse_pois(payload, reference), returned=len(payload))

    async def get_chargers(self, ids: list[int], *, include_comments: bool = False) -> list[Charger]:
        query = PoiQuery(chargepointid=tuple(ids), maxresults=len(ids), includecomments=include_comments)
        return await self.search(query)
