"""Finding chargers, end to end: a driver talks to the bot through the fake Bot API; OCM and
Nominatim are the loopback fakes; what OCM was asked is read from the fake OCM's request log."""

from __future__ import annotations

import json
import logging
import math
import re
from pathlib import Path

import pytest

from ocm_bot.domain.preferences import DistanceUnitChoice, UsageChoice, UserPreferences

PORTLAND = (45.5122, -122.6587)
SHARED = Path(__file__).resolve().parents[3] / "shared"
CARD_HEADING = re.compile(r"^(\d+)\. (.+?) — ([\d.,]+) (m|km|mi|ft)\b", re.M)
TO_KM = {"m": 0.001, "km": 1.0, "mi": 1.609344, "ft": 0.0003048}


def sample_pois() -> list[dict]:
    return json.loads((SHARED / "ocm" / "poi-samples.json").read_text())


def expected_km(lat: float, lon: float, poi: dict) -> float:
    """Great-circle distance, written out here so the test does not trust the bot's own formula."""
    r = 6371.0088
    p1, p2 = math.radians(lat), math.radians(poi["AddressInfo"]["Latitude"])
    dp, dl = p2 - p1, math.radians(poi["AddressInfo"]["Longitude"] - lon)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def cards(message) -> list[tuple[int, str, float]]:
    """(number, name, distance in km) of each card in a results message."""
    return [
        (int(n), name, float(value.replace(",", "")) * TO_KM[unit])
        for n, name, value, unit in CARD_HEADING.findall(message.text)
    ]


def shown_as(message, index: int) -> str:
    """The distance on card ``index`` as the driver reads it ("0.4 mi")."""
    _, _, value, unit = CARD_HEADING.findall(message.text)[index]
    return f"{value} {unit}"


def rounded_like_an_app(km: float, unit: str) -> str:
    """What a driver's app shows for ``km``: 10 m (or 10 ft) steps, one decimal under 10, whole above."""
    if unit == "mi":
        miles = km / 1.609344
        return f"{round(miles * 5280, -1):.0f} ft" if miles * 5280 < 525 else f"{miles:.{1 if miles < 9.95 else 0}f} mi"
    return f"{round(km * 1000, -1):.0f} m" if km < 0.995 else f"{km:.{1 if km < 9.95 else 0}f} km"


def count_of(message) -> int:
    """How many chargers the results message says it found."""
    return int(re.search(r"(\d+) chargers?, nearest first", message.text).group(1))


def poi_requests(ocm_server) -> list:
    return ocm_server.requests_to("/v3/poi", method="GET")


async def save_prefs(bot, user, **changes) -> None:
    await bot.services.storage.save_user(user.id, UserPreferences(**changes).to_dict())


async def search_at(user, lat=PORTLAND[0], lon=PORTLAND[1]):
    await user.send_location(lat, lon)
    return await user.wait_for_message(containing="Chargers near")


async def tap(user, message, label):
    pressed = await user.press(message, label)
    return await pressed.answered()


# The nearest chargers ----------------------------------------------------------------------------


async def test_portland_location_lists_nearest_chargers_with_correct_distances(telegram, bot, ocm_server):
    ada = telegram.user("Ada")
    results = await search_at(ada)

    shown = cards(results)
    assert [n for n, _, _ in shown] == [1, 2, 3, 4, 5]
    by_name = {}
    for poi in sample_pois():
        by_name.setdefault(poi["AddressInfo"]["Title"], []).append(poi)
    nearest = sorted((expected_km(*PORTLAND, poi), poi) for poi in sample_pois() if expected_km(*PORTLAND, poi) <= 16.1)
    for (n, name, _), (expected, poi) in zip(shown, nearest, strict=False):
        assert name == poi["AddressInfo"]["Title"]
        assert shown_as(results, n - 1) == rounded_like_an_app(expected, "mi").replace(".0 mi", " mi"), name
    assert [km for _, _, km in shown] == sorted(km for _, _, km in shown)
    ocm_links = [url for label, url in results.url_buttons.items() if "Open in OCM" in label]
    assert ocm_links == [f"https://openchargemap.org/site/poi/details/{poi['ID']}" for _, poi in nearest[:5]]
    assert "mi" in results.text.splitlines()[0]  # a US point: miles by default
    assert "Data: afdc.energy.gov" in results.text
    assert len(poi_requests(ocm_server)) == 1
    request = poi_requests(ocm_server)[0]
    assert request.params["compact"] == "true" and request.params["verbose"] == "false"
    assert request.headers.get("X-API-Key") == ocm_server.api_key


