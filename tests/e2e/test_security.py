"""Nobody is let in where they do not belong, and nobody floods the bot (issue 16, item 5).

Covered elsewhere, by the tests named in docs/reliability.md ("Security"): the webhook's secret
(tests/e2e/test_processes.py), group admins checked with getChatMember at each use
(tests/e2e/test_watches.py, tests/e2e/test_group_search.py), a watch's buttons pressed in another
group (tests/e2e/test_watches.py::test_a_forged_or_foreign_button_is_refused).
"""

from __future__ import annotations

import json
import re

import pytest

from ocm_bot.domain.alerts import ALERTS_KEY
from ocm_bot.settings import Secret
from tests.e2e.test_checkin import CHARGER, open_checkin, tap_and_wait_edit
from tests.e2e.test_settings import open_settings, tap
from tests.storage.contract import raw_rows

PORTLAND = (45.5122, -122.6587)


async def test_a_driver_searching_too_often_is_told_to_wait_and_ocm_is_not_asked(start_bot, telegram, ocm_server):
    await start_bot(search_rate_limit=3)
    ada, bea = telegram.user("Ada"), telegram.user("Bea", language_code="de")
    for _ in range(3):
        await ada.send_location(*PORTLAND)
        await ada.wait_for_message(containing="nearest first")
    asked = len(ocm_server.requests_to("/v3/poi"))
    await ada.send_location(*PORTLAND)
    refusal = await ada.wait_for_message()
    assert re.fullmatch(
        r"That's a lot of searches in one minute\. Please wait (\d+) seconds?, then try again\.", refusal.text
    )
    assert 1 <= int(re.search(r"\d+", refusal.text).group()) <= 60
    await ada.send_text("Leeds")
    assert "a lot of searches" in (await ada.wait_for_message()).text
    assert len(ocm_server.requests_to("/v3/poi")) == asked

    # Another driver is not held back, and hears it in their language when it is their turn.
    for _ in range(3):
        await bea.send_location(*PORTLAND)
        await bea.wait_for_message(containing="Ladestation")
    await bea.send_location(*PORTLAND)
    assert "Sekunde" in (await bea.wait_for_message()).text


async def test_twenty_searches_a_minute_is_the_default(bot_settings):
    assert bot_settings.search_rate_limit == 20


async def test_a_venue_or_place_with_a_lone_surrogate_is_answered(bot, telegram, telegram_server):
    # Found by tests/e2e/test_fuzz.py: the title is echoed in the results, which could not be encoded.
    ada = telegram.user("Ada")
    telegram_server.user_message(
        ada.id,
        ada.user,
        {
            "location": {"latitude": PORTLAND[0], "longitude": PORTLAND[1]},
            "venue": {
                "location": {"latitude": PORTLAND[0], "longitude": PORTLAND[1]},
                "title": "Pioneer\ud800",
                "address": "x",
            },
        },
    )
    results = await ada.wait_for_message(containing="nearest first")
    assert "Pioneer\ufffd" in results.text
    telegram_server.user_message(ada.id, ada.user, {"text": "Nowhere\udfff"})
    assert "I could not find “Nowhere" in (await ada.wait_for_message()).text


# --- /forget: no row of any table names the driver afterwards -----------------------------------

TABLES_SQL = {
    "SqliteStorage": "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    "PostgresStorage": "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()",
}


def _names(cell: object, person: int) -> bool:
    if isinstance(cell, bool) or cell is None:
        return False
    if isinstance(cell, int):
        return cell == person
    if isinstance(cell, bytes | memoryview):
        cell = bytes(cell).decode("utf-8", "replace")
    if not isinstance(cell, str):
        cell = json.dumps(cell, default=str)  # PostgreSQL's jsonb comes back as dicts and lists
    return re.search(rf"(?<!\d){person}(?!\d)", cell) is not None


async def rows_naming(storage, person: int) -> dict[str, list]:
    """Every row, in every table the database has (listed by the database itself), that names ``person``."""
    tables = [name for (name,) in await raw_rows(storage, TABLES_SQL[type(storage).__name__])]
    assert {"users", "favourites", "drafts", "kv"} <= set(tables)
    found = {}
    for table in tables:
        rows = [row for row in await raw_rows(storage, f"SELECT * FROM {table}") if any(_names(c, person) for c in row)]
        if rows:
            found[table] = rows
    return found


