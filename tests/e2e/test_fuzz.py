"""10,000 generated updates through the real application: nothing goes unhandled, everything is answered.

Each update is built by the fake Bot API (so callback queries and edits refer to messages that exist
in its chats), taken from its queue and fed to the application the way its update fetcher does
(``update_processor.process_update``), one at a time, so every Bot API call the bot makes can be
put down to the update that caused it. Inline queries go in without waiting (the bot debounces
them); they are checked as they finish, the last ones when the run ends.

The fair-use throttles are lifted (the loopback servers stand in for an operator's own) so that
every generated search is really made; ``FUZZ_EXAMPLES`` (default 200, of 55 updates each) sets the size.

"Answered" is what a person would see, read from the fake's request log:

* a button press gets its ``answerCallbackQuery``; a guest call its ``answerGuestQuery``;
* an inline query gets ``answerInlineQuery``, unless a newer query of the same person superseded it;
* a private message (text, command, location, venue) gets a message or an edit in that chat;
* a command to the bot in a group gets a message in that group;
* whatever else (an edit, a channel post, an unknown update type, group chatter) may be ignored;
  whatever the bot does send goes to the chat the update came from, never to another one.

Every call must pass the fake's schema and HTML checks (``telegram_server.violations``), and the
bot must log no ERROR (its error handler logs every unhandled exception at ERROR).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update

from ocm_bot.app import build_application
from ocm_bot.context import BotApplication
from ocm_bot.settings import Settings
from tests.e2e.fixtures import ErrorLog
from tests.fakes.telegram.driver import TelegramDriver, _auto_entities
from tests.fakes.telegram.ptb import InProcessRequest
from tests.fakes.telegram.server import FakeTelegramServer

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
UPDATES_PER_EXAMPLE = 55
ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}

# --- what people send ----------------------------------------------------------------------------

ADVERSARIAL = [
    "",
    " ",
    "\u200b",
    "\u200e\u200fLeeds\u202e",
    "\u2066Portland\u2069",
    "\ufeff/start",
    "<b>Leeds</b>",
    "</b><a href='javascript:alert(1)'>x</a>",
    "&amp; & &lt; <",
    "*bold* _it_ `code` [link](http://x) ~~s~~ ||sp||",
    "Leeds" + "\u0301" * 200,
    "🚗⚡" * 300,
    "x" * 10_000,
    "ﷺ" * 1000,
    "\ud800",  # a lone surrogate, as JSON can carry it ("\\ud800")
    "Leeds\udfff",
    "\x00\x01\x1b[31m",
    "51.5, -0.12",
    "90,180",
    "-90 -180",
    "91, 181",
    "nan, inf",
    "1e308, 1e308",
    "https://www.google.com/maps/@51.5,-0.12,15z",
    "https://www.openstreetmap.org/#map=15/-90.0/180.0",
    "geo:0,0",
    "Leeds",
    "Portland",
    "@ocm_test_bot Leeds",
]
COMMANDS = [
    "/start",
    "/start@ocm_test_bot",
    "/start poi-",
    "/start poi-999999999999999999999",
    "/start charger_-1",
    "/start charger_12",
    "/start sign-in",
    "/help",
    "/settings",
    "/language",
    "/privacy",
    "/forget",
    "/favourites",
    "/alerts",
    "/charger",
    "/charger 0",
    "/charger 99999999999999999999999",
    "/checkin",
    "/cancel",
    "/login",
    "/logout",
    "/near",
    "/near Leeds",
    "/near 0,0",
    "/watch",
    "/watch Leeds",
    "/watches",
    "/nonsense",
    "/start@other_bot",
]

# Lone surrogates mixed into text: JSON carries them ("\\udc00"), UTF-8 cannot.
with_surrogates = st.text(
    alphabet=st.one_of(st.characters(categories=["Cs"]), st.sampled_from("Leeds <&>")), max_size=12
)
texts = st.one_of(
    with_surrogates,
    st.sampled_from(ADVERSARIAL),
    st.sampled_from(COMMANDS),
    st.builds(lambda c, t: f"{c} {t}", st.sampled_from(COMMANDS), st.text(max_size=40)),
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=300),
    st.text(
        alphabet="\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069 <>&/*_`[]()",
        max_size=30,
    ),
)
SPECIAL_POINTS = [(90.0, 0.0), (-90.0, 0.0), (0.0, 0.0), (0.0, 180.0), (0.0, -180.0), (53.79, 179.999), (53.8, -1.55)]
points = st.one_of(
    st.sampled_from(SPECIAL_POINTS),
    st.tuples(st.floats(-90, 90, allow_nan=False), st.floats(-180, 180, allow_nan=False)),
)
accuracies = st.one_of(st.none(), st.sampled_from([0.0, -5.0, 1500.0, 1e9, 1e-300]), st.floats(0, 1500))


@dataclass
class Sent:
    """One generated update and what answering it means."""

    kind: str
    must_answer: bool
    chat_id: int | None = None
    query_id: str | None = None
    user_id: int | None = None
    update_id: int = 0


@dataclass
class World:
    """The people and chats of the run, and the bot's messages they may press buttons on."""

    server: FakeTelegramServer
    application: BotApplication
    users: list[dict]
    groups: list[int]
    guest_chat: int
    channel: int
    errors: ErrorLog
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    recent: dict[int, dict] = field(default_factory=dict)  # update id -> the update, for failure reports
    inline: list[tuple[Sent, asyncio.Future]] = field(default_factory=list)  # still debouncing, or the newest
    total: int = 0

    def latest(self, chat_id: int, count: int = 40) -> list[dict]:
        """The chat's last ``count`` messages (people press and edit recent ones; older ones still come)."""
        with self.server._lock:
            chat = self.server.chats.get(chat_id)
            stored = list(itertools.islice(reversed(chat.messages.values()), count)) if chat else []
        return [m.message | {"from_bot": m.from_bot} for m in stored]

    def bot_messages(self, chat_id: int) -> list[dict]:
        return [m for m in self.latest(chat_id) if m["from_bot"]]

    def every_callback_data(self) -> list[str]:
        found = []
        for chat_id in [u["id"] for u in self.users] + self.groups:
            for message in self.bot_messages(chat_id):
                for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                    found.extend(b["callback_data"] for b in row if "callback_data" in b)
        return found


