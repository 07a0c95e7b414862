"""Run-time plumbing for the application: per-chat update ordering and storage opened once.

Both exist because of how python-telegram-bot starts: persistence is loaded in ``initialize()``,
before ``post_init`` opens the services, and concurrent updates are processed in any order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from ocm_bot.storage.base import Storage


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Processes updates concurrently across chats but in order within one chat.

    A slow OCM answer for one driver must not hold up everybody else, while two taps of the same
    driver must not race through a conversation.
    """

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _ordering_key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def _ordering_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class DeferredStorage:
    """A storage opened on first use, shared by the persistence and the services.

    Attribute access returns async callables that open the storage first, so it can stand in
    for a :class:`Storage` before the event loop that will own the connections runs.
    """

    def __init__(self, opener: Callable[[], Awaitable[Storage]]) -> None:
        self._opener = opener
        self._storage: Storage | None = None
        self._lock: asyncio.Lock | None = None

    async def get(self) -> Storage:
        if self._storage is None:
            self._lock = self._lock or asyncio.Lock()
            async with self._lock:
                if self._storage is None:
                    self._storage = await self._opener()
        return self._storage

    async def close(self) -> None:
        if self._storage is not None:
            await self._storage.close()
            self._storage = None

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            storage = await self.get()
            return await getattr(storage, name)(*args, **kwargs)

        return call