async def test_kilometres_when_the_driver_chose_them(telegram, bot):
    ada = telegram.user("Ada")
    await save_prefs(bot, ada, unit=DistanceUnitChoice.KM)
    results = await search_at(ada)
    assert "within 10 km" in results.text
    assert shown_as(results, 0) == "630 m"


async def test_cards_credit_each_provider_with_the_licence_from_ocm_s_reference_data(telegram, bot):
    ada = telegram.user("Ada")
    await save_prefs(bot, ada, page_size=8, usage=UsageChoice.INCLUDE_RESTRICTED, operational_only=False)
    mile_end = await search_at(ada, 51.5225, -0.0375)  # OCM contributors and the UK registry
    credits = {line.strip() for line in mile_end.text.splitlines() if line.strip().startswith("Data: ")}
    assert "Data: UK National Charge Point Registry (Open Government Licence v2.0)" in credits
    assert "Data: Open Charge Map Contributors (CC BY 4.0)" in credits
    portland = await search_at(ada)
    assert "Data: afdc.energy.gov (free for any use)" in portland.text


UNIT = re.compile(r"\d (m|km|mi|ft)\b")


def units_in(text: str) -> set[str]:
    """The distance units a text uses, feet counted as miles and metres as kilometres."""
    return {{"ft": "mi", "m": "km"}.get(unit, unit) for unit in UNIT.findall(text)}


@pytest.mark.parametrize("where", ["location", "typed coordinates", "typed place"])
async def test_the_unit_stays_the_place_s_whether_or_not_anything_is_found(telegram, bot, where):
    ada = telegram.user("Ada")  # Telegram language "en": no region, no unit chosen

    async def search():
        if where == "location":
            return await search_at(ada)
        await ada.send_text("45.5122, -122.6587" if where == "typed coordinates" else "Pioneer Courthouse Square")
        return await ada.wait_for_message(containing="Chargers near")

    await save_prefs(bot, ada, min_power_kw=350)  # nothing in Portland
    nothing = await search()
    assert "No chargers found within 6.2 mi." in nothing.text
    assert "within 6.2 mi" in nothing.text.splitlines()[0]
    assert "🔎 Wider radius: 15 mi" in nothing.labels  # a step of the miles radius menu
    assert units_in(nothing.text + " ".join(nothing.labels)) == {"mi"}

    await tap(ada, nothing, "⚙️ Filters")
    menu = await ada.wait_for_message(containing="Settings")
    assert "Radius: 6.2 mi" in menu.text
    assert "Distance unit: automatic (miles)" in menu.text
    await tap(ada, menu, "📏 Radius")
    radius_menu = await ada.wait_for_edit(menu)
    assert [label for label in radius_menu.labels if label != "‹ Back"] == ["1 mi", "3 mi", "5 mi", "15 mi", "30 mi"]

    await save_prefs(bot, ada)  # no filter: chargers found at the same place
    ada.mark_all_seen()
    found = await search()
    assert cards(found)
    assert "within 6.2 mi" in found.text.splitlines()[0]
    assert units_in(found.text) == {"mi"}


async def test_the_driver_s_unit_wins_over_the_place_s(telegram, bot):
    ada = telegram.user("Ada")
    await save_prefs(bot, ada, unit=DistanceUnitChoice.KM, min_power_kw=350)
    nothing = await search_at(ada)
    assert "No chargers found within 10 km." in nothing.text
    assert "🔎 Wider radius: 25 km" in nothing.labels
    await save_prefs(bot, ada, unit=DistanceUnitChoice.MILES)
    ada.mark_all_seen()
    london = await search_at(ada, 51.5225, -0.0375)
    assert units_in(london.text) == {"mi"}


