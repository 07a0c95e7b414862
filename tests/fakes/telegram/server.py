"""A Telegram Bot API server on 127.0.0.1 that keeps real state and checks every request.

It runs on the shared HTTP layer (tests/fakes/http.py, tornado) on its own event loop in a background thread, so
a bot under test can reach it from the test's event loop, from a synchronous test or from a
subprocess:

    server = FakeTelegramServer().start()
    app = Application.builder().token(server.token).base_url(server.api_url).build()
    ...
    server.calls("sendMessage")     # recorded requests, parameters already decoded
    server.take_violations()        # Bot API misuse seen so far (the fixture fails on leftovers)
    server.stop()

The state it keeps is what the bot can observe: chats, members and admins, the messages of each
chat (so edits and deletions fail or succeed as on Telegram), pending updates, callback and inline
queries and their answers, the webhook. Tests play the people through `driver.TelegramDriver`.
"""

# The wait helpers take timeout= because that reads best in a test (wait_for_message(timeout=5)).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

import httpx
import tornado.httputil

from ocm_bot.demo.botcore import ApiError, BotCore, CallbackQuery, Chat, StoredMessage, TelegramErrors
from ocm_bot.demo.formatting import EntityParseError, ParsedText, parse_html, strip_edges

from .. import http
from .schema import Problem, Schema, load_schema

DEFAULT_TOKEN = "123456:TEST-TOKEN"


_ERROR_PREFIX = {
    400: "Bad Request: ",
    401: "Unauthorized",
    403: "Forbidden: ",
    404: "Not Found",
    409: "Conflict: ",
    429: "Too Many Requests: ",
}
# Update types Telegram leaves out unless asked for in allowed_updates.
_NOT_DELIVERED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_PARSE_MODES = {"html": "HTML", "markdownv2": "MarkdownV2", "markdown": "Markdown"}


@dataclass(frozen=True)
class Violation:
    """A request that breaks the Bot API (schema or formatting rules)."""

    method: str
    problem: str
    telegram_error: str | None = None

    def __str__(self) -> str:
        answer = (
            f" -> Telegram answers {self.telegram_error!r}"
            if self.telegram_error
            else (" (Telegram would accept it silently)")
        )
        return f"{self.method}: {self.problem}{answer}"


@dataclass
class RecordedRequest:
    """One call of the bot: decoded parameters, and the result as it was answered (a snapshot)."""

    method: str
    params: dict[str, Any]
    time: float
    ok: bool = True
    error: str | None = None
    result_json: str | None = None

    @property
    def result(self) -> Any:
        return None if self.result_json is None else json.loads(self.result_json)


@dataclass
class InjectedError:
    method: str  # lower-case method name or "*"
    error: ApiError
    times: int
    chat_id: int | str | None


@dataclass
class InjectedFailure:
    """A failure on the way to Telegram: a proxy's HTML error page, or a connection closed unanswered."""

    method: str  # lower-case method name or "*"
    status: int | None  # None: the connection is closed without an answer
    times: int
    processed: bool  # the call took effect before the answer was lost
    chat_id: int | str | None
    delay: float = 0.0  # seconds before the failure's answer (or the dropped connection)
    body: bytes | None = None  # the answer's body in place of nginx's page (e.g. truncated JSON)


class _TransportFailure(Exception):
    def __init__(self, failure: InjectedFailure) -> None:
        super().__init__(failure.status)
        self.failure = failure


# What nginx in front of the Bot API answers when the backend is away (not Telegram's JSON).
_GATEWAY_PAGE = (
    "<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"
)


@dataclass
class ChatState(Chat):
    """A chat of the shared core (its messages) plus what only the fake models: members, blocking."""

    members: dict[int, str] = field(default_factory=dict)  # user id -> status
    bot_status: str = "left"  # member / administrator / left / kicked
    known_to_bot: bool = False  # False: "chat not found"
    blocked: bool = False  # private chats: the user blocked the bot
    menu_button: dict | None = None
    description: str | None = None
    migrated_to: int | None = None  # a basic group upgraded to this supergroup


@dataclass
class Webhook:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
    deliveries: list[tuple[int, int | str]] = field(default_factory=list)  # (update_id, status)


@dataclass
class FloodControl:
    """Sliding windows of the bot's sends: overall, per chat, per group."""

    per_second: float
    per_chat_per_second: float
    per_group_per_minute: float
    sent: list[tuple[float, Any]] = field(default_factory=list)  # (time, chat_id)

    def check(self, server: FakeTelegramServer, chat_id: Any) -> None:
        now = time.monotonic()
        self.sent = [(t, c) for t, c in self.sent if now - t < 60]
        chat = server.chats.get(chat_id) if isinstance(chat_id, int) else None
        is_group = chat is not None and chat.type in ("group", "supergroup")
        windows = [
            (1.0, self.per_second, [t for t, _ in self.sent]),
            (1.0, self.per_chat_per_second, [t for t, c in self.sent if c == chat_id]),
        ]
        if is_group:
            windows.append((60.0, self.per_group_per_minute, [t for t, c in self.sent if c == chat_id]))
        for span, limit, times in windows:
            recent = sorted(t for t in times if now - t < span)
            if len(recent) >= limit:
                wait = span - (now - recent[-int(limit)])
                retry_after = max(1, int(wait + 0.999))
                raise ApiError(429, TelegramErrors.too_many_requests(retry_after), retry_after=retry_after)
        self.sent.append((now, chat_id))


CallbackQueryState = CallbackQuery  # the shared core's callback query


@dataclass
class InlineQueryState:
    id: str
    user_id: int
    query: str
    answer: dict | None = None


