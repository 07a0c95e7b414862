"""The check-in through the application exactly as ``ocm-bot run`` builds it (tests/e2e/fixtures.py)."""

from __future__ import annotations

from ocm_bot.handlers.signin import LOGIN_CONVERSATION, LOGIN_TIMEOUT
from ocm_bot.settings import Secret
from ocm_bot.storage import open_storage
from tests.e2e.test_checkin import CHARGER, fill_in, posts, tap

LEEDS_ROAD = 142462  # "Harmons City Creek": a charger of its own (see tests/e2e/test_checkin.py)
KILLED_AT_EACH_STEP = 13362  # "255 South West Temple": another Salt Lake City sample of its own


async def test_checkin_through_the_real_application_is_answered_by_the_checkin_only(start_bot, telegram, ocm_server):
    await start_bot(ocm_write_key=Secret(ocm_server.add_write_key()))
    ada = telegram.user("Ada")
    summary = await fill_in(ada, outcome=("✅ Charged successfully",), rating="5")
    await tap(ada, summary, "Submit")
    await ada.wait_for_edit(summary, containing="Thanks!")
    assert [body["ChargePointID"] for body in posts(ocm_server)] == [CHARGER]
    # No catch-all spoke up as well: every tap answered once, silently, and no "unknown command".
    assert [call.get("text") for call in telegram.server.calls("answerCallbackQuery")] == [None] * 4
    assert [m.text for m in ada.messages] == [ada.message(summary).text]


async def test_the_password_never_reaches_the_log_of_ocm_bot_run(bot_settings, bot_process, telegram, ocm_server):
    password = "pa55-word-never-logged"
    ocm_server.register_user("ada@example.org", password, username="ada")
    process = bot_process(bot_settings, LOG_LEVEL="DEBUG")
    ada = telegram.user("Ada")
    await ada.send_text("/login")
    await ada.wait_for_message(containing="e-mail address", timeout=30)
    await ada.send_text("ada@example.org")
    await ada.wait_for_message(containing="password")
    typed = await ada.send_text(password)
    await ada.wait_for_message(containing="Signed in")
    assert ada.message(typed).deleted
    process.terminate()
    # Even at DEBUG, where python-telegram-bot logs every update it processes.
    assert password not in process.log


async def test_a_second_tap_on_submit_is_told_the_checkin_is_already_sent(start_bot, telegram, ocm_server):
    await start_bot(ocm_write_key=Secret(ocm_server.add_write_key()))
    ada = telegram.user("Ada")
    summary = await fill_in(ada, outcome=("✅ Charged successfully",), rating="5", charger=LEEDS_ROAD)
    first = await ada.press(summary, "Submit")
    second = await ada.press(summary, "Submit")
    await first.answered()
    answer = await second.answered()
    assert answer.text in (
        "This check-in is already on its way to Open Charge Map.",
        "This check-in is already on Open Charge Map.",
    )
    await ada.wait_for_edit(summary, containing="Thanks!")
    assert len(posts(ocm_server)) == 1


async def test_ocm_bot_run_killed_the_moment_each_screen_arrives_continues_the_checkin(
    bot_settings, bot_process, telegram, ocm_server, nominatim_server
):
    """kill -9 right after every step's screen (well within the persistence interval), then restart."""
    settings = {"OCM_WRITE_KEY": ocm_server.add_write_key()}
    process = bot_process(bot_settings, **settings)
    ada = telegram.user("Ada")

    def restart() -> None:
        nonlocal process
        process.kill()
        process = bot_process(bot_settings, **settings)

    async def tap_expecting_a_step(message, label):
        pressed = await ada.press(message, label)
        answer = await pressed.answered(timeout=30)
        assert answer.text is None, f"the tap on {label!r} after a restart was answered {answer.text!r}"
        return await ada.wait_for_edit(message)

    await ada.send_text(f"/checkin {KILLED_AT_EACH_STEP}")
    panel = await ada.wait_for_message(containing="How did it go", timeout=30)
    restart()
    rating = await tap_expecting_a_step(panel, "✅ Charged successfully")
    assert "Rate" in rating.text
    restart()
    comment_step = await tap_expecting_a_step(rating, "4")
    assert "Anything to add" in comment_step.text
    restart()
    await ada.send_text("Quick and easy")
    summary = await ada.wait_for_message(containing="Your check-in at", timeout=30)
    assert "Comment: Quick and easy" in summary.text
    restart()
    await tap(ada, summary, "Submit")
    await ada.wait_for_edit(summary, containing="Thanks!", timeout=30)
    [body] = posts(ocm_server)
    assert body["ChargePointID"] == KILLED_AT_EACH_STEP and body["Rating"] == 4 and body["Comment"] == "Quick and easy"
    assert nominatim_server.requests == []  # the comment was never searched as a place


