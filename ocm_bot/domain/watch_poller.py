"""One poll for every watch: what changed on OCM since the last poll, and which chat to tell.

Each interval one instance (a storage lease) asks the charger source once for every charger
modified since the last poll (paged by ID when an answer is full), whatever the number of watches.
Each change is looked up in the :class:`~ocm_bot.domain.watches.WatchIndex`; for a charger inside
some watch's circle, what the bot knew of it (storage, under ``watch-charger:<id>``) and what it is
now give the events (:func:`~ocm_bot.domain.watch_changes.classify`). The notification log keeps
one event from reaching a chat twice, across polls, restarts and instances.

A poll ends in ONE storage transaction (:meth:`~ocm_bot.storage.base.NotificationLog.record_notices`):
the events are marked told AND put into the announcement queue
(:class:`~ocm_bot.domain.announcements.AnnouncementQueue`), the chargers' new known states and the
poll's time are stored. A crash before it loses nothing (the next poll reads the same changes
against the same known states); after it, the queue holds the events until Telegram took them.

Favourites are a second watch source in the same poll: the owners of the changed chargers are
looked up by charger ID (one storage query per poll, no extra OCM request), and a status change or
fault report of a favourite goes to its owner (alerts on: :mod:`ocm_bot.domain.alerts`) in
``PollResult.alerts``, apart from the chats' ``events`` (a private alert is not a group card); they
are queued in the same transaction, marked as alerts.

Example::

    poller = WatchPoller(ocm, storage, instance_id="bot-1")
    result = await poller.poll()        # None: another instance polls now
    # result.events / result.alerts: what was queued; the caller sends the queue
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from ocm_bot.domain.alerts import ALERT_KINDS, alerts_on
from ocm_bot.domain.announcements import QUEUE_KEY, Announcement
from ocm_bot.domain.watch_changes import ChargerEvent, KnownCharger, classify
from ocm_bot.domain.watches import Watch, WatchBook, WatchIndex
from ocm_bot.ocm.models import Charger
from ocm_bot.ocm.source import returned_count
from ocm_bot.storage.base import (
    JSON,
    FavouriteStore,
    LeaseStore,
    Notice,
    NotificationLog,
    SubscriptionStore,
    ValueStore,
    utc_now,
)

log = logging.getLogger(__name__)

LEASE_NAME = "watch-poll"
PRUNED_KEY = "watch-poll:pruned"  # when the known states were last pruned
PRUNE_EVERY = timedelta(days=1)
PRUNE_BATCH = 1000
NOTIFIED_KEPT = timedelta(days=30)  # the notification log's memory (a poll looks back minutes, not days)
LAST_POLL_KEY = "watch-poll:last"
SWEEP_KEY = "watch-poll:sweep"  # a poll cut at max_pages: where the next one goes on
KNOWN_KEY = "watch-charger:{}"
DEFAULT_INTERVAL_SECONDS = 300.0
DEFAULT_PAGE_SIZE = 200  # the OCM client's cap per request
OVERLAP = timedelta(minutes=1)  # polls overlap: a change stamped in the second of a poll is not lost
MAX_PAGES = 50  # 10,000 changes a poll at most; the rest comes in the next polls


class ChangeSource(Protocol):
    """What the poller asks: ``OcmClient`` and the ``OCM_DATA_FILE`` source both answer it."""

    async def modified_since(
        self,
        since: datetime,
        *,
        maxresults: int | None = None,
        after_id: int | None = None,
        include_comments: bool = False,
    ) -> list[Charger]: ...


class WatchStorage(SubscriptionStore, FavouriteStore, NotificationLog, ValueStore, LeaseStore, Protocol):
    """What the poller uses: the watches, the favourites, the notification log, the known states, the lease."""


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """An event for one chat, through the (first) watch of that chat that wants it."""

    watch: Watch
    event: ChargerEvent


@dataclass(frozen=True, slots=True)
class PollResult:
    since: datetime
    polled_at: datetime
    requests: int  # to the charger source
    changed: int  # chargers the source listed
    events: dict[int, list[WatchEvent]] = field(default_factory=dict)  # by chat id, in the source's order
    alerts: dict[int, list[ChargerEvent]] = field(default_factory=dict)  # favourites' events, by owner's user id


async def remember_known(store: ValueStore, charger: Charger) -> None:
    """Keep ``charger``'s condition now, unless the poll already keeps one (a new favourite: its
    first change is then told, even where no group watches and the poll never saw it)."""
    key = KNOWN_KEY.format(charger.id)
    if KnownCharger.from_data(await store.get_value(key)) is None:
        await store.set_value(key, KnownCharger.of(charger).to_data())


class WatchPoller:
    def __init__(
        self,
        source: ChangeSource,
        storage: WatchStorage,
        *,
        instance_id: str,
        interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_pages: int = MAX_PAGES,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.source = source
        self.storage = storage
        self.instance_id = instance_id
        self.interval = timedelta(seconds=interval_seconds)
        self.page_size = page_size
        self.max_pages = max_pages
        self.now = now

    async def poll(self) -> PollResult | None:
        """Poll once if this instance holds the lease (None if another one does)."""
        ttl = 2 * self.interval.total_seconds()
        if not await self.storage.try_acquire_lease(LEASE_NAME, self.instance_id, ttl):
            return None
        polled_at = self.now()
        sweep = await self._sweep()
        if sweep is not None:
            # The last poll was cut: go on above its highest ID, from the same time and start.
            since, started_at, after = sweep
        else:
            last = await self.last_poll()
            since = (last if last is not None else polled_at - self.interval) - OVERLAP
            started_at, after = polled_at, 0
        index = WatchIndex(await WatchBook(self.storage).all())
        changed, requests, cut_after = await self._changes(since, after)
        owners = await self.storage.favourite_owners([charger.id for charger in changed]) if changed else {}
        found: list[_Found] = []
        values: dict[str, JSON] = {}
        for charger in changed:
            found += await self._events_of(charger, index, owners.get(charger.id, []), since, values)
        if cut_after is None:
            # The next poll starts where this sweep started: what changed meanwhile below the IDs
            # already read is seen then (seen twice is harmless: the known states tell).
            values[LAST_POLL_KEY] = started_at.isoformat()
            values[SWEEP_KEY] = None
        else:
            values[SWEEP_KEY] = {"since": since.isoformat(), "started_at": started_at.isoformat(), "after": cut_after}
        # One transaction: told, queued, known states and the poll's time, or none of them.
        new = await self.storage.record_notices(
            [item.notice for item in found], queue_key=QUEUE_KEY, values=values, now=polled_at
        )
        if await self._prune_due(polled_at):
            await prune_known(self.storage, index, now=polled_at)
        events: dict[int, list[WatchEvent]] = {}
        alerts: dict[int, list[ChargerEvent]] = {}
        for item, is_new in zip(found, new, strict=True):
            if not is_new:
                continue
            if item.alert:
                alerts.setdefault(item.notice.chat_id, []).extend(item.events)
            else:
                events.setdefault(item.notice.chat_id, []).extend(item.watch_events)
        return PollResult(since, polled_at, requests, len(changed), events, alerts)

    async def _prune_due(self, now: datetime) -> bool:
        stored = await self.storage.get_value(PRUNED_KEY)
        try:
            last = datetime.fromisoformat(stored) if isinstance(stored, str) else None
        except ValueError:
            last = None
        if last is not None and now - last < PRUNE_EVERY:
            return False
        await self.storage.set_value(PRUNED_KEY, now.isoformat())
        return last is not None  # the first poll only starts the clock

    async def release(self) -> None:
        """Let another instance poll at once (at shutdown), instead of after the lease runs out."""
        await self.storage.release_lease(LEASE_NAME, self.instance_id)

    async def last_poll(self) -> datetime | None:
        stored = await self.storage.get_value(LAST_POLL_KEY)
        try:
            return datetime.fromisoformat(stored) if isinstance(stored, str) else None
        except ValueError:
            return None

    async def _sweep(self) -> tuple[datetime, datetime, int] | None:
        stored = await self.storage.get_value(SWEEP_KEY)
        try:
            since = datetime.fromisoformat(stored["since"])
            return since, datetime.fromisoformat(stored["started_at"]), int(stored["after"])
        except (KeyError, TypeError, ValueError):
            return None

    async def _changes(self, since: datetime, after: int) -> tuple[list[Charger], int, int | None]:
        """Chargers modified since ``since`` above ID ``after``: pages in ID order while an answer is full.

        Also the number of requests, and the highest ID read if ``max_pages`` cut the sweep (else None).
        """
        found: dict[int, Charger] = {}
        for page_number in range(1, self.max_pages + 1):
            page = await self.source.modified_since(
                since, maxresults=self.page_size, after_id=after, include_comments=True
            )
            for charger in page:
                found[charger.id] = charger
            if returned_count(page) < self.page_size or not page:
                return list(found.values()), page_number, None
            after = max(after, max(charger.id for charger in page))
        log.warning("watch poll stopped after %d pages of changes; the next poll goes on", self.max_pages)
        return list(found.values()), self.max_pages, after

    async def _events_of(
        self, charger: Charger, index: WatchIndex, owners: list[int], since: datetime, values: dict[str, JSON]
    ) -> list[_Found]:
        """What to tell whom of ``charger`` (to queue), its new known state put in ``values``."""
        address = charger.address
        around = list(index.around(address.latitude, address.longitude))
        if not around and not owners:
            return []  # nobody watches here: nothing to remember either
        key = KNOWN_KEY.format(charger.id)
        known = KnownCharger.from_data(await self.storage.get_value(key))
        per_chat: dict[int, list[WatchEvent]] = {}
        classified = classify(known, charger, since=since)
        for event in classified:
            told: set[int] = set()
            for watch in around:
                if watch.chat_id not in told and watch.wants(event.kind) and watch.filters.accepts(charger):
                    told.add(watch.chat_id)
                    per_chat.setdefault(watch.chat_id, []).append(WatchEvent(watch, event))
        found: list[_Found] = []
        wanted = [event for event in classified if event.kind in ALERT_KINDS]
        for user_id in dict.fromkeys(owners) if wanted else ():
            if await alerts_on(self.storage, user_id):
                # The owner's private chat id is the user id; its log entry is this charger's alert.
                fingerprint = "alert|" + "|".join(event.fingerprint for event in wanted)
                entries = tuple(Announcement.of(event, alert=True).to_data() for event in wanted)
                found.append(_Found(Notice(user_id, charger.id, fingerprint, entries), alert=True, events=wanted))
        for chat_id, chat_events in per_chat.items():
            # The log keeps one fingerprint per chat and charger: this poll's events for it, together.
            fingerprint = "|".join(e.event.fingerprint for e in chat_events)
            entries = tuple(Announcement.of(e.event, watch_id=e.watch.id).to_data() for e in chat_events)
            found.append(_Found(Notice(chat_id, charger.id, fingerprint, entries), watch_events=chat_events))
        values[key] = KnownCharger.of(charger).to_data()
        return found


async def prune_known(storage: WatchStorage, index: WatchIndex, *, now: datetime) -> int:
    """Forget the known states of chargers no watch covers and nobody keeps as a favourite; how many.

    Why this never makes a false "new" event: a state is only read for a charger some watch covers
    or some driver keeps (for any other the poll stops before reading it), and only those states
    are kept. A charger that is covered again later (a new watch, a new favourite) without a state
    is NEW only if OCM created it since the last poll (:func:`classify`) - an old charger is never
    new - and starring a charger records its state at once. What a pruned charger loses is only a
    status change it went through while nobody watched it, exactly as for a charger inside a watch
    created today. States kept before positions were are left alone (the next change rewrites them).
    The notification log forgets entries older than :data:`NOTIFIED_KEPT` (a poll looks back
    minutes). States written while this runs are never deleted (``unchanged_since``).
    """
    prefix = KNOWN_KEY.format("")
    started = utc_now()  # the storage's stamps are wall-clock times
    pruned = 0
    after = ""
    while batch := await storage.values_with_prefix(prefix, after=after, limit=PRUNE_BATCH):
        after = batch[-1][0]
        uncovered: dict[int, str] = {}
        for key, value in batch:
            known = KnownCharger.from_data(value)
            try:
                charger_id = int(key[len(prefix) :])
            except ValueError:
                continue
            if known is None or known.position is None:
                continue
            if not any(True for _ in index.around(*known.position)):
                uncovered[charger_id] = key
        if uncovered:
            kept = await storage.favourite_owners(list(uncovered))
            gone = [key for charger_id, key in uncovered.items() if charger_id not in kept]
            pruned += await storage.delete_values(gone, unchanged_since=started)
    await storage.prune_notified(now - NOTIFIED_KEPT)
    if pruned:
        log.info("forgot the known state of %d chargers no watch or favourite covers", pruned)
    return pruned


@dataclass(frozen=True, slots=True)
class _Found:
    """A notice to record, with the events it stands for (a chat's watch events, or a favourite's alert)."""

    notice: Notice
    alert: bool = False
    events: list[ChargerEvent] = field(default_factory=list)
    watch_events: list[WatchEvent] = field(default_factory=list)
