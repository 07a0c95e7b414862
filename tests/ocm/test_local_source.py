"""The local OCM data source (``OCM_DATA_FILE``): the shared contract, dump formats, reloads, geometry."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import math
import os
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocm_bot.ocm.local import LocalDataError, LocalSource
from ocm_bot.ocm.parse import parse_poi
from ocm_bot.ocm.query import PoiQuery
from tests.ocm.contract import (
    MILE_END,
    SHARED_OCM,
    ChargerSourceContract,
    km_between,
    shared_pois,
    shared_reference,
)


class TestLocalSourceInMemory(ChargerSourceContract):
    @pytest.fixture
    def source(self) -> LocalSource:
        return LocalSource.from_pois(shared_pois(), shared_reference())


class TestLocalSourceFromJsonLines(ChargerSourceContract):
    """A JSON-lines dump with its reference data next to it, read through the file loader."""

    @pytest.fixture
    def source(self, tmp_path: Path) -> LocalSource:
        lines = "\n".join(json.dumps(poi, ensure_ascii=False) for poi in shared_pois())
        (tmp_path / "poi.jsonl").write_text(lines + "\n", encoding="utf-8")
        (tmp_path / "referencedata.json").write_bytes((SHARED_OCM / "referencedata.json").read_bytes())
        return LocalSource.load(tmp_path / "poi.jsonl", cell_degrees=0.01)


class TestBundledDemoData(ChargerSourceContract):
    """The copy bundled with the bot (``ocm_bot/data/ocm``) is the same data."""

    @pytest.fixture
    def source(self) -> LocalSource:
        return LocalSource.bundled()


# Dump formats -------------------------------------------------------------------------------------


def _export_layout(root: Path, pois: Any) -> Path:
    """OCM's export repository: data/referencedata.json and data/<ISO>/OCM-<id>.json, pretty-printed."""
    data = root / "data"
    (data / "GB").mkdir(parents=True)
    (data / "referencedata.json").write_bytes((SHARED_OCM / "referencedata.json").read_bytes())
    for poi in pois:
        (data / "GB" / f"OCM-{poi['ID']}.json").write_text(json.dumps(poi, indent=4), encoding="utf-8")
    return data


async def test_reads_the_ocm_export_layout_of_one_file_per_poi(tmp_path: Path) -> None:
    london = [p for p in shared_pois() if (p.get("AddressInfo") or {}).get("CountryID") == 1][:30]
    source = LocalSource.load(_export_layout(tmp_path, london))
    assert len(source) == 30
    [one] = await source.get_chargers([london[0]["ID"]])
    assert one == parse_poi(london[0], shared_reference())


async def test_reads_a_json_array_larger_than_one_read_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ocm_bot.ocm.local import readers

    monkeypatch.setattr(readers, "READ_CHUNK", 4096)  # the array spans many chunks, items straddle them
    path = tmp_path / "poi.json"
    path.write_text(json.dumps(list(shared_pois()), indent=1, ensure_ascii=False), encoding="utf-8")
    source = LocalSource.load(path)
    assert len(source) == len(shared_pois())
    found = await source.search(PoiQuery(latitude=MILE_END[0], longitude=MILE_END[1], distance=1, maxresults=5))
    assert len(found) == 5


async def test_a_large_dump_read_by_several_processes_gives_the_same_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ocm_bot.ocm.local import loader, parallel

    monkeypatch.setattr(parallel, "UNIT_BYTES", 50_000)  # many line ranges, lines cut at every boundary
    path = tmp_path / "poi.jsonl"
    path.write_text("\n".join(json.dumps(poi) for poi in shared_pois()) + "\n", encoding="utf-8")
    assert len(parallel.work_units([path])) > 5
    alone = loader.read_index(path, None, 0.1, workers=1)
    together = loader.read_index(path, None, 0.1, workers=2)
    assert sorted(e.id for e in together.entries) == sorted(e.id for e in alone.entries)
    assert len(together.entries) == len(shared_pois())
    source = LocalSource(together, reload_interval=None)
    [garforth] = await source.get_chargers([100627], include_comments=True)
    assert garforth == parse_poi(next(p for p in shared_pois() if p["ID"] == 100627), shared_reference())


