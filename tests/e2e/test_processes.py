"""``ocm-bot run`` and ``ocm-bot webhook`` as real processes against the loopback servers."""

from __future__ import annotations

import dataclasses
import socket

import pytest

from ocm_bot.settings import Secret
from tests.domain.test_outbox import answer_comments_late
from tests.e2e.test_checkin import open_checkin, tap, tap_and_wait_edit


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_run_answers_start_by_long_polling_and_never_logs_secrets(bot_settings, bot_process, telegram):
    process = bot_process(bot_settings)
    ada = telegram.user("Ada")
    await ada.send_text("/start")
    welcome = await ada.wait_for_message(timeout=30)
    assert "Hi Ada!" in welcome.text
    assert process.terminate() == 0
    log = process.log
    assert bot_settings.telegram_bot_token.get() not in log
    assert bot_settings.ocm_api_key.get() not in log
    assert "Traceback" not in log


async def test_webhook_receives_updates_with_the_secret_header(bot_settings, bot_process, telegram, telegram_server):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram-hook"
    settings = dataclasses.replace(bot_settings, webhook_secret=Secret("hook-secret_1"))
    process = bot_process(settings, command="webhook", WEBHOOK_URL=url, PORT=str(port), WEBHOOK_LISTEN="127.0.0.1")
    await telegram.wait_for_request("setWebhook", timeout=30)
    [registered] = telegram_server.calls("setWebhook")
    assert registered["url"] == url and registered["secret_token"] == "hook-secret_1"
    ada = telegram.user("Ada")
    await ada.send_text("/start")
    welcome = await ada.wait_for_message(timeout=30)
    assert "Hi Ada!" in welcome.text
    assert process.terminate() == 0


@pytest.mark.parametrize("ocm_stored_it", [True, False], ids=["ocm-stored-it", "ocm-never-got-it"])
async def test_ocm_bot_run_killed_mid_submission_delivers_exactly_once_after_restart(
    bot_settings, bot_process, telegram, ocm_server, ocm_stored_it, monkeypatch
):
    charger = 142465 if ocm_stored_it else 8378  # Salt Lake City samples of their own per case
    settings = dataclasses.replace(bot_settings, ocm_write_key=Secret(ocm_server.add_write_key()))
    quick_outbox = {"OUTBOX_LEASE_SECONDS": "2", "OUTBOX_POLL_SECONDS": "1", "JOB_LEASE_SECONDS": "2"}
    first = bot_process(settings, **quick_outbox)
    ada = telegram.user("Ada")
    panel = await open_checkin(ada, charger)
    rating = await tap_and_wait_edit(ada, panel, "✅ Charged successfully", timeout=30)
    comment_step = await tap_and_wait_edit(ada, rating, "3")
    summary = await tap_and_wait_edit(ada, comment_step, "Skip")
    if ocm_stored_it:
        answer_comments_late(ocm_server, monkeypatch, seconds=10.0)
    else:
        ocm_server.inject("hang", path_prefix="/v3/comment")
    await tap(ada, summary, "Submit")
    sending = await ada.wait_for_edit(summary, containing="Sending your check-in")
    await ada.wait_until(lambda: ocm_server.requests_to("/v3/comment", "POST"), what="the post reached OCM")
    if ocm_stored_it:
        await ada.wait_until(lambda: ocm_server.comments, what="OCM stored the post")
    first.kill()
    ocm_server.clear_faults()
    monkeypatch.undo()

    bot_process(settings, **quick_outbox)
    done = await ada.wait_for_edit(sending, containing="Thanks!", timeout=30)
    assert "Open in OCM ↗" in done.url_buttons
    [stored] = ocm_server.comments
    assert stored.poi_id == charger and stored.rating == 3
    assert len(ocm_server.requests_to("/v3/comment", "POST")) == (1 if ocm_stored_it else 2)
