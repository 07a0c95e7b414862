"""Dump readers: every POI-like JSON value of a dump file, where its text is, and where it came from.

A dump is whatever an operator had at hand, so reading is lenient and says what it did: a file or a
line that cannot be read is skipped with a warning naming it (see :mod:`.problems`), a byte-order
mark is ignored, bytes that are not UTF-8 are read as Latin-1, and a JSON object may be one POI, a
``{"data": [...]}`` wrapper or a GeoJSON FeatureCollection whose properties are POIs (placed at
their Point geometry). A file is a JSON array (streamed element by element), JSON lines, or one
JSON object (OCM's export holds one POI per file); any of them may be gzip-compressed (``.gz``).
Only a dump that yields no charger at all is an error (see :func:`.loader.read_index`).
"""

from __future__ import annotations

import codecs
import gzip
import io
import itertools
import json
import re
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ocm_bot.ocm.errors import OcmError
from ocm_bot.ocm.local.problems import Origin, Problems
from ocm_bot.ocm.parse import _ci

POI_FILE_SUFFIXES = (".json", ".jsonl", ".ndjson", ".geojson")
MAC_METADATA_PREFIX = "._"  # AppleDouble files macOS leaves next to each file it copies
READ_CHUNK = 1 << 20
_SEPARATORS = re.compile(r"[\s,]*")
_UTF8_BOM = b"\xef\xbb\xbf"
_LATIN_1 = "ocm-bot-latin-1"


class LocalDataError(OcmError):
    """The local OCM data could not be read (missing, not JSON, or not POIs)."""


def _latin_1_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode bytes that are not UTF-8 as Latin-1 (every byte is a Latin-1 character)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error(_LATIN_1, _latin_1_fallback)


def open_binary(path: Path) -> io.BufferedIOBase:
    """A dump file's bytes, uncompressed when it is gzip (``.gz``)."""
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def poi_files(directory: Path, ignored: list[Path] | None = None) -> list[Path]:
    """The POI files in a folder and below it, sorted; macOS metadata files go to ``ignored``."""
    files = []
    for path in directory.rglob("*"):
        name = path.name.lower().removesuffix(".gz")
        if name.endswith(POI_FILE_SUFFIXES) and not name.startswith("referencedata") and path.is_file():
            if path.name.startswith(MAC_METADATA_PREFIX):
                if ignored is not None:
                    ignored.append(path)
                continue
            files.append(path)
    return sorted(files)


PoiLocation = bytes | tuple[str, int, int]
"""Where a reader found a POI: its JSON text, or (path, offset, length) (length -1: the whole file)."""


Found = tuple[Any, PoiLocation | None, Origin | None]
"""One record a reader found: the JSON value, where its text is, and where to say it came from."""


def _decoded(data: bytes) -> tuple[str, int | None]:
    """UTF-8 text (without a byte-order mark), and the first line that had to be read as Latin-1."""
    data = data.removeprefix(_UTF8_BOM)
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        return data.decode("utf-8", _LATIN_1), data.count(b"\n", 0, error.start) + 1


def json_line(line: bytes) -> tuple[Any, bytes | None]:
    """The JSON value of one line, and its text again as UTF-8 when the line was not UTF-8 (else None)."""
    try:
        return json.loads(line), None  # json reads UTF-8 bytes with or without a byte-order mark
    except UnicodeDecodeError:
        text, _ = _decoded(line)
        return json.loads(text), text.encode()


def _looks_like_json_lines(head: bytes) -> bool:
    """Whether the first non-blank lines of a file start JSON lines (an object on one line)."""
    lines = (line for line in head.removeprefix(_UTF8_BOM).split(b"\n", 3)[:3] if line.strip())
    for line in itertools.islice(lines, 2):
        if not line.lstrip().startswith(b"{"):
            return False
        try:
            value = json_line(line)[0]
        except ValueError:
            continue  # a broken first line: the second one decides
        return isinstance(value, dict) and not _is_container(value)
    return False


def _is_container(document: Mapping[str, Any]) -> bool:
    """A JSON object that holds POIs rather than being one: GeoJSON, or a ``{"data": [...]}`` wrapper."""
    lowered = {str(key).lower(): value for key, value in document.items()}
    if str(lowered.get("type")).lower() in ("featurecollection", "feature"):
        return True
    return isinstance(lowered.get("data"), list) and "addressinfo" not in lowered


def _raw_pois(path: Path, problems: Problems) -> Iterator[Found]:
    """Every POI-like JSON value of a dump file: array items, lines, or what one JSON object holds."""
    compressed = path.suffix == ".gz"
    with open_binary(path) as stream:
        head = stream.read(READ_CHUNK)
        start = head.removeprefix(_UTF8_BOM).lstrip()[:1]
        if start == b"[":
            yield from _array_items(_Utf8Text(head, stream), path, problems)
            return
        if start == b"{":
            if _looks_like_json_lines(head):
                yield from _json_lines(_Prepend(head, stream), path, problems, keep_text=compressed)
                return
            yield from _json_document(head + stream.read(), path, problems, compressed=compressed)
            return
        if not start:
            problems.add(f"{path} is empty; skipped")
            return
        raise LocalDataError(f"{path} is neither a JSON array, JSON lines nor a JSON object of POIs")