async def test_the_readme_transcript_is_what_the_bot_answers(telegram, bot):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    transcript = readme.split("```", 2)[1]
    bot_part = transcript.split("Bot:  ", 1)[1].split("\nYou:", 1)[0]
    shown_lines = [line.strip() for line in bot_part.splitlines() if line.strip() and not line.strip().startswith("[")]
    results = await search_at(telegram.user("Ada"))
    answer = {line.strip() for line in results.text.splitlines()}
    for line in shown_lines:
        if line == "..." or "verified" in line:  # "verified 7 years ago" ages with the calendar
            continue
        assert line in answer, line


# Every way of saying where ----------------------------------------------------------------------


async def test_send_my_location_button(telegram, bot):
    ada = telegram.user("Ada")
    await ada.send_text("/start")
    await ada.wait_for_message()
    await ada.press_keyboard_button("Send my location", location=PORTLAND)
    results = await ada.wait_for_message(containing="Chargers near you")
    assert len(cards(results)) == 5


async def test_venue_names_the_place(telegram, bot):
    ada = telegram.user("Ada")
    await ada.send_venue(*PORTLAND, "Pioneer <Courthouse> Square", "701 SW 6th Ave")
    results = await ada.wait_for_message(containing="Chargers near")
    assert results.text.startswith("Chargers near Pioneer <Courthouse> Square")


async def test_forwarded_location(telegram, bot):
    ada, bob = telegram.user("Ada"), telegram.user("Bob")
    await ada.forward(location=PORTLAND, from_user=bob)
    results = await ada.wait_for_message(containing="Chargers near")
    assert len(cards(results)) == 5


@pytest.mark.parametrize(
    "text",
    [
        "45.5122, -122.6587",
        "45.5122 -122.6587",
        "45°30'43.9\"N 122°39'31.3\"W",
        "geo:45.5122,-122.6587",
        "https://www.google.com/maps/@45.5122,-122.6587,15z",
        "https://maps.apple.com/?ll=45.5122,-122.6587&q=Pin",
        "https://www.openstreetmap.org/?mlat=45.5122&mlon=-122.6587#map=16/45.5122/-122.6587",
        "https://waze.com/ul?ll=45.5122,-122.6587&navigate=yes",
    ],
)
async def test_coordinates_and_links_need_no_geocoding(telegram, bot, ocm_server, nominatim_server, text):
    ada = telegram.user("Ada")
    await ada.send_text(text)
    results = await ada.wait_for_message(containing="Chargers near")
    assert cards(results)[0][1] == "Oregon Museum of Science and Industry"
    assert shown_as(results, 0) == "0.4 mi"  # 0.630 km
    assert nominatim_requests(nominatim_server) == []


@pytest.mark.parametrize(
    ("text", "header"),
    [
        ("45.5122, -122.6587", "Chargers near 45.5122, -122.6587"),
        ("45.51220 -122.65870", "Chargers near 45.51220 -122.65870"),
        ("45°30'43.9\"N 122°39'31.3\"W", "Chargers near 45°30'43.9\"N 122°39'31.3\"W"),
        ("https://waze.com/ul?ll=45.5122,-122.6587&navigate=yes", "Chargers near 45.5122, -122.6587"),
    ],
)
async def test_typed_coordinates_are_echoed_as_typed(telegram, bot, text, header):
    ada = telegram.user("Ada")
    await ada.send_text(text)
    results = await ada.wait_for_message(containing="Chargers near")
    assert results.text.splitlines()[0].startswith(header + " · within ")


# Filters ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefs", "param", "value"),
    [
        ({"min_power_kw": 50}, "minpowerkw", "50"),
        ({"connection_type_ids": frozenset({33, 32})}, "connectiontypeid", "32,33"),
        ({"operator_ids": frozenset({39})}, "operatorid", "39"),
        ({"level_ids": frozenset({3})}, "levelid", "3"),
        ({"open_data_only": True}, "opendata", "true"),
        ({"radius_km": 25}, "distance", "25"),
    ],
)
async def test_each_server_filter_changes_what_ocm_is_asked(telegram, bot, ocm_server, prefs, param, value):
    ada = telegram.user("Ada")
    await save_prefs(bot, ada, **prefs)
    await search_at(ada)
    assert poi_requests(ocm_server)[-1].params[param] == value


