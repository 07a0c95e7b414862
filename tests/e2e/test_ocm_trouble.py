"""When Open Charge Map misbehaves the way the real server does: hangs, throttling, empty-looking
answers. A driver talks to the real application; OCM is the loopback fake with its faults."""

from __future__ import annotations

import asyncio
import re

from ocm_bot.settings import Secret
from tests.e2e.test_checkin import CHARGER, fill_in, sign_in, tap
from tests.e2e.test_search import PORTLAND, cards, expected_km, save_prefs, search_at

# Places far enough apart that no search can be answered from another one's answer.
PLACES = [
    (45.5122, -122.6587),  # Portland OR
    (40.7608, -111.8910),  # Salt Lake City
    (53.8008, -1.5491),  # Leeds
    (42.5063, 1.5218),  # Andorra la Vella
    (48.1374, 11.5755),  # München
]


async def test_the_bot_recovers_at_once_when_a_hung_ocm_answers_again(telegram, bot, ocm_server):
    """Searches that OCM left hanging give up at the deadline and free their connections with them."""
    ocm_server.inject("hang", path_prefix="/v3/poi", times=None)
    drivers = [telegram.user(f"Driver {n}") for n in range(len(PLACES))]
    for driver, place in zip(drivers, PLACES, strict=True):
        await driver.send_location(*place)
    for driver in drivers:
        failure = await driver.wait_for_message(timeout=15)
        assert "Open Charge Map is not answering" in failure.text

    ocm_server.clear_faults()  # OCM answers again; the requests it left hanging stay hung
    ada = telegram.user("Ada")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await ada.send_location(*PORTLAND)
    results = await ada.wait_for_message(containing="Chargers near", timeout=10)
    assert loop.time() - started < 2.0
    assert len(cards(results)) == 5


# Completeness ------------------------------------------------------------------------------------

CLUSTER = (51.5237, -0.0386)  # Mile End, London: generated chargers around it


def km_from(point: tuple[float, float], poi: dict) -> float:
    return expected_km(point[0], point[1], poi)


async def test_an_answer_cut_at_the_page_size_is_never_shown_as_complete(telegram, bot, ocm_server):
    """OCM stops at maxresults; one record of the page is unusable: there may be more beyond."""
    ids = ocm_server.generate_chargers(99, center=CLUSTER, radius_km=1, seed=7)
    ocm_server.serve_without_coordinates(min(ids, key=lambda poi_id: km_from(CLUSTER, ocm_server.poi(poi_id))))
    ada = telegram.user("Ada")
    await save_prefs(bot, ada, radius_km=10, operational_only=False)
    results = await search_at(ada, *CLUSTER)
    [request] = ocm_server.requests_to("/v3/poi")
    assert request.params["maxresults"] == "40"
    assert "chargers, nearest first" not in results.text
    assert "nearest chargers" in results.text

    await save_prefs(bot, ada, radius_km=5, operational_only=False)  # narrower: inside the first answer
    narrower = await search_at(ada, *CLUSTER)
    assert "chargers, nearest first" not in narrower.text
    assert "nearest chargers" in narrower.text


# Check-ins with the bot's write key ---------------------------------------------------------------


async def test_a_write_key_check_in_reaches_ocm_as_the_keys_user(start_bot, telegram, ocm_server):
    """As on the real server: the read key passes the edge, the write key (``apikey=``) names the user."""
    key = ocm_server.add_write_key(username="EV Bot Team")
    await start_bot(ocm_write_key=Secret(key))
    ada = telegram.user("Ada")
    summary = await fill_in(ada, outcome=("✅ Charged successfully",), rating="5")
    await tap(ada, summary, "Submit")
    await ada.wait_for_edit(summary, containing="Thanks!")
    [stored] = ocm_server.comments
    assert (stored.poi_id, stored.username, stored.via) == (CHARGER, "EV Bot Team", "write-key")
    [post] = ocm_server.requests_to("/v3/comment")
    assert post.status == 200 and post.headers["X-API-Key"] == ocm_server.api_key


# Throttling -------------------------------------------------------------------------------------


