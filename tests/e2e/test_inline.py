"""Inline mode and guest mode, end to end: "@bot <place>" typed in any chat, and "@bot CCS near
<place>" in a chat the bot has not joined (Bot API 10.0 guest queries), through the fake Bot API;
OCM and Nominatim are the loopback fakes, whose request logs count what the bot asked."""

from __future__ import annotations

import json
import math
from pathlib import Path

SHARED = Path(__file__).resolve().parents[3] / "shared"
SALT_LAKE_CITY = (40.7596198, -111.8867975)  # the fake Nominatim's point for "Salt Lake City"
BOT = "ocm_test_bot"


def all_pois() -> list[dict]:
    return [
        *json.loads((SHARED / "ocm" / "poi-samples.json").read_text()),
        *json.loads((SHARED / "ocm" / "poi-more.json").read_text()),
    ]


def km_between(lat: float, lon: float, poi: dict) -> float:
    r = 6371.0088
    p1, p2 = math.radians(lat), math.radians(poi["AddressInfo"]["Latitude"])
    dp, dl = p2 - p1, math.radians(poi["AddressInfo"]["Longitude"] - lon)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def poi_requests(ocm_server) -> list:
    return ocm_server.requests_to("/v3/poi", method="GET")


def nominatim_requests(nominatim_server) -> list:
    return nominatim_server.requests_to("/search")


def charger_id(result: dict) -> int:
    return int(result["id"].removeprefix("c"))


async def test_a_place_typed_inline_answers_with_the_nearest_chargers_as_venues(
    telegram, bot, ocm_server, nominatim_server
):
    ada = telegram.user("Ada")
    answer = await ada.send_inline_query("Salt Lake City")

    assert answer.results and {r["type"] for r in answer.results} == {"venue"}
    shown = [charger_id(r) for r in answer.results]
    distances = {p["ID"]: km_between(*SALT_LAKE_CITY, p) for p in all_pois()}
    assert shown[0] == min((i for i in distances if distances[i] <= 10), key=lambda i: distances[i])
    assert [distances[i] for i in shown] == sorted(distances[i] for i in shown)
    first = answer.results[0]
    name = next(p["AddressInfo"]["Title"] for p in all_pois() if p["ID"] == shown[0])
    assert first["title"] == name
    assert " km" in first["address"] or " mi" in first["address"]
    keyboard = first["reply_markup"]["inline_keyboard"]
    urls = [button["url"] for row in keyboard for button in row]
    assert urls == [
        f"https://openchargemap.org/site/poi/details/{shown[0]}",
        f"https://t.me/{BOT}?start=charger_{shown[0]}",
    ]
    assert answer.raw["is_personal"] is True and answer.raw["cache_time"] >= 60
    assert len(nominatim_requests(nominatim_server)) == 1 and len(poi_requests(ocm_server)) == 1

    # The same query again, typed differently: answered from the bot's cache.
    again = await ada.send_inline_query("  salt lake  CITY ")
    assert [charger_id(r) for r in again.results] == shown
    assert len(nominatim_requests(nominatim_server)) == 1 and len(poi_requests(ocm_server)) == 1


async def test_a_result_with_plugs_shows_their_power_and_posts_a_card(telegram, bot):
    ada, bob = telegram.user("Ada"), telegram.user("Bob")
    club = telegram.group("EV Club", members=[ada, bob])
    answer = await ada.send_inline_query("Garforth")
    lidl = answer.result("Lidl")
    assert "50 kW" in lidl["address"] and "CCS" in lidl["address"]

    posted = await ada.choose_inline_result(answer, "Lidl", chat=club)
    assert "Lidl-Garforth" in posted.text and "⚡" in posted.text and "50 kW" in posted.text
    assert "from Garforth" in posted.text
    assert posted.url_buttons["Details & check-in ›"] == f"https://t.me/{BOT}?start=charger_100627"
    # The deep link opens the charger's details in a private chat.
    await bob.send_text("/start charger_100627")
    details = await bob.wait_for_message(containing="Lidl-Garforth")
    assert "Check in" in " ".join(details.labels)


async def test_inline_results_page_with_next_offset_without_asking_again(telegram, bot, ocm_server, nominatim_server):
    ada = telegram.user("Ada")
    first = await ada.send_inline_query("London")
    assert len(first.results) == 10 and first.raw["next_offset"] == "1"
    second = await ada.send_inline_query("London", offset=first.raw["next_offset"])
    assert second.results and not {r["id"] for r in first.results} & {r["id"] for r in second.results}
    assert len(poi_requests(ocm_server)) == 1 and len(nominatim_requests(nominatim_server)) == 1


