"""One contract for every :class:`~ocm_bot.ocm.source.ChargerSource`: the API client and the local source.

Subclass :class:`ChargerSourceContract` and give it a ``source`` fixture that serves exactly the real
OCM records of ``../shared/ocm/poi-samples.json`` and ``poi-more.json`` (the fake OCM server's
default data). Every test checks answers against a brute-force reading of those records (parsed
by the client's parser), so both sources must agree with OCM's documented behaviour, not with
each other's quirks::

    class TestLocalSourceContract(ChargerSourceContract):
        @pytest.fixture
        def source(self):
            return LocalSource.from_pois(shared_pois(), shared_reference())

Queries stay within what the API client sends unchanged: ``maxresults`` at most 200, radii at
most 100 km, and always an explicit ``maxresults``.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from ocm_bot.ocm.models import Charger
from ocm_bot.ocm.parse import parse_pois
from ocm_bot.ocm.query import PoiQuery, SortBy
from ocm_bot.ocm.reference import ReferenceData

SHARED_OCM = Path(__file__).resolve().parents[2].parent / "shared" / "ocm"
MILE_END = (51.5225, -0.0375)  # east London: 100 real compact POIs within about 2 km
PORTLAND = (45.5122, -122.6587)  # Portland, OR, by the river: verbose NREL and OCM records
SALT_LAKE_CITY = (40.7608, -111.8910)
REMOVED = {200, 210}
PUBLISHED = {100, 200}


@cache
def shared_pois() -> tuple[dict[str, Any], ...]:
    """The raw OCM records every source under contract serves."""
    records: list[dict[str, Any]] = []
    for name in ("poi-samples.json", "poi-more.json"):
        records.extend(json.loads((SHARED_OCM / name).read_text(encoding="utf-8")))
    return tuple(records)


@cache
def shared_reference() -> ReferenceData:
    return ReferenceData.from_json(json.loads((SHARED_OCM / "referencedata.json").read_text(encoding="utf-8")))


@cache
def shared_chargers() -> tuple[Charger, ...]:
    """The records as the bot sees them: what OCM would list (not removed, published)."""
    chargers = parse_pois(list(shared_pois()), shared_reference())
    return tuple(c for c in chargers if _listed(c))


def _listed(charger: Charger) -> bool:
    status = charger.status.id if charger.status else None
    submission = charger.submission_status.id if charger.submission_status else None
    return status not in REMOVED and (submission is None or submission in PUBLISHED)


def km_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    h = (
        math.sin(math.radians(lat2 - lat1) / 2) ** 2
        + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2)) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def km_from(point: tuple[float, float]) -> Callable[[Charger], float]:
    return lambda charger: km_between(point[0], point[1], charger.latitude, charger.longitude)


Predicate = Callable[[Charger], bool]


def powers(charger: Charger) -> list[float]:
    return [c.power_kw for c in charger.connections if c.power_kw is not None]


def assert_nearest(
    found: list[Charger], point: tuple[float, float], radius_km: float, limit: int, wanted: Predicate = bool
) -> None:
    """``found`` is the ``limit`` nearest chargers within ``radius_km`` that satisfy ``wanted``, nearest first.

    Chargers at exactly the same distance may come in any order, and either may fill the last place.
    """
    distance = km_from(point)
    matching = sorted((c for c in shared_chargers() if wanted(c) and distance(c) <= radius_km), key=distance)
    assert len(found) == min(limit, len(matching)), [c.id for c in found]
    assert all(wanted(c) for c in found)
    distances = [distance(c) for c in found]
    assert distances == sorted(distances), "not nearest first"
    assert all(d <= radius_km + 1e-6 for d in distances)
    assert len({c.id for c in found}) == len(found), "a charger twice"
    if found:
        farthest = distances[-1]
        closer = {c.id for c in matching if distance(c) < farthest - 1e-9}
        assert closer <= {c.id for c in found}, f"missed nearer chargers {closer - {c.id for c in found}}"


def expected_ids(wanted: Predicate, *, order: Callable[[Charger], Any], limit: int) -> list[int]:
    return [c.id for c in sorted((c for c in shared_chargers() if wanted(c)), key=order)][:limit]


class ChargerSourceContract:
    """The behaviour every charger source shares. Subclasses provide the ``source`` fixture."""

    @pytest.fixture
    def source(self) -> Any:  # pragma: no cover - always overridden
        raise NotImplementedError

    # Nearest with a radius ---------------------------------------------------------------------

    async def test_nearest_chargers_come_first_and_within_the_radius(self, source: Any) -> None:
        found = await source.search(PoiQuery(latitude=MILE_END[0], longitude=MILE_END[1], distance=1, maxresults=20))
        assert_nearest(found, MILE_END, 1.0, 20)

    async def test_a_radius_in_miles_is_converted(self, source: Any) -> None:
        query = PoiQuery(
            latitude=MILE_END[0], longitude=MILE_END[1], distance=1, distance_in_miles=True, maxresults=100
        )
        found = await source.search(query)
        assert_nearest(found, MILE_END, 1.609344, 100)  # km per international mile
        assert any(km_from(MILE_END)(c) > 1.2 for c in found), "a mile reaches beyond 1.2 km"

    async def test_maxresults_keeps_only_the_nearest(self, source: Any) -> None:
        found = await source.search(PoiQuery(latitude=MILE_END[0], longitude=MILE_END[1], distance=5, maxresults=3))
        assert_nearest(found, MILE_END, 5.0, 3)

    async def test_nothing_within_the_radius_is_an_empty_list(self, source: Any) -> None:
        mid_atlantic = PoiQuery(latitude=40.0, longitude=-40.0, distance=100, maxresults=10)
        assert await source.search(mid_atlantic) == []

    # Filters -----------------------------------------------------------------------------------

    async def test_minimum_power_keeps_chargers_with_a_fast_enough_connection(self, source: Any) -> None:
        query = PoiQuery(latitude=MILE_END[0], longitude=MILE_END[1], distance=5, maxresults=50, minpowerkw=22)
        found = await source.search(query)
        assert found, "the east London records include 22 kW and faster connections"
        assert_nearest(found, MILE_END, 5.0, 50, lambda c: any(p >= 22 for p in powers(c)))

    async def test_maximum_power_keeps_chargers_with_a_slow_enough_connection(self, source: Any) -> None:
        query = PoiQuery(latitude=MILE_END[0], longitude=MILE_END[1], distance=5, maxresults=50, maxpowerkw=6)
        found = await source.search(query)
        assert found
        assert_nearest(found, MILE_END, 5.0, 50, lambda c: any(p <= 6 for p in powers(c)))

    async def test_connection_type_filter_finds_every_matching_charger(self, source: Any) -> None:
        types = (25, 33)  # Type 2 (Socket Only), CCS (Type 2)
        query = PoiQuery(
            latitude=MILE_END[0], longitude=MILE_END[1], distance=5, maxresults=100, connectiontypeid=types
        )
        found = await source.search(query)
        assert found
        assert_nearest(
            found,
            MILE_END,
            5.0,
            100,
            lambda c: any(x.connection_type is not None and x.connection_type.id in types for x in c.connections),
        )

    async def test_level_filter(self, source: Any) -> None:
        query = PoiQuery(latitude=SALT_LAKE_CITY[0], longitude=SALT_LAKE_CITY[1], distance=30, maxresults=50, levelid=3)
        found = await source.search(query)
        assert_nearest(
            found,
            SALT_LAKE_CITY,
            30.0,
            50,
            lambda c: any(x.level is not None and x.level.id == 3 for x in c.connections),
        )

    async def test_operator_filter(self, source: Any) -> None:
        operator = next(c.operator.id for c in shared_chargers() if c.operator is not None and c.latitude > 51)
        query = PoiQuery(latitude=MILE_END[0], longitude=MILE_END[1], distance=20, maxresults=100, operatorid=operator)
        found = await source.search(query)
        assert found
        assert_nearest(found, MILE_END, 20.0, 100, lambda c: c.operator is not None and c.operator.id == operator)

    async def test_usage_type_filter(self, source: Any) -> None:
        query = PoiQuery(latitude=PORTLAND[0], longitude=PORTLAND[1], distance=30, maxresults=50, usagetypeid=(1, 4))
        found = await source.search(query)
        assert found
        assert_nearest(found, PORTLAND, 30.0, 50, lambda c: c.usage_type is not None and c.usage_type.id in (1, 4))

    async def test_status_filter(self, source: Any) -> None:
        query = PoiQuery(latitude=MILE_END[0], longitude=MILE_END[1], distance=5, maxresults=100, statustypeid=50)
        found = await source.search(query)
        assert found
        assert_nearest(found, MILE_END, 5.0, 100, lambda c: c.status is not None and c.status.id == 50)

    async def test_data_provider_filter(self, source: Any) -> None:
        query = PoiQuery(latitude=MILE_END[0], longitude=MILE_END[1], distance=5, maxresults=100, dataproviderid=18)
        found = await source.search(query)
        assert found, "UK National Charge Point Registry records are in the sample"
        assert_nearest(found, MILE_END, 5.0, 100, lambda c: c.data_provider is not None and c.data_provider.id == 18)

    async def test_open_data_only(self, source: Any) -> None:
        query = PoiQuery(latitude=PORTLAND[0], longitude=PORTLAND[1], distance=40, maxresults=100, opendata=True)
        found = await source.search(query)
        assert found
        assert_nearest(
            found,
            PORTLAND,
            40.0,
            100,
            lambda c: c.data_provider is not None and c.data_provider.is_open_data_licensed is True,
        )

    async def test_country_code_and_country_id_select_the_same_chargers(self, source: Any) -> None:
        by_code = await source.search(PoiQuery(countrycode="AD", maxresults=50))
        by_id = await source.search(PoiQuery(countryid=10, maxresults=50))
        andorra = expected_ids(
            lambda c: c.address.country is not None and c.address.country.id == 10, order=lambda c: -c.id, limit=50
        )
        assert andorra, "the sample has a charger in Andorra"
        assert [c.id for c in by_code] == [c.id for c in by_id] == andorra

    async def test_chargepointid_picks_chargers_by_id(self, source: Any) -> None:
        found = await source.search(PoiQuery(chargepointid=(3428, 100627, 52224), maxresults=10))
        assert sorted(c.id for c in found) == [3428, 52224, 100627]

    async def test_without_a_point_the_highest_ids_come_first(self, source: Any) -> None:
        found = await source.search(PoiQuery(maxresults=25))
        assert [c.id for c in found] == expected_ids(bool, order=lambda c: -c.id, limit=25)

    async def test_modifiedsince_oldest_change_first(self, source: Any) -> None:
        since = datetime(2023, 5, 1, tzinfo=UTC)
        found = await source.search(PoiQuery(modifiedsince=since, sortby=SortBy.MODIFIED_ASC, maxresults=200))

        def changed(c: Charger) -> bool:
            return c.date_last_status_update is not None and c.date_last_status_update >= since

        assert found
        assert {c.id for c in found} == set(expected_ids(changed, order=lambda c: c.id, limit=200))
        stamps = [c.date_last_status_update for c in found]
        assert stamps == sorted(stamps)

    async def test_greaterthanid_pages_through_every_charger_by_id(self, source: Any) -> None:
        seen: list[int] = []
        after = 0
        while True:
            page = await source.search(PoiQuery(greaterthanid=after, sortby=SortBy.ID_ASC, maxresults=100))
            if not page:
                break
            seen.extend(c.id for c in page)
            after = page[-1].id
        assert seen == sorted(c.id for c in shared_chargers())

    async def test_created_order(self, source: Any) -> None:
        found = await source.search(PoiQuery(countryid=2, sortby=SortBy.CREATED_ASC, maxresults=30))
        dates = [c.date_created for c in found]
        assert len(found) == 30 and None not in dates
        assert dates == sorted(dates)

    # Areas -------------------------------------------------------------------------------------

    async def test_bounding_box(self, source: Any) -> None:
        north, west, south, east = 51.52, -0.04, 51.51, -0.02
        found = await source.search(PoiQuery(boundingbox=((north, west), (south, east)), maxresults=200))

        def inside(c: Charger) -> bool:
            return south <= c.latitude <= north and west <= c.longitude <= east

        assert found
        assert {c.id for c in found} == set(expected_ids(inside, order=lambda c: c.id, limit=200))

    async def test_polygon(self, source: Any) -> None:
        triangle = ((51.53, -0.045), (51.51, -0.045), (51.51, -0.015))  # west side and south side of Mile End
        found = await source.search(PoiQuery(polygon=triangle, maxresults=200))

        def inside(c: Charger) -> bool:
            # right-angled triangle: south of the hypotenuse from (51.53, -0.045) to (51.51, -0.015)
            if not (51.51 <= c.latitude <= 51.53 and -0.045 <= c.longitude <= -0.015):
                return False
            return c.latitude - 51.51 <= (51.53 - 51.51) * (-0.015 - c.longitude) / (-0.015 + 0.045)

        assert found
        wanted = set(expected_ids(inside, order=lambda c: c.id, limit=200))
        found_ids = {c.id for c in found}
        # a charger exactly on an edge may fall either way; none is within 1 m of one here
        assert found_ids == wanted

    async def test_polyline_finds_chargers_along_a_route(self, source: Any) -> None:
        route = ((45.52, -122.68), (45.50, -122.665), (45.42, -122.667))  # Portland to Lake Oswego
        found = await source.search(PoiQuery(polyline=route, distance=1, maxresults=200))
        assert found
        ids = {c.id for c in found}
        assert 3428 in ids, "OMSI is next to the route"
        gladstone = {4789, 29278, 144118}  # about 5 km east of the route's end
        assert not ids & gladstone
        for charger in found:
            assert _near_route(charger, route, 1.0 + 0.05)

    # By ID and reference data ------------------------------------------------------------------

    async def test_get_chargers_keeps_the_order_asked_and_drops_unknown_ids(self, source: Any) -> None:
        found = await source.get_chargers([100627, 987654321, 3428, 52224])
        assert [c.id for c in found] == [100627, 3428, 52224]
        assert found[0].name == "Lidl-Garforth"

    async def test_get_chargers_with_comments(self, source: Any) -> None:
        with_comments = next(c for c in shared_chargers() if c.comments)
        [plain] = await source.get_chargers([with_comments.id])
        [full] = await source.get_chargers([with_comments.id], include_comments=True)
        assert plain.comments == ()
        assert len(full.comments) == len(with_comments.comments)
        assert full.comments[0].text == with_comments.comments[0].text

    async def test_chargers_equal_what_the_parser_makes_of_the_records(self, source: Any) -> None:
        by_id = {c.id: c for c in shared_chargers()}
        found = await source.search(PoiQuery(latitude=PORTLAND[0], longitude=PORTLAND[1], distance=3, maxresults=10))
        assert found
        for charger in found:
            assert charger.address == by_id[charger.id].address
            assert charger.connections == by_id[charger.id].connections
            assert charger.data_provider == by_id[charger.id].data_provider

    async def test_reference_data_resolves_names(self, source: Any) -> None:
        reference = await source.reference_data()
        assert reference.connection_types[33].title.startswith("CCS")
        assert reference.status_types[50].is_operational is True
        assert reference.country_by_iso("GB") is not None
        assert reference.checkin_status_types, "check-ins need the outcome list"


def _near_route(charger: Charger, route: tuple[tuple[float, float], ...], km: float) -> bool:
    """Whether a charger is within ``km`` of the route, sampling each leg every 10 m."""
    for (lat1, lon1), (lat2, lon2) in itertools.pairwise(route):
        steps = max(1, int(km_between(lat1, lon1, lat2, lon2) * 100))
        for step in range(steps + 1):
            t = step / steps
            if (
                km_between(lat1 + (lat2 - lat1) * t, lon1 + (lon2 - lon1) * t, charger.latitude, charger.longitude)
                <= km
            ):
                return True
    return False