async def test_odd_lines_read_by_several_processes_are_read_and_reported_as_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from ocm_bot.ocm.local import loader, parallel

    monkeypatch.setattr(parallel, "UNIT_BYTES", 50_000)
    pois = list(shared_pois())
    lines = [json.dumps(p).encode() for p in pois]
    lines[7] = json.dumps(_with_title(pois[7], "Café"), ensure_ascii=False).encode("latin-1")
    broken = len(lines) - 5
    lines[broken] = b"not json"
    path = tmp_path / "poi.jsonl"
    path.write_bytes(b"\xef\xbb\xbf\n" + b"\n".join(lines) + b"\n")
    alone = loader.read_index(path, None, 0.1, workers=1)
    together = loader.read_index(path, None, 0.1, workers=2)
    assert sorted(e.id for e in together.entries) == sorted(e.id for e in alone.entries)
    assert len(together.entries) == len(pois) - 1
    [cafe] = await LocalSource(together, reload_interval=None).get_chargers([pois[7]["ID"]])
    assert cafe.name == "Café"
    warnings = _warnings(caplog)
    assert f"poi.jsonl line {broken + 2} is not JSON" in warnings and "poi.jsonl line 9: not UTF-8" in warnings
    offset = 4 + sum(len(line) + 1 for line in lines[:broken])  # the mark and the blank line, then lines
    assert f"poi.jsonl at byte {offset}: a line that is not JSON" in warnings


async def test_reads_gzip_compressed_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "poi.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for poi in shared_pois():
            out.write(json.dumps(poi) + "\n")
    assert len(LocalSource.load(path)) == len(shared_pois())


async def test_pois_without_coordinates_or_id_are_skipped_and_counted(tmp_path: Path) -> None:
    good = shared_pois()[0]
    lines = [good, {"ID": 5, "AddressInfo": {"Latitude": 0, "Longitude": 0}}, {"AddressInfo": {}}, [1, 2]]
    path = tmp_path / "poi.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n", encoding="utf-8")
    source = LocalSource.load(path)
    assert len(source) == 1
    assert source.skipped == 3


async def test_camel_case_records_give_the_same_chargers(tmp_path: Path) -> None:
    def camel(value: Any) -> Any:
        if isinstance(value, dict):
            return {_camel(k): camel(v) for k, v in value.items()}
        return [camel(v) for v in value] if isinstance(value, list) else value

    pascal = LocalSource.from_pois(shared_pois(), shared_reference())
    camelised = LocalSource.from_pois([camel(p) for p in shared_pois()], shared_reference())
    query = PoiQuery(latitude=MILE_END[0], longitude=MILE_END[1], distance=2, maxresults=30, minpowerkw=7)
    assert await camelised.search(query) == await pascal.search(query)


