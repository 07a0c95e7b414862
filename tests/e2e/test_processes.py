"""``ocm-bot run`` and ``ocm-bot webhook`` as real processes against the loopback servers."""

from __future__ import annotations

import dataclasses
import socket

from ocm_bot.settings import Secret


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
    process = bot_process(
        settings, command="webhook", WEBHOOK_URL=url, PORT=str(port), WEBHOOK_LISTEN="127.0.0.1"
    )
    await telegram.wait_for_request("setWebhook", timeout=30)
    [registered] = telegram_server.calls("setWebhook")
    assert registered["url"] == url and registered["secret_token"] == "hook-secret_1"
    ada = telegram.user("Ada")
    await ada.send_text("/start")
    welcome = await ada.wait_for_message(timeout=30)
    assert "Hi Ada!" in welcome.text
    assert process.terminate() == 0
