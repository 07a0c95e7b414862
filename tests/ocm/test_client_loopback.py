"""OcmClient against the loopback OCM server: what reaches OCM, and what the bot gets back.

Frugality (cache, coalescing, caps) is asserted from the server's request log, never from
counters inside the client.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import polyline
import pytest

from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.preferences import UserPreferences
from ocm_bot.domain.search import SearchService
from ocm_bot.ocm.client import CommentSubmission, OcmClient, OcmLimits
from ocm_bot.ocm.errors import (
    OcmAuthError,
    OcmBadResponse,
    OcmBlockedAsRobot,
    OcmBudgetExhausted,
    OcmPasswordlessAccount,
    OcmRejected,
    OcmTooManyRequests,
    OcmUnavailable,
)
from ocm_bot.ocm.parse import parse_pois
from ocm_bot.ocm.query import PoiQuery
from ocm_bot.ocm.reference import ReferenceData
from ocm_bot.ocm.source import SearchAnswer
from tests.fakes.ocm import FakeOcmServer, haversine_km  # OCM's distance, not the client's

BOW = (51.5255, -0.0335)  # east London: 100 real compact POIs from poi-more.json
FAST = OcmLimits(
    connect_timeout=0.5,
    read_timeout=0.4,
    total_timeout=1.0,
    retries=2,
    backoff_base=0.001,
    backoff_max=0.002,
    max_retry_after=5,
)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Sleeps:
    """Records the backoff delays the client asks for, without waiting them out."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def make_client(
    http: httpx.AsyncClient, ocm_server: FakeOcmServer, sleeps: Sleeps, reference_copy: Path
) -> AsyncIterator[Callable[..., OcmClient]]:
    """Clients sharing one reference file, fresh for a day (no reference request at start)."""
    path = reference_copy
    made: list[OcmClient] = []

    def make(**options: Any) -> OcmClient:
        settings: dict[str, Any] = {
            "base_url": ocm_server.url,
            "api_key": ocm_server.api_key,
            "reference_cache_path": path,
            "limits": FAST,
            "sleep": sleeps,
        }
        settings.update(options)
        made.append(OcmClient(http, **settings))
        return made[-1]

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
async def ocm(make_client: Callable[..., OcmClient], ocm_server: FakeOcmServer) -> OcmClient:
    client = make_client()
    await client.start()
    ocm_server.clear()  # tests look at what happens after start-up
    return client


def poi_requests(server: FakeOcmServer) -> list[Any]:
    return server.requests_to("/v3/poi")


# What reaches OCM -------------------------------------------------------------------------------


async def test_api_key_travels_only_in_the_header_with_a_descriptive_user_agent(
    ocm: OcmClient, ocm_server: FakeOcmServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        chargers = await ocm.search(PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=1))
    assert chargers
    [request] = poi_requests(ocm_server)
    assert request.headers["X-API-Key"] == ocm_server.api_key
    assert ocm_server.api_key not in request.query and "key" not in request.params
    assert request.user_agent and request.user_agent.startswith("ocm-bot/")
    assert request.params["client"] == "ocm-bot"
    assert ocm_server.api_key not in caplog.text
    assert ocm_server.api_key not in repr(ocm)


async def test_default_search_asks_for_compact_non_verbose_answers(ocm: OcmClient, ocm_server: FakeOcmServer) -> None:
    await ocm.search(PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=1, maxresults=5))
    [request] = poi_requests(ocm_server)
    assert request.params["compact"] == "true" and request.params["verbose"] == "false"
    assert request.params["distanceunit"] == "km"


async def test_every_search_parameter_reaches_ocm_in_its_documented_format(
    ocm: OcmClient, ocm_server: FakeOcmServer
) -> None:
    route = ((51.53, -0.05), (51.52, -0.03), (51.51, -0.01))
    query = PoiQuery(
        maxresults=7,
        countryid=(1,),
        operatorid=(8, 3),
        connectiontypeid=(33, 25),
        levelid=(3,),
        minpowerkw=22,
        maxpowerkw=350,
        usagetypeid=(1, 4),
        statustypeid=(50,),
        dataproviderid=(1, 18),
        modifiedsince=datetime(2015, 1, 2, 3, 4, 59, tzinfo=UTC),
        opendata=True,
        includecomments=True,
        boundingbox=((51.6, -0.1), (51.4, 0.05)),
        polygon=route,
        polyline=route,
        distance=3,
        sortby="id_asc",
        greaterthanid=10,
    )
    await ocm.search(query)
    [request] = poi_requests(ocm_server)
    assert request.params == {
        "output": "json",
        "client": "ocm-bot",
        "maxresults": "7",
        "countryid": "1",
        "operatorid": "3,8",
        "connectiontypeid": "25,33",
        "levelid": "3",
        "minpowerkw": "22",
        "maxpowerkw": "350",
        "usagetypeid": "1,4",
        "statustypeid": "50",
        "dataproviderid": "1,18",
        "modifiedsince": "2015-01-02T03:04:59Z",
        "opendata": "true",
        "includecomments": "true",
        "verbose": "false",
        "compact": "true",
        "boundingbox": "(51.6,-0.1),(51.4,0.05)",
        "polygon": polyline.encode(list(route)),
        "polyline": polyline.encode(list(route)),
        "distance": "3",
        "distanceunit": "km",
        "sortby": "id_asc",
        "greaterthanid": "10",
    }


