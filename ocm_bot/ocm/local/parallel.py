"""Reading a large dump on several cores: worker processes read index rows, this process builds the index.

The dump is cut into pieces of work of similar size (line ranges of big JSON-lines files, groups
of whole files); each worker process reads its pieces into plain :data:`.rows.Row` tuples (cheap
to pickle) with where each POI is, and reports the problems it met; the parent turns the rows into
entries and one :class:`.index.Index`, as :func:`.index.build_index` does for one process.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Any

from ocm_bot.ocm.local.index import DumpFiles, Index, cyclic_gc_paused, frozen
from ocm_bot.ocm.local.problems import Problems
from ocm_bot.ocm.local.readers import PoiLocation, file_pois, is_json_lines, line_range
from ocm_bot.ocm.local.rows import Entry, Row, compact_json, entry_from_row, index_row
from ocm_bot.ocm.reference import ReferenceData

PARALLEL_MIN_BYTES = 64 << 20  # below this, starting worker processes costs more than it saves
UNIT_BYTES = 16 << 20
FILES_PER_UNIT = 2000


def default_workers(total_bytes: int) -> int:
    """How many processes should read a dump of ``total_bytes``: 1 for a small one, else one per CPU (at most 8)."""
    if total_bytes < PARALLEL_MIN_BYTES:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


def work_units(files: list[Path]) -> list[tuple[tuple[str, int, int], ...]]:
    """Pieces of work of similar size: line ranges of big JSON-lines files, or groups of whole files."""
    units: list[tuple[tuple[str, int, int], ...]] = []
    small: list[tuple[str, int, int]] = []
    for file in files:
        size = file.stat().st_size
        if size > UNIT_BYTES and file.suffix != ".gz" and is_json_lines(file):
            units.extend(((str(file), start, min(start + UNIT_BYTES, size)),) for start in range(0, size, UNIT_BYTES))
        elif size > UNIT_BYTES:
            units.append(((str(file), 0, -1),))
        else:
            small.append((str(file), 0, -1))
            if len(small) >= FILES_PER_UNIT:
                units.append(tuple(small))
                small = []
    if small:
        units.append(tuple(small))
    return units


def _index_unit(
    unit: tuple[tuple[str, int, int], ...],
) -> tuple[list[tuple[Row, PoiLocation]], int, list[str], int]:
    """Run in a worker process: the index rows of one unit of work, how many POIs it skipped, and its problems."""
    gc.disable()
    rows: list[tuple[Row, PoiLocation]] = []
    skipped = 0
    problems = Problems()
    for name, start, end in unit:
        pois = file_pois(Path(name), problems) if end < 0 else line_range(Path(name), start, end, problems)
        for item, raw, origin in pois:
            row = index_row(item)
            if row is None:
                skipped += 1
                if origin is not None:
                    problems.not_a_poi(origin)
            else:
                rows.append((row, raw if raw is not None else compact_json(item)))
    return rows, skipped, problems.shown, problems.count


def read_in_parallel(
    files: list[Path],
    reference: ReferenceData,
    cell_degrees: float,
    signature: tuple[Any, ...],
    workers: int,
    problems: Problems,
) -> Index:
    """The index of ``files``, read by ``workers`` processes; their problems are added to ``problems``."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # "spawn": a fresh interpreter per worker, safe in a process that runs threads and an event loop
    context = multiprocessing.get_context("spawn")
    dump = DumpFiles()
    entries: list[Entry] = []
    skipped = 0
    with cyclic_gc_paused(), ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for rows, unit_skipped, shown, count in pool.map(_index_unit, work_units(files)):
            skipped += unit_skipped
            problems.merge(shown, count)
            entries.extend(entry_from_row(row, dump.where(found), reference) for row, found in rows)
    return frozen(Index(reference, entries, cell_degrees, signature, skipped, dump=dump))
