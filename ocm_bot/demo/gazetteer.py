"""An offline geocoder for the demo: the places near the bundled chargers, without Nominatim.

It has the interface of :class:`ocm_bot.geocoding.Geocoder` (``search`` and ``close``), so the
search feature uses it unchanged. A place matches when one of its names appears in the text as
whole words, ignoring case, accents and punctuation; the longest name found wins, so
"Aberford Rd, Garforth" finds Garforth and "Pioneer Courthouse Square, Portland" finds the
square before the city.

Example::

    geocoder = OfflineGeocoder.bundled()
    [place, *_] = await geocoder.search("Mile End")
    place.point          # GeoPoint(latitude=51.5254, longitude=-0.0335)
    place.bounds         # (51.516, 51.532, -0.047, -0.022): south, north, west, east (for /area)
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ocm_bot.domain.geo import GeoPoint
from ocm_bot.geocoding import MAX_MATCHES, GeocodedPlace

GAZETTEER_FILE = Path(__file__).resolve().parent.parent / "data" / "gazetteer.json"
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def normalise(text: str) -> str:
    """Lower case, accents and punctuation removed, words separated by one space: "Gdańsk," -> "gdansk"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NOT_WORD.sub(" ", plain.replace("ł", "l").replace("ß", "ss")).strip()


@dataclass(frozen=True, slots=True)
class GazetteerPlace:
    names: tuple[str, ...]  # normalised name and aliases
    place: GeocodedPlace


class OfflineGeocoder:
    """Place names to points from a small bundled list (see ``ocm_bot/data/gazetteer.json``)."""

    def __init__(self, places: list[GazetteerPlace]) -> None:
        self._places = places
        self.requests = 0

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> OfflineGeocoder:
        places = []
        for item in document.get("places", ()):
            names = tuple(normalise(name) for name in (item["name"], *item.get("aliases", ())) if normalise(name))
            bounds = item.get("bounds")
            place = GeocodedPlace(
                label=item.get("label") or item["name"],
                point=GeoPoint(float(item["lat"]), float(item["lon"])),
                country_code=item.get("country_code"),
                bounds=(float(bounds[0]), float(bounds[1]), float(bounds[2]), float(bounds[3])) if bounds else None,
                outline=tuple(tuple((float(lat), float(lon)) for lat, lon in ring) for ring in item.get("outline", ())),
            )
            places.append(GazetteerPlace(names, place))
        return cls(places)

    @classmethod
    def bundled(cls, path: Path = GAZETTEER_FILE) -> OfflineGeocoder:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))

    @property
    def place_names(self) -> list[str]:
        """The main name of every known place (for the demo's help text)."""
        return [entry.place.label.split(",")[0] for entry in self._places]

    async def search(
        self, query: str, *, language: str | None = None, limit: int = MAX_MATCHES, outline: bool = False
    ) -> list[GeocodedPlace]:
        """Up to ``limit`` known places named in ``query``, best first; [] when none is."""
        self.requests += 1
        text = f" {normalise(query)} "
        if not text.strip():
            return []
        scored = []
        for order, entry in enumerate(self._places):
            matched = [name for name in entry.names if f" {name} " in text]
            if matched:
                longest = max(len(name) for name in matched)
                whole = any(f" {name} " == text for name in matched)
                scored.append((not whole, -longest, order, entry.place))
        scored.sort(key=lambda item: item[:3])
        places = [place for *_, place in scored[:limit]]
        # Like Nominatim: the outline only when asked for (``polygon_geojson``), the bounding box always.
        return places if outline else [replace(place, outline=()) for place in places]

    async def close(self) -> None:
        """Nothing to close (the same interface as the Nominatim geocoder)."""