async def test_filters_are_understood_by_ocm(ocm: OcmClient) -> None:
    near = await ocm.search(
        PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=2, maxresults=50, connectiontypeid=(33,))
    )
    assert near and all(any(c.connection_type and c.connection_type.id == 33 for c in x.connections) for x in near)
    distances = [haversine_km(*BOW, c.latitude, c.longitude) for c in near]
    assert distances == sorted(distances) and distances[-1] <= 2.0
    box = ((51.53, -0.04), (51.52, -0.02))
    inside = await ocm.search(PoiQuery(boundingbox=box, maxresults=100))
    assert inside and all(51.52 <= c.latitude <= 51.53 and -0.04 <= c.longitude <= -0.02 for c in inside)
    along = await ocm.search(PoiQuery(polyline=((51.5, -0.04), (51.55, -0.04)), distance=0.3, maxresults=100))
    assert along and all(abs(c.longitude + 0.04) < 0.01 for c in along)
    uk = await ocm.search(PoiQuery(countrycode="GB", maxresults=20))
    assert uk and all(c.address.country and c.address.country.iso_code == "GB" for c in uk)


async def test_miles_are_asked_as_miles_and_reused_for_kilometres(ocm: OcmClient, ocm_server: FakeOcmServer) -> None:
    miles = await ocm.search(
        PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=1, distance_in_miles=True, maxresults=100)
    )
    km = await ocm.search(PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=1.609344, maxresults=100))
    [request] = poi_requests(ocm_server)
    assert (request.params["distance"], request.params["distanceunit"]) == ("1", "miles")
    assert miles and [c.id for c in miles] == [c.id for c in km]


async def test_the_same_poi_parses_equally_in_every_shape_ocm_serves(
    ocm: OcmClient, ocm_server: FakeOcmServer, http: httpx.AsyncClient
) -> None:
    base = {"output": "json", "chargepointid": "100627,52224", "includecomments": "true"}
    answers = []
    for shape in (
        {},
        {"verbose": "false"},
        {"compact": "true", "verbose": "false"},
        {"camelcase": "true"},
        {"camelcase": "true", "compact": "true"},
    ):
        response = await http.get(
            f"{ocm_server.url}/poi",
            params={**base, **shape},
            headers={"X-API-Key": ocm_server.api_key, "User-Agent": "ocm-bot-tests/1.0"},
        )
        answers.append(response.json())
    reference = await ocm.reference_data()
    parsed = [sorted(parse_pois(a, reference), key=lambda c: c.id) for a in answers]
    assert len(parsed[0]) == 2 and parsed[0][0].comments
    assert all(p == parsed[0] for p in parsed)


# Failures -----------------------------------------------------------------------------------------

POINT = PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=1)


async def test_hanging_ocm_times_out_as_unavailable(
    make_client: Callable[..., OcmClient], ocm_server: FakeOcmServer
) -> None:
    ocm = make_client(limits=OcmLimits(read_timeout=0.2, total_timeout=0.5, retries=1, backoff_base=0.001))
    ocm_server.inject("hang", times=None)
    with pytest.raises(OcmUnavailable) as caught:
        await ocm.search(POINT)
    assert isinstance(caught.value.__cause__, (httpx.TimeoutException, TimeoutError))
    assert len(poi_requests(ocm_server)) == 2  # first try and one retry


async def test_a_hanging_post_gives_up_at_the_post_timeout_not_the_read_timeout(
    make_client: Callable[..., OcmClient], ocm_server: FakeOcmServer
) -> None:
    """A driver watches "Sending…": a check-in POST waits ``post_timeout``, never the 15 s read timeout."""
    key = ocm_server.add_write_key()
    ocm = make_client(limits=OcmLimits(read_timeout=5.0, total_timeout=5.0, post_timeout=0.3))
    ocm_server.inject("hang", times=None, path_prefix="/v3/comment")
    started = asyncio.get_running_loop().time()
    with pytest.raises(OcmUnavailable):
        await ocm.submit_comment(CommentSubmission(charger_id=100627, rating=4), write_key=key)
    assert asyncio.get_running_loop().time() - started < 1.5
    assert len(ocm_server.requests_to("/v3/comment")) == 1  # never retried


@pytest.mark.parametrize("fault", ["status500", "status503", "502-text", "reset"])
async def test_server_errors_are_retried_then_reported_unavailable(
    ocm: OcmClient, ocm_server: FakeOcmServer, fault: str, sleeps: Sleeps
) -> None:
    ocm_server.inject(fault, times=None)
    with pytest.raises(OcmUnavailable):
        await ocm.search(POINT)
    assert len(poi_requests(ocm_server)) == 3
    assert len(sleeps.delays) == 2


async def test_a_passing_server_error_is_retried_transparently(ocm: OcmClient, ocm_server: FakeOcmServer) -> None:
    ocm_server.inject("502-text", times=1)
    assert await ocm.search(POINT)
    assert [r.status for r in poi_requests(ocm_server)] == [502, 200]


async def test_rate_limit_retry_waits_as_long_as_ocm_asks(
    ocm: OcmClient, ocm_server: FakeOcmServer, sleeps: Sleeps
) -> None:
    ocm_server.inject("429", times=1, retry_after=2)
    assert await ocm.search(POINT)
    assert [r.status for r in poi_requests(ocm_server)] == [429, 200]
    assert sleeps.delays == [2.0]