@dataclass
class GuestQueryState:
    """A guest message (Bot API 10.0): the bot, not a member of the chat, answers it once."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    text: str
    answer: dict | None = None
    inline_message_id: str | None = None


class FakeTelegramServer:
    """The loopback Bot API (details in tests/fakes/telegram/README.md).

    with FakeTelegramServer() as server:          # or the telegram_server fixture
        run_bot(base_url=server.api_url, token=server.token)
        server.inject_error("sendMessage", 429, retry_after=3)
        assert server.calls("sendMessage")[0]["text"] == "..."
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_first_name: str = "OCM Test Bot",
        bot_username: str = "ocm_test_bot",
        privacy_mode: bool = True,
        inline_feedback: bool = False,
        schema: Schema | None = None,
        webhook_retry_delay: float = 0.05,
    ) -> None:
        self.token = token
        self.schema = schema or load_schema()
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_user = {"id": self.bot_id, "is_bot": True, "first_name": bot_first_name, "username": bot_username}
        self.privacy_mode = privacy_mode
        self.inline_feedback = inline_feedback  # BotFather's /setinlinefeedback
        self.webhook_retry_delay = webhook_retry_delay
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._http: http.HttpServer | None = None
        self._loop_thread: int | None = None
        self._port: int | None = None
        self._watchers: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []
        self._version = 0
        self._idle_probes: list[Callable[[], bool]] = []
        self._reset_state()

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeTelegramServer:
        if self._thread is not None:
            return self
        sock = http.listening_socket()
        self._port = sock.getsockname()[1]
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            self._loop_thread = threading.get_ident()
            self._arrival = asyncio.Event()
            self._http = loop.run_until_complete(http.serve(self._respond, sock))
            self._webhook_task = loop.create_task(self._webhook_worker())
            loop.call_soon(ready.set)
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-telegram", daemon=True)
        self._thread.start()
        ready.wait(5)
        return self

    def stop(self) -> None:
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return

        async def shutdown() -> None:
            assert self._http is not None
            await self._http.close()
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            if others:
                await asyncio.wait(others, timeout=1)
            loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), loop)  # holds the task until it is done
        thread.join(5)
        self._thread = None
        self._loop = None

    def __enter__(self) -> FakeTelegramServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The server root, e.g. http://127.0.0.1:PORT (what TELEGRAM_API_URL takes)."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        """python-telegram-bot's `base_url`: the bot calls {api_url}{token}/{method}."""
        return f"{self.url}/bot"

    @property
    def file_url(self) -> str:
        """python-telegram-bot's `base_file_url`."""
        return f"{self.url}/file/bot"

    def method_url(self, method: str) -> str:
        return f"{self.api_url}{self.token}/{method}"

    def reset(self) -> None:
        """Forget everything but the bot itself (for a server shared between tests)."""
        with self._lock:
            self._reset_state()
        self._notify(updates_changed=True)

    def _reset_state(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.violations: list[Violation] = []
        self.errors: list[tuple[str, str]] = []  # (method, description) of every error answer
        # Chats, their messages and the callback queries live in the core shared with the demo.
        self.core: BotCore[ChatState] = BotCore()
        self.chats: dict[int, ChatState] = self.core.chats
        self.users: dict[int, dict] = {}
        self.injected: list[InjectedError] = []
        self.failures: list[InjectedFailure] = []
        self.flood_control: FloodControl | None = None
        self.callback_queries: dict[str, CallbackQuery] = self.core.callback_queries
        self.inline_queries: dict[str, InlineQueryState] = {}
        self.inline_messages: dict[str, tuple[int, int]] = {}  # inline_message_id -> chat, id
        self.guest_queries: dict[str, GuestQueryState] = {}
        self.commands: dict[str, list[dict]] = {}
        # The bot's description and short description by language ("" for the default one)
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}
        self.default_menu_button: dict = {"type": "commands"}
        self.webhook: Webhook | None = None
        # Public webhook URL prefix -> where it really arrives, as a reverse proxy in front of a
        # bot forwards it: {"https://example.test": "http://127.0.0.1:8443"} delivers an update for
        # https://example.test/telegram/hook to http://127.0.0.1:8443/telegram/hook.
        self.webhook_proxy: dict[str, str] = {}
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, content)
        self._pending: list[dict] = []
        self._next_update_id = 1
        self._allowed_updates: list[str] = []
        self._poll_generation = 0
        self._ids = itertools.count(1)

    # --- assertions -----------------------------------------------------------------------------

    def calls(self, method: str) -> list[dict[str, Any]]:
        """Decoded parameters of every request to `method` (case-insensitive), oldest first."""
        with self._lock:
            wanted = method.lower()
            return [r.params for r in self.requests if r.method.lower() == wanted]

    def take_violations(self) -> list[Violation]:
        """Return the violations recorded so far and forget them (the fixture won't fail)."""
        with self._lock:
            taken, self.violations = self.violations, []
            return taken

    def inject_error(
        self,
        method: str,
        error_code: int,
        description: str | None = None,
        *,
        times: int = 1,
        retry_after: int | None = None,
        chat_id: int | str | None = None,
    ) -> None:
        """Make the next `times` calls of `method` ("*" for any) fail with this error.

        The description gets Telegram's prefix when it lacks one ("message is not modified" ->
        "Bad Request: message is not modified"); a 429 defaults to "Too Many Requests: retry
        after N" with parameters.retry_after.
        """
        if error_code == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = (
                TelegramErrors.too_many_requests(retry_after or 1)
                if error_code == 429
                else _ERROR_PREFIX.get(error_code, "Error")
            )
        prefix = _ERROR_PREFIX.get(error_code, "")
        if prefix.endswith(": ") and not description.startswith(prefix.split(":")[0]):
            description = prefix + description
        with self._lock:
            self.injected.append(
                InjectedError(
                    method.lower(), ApiError(error_code, description, retry_after=retry_after), times, chat_id
                )
            )

    def inject_failure(
        self,
        method: str,
        status: int | None = 502,
        *,
        times: int = 1,
        processed: bool = False,
        chat_id: int | str | None = None,
        delay: float = 0.0,
        body: bytes | None = None,
    ) -> None:
        """Make the next `times` calls of `method` ("*" for any) fail on the way, not in Telegram.

        `status` (default 502 Bad Gateway) answers nginx's HTML error page, as Telegram's front end
        does when the Bot API server behind it is away; `status=None` closes the connection without
        an answer. `processed=True`: the call takes effect first and only its answer is lost (a
        message that reached the chat although the bot never heard back). `delay`: the answer (or
        the dropped connection) comes that many seconds late, a hung front end (`status=None,
        delay=30`); `refuse_connections()` ends the wait early. `body`: answer it with `status`
        in place of the page (`inject_failure(m, 200, body=b'{"ok":tr')` is malformed JSON).
        Calls over HTTP only.
        """
        with self._lock:
            self.failures.append(
                InjectedFailure(method.lower(), status, times, processed, chat_id, delay=delay, body=body)
            )

    def refuse_connections(self) -> None:
        """Stop listening and drop open connections (long polls too): the Bot API is unreachable."""
        self._run_in_loop(self._refuse())

    def accept_connections(self) -> None:
        """Listen again on the same port."""
        self._run_in_loop(self._accept())

    async def _refuse(self) -> None:
        assert self._http is not None
        await self._http.refuse_connections()

    async def _accept(self) -> None:
        assert self._http is not None
        self._http.accept_connections()

    def _run_in_loop(self, coroutine: Any) -> None:
        loop = self._loop
        if loop is None:
            coroutine.close()
            return
        asyncio.run_coroutine_threadsafe(coroutine, loop).result(5)

    def enable_flood_control(
        self, *, per_second: float = 30, per_chat_per_second: float = 1, per_group_per_minute: float = 20
    ) -> None:
        """Answer 429 like Telegram when the bot sends faster than its documented limits.

        https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
        Off by default: most tests send a burst of replies to one chat, which Telegram tolerates.
        """
        with self._lock:
            self.flood_control = FloodControl(per_second, per_chat_per_second, per_group_per_minute)

    # --- waiting from another event loop --------------------------------------------------------

    @property
    def version(self) -> int:
        """Grows with every change of state; see wait_for_change()."""
        return self._version

    async def wait_for_change(self, version: int, timeout: float) -> None:
        """Return once the state changed after `version` was read, or after `timeout` seconds."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._lock:
            if self._version != version:
                return
            self._watchers.append((loop, future))
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock, contextlib.suppress(ValueError):
                self._watchers.remove((loop, future))

    def watch_bot(self, is_idle: Callable[[], bool]) -> Callable[[], None]:
        """Register how a bot running in the test's process tells it has nothing left to do
        (``ptb.application_idle``); returns the function that unregisters it."""
        self._idle_probes.append(is_idle)
        return lambda: self._idle_probes.remove(is_idle) if is_idle in self._idle_probes else None

    @property
    def watches_bots(self) -> bool:
        """Whether a bot in this process registered with watch_bot (else bot_is_idle only knows updates)."""
        return bool(self._idle_probes)

    def bot_is_idle(self) -> bool:
        """The bot fetched every update (confirmed by its next getUpdates offset) and, for each bot
        registered with watch_bot, answered it: nothing queued, no handler or handler task running.

        Call it in the bot's event loop (the probes read the application's state)."""
        with self._lock:
            if self._pending:
                return False
        return all(probe() for probe in list(self._idle_probes))

    def _notify(self, *, updates_changed: bool = False) -> None:
        """Wake the waiting drivers; also the long polls and the webhook if updates changed."""
        with self._lock:
            self._version += 1
            watchers, self._watchers = self._watchers, []
        for loop, future in watchers:
            with contextlib.suppress(RuntimeError):  # that loop is closed
                loop.call_soon_threadsafe(_resolve, future)
        if updates_changed and self._loop is not None:
            if threading.get_ident() == self._loop_thread:
                self._wake_pollers()
            else:
                with contextlib.suppress(RuntimeError):
                    self._loop.call_soon_threadsafe(self._wake_pollers)

    async def _until_woken(self, timeout: float) -> None:
        """Sleep until the state changes or `timeout` passes.

        Not asyncio.wait_for: on Python 3.11 it can swallow a cancellation, which hung stop().
        """
        waiter = asyncio.ensure_future(self._arrival.wait())
        try:
            await asyncio.wait({waiter}, timeout=timeout)
        finally:
            waiter.cancel()

    def _wake_pollers(self) -> None:
        self._arrival.set()
        self._arrival = asyncio.Event()

    # --- the world (used by the driver) ---------------------------------------------------------

    def new_id(self) -> int:
        return next(self._ids)

    def add_file(self, file_id: str, file_path: str, content: bytes) -> None:
        """A file a person sent, for getFile and the file download URL."""
        with self._lock:
            self.files[file_id] = (file_path, content)

    def add_user(self, user: dict) -> None:
        with self._lock:
            self.users[user["id"]] = user
            self.chats.setdefault(user["id"], ChatState(chat=_private_chat(user)))

    def add_group(self, chat: dict, members: dict[int, str]) -> ChatState:
        with self._lock:
            state = ChatState(chat=chat, members=dict(members))
            self.chats[chat["id"]] = state
            return state

    def chat(self, chat_id: int) -> ChatState:
        with self._lock:
            return self.chats[chat_id]

    def push_update(self, kind: str, payload: dict) -> int:
        """Queue an update of `kind` ("message", "callback_query", ...) for the bot."""
        payload = json.loads(json.dumps(payload))  # later edits must not change it
        with self._lock:
            update_id = self._next_update_id
            self._next_update_id += 1
            self._pending.append({"update_id": update_id, kind: payload})
        self._notify(updates_changed=True)
        return update_id

    def take_updates(self) -> list[dict]:
        """Remove and return every queued update, for a test that feeds the application itself."""
        with self._lock:
            taken, self._pending = self._pending, []
        self._notify()
        return taken

    def user_message(self, chat_id: int, user: dict, content: dict[str, Any], *, deliver: bool | None = None) -> dict:
        """Store a message a person sent in a chat and, if the bot may see it, queue the update."""
        with self._lock:
            chat = self.chats[chat_id]
            if chat.type == "private":
                chat.known_to_bot = True
            message = chat.add_message(user, content, from_bot=False).message
            if deliver is None:
                deliver = self._bot_sees(chat, message)
        if deliver:
            self.push_update("message", message)
        else:
            self._notify()
        return message

    def user_edits_message(self, chat_id: int, message_id: int, changes: dict[str, Any]) -> dict:
        with self._lock:
            stored = self.chats[chat_id].messages[message_id]
            stored.message.update(changes)
            for key in [k for k, v in changes.items() if v is None]:
                del stored.message[key]
            stored.message["edit_date"] = int(time.time())
            stored.edits += 1
            message = json.loads(json.dumps(stored.message))
            deliver = self._bot_sees(self.chats[chat_id], message)
        if deliver:
            self.push_update("edited_message", message)
        return message

    def _bot_sees(self, chat: ChatState, message: dict) -> bool:
        if chat.type == "private":
            return not chat.blocked
        if chat.bot_status not in ("member", "administrator"):
            return False
        if not self.privacy_mode or chat.bot_status == "administrator":
            return True
        # Privacy mode: https://core.telegram.org/bots/features#privacy-mode
        text = message.get("text", "")
        if text.startswith("/"):
            command = text.split()[0]
            return "@" not in command or command.endswith("@" + self.bot_user["username"])
        reply = message.get("reply_to_message")
        if reply and reply.get("from", {}).get("id") == self.bot_id:
            return True
        return any(
            key in message
            for key in (
                "new_chat_members",
                "left_chat_member",
                "group_chat_created",
                "migrate_to_chat_id",
                "migrate_from_chat_id",
            )
        )

    def new_callback_query(self, user: dict, chat_id: int, message_id: int, data: str) -> str:
        with self._lock:
            stored = self.chats[chat_id].messages[message_id]
            query_id = str(self.new_id() * 7919 + 10**15)
            self.core.new_callback_query(query_id, user["id"], chat_id, message_id, data)
            payload: dict[str, Any] = {
                "id": query_id,
                "from": user,
                "chat_instance": str(abs(chat_id) * 31 + 17),
                "data": data,
            }
            if stored.inline_message_id:  # the bot sees only the id of an inline message
                payload["inline_message_id"] = stored.inline_message_id
            else:
                payload["message"] = json.loads(json.dumps(stored.message))
        self.push_update("callback_query", payload)
        return query_id

    def choose_inline_result(self, user: dict, query_id: str, result: dict, chat_id: int) -> dict:
        """The person picks an inline result: it is sent to the chat "via" the bot."""
        with self._lock:
            query = self.inline_queries[query_id]
            content = _inline_result_content(result)
            chat = self.chats[chat_id]
            stored = chat.add_message(user, {"via_bot": self.bot_user, **content}, from_bot=False)
            message = stored.message
            markup = result.get("reply_markup")
            if isinstance(markup, dict):
                message["reply_markup"] = markup
                stored.inline_message_id = f"inline-{self.new_id()}"
                self.inline_messages[stored.inline_message_id] = (chat_id, message["message_id"])
            deliver = self._bot_sees(chat, message) and chat.known_to_bot
            chosen: dict[str, Any] = {"result_id": result["id"], "from": user, "query": query.query}
            if stored.inline_message_id:
                chosen["inline_message_id"] = stored.inline_message_id
        if deliver:
            self.push_update("message", message)
        if self.inline_feedback:
            self.push_update("chosen_inline_result", chosen)
        self._notify()
        return message

    def new_inline_query(
        self, user: dict, query: str, offset: str, chat_type: str | None, location: dict | None
    ) -> str:
        with self._lock:
            query_id = str(self.new_id() * 104729 + 2 * 10**15)
            self.inline_queries[query_id] = InlineQueryState(query_id, user["id"], query)
        payload: dict[str, Any] = {"id": query_id, "from": user, "query": query, "offset": offset}
        if chat_type:
            payload["chat_type"] = chat_type
        if location:
            payload["location"] = location
        self.push_update("inline_query", payload)
        return query_id

    def new_guest_message(self, user: dict, chat_id: int, text: str, entities: list[dict]) -> str:
        """A person calls the bot in a chat it has not joined: a ``guest_message`` update."""
        with self._lock:
            chat = self.chats[chat_id]
            if chat.type == "private" or chat.bot_status in ("member", "administrator", "creator"):
                raise AssertionError("guest messages come from chats the bot is not a member of")
            content: dict[str, Any] = {"text": text, **({"entities": entities} if entities else {})}
            stored = chat.add_message(user, content, from_bot=False)
            query_id = str(self.new_id() * 15485863 + 3 * 10**15)
            self.guest_queries[query_id] = GuestQueryState(
                query_id, user["id"], chat_id, stored.message["message_id"], text
            )
            payload = {**stored.message, "guest_query_id": query_id}
        self.push_update("guest_message", payload)
        return query_id

    def set_bot_status(self, chat_id: int, status: str, by: dict) -> None:
        """Bot added/removed/promoted in a chat: the my_chat_member update Telegram sends."""
        with self._lock:
            chat = self.chats[chat_id]
            old = chat.bot_status if chat.type != "private" else ("kicked" if chat.blocked else "member")
            if chat.type == "private":
                chat.blocked = status == "kicked"
            else:
                chat.bot_status = status
            chat.known_to_bot = True
            payload = {
                "chat": dict(chat.chat),
                "from": by,
                "date": int(time.time()),
                "old_chat_member": self._member_object(chat, self.bot_user, old),
                "new_chat_member": self._member_object(chat, self.bot_user, status),
            }
        self.push_update("my_chat_member", payload)

    def upgrade_to_supergroup(self, chat_id: int, new_id: int, by: dict) -> None:
        """A basic group becomes a supergroup: migrate_to/from messages, the old id answers 400."""
        with self._lock:
            old = self.chats[chat_id]
            chat = {**old.chat, "id": new_id, "type": "supergroup"}
            new = ChatState(
                chat=chat, members=dict(old.members), bot_status=old.bot_status, known_to_bot=old.known_to_bot
            )
            self.chats[new_id] = new
            old.migrated_to = new_id
        self.user_message(chat_id, by, {"migrate_to_chat_id": new_id})
        self.user_message(new_id, by, {"migrate_from_chat_id": chat_id})

    def stored_messages(self, chat_id: int) -> list[StoredMessage]:
        with self._lock:
            chat = self.chats.get(chat_id)
            return list(chat.messages.values()) if chat else []

    # --- HTTP entry -----------------------------------------------------------------------------

    _API_PATH = re.compile(r"^/bot([^/]*)/([A-Za-z0-9_]*)$")
    _FILE_PATH = re.compile(r"^/file/bot([^/]*)/(.+)$")

    def _respond(self, request: http.Request) -> http.Response | Any:
        api = self._API_PATH.match(request.path)
        if api is None:
            return self._file(request)
        token, method = api.groups()
        try:
            raw, files = _parameters(request)
        except ValueError:
            return _json_response(
                400, {"ok": False, "error_code": 400, "description": "Bad Request: can't parse JSON encoded request"}
            )
        if method.lower() == "getupdates":
            return self._respond_later(self.get_updates(token, raw))
        try:
            return _json_response(*self.handle(token, method, raw, files))
        except _TransportFailure as lost:
            self._notify()  # the failed call is in the request log
            if lost.failure.delay > 0:
                return self._fail_later(lost.failure)
            return _failure_response(lost.failure)

    async def _fail_later(self, failure: InjectedFailure) -> http.Response | None:
        await asyncio.sleep(failure.delay)
        return _failure_response(failure)

    async def _respond_later(self, answer: Any) -> http.Response:
        return _json_response(*await answer)

    def _file(self, request: http.Request) -> http.Response:
        match = self._FILE_PATH.match(request.path)
        content = None
        if match and match.group(1) == self.token:
            with self._lock:
                content = next((c for p, c in self.files.values() if p == match.group(2)), None)
        if content is None:
            return _json_response(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        return http.Response(200, content, "application/octet-stream")

    def handle(
        self, token: str, method: str, raw: dict[str, Any], files: dict[str, tuple[str, bytes]]
    ) -> tuple[int, dict]:
        """Answer one (non-long-polling) request; returns (HTTP status, JSON body)."""
        if token != self.token:
            with self._lock:
                self.errors.append((method, "Unauthorized"))
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        checked = self.schema.check_request(method, raw, frozenset(files))
        name = checked.method or method
        record = RecordedRequest(name, checked.params, time.time())
        with self._lock:
            self.requests.append(record)
            for problem in checked.problems:
                self._violate(name, problem)
        try:
            if checked.method is None:
                raise ApiError(404, "Not Found")
            if checked.rejection:
                raise ApiError(400, checked.rejection)
            with self._lock:
                failure = self._take_failure(name, checked.params)
                if failure is not None and not failure.processed:
                    record.ok, record.error = False, _failure_text(failure)
                    raise _TransportFailure(failure)
                before = (self._next_update_id, self.webhook)
                self._raise_injected(name, checked.params)
                if self.flood_control is not None and name.startswith(("send", "copyMessage", "forwardMessage")):
                    self.flood_control.check(self, checked.params.get("chat_id"))
                result, extra = self._dispatch(name, checked.params, files)
                after = (self._next_update_id, self.webhook)
        except ApiError as error:
            record.ok, record.error = False, error.description
            with self._lock:
                self.errors.append((name, error.description))
            self._notify()
            return error.code, error.body()
        record.result_json = json.dumps(result, ensure_ascii=False)
        self._notify(updates_changed=before != after)  # leaveChat queues one; setWebhook
        if failure is not None:
            record.error = _failure_text(failure)
            raise _TransportFailure(failure)
        return 200, {"ok": True, "result": result, **extra}

    def _violate(self, method: str, problem: Problem | str, telegram_error: str | None = None) -> None:
        if isinstance(problem, Problem):
            self.violations.append(Violation(method, str(problem), problem.telegram_error))
        else:
            self.violations.append(Violation(method, problem, telegram_error))

    def _take_failure(self, method: str, params: dict) -> InjectedFailure | None:
        for failure in self.failures:
            if failure.method not in ("*", method.lower()):
                continue
            if failure.chat_id is not None and str(params.get("chat_id")) != str(failure.chat_id):
                continue
            failure.times -= 1
            if failure.times <= 0:
                self.failures.remove(failure)
            return failure
        return None

    def _raise_injected(self, method: str, params: dict) -> None:
        for injected in self.injected:
            if injected.method not in ("*", method.lower()):
                continue
            if injected.chat_id is not None and str(params.get("chat_id")) != str(injected.chat_id):
                continue
            injected.times -= 1
            if injected.times <= 0:
                self.injected.remove(injected)
            raise injected.error

    def _dispatch(self, method: str, params: dict, files: dict) -> tuple[Any, dict]:
        handler: Callable | None = getattr(self, f"_api_{method}", None)
        if handler is not None:
            result = handler(params, files)
            if isinstance(result, tuple):
                return result
            if "inline_message_id" in params and isinstance(result, dict):
                return True, {}  # edits of inline messages answer True, not the Message
            return result, {}
        return self._api_generic(method, params), {}

    # --- long polling ---------------------------------------------------------------------------

    async def get_updates(self, token: str, raw: dict[str, Any]) -> tuple[int, dict]:
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        checked = self.schema.check_request("getUpdates", raw)
        params = checked.params
        record = RecordedRequest("getUpdates", params, time.time())
        with self._lock:
            self.requests.append(record)
            for problem in checked.problems:
                self._violate("getUpdates", problem)
            self._poll_generation += 1
            generation = self._poll_generation
        self._notify()  # the request log grew: a driver may wait for the poll to be open
        try:
            if checked.rejection:
                raise ApiError(400, checked.rejection)
            with self._lock:
                self._raise_injected("getUpdates", params)
                if self.webhook is not None:
                    raise ApiError(409, TelegramErrors.GET_UPDATES_WITH_WEBHOOK)
                if isinstance(params.get("allowed_updates"), list):
                    self._allowed_updates = params["allowed_updates"]
            self._wake_pollers()  # an older long poll now ends with 409
            deadline = time.monotonic() + max(0.0, min(float(params.get("timeout") or 0), 50.0))
            while True:
                with self._lock:
                    if self._poll_generation != generation:
                        raise ApiError(409, TelegramErrors.GET_UPDATES_TERMINATED)
                    pending_before = len(self._pending)
                    updates = self._take_updates(params)
                    confirmed = len(self._pending) < pending_before
                if confirmed:
                    self._notify()
                remaining = deadline - time.monotonic()
                if updates or remaining <= 0:
                    break
                await self._until_woken(remaining)
        except ApiError as error:
            record.ok, record.error = False, error.description
            with self._lock:
                self.errors.append(("getUpdates", error.description))
            return error.code, error.body()
        record.result_json = json.dumps(updates, ensure_ascii=False)
        if updates:
            self._notify()
        return 200, {"ok": True, "result": updates}

    def _take_updates(self, params: dict) -> list[dict]:
        offset = params.get("offset")
        if isinstance(offset, int) and offset < 0:
            self._pending = self._pending[offset:]
        elif isinstance(offset, int):
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        self._pending = [u for u in self._pending if self._allowed(u, self._allowed_updates)]
        limit = params.get("limit") or 100
        return self._pending[: max(1, min(int(limit), 100))]

    @staticmethod
    def _allowed(update: dict, allowed: list[str] | None) -> bool:
        kind = next(k for k in update if k != "update_id")
        if allowed:
            return kind in allowed
        return kind not in _NOT_DELIVERED_BY_DEFAULT

    # --- webhooks -------------------------------------------------------------------------------

    async def _webhook_worker(self) -> None:
        while self.webhook is None:  # an httpx client costs ~30 ms (SSL): only make it if needed
            await self._until_woken(1.0)
        async with httpx.AsyncClient(timeout=10) as client:
            while True:
                with self._lock:
                    hook = self.webhook
                    if hook is not None:
                        self._pending = [u for u in self._pending if self._allowed(u, hook.allowed_updates)]
                    update = self._pending[0] if hook is not None and self._pending else None
                if hook is None or update is None:
                    await self._until_woken(1.0)
                    continue
                headers = {"Content-Type": "application/json"}
                if hook.secret_token:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
                status: int | str
                try:
                    response = await client.post(self._proxied(hook.url), content=json.dumps(update), headers=headers)
                    status = response.status_code
                    delivered = 200 <= status < 300
                    error = f"Wrong response from the webhook: {status} {response.reason_phrase}"
                except httpx.HTTPError as exc:
                    status, delivered = type(exc).__name__, False
                    error = f"Connection failed: {type(exc).__name__}"
                with self._lock:
                    hook.deliveries.append((update["update_id"], status))
                    if delivered:
                        self._pending = [u for u in self._pending if u is not update]
                    else:
                        hook.last_error_date = int(time.time())
                        hook.last_error_message = error
                self._notify()
                if delivered:
                    self._answer_in_webhook_response(response)
                else:
                    await asyncio.sleep(self.webhook_retry_delay)

    def _proxied(self, url: str) -> str:
        for public, local in self.webhook_proxy.items():
            if url == public or url.startswith((f"{public}/", f"{public}?")):
                return local + url[len(public) :]
        return url

    def _answer_in_webhook_response(self, response: httpx.Response) -> None:
        """A bot may answer a webhook with a method call in the response body."""
        if "json" not in response.headers.get("content-type", ""):
            return
        try:
            body = response.json()
        except ValueError:
            return
        if isinstance(body, dict) and isinstance(body.get("method"), str):
            params = {k: v for k, v in body.items() if k != "method"}
            self.handle(self.token, body["method"], params, {})

    def _api_setWebhook(self, params: dict, files: dict) -> tuple[bool, dict]:
        url = params.get("url", "")
        if not url:
            return self._api_deleteWebhook(params, files)
        if not url.startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = Webhook(url, secret, params.get("max_connections", 40), params.get("allowed_updates"))
        return True, {"description": "Webhook was set"}

    def _api_deleteWebhook(self, params: dict, files: dict) -> tuple[bool, dict]:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        was_set, self.webhook = self.webhook is not None, None
        return True, {"description": "Webhook was deleted" if was_set else "Webhook is already deleted"}

    def _api_getWebhookInfo(self, params: dict, files: dict) -> dict:
        hook = self.webhook
        if hook is None:
            return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._pending)}
        info: dict[str, Any] = {
            "url": hook.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
            "max_connections": hook.max_connections,
        }
        if hook.allowed_updates is not None:
            info["allowed_updates"] = hook.allowed_updates
        if hook.last_error_date:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
        return info

    # --- chats ----------------------------------------------------------------------------------

    def _lookup_chat(self, chat_id: int | str) -> ChatState:
        chat = None
        if isinstance(chat_id, int):
            chat = self.chats.get(chat_id)
        elif isinstance(chat_id, str) and chat_id.startswith("@"):
            chat = next(
                (c for c in self.chats.values() if c.chat.get("username", "").lower() == chat_id[1:].lower()), None
            )
        if chat is None:
            raise ApiError(400, TelegramErrors.CHAT_NOT_FOUND)
        return chat

    def _find_chat(self, chat_id: int | str) -> ChatState:
        chat = self._lookup_chat(chat_id)
        if not chat.known_to_bot:
            raise ApiError(400, TelegramErrors.CHAT_NOT_FOUND)
        return chat

    def _writable_chat(self, chat_id: int | str) -> ChatState:
        chat = self._lookup_chat(chat_id)
        if chat.type == "private" and not chat.known_to_bot:
            raise ApiError(403, TelegramErrors.CANT_INITIATE)
        if not chat.known_to_bot:
            raise ApiError(400, TelegramErrors.CHAT_NOT_FOUND)
        if chat.migrated_to is not None:
            raise ApiError(400, TelegramErrors.MIGRATED, migrate_to_chat_id=chat.migrated_to)
        if chat.type == "private":
            if chat.blocked:
                raise ApiError(403, TelegramErrors.BLOCKED)
        elif chat.bot_status == "kicked":
            raise ApiError(403, TelegramErrors.kicked(chat.type))
        elif chat.bot_status == "left":
            raise ApiError(403, TelegramErrors.not_member(chat.type))
        return chat

    def _member_object(self, chat: ChatState, user: dict, status: str) -> dict:
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                can_be_edited=False,
                is_anonymous=False,
                can_manage_chat=True,
                can_delete_messages=True,
                can_manage_video_chats=True,
                can_restrict_members=True,
                can_promote_members=False,
                can_change_info=True,
                can_invite_users=True,
                can_post_stories=False,
                can_edit_stories=False,
                can_delete_stories=False,
                can_pin_messages=True,
                can_manage_topics=False,
                can_manage_direct_messages=False,
                can_manage_tags=False,
            )
        elif status == "kicked":
            member["until_date"] = 0
        elif status == "restricted":
            member.update(is_member=True, until_date=0)
        return member

    def _resolve_user(self, user_id: int) -> dict:
        user = self.bot_user if user_id == self.bot_id else self.users.get(user_id)
        if user is None:
            raise ApiError(400, TelegramErrors.USER_NOT_FOUND)
        return user

    def _status_in(self, chat: ChatState, user_id: int) -> str:
        if user_id == self.bot_id:
            return chat.bot_status if chat.type != "private" else "member"
        if chat.type == "private":
            return "member" if user_id == chat.id else "left"
        return chat.members.get(user_id, "left")

    def _api_getMe(self, params: dict, files: dict) -> dict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": True,
            "supports_guest_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_getChat(self, params: dict, files: dict) -> dict:
        chat = self._find_chat(params["chat_id"])
        if chat.type != "private" and chat.bot_status == "kicked":
            raise ApiError(403, TelegramErrors.kicked(chat.type))
        info = {
            **chat.chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }
        if chat.description:
            info["description"] = chat.description
        return info

    def _api_getChatMember(self, params: dict, files: dict) -> dict:
        chat = self._find_chat(params["chat_id"])
        user = self._resolve_user(params["user_id"])
        return self._member_object(chat, user, self._status_in(chat, user["id"]))

    def _api_getChatAdministrators(self, params: dict, files: dict) -> list[dict]:
        chat = self._find_chat(params["chat_id"])
        if chat.type == "private":
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        admins = [
            self._member_object(chat, self._resolve_user(uid), status)
            for uid, status in chat.members.items()
            if status in ("creator", "administrator")
        ]
        if chat.bot_status == "administrator":
            admins.append(self._member_object(chat, self.bot_user, "administrator"))
        return admins

    def _api_getChatMemberCount(self, params: dict, files: dict) -> int:
        chat = self._find_chat(params["chat_id"])
        if chat.type == "private":
            return 2
        in_chat = ("creator", "administrator", "member", "restricted")
        bot = chat.bot_status in in_chat
        return sum(1 for s in chat.members.values() if s in in_chat) + int(bot)

    def _api_leaveChat(self, params: dict, files: dict) -> bool:
        chat = self._find_chat(params["chat_id"])
        if chat.type == "private":
            raise ApiError(400, "Bad Request: chat member status can't be changed in private chats")
        if chat.bot_status in ("left", "kicked"):
            raise ApiError(403, TelegramErrors.not_member(chat.type))
        old = chat.bot_status
        chat.bot_status = "left"
        self._queue_locked(
            "my_chat_member",
            {
                "chat": dict(chat.chat),
                "from": self.bot_user,
                "date": int(time.time()),
                "old_chat_member": self._member_object(chat, self.bot_user, old),
                "new_chat_member": self._member_object(chat, self.bot_user, "left"),
            },
        )
        return True

    def _queue_locked(self, kind: str, payload: dict) -> None:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._pending.append({"update_id": update_id, kind: payload})

    # --- sending --------------------------------------------------------------------------------

    def _new_bot_message(self, chat: ChatState, content: dict, params: dict) -> dict:
        reply_to = self._reply_target(chat, params)
        stored = chat.add_message(
            self.bot_user, content, from_bot=True, markup=params.get("reply_markup"), reply_to=reply_to
        )
        if params.get("protect_content"):
            stored.message["has_protected_content"] = True
        return stored.message

    def _reply_target(self, chat: ChatState, params: dict) -> dict | None:
        reply = params.get("reply_parameters")
        message_id = reply.get("message_id") if isinstance(reply, dict) else None
        if message_id is None:
            return None
        target = chat.messages.get(message_id)
        if target is None or target.deleted:
            if isinstance(reply, dict) and reply.get("allow_sending_without_reply"):
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        return {k: v for k, v in target.message.items() if k != "reply_to_message"}

    def _formatted(
        self, method: str, params: dict, key: str, entities_key: str, limit: int, *, required: bool
    ) -> ParsedText | None:
        """Apply parse_mode like Telegram and check the length of what is left."""
        source = params.get(key)
        if source is None:
            return None
        mode = params.get("parse_mode")
        if mode is not None and mode.lower() not in _PARSE_MODES:
            raise ApiError(400, f"Bad Request: unsupported parse_mode {mode!r}")
        if mode is not None and mode.lower() == "html":
            try:
                parsed = parse_html(source)
            except EntityParseError as error:
                description = f"Bad Request: can't parse entities: {error}"
                self._violate(method, f"{key}: invalid HTML: {error}: {source[:200]!r}", description)
                raise ApiError(400, description) from None
            for warning in parsed.warnings:
                self._violate(method, f"{key}: {warning}")
        else:
            entities = params.get(entities_key)
            parsed = ParsedText(source, list(entities) if isinstance(entities, list) else [])
        parsed = strip_edges(parsed)
        if required and not parsed.text:
            self._violate(method, f"{key} is empty after entity parsing: {source!r}", TelegramErrors.TEXT_EMPTY)
            raise ApiError(400, TelegramErrors.TEXT_EMPTY)
        if len(parsed.text) > limit:
            error = TelegramErrors.TEXT_TOO_LONG if key == "text" else (TelegramErrors.CAPTION_TOO_LONG)
            self._violate(
                method, f"{key} has {len(parsed.text)} characters after entity parsing (at most {limit})", error
            )
            raise ApiError(400, error)
        return parsed

    def _text_content(self, parsed: ParsedText, key: str = "text") -> dict:
        content: dict[str, Any] = {key: parsed.text}
        if parsed.entities:
            content["entities" if key == "text" else "caption_entities"] = parsed.entities
        return content

    def _api_sendMessage(self, params: dict, files: dict) -> dict:
        chat = self._writable_chat(params["chat_id"])
        parsed = self._formatted("sendMessage", params, "text", "entities", 4096, required=True)
        assert parsed is not None
        content = self._text_content(parsed)
        if isinstance(params.get("link_preview_options"), dict):
            content["link_preview_options"] = params["link_preview_options"]
        message = self._new_bot_message(chat, content, params)
        stored = chat.messages[message["message_id"]]
        stored.source_text, stored.parse_mode = params["text"], params.get("parse_mode")
        return message

    def _api_sendLocation(self, params: dict, files: dict) -> dict:
        chat = self._writable_chat(params["chat_id"])
        location = {"latitude": params["latitude"], "longitude": params["longitude"]}
        for key in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
            if key in params:
                location[key] = params[key]
        live_period = params.get("live_period")
        if live_period is not None and not (60 <= live_period <= 86400 or live_period == 0x7FFFFFFF):
            self._violate(
                "sendLocation",
                f"live_period {live_period} not in 60..86400",
                "Bad Request: wrong live location period specified",
            )
            raise ApiError(400, "Bad Request: wrong live location period specified")
        message = self._new_bot_message(chat, {"location": location}, params)
        if live_period:
            chat.messages[message["message_id"]].live_until = time.time() + live_period
        return message

    def _api_sendVenue(self, params: dict, files: dict) -> dict:
        chat = self._writable_chat(params["chat_id"])
        location = {"latitude": params["latitude"], "longitude": params["longitude"]}
        venue: dict[str, Any] = {"location": location, "title": params["title"], "address": params["address"]}
        for key in ("foursquare_id", "foursquare_type", "google_place_id", "google_place_type"):
            if key in params:
                venue[key] = params[key]
        return self._new_bot_message(chat, {"venue": venue, "location": location}, params)

    def _api_sendContact(self, params: dict, files: dict) -> dict:
        chat = self._writable_chat(params["chat_id"])
        contact = {k: params[k] for k in ("phone_number", "first_name", "last_name", "vcard") if k in params}
        return self._new_bot_message(chat, {"contact": contact}, params)

    def _store_file(self, field_name: str, value: Any, files: dict, kind: str) -> str:
        """An uploaded file (multipart) or attach:// reference gets a file_id; ids pass through."""
        name = field_name
        if isinstance(value, str) and value.startswith("attach://"):
            name = value.removeprefix("attach://")
        if name in files:
            file_id = f"{kind}-{self.new_id()}"
            filename, content = files[name]
            self.files[file_id] = (f"{kind}s/{file_id}_{filename}", content)
            return file_id
        return str(value)

    def _api_sendPhoto(self, params: dict, files: dict) -> dict:
        chat = self._writable_chat(params["chat_id"])
        file_id = self._store_file("photo", params.get("photo"), files, "photo")
        parsed = self._formatted("sendPhoto", params, "caption", "caption_entities", 1024, required=False)
        size = len(self.files.get(file_id, ("", b""))[1])
        content: dict[str, Any] = {
            "photo": [
                {
                    "file_id": file_id,
                    "file_unique_id": f"u{file_id}"[:32],
                    "width": 800,
                    "height": 600,
                    "file_size": size,
                }
            ]
        }
        if parsed is not None:
            content.update(self._text_content(parsed, "caption"))
        message = self._new_bot_message(chat, content, params)
        if parsed is not None:
            stored = chat.messages[message["message_id"]]
            stored.source_text, stored.parse_mode = params["caption"], params.get("parse_mode")
        return message

    def _api_sendMediaGroup(self, params: dict, files: dict) -> list[dict]:
        """An album: 2-10 photos (or videos...), one message each, a caption per item (1,024 characters)."""
        chat = self._writable_chat(params["chat_id"])
        media = params.get("media") or []
        if not 2 <= len(media) <= 10:
            raise ApiError(400, "Bad Request: wrong number of media specified; must contain 2-10 items")
        group_id = str(self.new_id())
        sent = []
        for item in media:
            if item.get("type") != "photo":  # the bot sends photo albums only; other kinds are not modelled
                self._violate("sendMediaGroup", f"media of type {item.get('type')!r} is not modelled by the fake")
            file_id = self._store_file("media", item.get("media"), files, "photo")
            content: dict[str, Any] = {
                "photo": [{"file_id": file_id, "file_unique_id": f"u{file_id}"[:32], "width": 800, "height": 600}],
                "media_group_id": group_id,
            }
            if item.get("caption"):
                parsed = self._formatted("sendMediaGroup", item, "caption", "caption_entities", 1024, required=False)
                if parsed is not None:
                    content.update(self._text_content(parsed, "caption"))
            sent.append(self._new_bot_message(chat, content, params))
        return sent

    def _api_sendDocument(self, params: dict, files: dict) -> dict:
        chat = self._writable_chat(params["chat_id"])
        file_id = self._store_file("document", params.get("document"), files, "document")
        parsed = self._formatted("sendDocument", params, "caption", "caption_entities", 1024, required=False)
        content: dict[str, Any] = {"document": {"file_id": file_id, "file_unique_id": f"u{file_id}"[:32]}}
        if parsed is not None:
            content.update(self._text_content(parsed, "caption"))
        return self._new_bot_message(chat, content, params)

    def _api_getFile(self, params: dict, files: dict) -> dict:
        file_id = params["file_id"]
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        path, content = self.files[file_id]
        return {"file_id": file_id, "file_unique_id": f"u{file_id}"[:32], "file_size": len(content), "file_path": path}

    def _api_sendChatAction(self, params: dict, files: dict) -> bool:
        self._writable_chat(params["chat_id"])
        if params["action"] not in _CHAT_ACTIONS:
            self._violate(
                "sendChatAction",
                f"unknown action {params['action']!r}",
                "Bad Request: wrong parameter action in request",
            )
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    # --- editing --------------------------------------------------------------------------------

    def _message_to_edit(self, method: str, params: dict) -> tuple[ChatState, StoredMessage]:
        if "inline_message_id" in params:
            where = self.inline_messages.get(params["inline_message_id"])
            if where is None:
                raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
            chat = self.chats[where[0]]
            return chat, chat.messages[where[1]]
        if "chat_id" not in params or "message_id" not in params:
            self._violate(
                method,
                "needs chat_id and message_id (or inline_message_id)",
                "Bad Request: message identifier is not specified",
            )
            raise ApiError(400, "Bad Request: message identifier is not specified")
        chat = self._writable_chat(params["chat_id"])
        return chat, chat.message_to_edit(params["message_id"])

    def _api_editMessageText(self, params: dict, files: dict) -> dict:
        _chat, stored = self._message_to_edit("editMessageText", params)
        if "text" not in stored.message:
            raise ApiError(400, TelegramErrors.NO_TEXT_TO_EDIT)
        parsed = self._formatted("editMessageText", params, "text", "entities", 4096, required=True)
        assert parsed is not None
        return stored.edit_text(parsed, params.get("reply_markup"), params["text"], params.get("parse_mode"))

    def _api_editMessageCaption(self, params: dict, files: dict) -> dict:
        _chat, stored = self._message_to_edit("editMessageCaption", params)
        if not stored.message.keys() & {"photo", "document", "video", "audio", "animation", "voice"}:
            raise ApiError(400, TelegramErrors.NO_CAPTION_TO_EDIT)  # before the caption is checked
        parsed = self._formatted(
            "editMessageCaption", params, "caption", "caption_entities", 1024, required=False
        ) or ParsedText("")
        return stored.edit_caption(parsed, params.get("reply_markup"), params.get("caption"), params.get("parse_mode"))

    def _api_editMessageReplyMarkup(self, params: dict, files: dict) -> dict:
        _chat, stored = self._message_to_edit("editMessageReplyMarkup", params)
        return stored.edit({}, params.get("reply_markup"))

    def _api_editMessageLiveLocation(self, params: dict, files: dict) -> dict:
        _chat, stored = self._message_to_edit("editMessageLiveLocation", params)
        location = stored.message.get("location")
        if location is None or stored.live_until is None or stored.live_until < time.time():
            raise ApiError(400, TelegramErrors.MESSAGE_NOT_LIVE)
        new_location = {**location, "latitude": params["latitude"], "longitude": params["longitude"]}
        for key in ("horizontal_accuracy", "heading", "proximity_alert_radius"):
            if key in params:
                new_location[key] = params[key]
        if "live_period" in params:
            new_location["live_period"] = params["live_period"]
        return stored.edit({"location": new_location}, params.get("reply_markup"))

    def _api_stopMessageLiveLocation(self, params: dict, files: dict) -> dict:
        _chat, stored = self._message_to_edit("stopMessageLiveLocation", params)
        if stored.live_until is None or stored.live_until < time.time():
            raise ApiError(400, "Bad Request: message can't be edited")
        stored.live_until = time.time() - 1
        stored.edits += 1
        stored.message["edit_date"] = int(time.time())
        markup = params.get("reply_markup")
        if isinstance(markup, dict):
            stored.message["reply_markup"] = markup
        else:
            stored.message.pop("reply_markup", None)
        return stored.message

    def _api_deleteMessage(self, params: dict, files: dict) -> bool:
        self._find_chat(params["chat_id"]).delete(params["message_id"])
        return True

    def _api_deleteMessages(self, params: dict, files: dict) -> bool:
        self._find_chat(params["chat_id"]).delete_many(params["message_ids"])
        return True

    # --- queries --------------------------------------------------------------------------------

    def _api_answerCallbackQuery(self, params: dict, files: dict) -> bool:
        self.core.answer_callback_query(params)
        return True

    def _api_answerInlineQuery(self, params: dict, files: dict) -> bool:
        query = self.inline_queries.get(params["inline_query_id"])
        if query is None or query.answer is not None:
            raise ApiError(400, TelegramErrors.QUERY_TOO_OLD)
        for result in params["results"]:
            content = result.get("input_message_content") or {}
            if "message_text" in content:
                self._formatted("answerInlineQuery", content, "message_text", "entities", 4096, required=True)
            if "caption" in result:
                self._formatted("answerInlineQuery", result, "caption", "caption_entities", 1024, required=False)
        query.answer = {k: v for k, v in params.items() if k != "inline_query_id"}
        return True

    def _api_answerGuestQuery(self, params: dict, files: dict) -> dict:
        query = self.guest_queries.get(params["guest_query_id"])
        if query is None or query.answer is not None:
            raise ApiError(400, TelegramErrors.QUERY_TOO_OLD)
        result = params["result"]
        content = result.get("input_message_content") or {}
        if "message_text" in content:
            self._formatted("answerGuestQuery", content, "message_text", "entities", 4096, required=True)
        if "caption" in result:
            self._formatted("answerGuestQuery", result, "caption", "caption_entities", 1024, required=False)
        chat = self.chats[query.chat_id]
        caller = self._resolve_user(query.user_id)
        posted = {**_inline_result_content(result), "guest_bot_caller_user": caller, "guest_bot_caller_chat": chat.chat}
        stored = chat.add_message(self.bot_user, posted, from_bot=True, markup=result.get("reply_markup"))
        stored.inline_message_id = f"inline-{self.new_id()}"
        self.inline_messages[stored.inline_message_id] = (chat.id, stored.message["message_id"])
        query.answer = {"result": result}
        query.inline_message_id = stored.inline_message_id
        return {"inline_message_id": stored.inline_message_id}

    # --- bot settings ---------------------------------------------------------------------------

    @staticmethod
    def _commands_key(params: dict) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code", "")], sort_keys=True)

    @staticmethod
    def _language_code(params: dict) -> str:
        code = params.get("language_code") or ""
        if code and not re.fullmatch(r"[a-z]{2}", code):
            raise ApiError(400, "Bad Request: invalid language code specified")
        return code

    def _api_setMyCommands(self, params: dict, files: dict) -> bool:
        if len(params["commands"]) > 100:
            raise ApiError(400, "Bad Request: too many commands")
        self._language_code(params)
        for command in params["commands"]:
            if not 1 <= len(command.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: command description is invalid")
        self.commands[self._commands_key(params)] = params["commands"]
        return True

    def _api_getMyCommands(self, params: dict, files: dict) -> list[dict]:
        return self.commands.get(self._commands_key(params), [])

    def _api_deleteMyCommands(self, params: dict, files: dict) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _api_setMyDescription(self, params: dict, files: dict) -> bool:
        text = params.get("description") or ""
        if len(text) > 512:
            raise ApiError(400, "Bad Request: bot description is too long")
        self.descriptions[self._language_code(params)] = text
        return True

    def _api_getMyDescription(self, params: dict, files: dict) -> dict:
        return {"description": self.descriptions.get(self._language_code(params), "")}

    def _api_setMyShortDescription(self, params: dict, files: dict) -> bool:
        text = params.get("short_description") or ""
        if len(text) > 120:
            raise ApiError(400, "Bad Request: bot short description is too long")
        self.short_descriptions[self._language_code(params)] = text
        return True

    def _api_getMyShortDescription(self, params: dict, files: dict) -> dict:
        return {"short_description": self.short_descriptions.get(self._language_code(params), "")}

    def _api_setChatMenuButton(self, params: dict, files: dict) -> bool:
        button = params.get("menu_button") or {"type": "default"}
        if "chat_id" in params:
            self._find_chat(params["chat_id"]).menu_button = button
        else:
            self.default_menu_button = button
        return True

    def _api_getChatMenuButton(self, params: dict, files: dict) -> dict:
        if "chat_id" in params:
            return self._find_chat(params["chat_id"]).menu_button or self.default_menu_button
        return self.default_menu_button

    def _api_logOut(self, params: dict, files: dict) -> bool:
        return True

    def _api_close(self, params: dict, files: dict) -> bool:
        return True

    def _api_generic(self, method: str, params: dict) -> Any:
        """A method this fake does not model: accept it, shaped by what it returns."""
        returns = self.schema.methods[method].get("returns", ["Boolean"])
        if returns[0] == "Message" and "chat_id" in params:
            return self._new_bot_message(self._writable_chat(params["chat_id"]), {}, params)
        return self._synthesize(returns[0], depth=0)

    def _synthesize(self, kind: str, depth: int) -> Any:
        """The smallest value of a schema type that python-telegram-bot can parse."""
        primitives = {"Boolean": True, "True": True, "Integer": self.new_id(), "Float": 0.0, "String": "fake"}
        if kind in primitives:
            return primitives[kind]
        if kind.startswith("Array of") or depth > 4:
            return []
        spec = self.schema.types.get(kind, {})
        if "subtypes" in spec:
            return self._synthesize(spec["subtypes"][0], depth + 1)
        if kind == "Chat":
            return {"id": self.bot_id, "type": "private", "first_name": "fake"}
        if kind == "User":
            return self.bot_user
        return {f["name"]: self._synthesize(f["types"][0], depth + 1) for f in spec.get("fields", []) if f["required"]}


def _inline_result_content(result: dict) -> dict[str, Any]:
    """What an inline result puts in the chat (InputMessageContent or the result itself)."""
    content = result.get("input_message_content")
    if content is None:
        if result.get("type") in ("location", "venue"):
            content = result
        else:
            return {"text": result.get("title", "")}
    location = {"latitude": content.get("latitude"), "longitude": content.get("longitude")}
    if "message_text" in content:
        text = content["message_text"]
        if (content.get("parse_mode") or "").lower() == "html":
            parsed = strip_edges(parse_html(text))
        else:
            parsed = strip_edges(ParsedText(text, list(content.get("entities") or [])))
        message: dict[str, Any] = {"text": parsed.text}
        if parsed.entities:
            message["entities"] = parsed.entities
        return message
    if "address" in content:
        return {
            "location": location,
            "venue": {"location": location, "title": content.get("title", ""), "address": content["address"]},
        }
    if "phone_number" in content:
        return {"contact": {"phone_number": content["phone_number"], "first_name": content.get("first_name", "")}}
    if content.get("latitude") is not None:
        return {"location": location}
    return {"text": result.get("title", "")}


def _failure_response(failure: InjectedFailure) -> http.Response | None:
    if failure.status is None:
        return None  # the connection is closed without an answer
    if failure.body is not None:
        return http.Response(failure.status, failure.body, "application/json")
    phrase = HTTPStatus(failure.status).phrase
    page = _GATEWAY_PAGE.format(status=failure.status, phrase=phrase)
    return http.Response(failure.status, page.encode(), "text/html")


def _failure_text(failure: InjectedFailure) -> str:
    lost = "connection closed without an answer" if failure.status is None else f"HTTP {failure.status} page"
    return f"injected failure: {lost}" + (" (after the call took effect)" if failure.processed else "")


def _json_response(status: int, body: dict) -> http.Response:
    try:
        encoded = json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate a test sent: JSON carries it escaped, as "\ud800"
        encoded = json.dumps(body).encode("ascii")
    return http.Response(status, encoded, "application/json")


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


def _private_chat(user: dict) -> dict:
    chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    for key in ("last_name", "username"):
        if user.get(key):
            chat[key] = user[key]
    return chat


def _parameters(request: http.Request) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    """Bot API parameters from the query string and a JSON, form or multipart body."""
    raw: dict[str, Any] = dict(parse_qsl(request.query, keep_blank_values=True))
    files: dict[str, tuple[str, bytes]] = {}
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        if request.body.strip():
            body = json.loads(request.body)
            if not isinstance(body, dict):
                raise ValueError("a JSON body must be an object")
            raw.update(body)
    elif content_type.startswith("application/x-www-form-urlencoded"):
        raw.update(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
    elif content_type.startswith("multipart/form-data"):
        body_args: dict[str, list[bytes]] = {}
        uploads: dict[str, list[tornado.httputil.HTTPFile]] = {}
        tornado.httputil.parse_body_arguments(content_type, request.body, body_args, uploads)
        raw.update({k: v[-1].decode("utf-8") for k, v in body_args.items()})
        for name, parts in uploads.items():
            files[name] = (parts[-1].filename or name, parts[-1].body)
            raw.setdefault(name, f"attach://{name}")
    return raw, files
