"""Chargers in an area, along a route, near the destination, and exported as GPX and KML, end to end.

OCM, Nominatim and OSRM are the loopback fakes (OCM hulls polygons and buffers polylines by
distance/200 degrees as the real server does); what OCM was asked is read from its request log, and
the expected chargers come from the sample data with an independent point-in-polygon / haversine.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from ocm_bot.domain.preferences import UsageChoice, UserPreferences

SHARED = Path(__file__).resolve().parents[3] / "shared"
# Tower Hamlets' outline in the fake Nominatim: an L over the Bow / Mile End POIs (its hull adds a notch)
TOWER_HAMLETS = [(51.5100, -0.0470), (51.5320, -0.0470), (51.5320, -0.0330), (51.5210, -0.0330), (51.5210, -0.0120)]
TOWER_HAMLETS.append((51.5100, -0.0120))
GPX = "{http://www.topografix.com/GPX/1/1}"
KML = "{http://www.opengis.net/kml/2.2}"
BERLIN, POTSDAM = (52.5170, 13.3889), (52.3906, 13.0645)
OCM_LINK = re.compile(r"/site/poi/details/(\d+)")


def poi_requests(ocm_server) -> list:
    return ocm_server.requests_to("/v3/poi", method="GET")


async def everything_shown(bot, user) -> None:
    """No filter hides a charger: the expected sets are the data's own."""
    prefs = UserPreferences(usage=UsageChoice.INCLUDE_RESTRICTED, operational_only=False, page_size=5)
    await bot.services.storage.save_user(user.id, prefs.to_dict())


def inside(lat: float, lon: float, ring: list[tuple[float, float]]) -> bool:
    crossings = 0
    for (lat1, lon1), (lat2, lon2) in zip(ring, [*ring[1:], ring[0]], strict=True):
        if (lat1 > lat) != (lat2 > lat) and lon < lon1 + (lat - lat1) * (lon2 - lon1) / (lat2 - lat1):
            crossings += 1
    return crossings % 2 == 1


