"""The loader: from a dump's path to an :class:`.index.Index`, with its reference data and signature.

A dump is one file or a folder searched recursively (the layout of OCM's public export,
https://github.com/openchargemap/ocm-export: ``data/referencedata.json`` and one
``data/<ISO country>/OCM-<id>.json`` file per POI). Reference data comes from a
``referencedata.json`` next to the file (inside the folder for a folder), else from the copy bundled
with the bot. Dumps of 64 MB and more are read by several processes (see :mod:`.parallel`). The
signature tells a reload (see :mod:`.reload`) whether the files changed since they were read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ocm_bot.ocm.local.index import Index, build_index
from ocm_bot.ocm.local.parallel import default_workers, read_in_parallel
from ocm_bot.ocm.local.problems import Problems
from ocm_bot.ocm.local.readers import POI_FILE_SUFFIXES, LocalDataError, file_pois, open_binary, poi_files
from ocm_bot.ocm.reference import ReferenceData

REFERENCE_FILE_NAME = "referencedata.json"
BUNDLED_DATA_DIR = Path(__file__).resolve().parent.parent.parent / "data" / "ocm"


def reference_path_for(path: Path) -> Path | None:
    """The ``referencedata.json`` that belongs to a dump: inside a directory, or next to a file."""
    folder = path if path.is_dir() else path.parent
    for name in (REFERENCE_FILE_NAME, REFERENCE_FILE_NAME + ".gz"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def load_reference(path: Path | None) -> ReferenceData:
    """Reference data from ``path``, or the copy bundled with the bot."""
    path = path or BUNDLED_DATA_DIR / REFERENCE_FILE_NAME
    try:
        with open_binary(path) as stream:
            payload = json.load(stream)
    except (OSError, ValueError) as error:
        raise LocalDataError(f"cannot read OCM reference data from {path}: {error}") from error
    if not isinstance(payload, Mapping):
        raise LocalDataError(f"{path} is not an OCM reference data document")
    return ReferenceData.from_json(payload)


def dump_signature(path: Path, reference_path: Path | None) -> tuple[Any, ...]:
    """Changes whenever the dump or its reference data changes (for a directory, see below)."""
    parts: list[Any] = []
    for item in (path, reference_path):
        if item is None:
            continue
        stat = item.stat()
        parts.append((str(item), stat.st_mtime_ns, stat.st_size, stat.st_ino))
        if item.is_dir():
            parts.append(_directory_signature(item))
    return tuple(parts)


SMALL_DIRECTORY_FILES = 10_000  # a folder with more files is checked by its folders' times only


def _directory_signature(directory: Path) -> tuple[Any, ...]:
    """A directory's own time changes when a file in it is added, removed or renamed over (as git and
    rsync replace files), so every folder's time is enough for OCM's export of 300,000 files; in a
    small dump every file's time is checked too, which also notices files rewritten in place.
    """
    folders = []
    count = 0
    for root, _, names in os.walk(directory):
        folders.append((root, os.stat(root).st_mtime_ns))
        count += len(names)
    newest = 0
    if count <= SMALL_DIRECTORY_FILES:
        newest = max((file.stat().st_mtime_ns for file in poi_files(directory)), default=0)
    return (tuple(sorted(folders)), count, newest)


def read_index(path: Path, reference_path: Path | None, cell_degrees: float, workers: int | None = None) -> Index:
    """Every readable POI of the dump at ``path``; raises :class:`LocalDataError` when there is none."""
    if not path.exists():
        raise LocalDataError(f"the OCM data file {path} does not exist")
    signature = dump_signature(path, reference_path)
    reference = load_reference(reference_path)
    problems = Problems()
    metadata: list[Path] = []
    files = poi_files(path, metadata) if path.is_dir() else [path]
    if metadata:
        more = f" and {len(metadata) - 1} more" if len(metadata) > 1 else ""
        problems.add(f"{metadata[0]}{more}: macOS metadata (._*), not POIs; skipped")
    try:
        size = sum(file.stat().st_size for file in files)
        workers = workers if workers is not None else default_workers(size)
        if workers > 1:
            index = read_in_parallel(files, reference, cell_degrees, signature, workers, problems)
        else:
            pois = (item for file in files for item in file_pois(file, problems))
            index = build_index(pois, reference, cell_degrees=cell_degrees, signature=signature, problems=problems)
    except OSError as error:
        raise LocalDataError(f"cannot read the OCM data at {path}: {error}") from error
    if not index.entries:
        index.close()
        raise LocalDataError(f"no chargers in the OCM data at {path}: {_why_empty(path, files, problems)}")
    problems.log()
    return index


def _why_empty(path: Path, files: list[Path], problems: Problems) -> str:
    if not files:
        suffixes = ", ".join(f"*{suffix}" for suffix in POI_FILE_SUFFIXES)
        return f"the folder holds no POI files ({suffixes}, optionally .gz)"
    if problems.shown:
        more = f" (and {problems.count - 1} more problems)" if problems.count > 1 else ""
        return problems.shown[0].removesuffix("; skipped").removesuffix("; the file is skipped") + more
    return "it holds no POIs"