async def test_operational_only_hides_broken_chargers_but_keeps_unknown_ones(telegram, bot, ocm_server):
    ocm_server.modify_poi(3069, StatusTypeID=100)  # OMSI North Parking Lot: not operational
    ada = telegram.user("Ada")
    await save_prefs(bot, ada, usage=UsageChoice.INCLUDE_RESTRICTED)
    shown = [name for _, name, _ in cards(await search_at(ada))]
    assert "Oregon Museum of Science and Industry (OMSI) - North Parking Lot" not in shown
    assert "2145 SE Water Avenue" in shown  # status unknown stays
    everything = await search_at(ada)
    assert "❓ Status unknown" in everything.text

    await save_prefs(bot, ada, usage=UsageChoice.INCLUDE_RESTRICTED, operational_only=False)
    shown = [name for _, name, _ in cards(await search_at(ada))]
    assert "Oregon Museum of Science and Industry (OMSI) - North Parking Lot" in shown


async def test_usage_public_only_hides_membership_and_staff_chargers(telegram, bot):
    ada = telegram.user("Ada")
    await save_prefs(bot, ada, usage=UsageChoice.PUBLIC_ONLY, page_size=8)
    shown = [name for _, name, _ in cards(await search_at(ada))]
    assert "Kimpton Riverplace Hotel" not in shown  # membership required
    assert "Portland Marriott Downtown Waterfront" not in shown  # staff and guests


async def test_removing_a_filter_chip_refilters_without_asking_ocm(telegram, bot, ocm_server):
    ada = telegram.user("Ada")
    await save_prefs(bot, ada, usage=UsageChoice.PUBLIC_ONLY, page_size=3)
    results = await search_at(ada)
    assert "Filters: public only · working only" in results.text
    before = len(poi_requests(ocm_server))
    await tap(ada, results, "✕ public only")
    edited = await ada.wait_for_edit(results)
    assert count_of(edited) > count_of(results)  # the membership and staff-only chargers are back
    assert "Filters: working only" in edited.text
    assert len(poi_requests(ocm_server)) == before


async def test_no_results_offer_relax_and_wider_radius(telegram, bot, ocm_server):
    ada = telegram.user("Ada")
    await save_prefs(bot, ada, min_power_kw=350, radius_km=2)
    results = await search_at(ada)
    assert "No chargers found within" in results.text
    await tap(ada, results, "Relax: ≥ 350 kW")
    relaxed = await ada.wait_for_edit(results)
    assert len(cards(relaxed)) == 5
    assert "minpowerkw" not in poi_requests(ocm_server)[-1].params

    await save_prefs(bot, ada, radius_km=2, page_size=8, usage=UsageChoice.PUBLIC_ONLY)
    ada.mark_all_seen()
    few = await search_at(ada, 45.40, -122.65)
    await tap(ada, few, "Wider radius")
    wider = await ada.wait_for_edit(few)
    assert float(poi_requests(ocm_server)[-1].params["distance"]) == pytest.approx(3 * 1.609344)  # 1.2 mi -> 3 mi
    assert len(cards(wider)) >= len(cards(few))


# Paging, details, favourites, deep links ---------------------------------------------------------


async def test_paging_edits_the_same_message_without_asking_ocm(telegram, bot, ocm_server):
    ada = telegram.user("Ada")
    await save_prefs(bot, ada, radius_km=25, page_size=3, usage=UsageChoice.INCLUDE_RESTRICTED)
    results = await search_at(ada)
    first = cards(results)
    asked = len(poi_requests(ocm_server))
    await tap(ada, results, "Next ›")
    page2 = await ada.wait_for_edit(results)
    assert page2.message_id == results.message_id
    assert [n for n, _, _ in cards(page2)] == [4, 5, 6]
    assert cards(page2)[0][2] >= first[-1][2]
    await tap(ada, page2, "‹ Prev")
    back = await ada.wait_for_edit(page2)
    assert cards(back) == first
    assert len(poi_requests(ocm_server)) == asked


