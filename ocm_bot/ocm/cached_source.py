"""The bot's one search cache and one charger-by-ID cache, in front of any :class:`ChargerSource`.

:class:`CachingSource` answers a search from earlier answers whenever they prove it
(:mod:`ocm_bot.ocm.cache`: counted from what the source *sent*, empty and partial answers proving
nothing), shares one request between identical concurrent searches, lets a search inside one in
flight wait for it, and keeps chargers by ID for details and favourites. The OCM client puts one
in front of its HTTP reads; the search service puts one in front of any other source (a local
dump, the demo), so every search is cached in this one place.

``search(query, enough=k)`` is for a caller that pages through the result itself: when the
whole answer cannot be proven but at least ``k`` of its nearest chargers can, those are returned,
marked as cut (``returned`` is ``maxresults``), without asking the source.

Example::

    cached = CachingSource(LocalSource(...), limits=OcmLimits())
    near = await cached.search(PoiQuery(latitude=53.8, longitude=-1.5, distance=5, maxresults=40), enough=10)
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from cachetools import TTLCache

from ocm_bot import metrics
from ocm_bot.ocm.cache import CachedSearch, SearchCache, is_area_search, is_truncated, may_contain
from ocm_bot.ocm.errors import OcmError
from ocm_bot.ocm.models import Charger, Comment
from ocm_bot.ocm.query import PoiQuery
from ocm_bot.ocm.reference import ReferenceData
from ocm_bot.ocm.single_flight import SingleFlight
from ocm_bot.ocm.source import ChargerSource, SearchAnswer, may_be_partial, returned_count
from ocm_bot.ocm.transport import OcmLimits

log = logging.getLogger(__name__)


class CachingSource:
    """``inner`` behind the search cache and the charger-by-ID cache (a :class:`ChargerSource`)."""

    def __init__(
        self,
        inner: ChargerSource,
        *,
        limits: OcmLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
        flights: SingleFlight | None = None,
    ) -> None:
        self._inner = inner
        self.limits = limits or OcmLimits()
        self._flights = flights or SingleFlight()
        self._pending_areas: dict[Any, PoiQuery] = {}
        self._searches = SearchCache(maxsize=self.limits.search_cache_size, ttl=self.limits.search_ttl, timer=clock)
        self._chargers: TTLCache[tuple[int, bool], Charger] = TTLCache(
            maxsize=self.limits.search_cache_size * 20, ttl=self.limits.charger_ttl, timer=clock
        )
        # The bot's own comments, shown on every cached copy of their charger (see note_own_comment).
        self._own: TTLCache[int, tuple[Comment, ...]] = TTLCache(
            maxsize=self.limits.search_cache_size * 20, ttl=self.limits.charger_ttl, timer=clock
        )

    async def reference_data(self) -> ReferenceData:
        return await self._inner.reference_data()

    def note_own_comment(self, charger_id: int, comment: Comment) -> None:
        """A check-in the bot itself just posted: every cached copy of the charger shows it at once
        (a card from a compact search, which carries no comments, included), until the cached
        answers expire; a copy that already has it (OCM's fresh answer) is left as it is."""
        self._own[charger_id] = (comment, *self._own.get(charger_id, ()))[:5]

    def _with_own(self, chargers: list[Charger]) -> list[Charger]:
        if not self._own or not any(c.id in self._own for c in chargers):
            return chargers
        patched = [_with_comments(c, self._own.get(c.id, ())) for c in chargers]
        if isinstance(chargers, SearchAnswer):
            return SearchAnswer(patched, returned=chargers.returned, may_be_partial=chargers.may_be_partial)
        return patched

    async def search(self, query: PoiQuery, *, enough: int | None = None) -> list[Charger]:
        """Chargers matching ``query``, nearest first when it has a point (with the bot's own comments)."""
        return self._with_own(await self._search(query, enough=enough))

    async def _search(self, query: PoiQuery, *, enough: int | None = None) -> list[Charger]:
        """Chargers matching ``query``, nearest first when it has a point.

        Answered from the cache when an earlier answer provably contains it (or, with ``enough``,
        its ``enough`` nearest chargers); otherwise one request (shared with identical concurrent
        searches) that also fills the cache. A search asking for comments always asks the
        source: it is how a check-in is confirmed.
        """
        if query.includecomments:
            fresh = await self._flights.run(("poi", query.cache_key()), lambda: self._ask(query))
            return _answer_of(fresh)
        found = self._from_cache(query, enough)
        if found is None and (exact := self._searches.exact(query)) is not None:
            found = _answer_of(exact)
        if found is not None:
            metrics.OCM_CACHE_HITS.inc()
            return found
        found = await self._answer_after_pending(query, enough)
        if found is not None:
            return found
        exact = self._searches.exact(query)  # an identical search may have finished meanwhile
        if exact is not None:
            return _answer_of(exact)
        key = ("poi", query.cache_key())
        future = self._flights.shared(key, lambda: self._ask(query))
        if is_area_search(query) and key not in self._pending_areas:
            self._pending_areas[key] = query
            future.add_done_callback(lambda _: self._pending_areas.pop(key, None))
        return _answer_of(await self._flights.wait_for(future))

    def _from_cache(self, query: PoiQuery, enough: int | None) -> list[Charger] | None:
        return self._searches.answer(query, self.limits.default_results, enough=enough)

    async def _answer_after_pending(self, query: PoiQuery, enough: int | None) -> list[Charger] | None:
        """Wait for an in-flight search that may contain ``query``, then answer from the cache."""
        if not is_area_search(query):
            return None
        for key, pending in list(self._pending_areas.items()):
            future = self._flights.in_flight(key)
            if future is None or not may_contain(pending, query):
                continue
            with contextlib.suppress(OcmError):
                await self._flights.wait_for(future)
            found = self._from_cache(query, enough)
            if found is not None:
                return found
        return None

    async def get_chargers(self, ids: list[int], *, include_comments: bool = False) -> list[Charger]:
        """Chargers by OCM ID, in the order asked; unknown IDs are left out."""
        return self._with_own(await self._get_chargers(ids, include_comments=include_comments))

    async def _get_chargers(self, ids: list[int], *, include_comments: bool = False) -> list[Charger]:
        wanted = list(dict.fromkeys(int(i) for i in ids))
        if not wanted:
            return []
        if len(wanted) > self.limits.max_results:
            raise ValueError(f"at most {self.limits.max_results} chargers per call")
        known = {i: c for i in wanted if (c := self._chargers.get((i, include_comments))) is not None}
        missing = [i for i in wanted if i not in known]
        if missing:
            key = ("ids", tuple(missing), include_comments)
            found = await self._flights.run(key, lambda: self._look_up(missing, include_comments))
            known.update((c.id, c) for c in found)
        return [known[i] for i in wanted if i in known]

    def forget_charger(self, charger_id: int) -> None:
        """Ask the source again next time for ``charger_id`` (a comment was just posted on it)."""
        for with_comments in (False, True):
            self._chargers.pop((charger_id, with_comments), None)
        self._searches.discard(
            lambda entry: (
                charger_id in entry.query.chargepointid
                or (entry.query.includecomments and any(c.id == charger_id for c in entry.chargers))
            )
        )

    def changed(self, chargers: Iterable[Charger]) -> None:
        """``chargers`` changed (the group poll saw them): searches holding them are asked again."""
        fresh = list(chargers)
        ids = {charger.id for charger in fresh}
        if not ids:
            return
        self._searches.discard(lambda cached: any(c.id in ids for c in cached.chargers))
        for charger in fresh:
            self._chargers.pop((charger.id, True), None)
            self._chargers[(charger.id, False)] = charger

    async def _ask(self, query: PoiQuery) -> CachedSearch:
        answer = await self._inner.search(query)
        raw_count = returned_count(answer)
        doubtful = may_be_partial(answer) or (
            raw_count > 0 and self._searches.contradicts(query, answer, truncated=is_truncated(query, raw_count))
        )
        if doubtful and not may_be_partial(answer):
            log.warning("OCM's answer lacks chargers it listed before; not taking it as complete")
        entry = CachedSearch.from_answer(query, answer, raw_count=raw_count, may_be_partial=doubtful)
        self._searches.put(entry)
        self._keep(entry.chargers, query.includecomments)
        return entry

    async def _look_up(self, ids: list[int], include_comments: bool) -> list[Charger]:
        found = await self._inner.get_chargers(ids, include_comments=include_comments)
        self._keep(found, include_comments)
        return found

    def _keep(self, chargers: Iterable[Charger], with_comments: bool) -> None:
        for charger in chargers:
            self._chargers[(charger.id, with_comments)] = charger
            if with_comments:
                self._chargers[(charger.id, False)] = _without_comments(charger)


def _answer_of(entry: CachedSearch) -> SearchAnswer:
    """``entry``'s chargers, saying how many the source sent and whether they prove anything."""
    return SearchAnswer(entry.chargers, returned=entry.returned, may_be_partial=entry.may_be_partial)


def _with_comments(charger: Charger, own: tuple[Comment, ...]) -> Charger:
    """``charger`` with those of ``own`` it does not carry yet, newest first."""
    missing = tuple(c for c in own if not any(_same_comment(c, known) for known in charger.comments))
    if not missing:
        return charger
    newest = max((c.date_created for c in missing if c.date_created), default=None)
    changes: dict[str, Any] = {"comments": (*missing, *charger.comments)}
    if newest is not None and (
        charger.date_last_status_update is None or _later(newest, charger.date_last_status_update)
    ):
        changes["date_last_status_update"] = newest
    worked = [c.date_created for c in missing if c.date_created and c.checkin_status and c.checkin_status.is_positive]
    if worked and (charger.date_last_verified is None or _later(max(worked), charger.date_last_verified)):
        changes["date_last_verified"] = max(worked)  # as OCM does on a successful check-in
    return replace(charger, **changes)


def _later(a: datetime, b: datetime) -> bool:
    if (a.tzinfo is None) != (b.tzinfo is None):
        a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
    return a > b


def _same_comment(mine: Comment, theirs: Comment) -> bool:
    """OCM's copy of the bot's own comment: the same outcome, rating and text, dated within minutes."""
    if mine.date_created is None or theirs.date_created is None:
        return False
    status = (mine.checkin_status.id if mine.checkin_status else None) == (
        theirs.checkin_status.id if theirs.checkin_status else None
    )
    close = abs(mine.date_created.replace(tzinfo=None) - theirs.date_created.replace(tzinfo=None)) < _SAME_POST
    return status and close and mine.rating == theirs.rating and (mine.text or None) == (theirs.text or None)


_SAME_POST = timedelta(minutes=5)


def _without_comments(charger: Charger) -> Charger:
    return replace(charger, comments=(), media_items=())
