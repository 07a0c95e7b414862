"""A check-in survives the bot stopping or being killed (kill -9) mid-conversation and mid-submission,
and is delivered exactly once by the next instance on the same database."""

from __future__ import annotations

import asyncio

import pytest

from tests.domain.test_outbox import answer_comments_late
from tests.e2e.test_checkin import (
    CheckinBotProcess,
    open_checkin,
    posts,
    tap,
    tap_and_wait_edit,
)

# Chargers of their own (see tests/e2e/test_checkin.py): these tests look for lost posts on OCM.
PIONEER = 142465  # "Intermountain Healthcare"
MAIN_STREET = 8378  # "138 South Main Street"


@pytest.fixture
def bot_process(telegram, ocm_server, tmp_path):
    """``start()`` a bot in a child process on this test's database; ``kill()`` it with SIGKILL."""
    processes: list[CheckinBotProcess] = []
    write_key = ocm_server.add_write_key()

    def start(**options) -> CheckinBotProcess:
        process = CheckinBotProcess(
            token=telegram.token,
            telegram_root=telegram.api_url.removesuffix("/bot"),
            ocm_url=ocm_server.url,
            ocm_api_key=ocm_server.api_key,
            db_path=tmp_path / "bot.sqlite3",
            write_key=write_key,
            **options,
        )
        process.start(tmp_path / "ready")
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.terminate()


async def test_killed_mid_conversation_the_next_process_takes_the_typed_comment(bot_process, telegram, ocm_server):
    first = bot_process()
    ada = telegram.user("Ada")
    panel = await open_checkin(ada, PIONEER)
    rating = await tap_and_wait_edit(ada, panel, "✅ Charged successfully")
    await tap_and_wait_edit(ada, rating, "5")
    await asyncio.sleep(0.5)  # conversation states are written every 0.1 s; a kill loses at most that
    first.kill()

    bot_process()
    await ada.send_text("Worked first time")
    summary = await ada.wait_for_message(containing="Your check-in at", timeout=10)
    await tap(ada, summary, "Submit")
    await ada.wait_for_edit(summary, containing="Thanks!", timeout=10)
    [body] = posts(ocm_server)
    assert body["ChargePointID"] == PIONEER and body["Comment"] == "Worked first time" and body["Rating"] == 5


@pytest.mark.parametrize("ocm_stored_it", [True, False], ids=["ocm-stored-it", "ocm-never-got-it"])
async def test_killed_mid_submission_the_next_process_delivers_exactly_once(
    bot_process, telegram, ocm_server, ocm_stored_it, monkeypatch
):
    charger = PIONEER if ocm_stored_it else MAIN_STREET
    first = bot_process(ocm_timeout=10, lease_seconds=2, poll_seconds=0.2)
    ada = telegram.user("Ada")
    panel = await open_checkin(ada, charger)
    rating = await tap_and_wait_edit(ada, panel, "✅ Charged successfully")
    comment_step = await tap_and_wait_edit(ada, rating, "3")
    summary = await tap_and_wait_edit(ada, comment_step, "Skip")
    # OCM stores the post but answers slowly, or never answers (nor stores) at all.
    if ocm_stored_it:
        answer_comments_late(ocm_server, monkeypatch, seconds=5.0)
    else:
        ocm_server.inject("hang", path_prefix="/v3/comment")
    await tap(ada, summary, "Submit")
    sending = await ada.wait_for_edit(summary, containing="Sending your check-in")
    await ada.wait_until(lambda: ocm_server.requests_to("/v3/comment", "POST"), what="the post reached OCM")
    if ocm_stored_it:
        await ada.wait_until(lambda: ocm_server.comments, what="OCM stored the post")
    first.kill()
    ocm_server.clear_faults()  # a hung request stays hung: it is never answered, never stored
    monkeypatch.undo()

    bot_process(lease_seconds=2, poll_seconds=0.2)
    done = await ada.wait_for_edit(sending, containing="Thanks!", timeout=15)
    assert "Open in OCM ↗" in done.url_buttons
    assert len(ocm_server.comments) == 1
    assert len(posts(ocm_server)) == (1 if ocm_stored_it else 2)
    [stored] = ocm_server.comments
    assert stored.poi_id == charger and stored.rating == 3