async def test_a_long_retry_after_is_handed_to_the_caller_at_once(
    ocm: OcmClient, ocm_server: FakeOcmServer, sleeps: Sleeps
) -> None:
    ocm_server.inject("429", times=None, retry_after=60)
    with pytest.raises(OcmTooManyRequests) as caught:
        await ocm.search(POINT)
    assert caught.value.retry_after == 60 and caught.value.status == 429
    assert len(poi_requests(ocm_server)) == 1 and sleeps.delays == []


async def test_retry_afters_are_waited_out_only_while_the_total_stays_short(
    make_client: Callable[..., OcmClient], ocm_server: FakeOcmServer, sleeps: Sleeps
) -> None:
    ocm = make_client(limits=OcmLimits(max_retry_after=3, retries=3, backoff_base=0.001))
    ocm_server.inject("429", times=None, retry_after=2)
    with pytest.raises(OcmTooManyRequests) as caught:  # 2 s and 2 s more would pass the 3 s a driver may wait
        await ocm.search(POINT)
    assert caught.value.retry_after == 2
    assert sleeps.delays == [2.0] and len(poi_requests(ocm_server)) == 2


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("bad-json", OcmBadResponse),
        ("empty", OcmBadResponse),
        ("robot", OcmBlockedAsRobot),
        ("validation-failed", OcmRejected),
    ],
)
async def test_answers_that_are_not_transient_are_not_retried(
    ocm: OcmClient, ocm_server: FakeOcmServer, fault: str, error: type[Exception]
) -> None:
    ocm_server.inject(fault, times=None)
    with pytest.raises(error):
        await ocm.search(POINT)
    assert len(poi_requests(ocm_server)) == 1


async def test_a_robot_like_user_agent_is_blocked_and_ours_is_not(
    make_client: Callable[..., OcmClient], ocm_server: FakeOcmServer
) -> None:
    robot = make_client(user_agent="okhttp/3.9.1")
    with pytest.raises(OcmBlockedAsRobot):
        await robot.search(POINT)
    assert await make_client().search(POINT)


@pytest.mark.parametrize(("key", "message"), [(None, "You must specify an API key"), ("nonsense", "Invalid API key")])
async def test_missing_or_invalid_api_key_is_an_auth_error(
    make_client: Callable[..., OcmClient], key: str | None, message: str
) -> None:
    client = make_client(api_key=key)
    with pytest.raises(OcmAuthError) as caught:
        await client.search(POINT)
    assert caught.value.status == 403 and not caught.value.is_user_token
    assert message in str(caught.value)


# Frugality ----------------------------------------------------------------------------------------


async def test_a_repeated_search_is_answered_from_the_cache(ocm: OcmClient, ocm_server: FakeOcmServer) -> None:
    first = await ocm.search(POINT)
    second = await ocm.search(PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=1.0))
    assert first == second
    assert len(poi_requests(ocm_server)) == 1


async def test_cache_entries_expire(make_client: Callable[..., OcmClient], ocm_server: FakeOcmServer) -> None:
    clock = Clock()
    ocm = make_client(clock=clock)
    await ocm.search(POINT)
    clock.now += FAST.search_ttl + 1
    await ocm.search(POINT)
    assert len(poi_requests(ocm_server)) == 2


@pytest.mark.parametrize(
    "narrower",
    [
        PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=0.8, maxresults=5),
        PoiQuery(latitude=BOW[0] + 0.002, longitude=BOW[1], distance=0.5, maxresults=5),
        PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=1.5, maxresults=5, connectiontypeid=(33,)),
        PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=1.5, maxresults=5, minpowerkw=40),
        PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=1.5, maxresults=5, statustypeid=(50,)),
        PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=1.5, maxresults=5, opendata=True),
        PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=1.5, maxresults=5, operatorid=(3, 8)),
    ],
    ids=["smaller circle", "nearby point", "connector", "power", "status", "opendata", "operator"],
)
async def test_a_search_inside_a_cached_wider_one_is_answered_locally_with_ocms_answer(
    ocm: OcmClient, make_client: Callable[..., OcmClient], ocm_server: FakeOcmServer, narrower: PoiQuery
) -> None:
    await ocm.search(PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=1.5, maxresults=200))
    local = await ocm.search(narrower)
    assert len(poi_requests(ocm_server)) == 1
    direct = await make_client().search(narrower)  # a fresh client asks OCM itself
    assert len(poi_requests(ocm_server)) == 2
    assert local and [c.id for c in local] == [c.id for c in direct]


async def test_a_truncated_wider_search_only_answers_inside_its_farthest_charger(
    ocm: OcmClient, ocm_server: FakeOcmServer
) -> None:
    wide = await ocm.search(PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=5, maxresults=10))
    farthest = max(haversine_km(*BOW, c.latitude, c.longitude) for c in wide)
    assert farthest < 4  # truncated by maxresults: chargers beyond it are unknown
    inside = await ocm.search(PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=farthest * 0.9, maxresults=10))
    assert len(poi_requests(ocm_server)) == 1 and inside
    await ocm.search(PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=4.5, maxresults=20))
    assert len(poi_requests(ocm_server)) == 2


async def test_a_wider_or_extra_filter_search_goes_to_ocm(ocm: OcmClient, ocm_server: FakeOcmServer) -> None:
    await ocm.search(PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=1, maxresults=200, connectiontypeid=(33,)))
    await ocm.search(PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=1, maxresults=200))  # fewer filters
    await ocm.search(PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=2, maxresults=200))  # bigger circle
    await ocm.search(PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=1, maxresults=5, includecomments=True))
    assert len(poi_requests(ocm_server)) == 4