async def test_details_show_comments_and_a_venue_pin(telegram, bot, ocm_server):
    ada = telegram.user("Ada")
    results = await search_at(ada)
    await tap(ada, results, "ℹ️ 1")
    details = await ada.wait_for_message(containing="Connections")
    assert details.text.startswith("Oregon Museum of Science and Industry")
    assert poi_requests(ocm_server)[-1].params.get("includecomments") == "true"
    assert {"Open in OCM ↗", "Navigate 🧭", "✅ Check in", "☆ Favourite"} <= set(details.labels)
    pin = await ada.wait_for_message(where=lambda m: m.venue is not None)
    assert pin.venue["title"] == "Oregon Museum of Science and Industry"


async def test_favourite_toggle_and_list(telegram, bot, ocm_server):
    ada = telegram.user("Ada")
    results = await search_at(ada)
    await tap(ada, results, "ℹ️ 2")
    details = await ada.wait_for_message(containing="Connections")
    answer = await tap(ada, details, "☆ Favourite")
    assert answer.text == "Added to your favourites."
    starred = await ada.wait_for_edit(details)
    assert "★ Favourite" in starred.labels
    name = cards(results)[1][1]
    favourite_id = next(p["ID"] for p in sample_pois() if p["AddressInfo"]["Title"] == name)
    assert await bot.services.storage.list_favourites(ada.id) == [favourite_id]

    asked = len(poi_requests(ocm_server))
    await ada.send_text("/favourites")
    listing = await ada.wait_for_message(containing="Your favourite chargers")
    assert name in listing.text
    assert "Status unknown" in listing.text
    assert len(poi_requests(ocm_server)) <= asked + 1

    await tap(ada, starred, "★ Favourite")
    assert await bot.services.storage.list_favourites(ada.id) == []


@pytest.mark.parametrize("command", ["/charger 100627", "/start poi-100627"])
async def test_charger_command_and_deep_link_open_its_details(telegram, bot, command):
    ada = telegram.user("Ada")
    await ada.send_text(command)
    details = await ada.wait_for_message(containing="Lidl-Garforth")
    assert "CCS (Type 2)" in details.text
    assert details.url_buttons["Open in OCM ↗"] == "https://openchargemap.org/site/poi/details/100627"


async def test_a_german_driver_reads_the_details_with_german_plugs_numbers_and_country(telegram, bot):
    hans = telegram.user("Hans", language_code="de")
    await hans.send_text("/charger 100627")
    details = await hans.wait_for_message(containing="Lidl-Garforth")
    assert "Typ 2 (festes Kabel)" in details.text and "AC (dreiphasig)" in details.text
    assert "Vereinigtes Königreich" in details.text
    assert "0,28\u00a0£/kWh" in details.text
    assert re.search(r"\d,\d kW|\d+ kW", details.text)
    assert "Tethered" not in details.text and "United Kingdom" not in details.text
    assert details.url_buttons["In OCM öffnen ↗"] == "https://openchargemap.org/site/poi/details/100627"


async def test_unknown_charger_id(telegram, bot):
    ada = telegram.user("Ada")
    await ada.send_text("/charger 999999999")
    assert "no charger #999999999" in (await ada.wait_for_message()).text
    await ada.send_text("/charger abc")
    assert "/charger 100627" in (await ada.wait_for_message(containing="/charger")).text


async def test_a_search_command_gets_one_answer_only(telegram, bot):
    ada = telegram.user("Ada")
    await ada.send_text("/favourites")
    await ada.wait_for_message(containing="No favourites yet")
    await telegram.wait_for_updates_consumed()
    await ada.send_text("/help")  # a later message, so anything the bot sent for /favourites is in
    await ada.wait_for_message(containing="What I can do")
    assert not [m for m in ada.messages if "I don't know that command" in (m.text or "")]


async def test_groups_get_a_private_check_in_link(telegram, bot):
    ada = telegram.user("Ada")
    club = telegram.group("EV Club", members=[ada])
    await club.add_bot(ada)
    await ada.send_text_in(club, "/charger 100627")
    details = await club.wait_for_message(containing="Lidl-Garforth")
    assert details.url_buttons["✅ Check in"].endswith("?start=checkin-100627")