async def test_a_short_retry_after_is_waited_out_within_the_reply(telegram, bot, ocm_server):
    ocm_server.inject("429", path_prefix="/v3/poi", times=1, retry_after=2)
    ada = telegram.user("Ada")
    results = await search_at(ada)
    assert len(cards(results)) == 5
    assert [r.status for r in ocm_server.requests_to("/v3/poi")] == [429, 200]


async def test_a_longer_retry_after_tells_the_driver_when_to_try_again(telegram, bot, ocm_server):
    ocm_server.inject("429", path_prefix="/v3/poi", times=None, retry_after=7)
    ada = telegram.user("Ada")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await ada.send_location(*PORTLAND)
    failure = await ada.wait_for_message(timeout=10)
    assert loop.time() - started < 3  # told at once, not after the search deadline
    assert "Open Charge Map asks us to slow down. Please try again in 7 seconds." in failure.text
    assert "🔄 Retry" in failure.labels
    assert len(ocm_server.requests_to("/v3/poi")) == 1


async def test_the_bots_own_budget_says_the_bot_is_busy_in_the_drivers_language(start_bot, telegram, ocm_server):
    await start_bot(ocm_requests_per_minute=2)  # reference data at start-up, then one search
    ada = telegram.user("Ada")
    assert cards(await search_at(ada))
    ocm_server.clear()
    anna = telegram.user("Anna", language_code="de")
    await anna.send_location(*PLACES[4])
    busy = await anna.wait_for_message(timeout=10)
    match = re.search(r"Bitte versuche es in (\d+) Sekunden erneut", busy.text)
    assert match and 50 <= int(match.group(1)) <= 60, busy.text
    assert "Open Charge Map" not in busy.text  # it is this bot's own limit, not OCM asking
    assert ocm_server.requests_to("/v3/poi") == []


# Answers that are not what they seem ------------------------------------------------------------


async def test_an_empty_answer_while_ocm_rebuilds_does_not_hide_chargers_from_the_next_search(
    telegram, bot, ocm_server
):
    ocm_server.inject("empty-list", path_prefix="/v3/poi")  # OCM's cache is rebuilding
    ada = telegram.user("Ada")
    nothing = await search_at(ada)
    assert "No chargers found within" in nothing.text
    await save_prefs(bot, ada, radius_km=5)  # a narrower search: that answer proves nothing
    results = await search_at(ada)
    assert len(cards(results)) == 5
    assert len(ocm_server.requests_to("/v3/poi")) == 2


async def test_a_partial_answer_is_shown_as_the_nearest_not_as_all(telegram, bot, ocm_server):
    ada = telegram.user("Ada")
    await save_prefs(bot, ada, radius_km=2, operational_only=False)
    first = await search_at(ada)
    assert "chargers, nearest first" in first.text
    ocm_server.inject("partial", path_prefix="/v3/poi")  # half of them, as while OCM's cache rebuilds
    await save_prefs(bot, ada, radius_km=5, operational_only=False)
    wider = await search_at(ada)
    assert "chargers, nearest first" not in wider.text and "nearest chargers" in wider.text


async def test_a_social_login_account_is_told_to_set_a_password(start_bot, telegram, ocm_server):
    await start_bot()
    ocm_server.register_user("sam@example.org", None, username="Sam")  # signs in with Google
    sam = telegram.user("Sam")
    _, reply = await sign_in(sam, ocm_server, email="sam@example.org", password="my google password")
    assert "has no password yet" in reply.text and "Set one in your profile on openchargemap.org" in reply.text
    assert "try again in a minute" not in reply.text.lower()


async def test_a_token_ocm_cannot_read_asks_the_driver_to_sign_in_again(start_bot, telegram, ocm_server):
    running = await start_bot(outbox_poll_seconds=1)
    ada = telegram.user("Ada")
    # A token in a shape OCM no longer reads (as after a change of its token format).
    await running.services.storage.save_ocm_token(ada.id, "not-a-jwt", None)
    summary = await fill_in(ada, outcome=("✅ Charged successfully",), rating="5")
    await tap(ada, summary, "Submit")
    told = await ada.wait_for_edit(summary, containing="sign-in", timeout=10)
    assert "send /login" in told.text
    assert ocm_server.comments == [] and len(ocm_server.requests_to("/v3/comment")) == 1
    assert await running.services.storage.get_ocm_token(ada.id) is None