async def test_typing_a_place_looks_up_only_the_query_the_person_stopped_at(
    telegram, telegram_server, bot, ocm_server, nominatim_server
):
    ada = telegram.user("Ada")
    short = await ada.send_inline_query("Sa")
    assert short.results == [] and "Type a place" in short.raw["button"]["text"]
    assert nominatim_requests(nominatim_server) == []
    answer = await ada.type_inline_query("Salt Lake City")  # 14 queries, one per keystroke, at once
    assert answer.results and answer.results[0]["type"] == "venue"
    await telegram.wait_until_idle()
    assert len(nominatim_requests(nominatim_server)) == 1
    assert nominatim_requests(nominatim_server)[0].params["q"] == "Salt Lake City"
    assert len(poi_requests(ocm_server)) == 1
    # The short ones got a hint at once; the longer partial ones were superseded, never looked up.
    answered = [q.answer for q in telegram_server.inline_queries.values() if q.answer is not None]
    assert all(a["results"] == [] for a in answered[:-1])


async def test_coordinates_typed_inline_need_no_geocoder(telegram, bot, ocm_server, nominatim_server):
    ada = telegram.user("Ada")
    answer = await ada.send_inline_query("40.7596, -111.8868")
    distances = {p["ID"]: km_between(40.7596, -111.8868, p) for p in all_pois()}
    assert charger_id(answer.results[0]) == min(distances, key=lambda i: distances[i])
    assert nominatim_requests(nominatim_server) == [] and len(poi_requests(ocm_server)) == 1


async def test_an_empty_query_answers_near_the_person_or_asks_for_a_place(telegram, bot, ocm_server):
    ada = telegram.user("Ada")
    nowhere = await ada.send_inline_query("")
    assert nowhere.results == []
    assert nowhere.raw["button"]["start_parameter"] == "inline"
    assert "Type a place" in nowhere.raw["button"]["text"]
    assert poi_requests(ocm_server) == []

    near = await ada.send_inline_query("", location=SALT_LAKE_CITY)
    distances = {p["ID"]: km_between(*SALT_LAKE_CITY, p) for p in all_pois()}
    assert charger_id(near.results[0]) == min(distances, key=lambda i: distances[i])
    assert len(poi_requests(ocm_server)) == 1


async def test_failures_answer_with_no_results_and_a_button_that_explains(telegram, bot, ocm_server, nominatim_server):
    ada = telegram.user("Ada")
    unknown = await ada.send_inline_query("Xyzzyqwv Nowhereville")
    assert unknown.results == [] and "No place called" in unknown.raw["button"]["text"]
    assert poi_requests(ocm_server) == []

    ocm_server.inject("status503", path_prefix="/v3/poi", times=None)
    down = await ada.send_inline_query("Salt Lake City")
    assert down.results == [] and "not answering" in down.raw["button"]["text"]
    assert down.raw["cache_time"] <= 10  # an outage is not cached

    nominatim_server.inject("status503", path_prefix="/search", times=None)
    lost = await ada.send_inline_query("Springfield")
    assert lost.results == [] and "address search is not answering" in lost.raw["button"]["text"]


async def test_inline_answers_speak_the_persons_language(telegram, bot):
    ada = telegram.user("Ada", language_code="de")
    answer = await ada.send_inline_query("Garforth")
    labels = [b["text"] for row in answer.results[0]["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["In OCM öffnen ↗", "Details & Einchecken ›"]
    nowhere = await ada.send_inline_query("")
    assert nowhere.raw["button"]["text"].startswith("Gib einen Ort")


# --- guest mode (Bot API 10.0) ------------------------------------------------------------------


async def test_a_guest_query_answers_in_a_chat_the_bot_has_not_joined(telegram, bot, ocm_server):
    ada = telegram.user("Ada")
    club = telegram.group("EV Club", members=[ada])
    query = await ada.send_guest_message(club, f"@{BOT} CCS near Salt Lake City")
    posted = await query.answered()

    assert posted.from_bot and posted.raw["guest_bot_caller_user"]["id"] == ada.id
    assert "Chargers near Salt Lake City" in posted.text
    with_ccs = {p["ID"] for p in all_pois() if any(c.get("ConnectionTypeID") in (32, 33) for c in p["Connections"])}
    linked = [int(url.rsplit("_", 1)[1]) for label, url in posted.url_buttons.items() if "start=charger_" in url]
    assert linked and set(linked) <= with_ccs
    asked = poi_requests(ocm_server)[-1].params
    assert {"32", "33"} <= set(asked["connectiontypeid"].split(","))


async def test_a_guest_query_with_power_and_an_unknown_place(telegram, bot, ocm_server):
    ada = telegram.user("Ada")
    club = telegram.group("EV Club", members=[ada])
    fast = await (await ada.send_guest_message(club, f"@{BOT} 50kW near Garforth")).answered()
    assert "Lidl-Garforth" in fast.text
    assert float(poi_requests(ocm_server)[-1].params["minpowerkw"]) == 50

    lost = await (await ada.send_guest_message(club, f"@{BOT} near Xyzzyqwv Nowhereville")).answered()
    assert "I could not find" in lost.text and lost.url_buttons

    usage = await (await ada.send_guest_message(club, f"@{BOT}")).answered()
    assert "CCS near Leeds" in usage.text