async def use_everything(bot, person, ocm_server) -> None:
    """What a driver leaves in the bot's storage: settings, searches, a live location, a favourite,
    alerts, a check-in begun, a sign-in begun, a subscription and its notifications."""
    storage = bot.services.storage
    menu = await open_settings(person)
    await tap(person, await tap(person, menu, "⚡ Minimum power"), "50 kW")
    await person.send_location(*PORTLAND)
    await person.wait_for_message(containing="Chargers near")
    await person.send_live_location(*PORTLAND)
    await person.wait_for_message(containing="Chargers near")
    await person.send_text("Leeds")
    await person.wait_for_message()
    await storage.add_favourite(person.id, CHARGER)
    await storage.set_value(ALERTS_KEY.format(person.id), {"on": True})
    await storage.save_subscription(person.id, {"private": True})
    await storage.mark_notified(person.id, CHARGER, "f")
    panel = await open_checkin(person)
    await tap_and_wait_edit(person, panel, "✅ Charged successfully")
    await person.send_text("/login")
    await person.wait_for_message(containing="e-mail address")
    await bot.application.update_persistence()


async def test_forget_leaves_no_row_that_names_the_driver_in_any_sqlite_table(start_bot, telegram, ocm_server):
    await forget_leaves_nothing(await start_bot(), telegram, ocm_server)


@pytest.mark.postgres
async def test_forget_leaves_no_row_that_names_the_driver_in_any_postgresql_table(
    postgres_url, start_bot, telegram, ocm_server
):
    # postgres_url first: its database must outlive the bot, which flushes its state when stopped.
    await forget_leaves_nothing(await start_bot(database_url=Secret(postgres_url)), telegram, ocm_server)


async def forget_leaves_nothing(bot, telegram, ocm_server) -> None:
    ada, bea = telegram.user("Ada", user_id=918273645), telegram.user("Bea", user_id=918273646)
    for person in (ada, bea):
        await use_everything(bot, person, ocm_server)
    storage = bot.services.storage
    before = await rows_naming(storage, ada.id)
    assert {"users", "favourites", "drafts", "kv", "short_lived", "ptb_conversations"} <= set(before)

    await ada.send_text("/cancel")  # the sign-in waits for an e-mail address
    await ada.wait_for_message()
    await ada.send_text("/forget")
    question = await ada.wait_for_message(containing="Delete everything")
    done = await tap(ada, question, "🗑 Delete everything")
    assert "I deleted everything I stored about you" in done.text
    await bot.application.update_persistence()

    assert await rows_naming(storage, ada.id) == {}
    assert set(await rows_naming(storage, bea.id)) == set(before)  # Bea's are all still there


# --- every OCM-provided and user-provided text is escaped ---------------------------------------

HOSTILE = ' <a href="https://evil.example/">x</a> </b> & '
GARFORTH = (53.79762, -1.379818)  # Lidl-Garforth, OCM 100627 (Pod Point, operator 3)


@pytest.fixture
def hostile_english(tmp_path, monkeypatch):
    """An English catalog whose every translation ends in HTML that must show as text."""
    from babel.messages.pofile import read_po, write_po

    from ocm_bot import i18n

    source = i18n.LOCALES_DIR / "en" / "LC_MESSAGES" / "ocm_bot.po"
    with source.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        message.string = tuple(i + HOSTILE for i in ids) if len(ids) > 1 else ids[0] + HOSTILE
        message.flags.discard("fuzzy")
    folder = tmp_path / "locales" / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "ocm_bot.po").open("wb") as handle:
        write_po(handle, catalog)
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path / "locales")
    i18n.translator.cache_clear()
    yield
    i18n.translator.cache_clear()


