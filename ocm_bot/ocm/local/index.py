"""The index: an immutable snapshot of a dump's chargers, by ID, by place, by date and by country.

A POI is indexed from its :mod:`.rows` fields and parsed into a :class:`~ocm_bot.ocm.models.Charger`
when a query returns it (the most recently returned stay parsed), so a world-sized dump loads in
seconds and takes a few hundred MB. For JSON lines and one-POI files the index remembers where each
POI is in the file (its JSON is read again when needed, from the same file even after it was
replaced, through an open descriptor); for arrays and gzip files it keeps the JSON text itself.
A reload builds a new index and swaps it in (see :mod:`.reload`).
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocm_bot.ocm.local.grid import Grid
from ocm_bot.ocm.local.problems import Problems
from ocm_bot.ocm.local.readers import Found, PoiLocation
from ocm_bot.ocm.local.rows import Entry, Where, entry_from
from ocm_bot.ocm.models import Charger
from ocm_bot.ocm.parse import parse_poi
from ocm_bot.ocm.reference import ReferenceData

log = logging.getLogger(__package__)  # the package's name, as when the local source was one module


class DumpFiles:
    """The files an index points into, each held open so a replaced file still reads as it was indexed.

    One-POI files (OCM's export has hundreds of thousands) are not held open: they are read by
    path, and a POI whose file has changed since is noticed by its ID.
    """

    def __init__(self) -> None:
        self.paths: list[str] = []
        self._numbers: dict[str, int] = {}
        self._descriptors: dict[int, int] = {}
        self._finalizer = weakref.finalize(self, _close_descriptors, self._descriptors)

    def where(self, found: PoiLocation) -> Where:
        if isinstance(found, bytes):
            return found
        path, offset, length = found
        number = self._numbers.get(path)
        if number is None:
            number = self._numbers[path] = len(self.paths)
            self.paths.append(path)
            if length >= 0:
                with contextlib.suppress(OSError):  # unreadable now: read by path later, or fail then
                    self._descriptors[number] = os.open(path, os.O_RDONLY)
        return (number, offset, length)

    def read(self, number: int, offset: int, length: int) -> bytes:
        if length < 0:
            return Path(self.paths[number]).read_bytes()
        descriptor = self._descriptors.get(number)
        if descriptor is not None:
            return os.pread(descriptor, length, offset)
        with open(self.paths[number], "rb") as stream:
            stream.seek(offset)
            return stream.read(length)

    def close(self) -> None:
        self._finalizer()


def _close_descriptors(descriptors: dict[int, int]) -> None:
    for descriptor in descriptors.values():
        with contextlib.suppress(OSError):
            os.close(descriptor)
    descriptors.clear()


@dataclass
class Index:
    """An immutable snapshot of the data; a reload builds a new one and swaps it in."""

    reference: ReferenceData
    entries: list[Entry]
    cell_degrees: float
    signature: tuple[Any, ...] = ()
    skipped: int = 0
    by_id: dict[int, Entry] = field(default_factory=dict)
    grid: Grid = field(init=False)
    by_modified: list[Entry] = field(default_factory=list)
    modified_keys: list[str] = field(default_factory=list)
    by_country: dict[int | None, list[Entry]] = field(default_factory=dict)
    cache_size: int = 20_000
    parsed: OrderedDict[int, Charger | None] = field(default_factory=OrderedDict)
    dump: DumpFiles | None = None

    def __post_init__(self) -> None:
        by_id: dict[int, Entry] = {}
        for entry in self.entries:
            by_id[entry.id] = entry  # a later copy of a POI replaces an earlier one
        if len(by_id) != len(self.entries):
            self.entries = list(by_id.values())
        self.by_id = by_id
        self.grid = Grid(self.entries, self.cell_degrees)
        for entry in self.entries:
            self.by_country.setdefault(entry.country_id, []).append(entry)
        dated = sorted(((e.modified, e) for e in self.entries if e.modified is not None), key=lambda pair: pair[0])
        self.by_modified = [e for _, e in dated]
        self.modified_keys = [modified for modified, _ in dated]

    def json_of(self, entry: Entry) -> bytes:
        where = entry.where
        if type(where) is bytes:
            return where
        assert self.dump is not None and not isinstance(where, bytes)
        return self.dump.read(*where)

    def close(self) -> None:
        if self.dump is not None:
            self.dump.close()

    def charger(self, entry: Entry) -> Charger | None:
        """The entry's charger, parsed by the client's parser; the most recently used ones are kept."""
        parsed = self.parsed
        if entry.id in parsed:
            parsed.move_to_end(entry.id)
            return parsed[entry.id]
        try:
            item = json.loads(self.json_of(entry))
            charger = parse_poi(item, self.reference) if isinstance(item, Mapping) else None
            if charger is not None and charger.id != entry.id:  # the file was changed in place
                log.warning("local OCM data: POI %s moved in its file; it shows after the next reload", entry.id)
                charger = None
        except (OSError, TypeError, ValueError, AttributeError, KeyError) as error:
            log.warning("POI %s cannot be read: %s", entry.id, error)
            charger = None
        parsed[entry.id] = charger
        if len(parsed) > self.cache_size:
            parsed.popitem(last=False)
        return charger


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Building an index makes millions of new objects, none of them garbage: cyclic GC passes would only slow it."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def frozen(index: Index) -> Index:
    """Move the new index out of the cyclic GC's sight: it holds millions of objects and no cycles.

    Without this, every full collection walks the whole index (about a second for OCM's world),
    and one lands in the middle of some query now and then. The index is still freed when it is
    replaced, by reference counting.
    """
    gc.freeze()
    return index


def build_index(
    pois: Iterable[Found],
    reference: ReferenceData,
    *,
    cell_degrees: float = 0.1,
    signature: tuple[Any, ...] = (),
    problems: Problems | None = None,
) -> Index:
    """An index of ``pois`` (as the :mod:`.readers` find them); what is not a POI is counted and reported."""
    problems = problems if problems is not None else Problems()
    dump = DumpFiles()
    entries: list[Entry] = []
    skipped = 0
    with cyclic_gc_paused():
        for item, found, origin in pois:
            entry = entry_from(item, dump.where(found) if found is not None else None, reference)
            if entry is None:
                skipped += 1
                if origin is not None:
                    problems.not_a_poi(origin)
            else:
                entries.append(entry)
    if skipped and not problems.count:
        log.warning("local OCM data: skipped %d POIs without an ID or usable coordinates", skipped)
    return frozen(Index(reference, entries, cell_degrees, signature, skipped, dump=dump))
