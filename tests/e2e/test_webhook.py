"""How updates reach a real ``ocm-bot`` process: the webhook's secret, the updates it asks for, deploys,
and a poller that will not fight a webhook."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.fixtures import REPO_ROOT, BotProcess, started_processes
from tests.e2e.test_postgres import listening
from tests.e2e.test_processes import free_port

# What the bot has features for; nothing here is asked for (no channel, Business, payment, poll or reaction features).
NOT_HANDLED = {
    "channel_post",
    "edited_channel_post",
    "shipping_query",
    "pre_checkout_query",
    "poll",
    "poll_answer",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
    "message_reaction",
    "message_reaction_count",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "purchased_paid_media",
}


@pytest.fixture
def ocm_bot(tmp_path: Path) -> Iterator[Callable[..., BotProcess]]:
    """``ocm_bot(settings, "run --take-over", **env)``: ``python -m ocm_bot`` with these arguments, ended at the end."""

    def argv(arguments: str) -> list[str]:
        return [sys.executable, "-m", "ocm_bot", "--env-file", str(tmp_path / "no.env"), *arguments.split()]

    with started_processes(argv, cwd=REPO_ROOT, logs=tmp_path, prefix="ocm-bot") as start:
        yield lambda settings, arguments="run", **env: start(settings, command=arguments, **env)


def ended(process: BotProcess, timeout: float = 30) -> int:
    return process.process.wait(timeout=timeout)


async def set_webhook(telegram_server, url: str) -> None:
    """Another deployment (a `web` process, an old release) registered a webhook for this bot."""
    async with httpx.AsyncClient() as client:
        answer = await client.post(telegram_server.method_url("setWebhook"), json={"url": url})
    assert answer.json()["ok"], answer.text


async def test_without_webhook_secret_the_webhook_derives_one_says_how_to_set_yours_and_refuses_others(
    bot_settings, ocm_bot, telegram, telegram_server
):
    assert bot_settings.webhook_secret is None
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    process = ocm_bot(bot_settings, "webhook", WEBHOOK_URL=url, PORT=str(port), WEBHOOK_LISTEN="127.0.0.1")
    await telegram.wait_for_request("setWebhook", timeout=30)
    [registered] = telegram_server.calls("setWebhook")
    secret = registered["secret_token"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{32,256}", secret), secret  # what Telegram accepts, long enough to guess
    token = bot_settings.telegram_bot_token.get()
    assert token not in secret and token.split(":")[1] not in secret
    await listening(port)

    ada = telegram.user("Ada")
    await ada.send_text("/start")
    assert "Hi Ada!" in (await ada.wait_for_message(timeout=30)).text

    forged = {"update_id": 9999, "message": {"message_id": 1, "date": 0, "chat": {"id": ada.id, "type": "private"},
                                             "from": {"id": ada.id, "is_bot": False, "first_name": "Eve"},
                                             "text": "/start", "entities": [{"type": "bot_command", "offset": 0,
                                                                              "length": 6}]}}  # fmt: skip
    async with httpx.AsyncClient() as client:
        missing = await client.post(url, json=forged)
        wrong = await client.post(url, json=forged, headers={"X-Telegram-Bot-Api-Secret-Token": secret[:-1] + "x"})
    assert (missing.status_code, wrong.status_code) == (403, 403)
    assert process.terminate() == 0
    sends = [call for call in telegram_server.calls("sendMessage") if "Hi Eve" in call["text"]]
    assert sends == []  # neither forged /start was answered

    log = process.log
    [line] = [line for line in log.splitlines() if "WEBHOOK_SECRET is not set" in line]
    assert "set WEBHOOK_SECRET" in line and "derived from TELEGRAM_BOT_TOKEN" in line
    assert token not in log and secret not in log
    assert "Traceback" not in log

    # Every instance (here: the next deploy) derives the same secret, so instances agree with no set-up.
    again = ocm_bot(bot_settings, "webhook", WEBHOOK_URL=url, PORT=str(port), WEBHOOK_LISTEN="127.0.0.1")
    await telegram.wait_for_request("setWebhook", after=len(telegram_server.requests), timeout=30)
    assert telegram_server.calls("setWebhook")[-1]["secret_token"] == secret
    await listening(port)
    assert again.terminate() == 0


async def test_updates_sent_between_two_deploys_are_answered_by_the_next_one(
    bot_settings, ocm_bot, telegram, telegram_server
):
    port = free_port()
    hook = {"WEBHOOK_URL": f"http://127.0.0.1:{port}/hook", "PORT": str(port), "WEBHOOK_LISTEN": "127.0.0.1"}
    old = ocm_bot(bot_settings, "webhook", **hook)
    await telegram.wait_for_request("setWebhook", timeout=30)
    await listening(port)
    assert old.terminate() == 0

    ada = telegram.user("Ada")
    await ada.send_text("/start")  # nobody listens: Telegram keeps it and retries
    await ada.wait_until(lambda: telegram_server.webhook.deliveries, what="a failed delivery")

    before = len(telegram_server.requests)
    new = ocm_bot(bot_settings, "webhook", **hook)
    await telegram.wait_for_request("setWebhook", after=before, timeout=30)
    registered = telegram_server.calls("setWebhook")[-1]
    assert registered.get("drop_pending_updates") is False  # said, not left to a default
    assert "Hi Ada!" in (await ada.wait_for_message(timeout=30)).text
    await listening(port)
    assert new.terminate() == 0


async def test_the_webhook_asks_telegram_only_for_the_update_types_the_bot_handles(
    bot_settings, ocm_bot, telegram, telegram_server
):
    port = free_port()
    process = ocm_bot(
        bot_settings, "webhook", WEBHOOK_URL=f"http://127.0.0.1:{port}/hook", PORT=str(port), WEBHOOK_LISTEN="127.0.0.1"
    )
    await telegram.wait_for_request("setWebhook", timeout=30)
    allowed = telegram_server.calls("setWebhook")[-1]["allowed_updates"]
    # Messages (places, commands), edits (a live location moving), buttons, the bot added to or removed from a group.
    assert {"message", "edited_message", "callback_query", "my_chat_member"} <= set(allowed)
    assert set(allowed) & NOT_HANDLED == set()
    assert telegram_server.webhook.allowed_updates == allowed
    await listening(port)
    assert process.terminate() == 0


async def test_run_refuses_to_poll_while_a_webhook_is_set_and_says_so_in_one_line(
    bot_settings, ocm_bot, telegram, telegram_server
):
    await set_webhook(telegram_server, "https://bots.example.test/hook")
    process = ocm_bot(bot_settings, "run")
    assert ended(process) == 1
    said = [line for line in process.log.splitlines() if line.strip() and not re.match(r"^\d{4}-\d\d-\d\d ", line)]
    assert len(said) == 1, process.log
    [line] = said
    assert line.startswith("ocm-bot cannot start: a webhook is set for this bot (https://bots.example.test/hook)")
    assert "ocm-bot webhook" in line and "--take-over" in line and "TAKE_OVER_WEBHOOK=1" in line
    # The webhook keeps its updates: nothing deleted it, nothing polled.
    assert telegram_server.webhook.url == "https://bots.example.test/hook"
    assert telegram_server.calls("deleteWebhook") == [] and telegram_server.calls("getUpdates") == []


@pytest.mark.parametrize(("arguments", "env"), [("run --take-over", {}), ("run", {"TAKE_OVER_WEBHOOK": "1"})])
async def test_run_told_to_take_over_deletes_the_webhook_and_answers_what_waited_for_it(
    arguments, env, bot_settings, ocm_bot, telegram, telegram_server
):
    await set_webhook(telegram_server, f"http://127.0.0.1:{free_port()}/hook")  # a webhook nobody answers any more
    ada = telegram.user("Ada")
    await ada.send_text("/start")
    await ada.wait_until(lambda: telegram_server.webhook.deliveries, what="a failed delivery")

    process = ocm_bot(bot_settings, arguments, **env)
    assert "Hi Ada!" in (await ada.wait_for_message(timeout=30)).text
    deletes = telegram_server.calls("deleteWebhook")
    assert deletes and not any(delete.get("drop_pending_updates") for delete in deletes)
    assert telegram_server.webhook is None
    assert process.terminate() == 0
    assert "took over from the webhook http://127.0.0.1:" in process.log
