from dataclasses import replace

import pytest
from geopy.distance import great_circle

from ocm_bot.domain.filters import FilterKey
from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.preferences import DistanceUnitChoice, UsageChoice, UserPreferences
from ocm_bot.domain.search import MAX_RADIUS_KM, SearchService, wider_radius
from ocm_bot.ocm.errors import OcmUnavailable
from tests.domain.samples import PORTLAND, SampleSource

EVERYTHING = UserPreferences(operational_only=False, usage=UsageChoice.INCLUDE_RESTRICTED)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def source():
    return SampleSource()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def service(source, clock):
    return SearchService(source, clock=clock)


def great_circle_km(a: GeoPoint, b: GeoPoint) -> float:
    """The oracle: geopy's great-circle distance on OCM's 6371 km sphere, not the bot's own geometry."""
    return great_circle((a.latitude, a.longitude), (b.latitude, b.longitude), radius=6371.0).km


# The sample POIs within 10 km of PORTLAND, nearest first, read off the data (not computed by the bot).
PORTLAND_10KM = [3509, 3069, 8473, 3428, 97419, 79829, 144407, 144411, 144414, 29296]


async def test_nearby_returns_chargers_nearest_first_with_distances(service):
    result = await service.nearby(PORTLAND, EVERYTHING)
    assert [hit.charger.id for hit in result.hits] == PORTLAND_10KM
    for hit in result.hits:
        where = GeoPoint(hit.charger.latitude, hit.charger.longitude)
        assert hit.distance_km == pytest.approx(great_circle_km(PORTLAND, where))
        assert 0 <= hit.bearing < 360
    assert result.country_iso == "US"


async def test_removed_chargers_never_appear(service):
    result = await service.nearby(PORTLAND, EVERYTHING, radius_km=50)
    assert all(hit.charger.status is None or hit.charger.status.id not in (200, 210) for hit in result.hits)


async def test_paging_uses_the_kept_result_without_asking_ocm(service, source):
    result = await service.nearby(PORTLAND, replace(EVERYTHING, page_size=3))
    assert len(source.queries) == 1
    kept = await service.get(result.id)
    assert kept is result
    pages = [kept.page(n) for n in range(kept.page_count())]
    assert [hit for page in pages for hit in page] == list(result.hits)
    assert kept.page(99) == pages[-1]
    assert len(source.queries) == 1


async def test_unknown_or_expired_result_ids_are_none(service, clock):
    result = await service.nearby(PORTLAND, EVERYTHING)
    assert await service.get("nope") is None
    clock.now += 3601
    assert await service.get(result.id) is None


async def test_a_narrower_filter_refilters_the_cached_answer(service, source):
    await service.nearby(PORTLAND, EVERYTHING)
    narrower = replace(EVERYTHING, min_power_kw=11, operational_only=True, usage=UsageChoice.PUBLIC_ONLY)
    result = await service.nearby(PORTLAND, narrower)
    assert len(source.queries) == 1
    # No sample POI near PORTLAND is operational, public and 11 kW+ (read off the data).
    assert [hit.charger.id for hit in result.hits] == []


async def test_a_wider_server_filter_asks_ocm_again(service, source):
    await service.nearby(PORTLAND, replace(EVERYTHING, min_power_kw=11))
    await service.nearby(PORTLAND, EVERYTHING)
    assert len(source.queries) == 2
    assert source.queries[0].minpowerkw == 11 and source.queries[1].minpowerkw is None


async def test_a_new_place_asks_ocm(service, source):
    await service.nearby(PORTLAND, EVERYTHING)
    await service.nearby(GeoPoint(53.79762, -1.379818), EVERYTHING)
    assert len(source.queries) == 2


async def test_moving_a_little_inside_a_complete_answer_reuses_it(service, source):
    await service.nearby(PORTLAND, replace(EVERYTHING, radius_km=25))
    moved = GeoPoint(45.5122, -122.6587 + 0.01)  # about 800 m east
    result = await service.nearby(moved, replace(EVERYTHING, radius_km=10))
    assert len(source.queries) == 1
    assert result.hits[0].distance_km == pytest.approx(
        great_circle_km(moved, GeoPoint(result.hits[0].charger.latitude, result.hits[0].charger.longitude))
    )


async def test_cached_answers_expire(service, source, clock):
    await service.nearby(PORTLAND, EVERYTHING)
    clock.now += 601
    await service.nearby(PORTLAND, EVERYTHING)
    assert len(source.queries) == 2