def pick(data: st.DataObject, items: list[Any], label: str) -> Any:
    """One of ``items`` (None if there are none), drawing the same way whatever the world holds now.

    The choices depend on what the bot has sent so far; drawing an index instead of sampling the
    list keeps hypothesis's replay of an example consistent when the world differs.
    """
    index = data.draw(st.integers(0, 2**16), label)
    return items[index % len(items)] if items else None


def _member_chats(world: World, user: dict) -> list[int]:
    return [user["id"], *(g for g in world.groups if user["id"] in world.server.chat(g).members)]


# One generated action: a function of the world and the hypothesis data that queues an update.
Action = Callable[[World, st.DataObject], Sent | None]


def _text_message(world: World, data: st.DataObject) -> Sent:
    user = data.draw(st.sampled_from(world.users), "user")
    chat_id = pick(data, _member_chats(world, user), "chat")
    text = data.draw(texts, "text")
    content: dict[str, Any] = {"text": text}
    entities = _safe_entities(text)
    if entities:
        content["entities"] = entities
    if data.draw(st.booleans(), "anonymous") and chat_id < 0:
        content["sender_chat"] = dict(world.server.chat(chat_id).chat)
        user = ANONYMOUS_ADMIN
    world.server.user_message(chat_id, user, content, deliver=True)
    private = chat_id > 0
    command = bool(entities) and entities[0]["type"] == "bot_command" and entities[0]["offset"] == 0
    addressed = command and ("@" not in text.split()[0] or text.split()[0].endswith("@ocm_test_bot"))
    must = (private and text.strip() != "" and not text.startswith("/start@other")) or (
        not private and addressed and text.split()[0].split("@")[0] in GROUP_COMMANDS
    )
    return Sent("text", must, chat_id=chat_id, user_id=user["id"])


GROUP_COMMANDS = {"/start", "/help", "/near", "/settings", "/language", "/watch", "/watches"}


def _safe_entities(text: str) -> list[dict]:
    try:
        return _auto_entities(text)
    except UnicodeError:
        return []