@pytest.fixture
def hostile_operator(ocm_server):
    """Operator 3's name, as OCM's reference data gives it, full of HTML (put back afterwards)."""
    [operator] = [o for o in ocm_server.ref.document["Operators"] if o["ID"] == 3]
    title = operator["Title"]
    operator["Title"] = "Pod </b>Point & <a href='https://evil.example/'>Co</a>"
    yield operator["Title"]
    operator["Title"] = title


async def test_ocm_text_user_text_and_translations_with_html_are_shown_as_text(
    hostile_english, hostile_operator, start_bot, telegram, telegram_server, ocm_server
):
    name = '<a href="https://evil.example/">Lidl</a> </b> Fish & Chips'
    comment = "Works </b> <a href=https://evil.example/>fine</a> & fast"
    ocm_server.modify_poi(
        100627,
        AddressInfo={"Title": name, "AddressLine1": "Aberford Rd </i> & <b>"},
        UsageCost="<b>£0.28</b> & free",
        UserComments=[{**ocm_server.poi(100627)["UserComments"][0], "Comment": comment, "UserName": "A&<B>"}],
    )
    await start_bot()
    ada = telegram.user("Ada </b> & <i>")
    await ada.send_text("/start")
    assert "Ada </b> & <i>" in (await ada.wait_for_message()).text
    await ada.send_location(*GARFORTH)
    results = await ada.wait_for_message(containing=name)
    assert hostile_operator[:40] in results.text and "<b>£0.28</b> & free" in results.text  # the operator clipped
    await ada.press(results, re.compile("^ℹ️ 1"))
    details = await ada.wait_for_message(containing="Connections")
    assert name in details.text and "fine</a> & fast" in details.text
    for command in ("/help", "/settings", "/privacy", "/favourites", "/alerts", "/nonsense"):
        await ada.send_text(command)
        await ada.wait_for_message(containing=HOSTILE.strip())
    await ada.send_text("Main St & <1st> </b>")
    assert "Main St & <1st> </b>" in (await ada.wait_for_message()).text
    await telegram.wait_until_idle()
    # Every message was HTML Telegram accepts, with no bare & or > left unescaped.
    assert telegram_server.violations == []


# --- forged callback data: another person's buttons reach only the presser's own data ----------


def _callback_data(chat) -> list[str]:
    return [b.value for m in chat.messages for b in m.buttons if b.kind == "callback_data"]


async def _press_all(telegram, telegram_server, presser, chat_id: int, message_id: int, data: list[str]) -> None:
    for each in data:
        query_id = telegram_server.new_callback_query(presser.user, chat_id, message_id, each)
        await telegram.wait_until_idle()
        assert telegram_server.callback_queries[query_id].answer is not None  # answered, never ignored


async def test_another_persons_buttons_forged_by_a_driver_or_a_group_admin_change_only_their_own(
    telegram, telegram_server, bot
):
    from ocm_bot.domain.group_preferences import group_preferences

    storage = bot.services.storage
    ada, bea = telegram.user("Ada"), telegram.user("Bea")
    # Ada: settings, a search and a charger's details, a favourite, a check-in begun.
    menu = await open_settings(ada)
    menu = await tap(ada, await tap(ada, menu, "⚡ Minimum power"), "22 kW")
    await tap(ada, await tap(ada, menu, "📏 Radius"), "25 km")
    await ada.send_location(*GARFORTH)
    results = await ada.wait_for_message(containing="nearest first")
    await ada.press(results, re.compile("^ℹ️ 1"))
    details = await ada.wait_for_message(containing="Connections")
    await tap(ada, details, "☆ Favourite")
    panel = await open_checkin(ada)
    await tap_and_wait_edit(ada, panel, "✅ Charged successfully")
    ada_before = (
        await storage.get_user(ada.id),
        await storage.list_favourites(ada.id),
        await storage.get_draft(ada.id),
    )
    assert ada_before[1] and ada_before[2]

    # Bea sends every one of Ada's buttons, exactly as signed, from a message of her own chat.
    await bea.send_text("/settings")
    own = await bea.wait_for_message(containing="Settings")
    await _press_all(telegram, telegram_server, bea, bea.id, own.message_id, _callback_data(ada))
    assert (await storage.get_user(ada.id), await storage.list_favourites(ada.id), await storage.get_draft(ada.id)) == (
        ada_before
    )

    # An admin of another group sends a group's settings buttons from their own group.
    club = telegram.group("EV Club", admins=[ada])
    other = telegram.group("Other club", admins=[bea])
    await club.add_bot(by=ada)
    await other.add_bot(by=bea)
    await ada.send_text_in(club, "/settings")
    club_menu = await club.wait_for_message(containing="This group's settings")
    club_data = _callback_data(club)
    await ada.press(club_menu, "📏 Radius")  # the radius choices: buttons that would save a setting
    await club.wait_for_edit(club_menu)
    club_data += _callback_data(club)
    before = await group_preferences(storage, club.chat_id)
    await bea.send_text_in(other, "/settings")
    own_menu = await other.wait_for_message(containing="This group's settings")
    await _press_all(telegram, telegram_server, bea, other.chat_id, own_menu.message_id, club_data)
    assert await group_preferences(storage, club.chat_id) == before


