"""Hot reload: the current index of a dump, replaced by a new one when the dump's files change.

The files are checked at most every ``reload_interval`` seconds (when a query comes), in a thread;
a new index is read in a thread too and swapped in with one assignment, so a query sees either the
old index or the new one, never half of each, and queries meanwhile use the previous index. Write
new dumps to a temporary name and rename them over the old one, so a reload never reads half a
file; a reload that fails keeps the previous data and is retried at the next check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from ocm_bot.ocm.errors import OcmError
from ocm_bot.ocm.local.index import Index
from ocm_bot.ocm.local.loader import dump_signature, read_index

Clock = Callable[[], float]

log = logging.getLogger(__package__)  # the package's name, as when the local source was one module


class Reloader:
    """Holds the current :class:`~ocm_bot.ocm.local.index.Index` of the dump at ``path`` and reloads it.

    Example::

        data = Reloader(index, Path("poi.jsonl"), None, reload_interval=30, clock=time.monotonic)
        data.check()                      # before a query: starts a reload when one is due
        answer = query(data.index)        # read the index once per query
        await data.reload_if_changed()    # or reload now (True when new data was swapped in)
    """

    def __init__(
        self, index: Index, path: Path | None, reference_path: Path | None, reload_interval: float | None, clock: Clock
    ) -> None:
        """``path`` None: data from memory, never reloaded; ``reload_interval`` None: reloaded only when asked."""
        self.index = index
        self.path = path
        self.reference_path = reference_path
        self.reload_interval = reload_interval
        self._clock = clock
        self._last_check = clock()
        self._reload_task: asyncio.Task[bool] | None = None
        self.reloads = 0

    def check(self) -> None:
        """Start a reload in the background when the last check is ``reload_interval`` old."""
        if self.path is None or self.reload_interval is None:
            return
        if self._clock() - self._last_check < self.reload_interval:
            return
        if self._reload_task is not None and not self._reload_task.done():
            return
        self._last_check = self._clock()
        self._reload_task = asyncio.ensure_future(self._reload(False))

    async def reload_if_changed(self, *, force: bool = False) -> bool:
        """Reload now if the files changed (or ``force``); True when new data was swapped in."""
        if self.path is None:
            return False
        self._last_check = self._clock()
        if self._reload_task is not None and not self._reload_task.done():
            return await asyncio.shield(self._reload_task)
        self._reload_task = asyncio.ensure_future(self._reload(force))
        return await asyncio.shield(self._reload_task)

    async def _reload(self, force: bool) -> bool:
        path, ref_path, old = self.path, self.reference_path, self.index
        assert path is not None
        try:
            if not force and await asyncio.to_thread(dump_signature, path, ref_path) == old.signature:
                return False
            index = await asyncio.to_thread(read_index, path, ref_path, old.cell_degrees)
            index.cache_size = old.cache_size
        except (OcmError, OSError) as error:
            log.warning("local OCM data: keeping the loaded data, the new data cannot be read: %s", error)
            return False
        self.index = index  # one assignment: queries see either the old index or the new one
        old.close()  # a query runs without awaiting, so none is still reading the old index
        self.reloads += 1
        log.info("local OCM data reloaded: %d chargers from %s", len(index.entries), path)
        return True

    async def aclose(self) -> None:
        """Stop a reload in progress and close the dump's files."""
        task, self._reload_task = self._reload_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.index.close()
