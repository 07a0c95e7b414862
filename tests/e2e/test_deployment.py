"""The bot the way it is deployed: installed from its wheel, run from another folder, behind a webhook."""

from __future__ import annotations

import dataclasses
import subprocess
from urllib.parse import urlsplit

import httpx
import pytest

from ocm_bot.settings import Secret
from tests.e2e.test_processes import free_port
from tests.e2e.test_settings import tap


def test_the_installed_package_is_imported_from_the_new_environment_not_the_checkout(installed_bot, outside_checkout):
    where = subprocess.run(
        [str(installed_bot.python), "-c", "import ocm_bot.i18n as i; print(i.__file__); print(i.LOCALES_DIR)"],
        cwd=outside_checkout,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(path.startswith(str(installed_bot.venv)) for path in where), where


async def test_an_installed_wheel_speaks_german_and_offers_every_language(
    installed_bot_process, bot_settings, telegram
):
    process = installed_bot_process(bot_settings)
    hans = telegram.user("Hans", language_code="de")
    await hans.send_text("/start")
    welcome = await hans.wait_for_message(timeout=30)
    assert "Hallo Hans!" in welcome.text
    assert hans.reply_keyboard_labels == ["📍 Meinen Standort senden"]
    await hans.send_text("/language")
    languages = await hans.wait_for_message(containing="Sprache")
    assert {"English", "Deutsch", "Français", "Español", "Nederlands"} <= set(languages.labels), languages.labels
    menu = await tap(hans, languages, "Français")
    assert "Langue" in menu.text and "Français" in menu.text, menu.text  # the French catalog answers
    assert process.terminate() == 0
    assert "Traceback" not in process.log


@pytest.mark.parametrize(
    "public_url",
    ["https://example.test", "https://example.test/hook", "https://example.test/telegram/hook"],
    ids=["no-path", "one-segment", "two-segments"],
)
async def test_the_webhook_listens_on_the_whole_path_of_webhook_url(
    public_url, installed_bot_process, bot_settings, telegram, telegram_server
):
    port = free_port()
    # The reverse proxy in front of the bot: https://example.test/... arrives at 127.0.0.1:port/...
    telegram_server.webhook_proxy = {"https://example.test": f"http://127.0.0.1:{port}"}
    settings = dataclasses.replace(bot_settings, webhook_secret=Secret("hook-secret_1"))
    process = installed_bot_process(
        settings, command="webhook", WEBHOOK_URL=public_url, PORT=str(port), WEBHOOK_LISTEN="127.0.0.1"
    )
    await telegram.wait_for_request("setWebhook", timeout=30)
    assert telegram_server.webhook.url == public_url
    ada = telegram.user("Ada")
    await ada.send_text("/start")
    welcome = await ada.wait_for_message(timeout=15)
    assert "Hi Ada!" in welcome.text
    assert [status for _, status in telegram_server.webhook.deliveries] == [200]
    local_url = f"http://127.0.0.1:{port}{urlsplit(public_url).path or '/'}"
    async with httpx.AsyncClient() as client:
        forged = await client.post(local_url, json={"update_id": 999, "message": {}})
    assert forged.status_code == 403  # no secret header: not from Telegram
    assert process.terminate() == 0
    assert "Traceback" not in process.log