def _location(world: World, data: st.DataObject) -> Sent:
    user = data.draw(st.sampled_from(world.users), "user")
    chat_id = pick(data, _member_chats(world, user), "chat")
    lat, lon = data.draw(points, "point")
    location: dict[str, Any] = {"latitude": lat, "longitude": lon}
    accuracy = data.draw(accuracies, "accuracy")
    if accuracy is not None:
        location["horizontal_accuracy"] = accuracy
    content: dict[str, Any] = {"location": location}
    kind = data.draw(st.sampled_from(["location", "live", "venue"]), "kind")
    if kind == "live":
        location["live_period"] = data.draw(st.sampled_from([60, 900, 86400, 0x7FFFFFFF]), "period")
    if kind == "venue":
        content["venue"] = {"location": location, "title": data.draw(texts, "title"), "address": "<b>&"}
    world.server.user_message(chat_id, user, content, deliver=True)
    return Sent(kind, chat_id > 0, chat_id=chat_id, user_id=user["id"])


def _button(world: World, data: st.DataObject) -> Sent | None:
    user = data.draw(st.sampled_from(world.users), "user")
    chat_id = pick(data, _member_chats(world, user), "chat")
    message = pick(data, world.bot_messages(chat_id), "message")
    # This chat's buttons, another person's, another group's: replayed, stale, forged.
    real = pick(data, world.every_callback_data(), "data") or "x"
    how = data.draw(st.sampled_from(["replayed", "truncated", "flipped", "random", "empty-ish"]), "how")
    if how == "truncated":
        real = real[: data.draw(st.integers(0, 63), "cut") % len(real)] or "|"
    elif how == "flipped":
        i = data.draw(st.integers(0, 63), "at") % len(real)
        real = real[:i] + data.draw(st.sampled_from("|0aZ~-_"), "char") + real[i + 1 :]
    elif how == "random":
        real = data.draw(st.text(min_size=1, max_size=64).filter(lambda s: len(s.encode()) <= 64), "random")
    elif how == "empty-ish":
        real = data.draw(st.sampled_from(["|", "||||", " ", "ci|", "rs|" + "9" * 60, "pg|\ud800|1", "\udfff"]), "odd")
    if message is None:
        return None
    query_id = world.server.new_callback_query(user, chat_id, message["message_id"], real)
    return Sent("button-" + how, True, chat_id=chat_id, query_id=query_id, user_id=user["id"])


def _edit(world: World, data: st.DataObject) -> Sent | None:
    user = data.draw(st.sampled_from(world.users), "user")
    chat_id = pick(data, _member_chats(world, user), "chat")
    own = [
        m.message for m in world.server.stored_messages(chat_id) if m.message.get("from", {}).get("id") == user["id"]
    ]
    message = pick(data, own, "message")
    lat, lon = data.draw(points, "point")
    text = data.draw(texts, "text")
    if message is None:
        return None
    if "location" in message:
        changes: dict[str, Any] = {"location": {**message["location"], "latitude": lat, "longitude": lon}}
    else:
        changes = {"text": text, "entities": _safe_entities(text) or None}
    world.server.user_edits_message(chat_id, message["message_id"], changes)
    return Sent("edit", False, chat_id=chat_id, user_id=user["id"])


def _inline(world: World, data: st.DataObject) -> Sent:
    user = data.draw(st.sampled_from(world.users), "user")
    query = data.draw(st.one_of(st.sampled_from(["", "Le", "Leeds", "Portland", "0,0"]), texts), "query")
    location = None
    if data.draw(st.booleans(), "with location"):
        lat, lon = data.draw(points, "point")
        location = {"latitude": lat, "longitude": lon}
    offset = data.draw(st.sampled_from(["", "1", "999", "-1", "abc", "9" * 30]), "offset")
    chat_type = data.draw(st.sampled_from([None, "sender", "private", "group", "supergroup", "channel"]), "type")
    query_id = world.server.new_inline_query(user, query[:256], offset, chat_type, location)
    return Sent("inline", True, query_id=query_id, user_id=user["id"])


def _guest(world: World, data: st.DataObject) -> Sent:
    user = data.draw(st.sampled_from(world.users), "user")
    text = "@ocm_test_bot " + data.draw(texts, "text")
    query_id = world.server.new_guest_message(user, world.guest_chat, text, _safe_entities(text))
    return Sent("guest", True, chat_id=world.guest_chat, query_id=query_id, user_id=user["id"])


def _channel_post(world: World, data: st.DataObject) -> Sent:
    chat = world.server.chat(world.channel)
    text = data.draw(texts, "text")
    message = chat.add_message(None, {"text": text, "sender_chat": dict(chat.chat)}, from_bot=False).message
    message.pop("from", None)
    world.server.push_update(data.draw(st.sampled_from(["channel_post", "edited_channel_post"]), "kind"), message)
    return Sent("channel", False, chat_id=world.channel)


