"""The demo's offline geocoder: place names near the bundled chargers, no Nominatim."""

from __future__ import annotations

import pytest

from ocm_bot.demo.gazetteer import OfflineGeocoder
from ocm_bot.ocm.local import LocalSource
from ocm_bot.ocm.query import PoiQuery


@pytest.fixture(scope="module")
def geocoder() -> OfflineGeocoder:
    return OfflineGeocoder.bundled()


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("Mile End", "Mile End, London"),
        ("Aberford Rd, Garforth, Leeds LS25 1PZ", "Garforth, Leeds"),
        ("Pioneer Courthouse Square, Portland", "Pioneer Courthouse Square, Portland"),
        ("gdansk", "Gdańsk, województwo pomorskie"),
        ("MÜNCHEN", "München, Bayern"),
        ("salt lake city", "Salt Lake City, Utah"),
    ],
)
async def test_a_typed_place_resolves_to_the_best_place(geocoder: OfflineGeocoder, typed: str, first: str) -> None:
    places = await geocoder.search(typed)
    assert places[0].short_label == first


async def test_an_unknown_place_is_no_place(geocoder: OfflineGeocoder) -> None:
    assert await geocoder.search("Atlantis") == []
    assert await geocoder.search("  ,, ") == []


async def test_limit_and_order(geocoder: OfflineGeocoder) -> None:
    places = await geocoder.search("Pioneer Courthouse Square, Portland", limit=1)
    assert [p.short_label for p in places] == ["Pioneer Courthouse Square, Portland"]


async def test_every_gazetteer_place_near_bundled_chargers_finds_some(geocoder: OfflineGeocoder) -> None:
    """The demo's places are there for the bundled data: most of them have a charger within 25 km."""
    source = LocalSource.bundled()
    without = []
    for name in geocoder.place_names:
        [place, *_] = await geocoder.search(name)
        query = PoiQuery(latitude=place.point.latitude, longitude=place.point.longitude, distance=25, maxresults=1)
        if not await source.search(query):
            without.append(name)
    assert len(without) <= 3, without
