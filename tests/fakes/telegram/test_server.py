"""The fake Bot API server speaks HTTP like Telegram: bodies, answers, errors, state, webhooks."""

from __future__ import annotations

import asyncio
import datetime
import json
import sys
import time
from collections.abc import Mapping

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from ..ocm.loopback import LoopbackServer, RecordedRequest, Response
from .driver import TelegramDriver
from .fixtures import fail_on_violations
from .ptb import loopback_request
from .schema import load_schema
from .server import FakeTelegramServer, TelegramErrors

_HTTP = httpx.Client(timeout=5, verify=False)  # plain HTTP: skip loading the CA bundle


def call(server: FakeTelegramServer, method: str, **params) -> httpx.Response:
    return _HTTP.post(server.method_url(method), json=params)


@pytest.fixture
async def bot(telegram_server):
    async with Bot(
        telegram_server.token,
        base_url=telegram_server.api_url,
        base_file_url=telegram_server.file_url,
        request=loopback_request(),
        get_updates_request=loopback_request(),
    ) as bot:
        yield bot


def test_server_starts_and_stops_in_milliseconds():
    load_schema()  # read once per process
    started = time.perf_counter()
    server = FakeTelegramServer().start()
    server.stop()
    assert time.perf_counter() - started < 0.05


def test_get_me_answers_the_bot_user_from_a_synchronous_client(telegram_server):
    body = httpx.get(telegram_server.method_url("getMe")).json()

    assert body["ok"] is True
    assert body["result"]["id"] == 123456
    assert body["result"]["is_bot"] is True


def test_wrong_token_is_unauthorized(telegram_server):
    response = httpx.post(f"{telegram_server.api_url}999:WRONG/getMe")

    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


@pytest.mark.parametrize("encoding", ["json", "form", "multipart", "query"])
def test_every_body_encoding_sends_a_message(telegram, telegram_server, encoding):
    ada = telegram.user("Ada")
    telegram_server.user_message(ada.chat_id, ada.user, {"text": "hi"})
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    url = telegram_server.method_url("sendMessage")
    form = {"chat_id": str(ada.chat_id), "text": "Hello", "reply_markup": json.dumps(markup)}
    if encoding == "json":
        response = httpx.post(url, json={"chat_id": ada.chat_id, "text": "Hello", "reply_markup": markup})
    elif encoding == "form":
        response = httpx.post(url, data=form)
    elif encoding == "multipart":
        response = httpx.post(url, data=form, files={"unused": ("x.txt", b"x")})
        telegram_server.take_violations()  # the extra file part is an unknown parameter
    else:
        response = httpx.get(url, params=form)

    message = response.json()["result"]
    assert message["text"] == "Hello"
    assert message["chat"] == {"id": ada.chat_id, "type": "private", "first_name": "Ada"}
    assert message["from"]["is_bot"] is True
    assert message["reply_markup"] == markup
    assert ada.messages[-1].callback_buttons == {"Go": "go"}


def test_message_ids_increase_per_chat_and_dates_are_seconds(telegram, telegram_server):
    ada, bob = telegram.user("Ada"), telegram.user("Bob")
    for person in (ada, bob):
        telegram_server.user_message(person.chat_id, person.user, {"text": "hi"})
    ids = [
        call(telegram_server, "sendMessage", chat_id=person.chat_id, text="x").json()["result"]["message_id"]
        for person in (ada, ada, bob)
    ]

    assert ids == [2, 3, 2]
    assert abs(ada.messages[0].raw["date"] - time.time()) < 5


def test_unknown_method_is_404_and_a_violation(telegram_server):
    response = call(telegram_server, "sendTeleportation", chat_id=1)

    assert response.status_code == 404
    assert response.json()["description"] == "Not Found"
    assert [v.problem for v in telegram_server.take_violations()] == ["sendTeleportation: unknown method"]


def test_unknown_parameter_is_accepted_like_telegram_but_recorded(telegram, telegram_server):
    ada = telegram.user("Ada")
    telegram_server.user_message(ada.chat_id, ada.user, {"text": "hi"})

    response = call(telegram_server, "sendMessage", chat_id=ada.chat_id, text="x", colour="red")

    assert response.json()["ok"] is True
    assert [str(v) for v in telegram_server.take_violations()] == [
        "sendMessage: sendMessage.colour: unknown parameter (Telegram would accept it silently)"
    ]