async def test_ocm_bot_run_killed_the_moment_each_sign_in_prompt_arrives_still_takes_the_password(
    bot_settings, bot_process, telegram, ocm_server, nominatim_server
):
    """kill -9 right after the e-mail and the password prompts (within the persistence interval)."""
    password = "pa55-word-after-a-kill"
    ocm_server.register_user("ada@example.org", password, username="ada")
    process = bot_process(bot_settings)
    ada = telegram.user("Ada")
    await ada.send_text("/login")
    await ada.wait_for_message(containing="e-mail address", timeout=30)
    process.kill()
    process = bot_process(bot_settings)
    await ada.send_text("ada@example.org")
    await ada.wait_for_message(containing="password", timeout=30)
    process.kill()
    stored = b"".join(path.read_bytes() for path in bot_settings.data_dir.rglob("*") if path.is_file())
    assert b"ada@example.org" not in stored  # the pending e-mail is kept encrypted
    process = bot_process(bot_settings, LOG_LEVEL="DEBUG")
    typed = await ada.send_text(password)
    await ada.wait_for_message(containing="Signed in", timeout=30)
    assert ada.message(typed).deleted
    assert nominatim_server.requests == []  # never searched as a place
    process.terminate()
    assert password not in process.log and "ada@example.org" not in process.log


async def test_a_password_typed_while_the_bot_was_down_past_the_sign_in_minutes_is_deleted_not_searched(
    bot_settings, bot_process, telegram, ocm_server, nominatim_server
):
    """The bot was down longer than the sign-in's five minutes, so it never said the sign-in timed out."""
    password = "pa55-word-typed-too-late"
    ocm_server.register_user("ada@example.org", password, username="ada")
    process = bot_process(bot_settings)
    ada = telegram.user("Ada")
    await ada.send_text("/login")
    await ada.wait_for_message(containing="e-mail address", timeout=30)
    await ada.send_text("ada@example.org")
    await ada.wait_for_message(containing="password", timeout=30)
    process.kill()
    await _age_sign_ins(bot_settings, seconds=LOGIN_TIMEOUT.total_seconds() + 60)
    typed = await ada.send_text(password)  # waits in Telegram's queue while the bot is down
    process = bot_process(bot_settings, LOG_LEVEL="DEBUG")
    answer = await ada.wait_for_message(containing="timed out while I was away", timeout=30)
    assert "Send /login to start again." in answer.text
    assert ada.message(typed).deleted
    assert nominatim_server.requests == []  # never searched as a place
    assert ocm_server.requests_to("/v3/profile/authenticate") == []  # nor sent to OCM after its time
    await ada.send_text("Portland")  # the next text is a place again
    await ada.wait_for_message(containing="Portland", timeout=30)
    process.terminate()
    assert password not in process.log


async def _age_sign_ins(settings, *, seconds: float) -> None:
    """Move every stored sign-in's deadline back, as if that much time had passed while the bot was down."""
    storage = await open_storage(None, data_dir=settings.data_dir, secret=settings.storage_secret.get())
    try:
        for key, record in await storage.load_conversations(LOGIN_CONVERSATION):
            await storage.save_conversation(LOGIN_CONVERSATION, key, record | {"until": record["until"] - seconds})
    finally:
        await storage.close()
