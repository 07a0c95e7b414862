"""➕ Charger not listed?: from results and details to OCM's add-a-charger page, with the position to give it."""

from __future__ import annotations

from tests.e2e.test_search import PORTLAND, search_at, tap

ADD_PAGE = "https://openchargemap.org/site/poi/add"


async def test_results_offer_ocm_s_add_page_with_what_it_asks_and_the_searched_position(telegram, bot, ocm_server):
    ada = telegram.user("Ada")
    results = await search_at(ada)
    requests = len(ocm_server.requests)
    await tap(ada, results, "➕ Charger not listed?")
    answer = await ada.wait_for_message(containing="missing from the map")
    assert answer.url_buttons["Add it on Open Charge Map ↗"] == ADD_PAGE
    assert "sign in" in answer.text and "plugs and power" in answer.text
    assert f"{PORTLAND[0]:.4f}, {PORTLAND[1]:.4f}" in answer.text
    assert len(ocm_server.requests) == requests  # nothing asked of OCM


async def test_details_offer_it_too_at_the_charger_s_position(telegram, bot, ocm_server):
    ada = telegram.user("Ada")
    await ada.send_text("/charger 102848")
    details = await ada.wait_for_message(containing="📍")
    await tap(ada, details, "➕ Charger not listed?")
    answer = await ada.wait_for_message(containing="missing from the map")
    address = ocm_server.poi(102848)["AddressInfo"]
    assert f"{address['Latitude']:.4f}" in answer.text and ADD_PAGE in answer.url_buttons.values()
