"""The source façade: :class:`LocalSource`, the :class:`~ocm_bot.ocm.source.ChargerSource` over a local dump.

It answers the same calls as the API client (``search``, ``get_chargers``, ``reference_data``,
``modified_since``) from an :class:`.index.Index`, read by the :mod:`.loader`, filtered by
:mod:`.filters`, kept current by :mod:`.reload`. Chargers are parsed by the API client's parser
(:func:`ocm_bot.ocm.parse.parse_poi`), so both sources give equal objects.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from ocm_bot.ocm.local.filters import select
from ocm_bot.ocm.local.index import Index, build_index
from ocm_bot.ocm.local.loader import BUNDLED_DATA_DIR, REFERENCE_FILE_NAME, read_index, reference_path_for
from ocm_bot.ocm.local.reload import Reloader
from ocm_bot.ocm.local.rows import Entry
from ocm_bot.ocm.models import Charger
from ocm_bot.ocm.query import PoiQuery, SortBy
from ocm_bot.ocm.reference import ReferenceData

log = logging.getLogger(__package__)  # the package's name, as when the local source was one module


class LocalSource:
    """Chargers from a local OCM dump, answering :class:`PoiQuery` like the API does.

    Example::

        source = LocalSource.load(Path("poi.jsonl"))          # or: await LocalSource.open(...)
        await source.search(PoiQuery(latitude=45.51, longitude=-122.68, distance=5))
        await source.get_chargers([3428, 79829])
    """

    def __init__(
        self,
        index: Index,
        *,
        path: Path | None = None,
        reference_path: Path | None = None,
        reload_interval: float | None = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._data = Reloader(index, path, reference_path, reload_interval, clock)

    # Construction --------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        path: Path | str,
        *,
        reference_path: Path | str | None = None,
        reload_interval: float | None = 30.0,
        cell_degrees: float = 0.1,
        workers: int | None = None,
        parsed_cache: int = 20_000,
    ) -> LocalSource:
        """Read a dump now (blocking). Raises :class:`LocalDataError` when it cannot be read.

        Dumps of 64 MB and more are read by ``workers`` processes (default: one per CPU, at most 8).
        The last ``parsed_cache`` chargers returned stay parsed; the others are parsed again when
        a query returns them (a world-sized dump, fully parsed, would take about 1 GB more).
        """
        path = Path(path)
        ref_path = Path(reference_path) if reference_path else reference_path_for(path)
        index = read_index(path, ref_path, cell_degrees, workers)
        if ref_path is None:
            log.warning(
                "local OCM data: no %s %s %s, so the copy bundled with the bot names operators, connector "
                "types and countries; names OCM added since may be missing. Put OCM's reference data "
                "(GET /referencedata) there to fix this",
                REFERENCE_FILE_NAME,
                "inside" if path.is_dir() else "next to",
                path,
            )
        index.cache_size = parsed_cache
        log.info("local OCM data: %d chargers from %s", len(index.entries), path)
        return cls(index, path=path, reference_path=ref_path, reload_interval=reload_interval)

    @classmethod
    async def open(
        cls,
        path: Path | str,
        *,
        reference_path: Path | str | None = None,
        reload_interval: float | None = 30.0,
        cell_degrees: float = 0.1,
        workers: int | None = None,
        parsed_cache: int = 20_000,
    ) -> LocalSource:
        """:meth:`load` in a worker thread, so the event loop keeps running meanwhile."""
        return await asyncio.to_thread(
            cls.load,
            path,
            reference_path=reference_path,
            reload_interval=reload_interval,
            cell_degrees=cell_degrees,
            workers=workers,
            parsed_cache=parsed_cache,
        )

    @classmethod
    def bundled(cls) -> LocalSource:
        """The real OCM records shipped with the bot for the offline demo (see ``ocm_bot/data``)."""
        return cls.load(BUNDLED_DATA_DIR, reload_interval=None)

    @classmethod
    def from_pois(
        cls, pois: Iterable[Mapping[str, Any]], reference: ReferenceData, *, cell_degrees: float = 0.1
    ) -> LocalSource:
        """A source over POI objects already in memory (no file, no reloading)."""
        index = build_index(((poi, None, None) for poi in pois), reference, cell_degrees=cell_degrees)
        return cls(index, reload_interval=None)

    # ChargerSource --------------------------------------------------------------------------

    async def search(self, query: PoiQuery) -> list[Charger]:
        """Chargers matching ``query``: nearest first with a point, else in ``sortby`` order."""
        self._data.check()
        index = self._data.index
        entries = select(index, query)
        return self._chargers(index, entries, include_comments=query.includecomments)

    async def get_chargers(self, ids: list[int], *, include_comments: bool = False) -> list[Charger]:
        """Chargers by OCM ID, in the order asked; unknown and removed IDs are left out."""
        self._data.check()
        index = self._data.index
        seen: set[int] = set()
        entries = []
        for charger_id in ids:
            entry = index.by_id.get(charger_id)
            if entry is not None and charger_id not in seen and entry.is_listed:
                seen.add(charger_id)
                entries.append(entry)
        return self._chargers(index, entries, include_comments=include_comments)

    async def reference_data(self) -> ReferenceData:
        return self._data.index.reference

    async def modified_since(
        self,
        since: datetime,
        *,
        bbox: tuple[tuple[float, float], tuple[float, float]] | None = None,
        maxresults: int | None = None,
        after_id: int | None = None,
        include_comments: bool = False,
    ) -> list[Charger]:
        """Chargers added or changed since ``since``, oldest change first (as ``OcmClient.modified_since``,
        paged in ID order above ``after_id`` when it is given)."""
        query = PoiQuery(
            modifiedsince=since,
            boundingbox=bbox,
            maxresults=maxresults or 200,
            sortby=SortBy.MODIFIED_ASC if after_id is None else SortBy.ID_ASC,
            greaterthanid=after_id,
            includecomments=include_comments,
        )
        return await self.search(query)

    # The data and its reloading -------------------------------------------------------------

    @property
    def index(self) -> Index:
        """The current snapshot of the data (each reload replaces it)."""
        return self._data.index

    @property
    def path(self) -> Path | None:
        return self._data.path

    @property
    def reference_path(self) -> Path | None:
        return self._data.reference_path

    @property
    def reload_interval(self) -> float | None:
        return self._data.reload_interval

    @property
    def reloads(self) -> int:
        """How many times new data was swapped in."""
        return self._data.reloads

    def __len__(self) -> int:
        return len(self._data.index.entries)

    @property
    def skipped(self) -> int:
        """POIs of the current data that had no ID or no usable coordinates."""
        return self._data.index.skipped

    async def reload_if_changed(self, *, force: bool = False) -> bool:
        """Reload now if the files changed (or ``force``); True when new data was swapped in."""
        return await self._data.reload_if_changed(force=force)

    async def aclose(self) -> None:
        """Stop a reload in progress and close the dump's files (call on shutdown)."""
        await self._data.aclose()

    @staticmethod
    def _chargers(index: Index, entries: list[Entry], *, include_comments: bool) -> list[Charger]:
        chargers = []
        for entry in entries:
            charger = index.charger(entry)
            if charger is None:
                continue
            if not include_comments and (charger.comments or charger.media_items):
                charger = dataclasses.replace(charger, comments=(), media_items=())
            chargers.append(charger)
        return chargers
