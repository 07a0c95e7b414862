"""A :class:`~ocm_bot.ocm.source.ChargerSource` over a local copy of Open Charge Map's data.

OCM asks heavy users to host their own copy rather than query the API hard; ``OCM_DATA_FILE``
selects this source instead of the API client. It reads:

- a JSON array of POIs (what ``GET /poi`` answers), streamed element by element;
- JSON lines, one POI per line;
- a directory of such files, searched recursively. This is the layout of OCM's public export
  (https://github.com/openchargemap/ocm-export): ``data/referencedata.json`` and one
  ``data/<ISO country>/OCM-<id>.json`` file per POI, each holding one POI object from
  ``/poi?compact=true&verbose=false&includecomments=true``.

Any of them may be gzip-compressed (``.gz``); a JSON object may also be a ``{"data": [...]}``
wrapper or a GeoJSON FeatureCollection whose features' properties are POIs (placed at their Point
geometry). Reading is lenient and says what it did: a byte-order mark is ignored, bytes that are not
UTF-8 are read as Latin-1, and a line, a file or the rest of a file cut short that cannot be read is
skipped with a warning naming the file and line; a dump that yields no charger is an error naming
it. Reference data comes from a ``referencedata.json`` next to the file (inside the directory for
a directory), else from the copy bundled with the bot (with a warning: names may be missing).
POIs are turned into :class:`~ocm_bot.ocm.models.Charger` objects by the API client's parser
(:func:`ocm_bot.ocm.parse.parse_poi`), so both sources give equal objects.

Queries follow OCM's own semantics (read from openchargemap/ocm-system, ``CacheProviderMongoDB``):
with a point, the nearest chargers within ``distance`` (50 km when not given), nearest first;
``boundingbox``, ``polygon`` and ``polyline`` (buffered by ``distance``, 5 km when not given)
replace the point; otherwise ``sortby`` orders the results, highest ID first by default;
``maxresults`` defaults to 100. Removed chargers (status 200/210) and unpublished submissions are
never returned. Connection filters (type, level, power) each need *some* connection to match.
Unknown ``countrycode`` values match nothing (OCM ignores them).

How it stays fast without numpy: a POI is indexed from a few fields read straight from its JSON
(ID, coordinates, reference IDs, dates, connections) and parsed into a ``Charger`` when a query
returns it (the most recently returned stay parsed), so a world-sized dump loads in seconds and
takes a few hundred MB; big dumps are read by several processes. For JSON lines and one-POI
files the index remembers where each POI is in the file (its JSON is read again when needed, from
the same file even after it was replaced, through an open descriptor); for arrays and gzip files
it keeps the JSON text itself. Points sit
in a grid of ``cell_degrees`` cells; a nearest query walks rings of cells outwards and stops when
no unvisited cell can hold anything nearer than what it has (a bound from the haversine formula).

The data is reloaded when the file changes (checked at most every ``reload_interval`` seconds,
in a thread, swapped in atomically; queries meanwhile use the previous index). Write new dumps
to a temporary name and rename them over the old one, so a reload never reads half a file; a
reload that fails keeps the previous data and is retried at the next check.

Check-ins are not part of this source: they still go to the OCM API (``OCM_API_URL``) or to the
outbox when it is unreachable.

Example::

    source = await LocalSource.open(Path("ocm-export/data"))
    chargers = await source.search(PoiQuery(latitude=51.52, longitude=-0.03, distance=2, maxresults=20))
    await source.aclose()
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from ocm_bot.ocm.errors import OcmError
from ocm_bot.ocm.local.filters import select
from ocm_bot.ocm.local.index import Index, build_index
from ocm_bot.ocm.local.loader import (
    BUNDLED_DATA_DIR,
    REFERENCE_FILE_NAME,
    dump_signature,
    read_index,
    reference_path_for,
)
from ocm_bot.ocm.local.readers import LocalDataError
from ocm_bot.ocm.local.rows import (
    Entry,
)
from ocm_bot.ocm.models import Charger
from ocm_bot.ocm.query import PoiQuery, SortBy
from ocm_bot.ocm.reference import ReferenceData

__all__ = ["LocalDataError", "LocalSource"]

log = logging.getLogger(__name__)


# The source --------------------------------------------------------------------------------------


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
        self._index = index
        self.path = path
        self.reference_path = reference_path
        self.reload_interval = reload_interval
        self._clock = clock
        self._last_check = clock()
        self._reload_task: asyncio.Task[bool] | None = None
        self.reloads = 0

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
        self._check_for_changes()
        index = self._index
        entries = select(index, query)
        return self._chargers(index, entries, include_comments=query.includecomments)

    async def get_chargers(self, ids: list[int], *, include_comments: bool = False) -> list[Charger]:
        """Chargers by OCM ID, in the order asked; unknown and removed IDs are left out."""
        self._check_for_changes()
        index = self._index
        seen: set[int] = set()
        entries = []
        for charger_id in ids:
            entry = index.by_id.get(charger_id)
            if entry is not None and charger_id not in seen and entry.is_listed:
                seen.add(charger_id)
                entries.append(entry)
        return self._chargers(index, entries, include_comments=include_comments)

    async def reference_data(self) -> ReferenceData:
        return self._index.reference

    async def modified_since(
        self,
        since: datetime,
        *,
        bbox: tuple[tuple[float, float], tuple[float, float]] | None = None,
        maxresults: int | None = None,
    ) -> list[Charger]:
        """Chargers added or changed since ``since``, oldest change first (as ``OcmClient.modified_since``)."""
        query = PoiQuery(
            modifiedsince=since, boundingbox=bbox, maxresults=maxresults or 200, sortby=SortBy.MODIFIED_ASC
        )
        return await self.search(query)

    # Reloading -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._index.entries)

    @property
    def skipped(self) -> int:
        """POIs of the current data that had no ID or no usable coordinates."""
        return self._index.skipped

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
        path, ref_path, old = self.path, self.reference_path, self._index
        assert path is not None
        try:
            if not force and await asyncio.to_thread(dump_signature, path, ref_path) == old.signature:
                return False
            index = await asyncio.to_thread(read_index, path, ref_path, old.cell_degrees)
            index.cache_size = old.cache_size
        except (OcmError, OSError) as error:
            log.warning("local OCM data: keeping the loaded data, the new data cannot be read: %s", error)
            return False
        self._index = index  # one assignment: queries see either the old index or the new one
        old.close()  # a query runs without awaiting, so none is still reading the old index
        self.reloads += 1
        log.info("local OCM data reloaded: %d chargers from %s", len(index.entries), path)
        return True

    def _check_for_changes(self) -> None:
        if self.path is None or self.reload_interval is None:
            return
        if self._clock() - self._last_check < self.reload_interval:
            return
        if self._reload_task is not None and not self._reload_task.done():
            return
        self._last_check = self._clock()
        self._reload_task = asyncio.ensure_future(self._reload(False))

    async def aclose(self) -> None:
        """Stop a reload in progress and close the dump's files (call on shutdown)."""
        task, self._reload_task = self._reload_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._index.close()

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