async def test_a_first_page_inside_an_earlier_answer_costs_no_request(
    ocm: OcmClient, ocm_server: FakeOcmServer
) -> None:
    pages = await ocm.search(PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=2, maxresults=40))
    page1 = await ocm.search(PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=2, maxresults=5))
    [request] = poi_requests(ocm_server)
    assert request.params["maxresults"] == "40"  # what was asked, nothing more
    assert len(page1) == 5 and pages[:5] == page1 and len(pages) == 40


async def test_identical_concurrent_searches_share_one_request(ocm: OcmClient, ocm_server: FakeOcmServer) -> None:
    ocm_server.inject("delay", delay=0.1)
    results = await asyncio.gather(*(ocm.search(POINT) for _ in range(5)))
    assert all(r == results[0] for r in results) and results[0]
    assert len(poi_requests(ocm_server)) == 1


async def test_a_search_inside_one_in_flight_waits_for_it_instead_of_asking_again(
    ocm: OcmClient, ocm_server: FakeOcmServer
) -> None:
    ocm_server.inject("delay", delay=0.1)
    wide = PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=2, maxresults=200)
    narrow = PoiQuery(latitude=BOW[0] + 0.001, longitude=BOW[1], distance=1, maxresults=5, statustypeid=(50,))
    _, found = await asyncio.gather(ocm.search(wide), ocm.search(narrow))
    assert found and len(poi_requests(ocm_server)) == 1


async def test_concurrency_towards_ocm_is_bounded(
    make_client: Callable[..., OcmClient], ocm_server: FakeOcmServer
) -> None:
    ocm = make_client(limits=OcmLimits(max_concurrency=2))
    ocm_server.inject("delay", times=None, delay=0.15)
    await asyncio.gather(*(ocm.get_chargers([charger_id]) for charger_id in (100627, 52224, 3428, 13343, 8378, 102848)))
    arrivals = sorted(r.monotonic for r in poi_requests(ocm_server))
    assert len(arrivals) == 6
    # Two at a time: each pair arrives only after the previous pair was answered.
    assert arrivals[2] - arrivals[0] >= 0.14 and arrivals[4] - arrivals[2] >= 0.14


async def test_maxresults_and_radius_are_capped(
    make_client: Callable[..., OcmClient], ocm_server: FakeOcmServer
) -> None:
    ocm = make_client(limits=OcmLimits(max_results=50, max_radius_km=20))
    await ocm.search(PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=500, maxresults=5000))
    await ocm.search(PoiQuery(latitude=53.8, longitude=-1.5, distance=100, distance_in_miles=True))
    first, second = poi_requests(ocm_server)
    assert (first.params["maxresults"], first.params["distance"]) == ("50", "20")
    assert second.params["distanceunit"] == "miles" and float(second.params["distance"]) == pytest.approx(12.43, 0.01)


async def test_over_the_per_minute_budget_the_client_refuses_without_calling_ocm(
    make_client: Callable[..., OcmClient], ocm_server: FakeOcmServer
) -> None:
    clock = Clock()
    ocm = make_client(limits=OcmLimits(requests_per_minute=3), clock=clock)
    for n in range(3):
        await ocm.get_chargers([100627 + n])
    with pytest.raises(OcmBudgetExhausted) as caught:
        await ocm.get_chargers([52224])
    assert caught.value.status is None and caught.value.retry_after == 60
    assert len(poi_requests(ocm_server)) == 3
    clock.now += 61
    await ocm.get_chargers([52224])
    assert len(poi_requests(ocm_server)) == 4


async def test_a_slot_of_the_budget_freeing_in_a_few_seconds_is_waited_for(
    make_client: Callable[..., OcmClient], ocm_server: FakeOcmServer, sleeps: Sleeps
) -> None:
    clock = Clock()
    ocm = make_client(limits=OcmLimits(requests_per_minute=2, max_retry_after=3), clock=clock)
    await ocm.get_chargers([100627])
    clock.now += 1
    await ocm.get_chargers([52224])
    clock.now += 57.5  # the first slot frees in 1.5 s, the second in 2.5 s
    await asyncio.gather(ocm.get_chargers([3428]), ocm.get_chargers([13343]))
    assert sorted(sleeps.delays) == [1.5, 2.5] and len(poi_requests(ocm_server)) == 4
    with pytest.raises(OcmBudgetExhausted) as caught:  # the next slot: a minute after the last reserved one
        await ocm.get_chargers([8378])
    assert caught.value.retry_after == 62 and len(poi_requests(ocm_server)) == 4  # 61.5 s, rounded up


# Chargers by ID -----------------------------------------------------------------------------------


async def test_get_chargers_keeps_the_order_asked_and_leaves_out_unknown_ids(
    ocm: OcmClient, ocm_server: FakeOcmServer
) -> None:
    chargers = await ocm.get_chargers([52224, 999_999_999, 100627])
    assert [c.id for c in chargers] == [52224, 100627]
    [request] = poi_requests(ocm_server)
    assert request.params["chargepointid"] == "52224,100627,999999999"


async def test_chargers_seen_in_a_search_need_no_second_request(ocm: OcmClient, ocm_server: FakeOcmServer) -> None:
    found = await ocm.search(POINT)
    again = await ocm.get_chargers([c.id for c in found[:3]])
    assert again == found[:3]
    assert len(poi_requests(ocm_server)) == 1