def _odd_update(world: World, data: st.DataObject) -> Sent:
    user = data.draw(st.sampled_from(world.users), "user")
    kind, payload = data.draw(
        st.sampled_from(
            [
                ("future_update_type", {"anything": [1, "two", None]}),
                ("message_reaction", None),
                ("poll_answer", {"poll_id": "p1", "user": user, "option_ids": [0], "option_persistent_ids": ["a"]}),
                ("chat_boost", None),
                ("business_message", None),
                ("message", {"message_id": 1, "date": 0, "chat": {"id": user["id"], "type": "private"}}),
            ]
        ),
        "odd",
    )
    if kind == "message_reaction":
        payload = {
            "chat": {"id": user["id"], "type": "private"},
            "message_id": 1,
            "user": user,
            "date": int(time.time()),
            "old_reaction": [],
            "new_reaction": [{"type": "emoji", "emoji": "👍"}],
        }
    elif kind in ("chat_boost", "business_message"):
        kind, payload = "unknown_" + kind, {"id": 1}
    world.server.push_update(kind, payload or {})
    return Sent("odd", False, chat_id=user["id"])


ACTIONS: list[tuple[int, Action]] = [
    (30, _text_message),
    (15, _location),
    (25, _button),
    (8, _edit),
    (8, _inline),
    (4, _guest),
    (4, _channel_post),
    (6, _odd_update),
]
WEIGHTED = [action for weight, action in ACTIONS for _ in range(weight)]


# --- feeding the application -----------------------------------------------------------------------


async def _feed(world: World, raw: dict, sent: Sent) -> None:
    application = world.application
    update = Update.de_json(json.loads(json.dumps(raw)), application.bot)
    assert update is not None
    sent.update_id = update.update_id
    world.recent[update.update_id] = raw
    world.recent.pop(update.update_id - 300, None)
    work = application.update_processor.process_update(update, application.process_update(update))
    if sent.kind == "inline":
        world.inline.append((sent, asyncio.ensure_future(work)))
        return
    before = len(world.server.requests)
    await work
    tasks: set[asyncio.Task] = getattr(application, "_Application__create_task_tasks", set())
    while tasks:
        await asyncio.gather(*list(tasks), return_exceptions=True)
    _check_one(world, raw, sent, world.server.requests[before:])


def _check_one(world: World, raw: dict, sent: Sent, calls: list) -> None:
    def fail(problem: str) -> None:
        shown = json.dumps(raw, ensure_ascii=True)[:600]
        made = [(c.method, c.ok, c.error) for c in calls]
        raise AssertionError(f"{problem}\nupdate: {shown}\ncalls: {made}")

    if world.errors.records:
        record = world.errors.records[0]
        named = re.search(r"#(\d+)\b", record.getMessage())
        failed = [world.recent[int(named.group(1))]] if named and int(named.group(1)) in world.recent else []
        shown = json.dumps(failed[0], ensure_ascii=True)[:800] if failed else "?"
        fail(f"the bot logged an error: {record.getMessage()} {record.exc_info and record.exc_info[1]!r}\nfor {shown}")
    if world.server.violations:
        fail(f"Bot API violations: {[str(v) for v in world.server.violations]}")
    chats = {c.params.get("chat_id") for c in calls if "chat_id" in c.params}
    if sent.chat_id is not None and chats - {sent.chat_id, str(sent.chat_id)}:
        fail(f"the bot wrote to another chat: {chats}")
    if not sent.must_answer:
        return
    if sent.query_id is not None and sent.kind.startswith("button"):
        if not any(
            c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == sent.query_id for c in calls
        ):
            fail("the button press was not answered")
        return
    if sent.kind == "guest":
        if not any(c.method == "answerGuestQuery" and c.params.get("guest_query_id") == sent.query_id for c in calls):
            fail("the guest call was not answered")
        return
    if not any(c.method.startswith(("send", "edit")) and c.ok for c in calls):
        fail("the message was not answered")


def _check_inline(world: World, *, wait: bool = False) -> None:
    """Inline queries that are done: each answered, unless a newer one of the same person superseded it."""
    answered = {c.params.get("inline_query_id") for c in world.server.requests if c.method == "answerInlineQuery"}
    done = [(sent, task) for sent, task in world.inline if wait or task.done()]
    for sent, task in done:
        task.result()  # an exception here escaped the application's own error handling
        later = any(s.user_id == sent.user_id and s.update_id > sent.update_id for s, _ in world.inline)
        if sent.query_id not in answered and not later:
            raise AssertionError(f"inline query {sent.query_id} (update {sent.update_id}) was not answered")
    newest = {s.user_id: s.update_id for s, _ in world.inline}
    # Keep the newest query of each person: it decides whether the ones before it needed an answer.
    world.inline = [(s, t) for s, t in world.inline if (s, t) not in done or newest[s.user_id] == s.update_id]


