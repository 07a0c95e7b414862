"""Operating the bot as a service: /healthz and /metrics, JSON logs, SIGTERM, Telegram's 429s, several instances."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import signal
import time
import warnings

import httpx
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from ocm_bot.app import build_application
from ocm_bot.settings import Secret
from tests.e2e.test_checkin import open_checkin, tap, tap_and_wait_edit
from tests.e2e.test_postgres import two_webhook_instances
from tests.e2e.test_processes import free_port
from tests.e2e.test_search import cards, search_at
from tests.e2e.test_search import tap as tap_button
from tests.storage.fixtures import PostgresCluster, find_postgres_bin


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a /metrics page: {(name, sorted labels): value}."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(found: dict, name: str, **labels: str) -> float:
    return sum(
        value for (n, have), value in found.items() if n == name and set(labels.items()) <= set(dict(have).items())
    )


async def until(condition, *, what: str, timeout: float) -> None:  # noqa: ASYNC109 (polls a process)
    """Wait until ``condition()`` holds (a process's state or log, which no fake server sees change)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.05)


async def get(url: str, *, within: float = 30) -> httpx.Response:
    """GET ``url`` once the server answers it (it starts with the bot)."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=5) as http:
        while True:
            try:
                response = await http.get(url)
                if response.status_code != 404:
                    return response
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{url} did not answer within {within} s")
            await asyncio.sleep(0.1)


async def test_webhook_serves_health_and_metrics_with_real_numbers_after_a_search(
    bot_settings, bot_process, telegram, ocm_server
):
    port = free_port()
    process = bot_process(
        bot_settings,
        command="webhook",
        WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
        PORT=str(port),
        WEBHOOK_LISTEN="127.0.0.1",
    )
    health = await get(f"http://127.0.0.1:{port}/healthz")
    assert health.status_code == 200, health.text
    assert health.json()["storage"] == "ok" and health.json()["outbox_backlog"] == 0
    before = samples((await get(f"http://127.0.0.1:{port}/metrics")).text)

    ada = telegram.user("Ada")
    await search_at(ada)
    after = samples((await get(f"http://127.0.0.1:{port}/metrics")).text)

    poi_requests = len(ocm_server.requests_to("/v3/poi"))
    assert poi_requests >= 1
    assert total(after, "ocm_bot_ocm_requests_total", path="/poi", status="200") == poi_requests
    assert total(after, "ocm_bot_updates_total", type="message") - total(before, "ocm_bot_updates_total") >= 1
    assert total(after, "ocm_bot_handler_seconds_count", type="message") >= 1
    assert total(after, "ocm_bot_handler_seconds_sum", type="message") > 0
    assert after[("ocm_bot_ocm_last_success_timestamp_seconds", ())] > time.time() - 60
    health = (await get(f"http://127.0.0.1:{port}/healthz")).json()
    assert 0 <= health["seconds_since_ocm_success"] < 60
    assert process.terminate() == 0


async def test_polling_serves_metrics_on_metrics_port_counting_geocoder_and_cache_hits(
    bot_settings, bot_process, telegram, ocm_server, nominatim_server
):
    port = free_port()
    process = bot_process(bot_settings, METRICS_PORT=str(port))
    ada = telegram.user("Ada")
    await ada.send_text("Portland, Oregon")
    await ada.wait_for_message(containing="Chargers near", timeout=30)
    await ada.send_text("Portland, Oregon")  # the same search again: answered from the caches
    await ada.wait_for_message(containing="Chargers near", timeout=30)
    found = samples((await get(f"http://127.0.0.1:{port}/metrics")).text)
    assert total(found, "ocm_bot_geocoder_calls_total", outcome="ok") == len(nominatim_server.requests) >= 1
    assert total(found, "ocm_bot_updates_total", type="message") == 2
    assert total(found, "ocm_bot_ocm_cache_hits_total") >= 1
    assert total(found, "ocm_bot_ocm_requests_total", path="/poi") == len(ocm_server.requests_to("/v3/poi")) == 1
    health = await get(f"http://127.0.0.1:{port}/healthz")
    assert health.status_code == 200
    assert process.terminate() == 0
    assert "GET /metrics" not in process.log  # a scrape every few seconds is not logged


async def test_sigterm_during_a_search_still_delivers_the_reply_and_exits_0_within_10_s(
    bot_settings, bot_process, telegram, ocm_server
):
    process = bot_process(bot_settings)
    ada = telegram.user("Ada")
    await ada.send_text("/start")
    await ada.wait_for_message(timeout=30)
    ocm_server.inject("delay", path_prefix="/v3/poi", delay=2.0)
    await ada.send_location(45.5122, -122.6587)
    await until(lambda: ocm_server.requests_to("/v3/poi"), what="the search reached OCM", timeout=30)
    sent_at = time.monotonic()
    process.process.send_signal(signal.SIGTERM)
    results = await ada.wait_for_message(containing="Chargers near", timeout=15)
    assert "openchargemap.org/site/poi/details/" in str(results.url_buttons)
    await until(lambda: process.process.poll() is not None, what="the process ended", timeout=12)
    assert process.process.returncode == 0, process.log
    assert time.monotonic() - sent_at < 10
    assert "Traceback" not in process.log


async def test_a_second_sigterm_during_a_hung_stop_exits_at_once(bot_settings, bot_process, telegram, ocm_server):
    process = bot_process(bot_settings)
    ada = telegram.user("Ada")
    await ada.send_text("/start")
    await ada.wait_for_message(timeout=30)
    ocm_server.inject("hang", path_prefix="/v3/poi", times=None)
    await ada.send_location(45.5122, -122.6587)
    await until(lambda: ocm_server.requests_to("/v3/poi"), what="the search reached OCM", timeout=30)
    process.process.send_signal(signal.SIGTERM)
    await until(lambda: "SIGTERM: stopping" in process.log, what="the stop began", timeout=10)
    assert process.process.poll() is None  # still finishing the hung search
    second_at = time.monotonic()
    process.process.send_signal(signal.SIGTERM)
    await until(lambda: process.process.poll() is not None, what="the process ended", timeout=5)
    assert time.monotonic() - second_at < 2
    assert process.process.returncode != 0
    assert "SIGTERM again: exiting now" in process.log


async def test_a_429_is_waited_out_for_retry_after_then_the_reply_arrives_and_is_counted(
    bot, telegram, telegram_server
):
    counted_before = REGISTRY.get_sample_value("ocm_bot_telegram_retry_after_total", {"method": "sendMessage"}) or 0
    telegram_server.inject_error("sendMessage", 429, retry_after=2)
    ada = telegram.user("Ada")
    results = await search_at(ada)
    assert "openchargemap.org/site/poi/details/" in str(results.url_buttons)
    attempts = [r for r in telegram_server.requests if r.method.lower() == "sendmessage"]
    refused, delivered = attempts[-2:]
    assert not refused.ok and "retry after 2" in (refused.error or "")
    assert delivered.ok and delivered.time - refused.time >= 2.0  # no earlier retry
    counted = REGISTRY.get_sample_value("ocm_bot_telegram_retry_after_total", {"method": "sendMessage"})
    assert counted == counted_before + 1


async def test_json_logs_are_one_object_per_line_without_secrets_or_what_drivers_typed(
    bot_settings, bot_process, telegram, ocm_server, nominatim_server
):
    process = bot_process(bot_settings, LOG_FORMAT="json", LOG_LEVEL="DEBUG")
    ada = telegram.user("Ada")
    await ada.send_text("/start")
    await ada.wait_for_message(timeout=30)
    await ada.send_text("Portland, Oregon")
    await ada.wait_for_message(containing="Chargers near", timeout=30)
    assert process.terminate() == 0
    lines = process.log.splitlines()
    events = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {"time", "level", "logger", "message"} <= set(events[0])
    assert any(event["message"] == "stopped" for event in events)
    for forbidden in (
        bot_settings.telegram_bot_token.get(),
        bot_settings.ocm_api_key.get(),
        "Portland, Oregon",  # what the driver typed
        ada.user["first_name"],
    ):
        assert forbidden not in process.log, forbidden
    assert not any(event["logger"] == "httpx" for event in events)  # request URLs carry the token
    assert not any("per_message" in event["message"] for event in events)


async def test_two_instances_on_postgresql_share_a_conversation_and_one_runs_the_outbox_until_killed(
    postgres_url, bot_process, bot_settings, telegram, telegram_server, ocm_server
):
    settings = dataclasses.replace(bot_settings, database_url=Secret(postgres_url))
    quick = {"OUTBOX_POLL_SECONDS": "1", "JOB_LEASE_SECONDS": "3"}
    route_to, (a, b) = await two_webhook_instances(settings, bot_process, telegram, telegram_server, **quick)
    runs, waits = "runs the check-in delivery now", "another instance runs the check-in delivery"
    await until(lambda: runs in a.log + b.log, what="an instance took the delivery", timeout=30)
    holder, other = (a, b) if runs in a.log else (b, a)
    await until(lambda: waits in other.log, what="the other instance saw the lease taken", timeout=30)
    assert runs not in other.log

    ada = telegram.user("Ada")
    route_to("A")
    results = await search_at(ada)  # sent by A
    route_to("B")
    await tap_button(ada, results, "Next ›")  # pressed on B, which never saw the search
    page2 = await ada.wait_for_edit(results, timeout=15)
    assert cards(page2)[0][0] == 6  # the page after A's five cards

    holder.kill()  # kill -9: its lease is not released
    killed_at = time.monotonic()
    await until(lambda: runs in other.log, what="the other instance took over the delivery", timeout=30)
    assert time.monotonic() - killed_at < 3 + 5  # the lease time, plus a poll interval and a busy CPU
    assert other.terminate() == 0
    assert "Traceback" not in other.log


async def test_healthz_answers_503_with_the_reason_when_the_database_goes_away(bot_settings, bot_process, telegram):
    cluster = PostgresCluster(find_postgres_bin())  # a server of its own: this test stops it
    cluster.start()
    try:
        settings = dataclasses.replace(bot_settings, database_url=Secret(cluster.create_database()))
        port = free_port()
        process = bot_process(settings, METRICS_PORT=str(port))
        healthy = await get(f"http://127.0.0.1:{port}/healthz")
        assert healthy.status_code == 200 and healthy.json()["status"] == "ok", healthy.text
    finally:
        cluster.stop()
    down = await get(f"http://127.0.0.1:{port}/healthz")
    assert down.status_code == 503
    assert down.json()["status"] == "unhealthy"
    assert "storage unreachable" in down.json()["reason"]
    process.kill()  # its stop would wait for the gone database to flush the conversation state


def checkins_counted(result: str) -> float:
    return REGISTRY.get_sample_value("ocm_bot_checkins_total", {"result": result}) or 0.0


async def test_a_submitted_check_in_is_counted_as_submitted_then_delivered(start_bot, telegram, ocm_server):
    await start_bot(ocm_write_key=Secret(ocm_server.add_write_key()))
    before = {result: checkins_counted(result) for result in ("submitted", "delivered", "queued", "failed")}
    ada = telegram.user("Ada")
    panel = await open_checkin(ada)
    rating = await tap_and_wait_edit(ada, panel, "✅ Charged successfully")
    comment_step = await tap_and_wait_edit(ada, rating, "5")
    summary = await tap_and_wait_edit(ada, comment_step, "Skip")
    await tap(ada, summary, "Submit")
    await ada.wait_for_edit(summary, containing="Thanks!")
    moved = {result: checkins_counted(result) - count for result, count in before.items()}
    assert moved == {"submitted": 1, "delivered": 1, "queued": 0, "failed": 0}


def test_building_the_bot_warns_about_nothing(bot_settings):
    """python-telegram-bot's per_message warning (and any other) is gone, not filtered."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build_application(bot_settings)