def _json_document(data: bytes, path: Path, problems: Problems, *, compressed: bool) -> Iterator[Found]:
    """One JSON object: a POI (OCM's export), a ``{"data": [...]}`` wrapper, or a GeoJSON FeatureCollection."""
    text, latin_1_line = _decoded(data)
    try:
        document = json.loads(text)
    except ValueError as error:
        raise LocalDataError(f"{path} is not valid JSON: {error}") from error
    if latin_1_line is not None:
        problems.add(f"{path} line {latin_1_line}: not UTF-8; read as Latin-1")
    name = str(path)
    if isinstance(document, dict) and _is_container(document):
        lowered = {str(key).lower(): value for key, value in document.items()}
        if "data" not in lowered:
            yield from _geojson_pois(lowered, path)
            return
        for number, item in enumerate(lowered["data"], 1):
            yield item, None, (name, f"item {number} of data")
        return
    clean = not compressed and latin_1_line is None
    yield document, (name, 0, -1) if clean else text.encode(), (name, 1)


def _geojson_pois(collection: Mapping[str, Any], path: Path) -> Iterator[Found]:
    """The OCM POIs in a GeoJSON file's properties, each placed where its Point geometry is."""
    features = collection.get("features") if "features" in collection else [collection]
    if not isinstance(features, list):
        raise LocalDataError(f"{path} is GeoJSON without a list of features")
    pois = [_poi_of_feature(feature) for feature in features]
    if features and not any(poi is not None and _ci(poi).get("id") is not None for poi in pois):
        raise LocalDataError(
            f"{path} is GeoJSON, but its features' properties are not OCM POIs (no ID); "
            "export POIs from OCM (GET /poi) instead"
        )
    name = str(path)
    for number, poi in enumerate(pois, 1):
        yield poi, None, (name, f"feature {number}")


def _poi_of_feature(feature: Any) -> dict[str, Any] | None:
    if not isinstance(feature, Mapping) or not isinstance(feature.get("properties"), Mapping):
        return None
    poi = dict(feature["properties"])
    if "ID" not in poi and "id" not in poi and feature.get("id") is not None:
        poi["ID"] = feature["id"]
    geometry = feature.get("geometry")
    coordinates = geometry.get("coordinates") if isinstance(geometry, Mapping) else None
    is_point = isinstance(geometry, Mapping) and geometry.get("type") == "Point"
    if is_point and isinstance(coordinates, list) and len(coordinates) >= 2:
        key = next((k for k in poi if str(k).lower() == "addressinfo"), "AddressInfo")
        address = dict(poi[key]) if isinstance(poi.get(key), Mapping) else {}
        for name in [k for k in address if str(k).lower() in ("latitude", "longitude")]:
            del address[name]
        address["Latitude"], address["Longitude"] = coordinates[1], coordinates[0]  # GeoJSON: lon, lat
        poi[key] = address
    return poi


class _Utf8Text:
    """A dump's bytes read as text: UTF-8 without a byte-order mark; from the first byte that is not
    UTF-8 on, such bytes are read as Latin-1 (``latin_1_line`` says where that began)."""

    def __init__(self, head: bytes, rest: io.BufferedIOBase) -> None:
        self._head = head.removeprefix(_UTF8_BOM)
        self._rest = rest
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._lines = 0
        self.latin_1_line: int | None = None

    def read(self, size: int) -> str:
        if self._head:
            data, self._head = self._head, b""
        else:
            data = self._rest.read(size)
        try:
            text = self._decoder.decode(data, final=not data)
        except UnicodeDecodeError as error:  # error.object: what the decoder held back, then data
            self.latin_1_line = self._lines + error.object.count(b"\n", 0, error.start) + 1
            self._decoder = codecs.getincrementaldecoder("utf-8")(_LATIN_1)
            text = self._decoder.decode(error.object, final=not data)
        self._lines += data.count(b"\n")
        return text


class _Prepend(io.RawIOBase):
    """A binary stream that first replays ``head``, then reads on from ``rest``."""

    def __init__(self, head: bytes, rest: io.BufferedIOBase) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _json_lines(stream: io.RawIOBase, path: Path, problems: Problems, *, keep_text: bool) -> Iterator[Found]:
    bad = 0
    latin_1: list[int] = []
    name = str(path)
    offset = 0
    for number, raw in enumerate(io.BufferedReader(stream), 1):
        start, offset = offset, offset + len(raw)
        line = raw.strip()
        if not line:
            continue
        try:
            item, recoded = json_line(line)
        except ValueError as error:
            bad += 1
            if bad <= 3:
                problems.add(f"{path} line {number} is not JSON ({error}); skipped")
            continue
        if recoded is not None:
            latin_1.append(number)
        where = recoded if recoded is not None else line if keep_text else (name, start, len(raw))
        yield item, where, (name, number)
    if bad > 3:
        problems.add(f"{path}: skipped {bad} lines that are not JSON in all")
    if latin_1:
        lines = ", ".join(map(str, latin_1[:5])) + (" ..." if len(latin_1) > 5 else "")
        in_all = f" ({len(latin_1)} lines in all)" if len(latin_1) > 1 else ""
        problems.add(f"{path} line {lines}: not UTF-8; read as Latin-1{in_all}")