async def test_details_with_comments_ask_ocm_for_comments(ocm: OcmClient, ocm_server: FakeOcmServer) -> None:
    [plain] = await ocm.get_chargers([100627])
    [detail] = await ocm.get_chargers([100627], include_comments=True)
    assert plain.comments == () and detail.comments[0].text == "24/7"
    assert [r.params.get("includecomments") for r in poi_requests(ocm_server)] == [None, "true"]


# Reference data -----------------------------------------------------------------------------------


async def test_reference_data_is_fetched_once_and_kept_on_disk(
    make_client: Callable[..., OcmClient], ocm_server: FakeOcmServer, tmp_path: Path
) -> None:
    (tmp_path / "reference.json").unlink()
    first = make_client()
    await first.start()
    reference = await first.reference_data()
    assert reference.connection_types[33].title == "CCS (Type 2)"
    assert (tmp_path / "reference.json").exists()
    second = make_client()
    await second.start()
    assert await second.reference_data() == reference
    assert len(ocm_server.requests_to("/v3/referencedata")) == 1


async def test_stale_reference_data_is_fetched_again(
    make_client: Callable[..., OcmClient], ocm_server: FakeOcmServer
) -> None:
    await make_client().start()
    assert ocm_server.requests_to("/v3/referencedata") == []
    later = datetime.now(UTC) + timedelta(days=2)
    await make_client(now=lambda: later).start()
    assert len(ocm_server.requests_to("/v3/referencedata")) == 1


async def test_the_bot_starts_from_the_disk_copy_when_ocm_is_down(
    make_client: Callable[..., OcmClient], ocm_server: FakeOcmServer
) -> None:
    ocm_server.inject("status503", times=None, path_prefix="/v3/")
    later = datetime.now(UTC) + timedelta(days=3)
    client = make_client(now=lambda: later)
    await client.start()
    assert (await client.reference_data()).status_types[50].is_operational is True


async def test_without_a_disk_copy_a_down_ocm_stops_the_start(
    make_client: Callable[..., OcmClient], ocm_server: FakeOcmServer
) -> None:
    ocm_server.inject("status503", times=None, path_prefix="/v3/")
    with pytest.raises(OcmUnavailable):
        await make_client(reference_cache_path=None).start()


async def test_daily_refresh_keeps_the_current_copy_when_ocm_fails(ocm: OcmClient, ocm_server: FakeOcmServer) -> None:
    before = await ocm.reference_data()
    ocm_server.inject("bad-json", times=None, path_prefix="/v3/referencedata")
    assert await ocm.refresh_reference_data() is False
    assert await ocm.reference_data() is before
    ocm_server.clear_faults()
    assert await ocm.refresh_reference_data() is True
    assert len(ocm_server.requests_to("/v3/referencedata")) == 2


# Sign-in and check-ins ----------------------------------------------------------------------------


async def test_sign_in_then_check_in_reaches_ocm_as_that_user(
    ocm: OcmClient, ocm_server: FakeOcmServer, caplog: pytest.LogCaptureFixture
) -> None:
    ocm_server.register_user("ann@example.org", "pa55-word", username="Ann")
    with caplog.at_level(logging.DEBUG):
        session = await ocm.authenticate("ann@example.org", "pa55-word")
    assert session.username == "Ann" and session.user_id and session.token
    assert "pa55-word" not in caplog.text and session.token not in repr(session)
    checkin = CommentSubmission(charger_id=100627, checkin_status_type_id=10, rating=5, comment="Fast & free")
    await ocm.submit_comment(checkin, token=session.token)
    [stored] = ocm_server.comments
    assert (stored.poi_id, stored.username, stored.via) == (100627, "Ann", "token")
    assert (stored.rating, stored.comment, stored.checkin_status_type_id) == (5, "Fast & free", 10)
    [post] = ocm_server.requests_to("/v3/comment")
    assert post.headers["Authorization"] == f"Bearer {session.token}"


async def test_text_utf_8_cannot_encode_still_reaches_ocm(ocm: OcmClient, ocm_server: FakeOcmServer) -> None:
    """Telegram can deliver a lone surrogate (found by the fuzzer in a typed password)."""
    ocm_server.register_user("ann@example.org", "pw", username="Ann")
    with pytest.raises(OcmAuthError):
        await ocm.authenticate("ann@example.org", "pw\ud800")
    session = await ocm.authenticate("ann@example.org", "pw")
    await ocm.submit_comment(CommentSubmission(charger_id=100627, rating=4, comment="ok \ud800"), token=session.token)
    assert ocm_server.comments[-1].comment == "ok \ufffd"


async def test_after_a_check_in_the_chargers_comments_come_fresh_from_ocm(
    ocm: OcmClient, ocm_server: FakeOcmServer
) -> None:
    ocm_server.register_user("ann@example.org", "pw", username="Ann")
    session = await ocm.authenticate("ann@example.org", "pw")
    by_id = PoiQuery(chargepointid=(100627,), maxresults=1, includecomments=True)
    [before] = await ocm.search(by_id)
    [detail_before] = await ocm.get_chargers([100627], include_comments=True)
    await ocm.submit_comment(CommentSubmission(charger_id=100627, rating=4, comment="Still works"), token=session.token)
    [after] = await ocm.search(by_id)
    [detail_after] = await ocm.get_chargers([100627], include_comments=True)
    assert len(after.comments) == len(before.comments) + 1 == len(detail_after.comments)
    assert "Still works" in {c.text for c in detail_after.comments} - {c.text for c in detail_before.comments}


