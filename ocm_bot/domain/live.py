"""When a live location may refresh its results message.

A driver sharing a live location gets one results message; as they move, that message is edited
— at most once every :data:`MIN_INTERVAL` seconds and only after moving more than
:data:`MIN_MOVE_KM` — so standing still or crawling in traffic costs neither messages nor OCM
calls. Sharing ends when Telegram's ``live_period`` runs out or an edit arrives without one.

Example::

    tracker = LiveTracker()
    tracker.start((chat_id, message_id), point, results_message_id=99, live_period=900)
    decision = tracker.on_move((chat_id, message_id), new_point, live=True)
    if decision.update:
        edit(decision.session.results_message_id, ...)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from cachetools import TTLCache

from ocm_bot.domain.geo import GeoPoint, haversine_km

MIN_INTERVAL = 60.0
MIN_MOVE_KM = 1.0
MAX_TRACKED_SECONDS = 24 * 3600.0  # "until I stop sharing" is tracked for a day at most
INDEFINITE_LIVE_PERIOD = 0x7FFFFFFF  # Bot API: a live location shared "indefinitely"


@dataclass(slots=True)
class LiveSession:
    results_message_id: int
    point: GeoPoint
    updated_at: float
    expires_at: float
    search_id: str | None = None


@dataclass(frozen=True, slots=True)
class LiveDecision:
    update: bool
    session: LiveSession | None
    reason: str  # "update", "too_soon", "too_close", "stopped", "unknown"


class LiveTracker:
    """Live-location sessions in memory, keyed by (chat id, the driver's location message id)."""

    def __init__(
        self,
        *,
        min_interval: float = MIN_INTERVAL,
        min_move_km: float = MIN_MOVE_KM,
        max_sessions: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._min_interval = min_interval
        self._min_move_km = min_move_km
        self._clock = clock
        self._sessions: TTLCache[Hashable, LiveSession] = TTLCache(max_sessions, MAX_TRACKED_SECONDS, timer=clock)

    def start(
        self,
        key: Hashable,
        point: GeoPoint,
        *,
        results_message_id: int,
        live_period: int | None,
        search_id: str | None = None,
    ) -> None:
        """Track a live location whose first results went out as ``results_message_id``."""
        now = self._clock()
        period = float(live_period or 0)
        if not period or live_period == INDEFINITE_LIVE_PERIOD:
            period = MAX_TRACKED_SECONDS
        self._sessions[key] = LiveSession(
            results_message_id, point, now, now + min(period, MAX_TRACKED_SECONDS), search_id
        )

    def on_move(self, key: Hashable, point: GeoPoint, *, live: bool) -> LiveDecision:
        """Whether this position update should refresh the results (claims the update if so)."""
        session = self._sessions.get(key)
        if session is None:
            return LiveDecision(False, None, "unknown")
        now = self._clock()
        if not live or now >= session.expires_at:
            self._sessions.pop(key, None)
            return LiveDecision(False, session, "stopped")
        if now - session.updated_at < self._min_interval:
            return LiveDecision(False, session, "too_soon")
        if haversine_km(session.point, point) <= self._min_move_km:
            return LiveDecision(False, session, "too_close")
        session.point, session.updated_at = point, now
        return LiveDecision(True, session, "update")

    def stop(self, key: Hashable) -> None:
        self._sessions.pop(key, None)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._sessions
