"""When a live location may refresh its results message.

A driver sharing a live location gets one results message; as they move, that message is edited
— at most once every :data:`MIN_INTERVAL` seconds and only after moving more than
:data:`MIN_MOVE_KM` — so standing still or crawling in traffic costs neither messages nor OCM
calls. Sharing ends when Telegram's ``live_period`` runs out or an edit arrives without one.

Example::

    tracker = LiveTracker()              # or LiveTracker(clock=time.time, state=storage): every instance
    await tracker.start((chat_id, message_id), point, results_message_id=99, live_period=900)
    decision = await tracker.on_move((chat_id, message_id), new_point, live=True)
    if decision.update:
        edit(decision.session.results_message_id, ...)
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass

from ocm_bot.domain.geo import GeoPoint, haversine_km
from ocm_bot.domain.results import MemoryShortLived, ShortLivedState

MIN_INTERVAL = 60.0
MIN_MOVE_KM = 1.0
MAX_TRACKED_SECONDS = 24 * 3600.0  # "until I stop sharing" is tracked for a day at most
INDEFINITE_LIVE_PERIOD = 0x7FFFFFFF  # Bot API: a live location shared "indefinitely"
_KEPT_AFTER_END = 600.0
KIND = "live"
"""The kind of the storage rows holding live-location sessions."""


@dataclass(slots=True)
class LiveSession:
    results_message_id: int
    point: GeoPoint
    updated_at: float
    expires_at: float
    search_id: str | None = None
    owner: int | None = None


class LiveReason(enum.StrEnum):
    """Why a position update does (or does not) refresh the results."""

    UPDATE = "update"  # far enough, late enough: refresh
    TOO_SOON = "too_soon"  # less than a minute since the last refresh
    TOO_CLOSE = "too_close"  # moved less than MIN_MOVE_KM
    STOPPED = "stopped"  # the sharing ended (or its period ran out)
    UNKNOWN = "unknown"  # no session for this message


@dataclass(frozen=True, slots=True)
class LiveDecision:
    update: bool
    session: LiveSession | None
    reason: LiveReason


class LiveTracker:
    """Live-location sessions keyed by (chat id, the driver's location message id).

    Sessions are kept in a :class:`~ocm_bot.domain.results.ShortLivedState`: this process's memory
    by default, storage when several instances share a database (then ``clock`` must be the wall
    clock, the same for every instance), so a position update reaching any instance edits the
    results message the first one sent. Two updates of one live location handled at the same moment
    by two instances may both refresh (an edit more, never a wrong one).
    """

    def __init__(
        self,
        *,
        min_interval: float = MIN_INTERVAL,
        min_move_km: float = MIN_MOVE_KM,
        max_sessions: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        state: ShortLivedState | None = None,
    ) -> None:
        self._min_interval = min_interval
        self._min_move_km = min_move_km
        self._clock = clock
        self._state = state or MemoryShortLived(max_entries=max_sessions, clock=clock)

    async def start(
        self,
        key: tuple[int, int],
        point: GeoPoint,
        *,
        results_message_id: int,
        live_period: int | None,
        search_id: str | None = None,
        owner: int | None = None,
    ) -> None:
        """Track a live location whose first results went out as ``results_message_id``.

        ``owner``: the driver's user id (their live location is deleted by /forget)."""
        now = self._clock()
        period = float(live_period or 0)
        if not period or live_period == INDEFINITE_LIVE_PERIOD:
            period = MAX_TRACKED_SECONDS
        await self._save(
            key,
            LiveSession(results_message_id, point, now, now + min(period, MAX_TRACKED_SECONDS), search_id, owner),
        )

    async def on_move(self, key: tuple[int, int], point: GeoPoint, *, live: bool) -> LiveDecision:
        """Whether this position update should refresh the results (claims the update if so)."""
        session = await self.session(key)
        if session is None:
            return LiveDecision(False, None, LiveReason.UNKNOWN)
        now = self._clock()
        if not live or now >= session.expires_at:
            await self.stop(key)
            return LiveDecision(False, session, LiveReason.STOPPED)
        if now - session.updated_at < self._min_interval:
            return LiveDecision(False, session, LiveReason.TOO_SOON)
        if haversine_km(session.point, point) <= self._min_move_km:
            return LiveDecision(False, session, LiveReason.TOO_CLOSE)
        session.point, session.updated_at = point, now
        await self._save(key, session)
        return LiveDecision(True, session, LiveReason.UPDATE)

    async def stop(self, key: tuple[int, int]) -> None:
        await self._state.delete_short_lived(KIND, _key(key))

    async def session(self, key: tuple[int, int]) -> LiveSession | None:
        """The session of a live location (None if it is not followed)."""
        data = await self._state.get_short_lived(KIND, _key(key))
        if not isinstance(data, dict):
            return None
        return LiveSession(
            data["results_message_id"],
            GeoPoint(data["lat"], data["lon"]),
            data["updated_at"],
            data["expires_at"],
            data["search_id"],
            data.get("owner"),
        )

    async def _save(self, key: tuple[int, int], session: LiveSession) -> None:
        data = {
            "results_message_id": session.results_message_id,
            "lat": session.point.latitude,
            "lon": session.point.longitude,
            "updated_at": session.updated_at,
            "expires_at": session.expires_at,
            "search_id": session.search_id,
            "owner": session.owner,
        }
        # Kept a while after sharing ends, so that a late position reads as "stopped", not "unknown".
        ttl = max(0.0, session.expires_at - self._clock()) + _KEPT_AFTER_END
        await self._state.put_short_lived(KIND, _key(key), data, ttl, user_id=session.owner)


def _key(key: tuple[int, int]) -> str:
    chat_id, message_id = key
    return f"{chat_id}:{message_id}"