async def test_after_a_check_in_the_details_a_driver_opens_show_it(ocm: OcmClient, ocm_server: FakeOcmServer) -> None:
    """The search service keeps no charger cache of its own that could outlive the client's."""
    search = SearchService(ocm)
    ocm_server.register_user("ann@example.org", "pw", username="Ann")
    session = await ocm.authenticate("ann@example.org", "pw")
    before = await search.charger(100627, include_comments=True)
    await ocm.submit_comment(CommentSubmission(charger_id=100627, rating=4, comment="Still works"), token=session.token)
    after = await search.charger(100627, include_comments=True)
    assert before is not None and after is not None
    assert "Still works" in {c.text for c in after.comments} - {c.text for c in before.comments}


async def test_a_search_for_comments_always_asks_ocm(ocm: OcmClient, ocm_server: FakeOcmServer) -> None:
    by_id = PoiQuery(chargepointid=(100627,), maxresults=1, includecomments=True)
    await ocm.search(by_id)
    ocm_server.store.add_comment(100627, {"Comment": "Added on the website", "UserName": "Bea", "CommentTypeID": 10})
    [again] = await ocm.search(by_id)
    assert "Added on the website" in {c.text for c in again.comments}
    assert len(poi_requests(ocm_server)) == 2


async def test_bundled_reference_data_serves_until_the_daily_refresh(
    make_client: Callable[..., OcmClient], ocm_server: FakeOcmServer
) -> None:
    client = make_client(reference_cache_path=None)
    bundled = ReferenceData.from_json({"ConnectionTypes": [{"ID": 33, "Title": "CCS"}], "StatusTypes": []})
    client.use_reference_data(bundled)
    assert await client.reference_data() is bundled  # at once; OCM's copy is fetched meanwhile
    assert await client.refresh_reference_data() is True  # shares the background request
    assert (await client.reference_data()).connection_types[33].title == "CCS (Type 2)"
    assert len(ocm_server.requests_to("/v3/referencedata")) == 1


async def tasks_started_since(before: set[asyncio.Task[Any]], within: float = 5.0) -> None:
    """Wait until every task started after ``before`` was taken (a background refresh) has ended."""
    started = asyncio.all_tasks() - before - {asyncio.current_task()}
    if started:
        await asyncio.wait(started, timeout=within)


async def test_a_day_old_copy_is_refreshed_in_the_background_and_retried_hourly_while_ocm_fails(
    make_client: Callable[..., OcmClient], ocm_server: FakeOcmServer
) -> None:
    clock, later = Clock(), datetime.now(UTC) + timedelta(days=2)
    client = make_client(now=lambda: later, clock=clock)
    ocm_server.inject("status503", times=None, path_prefix="/v3/")
    await client.start()  # OCM down: the stale disk copy
    stale = await client.reference_data()
    await client.reference_data()
    await asyncio.wait_for(client.refresh_reference_data(), 1)
    tries = len(ocm_server.requests_to("/v3/referencedata"))
    started_before = asyncio.all_tasks()
    await client.reference_data()  # within the hour: no new try
    await tasks_started_since(started_before)  # drained: a refresh it started would have asked OCM by now
    assert len(ocm_server.requests_to("/v3/referencedata")) == tries
    ocm_server.clear_faults()
    clock.now += FAST.reference_retry_interval + 1
    assert await client.reference_data() is stale  # still served at once
    for _ in range(100):
        if (await client.reference_data()) is not stale:
            break
        await asyncio.sleep(0.01)
    assert (await client.reference_data()) is not stale


async def test_wrong_password_is_a_user_auth_error(ocm: OcmClient, ocm_server: FakeOcmServer) -> None:
    ocm_server.register_user("ann@example.org", "right")
    with pytest.raises(OcmAuthError) as caught:
        await ocm.authenticate("ann@example.org", "wrong")
    assert caught.value.is_user_token


async def test_expired_token_is_a_user_auth_error_and_not_retried(ocm: OcmClient, ocm_server: FakeOcmServer) -> None:
    ocm_server.register_user("ann@example.org", "pw")
    session = await ocm.authenticate("ann@example.org", "pw")
    ocm_server.expire_tokens()
    with pytest.raises(OcmAuthError) as caught:
        await ocm.submit_comment(CommentSubmission(charger_id=100627, rating=3), token=session.token)
    assert caught.value.status == 401
    assert len(ocm_server.requests_to("/v3/comment")) == 1 and ocm_server.comments == []


async def test_write_key_posts_as_its_user_next_to_the_read_key(ocm: OcmClient, ocm_server: FakeOcmServer) -> None:
    """OCM's edge takes only the application's primary key; the write key goes as ``apikey=``."""
    key = ocm_server.add_write_key(username="ocm-bot")
    await ocm.submit_comment(CommentSubmission(charger_id=52224, comment="Works"), write_key=key)
    [stored] = ocm_server.comments
    assert (stored.via, stored.username) == ("write-key", "ocm-bot")
    [post] = ocm_server.requests_to("/v3/comment")
    assert post.headers["X-API-Key"] == ocm_server.api_key and post.raw_params["apikey"] == key


