"""When Open Charge Map misbehaves the way the real server does: hangs, throttling, empty-looking
answers. A driver talks to the real application; OCM is the loopback fake with its faults."""

from __future__ import annotations

import asyncio

from tests.e2e.test_search import PORTLAND, cards

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
