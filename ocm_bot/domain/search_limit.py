"""A per-driver limit on new searches: at most N in any minute (``SEARCH_RATE_LIMIT``, default 20).

One person (or a script with their account) typing places as fast as Telegram lets them would
spend the whole bot's share of OCM and Nominatim; a driver never needs more than a few searches a
minute. Counted per instance in memory: behind a balancer each instance lets a driver through N
times, which still bounds the load.

Example::

    limit = SearchRateLimit(per_minute=20, clock=time.monotonic)
    wait = limit.check(driver_id)   # None: go ahead (counted); else seconds until the next one is allowed
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0


class SearchRateLimit:
    """A sliding one-minute window of each driver's searches; ``per_minute=0`` lets everything through."""

    def __init__(self, per_minute: int, clock: Callable[[], float]) -> None:
        self._per_minute = per_minute
        self._clock = clock
        self._recent: dict[int, deque[float]] = {}

    def check(self, person: int | None) -> float | None:
        """None when ``person`` may search now (the search is counted); else the seconds to wait."""
        if self._per_minute <= 0 or person is None:
            return None
        now = self._clock()
        recent = self._recent.setdefault(person, deque())
        while recent and recent[0] <= now - WINDOW_SECONDS:
            recent.popleft()
        if len(recent) >= self._per_minute:
            return recent[0] + WINDOW_SECONDS - now
        recent.append(now)
        if len(self._recent) > 10_000:  # forget drivers whose window has passed
            self._recent = {p: q for p, q in self._recent.items() if q and q[-1] > now - WINDOW_SECONDS}
        return None