def test_schema_method_without_a_model_is_accepted_and_recorded(telegram_server):
    response = call(telegram_server, "setMyShortDescription", short_description="EV chargers")

    assert response.json() == {"ok": True, "result": True}
    assert telegram_server.calls("setMyShortDescription") == [{"short_description": "EV chargers"}]


def test_wrong_types_are_rejected_with_the_field_named(telegram_server):
    response = call(
        telegram_server,
        "sendMessage",
        chat_id=1,
        text="x",
        reply_markup={"inline_keyboard": [[{"text": 5, "callback_data": "a"}]]},
    )

    assert response.status_code == 400
    assert 'Field "text" must be of type String' in response.json()["description"]
    (violation,) = telegram_server.take_violations()
    assert "sendMessage.reply_markup.inline_keyboard[0][0].text: expected String" in str(violation)


def test_missing_required_parameter_is_telegrams_error(telegram_server):
    response = call(telegram_server, "sendMessage", chat_id=1)

    assert response.json()["description"] == "Bad Request: message text is empty"
    assert "sendMessage.text: required parameter missing" in str(telegram_server.take_violations())


async def test_callback_data_over_64_bytes_is_caught_and_named(telegram, telegram_server, bot):
    ada = telegram.user("Ada")
    await ada.send_text("hi")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Details", callback_data="d" * 65)]])

    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(ada.chat_id, "Charger", reply_markup=markup)

    (violation,) = telegram_server.take_violations()
    assert "callback_data: 65 bytes (must be 1-64)" in violation.problem


