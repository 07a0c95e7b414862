"""The bot the way it is deployed: installed from its wheel, run from another folder, behind a webhook."""

from __future__ import annotations

import dataclasses
import re
import socket
import subprocess
from urllib.parse import urlsplit

import httpx
import pytest

from ocm_bot.settings import Secret
from tests.e2e.fixtures import environment_for
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
    assert "Langue" in menu.text and "Langue: français" in menu.text, menu.text  # the French catalog answers
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
    # python-telegram-bot registers the webhook before its server listens, so a delivery in that
    # moment fails to connect and Telegram retries it; what must never happen is an HTTP error (404).
    # The delivery is recorded when the bot's 200 reaches the fake, which can be after the reply.
    hook = telegram_server.webhook
    await ada.wait_until(lambda: hook.deliveries and hook.deliveries[-1][1] == 200, what="a delivery answered 200")
    statuses = [status for _, status in hook.deliveries]
    assert all(status == 200 or isinstance(status, str) for status in statuses), statuses
    local_url = f"http://127.0.0.1:{port}{urlsplit(public_url).path or '/'}"
    async with httpx.AsyncClient() as client:
        forged = await client.post(local_url, json={"update_id": 999, "message": {}})
    assert forged.status_code == 403  # no secret header: not from Telegram
    assert process.terminate() == 0
    assert "Traceback" not in process.log


def closed_port() -> int:
    """A port nothing listens on (bound for a moment, then released)."""
    return free_port()


LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING) ")
DATABASE_PASSWORD = "Pg-Secret-Pass-42"
REJECTED_TOKEN = "987654:REJECTED-token-Abc123xyz"


def start_up_case(case: str, env: dict[str, str], folder) -> dict[str, str]:
    """The environment of one broken deployment."""
    if case == "telegram-refuses-the-token":
        return env | {"TELEGRAM_BOT_TOKEN": REJECTED_TOKEN}
    if case == "no-network":
        nowhere = f"http://127.0.0.1:{closed_port()}"
        return env | {"TELEGRAM_API_URL": nowhere, "OCM_API_URL": f"{nowhere}/v3", "NOMINATIM_URL": nowhere}
    if case == "postgresql-down":
        return env | {"DATABASE_URL": f"postgresql://ocm:{DATABASE_PASSWORD}@127.0.0.1:{closed_port()}/ocm"}
    if case == "telegram-refuses-the-webhook":
        return env | {"WEBHOOK_URL": "https://nowhere.example.test/hook", "WEBHOOK_LISTEN": "127.0.0.1"}
    if case == "webhook-port-in-use":
        return env | {"WEBHOOK_URL": "https://example.test/hook", "WEBHOOK_LISTEN": "127.0.0.1"}
    if case == "unreadable-ocm-data-file":
        data_file = folder / "ocm-dump.json"
        data_file.write_bytes(b"\x00\x9f garbage, not Open Charge Map data \xff")
        return env | {"OCM_DATA_FILE": str(data_file)}
    raise AssertionError(case)


@pytest.mark.parametrize(
    ("case", "command", "names"),
    [
        ("telegram-refuses-the-token", "run", ["TELEGRAM_BOT_TOKEN", "@BotFather"]),
        ("no-network", "run", ["Telegram", "TELEGRAM_API_URL"]),
        ("postgresql-down", "run", ["DATABASE_URL", "postgresql://127.0.0.1:"]),
        ("unreadable-ocm-data-file", "run", ["OCM_DATA_FILE", "ocm-dump.json"]),
        ("webhook-port-in-use", "webhook", ["PORT", "127.0.0.1:"]),
        ("telegram-refuses-the-webhook", "webhook", ["failed to resolve host", "WEBHOOK_URL"]),
    ],
)
def test_a_failed_start_is_one_line_that_says_what_to_do_and_shows_no_secret(
    case, command, names, run_installed, bot_settings, outside_checkout, telegram_server
):
    if case == "telegram-refuses-the-webhook":
        telegram_server.inject_error("setWebhook", 400, "bad webhook: Failed to resolve host: Name not known")
    settings = dataclasses.replace(
        bot_settings, ocm_write_key=Secret("write-key-0123456789"), webhook_secret=Secret("hook-secret_1")
    )
    env = start_up_case(case, environment_for(settings), outside_checkout)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env["PORT"] = str(taken.getsockname()[1])  # the webhook's port is taken (only `webhook` listens)
        finished = run_installed(command, env=env, timeout=30)
    assert finished.returncode == 1, finished.output
    assert finished.seconds < 15
    said = [line for line in finished.output.splitlines() if line.strip() and not LOG_LINE.match(line)]
    assert len(said) == 1, finished.output  # one line for the operator: no traceback, no second report
    [line] = said
    assert line.startswith("ocm-bot cannot start: ")
    for name in names:
        assert name in line
    secrets = [
        env["TELEGRAM_BOT_TOKEN"],
        env["OCM_API_KEY"],
        env["OCM_WRITE_KEY"],
        env["STORAGE_SECRET"],
        env["WEBHOOK_SECRET"],
        DATABASE_PASSWORD,
    ]
    assert [secret for secret in secrets if secret in finished.output] == []
