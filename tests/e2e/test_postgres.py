"""The bot on PostgreSQL (``DATABASE_URL``), as several webhook instances would run it."""

from __future__ import annotations

import json

from ocm_bot.settings import Secret
from tests.e2e.test_checkin import CHARGER, open_checkin, tap, tap_and_wait_edit


async def test_a_half_done_checkin_survives_a_restart_on_postgresql(postgres_url, start_bot, telegram, ocm_server):
    # postgres_url first: its database must outlive the bots, which flush their state when stopped.
    database = {"database_url": Secret(postgres_url), "ocm_write_key": Secret(ocm_server.add_write_key())}
    first = await start_bot(**database)
    assert type(first.services.storage).__name__ == "PostgresStorage"
    ada = telegram.user("Ada")
    panel = await open_checkin(ada)
    rating = await tap_and_wait_edit(ada, panel, "✅ Charged successfully")
    await first.stop()

    await start_bot(**database)
    comment_step = await tap_and_wait_edit(ada, rating, "5")
    assert "Anything to add" in comment_step.text
    await ada.send_text("Worked first time")
    summary = await ada.wait_for_message(containing="Your check-in at")
    await tap(ada, summary, "Submit")
    await ada.wait_for_edit(summary, containing="Thanks!")
    bodies = [json.loads(r.body) for r in ocm_server.requests_to("/v3/comment", "POST")]
    assert [(b["ChargePointID"], b["Rating"], b["Comment"]) for b in bodies] == [(CHARGER, 5, "Worked first time")]