def bow_cluster() -> list[dict]:
    return json.loads((SHARED / "ocm" / "poi-more.json").read_text())[:100]


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b[1] - a[1]) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def km_to_line(point: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine to the straight line a-b sampled every ~20 m (independent of the bot's projection)."""
    n = max(1, int(haversine_km(a, b) / 0.02))
    return min(haversine_km(point, (a[0] + (b[0] - a[0]) * k / n, a[1] + (b[1] - a[1]) * k / n)) for k in range(n + 1))


async def all_pages(user, first) -> list[int]:
    """The OCM IDs on every page of a results message, paging with Next ›."""
    seen, message = [], first
    while True:
        seen += [int(i) for i in OCM_LINK.findall(str(message.url_buttons))]
        if "Next ›" not in message.labels:
            return seen
        await (await user.press(message, "Next ›")).answered()
        message = await user.wait_for_edit(message)


# Area search -------------------------------------------------------------------------------------


async def test_area_search_finds_exactly_the_chargers_inside_the_places_shape_in_one_request(
    bot, telegram, ocm_server, nominatim_server
):
    ada = telegram.user("Ada")
    await everything_shown(bot, ada)
    await ada.send_text("/area Tower Hamlets")
    results = await ada.wait_for_message(containing="Chargers in Tower Hamlets")
    expected = {
        p["ID"]
        for p in bow_cluster()
        if inside(p["AddressInfo"]["Latitude"], p["AddressInfo"]["Longitude"], TOWER_HAMLETS)
    }
    notch = {p["ID"] for p in bow_cluster()} - expected
    assert len(expected) == 77 and notch
    assert f"{len(expected)} chargers · " in results.text
    assert "fast DC" in results.text and "Plugs: " in results.text and "Operators: " in results.text
    [request] = poi_requests(ocm_server)  # one OCM request for the whole area
    assert "polygon" in request.params and "latitude" not in request.params
    shown = await all_pages(ada, results)
    assert set(shown) == expected  # the notch OCM's convex hull adds is filtered out
    assert len(shown) == len(expected)
    assert len(poi_requests(ocm_server)) == 1  # paging asked OCM nothing
    assert "polygon_geojson=1" in nominatim_server.requests_to("/search")[0].query


async def test_chargers_in_a_place_typed_is_an_area_search_and_a_place_alone_stays_nearby(bot, telegram, ocm_server):
    ada = telegram.user("Ada")
    await ada.send_text("chargers in Leeds")
    area = await ada.wait_for_message(containing="Chargers in Leeds")
    assert "polygon" in poi_requests(ocm_server)[0].params  # Leeds' outline (a relation) from Nominatim
    await ada.send_text("Leeds")
    nearby = await ada.wait_for_message(containing="Chargers near Leeds")
    assert "within" in nearby.text and area.message_id != nearby.message_id


async def test_area_without_a_place_explains_itself(bot, telegram, ocm_server):
    ada = telegram.user("Ada")
    await ada.send_text("/area")
    usage = await ada.wait_for_message()
    assert "/area Leeds" in usage.text
    assert poi_requests(ocm_server) == []


# Route search ------------------------------------------------------------------------------------


async def test_route_search_sends_one_polyline_request_and_lists_chargers_in_driving_order(
    start_bot, telegram, ocm_server, osrm_server
):
    bot = await start_bot(router_url=osrm_server.url)
    generated = ocm_server.generate_chargers(250, center=(52.45, 13.23), radius_km=18, seed=4)
    ada = telegram.user("Ada")
    await everything_shown(bot, ada)
    await ada.send_text("/route 52.5170, 13.3889 -> 52.3906, 13.0645")
    results = await ada.wait_for_message(containing="Chargers along")
    assert "by road" in results.text
    assert len(osrm_server.requests_to("/route/")) == 1
    [request] = poi_requests(ocm_server)
    assert "polyline" in request.params and float(request.params["distance"]) > 2 / 0.6
    positions = {}
    for poi_id in generated:
        address = ocm_server.poi(poi_id)["AddressInfo"]
        where = (address["Latitude"], address["Longitude"])
        positions[poi_id] = (km_to_line(where, BERLIN, POTSDAM), haversine_km(BERLIN, where))
    certainly_in = {i for i, (off, _) in positions.items() if off <= 1.97}
    certainly_out = {i for i, (off, _) in positions.items() if off >= 2.03}
    shown = await all_pages(ada, results)
    assert certainly_in <= set(shown) and not certainly_out & set(shown)
    assert len(certainly_in) > 10
    # driving order: how far along the line each one lies, from the start (projection: √(d² - off²))
    along = [math.sqrt(max(0.0, positions[i][1] ** 2 - positions[i][0] ** 2)) for i in shown]
    assert all(b >= a - 0.05 for a, b in itertools.pairwise(along))
    assert re.search(r"🛣 [\d.,]+ (m|km) from the start · detour about [\d.,]+ (m|km)", results.text)
    assert len(poi_requests(ocm_server)) == 1


async def test_without_a_router_the_route_is_a_great_circle_and_says_so(bot, telegram, ocm_server):
    ocm_server.generate_chargers(50, center=(52.45, 13.23), radius_km=18, seed=4)
    ada = telegram.user("Ada")
    await ada.send_text("/route 52.5170, 13.3889 → 52.3906, 13.0645")
    results = await ada.wait_for_message(containing="Chargers along")
    assert "great circle" in results.text
    assert len(poi_requests(ocm_server)) == 1


async def test_route_from_here_and_near_my_destination(bot, telegram, ocm_server):
    ada = telegram.user("Ada")
    await ada.send_location(53.7974, -1.5438)  # Leeds
    await ada.wait_for_message(containing="Chargers near")
    before = len(poi_requests(ocm_server))
    await ada.send_text("/route here to Garforth")
    results = await ada.wait_for_message(containing="Chargers along your location → Garforth")
    assert len(poi_requests(ocm_server)) == before + 1
    await (await ada.press(results, "Near my destination")).answered()
    near = await ada.wait_for_message(containing="Chargers near Garforth")
    [destination] = poi_requests(ocm_server)[before + 1 :]  # one nearby search, at the route's end
    assert abs(float(destination.params["latitude"]) - 53.7919) < 0.001
    assert "within" in near.text


async def test_route_usage_and_here_without_a_shared_location(bot, telegram, ocm_server):
    ada = telegram.user("Ada")
    await ada.send_text("/route Leeds")
    assert "/route Leeds -> Garforth" in (await ada.wait_for_message()).text
    await ada.send_text("/route here -> Garforth")
    assert "Share your location first" in (await ada.wait_for_message()).text
    assert poi_requests(ocm_server) == []


# Export ------------------------------------------------------------------------------------------


def exported(telegram_server, message) -> tuple[str, bytes]:
    file_id = message.raw["document"]["file_id"]
    path, content = telegram_server.files[file_id]
    return path, content


async def test_export_sends_gpx_and_kml_holding_every_charger_of_the_result(bot, telegram, telegram_server, ocm_server):
    ada = telegram.user("Ada")
    await everything_shown(bot, ada)
    await ada.send_text("/area Tower Hamlets")
    results = await ada.wait_for_message(containing="Chargers in Tower Hamlets")
    requests_before = len(poi_requests(ocm_server))
    await ada.press(results, "Export")
    gpx_message, kml_message = await ada.wait_for_messages(2, where=lambda m: "document" in m.raw)
    expected = {
        p["ID"]
        for p in bow_cluster()
        if inside(p["AddressInfo"]["Latitude"], p["AddressInfo"]["Longitude"], TOWER_HAMLETS)
    }

    path, content = exported(telegram_server, gpx_message)
    assert path.endswith(".gpx")
    gpx = ET.fromstring(content)
    points = gpx.findall(f"{GPX}wpt")
    linked = {int(OCM_LINK.search(p.find(f"{GPX}link").get("href")).group(1)) for p in points}
    assert linked == expected and len(points) == len(expected)
    for point in points:
        assert point.findtext(f"{GPX}name")
        assert -0.05 < float(point.get("lon")) < -0.01
    assert any(" kW" in (p.findtext(f"{GPX}desc") or "") for p in points)

    path, content = exported(telegram_server, kml_message)
    assert path.endswith(".kml")
    kml = ET.fromstring(content)
    placemarks = kml.iter(f"{KML}Placemark")
    ids = {int(OCM_LINK.search(p.findtext(f"{KML}description")).group(1)) for p in placemarks}
    assert ids == expected
    assert len(poi_requests(ocm_server)) == requests_before  # export asks OCM nothing


async def test_export_escapes_names_and_works_for_a_nearby_search(bot, telegram, telegram_server, ocm_server):
    ocm_server.modify_poi(100627, AddressInfo={"Title": 'Café <Pump> & "Plug" \x07'})  # a charger in Garforth
    ada = telegram.user("Ada")
    await ada.send_location(53.7919, -1.3886)
    results = await ada.wait_for_message(containing="Chargers near")
    await ada.press(results, "Export")
    documents = await ada.wait_for_messages(2, where=lambda m: "document" in m.raw)
    for message in documents:
        tree = ET.fromstring(exported(telegram_server, message)[1])  # parses: the name is escaped
        names = {element.text for element in tree.iter() if element.tag.endswith("}name")}
        assert 'Café <Pump> & "Plug" ' in names  # the control character (not allowed in XML) dropped


async def test_a_route_too_long_for_one_request_is_refused_without_asking_ocm(bot, telegram, ocm_server):
    ada = telegram.user("Ada")
    await ada.send_text("/route 51.5074, -0.1278 -> 38.7223, -9.1393")  # London to Lisbon, ~1,590 km
    assert "too long" in (await ada.wait_for_message()).text
    assert poi_requests(ocm_server) == []


def test_a_route_is_split_only_at_one_clear_separator():
    from ocm_bot.handlers.route import split_route

    assert split_route("Leeds -> Garforth") == ("Leeds", "Garforth")
    assert split_route("Leeds→Garforth") == ("Leeds", "Garforth")
    assert split_route("here to Garforth") == ("here", "Garforth")
    assert split_route("Stratford to Bow -> Leeds") == ("Stratford to Bow", "Leeds")  # the arrow wins
    assert split_route("Leeds to York to Hull") is None
    assert split_route("Leeds -> York -> Hull") is None
    assert split_route("Leeds") is None
    assert split_route("-> Leeds") is None


async def test_chargers_in_a_place_is_understood_in_the_drivers_language_and_in_english(bot, telegram, ocm_server):
    hans = telegram.user("Hans", language_code="de")
    await hans.send_text("Ladestationen in Leeds?")
    area = await hans.wait_for_message(containing="Ladestationen in Leeds")
    assert "polygon" in poi_requests(ocm_server)[-1].params  # the area, not a search around a point
    await hans.send_text("CHARGERS IN Leeds")  # English works for everyone
    await hans.wait_for_message(containing="Ladestationen in Leeds", where=lambda m: m.message_id != area.message_id)
    assert "polygon" in poi_requests(ocm_server)[-1].params

    # Another language's phrase is not this driver's: it stays a place name to search near.
    ocm_server.clear()
    zoe = telegram.user("Zoé", language_code="fr")
    await zoe.send_text("Ladestationen in Leeds")
    answer = await zoe.wait_for_message()
    assert "Ladestationen" in answer.text and "polygon" not in str([r.params for r in poi_requests(ocm_server)])
