"""The bot on a local OCM dump (``OCM_DATA_FILE``): what a driver sees when the dump holds odd text."""

from __future__ import annotations

import json
from pathlib import Path

from tests.ocm.contract import SHARED_OCM, shared_pois


def _dump_with_title(folder: Path, title_json: str) -> tuple[Path, tuple[float, float]]:
    """A JSON-lines dump of the shared records, the first one titled with raw JSON text ``title_json``."""
    folder.mkdir(parents=True, exist_ok=True)
    first, *rest = shared_pois()
    marked = dict(first, AddressInfo=dict(first["AddressInfo"], Title="@@TITLE@@"))
    lines = [json.dumps(marked).replace('"@@TITLE@@"', title_json), *(json.dumps(poi) for poi in rest)]
    path = folder / "poi.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "referencedata.json").write_bytes((SHARED_OCM / "referencedata.json").read_bytes())
    return path, (first["AddressInfo"]["Latitude"], first["AddressInfo"]["Longitude"])


async def test_a_lone_surrogate_in_a_title_still_gives_a_results_page(start_bot, telegram, tmp_path: Path) -> None:
    dump, (lat, lon) = _dump_with_title(tmp_path / "dump", r'"Broken \ud800 charger"')
    await start_bot(ocm_data_file=dump)
    ada = telegram.user("Ada")
    await ada.send_location(lat, lon)
    results = await ada.wait_for_message(containing="Chargers near", timeout=10)
    assert "Broken \ufffd charger" in results.text