def _camel(name: str) -> str:
    head = len(name) - len(name.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    if head <= 1 or head == len(name):
        return name[:head].lower() + name[head:]
    return name[: head - 1].lower() + name[head - 1 :]


async def test_a_missing_file_or_a_file_that_is_not_json_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(LocalDataError, match=r"nothing\.json does not exist"):
        LocalSource.load(tmp_path / "nothing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("<html>not json</html>")
    with pytest.raises(LocalDataError, match=r"no chargers in the OCM data at .*bad\.json: .*bad\.json is neither"):
        LocalSource.load(bad)


# Odd dumps: each is read, or skipped with a warning naming the file and line ------------------------


def _warnings(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def _reference_beside(folder: Path) -> None:
    (folder / "referencedata.json").write_bytes((SHARED_OCM / "referencedata.json").read_bytes())


def _ocm_folder(root: Path, pois: Any, *, prefix: bytes = b"") -> Path:
    """One POI per file, as in OCM's export, each file starting with ``prefix``."""
    root.mkdir()
    _reference_beside(root)
    for poi in pois:
        (root / f"OCM-{poi['ID']}.json").write_bytes(prefix + json.dumps(poi, indent=2).encode())
    return root


async def test_an_array_cut_short_gives_the_pois_before_the_cut_and_names_the_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _reference_beside(tmp_path)
    text = json.dumps(list(shared_pois()[:3]), indent=1)
    broken = tmp_path / "broken.json"
    broken.write_text(text[: text.index('"ID": ' + str(shared_pois()[2]["ID"]))], encoding="utf-8")
    source = LocalSource.load(broken)
    assert len(source) == 2
    cut_line = text[: text.index('"ID": ' + str(shared_pois()[2]["ID"]))].count("\n") + 1
    assert f"broken.json line {cut_line}: the JSON array is cut short" in _warnings(caplog)


async def test_one_unreadable_file_in_a_folder_is_skipped_with_a_warning_naming_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _ocm_folder(tmp_path / "data", shared_pois()[:5])
    (folder / "OCM-999999.json").write_text(json.dumps(shared_pois()[5])[:80], encoding="utf-8")
    (folder / "OCM-999998.json").write_bytes(b"")
    source = LocalSource.load(folder)
    assert len(source) == 5
    warnings = _warnings(caplog)
    assert "OCM-999999.json is not valid JSON" in warnings and "line 1" in warnings
    assert "OCM-999998.json is empty" in warnings


async def test_files_with_a_byte_order_mark_are_read(tmp_path: Path) -> None:
    folder = _ocm_folder(tmp_path / "data", shared_pois()[:5], prefix=b"\xef\xbb\xbf")
    source = LocalSource.load(folder, reload_interval=None)
    assert len(source) == 5
    [one] = await source.get_chargers([shared_pois()[0]["ID"]])  # read again from its file, mark and all
    assert one == parse_poi(shared_pois()[0], shared_reference())
    lines = tmp_path / "poi.jsonl"
    lines.write_bytes(b"\xef\xbb\xbf" + b"\n".join(json.dumps(p).encode() for p in shared_pois()))
    assert len(LocalSource.load(lines)) == len(shared_pois())
    array = tmp_path / "poi.json"
    array.write_bytes(b"\xef\xbb\xbf" + json.dumps(list(shared_pois())).encode())
    assert len(LocalSource.load(array)) == len(shared_pois())


async def test_macos_metadata_files_in_a_folder_are_skipped_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _ocm_folder(tmp_path / "data", shared_pois()[:5])
    for poi in shared_pois()[:5]:
        (folder / f"._OCM-{poi['ID']}.json").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    assert len(LocalSource.load(folder)) == 5
    [warning] = [line for line in _warnings(caplog).splitlines() if "._OCM-" in line]
    assert "and 4 more: macOS metadata" in warning


async def test_json_lines_starting_with_a_blank_line_are_read(tmp_path: Path) -> None:
    path = tmp_path / "poi.jsonl"
    path.write_text("\n\n" + "\n".join(json.dumps(p) for p in shared_pois()) + "\n", encoding="utf-8")
    source = LocalSource.load(path)
    assert len(source) == len(shared_pois())


async def test_a_line_that_is_not_json_is_skipped_with_a_warning_naming_its_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "poi.jsonl"
    lines = [json.dumps(p) for p in shared_pois()[:4]]
    lines[2] = lines[2][:40]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert len(LocalSource.load(path)) == 3
    assert "poi.jsonl line 3 is not JSON" in _warnings(caplog)


def _with_title(poi: dict[str, Any], title: str) -> dict[str, Any]:
    return dict(poi, AddressInfo=dict(poi["AddressInfo"], Title=title))


async def test_latin_1_bytes_are_read_as_latin_1_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _reference_beside(tmp_path)
    first, *rest = shared_pois()[:5]
    records = [*rest, _with_title(first, "Café Müller")]
    lines = tmp_path / "poi.jsonl"
    lines.write_bytes(b"\n".join(json.dumps(r, ensure_ascii=False).encode("latin-1") for r in records))
    array = tmp_path / "poi.json"
    array.write_bytes(json.dumps(records, ensure_ascii=False, indent=1).encode("latin-1"))
    for path in (lines, array):
        source = LocalSource.load(path, reload_interval=None)
        assert len(source) == 5
        [cafe] = await source.get_chargers([first["ID"]])
        assert cafe.name == "Café Müller"
    warnings = _warnings(caplog)
    assert "poi.jsonl line 5: not UTF-8; read as Latin-1" in warnings
    array_line = (
        json.dumps(records, indent=1)
        .split("\n")
        .index(next(line for line in json.dumps(records, indent=1).split("\n") if "Caf" in line))
        + 1
    )
    assert f"poi.json line {array_line}: not UTF-8; read as Latin-1" in warnings


async def test_an_empty_file_is_an_error_naming_it(tmp_path: Path) -> None:
    empty = tmp_path / "poi.json"
    empty.write_bytes(b"")
    with pytest.raises(LocalDataError, match=r"no chargers in the OCM data at .*poi\.json: .*poi\.json is empty"):
        LocalSource.load(empty)
    array = tmp_path / "empty.json"
    array.write_text("[]")
    with pytest.raises(LocalDataError, match=r"no chargers in the OCM data at .*empty\.json"):
        LocalSource.load(array)
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(LocalDataError, match="holds no POI files"):
        LocalSource.load(folder)


async def test_a_file_of_records_that_are_not_pois_is_an_error_naming_the_record(tmp_path: Path) -> None:
    path = tmp_path / "poi.jsonl"
    path.write_text('{"name": "not a POI"}\n{"name": "nor this"}\n', encoding="utf-8")
    with pytest.raises(LocalDataError, match=r"poi\.jsonl line 1: not an OCM POI .*\(and 1 more problems\)"):
        LocalSource.load(path)


def _feature(poi: dict[str, Any], lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": poi}


async def test_a_geojson_feature_collection_of_ocm_pois_is_read_at_the_geometry(tmp_path: Path) -> None:
    _reference_beside(tmp_path)
    pois = shared_pois()[:5]
    moved = dict(pois[0], AddressInfo=dict(pois[0]["AddressInfo"], Latitude=0, Longitude=0))
    features = [
        _feature(moved, -0.0375, 51.5225),
        *(_feature(p, p["AddressInfo"]["Longitude"], p["AddressInfo"]["Latitude"]) for p in pois[1:]),
    ]
    for name in ("poi.geojson", "poi.json"):
        path = tmp_path / name
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, indent=1), encoding="utf-8")
        source = LocalSource.load(path)
        assert len(source) == 5
        [first] = await source.get_chargers([pois[0]["ID"]])
        assert (first.latitude, first.longitude) == (51.5225, -0.0375)
        assert first.name == parse_poi(pois[0], shared_reference()).name
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "poi.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    assert len(LocalSource.load(folder)) == 5


async def test_a_geojson_file_that_is_not_ocm_pois_is_refused_with_a_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "stations.geojson"
    features = [_feature({"name": "Some station", "operator": "X"}, 13.4, 52.5)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    with pytest.raises(
        LocalDataError, match=r"stations\.geojson is GeoJSON, but its features' properties are not OCM POIs"
    ):
        LocalSource.load(path)


async def test_a_data_wrapper_around_the_pois_is_read(tmp_path: Path) -> None:
    for name, text in (
        ("one-line.json", json.dumps({"data": list(shared_pois())})),
        ("pretty.json", json.dumps({"data": list(shared_pois())}, indent=2)),
    ):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        assert len(LocalSource.load(path)) == len(shared_pois())


async def test_a_dump_without_reference_data_beside_it_warns_that_names_may_be_missing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "poi.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in shared_pois()), encoding="utf-8")
    LocalSource.load(path)
    assert "no referencedata.json next to" in _warnings(caplog) and "may be missing" in _warnings(caplog)
    caplog.clear()
    _reference_beside(tmp_path)
    LocalSource.load(path)
    assert "referencedata" not in _warnings(caplog)


async def test_a_lone_surrogate_in_a_title_is_read_as_a_replacement_character(tmp_path: Path) -> None:
    _reference_beside(tmp_path)
    first = shared_pois()[0]
    path = tmp_path / "poi.jsonl"
    line = json.dumps(_with_title(first, "@@")).replace('"@@"', '"Broken \\ud800 charger"')
    path.write_text(line + "\n", encoding="utf-8")
    [charger] = await LocalSource.load(path).get_chargers([first["ID"]])
    assert charger.name == "Broken \ufffd charger"
    charger.name.encode("utf-8")  # sendable


async def test_removed_and_unpublished_chargers_are_never_returned() -> None:
    base = dict(shared_pois()[0])
    records = []
    for poi_id, status, submission in ((1, 50, 100), (2, 200, 100), (3, 210, 200), (4, 50, 1010), (5, 0, 200)):
        record = dict(base, ID=poi_id, StatusTypeID=status, SubmissionStatusTypeID=submission)
        record.pop("StatusType", None)
        record.pop("SubmissionStatus", None)
        records.append(record)
    source = LocalSource.from_pois(records, shared_reference())
    lat, lon = base["AddressInfo"]["Latitude"], base["AddressInfo"]["Longitude"]
    found = await source.search(PoiQuery(latitude=lat, longitude=lon, distance=1, maxresults=10))
    assert sorted(c.id for c in found) == [1, 5]
    assert [c.id for c in await source.get_chargers([1, 2, 3, 4, 5])] == [1, 5]


async def test_modified_since_lists_changes_oldest_first_like_the_client() -> None:
    source = LocalSource.from_pois(shared_pois(), shared_reference())
    since = datetime(2023, 5, 27, tzinfo=UTC)
    changed = await source.modified_since(since, bbox=((51.6, -0.1), (51.4, 0.1)))
    assert changed
    stamps = [c.date_last_status_update for c in changed]
    assert all(stamp is not None and stamp >= since for stamp in stamps)
    assert stamps == sorted(stamps)


# Reloading ----------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _write_jsonl(path: Path, pois: Any) -> None:
    """Write a dump the recommended way: to a temporary name, then rename over the old one."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text("\n".join(json.dumps(p) for p in pois) + "\n", encoding="utf-8")
    os.replace(temporary, path)


async def test_the_data_is_reloaded_when_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "poi.jsonl"
    pois = list(shared_pois())
    _write_jsonl(path, pois[:10])
    clock = Clock()
    source = LocalSource(LocalSource.load(path).index, path=path, reload_interval=30, clock=clock)
    assert len(source) == 10
    _write_jsonl(path, pois)
    os.utime(path, ns=(1, 2_000_000_000_000_000_000))

    await source.search(PoiQuery(maxresults=1))
    assert len(source) == 10, "not checked again before the interval"
    clock.now += 31
    old_answer = await source.search(PoiQuery(maxresults=1))  # starts the reload; answers from the old data
    assert len(old_answer) == 1
    assert source._data._reload_task is not None
    await source._data._reload_task
    assert len(source) == len(pois)
    assert source.reloads == 1
    await source.aclose()


async def test_a_reload_that_fails_keeps_the_previous_data(tmp_path: Path) -> None:
    path = tmp_path / "poi.jsonl"
    _write_jsonl(path, shared_pois()[:10])
    source = LocalSource.load(path)
    broken = tmp_path / "broken.tmp"
    broken.write_text("<html>oops</html>")
    os.replace(broken, path)
    assert await source.reload_if_changed() is False
    assert len(source) == 10
    assert await source.search(PoiQuery(maxresults=3))
    _write_jsonl(path, shared_pois()[:12])
    assert await source.reload_if_changed() is True
    assert len(source) == 12


async def test_a_file_overwritten_in_place_never_gives_wrong_chargers(tmp_path: Path) -> None:
    """Written in place instead of renamed, the file no longer holds what the index points to."""
    path = tmp_path / "poi.jsonl"
    pois = list(shared_pois())
    _write_jsonl(path, pois)
    source = LocalSource.load(path, reload_interval=None)
    path.write_text("\n".join(json.dumps(p) for p in reversed(pois)) + "\n", encoding="utf-8")
    found = await source.get_chargers([p["ID"] for p in pois[:40]])
    titles = {p["ID"]: p["AddressInfo"]["Title"].strip() for p in pois}  # read off the data, not parsed by the bot
    for charger in found:  # some are gone until the next reload; none is another charger
        assert charger.name == titles[charger.id]
    assert await source.reload_if_changed() is True
    assert len(await source.get_chargers([p["ID"] for p in pois[:40]])) == 40


async def test_a_directory_dump_is_reloaded_when_a_file_is_added_or_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ocm_bot.ocm.local import loader

    london = [p for p in shared_pois() if (p.get("AddressInfo") or {}).get("CountryID") == 1]
    data = _export_layout(tmp_path, london[:10])
    source = LocalSource.load(data)
    assert await source.reload_if_changed() is False
    (data / "GB" / f"OCM-{london[10]['ID']}.json").write_text(json.dumps(london[10]), encoding="utf-8")
    assert await source.reload_if_changed() is True
    assert len(source) == 11

    monkeypatch.setattr(loader, "SMALL_DIRECTORY_FILES", 0)  # as for OCM's whole export: folder times only
    os.utime(data / "GB", ns=(1_000_000_000, 1_000_000_000))  # coarse file-system clocks: be sure it moves
    assert await source.reload_if_changed() is True  # the signature itself changed form
    replacement = tmp_path / "new.json"
    replacement.write_text(json.dumps(dict(london[0], UsageCost="changed")), encoding="utf-8")
    os.replace(replacement, data / "GB" / f"OCM-{london[0]['ID']}.json")
    assert await source.reload_if_changed() is True
    [changed] = await source.get_chargers([london[0]["ID"]])
    assert changed.usage_cost == "changed"


async def test_an_unchanged_file_is_not_read_again(tmp_path: Path) -> None:
    path = tmp_path / "poi.jsonl"
    _write_jsonl(path, shared_pois()[:5])
    source = LocalSource.load(path)
    assert await source.reload_if_changed() is False
    assert source.reloads == 0


async def test_queries_during_a_reload_are_answered(tmp_path: Path) -> None:
    path = tmp_path / "poi.jsonl"
    _write_jsonl(path, shared_pois())
    source = LocalSource.load(path)
    _write_jsonl(path, shared_pois()[:50])
    reload = asyncio.ensure_future(source.reload_if_changed(force=True))
    query = PoiQuery(latitude=MILE_END[0], longitude=MILE_END[1], distance=3, maxresults=5)
    answers = [await source.search(query) for _ in range(20)]
    assert await reload is True
    assert all(len(answer) == 5 for answer in answers)


# The spatial index against brute force -------------------------------------------------------------


def _generated(count: int, seed: int, spread: float) -> list[dict[str, Any]]:
    """Generated records (not OCM data) around a few centres, some near the antimeridian and the poles."""
    rng = random.Random(seed)
    centres = [(51.5, -0.1), (0.0, 179.95), (-33.9, 151.2), (88.5, 20.0), (-89.0, -60.0), (64.8, -147.7)]
    records = []
    for poi_id in range(1, count + 1):
        lat, lon = rng.choice(centres)
        lat = max(-90.0, min(90.0, lat + rng.uniform(-spread, spread)))
        lon = (lon + rng.uniform(-spread, spread) + 180) % 360 - 180
        records.append(
            {
                "ID": poi_id,
                "AddressInfo": {"Title": f"Generated {poi_id}", "Latitude": lat, "Longitude": lon, "CountryID": 1},
                "Connections": [{"ConnectionTypeID": rng.choice((25, 33)), "PowerKW": rng.choice((7.4, 22, 50, 150))}],
                "StatusTypeID": 50,
                "SubmissionStatusTypeID": 100,
            }
        )
    return records


GENERATED = _generated(1500, seed=3, spread=2.0)
GENERATED_SOURCE = LocalSource.from_pois(GENERATED, shared_reference(), cell_degrees=0.25)


def brute_force_nearest(
    records: list[dict[str, Any]], lat: float, lon: float, radius: float, limit: int, min_kw: float | None
) -> list[tuple[float, int]]:
    """(distance, ID) of the nearest ``limit`` records within ``radius``, measuring every one."""

    def distance(record: dict[str, Any]) -> float:
        return km_between(lat, lon, record["AddressInfo"]["Latitude"], record["AddressInfo"]["Longitude"])

    return sorted(
        (distance(r), r["ID"])
        for r in records
        if distance(r) <= radius and (min_kw is None or r["Connections"][0]["PowerKW"] >= min_kw)
    )[:limit]


@settings(max_examples=150, deadline=None)
@given(
    centre=st.sampled_from(
        [
            (51.5, -0.1),
            (0.0, 179.95),
            (0.0, -179.9),
            (-33.9, 151.2),
            (88.5, 20.0),
            (90.0, 0.0),
            (-89.0, -60.0),
            (64.8, -147.7),
            (10.0, 10.0),
        ]
    ),
    dlat=st.floats(-3, 3),
    dlon=st.floats(-3, 3),
    radius=st.floats(0.5, 800),
    limit=st.integers(1, 60),
    min_kw=st.sampled_from([None, 22.0, 150.0]),
)
def test_nearest_equals_brute_force_everywhere(
    centre: tuple[float, float], dlat: float, dlon: float, radius: float, limit: int, min_kw: float | None
) -> None:
    lat = max(-90.0, min(90.0, centre[0] + dlat))
    lon = (centre[1] + dlon + 180) % 360 - 180
    query = PoiQuery(latitude=lat, longitude=lon, distance=radius, maxresults=limit, minpowerkw=min_kw)
    found = asyncio.run(GENERATED_SOURCE.search(query))
    matching = brute_force_nearest(GENERATED, lat, lon, radius, limit, min_kw)
    found_distances = [km_between(lat, lon, c.latitude, c.longitude) for c in found]
    assert len(found) == len(matching)
    assert all(math.isclose(a, b, abs_tol=1e-6) for a, (b, _) in zip(found_distances, matching, strict=True))
    # the same chargers, except that points at one place (the pole) may swap at the last place
    clear = [poi_id for d, poi_id in matching if d < matching[-1][0] - 1e-6] if matching else []
    assert set(clear) <= {c.id for c in found}


async def test_boxes_and_routes_across_a_whole_region_match_brute_force() -> None:
    box = ((53.0, -2.0), (50.0, 1.5))
    found = await GENERATED_SOURCE.search(PoiQuery(boundingbox=box, maxresults=2000))
    inside = {
        r["ID"]
        for r in GENERATED
        if 50.0 <= r["AddressInfo"]["Latitude"] <= 53.0 and -2.0 <= r["AddressInfo"]["Longitude"] <= 1.5
    }
    assert inside and {c.id for c in found} == inside


def _dense_city(count: int, seed: int) -> list[dict[str, Any]]:
    """Generated records (not OCM data): two dense cities, one across the antimeridian, thousands per 0.1° cell."""
    rng = random.Random(seed)
    records = []
    for poi_id in range(1, count + 1):
        lat, lon = rng.choice([(48.85, 2.35), (-16.5, 179.98)])
        spread = rng.choice([0.02, 0.1, 0.4])
        lat += rng.gauss(0, spread)
        lon = (lon + rng.gauss(0, spread) + 180) % 360 - 180
        records.append(
            {
                "ID": poi_id,
                "AddressInfo": {"Title": f"Generated {poi_id}", "Latitude": lat, "Longitude": lon, "CountryID": 1},
                "Connections": [{"ConnectionTypeID": rng.choice((25, 33)), "PowerKW": rng.choice((7.4, 22, 50, 150))}],
                "StatusTypeID": 50,
                "SubmissionStatusTypeID": 100,
            }
        )
    return records


DENSE = _dense_city(6000, seed=5)
DENSE_SOURCE = LocalSource.from_pois(DENSE, shared_reference())  # the default cell, as a dump is loaded


@settings(max_examples=120, deadline=None)
@given(
    centre=st.sampled_from([(48.85, 2.35), (-16.5, 179.98), (-16.5, -179.99)]),
    dlat=st.floats(-0.6, 0.6),
    dlon=st.floats(-0.6, 0.6),
    radius=st.floats(0.05, 60),
    limit=st.integers(1, 40),
    min_kw=st.sampled_from([None, 50.0, 150.0]),
)
def test_nearest_in_a_dense_city_equals_brute_force(
    centre: tuple[float, float], dlat: float, dlon: float, radius: float, limit: int, min_kw: float | None
) -> None:
    # Dense cells are answered from the finer grid; the answer must be the same as measuring everything.
    assert DENSE_SOURCE.index.grid.fine is not None
    lat = centre[0] + dlat
    lon = (centre[1] + dlon + 180) % 360 - 180
    query = PoiQuery(latitude=lat, longitude=lon, distance=radius, maxresults=limit, minpowerkw=min_kw)
    found = asyncio.run(DENSE_SOURCE.search(query))
    matching = brute_force_nearest(DENSE, lat, lon, radius, limit, min_kw)
    assert [c.id for c in found] == [poi_id for _, poi_id in matching]