# Live location -----------------------------------------------------------------------------------


async def test_live_location_edits_one_message_only_after_a_real_move(telegram, bot, ocm_server):
    search = bot.services.search
    clock = [1000.0]
    search.live._clock = lambda: clock[0]
    ada = telegram.user("Ada")
    await save_prefs(bot, ada, radius_km=5)
    shared = await ada.send_live_location(*PORTLAND)
    results = await ada.wait_for_message(containing="Chargers near")
    await until_followed(search.live, (ada.chat_id, shared.message_id))
    asked = len(poi_requests(ocm_server))

    clock[0] += 30  # too soon
    await ada.move_live_location(45.40, -122.65)
    await telegram.wait_until_idle()  # the bot read this move at this time, before the clock moves on
    clock[0] += 60
    await ada.move_live_location(PORTLAND[0] + 0.001, PORTLAND[1])  # moved about 100 m only
    await telegram.wait_until_idle()  # answered, not only fetched
    assert ada.message(results).edits == 0
    assert len(poi_requests(ocm_server)) == asked

    clock[0] += 61
    await ada.move_live_location(45.40, -122.65)  # Lake Oswego, 12 km south
    moved = await ada.wait_for_edit(results)
    assert cards(moved)[0][1] in {"J Building", "Collin", "MRC"}
    assert len(ada.messages) == 1  # still the one results message

    clock[0] += 900  # the 15 minutes of sharing are over: a late position changes nothing
    asked = len(poi_requests(ocm_server))
    await ada.move_live_location(*PORTLAND)
    await telegram.wait_until_idle()  # answered, not only fetched
    assert ada.message(moved).edits == moved.edits
    assert len(poi_requests(ocm_server)) == asked


async def test_live_results_stop_following_when_the_driver_stops_sharing(telegram, bot, ocm_server):
    ada = telegram.user("Ada")
    shared = await ada.send_live_location(*PORTLAND)
    results = await ada.wait_for_message(containing="Chargers near")
    key = (ada.chat_id, shared.message_id)
    await until_followed(bot.services.search.live, key)
    asked = len(poi_requests(ocm_server))
    await ada.stop_live_location()
    await telegram.wait_until_idle()  # answered, not only fetched
    await until_followed(bot.services.search.live, key, followed=False)
    assert ada.message(results).edits == 0
    assert len(poi_requests(ocm_server)) == asked


# Bad input and failures ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        (" ", "Send me a location, an address"),
        ("x" * 5000, "too long"),
        ("🔌⚡🚗", "could not read a place"),
        ("91, 13.4", "Latitude must be between -90 and 90"),
        ("45.5, 200", "Longitude must be between -180 and 180"),
        ("https://example.com/nothing", "could not find a place in that link"),
    ],
)
async def test_text_that_is_not_a_place_gets_a_clear_answer(
    telegram, bot, ocm_server, nominatim_server, caplog, text, answer
):
    ada = telegram.user("Ada")
    with caplog.at_level(logging.WARNING):
        await ada.send_text(text)
        reply = await ada.wait_for_message()
    assert answer in reply.text
    assert poi_requests(ocm_server) == [] and nominatim_requests(nominatim_server) == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_point_in_the_ocean(telegram, bot):
    ada = telegram.user("Ada")
    results = await search_at(ada, 0.0, -30.0)
    assert "No chargers found within" in results.text
    assert any("Wider radius" in label for label in results.labels)


@pytest.mark.parametrize("fault", ["hang", "bad-json", "status500", "502-text", "429"])
async def test_ocm_failures_get_an_honest_answer_and_a_retry(telegram, bot, ocm_server, caplog, fault):
    ocm_server.inject(fault, path_prefix="/v3/poi", times=None)
    ada = telegram.user("Ada")
    loop_time = __import__("asyncio").get_running_loop().time
    started = loop_time()
    with caplog.at_level(logging.WARNING):
        await ada.send_location(*PORTLAND)
        failure = await ada.wait_for_message(timeout=10)
    assert loop_time() - started < 10
    assert "Open Charge Map" in failure.text and "🔄 Retry" in failure.labels
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []

    ocm_server.reset()  # OCM is back; requests it left hanging are let go
    await until_idle(bot.services.chargers)
    await tap(ada, failure, "🔄 Retry")
    results = await ada.wait_for_edit(failure, timeout=10)
    assert len(cards(results)) == 5


