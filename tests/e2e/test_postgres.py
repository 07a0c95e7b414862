"""The bot on PostgreSQL (``DATABASE_URL``), as several webhook instances would run it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re

from ocm_bot.domain.preferences import UsageChoice, UserPreferences
from ocm_bot.settings import Secret
from ocm_bot.storage import open_storage
from tests.e2e.test_checkin import CHARGER, open_checkin, tap, tap_and_wait_edit
from tests.e2e.test_processes import free_port
from tests.e2e.test_search import cards, search_at
from tests.e2e.test_search import tap as tap_button


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


async def test_two_webhook_instances_on_one_database_answer_each_other_s_buttons(
    postgres_url, bot_process, bot_settings, telegram, telegram_server, ocm_server
):
    settings = dataclasses.replace(bot_settings, database_url=Secret(postgres_url))
    route_to, processes = await two_webhook_instances(settings, bot_process, telegram, telegram_server)
    route_to("A")
    ada = telegram.user("Ada")
    async with await open_storage(postgres_url, data_dir=bot_settings.data_dir, secret=None) as storage:
        prefs = UserPreferences(radius_km=25, page_size=3, usage=UsageChoice.INCLUDE_RESTRICTED)
        await storage.save_user(ada.id, prefs.to_dict())

    results = await search_at(ada)  # handled by A
    first = cards(results)
    assert [n for n, _, _ in first] == [1, 2, 3]

    route_to("B")  # every later update reaches B, which never saw the search
    answer = await tap_button(ada, results, "Next ›")
    assert answer.text is None  # not "This button has expired"
    page2 = await ada.wait_for_edit(results, timeout=15)
    assert [n for n, _, _ in cards(page2)] == [4, 5, 6]
    assert cards(page2)[0][2] >= first[-1][2]
    await tap_button(ada, page2, "ℹ️ 4")
    name = cards(page2)[0][1]
    details = await ada.wait_for_message(containing=name, timeout=15)
    # The distance and direction from the searched point: B knows the search A made.
    assert re.match(rf"{re.escape(name)} — \d+(\.\d+)? (km|mi) \S+ [NESW]{{1,2}}\n", details.text), details.text
    assert "✅ Check in" in details.labels

    route_to("A")
    await tap_button(ada, page2, "‹ Prev")
    back = await ada.wait_for_edit(page2, timeout=15)
    assert cards(back) == first
    for process in processes:
        assert process.terminate() == 0
        assert "Traceback" not in process.log


async def test_a_check_in_goes_on_whichever_instance_gets_each_step(
    postgres_url, bot_process, bot_settings, telegram, telegram_server, ocm_server, nominatim_server
):
    settings = dataclasses.replace(
        bot_settings, database_url=Secret(postgres_url), ocm_write_key=Secret(ocm_server.add_write_key())
    )
    route_to, processes = await two_webhook_instances(settings, bot_process, telegram, telegram_server)
    ada = telegram.user("Ada")
    route_to("A")
    panel = await open_checkin(ada)
    route_to("B")  # B never saw the check-in open
    rating = await tap_and_wait_edit(ada, panel, "✅ Charged successfully", timeout=15)
    assert "rate" in rating.text.lower()
    route_to("A")
    comment_step = await tap_and_wait_edit(ada, rating, "5", timeout=15)
    assert "Anything to add" in comment_step.text
    route_to("B")  # the comment, not a place to search
    await ada.send_text("Worked first time")
    summary = await ada.wait_for_message(containing="Your check-in at", timeout=15)
    route_to("A")
    await tap(ada, summary, "Submit")
    await ada.wait_for_edit(summary, containing="Thanks!", timeout=15)
    bodies = [json.loads(r.body) for r in ocm_server.requests_to("/v3/comment", "POST")]
    assert [(b["ChargePointID"], b["Rating"], b["Comment"]) for b in bodies] == [(CHARGER, 5, "Worked first time")]
    assert nominatim_server.requests == []
    assert not any("expired" in (m.text or "") for m in ada.messages)
    for process in processes:
        assert process.terminate() == 0
        assert "Traceback" not in process.log


async def test_a_sign_in_goes_on_whichever_instance_gets_the_e_mail_and_the_password(
    postgres_url, bot_process, bot_settings, telegram, telegram_server, ocm_server, nominatim_server
):
    settings = dataclasses.replace(bot_settings, database_url=Secret(postgres_url))
    route_to, processes = await two_webhook_instances(settings, bot_process, telegram, telegram_server)
    ocm_server.register_user("ada@example.org", "s3cret-pass", username="ada")
    ada = telegram.user("Ada")
    route_to("A")
    await ada.send_text("/login")
    await ada.wait_for_message(containing="e-mail address", timeout=15)
    route_to("B")  # B never saw /login
    await ada.send_text("ada@example.org")
    await ada.wait_for_message(containing="password", timeout=15)
    route_to("A")  # A last saw the e-mail step
    typed = await ada.send_text("s3cret-pass")
    signed_in = await ada.wait_for_message(matching=r"Signed in|Send /login|did not accept", timeout=15)
    assert "Signed in" in signed_in.text
    assert ada.message(typed).deleted
    assert nominatim_server.requests == []  # neither the e-mail nor the password was searched as a place
    async with await open_storage(postgres_url, data_dir=bot_settings.data_dir, secret=None) as storage:
        assert await storage.load_conversations("login") == []
    for process in processes:
        assert process.terminate() == 0
        assert "Traceback" not in process.log
        assert "s3cret-pass" not in process.log


async def two_webhook_instances(settings, bot_process, telegram, telegram_server, **env):
    """Two `ocm-bot webhook` processes behind one public URL, as a load balancer would run them.

    Returns ``route_to("A" | "B")``, which makes the reverse proxy (the Bot API server's
    webhook_proxy) send the following updates to that instance, and the two processes.
    """
    ports = {"A": free_port(), "B": free_port()}
    settings = dataclasses.replace(settings, webhook_secret=Secret("hook-secret_2"))

    def route_to(instance: str) -> None:
        telegram_server.webhook_proxy = {"https://bots.example.test": f"http://127.0.0.1:{ports[instance]}"}

    route_to("A")
    before = len(telegram_server.requests)
    processes = [
        bot_process(settings, command="webhook", WEBHOOK_URL="https://bots.example.test/hook", PORT=str(port), **env)
        for port in ports.values()
    ]
    for port in ports.values():
        await listening(port)
    await telegram.wait_for_request("setWebhook", after=before, timeout=30)
    return route_to, processes


async def listening(port: int, within: float = 30) -> None:
    """Wait until a bot's webhook server accepts connections (it starts after setWebhook)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if loop.time() > deadline:
                raise AssertionError(f"nothing listens on port {port} after {within} s") from None
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