async def test_privacy_names_everything_kept_and_for_how_long(telegram, bot):
    ada = telegram.user("Ada")
    await ada.send_text("/privacy")
    reply = (await ada.wait_for_message(containing="What I store about you")).text
    for kept in (
        "Your settings",
        "Your favourite chargers",
        "alert you when they stop working",  # /alerts
        "check-ins waiting to be sent",  # the outbox
        "Open Charge Map sign-in",
        "Your recent searches",
        "live location",
        "A group's settings and watched areas",  # watches and group settings
    ):
        assert kept in reply
    for how_long in ("Kept until you send /forget", "about an hour", "deleted when I am removed from it"):
        assert how_long in reply


async def test_the_webhook_refuses_updates_without_the_secret_or_with_a_wrong_one(
    bot_settings, bot_process, telegram, telegram_server
):
    import dataclasses

    import httpx

    from tests.e2e.test_processes import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram-hook"
    settings = dataclasses.replace(bot_settings, webhook_secret=Secret("hook-secret_1"))
    bot_process(settings, command="webhook", WEBHOOK_URL=url, PORT=str(port), WEBHOOK_LISTEN="127.0.0.1")
    await telegram.wait_for_request("setWebhook", timeout=30)
    ada = telegram.user("Ada")
    telegram_server.chat(ada.id).known_to_bot = True  # Ada wrote to the bot before, as far as Telegram knows
    forged = {
        "update_id": 990001,
        "message": {
            "message_id": 1,
            "date": 1,
            "chat": {"id": ada.id, "type": "private", "first_name": "Ada"},
            "from": ada.user,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    async with httpx.AsyncClient() as client:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "hook-secret_2"}):
            answer = await client.post(url, json=forged, headers=headers)
            assert answer.status_code == 403
        # The same request with the secret is taken: the check is the secret, nothing else.
        answer = await client.post(url, json=forged, headers={"X-Telegram-Bot-Api-Secret-Token": "hook-secret_1"})
        assert answer.status_code == 200
    welcome = await ada.wait_for_message(timeout=30)
    assert "Hi Ada!" in welcome.text
    assert len(telegram_server.calls("sendMessage")) == 1  # the two forged posts were answered by nobody


async def test_inline_and_guest_searches_count_towards_the_same_limit(start_bot, telegram, ocm_server):
    await start_bot(search_rate_limit=2)
    ada = telegram.user("Ada")
    club = telegram.group("Not joined", members=[ada])
    assert (await ada.send_inline_query("Garforth")).results
    posted = await (await ada.send_guest_message(club, "@ocm_test_bot near Salt Lake City")).answered()
    assert "Chargers near Salt Lake City" in posted.text
    asked = len(ocm_server.requests_to("/v3/poi"))
    refused = await ada.send_inline_query("Portland")
    assert refused.results == [] and "a lot of searches" in refused.raw["button"]["text"]
    refused = await (await ada.send_guest_message(club, "@ocm_test_bot near Portland")).answered()
    assert "a lot of searches" in refused.text
    assert (await ada.send_inline_query("Garforth")).results  # the answer already found costs nothing
    assert len(ocm_server.requests_to("/v3/poi")) == asked