async def test_forged_and_expired_buttons_ask_nothing_of_ocm(telegram, bot, ocm_server, telegram_server):
    ada = telegram.user("Ada")
    results = await search_at(ada)
    asked = len(poi_requests(ocm_server))
    data = results.callback_buttons["Next ›"]
    forged = data.replace("|1|", "|2|")
    query = telegram_server.new_callback_query(ada.user, results.chat_id, results.message_id, forged)
    answer = await pressed_answer(telegram_server, query)
    assert answer == "This button has expired. Please search again."
    garbage = telegram_server.new_callback_query(ada.user, results.chat_id, results.message_id, "pg|x|y")
    assert await pressed_answer(telegram_server, garbage) == "This button has expired. Please search again."
    bot.services.search._results.clear()  # the bot restarted or the result expired
    await tap(ada, results, "Next ›")
    assert len(poi_requests(ocm_server)) == asked


async def test_a_page_after_a_restart_while_ocm_is_down_offers_a_retry(telegram, start_bot, ocm_server):
    first = await start_bot()
    ada = telegram.user("Ada")
    await save_prefs(first, ada, radius_km=25, page_size=3, usage=UsageChoice.INCLUDE_RESTRICTED)
    results = await search_at(ada)
    await first.stop()
    await start_bot()  # a new process (or another instance): the result is in storage, its chargers are not
    ocm_server.inject("status500", path_prefix="/v3/poi", times=None)
    await tap(ada, results, "Next ›")
    failure = await ada.wait_for_message(containing="Open Charge Map", timeout=10)
    assert "🔄 Retry" in failure.labels
    ocm_server.clear_faults()
    await tap(ada, failure, "🔄 Retry")
    page2 = await ada.wait_for_edit(failure, timeout=10)
    assert [n for n, _, _ in cards(page2)] == [4, 5, 6]


async def test_forget_deletes_the_places_a_driver_searched_from_storage(telegram, bot):
    ada, bob = telegram.user("Ada"), telegram.user("Bob")
    results = await search_at(ada)
    await search_at(bob)
    kept = await bot.services.search.get(results.callback_buttons["Next ›"].split("|")[1])
    assert kept is not None
    assert await bot.services.storage.get_short_lived("search", kept.id) is not None

    await ada.send_text("/forget")
    question = await ada.wait_for_message(containing="?")
    await tap(ada, question, "🗑 Delete everything")
    await ada.wait_for_edit(question, containing="I deleted everything")
    assert await bot.services.storage.get_short_lived("search", kept.id) is None  # where Ada was
    assert await bot.services.storage.forget_user(bob.id)  # Bob's search was kept: only Ada's went


async def until_followed(live, key, followed: bool = True) -> None:
    """Wait until the bot follows a live location (it starts after sending the results), or no longer does."""
    import asyncio

    for _ in range(500):
        if (await live.session(key) is not None) == followed:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the bot {'does not follow' if followed else 'still follows'} the live location")


async def until_idle(client) -> None:
    """Wait until the OCM client has no request in flight (a hung one ends when OCM lets it go)."""
    import asyncio

    for _ in range(300):
        if not getattr(client, "_in_flight", None):
            return
        await asyncio.sleep(0.01)


async def pressed_answer(telegram_server, query_id: str) -> str | None:
    import asyncio

    for _ in range(200):
        state = telegram_server.callback_queries.get(query_id)
        if state is not None and state.answer is not None:
            return state.answer.get("text")
        await asyncio.sleep(0.01)
    raise AssertionError("the callback query was not answered")


# Geocoding ----------------------------------------------------------------------------------------


def nominatim_requests(nominatim_server) -> list:
    return nominatim_server.requests_to("/search")