async def test_invalid_html_is_rejected_like_telegram(telegram, telegram_server, bot):
    ada = telegram.user("Ada")
    await ada.send_text("hi")

    with pytest.raises(BadRequest, match=r'(?i)unsupported start tag "br" at byte offset 5'):
        await bot.send_message(ada.chat_id, "Power<br>50 kW", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't find end tag"):
        await bot.send_message(ada.chat_id, "<b>Power", parse_mode="HTML")

    problems = [v.problem for v in telegram_server.take_violations()]
    assert problems[0].startswith('text: invalid HTML: Unsupported start tag "br"')
    assert ada.messages == []


async def test_unescaped_ampersand_is_shown_but_recorded(telegram, telegram_server, bot):
    ada = telegram.user("Ada")
    await ada.send_text("hi")

    await bot.send_message(ada.chat_id, "<b>A&W</b> car park", parse_mode="HTML")

    assert ada.messages[-1].text == "A&W car park"
    (violation,) = telegram_server.take_violations()
    assert "unescaped '&'" in violation.problem


async def test_text_length_is_counted_after_entity_parsing(telegram, telegram_server, bot):
    ada = telegram.user("Ada")
    await ada.send_text("hi")

    await bot.send_message(ada.chat_id, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(ada.chat_id, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(ada.chat_id, "<b> </b>", parse_mode="HTML")

    assert len(telegram_server.take_violations()) == 2


async def test_injected_429_raises_retry_after(telegram, telegram_server, bot):
    ada = telegram.user("Ada")
    await ada.send_text("hi")
    telegram_server.inject_error("sendMessage", 429, retry_after=7)

    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(ada.chat_id, "first")
    await bot.send_message(ada.chat_id, "second")

    assert raised.value.retry_after in (7, datetime.timedelta(seconds=7))
    assert ("sendMessage", "Too Many Requests: retry after 7") in telegram_server.errors
    assert [m.text for m in ada.messages] == ["second"]


async def test_injected_errors_can_target_one_chat(telegram, telegram_server, bot):
    ada, bob = telegram.user("Ada"), telegram.user("Bob")
    await ada.send_text("hi")
    await bob.send_text("hi")
    telegram_server.inject_error("sendMessage", 403, "bot was blocked by the user", chat_id=bob.chat_id, times=2)

    await bot.send_message(ada.chat_id, "fine")
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(bob.chat_id, "blocked")


async def test_injected_gateway_failure_answers_nginx_html_that_ptb_reads_as_a_network_error(
    telegram, telegram_server, bot
):
    ada = telegram.user("Ada")
    await ada.send_text("hi")
    telegram_server.inject_failure("sendMessage", 502)

    with pytest.raises(NetworkError, match=r"Bad Gateway \(502\)") as raised:
        await bot.send_message(ada.chat_id, "lost")
    await bot.send_message(ada.chat_id, "delivered")

    assert not isinstance(raised.value, BadRequest | TimedOut)
    assert [m.text for m in ada.messages] == ["delivered"]
    response = call_after_failure(telegram_server, "getMe", 503)
    assert response.status_code == 503 and response.headers["content-type"] == "text/html"
    assert "<title>503 Service Unavailable</title>" in response.text


def call_after_failure(server: FakeTelegramServer, method: str, status: int) -> httpx.Response:
    server.inject_failure(method, status)
    return call(server, method)


async def test_injected_dropped_connection_may_come_after_the_call_took_effect(telegram, telegram_server, bot):
    ada = telegram.user("Ada")
    await ada.send_text("hi")
    telegram_server.inject_failure("sendMessage", None)
    telegram_server.inject_failure("sendMessage", None, processed=True)

    with pytest.raises(NetworkError, match="RemoteProtocolError"):
        await bot.send_message(ada.chat_id, "never arrived")
    with pytest.raises(NetworkError, match="RemoteProtocolError"):
        await bot.send_message(ada.chat_id, "arrived unanswered")

    assert [m.text for m in ada.messages] == ["arrived unanswered"]
    assert [r.ok for r in telegram_server.requests if r.method == "sendMessage"] == [False, True]


async def test_edits_follow_telegrams_rules(telegram, telegram_server, bot):
    ada = telegram.user("Ada")
    own = await ada.send_text("hi")
    sent = await bot.send_message(ada.chat_id, "Page 1")

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Page 1", ada.chat_id, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("Page 2", ada.chat_id, 999)
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("Hacked", ada.chat_id, own.message_id)
    await bot.edit_message_text("Page 2", ada.chat_id, sent.message_id)
    await bot.delete_message(ada.chat_id, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(ada.chat_id, sent.message_id)

    assert ("editMessageText", TelegramErrors.NOT_MODIFIED) in telegram_server.errors
    assert ada.messages == []
    assert ada.message(sent.message_id).edits == 1


async def test_unknown_chat_and_blocked_user(telegram, telegram_server, bot):
    ada = telegram.user("Ada")

    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(-100123, "no such chat")
    with pytest.raises(Forbidden, match=r"(?i)bot can't initiate conversation with a user"):
        await bot.send_message(ada.chat_id, "never talked to me")
    await ada.send_text("/start")
    await ada.block_bot()
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(ada.chat_id, "still there?")
    await ada.unblock_bot()
    await bot.send_message(ada.chat_id, "welcome back")

    kinds = [next(k for k in u if k != "update_id") for u in await _all_updates(telegram_server)]
    assert kinds == ["message", "my_chat_member", "my_chat_member"]


async def test_get_updates_returns_promptly_when_an_update_arrives(telegram, telegram_server):
    ada = telegram.user("Ada")
    async with httpx.AsyncClient(verify=False) as client:
        poll = asyncio.create_task(client.post(telegram_server.method_url("getUpdates"), json={"timeout": 10}))
        await telegram.wait_for_request("getUpdates", after=0)  # the long poll is open
        started = time.perf_counter()
        await ada.send_text("hello")
        updates = (await poll).json()["result"]

    assert time.perf_counter() - started < 0.5
    assert updates[0]["message"]["text"] == "hello"


async def test_offset_confirms_updates_and_limit_caps_them(telegram, telegram_server):
    ada = telegram.user("Ada")
    for text in ("one", "two", "three"):
        await ada.send_text(text)

    first = call(telegram_server, "getUpdates", limit=2).json()["result"]
    rest = call(telegram_server, "getUpdates", offset=first[-1]["update_id"] + 1).json()["result"]

    assert [u["message"]["text"] for u in first] == ["one", "two"]
    assert [u["message"]["text"] for u in rest] == ["three"]


async def test_a_second_poller_terminates_the_first_with_409(telegram_server):
    async with httpx.AsyncClient(verify=False) as client:
        url = telegram_server.method_url("getUpdates")
        first = asyncio.create_task(client.post(url, json={"timeout": 5}))
        await TelegramDriver(telegram_server).wait_for_request("getUpdates", after=0)  # the first poll is open
        second = asyncio.create_task(client.post(url, json={"timeout": 0}))
        first_answer, second_answer = await first, await second

    assert first_answer.status_code == 409
    assert first_answer.json()["description"] == TelegramErrors.GET_UPDATES_TERMINATED
    assert second_answer.json() == {"ok": True, "result": []}


class _Receiver(LoopbackServer):
    """The bot's end of a webhook, a loopback server like the others: records updates, answers ``status``."""

    def __init__(self) -> None:
        super().__init__()
        self.status = 200
        self.answer = b""

    @property
    def received(self) -> list[tuple[Mapping[str, str], dict]]:
        return [(request.headers, request.json) for request in list(self.requests)]

    def dispatch(self, request: RecordedRequest) -> Response:
        return Response(self.status, self.answer, "application/json")


@pytest.fixture
def webhook_receiver():
    receiver = _Receiver().start()
    yield receiver, f"{receiver.root_url}/hook"
    receiver.stop()


async def test_webhook_delivers_updates_with_the_secret_header(telegram, telegram_server, webhook_receiver):
    receiver, url = webhook_receiver
    ada = telegram.user("Ada")
    assert call(telegram_server, "setWebhook", url=url, secret_token="s3cret").json() == {
        "ok": True,
        "result": True,
        "description": "Webhook was set",
    }

    await ada.send_text("/start")
    await ada.wait_until(lambda: receiver.received, what="webhook delivery")
    headers, update = receiver.received[0]

    assert headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cret"
    assert update["message"]["text"] == "/start"
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    conflict = call(telegram_server, "getUpdates")
    assert conflict.status_code == 409
    assert conflict.json()["description"] == TelegramErrors.GET_UPDATES_WITH_WEBHOOK
    call(telegram_server, "deleteWebhook")
    assert call(telegram_server, "getUpdates").json() == {"ok": True, "result": []}


async def test_failed_webhook_delivery_is_retried_and_reported(telegram, telegram_server, webhook_receiver):
    receiver, url = webhook_receiver
    receiver.status = 500
    ada = telegram.user("Ada")
    call(telegram_server, "setWebhook", url=url)

    await ada.send_text("hello")
    await ada.wait_until(lambda: len(receiver.received) >= 2, what="a retried delivery")
    info = call(telegram_server, "getWebhookInfo").json()["result"]
    receiver.status = 200
    await ada.wait_until(
        lambda: not call(telegram_server, "getWebhookInfo").json()["result"]["pending_update_count"],
        what="delivery after recovery",
    )

    assert info["pending_update_count"] == 1
    assert info["last_error_message"] == ("Wrong response from the webhook: 500 Internal Server Error")


async def test_uploaded_photo_gets_a_file_id_and_is_downloadable(telegram, telegram_server, bot):
    ada = telegram.user("Ada")
    await ada.send_text("hi")

    sent = await bot.send_photo(ada.chat_id, b"\x89PNG fake", caption="<b>Map</b>", parse_mode="HTML")
    file = await bot.get_file(sent.photo[-1].file_id)
    content = await file.download_as_bytearray()

    assert bytes(content) == b"\x89PNG fake"
    assert ada.messages[-1].text == "Map"
    assert ada.messages[-1].html == "<b>Map</b>"


def test_fail_on_violations_names_each_violation(telegram_server):
    call(telegram_server, "sendMessage", chat_id=1, text="x", colour="red")

    with pytest.raises(pytest.fail.Exception, match=r"sendMessage\.colour: unknown parameter"):
        fail_on_violations(telegram_server)
    assert telegram_server.violations == []


def test_every_answer_matches_the_schemas_return_type(telegram, telegram_server):
    """Drive most methods, then check each result against the documented return type."""
    schema = telegram_server.schema
    ada = telegram.user("Ada", username="ada_ev")
    group = telegram.group("EV Club", members=[ada], admins=[ada])
    telegram_server.set_bot_status(group.chat_id, "administrator", ada.user)
    telegram_server.user_message(ada.chat_id, ada.user, {"text": "hi"})
    chat = ada.chat_id
    sent = call(
        telegram_server,
        "sendMessage",
        chat_id=chat,
        text="<i>x</i>",
        parse_mode="HTML",
        reply_markup={"keyboard": [[{"text": "Loc", "request_location": True}]]},
    )
    message_id = sent.json()["result"]["message_id"]
    live = call(telegram_server, "sendLocation", chat_id=chat, latitude=1.5, longitude=2.5, live_period=60).json()[
        "result"
    ]["message_id"]
    for method, params in [
        ("getMe", {}),
        ("getWebhookInfo", {}),
        ("getUpdates", {}),
        ("editMessageText", {"chat_id": chat, "message_id": message_id, "text": "y"}),
        (
            "editMessageReplyMarkup",
            {
                "chat_id": chat,
                "message_id": message_id,
                "reply_markup": {"inline_keyboard": [[{"text": "a", "url": "https://a.b"}]]},
            },
        ),
        ("editMessageLiveLocation", {"chat_id": chat, "message_id": live, "latitude": 1.6, "longitude": 2.6}),
        ("stopMessageLiveLocation", {"chat_id": chat, "message_id": live}),
        ("sendVenue", {"chat_id": chat, "latitude": 1, "longitude": 2, "title": "T", "address": "A"}),
        ("sendContact", {"chat_id": chat, "phone_number": "+1", "first_name": "C"}),
        ("sendChatAction", {"chat_id": chat, "action": "typing"}),
        ("setMyCommands", {"commands": [{"command": "start", "description": "Start"}]}),
        ("getMyCommands", {}),
        ("deleteMyCommands", {}),
        ("setChatMenuButton", {"menu_button": {"type": "commands"}}),
        ("getChatMenuButton", {}),
        ("getChat", {"chat_id": group.chat_id}),
        ("getChat", {"chat_id": "@ada_ev"}),
        ("getChatMember", {"chat_id": group.chat_id, "user_id": ada.id}),
        ("getChatMember", {"chat_id": group.chat_id, "user_id": telegram_server.bot_id}),
        ("getChatAdministrators", {"chat_id": group.chat_id}),
        ("getChatMemberCount", {"chat_id": group.chat_id}),
        ("sendMessage", {"chat_id": "@ada_ev", "text": "by username"}),
        ("deleteMessage", {"chat_id": chat, "message_id": message_id}),
        ("leaveChat", {"chat_id": group.chat_id}),
    ]:
        body = call(telegram_server, method, **params).json()
        assert body["ok"], (method, body)
        returns = schema.methods[schema.method_name(method)]["returns"]
        assert schema.check_value(body["result"], returns, method) == [], (method, body)
    assert telegram_server.violations == []


async def _all_updates(server: FakeTelegramServer) -> list[dict]:
    async with httpx.AsyncClient(verify=False) as client:
        response = await client.post(server.method_url("getUpdates"), json={})
    return response.json()["result"]


ECHO_BOT = """
import json, sys, urllib.request
api = sys.argv[1]
def call(method, **params):
    request = urllib.request.Request(api + method, json.dumps(params).encode(),
                                     {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request, timeout=10))["result"]
offset = 0
while True:
    for update in call("getUpdates", offset=offset, timeout=5):
        offset = update["update_id"] + 1
        message = update["message"]
        call("sendMessage", chat_id=message["chat"]["id"], text="echo: " + message["text"])
        if message["text"] == "bye":
            call("getUpdates", offset=offset, timeout=0)
            sys.exit(0)
"""


async def test_a_bot_in_another_process_is_served(telegram, telegram_server):
    ada = telegram.user("Ada")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", ECHO_BOT, f"{telegram_server.api_url}{telegram_server.token}/"
    )
    try:
        await ada.send_text("hello")
        assert (await ada.wait_for_message()).text == "echo: hello"
        await ada.send_text("bye")
        assert (await ada.wait_for_message()).text == "echo: bye"
        assert await asyncio.wait_for(process.wait(), 5) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def test_flood_control_answers_429_beyond_telegrams_limits(telegram, telegram_server):
    ada = telegram.user("Ada")
    telegram_server.user_message(ada.chat_id, ada.user, {"text": "hi"})
    telegram_server.enable_flood_control(per_chat_per_second=2)

    answers = [call(telegram_server, "sendMessage", chat_id=ada.chat_id, text=str(n)).json() for n in range(3)]

    assert [a["ok"] for a in answers] == [True, True, False]
    assert answers[2]["error_code"] == 429
    assert answers[2]["parameters"] == {"retry_after": 1}
    assert answers[2]["description"] == "Too Many Requests: retry after 1"


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("copyMessage", {"chat_id": 1, "from_chat_id": 2, "message_id": 3}),
        ("getUserProfilePhotos", {"user_id": 1}),
        ("createChatInviteLink", {"chat_id": 1}),
        ("getStarTransactions", {}),
    ],
)
def test_unmodelled_methods_answer_a_value_of_their_return_type(telegram_server, method, params):
    schema = telegram_server.schema

    result = call(telegram_server, method, **params).json()["result"]

    assert schema.check_value(result, schema.methods[method]["returns"], method) == []


async def test_a_webhook_may_answer_with_a_method_call(telegram, telegram_server, webhook_receiver):
    receiver, url = webhook_receiver
    ada = telegram.user("Ada")
    receiver.answer = json.dumps({"method": "sendMessage", "chat_id": ada.chat_id, "text": "pong"}).encode()
    call(telegram_server, "setWebhook", url=url)

    await ada.send_text("ping")

    assert (await ada.wait_for_message()).text == "pong"


async def test_chat_member_updates_need_allowed_updates(telegram, telegram_server):
    ada = telegram.user("Ada")
    telegram_server.push_update("chat_member", {"note": "left out by default"})
    await ada.send_text("hi")

    default = call(telegram_server, "getUpdates").json()["result"]
    telegram_server.push_update("chat_member", {"note": "asked for"})
    asked = call(
        telegram_server, "getUpdates", offset=default[-1]["update_id"] + 1, allowed_updates=["chat_member"]
    ).json()["result"]

    assert [next(k for k in u if k != "update_id") for u in default] == ["message"]
    assert [u["chat_member"]["note"] for u in asked] == ["asked for"]


async def test_leave_chat_and_reset(telegram, telegram_server):
    ada = telegram.user("Ada")
    club = telegram.group("EV Club", members=[ada], admins=[ada])
    await club.add_bot(by=ada)

    assert call(telegram_server, "leaveChat", chat_id=club.chat_id).json()["result"] is True
    assert club.bot_status == "left"
    assert (
        call(telegram_server, "sendMessage", chat_id=club.chat_id, text="x").json()["description"]
        == "Forbidden: bot is not a member of the supergroup chat"
    )
    telegram_server.reset()
    assert telegram_server.requests == [] and telegram_server.chats == {}


def test_a_photo_album_is_one_message_per_photo_with_its_caption_and_checked_like_telegram(telegram, telegram_server):
    ada = telegram.user("Ada")
    telegram_server.user_message(ada.chat_id, ada.user, {"text": "hi"})
    media = [
        {"type": "photo", "media": "https://example.org/a.jpg", "caption": "<b>one</b>", "parse_mode": "HTML"},
        {"type": "photo", "media": "https://example.org/b.jpg", "caption": "two"},
    ]
    sent = call(telegram_server, "sendMediaGroup", chat_id=ada.chat_id, media=media).json()["result"]
    assert [m["caption"] for m in sent] == ["one", "two"]
    assert len({m["media_group_id"] for m in sent}) == 1
    single = call(telegram_server, "sendMediaGroup", chat_id=ada.chat_id, media=media[:1])
    assert single.status_code == 400 and "2-10 items" in single.json()["description"]
    broken = [{"type": "photo", "media": "x", "caption": "<b>open", "parse_mode": "HTML"}, media[1]]
    assert call(telegram_server, "sendMediaGroup", chat_id=ada.chat_id, media=broken).status_code == 400
    assert telegram_server.take_violations()  # the caption Telegram cannot parse is named
    missing_media = call(telegram_server, "sendMediaGroup", chat_id=ada.chat_id)
    assert missing_media.status_code == 400
    telegram_server.take_violations()