async def test_no_token_no_request(ocm: OcmClient, ocm_server: FakeOcmServer) -> None:
    with pytest.raises(OcmAuthError):
        await ocm.submit_comment(CommentSubmission(charger_id=52224, comment="x"))
    assert ocm_server.requests_to("/v3/comment") == []


@pytest.mark.parametrize(
    ("setup", "charger_id", "description"),
    [
        (
            lambda s: setattr(s, "read_only", True),
            100627,
            "API is read only. Submissions not currently being accepted.",
        ),
        (lambda s: None, 123456789, "Failed"),
    ],
    ids=["read only", "unknown charger"],
)
async def test_refused_comments_carry_ocms_reason(
    ocm: OcmClient, ocm_server: FakeOcmServer, setup: Callable[[FakeOcmServer], None], charger_id: int, description: str
) -> None:
    ocm_server.register_user("ann@example.org", "pw")
    session = await ocm.authenticate("ann@example.org", "pw")
    setup(ocm_server)
    with pytest.raises(OcmRejected) as caught:
        await ocm.submit_comment(CommentSubmission(charger_id=charger_id, rating=4), token=session.token)
    assert caught.value.description == description


async def test_a_failed_post_is_never_retried(ocm: OcmClient, ocm_server: FakeOcmServer) -> None:
    ocm_server.register_user("ann@example.org", "pw")
    session = await ocm.authenticate("ann@example.org", "pw")
    ocm_server.inject("status500", times=None, path_prefix="/v3/comment")
    with pytest.raises(OcmUnavailable):
        await ocm.submit_comment(CommentSubmission(charger_id=100627, rating=4), token=session.token)
    assert len(ocm_server.requests_to("/v3/comment")) == 1


def test_submission_is_checked_before_sending() -> None:
    with pytest.raises(ValueError, match="rating must be 1 to 5"):
        CommentSubmission(charger_id=1, rating=6)
    with pytest.raises(ValueError, match="4000"):
        CommentSubmission(charger_id=1, comment="x" * 4001)
    with pytest.raises(ValueError, match="positive OCM ID"):
        CommentSubmission(charger_id=0)


# Exports and the group poll -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "start"),
    [("kml", b"<?xml"), ("xml", b"<?xml"), ("csv", b"ID,"), ("geojson", b"{")],
)
async def test_exports_come_back_as_ocms_bytes(
    ocm: OcmClient, ocm_server: FakeOcmServer, fmt: str, start: bytes
) -> None:
    data = await ocm.export(PoiQuery(output=fmt, latitude=BOW[0], longitude=BOW[1], distance=1, maxresults=3))
    assert data.startswith(start)
    assert poi_requests(ocm_server)[-1].params["output"] == fmt
    if fmt == "geojson":
        assert len(json.loads(data)["features"]) == 3


async def test_modified_since_finds_a_changed_charger_every_time_it_polls(
    ocm: OcmClient, ocm_server: FakeOcmServer
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=5)
    assert await ocm.modified_since(since) == []
    ocm_server.modify_poi(100627, UsageCost="Free")
    [changed] = await ocm.modified_since(since)
    assert changed.id == 100627 and changed.usage_cost == "Free"
    polls = poi_requests(ocm_server)
    assert len(polls) == 2
    assert polls[0].params["modifiedsince"] == since.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert polls[0].params["sortby"] == "modified_asc"


async def test_random_searches_answered_from_the_cache_equal_ocms_own_answers(
    make_client: Callable[..., OcmClient], ocm_server: FakeOcmServer, http: httpx.AsyncClient
) -> None:
    """Whatever mix of points, radii, page sizes and filters, the cache never changes an answer."""
    center = (48.1372, 11.5756)  # Munich: only generated chargers there
    ocm_server.generate_chargers(400, center=center, radius_km=5, seed=3)
    ocm = make_client(limits=OcmLimits())  # the cache on, as in production
    reference = await ocm.reference_data()
    # One wide answer first (the client asks OCM for exactly what it is asked, no more).
    await ocm.search(PoiQuery(latitude=center[0], longitude=center[1], distance=5, maxresults=200))
    rng = random.Random(11)
    for _ in range(40):
        filters: dict[str, Any] = rng.choice(
            [
                {},
                {},
                {"connectiontypeid": tuple(rng.sample([25, 33, 1036, 2, 32], rng.randint(1, 3)))},
                {"minpowerkw": rng.choice([11, 50, 150])},
                {"statustypeid": (50,)},
                {"operatorid": (3, 5)},
                {"usagetypeid": (1,), "minpowerkw": 22},
            ]
        )
        query = PoiQuery(
            latitude=center[0] + rng.uniform(-0.02, 0.02),
            longitude=center[1] + rng.uniform(-0.03, 0.03),
            distance=rng.choice([0.5, 1, 2, 3, 5]),
            maxresults=rng.choice([5, 10, 20, 40]),
            **filters,
        )
        found = await ocm.search(query)
        direct = await http.get(
            f"{ocm_server.url}/poi",
            params=query.to_params(),
            headers={"X-API-Key": ocm_server.api_key, "User-Agent": "ocm-bot-tests/1.0"},
        )
        assert [c.id for c in found] == [c.id for c in parse_pois(direct.json(), reference)], query
        # A healthy OCM's lists are never doubted (an empty one always is: it may be a rebuild).
        assert not found or not getattr(found, "may_be_partial", False), query
    client_requests = [r for r in poi_requests(ocm_server) if r.params.get("client") == "ocm-bot"]
    assert len(client_requests) < 25  # a good share of the 41 came from the cache (6 today)