async def test_an_address_is_geocoded_politely_and_searched(telegram, bot, ocm_server, nominatim_server):
    ada = telegram.user("Ada", language_code="de")
    await ada.send_text("Pioneer Courthouse Square, Portland")
    results = await ada.wait_for_message(matching="Pioneer Courthouse Square")
    assert len(cards(results)) == 5
    (request,) = nominatim_requests(nominatim_server)
    assert request.params["q"] == "Pioneer Courthouse Square, Portland"
    assert request.params["accept-language"] == "de"
    assert request.user_agent.startswith("ocm-bot/")
    search = poi_requests(ocm_server)[-1].params
    assert float(search["latitude"]) == pytest.approx(45.5189) and float(search["longitude"]) == pytest.approx(
        -122.6793
    )

    await ada.send_text("pioneer courthouse square,  portland")
    await ada.wait_for_message(matching="Pioneer Courthouse Square")
    assert len(nominatim_requests(nominatim_server)) == 1  # cached


async def test_several_matches_offer_a_choice(telegram, bot, ocm_server, nominatim_server):
    ada = telegram.user("Ada")
    await ada.send_text("Springfield")
    choice = await ada.wait_for_message(containing="Which")
    assert 2 <= len(choice.labels) <= 5
    assert all("Springfield" in label for label in choice.labels)
    await tap(ada, choice, "Oregon")
    results = await ada.wait_for_edit(choice, containing="Chargers near Springfield")
    assert results.message_id == choice.message_id
    search = poi_requests(ocm_server)[-1].params
    assert float(search["latitude"]) == pytest.approx(44.0462362)


async def test_an_unknown_place_says_so(telegram, bot, ocm_server, nominatim_server):
    ada = telegram.user("Ada")
    await ada.send_text("Xyzzyqwv Nowhereville")
    reply = await ada.wait_for_message()
    assert "I could not find “Xyzzyqwv Nowhereville”" in reply.text
    assert poi_requests(ocm_server) == []


@pytest.mark.parametrize(
    ("fault", "answer"),
    [
        ("429", "Too many address searches right now"),
        ("status503", "is not answering right now"),
        ("hang", "is not answering right now"),
        ("bad-json", "is not answering right now"),
    ],
)
async def test_geocoder_failures_get_an_honest_answer_and_a_retry(
    telegram, bot, nominatim_server, caplog, fault, answer
):
    nominatim_server.inject(fault, path_prefix="/search", times=1)
    ada = telegram.user("Ada")
    loop_time = __import__("asyncio").get_running_loop().time
    started = loop_time()
    with caplog.at_level(logging.WARNING):
        await ada.send_text("Pioneer Courthouse Square")
        reply = await ada.wait_for_message(timeout=10)
    assert loop_time() - started < 10
    assert answer in reply.text and "🔄 Retry" in reply.labels
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    if fault != "429":  # after a 429 the bot waits before asking Nominatim again
        await tap(ada, reply, "🔄 Retry")
        results = await ada.wait_for_edit(reply, timeout=10)
        assert "Chargers near Pioneer Courthouse Square" in results.text


async def test_typed_places_are_tried_after_every_conversation(bot):
    """A sign-in password or a check-in comment must reach its conversation, never the geocoder."""
    from telegram.ext import ConversationHandler

    from ocm_bot.handlers.search import on_text

    group = bot.application.handlers[0]
    text_at = [i for i, h in enumerate(group) if getattr(h, "callback", None) is on_text]
    conversations_at = [i for i, h in enumerate(group) if isinstance(h, ConversationHandler)]
    assert len(text_at) == 1
    assert all(i < text_at[0] for i in conversations_at)
    assert text_at[0] == len(group) - 1


async def test_check_in_button_starts_the_check_in(telegram, bot):
    ada = telegram.user("Ada")
    await ada.send_text("/charger 100627")
    details = await ada.wait_for_message(containing="Lidl-Garforth")
    await tap(ada, details, "✅ Check in")
    question = await ada.wait_for_message(containing="How did it go")
    assert "Lidl-Garforth" in question.text


async def test_filters_button_opens_the_settings_and_keeps_the_results(telegram, bot):
    ada = telegram.user("Ada")
    results = await search_at(ada)
    await tap(ada, results, "⚙️ Filters")
    await ada.wait_for_message(containing="Minimum power")
    assert ada.message(results).text == results.text
