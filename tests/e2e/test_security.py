"""Nobody is let in where they do not belong, and nobody floods the bot (issue 16, item 5).

Covered elsewhere, by the tests named in docs/reliability.md ("Security"): the webhook's secret
(tests/e2e/test_processes.py), group admins checked with getChatMember at each use
(tests/e2e/test_watches.py, tests/e2e/test_group_search.py), a watch's buttons pressed in another
group (tests/e2e/test_watches.py::test_a_forged_or_foreign_button_is_refused).
"""

from __future__ import annotations

import re

PORTLAND = (45.5122, -122.6587)


async def test_a_driver_searching_too_often_is_told_to_wait_and_ocm_is_not_asked(start_bot, telegram, ocm_server):
    await start_bot(search_rate_limit=3)
    ada, bea = telegram.user("Ada"), telegram.user("Bea", language_code="de")
    for _ in range(3):
        await ada.send_location(*PORTLAND)
        await ada.wait_for_message(containing="nearest first")
    asked = len(ocm_server.requests_to("/v3/poi"))
    await ada.send_location(*PORTLAND)
    refusal = await ada.wait_for_message()
    assert re.fullmatch(
        r"That's a lot of searches in one minute\. Please wait (\d+) seconds?, then try again\.", refusal.text
    )
    assert 1 <= int(re.search(r"\d+", refusal.text).group()) <= 60
    await ada.send_text("Leeds")
    assert "a lot of searches" in (await ada.wait_for_message()).text
    assert len(ocm_server.requests_to("/v3/poi")) == asked

    # Another driver is not held back, and hears it in their language when it is their turn.
    for _ in range(3):
        await bea.send_location(*PORTLAND)
        await bea.wait_for_message(containing="Ladestation")
    await bea.send_location(*PORTLAND)
    assert "Sekunde" in (await bea.wait_for_message()).text


async def test_twenty_searches_a_minute_is_the_default(bot_settings):
    assert bot_settings.search_rate_limit == 20


async def test_a_venue_or_place_with_a_lone_surrogate_is_answered(bot, telegram, telegram_server):
    # Found by tests/e2e/test_fuzz.py: the title is echoed in the results, which could not be encoded.
    ada = telegram.user("Ada")
    telegram_server.user_message(
        ada.id,
        ada.user,
        {
            "location": {"latitude": PORTLAND[0], "longitude": PORTLAND[1]},
            "venue": {
                "location": {"latitude": PORTLAND[0], "longitude": PORTLAND[1]},
                "title": "Pioneer\ud800",
                "address": "x",
            },
        },
    )
    results = await ada.wait_for_message(containing="nearest first")
    assert "Pioneer\ufffd" in results.text
    telegram_server.user_message(ada.id, ada.user, {"text": "Nowhere\udfff"})
    assert "I could not find “Nowhere" in (await ada.wait_for_message()).text