async def test_a_change_seen_by_the_poll_reaches_the_next_search(ocm: OcmClient, ocm_server: FakeOcmServer) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    [before] = [c for c in await ocm.search(POINT) if c.id == 157899] or [None]
    assert before is not None and before.usage_cost != "Free now"
    ocm_server.modify_poi(157899, UsageCost="Free now")
    await ocm.modified_since(since)
    [after] = [c for c in await ocm.search(POINT) if c.id == 157899]
    assert after.usage_cost == "Free now"
    assert (await ocm.get_chargers([157899]))[0].usage_cost == "Free now"


# Answers that are not what they seem ---------------------------------------------------------------
# While its cache rebuilds OCM answers ``200 []`` or part of the list; a malformed bearer token and a
# sign-in to a social-login account answer ``200`` with an empty body (../shared/README.md).

AROUND_BOW = PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=2, maxresults=200)


async def test_an_empty_answer_is_never_reused_the_same_search_asks_again(
    make_client: Callable[..., OcmClient], ocm_server: FakeOcmServer
) -> None:
    """A driver told "no chargers" while OCM's cache rebuilt, who searches again, gets OCM's answer."""
    clock = Clock()
    ocm = make_client(clock=clock)
    ocm_server.inject("empty-list")
    assert await ocm.search(AROUND_BOW) == []
    clock.now += 5
    assert await ocm.search(AROUND_BOW)  # OCM's cache is back: asked again, not "no chargers" again
    assert len(poi_requests(ocm_server)) == 2


@pytest.mark.parametrize(
    "other",
    [
        PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=1, maxresults=10),
        PoiQuery(latitude=BOW[0] + 0.003, longitude=BOW[1], distance=1, maxresults=10),
        PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=1, maxresults=10, connectiontypeid=(25,)),
    ],
    ids=["narrower", "nearby", "filtered"],
)
async def test_an_empty_answer_never_proves_another_search_empty(
    ocm: OcmClient, ocm_server: FakeOcmServer, other: PoiQuery
) -> None:
    ocm_server.inject("empty-list")
    assert await ocm.search(AROUND_BOW) == []
    found = await ocm.search(other)
    assert len(poi_requests(ocm_server)) == 2
    assert found


async def test_an_answer_missing_chargers_ocm_listed_before_is_not_taken_for_complete(
    ocm: OcmClient, ocm_server: FakeOcmServer
) -> None:
    near = await ocm.search(PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=0.5, maxresults=200))
    assert len(near) >= 4
    ocm_server.inject("partial")  # half the chargers, as while OCM's cache rebuilds
    wide = await ocm.search(AROUND_BOW)
    assert isinstance(wide, SearchAnswer) and wide.may_be_partial
    assert not {c.id for c in near} <= {c.id for c in wide}
    # It answers no other search: the next one inside it asks OCM again.
    again = await ocm.search(PoiQuery(latitude=BOW[0], longitude=BOW[1], distance=1.5, maxresults=200))
    assert len(poi_requests(ocm_server)) == 3
    assert not again.may_be_partial and {c.id for c in near} <= {c.id for c in again}


async def test_a_partial_answer_is_never_shown_as_all_the_chargers(ocm: OcmClient, ocm_server: FakeOcmServer) -> None:
    search = SearchService(ocm)
    first = await search.nearby(GeoPoint(*BOW), UserPreferences(radius_km=0.3, operational_only=False))
    assert first.complete and first.hits
    ocm_server.inject("partial")
    wider = await search.nearby(GeoPoint(*BOW), UserPreferences(radius_km=0.6, operational_only=False))
    assert not wider.complete
    narrower = await search.nearby(GeoPoint(*BOW), UserPreferences(radius_km=0.5, operational_only=False))
    assert narrower.complete  # asked OCM again rather than trusting the partial answer
    assert len(poi_requests(ocm_server)) == 3


async def test_an_empty_answer_covers_no_narrower_search_in_the_domain(
    ocm: OcmClient, ocm_server: FakeOcmServer
) -> None:
    search = SearchService(ocm)
    ocm_server.inject("empty-list")
    empty = await search.nearby(GeoPoint(*BOW), UserPreferences(radius_km=5, operational_only=False))
    assert empty.hits == () and not empty.complete
    narrower = await search.nearby(GeoPoint(*BOW), UserPreferences(radius_km=2, operational_only=False))
    assert narrower.hits and len(poi_requests(ocm_server)) == 2


async def test_a_social_login_account_is_told_apart_from_a_wrong_password(
    ocm: OcmClient, ocm_server: FakeOcmServer
) -> None:
    ocm_server.register_user("sam@example.org", None, username="Sam")
    with pytest.raises(OcmPasswordlessAccount) as caught:
        await ocm.authenticate("sam@example.org", "whatever")
    assert not caught.value.is_user_token
    assert len(ocm_server.requests_to("/v3/profile/authenticate")) == 1  # never retried


async def test_a_token_ocm_cannot_read_asks_for_a_new_sign_in(ocm: OcmClient, ocm_server: FakeOcmServer) -> None:
    with pytest.raises(OcmAuthError) as caught:
        await ocm.submit_comment(CommentSubmission(charger_id=100627, rating=4), token="not-a-jwt")
    assert caught.value.is_user_token
    assert ocm_server.comments == [] and len(ocm_server.requests_to("/v3/comment")) == 1
