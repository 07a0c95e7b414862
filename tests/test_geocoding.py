"""The Nominatim geocoder through geopy over httpx, against Nominatim's own documented answers."""

import json
from pathlib import Path

import httpx
import pytest

from ocm_bot.geocoding import Geocoder, GeocoderBusy, GeocoderDown, GeocoderRefused

SEARCH_ANSWER = json.loads(
    (Path(__file__).resolve().parents[2] / "shared" / "nominatim" / "search-json-1.json").read_text()
)
USER_AGENT = "ocm-bot-tests/1.0 (+https://example.org/ocm-bot)"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def make_geocoder(handler, clock=None, **options):
    clock = clock or Clock()
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    geocoder = Geocoder(
        "http://nominatim.test:8080/sub",
        user_agent=USER_AGENT,
        client=client,
        clock=clock,
        sleep=clock.sleep,
        **options,
    )
    return geocoder, clock


async def test_search_sends_policy_headers_language_and_reads_places():
    seen: list[httpx.Request] = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json=SEARCH_ANSWER)

    geocoder, _ = make_geocoder(handler)
    places = await geocoder.search("Unter den Linden 1, Berlin", language="de")
    request = seen[0]
    assert request.url.host == "nominatim.test" and request.url.port == 8080
    assert request.url.path == "/sub/search"
    assert request.url.params["q"] == "Unter den Linden 1, Berlin"
    assert request.url.params["format"] == "json"
    assert request.url.params["accept-language"] == "de"
    assert request.url.params["limit"] == "5"
    assert request.headers["user-agent"] == USER_AGENT
    assert len(places) == 1
    place = places[0]
    assert place.point.latitude == pytest.approx(52.51720765)
    assert place.point.longitude == pytest.approx(13.397834399325466)
    assert place.country_code == "DE"
    assert place.short_label == "Kommandantenhaus, 1"


async def test_answers_are_cached_per_query_and_language():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(200, json=SEARCH_ANSWER)

    geocoder, _ = make_geocoder(handler)
    await geocoder.search("Berlin", language="en")
    await geocoder.search("  berlin ", language="en")
    await geocoder.search("Berlin", language="de")
    assert len(calls) == 2


async def test_requests_are_spaced_one_second_apart_across_users():
    geocoder, clock = make_geocoder(lambda request: httpx.Response(200, json=[]))
    for name in ("a", "b", "c"):
        await geocoder.search(name)
    assert clock.slept == [0.0, 1.0, 1.0]


async def test_a_long_local_queue_is_refused_rather_than_waited_for():
    import asyncio

    clock = Clock()

    async def no_sleep(seconds):  # every request books its slot before any of them waits
        await asyncio.sleep(0)

    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=[])))
    geocoder = Geocoder(
        "http://nominatim.test", user_agent=USER_AGENT, client=client, clock=clock, sleep=no_sleep, max_wait=2.0
    )
    results = await asyncio.gather(*(geocoder.search(f"q{i}") for i in range(5)), return_exceptions=True)
    refused = [r for r in results if isinstance(r, GeocoderBusy)]
    assert len(refused) == 2 and all(r.retry_after > 2 for r in refused)


async def test_unknown_place_is_an_empty_list():
    geocoder, _ = make_geocoder(lambda request: httpx.Response(200, json=[]))
    assert await geocoder.search("Xyzzyqwv Nowhere") == []


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(429, headers={"Retry-After": "7"}, text="Too many"), GeocoderBusy),
        (httpx.Response(403, text="Blocked"), GeocoderRefused),
        (httpx.Response(500, text="oops"), GeocoderDown),
        (httpx.Response(503, text="down"), GeocoderDown),
        (httpx.Response(200, text="<html>not json</html>"), GeocoderDown),
        (httpx.Response(200, json=[{"nothing": "useful"}]), GeocoderDown),
    ],
)
async def test_failures_map_to_the_small_error_tree(response, error):
    geocoder, _ = make_geocoder(lambda request: response)
    with pytest.raises(error):
        await geocoder.search("Berlin")


async def test_rate_limited_answers_back_off_for_every_user():
    geocoder, _ = make_geocoder(lambda request: httpx.Response(429, headers={"Retry-After": "7"}))
    with pytest.raises(GeocoderBusy) as caught:
        await geocoder.search("Berlin")
    assert caught.value.retry_after == 7
    with pytest.raises(GeocoderBusy):  # the next user is told to wait instead of hammering Nominatim
        await geocoder.search("Paris")


@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])
async def test_network_failures_are_geocoder_down(failure):
    def handler(request):
        raise failure

    geocoder, _ = make_geocoder(handler)
    with pytest.raises(GeocoderDown):
        await geocoder.search("Berlin")


async def test_the_same_text_at_the_same_moment_is_one_request():
    import asyncio

    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(200, json=SEARCH_ANSWER)

    geocoder, _ = make_geocoder(handler)
    first, second = await asyncio.gather(geocoder.search("Berlin Mitte"), geocoder.search("berlin  mitte"))
    assert first == second and len(first) == 1
    assert len(calls) == 1


async def test_an_area_search_reads_the_places_outline_and_bounding_box(nominatim_server):
    geocoder = Geocoder(nominatim_server.url, user_agent="ocm-bot-tests/1.0 (ops@example.org)", min_interval=0)
    try:
        [plain] = await geocoder.search("Tower Hamlets")
        [borough] = await geocoder.search("Tower Hamlets", outline=True)
        [bow] = await geocoder.search("Bow", outline=True)
    finally:
        await geocoder.close()
    assert plain.outline == ()
    [ring] = borough.outline
    assert len(ring) == 7 and ring[0] == ring[-1] and ring[1] == (51.532, -0.047)  # (lat, lon), not GeoJSON's order
    assert "polygon_geojson=1" in nominatim_server.requests[1].query
    assert "polygon_geojson" not in nominatim_server.requests[0].query
    south, north, west, east = borough.bounds
    assert south < 51.5203 < north and west < -0.0293 < east
    assert bow.outline == () and bow.bounds is not None  # a node: no outline, its box only
