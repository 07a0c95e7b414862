"""Single-flight: concurrent callers asking for the same thing share one request.

Used by the OCM client (searches, lookups by ID, reference data) and by the geocoder (the same
text from two drivers at once). A caller giving up does not cancel the request for the others;
the last one giving up does, so that httpx closes its connection and a server hanging on it holds
no slot of the pool once it answers again (ocm-system#260).

Example::

    flights = SingleFlight()
    places = await flights.run(("nominatim", text), lambda: lookup(text))
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class SingleFlight:
    """In-flight requests by key, each awaited by every caller that asked for it meanwhile."""

    def __init__(self) -> None:
        self._in_flight: dict[Hashable, asyncio.Future[Any]] = {}
        self._waiters: dict[asyncio.Future[Any], int] = {}  # callers awaiting each shared request

    async def run(self, key: Hashable, call: Callable[[], Awaitable[T]]) -> T:
        """Run ``call`` once for all concurrent callers with the same ``key``."""
        return await self.wait_for(self.shared(key, call))

    def in_flight(self, key: Hashable) -> asyncio.Future[Any] | None:
        """The request running for ``key``, if any."""
        return self._in_flight.get(key)

    def shared(self, key: Hashable, call: Callable[[], Awaitable[T]]) -> asyncio.Future[T]:
        """The in-flight future for ``key``, started now if there is none.

        Callers await it through :meth:`wait_for`, so one caller giving up does not cancel
        the request for the others; the last one giving up does.
        """
        future = self._in_flight.get(key)
        if future is None:
            future = asyncio.ensure_future(call())
            self._in_flight[key] = future
            self._waiters[future] = 0
            future.add_done_callback(lambda _: self._in_flight.pop(key, None))
            future.add_done_callback(lambda f: self._waiters.pop(f, None))
            # Retrieve the outcome even when every waiter has gone, so asyncio logs nothing.
            future.add_done_callback(lambda f: f.cancelled() or f.exception())
        return future

    async def wait_for(self, future: asyncio.Future[T]) -> T:
        """Await a shared request; when every caller has given up (a driver's deadline passed),
        cancel it."""
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