def _array_items(text: _Utf8Text, path: Path, problems: Problems) -> Iterator[Found]:
    """Items of a JSON array, decoded one at a time so a large dump never sits in memory as dicts.

    An array cut short (a download that stopped) gives the items before the cut and a warning.
    """
    decoder = json.JSONDecoder()
    name = str(path)
    first = text.read(READ_CHUNK)
    buffer = first.lstrip()
    if not buffer.startswith("["):
        raise LocalDataError(f"{path} does not start with a JSON array")
    position, at_end = 1, False
    # the line number at buffer[counted], counted as the buffer moves on (dumps are large)
    line, counted = 1 + first.count("\n", 0, len(first) - len(buffer)), 0
    try:
        while True:
            separators = _SEPARATORS.match(buffer, position)
            assert separators is not None  # the pattern matches the empty string too
            position = separators.end()
            if position >= len(buffer) and not at_end:
                line, counted = line + buffer.count("\n", counted, position), 0
                buffer, position = buffer[position:] + text.read(READ_CHUNK), 0
                at_end = position >= len(buffer)
                continue
            if position >= len(buffer):
                at = line + buffer.count("\n", counted, position)
                raise LocalDataError(f"{path} line {at}: the file ends inside the JSON array")
            if buffer[position] == "]":
                return
            try:
                item, end = decoder.raw_decode(buffer, position)
            except json.JSONDecodeError as error:
                more = "" if at_end else text.read(READ_CHUNK)
                if not more:
                    raise LocalDataError(
                        f"{path} line {line + buffer.count(chr(10), counted, error.pos)}: the JSON array is cut "
                        f"short or broken here ({error.msg})"
                    ) from error
                line, counted = line + buffer.count("\n", counted, position), 0
                buffer, position = buffer[position:] + more, 0
                continue
            if end == len(buffer) and not at_end:  # a number may go on in the next chunk
                more = text.read(READ_CHUNK)
                if more:
                    line, counted = line + buffer.count("\n", counted, position), 0
                    buffer, position = buffer[position:] + more, 0
                    continue
                at_end = True
            line, counted = line + buffer.count("\n", counted, position), position
            yield item, buffer[position:end].encode(), (name, line)
            position = end
            if position > READ_CHUNK:
                line, counted = line + buffer.count("\n", counted, position), 0
                buffer, position = buffer[position:], 0
    finally:
        if text.latin_1_line is not None:
            problems.add(f"{path} line {text.latin_1_line}: not UTF-8; read as Latin-1 from there on")


def file_pois(file: Path, problems: Problems) -> Iterator[Found]:
    """The POIs of one dump file; a file that cannot be read (or not to its end) is a problem, not a failure."""
    read = 0
    try:
        for found in _raw_pois(file, problems):
            read += 1
            yield found
    except LocalDataError as error:
        problems.add(f"{error}; {'the rest of the file' if read else 'the file'} is skipped")
    except (OSError, EOFError, zlib.error) as error:  # a broken or cut gzip stream, a file that went away
        problems.add(f"{file} cannot be read ({error}); {'the rest of the file' if read else 'the file'} is skipped")


def is_json_lines(path: Path) -> bool:
    """Whether an uncompressed file starts as JSON lines (so it can be cut into line ranges)."""
    with open(path, "rb") as stream:
        return _looks_like_json_lines(stream.read(READ_CHUNK))


def line_range(path: Path, start: int, end: int, problems: Problems) -> Iterator[Found]:
    """The lines that begin in bytes ``[start, end)`` of a JSON-lines file, and where each is."""
    name = str(path)  # one string object for every line: pickled once
    with open(path, "rb") as stream:
        if start > 0:
            stream.seek(start - 1)
            stream.readline()  # the rest of a line that began in the previous range
        while (position := stream.tell()) < end:
            raw = stream.readline()
            if not raw:
                break
            line = raw.strip()
            if line:
                try:
                    item, recoded = json_line(line)
                except ValueError as error:
                    problems.add(f"{path} at byte {position}: a line that is not JSON ({error}); skipped")
                    continue
                if recoded is not None:
                    problems.add(f"{path} at byte {position}: a line that is not UTF-8; read as Latin-1")
                yield item, recoded or (name, position, len(raw)), (name, f"at byte {position}")