# --- the run -----------------------------------------------------------------------------------------


@pytest.fixture
async def world(telegram_server: FakeTelegramServer, telegram: TelegramDriver, bot_settings: Settings) -> Any:
    people = [
        telegram.user("Ada", username="ada", language_code="en"),
        telegram.user("Bea", language_code=None),  # no username, no language
        telegram.user("Carl", username="carl", language_code="de"),
        telegram.user("Dina", language_code="ar"),
        telegram.user("Eve", username="eve", language_code="xx-YY"),
        telegram.user("Fred", language_code="pt-BR"),
    ]
    ada, bea, carl, dina, eve, fred = people
    club = telegram.group("EV <Club> & Co", members=[bea, dina], admins=[ada])
    drivers = telegram.group("Drivers", members=[ada, eve], admins=[carl, fred], supergroup=False)
    elsewhere = telegram.group("Not joined", members=[ada, bea, carl], admins=[dina])
    for group, admin in ((club, ada), (drivers, carl)):
        await group.add_bot(by=admin, as_admin=group is club)
    for person in people:
        telegram_server.chat(person.id).known_to_bot = True
    channel = -(10**12 + telegram_server.new_id())
    telegram_server.add_group({"id": channel, "type": "channel", "title": "EV News"}, {ada.id: "creator"})
    telegram_server.chat(channel).bot_status = "administrator"
    telegram_server.take_updates()

    errors = ErrorLog()
    for name in ("ocm_bot", "telegram"):
        logging.getLogger(name).addHandler(errors)
    # Loopback servers stand in for the operator's own OCM and Nominatim: no fair-use throttles, so
    # every generated search is really made (the throttles' answers have their own tests).
    fuzz_settings = dataclasses.replace(
        bot_settings, ocm_requests_per_minute=1_000_000, nominatim_requests_per_second=1000, search_rate_limit=0
    )
    application = build_application(fuzz_settings, request=InProcessRequest(telegram_server), paced=False)
    await application.initialize()
    assert application.post_init is not None
    await application.post_init(application)
    await application.start()
    started = time.monotonic()
    try:
        yield (
            world := World(
                server=telegram_server,
                application=application,
                users=[p.user for p in people],
                groups=[club.chat_id, drivers.chat_id],
                guest_chat=elsewhere.chat_id,
                channel=channel,
                errors=errors,
            )
        )
        await asyncio.gather(*(task for _, task in world.inline))
        _check_inline(world, wait=True)
        _check_one(world, {}, Sent("inline", False), [])
    finally:
        await application.stop()
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)
        for name in ("ocm_bot", "telegram"):
            logging.getLogger(name).removeHandler(errors)
    elapsed = time.monotonic() - started
    print(f"\nfuzz: {world.total} updates in {elapsed:.1f} s ({world.total / elapsed:.0f}/s): {world.counts}")
    print(
        f"in the application: {sum(world.seconds.values()):.1f} s", {k: round(v, 1) for k, v in world.seconds.items()}
    )
    assert world.total >= EXAMPLES * 50


@pytest.mark.timeout(600)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
async def test_ten_thousand_generated_updates_are_all_handled_and_answered(world: World, data: st.DataObject) -> None:
    for _ in range(UPDATES_PER_EXAMPLE):
        action = data.draw(st.sampled_from(WEIGHTED), "action")
        sent = action(world, data)
        if sent is None:
            continue
        for raw in world.server.take_updates():
            began = time.monotonic()
            await _feed(world, raw, sent)
            world.seconds[sent.kind] = world.seconds.get(sent.kind, 0.0) + time.monotonic() - began
            if time.monotonic() - began > 0.2:
                print(
                    "SLOW",
                    round(time.monotonic() - began, 2),
                    json.dumps(raw)[:300],
                    [(c.method, c.ok) for c in world.server.requests[-4:]],
                )
            world.total += 1
            world.counts[sent.kind] = world.counts.get(sent.kind, 0) + 1
    _check_one(world, {}, Sent("inline", False), [])
    _check_inline(world)