async def test_a_truncated_answer_only_counts_for_the_circle_it_covers(source, clock):
    service = SearchService(source, max_results=5, clock=clock)
    first = await service.nearby(PORTLAND, EVERYTHING, radius_km=25)
    assert len(first.hits) == 5
    assert not first.complete  # the five nearest, not every charger within 25 km
    assert (await service.nearby(PORTLAND, EVERYTHING, radius_km=1)).complete
    farthest = max(hit.distance_km for hit in first.hits)
    # 5 km away the 5 cached chargers cover nothing useful: OCM is asked again.
    away = GeoPoint(45.5122, -122.6587 + 0.07)
    await service.nearby(away, EVERYTHING, radius_km=25)
    assert len(source.queries) == 2
    assert farthest < 25


async def test_few_results_name_the_filters_that_hide_them(service):
    prefs = replace(
        UserPreferences(), min_power_kw=3, usage=UsageChoice.PUBLIC_ONLY, operational_only=True, radius_km=1.4
    )
    result = await service.nearby(PORTLAND, prefs)
    assert result.few
    keys = [hint.key for hint in result.relax]
    assert FilterKey.MIN_POWER in keys
    power = next(hint for hint in result.relax if hint.key is FilterKey.MIN_POWER)
    assert power.hidden is None  # OCM applied it: how many it hides is not known
    usage = next(hint for hint in result.relax if hint.key is FilterKey.USAGE)
    assert usage.hidden == 2  # Kimpton Riverplace (membership) and the Marriott (staff and guests)
    assert result.can_widen


async def test_relaxing_a_local_filter_needs_no_ocm_call(service, source):
    prefs = replace(UserPreferences(), usage=UsageChoice.PUBLIC_ONLY, radius_km=1.4)
    result = await service.nearby(PORTLAND, prefs)
    usage = [hint for hint in result.relax if hint.key is FilterKey.USAGE]
    assert usage and usage[0].hidden
    relaxed = await service.relax(result.id, FilterKey.USAGE)
    assert len(source.queries) == 1
    assert len(relaxed.hits) == len(result.hits) + usage[0].hidden


async def test_wider_radius_steps_up_and_asks_ocm(service, source):
    result = await service.nearby(PORTLAND, replace(EVERYTHING, radius_km=2, unit=DistanceUnitChoice.KM))
    wider = await service.widen(result.id)
    assert wider.radius_km == 5
    assert len(wider.hits) >= len(result.hits)
    assert len(source.queries) == 2
    assert wider_radius(50) == 100
    assert wider_radius(MAX_RADIUS_KM) == MAX_RADIUS_KM


async def test_wider_radius_steps_in_miles_where_the_driver_reads_miles(service):
    result = await service.nearby(PORTLAND, replace(EVERYTHING, radius_km=2))  # Portland: miles
    wider = await service.widen(result.id)
    assert wider.radius_km == pytest.approx(3 * 1.609344)  # 1.2 mi -> 3 mi, a step of the radius menu
    assert wider_radius(10, DistanceUnitChoice.MILES) == pytest.approx(15 * 1.609344)
    assert wider_radius(30 * 1.609344, DistanceUnitChoice.MILES) == MAX_RADIUS_KM


async def test_a_point_in_the_ocean_has_no_hits_and_offers_a_wider_radius(service):
    result = await service.nearby(GeoPoint(0, -30), UserPreferences())
    assert result.hits == () and result.few and result.can_widen


async def test_chargers_by_id_are_kept_for_a_while(service, source):
    first = await service.charger(100627, include_comments=True)
    again = await service.charger(100627, include_comments=True)
    plain = await service.charger(100627)
    assert first is again and first.comments
    assert plain.id == first.id and plain.comments == ()  # the one cache keeps a copy without comments
    assert source.lookups == [([100627], True)]
    assert await service.charger(1) is None


async def test_a_hanging_ocm_is_given_up_on(clock):
    import asyncio

    class Hanging(SampleSource):
        async def search(self, query):
            await asyncio.sleep(30)

    service = SearchService(Hanging(), deadline=0.05, clock=clock)
    with pytest.raises(OcmUnavailable):
        await service.nearby(PORTLAND, EVERYTHING)


async def test_notes_keep_values_for_buttons(service):
    note = await service.remember(["a", "b"])
    assert await service.recall(note) == ["a", "b"]
    assert await service.recall("other") is None
