"""Search results kept for their buttons: another instance sharing the storage pages them too."""

from dataclasses import replace
from pathlib import Path

import pytest

from ocm_bot.domain.filters import FilterKey
from ocm_bot.domain.preferences import UsageChoice, UserPreferences
from ocm_bot.domain.results import StoredResults
from ocm_bot.domain.search import SearchService
from ocm_bot.storage import open_storage
from tests.domain.samples import PORTLAND, SampleSource

EVERYTHING = UserPreferences(operational_only=False, usage=UsageChoice.INCLUDE_RESTRICTED)


@pytest.fixture
async def storage(tmp_path: Path):
    storage = await open_storage(None, data_dir=tmp_path, secret=None)
    yield storage
    await storage.close()


async def test_another_instance_reads_a_result_kept_in_storage(storage):
    searched_on = SearchService(SampleSource(), results=StoredResults(storage))
    source_b = SampleSource()
    other = SearchService(source_b, results=StoredResults(storage))
    result = await searched_on.nearby(PORTLAND, replace(EVERYTHING, page_size=3), label="Pioneer Square")
    assert len(result.hits) > 3

    kept = await other.get(result.id)
    assert kept is not None
    assert kept == result  # the same hits, distances, bearings, query and preferences
    assert kept.page(1) == result.page(1)
    assert source_b.queries == []  # the chargers were read by id, not searched again
    assert await other.get(result.id) is kept  # then from this instance's memory


async def test_relax_hints_and_the_country_survive_storage(storage):
    picky = replace(EVERYTHING, min_power_kw=350.0)
    result = await SearchService(SampleSource(), results=StoredResults(storage)).nearby(PORTLAND, picky)
    assert any(hint.key is FilterKey.MIN_POWER for hint in result.relax)
    kept = await SearchService(SampleSource(), results=StoredResults(storage)).get(result.id)
    assert kept is not None
    assert (kept.relax, kept.can_widen, kept.country_iso, kept.complete) == (
        result.relax,
        result.can_widen,
        result.country_iso,
        result.complete,
    )


async def test_an_unknown_id_is_none_on_every_instance(storage):
    assert await SearchService(SampleSource(), results=StoredResults(storage)).get("nope") is None


async def test_a_button_s_note_is_recalled_by_another_instance(storage):
    places = [{"label": "Springfield, Illinois", "lat": 39.8, "lon": -89.65, "country": "us"}]
    note = await SearchService(SampleSource(), results=StoredResults(storage)).remember(places)
    other = SearchService(SampleSource(), results=StoredResults(storage))
    assert await other.recall(note) == places
    assert await other.recall("unknown") is None
