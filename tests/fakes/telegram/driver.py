"""Play people talking to the bot through the fake Bot API server.

Every wait is async and never blocks the event loop, so the bot under test may poll the server from
the same loop as the test:

    ada = telegram.user("Ada", language_code="en")
    await ada.send_text("/start")
    welcome = await ada.wait_for_message()
    assert "Send my location" in ada.reply_keyboard_labels
    await ada.press_keyboard_button("Send my location", location=(45.5122, -122.6587))
    results = await ada.wait_for_message(containing="kW")
    press = await ada.press(results, "Next ›")
    await press.answered()
    page2 = await ada.wait_for_edit(results)

A `MessageView` is a snapshot; `chat.message(view)` or `wait_for_edit()` give a fresh one.
"""

# The wait helpers take timeout= because that reads best in a test (wait_for_message(timeout=5)).
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ocm_bot.demo.formatting import entities_to_html, utf16_len

from .server import FakeTelegramServer, StoredMessage

DEFAULT_TIMEOUT = 5.0
_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_URL_RE = re.compile(r"https?://[^\s<>\"]+")
_MENTION_RE = re.compile(r"(?<![\w@/])@[A-Za-z][A-Za-z0-9_]{3,31}\b")  # not the @bot of /cmd@bot
Label = str | re.Pattern[str]


@dataclass(frozen=True)
class Button:
    """One button as a person sees it; `kind` is the action field (callback_data, url, ...)."""

    text: str
    kind: str
    value: Any
    raw: dict

    @property
    def callback_data(self) -> str | None:
        return self.value if self.kind == "callback_data" else None

    @property
    def url(self) -> str | None:
        return self.value if self.kind == "url" else None


@dataclass(frozen=True, repr=False)
class MessageView:
    """A message in a chat as a person sees it at one moment."""

    chat_id: int
    message_id: int
    from_bot: bool
    text: str | None  # text or caption, after parse_mode (what is displayed)
    html: str | None  # the same as Telegram HTML (entities rendered back to tags)
    keyboard: tuple[tuple[Button, ...], ...]  # inline keyboard rows
    reply_keyboard: tuple[tuple[Button, ...], ...] | None  # custom keyboard sent with it
    removes_reply_keyboard: bool
    edits: int
    deleted: bool
    raw: dict = field(repr=False)
    source: str | None = field(default=None, repr=False)  # text exactly as the bot sent it

    @property
    def buttons(self) -> list[Button]:
        return [button for row in self.keyboard for button in row]

    @property
    def labels(self) -> list[str]:
        return [button.text for button in self.buttons]

    @property
    def url_buttons(self) -> dict[str, str]:
        return {b.text: b.value for b in self.buttons if b.kind == "url"}

    @property
    def callback_buttons(self) -> dict[str, str]:
        return {b.text: b.value for b in self.buttons if b.kind == "callback_data"}

    @property
    def location(self) -> dict | None:
        return self.raw.get("location")

    @property
    def venue(self) -> dict | None:
        return self.raw.get("venue")

    @property
    def photo(self) -> list[dict] | None:
        return self.raw.get("photo")

    @property
    def entities(self) -> list[dict]:
        return self.raw.get("entities") or self.raw.get("caption_entities") or []

    def button(self, label: Label) -> Button:
        """The inline button whose text is `label`, else contains it, else matches the regex."""
        return _find_button(self.buttons, label, self)

    def __str__(self) -> str:
        text = self.text if self.text is not None else _describe_content(self.raw)
        labels = f" {self.labels}" if self.keyboard else ""
        reply = [b.text for row in self.reply_keyboard or () for b in row]
        keyboard = f" keyboard {reply}" if reply else ""
        edited = f" (edited {self.edits}x)" if self.edits else ""
        deleted = " (deleted)" if self.deleted else ""
        return f"#{self.message_id}{edited}{deleted}: {text!r}{labels}{keyboard}"

    def __repr__(self) -> str:
        return f"MessageView({self})"


@dataclass(frozen=True)
class CallbackAnswer:
    text: str | None
    show_alert: bool
    url: str | None


@dataclass
class PressedButton:
    """A callback query sent by pressing an inline button."""

    id: str
    data: str
    message: MessageView
    _server: FakeTelegramServer = field(repr=False)

    async def answered(self, timeout: float = DEFAULT_TIMEOUT) -> CallbackAnswer:
        """Wait for the bot's answerCallbackQuery (Telegram clients show a spinner until then)."""

        def answer() -> CallbackAnswer | None:
            state = self._server.callback_queries.get(self.id)
            if state is None or state.answer is None:
                return None
            return CallbackAnswer(
                state.answer.get("text"), bool(state.answer.get("show_alert")), state.answer.get("url")
            )

        return await _wait(
            self._server,
            answer,
            timeout,
            lambda: f"the bot did not answer the callback query {self.data!r} within {timeout} s",
        )


@dataclass(frozen=True)
class InlineAnswer:
    """The bot's answerInlineQuery: results as the person sees them in the inline popup."""

    query_id: str
    results: list[dict]
    raw: dict

    @property
    def titles(self) -> list[str]:
        return [r.get("title", "") for r in self.results]

    def result(self, which: int | str) -> dict:
        """A result by position, id, or (part of) its title."""
        if isinstance(which, int):
            return self.results[which]
        for match in (
            lambda r: r.get("id") == which,
            lambda r: r.get("title") == which,
            lambda r: which in r.get("title", ""),
        ):
            found = [r for r in self.results if match(r)]
            if len(found) == 1:
                return found[0]
        raise AssertionError(f"no single inline result {which!r}; titles: {self.titles}")


@dataclass(frozen=True)
class GuestQuery:
    """A guest message sent to the bot; ``await answered()`` is the message the bot's answer posted."""

    server: FakeTelegramServer
    id: str
    chat: ChatObserver

    async def answered(self, timeout: float = DEFAULT_TIMEOUT) -> MessageView:
        def posted() -> MessageView | None:
            state = self.server.guest_queries[self.id]
            if state.answer is None or state.inline_message_id is None:
                return None
            _, message_id = self.server.inline_messages[state.inline_message_id]
            return self.chat.message(message_id)

        return await _wait(
            self.server,
            posted,
            timeout,
            lambda: f"the bot did not answer the guest query {self.id} within {timeout} s.\n{self.chat.describe()}",
        )


class ChatObserver:
    """What a person sees in one chat; also what the bot sent there, in order."""

    def __init__(self, server: FakeTelegramServer, chat_id: int, name: str) -> None:
        self.server = server
        self.chat_id = chat_id
        self.name = name
        self._seen_up_to = 0  # highest bot message id returned by wait_for_message

    # --- the chat now ---------------------------------------------------------------------------

    @property
    def messages(self) -> list[MessageView]:
        """The bot's messages still in the chat, edits applied, oldest first."""
        return [self._view(m) for m in self.server.stored_messages(self.chat_id) if m.from_bot and not m.deleted]

    @property
    def history(self) -> list[MessageView]:
        """Every message still in the chat (the person's own too), oldest first."""
        return [self._view(m) for m in self.server.stored_messages(self.chat_id) if not m.deleted]

    @property
    def last_message(self) -> MessageView | None:
        messages = self.messages
        return messages[-1] if messages else None

    def message(self, message: MessageView | int) -> MessageView:
        """A fresh view of a message (also of a deleted one)."""
        message_id = message if isinstance(message, int) else message.message_id
        with self.server._lock:
            stored = self.server.chats[self.chat_id].messages[message_id]
            return self._view(stored)

    @property
    def reply_keyboard(self) -> tuple[tuple[Button, ...], ...] | None:
        """The custom keyboard under the input field (the last one the bot sent), if any."""
        for stored in reversed(self.server.stored_messages(self.chat_id)):
            keyboard = stored.reply_keyboard
            if not stored.from_bot or keyboard is None:
                continue
            if "keyboard" in keyboard:
                return _rows(keyboard["keyboard"])
            if keyboard.get("remove_keyboard"):
                return None
        return None

    @property
    def reply_keyboard_labels(self) -> list[str]:
        return [b.text for row in self.reply_keyboard or () for b in row]

    # --- waiting --------------------------------------------------------------------------------

    async def wait_for_message(
        self,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        containing: str | None = None,
        matching: str | re.Pattern[str] | None = None,
        where: Callable[[MessageView], bool] | None = None,
    ) -> MessageView:
        """The next message the bot sends here that this test has not seen yet.

        With a filter, earlier unseen messages that don't match are passed over (so a "Searching…"
        placeholder does not make the test flaky). Raises AssertionError naming what the bot did
        send if nothing fits in time.
        """
        return (await self.wait_for_messages(1, timeout, containing=containing, matching=matching, where=where))[0]

    async def wait_for_messages(
        self,
        count: int,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        containing: str | None = None,
        matching: str | re.Pattern[str] | None = None,
        where: Callable[[MessageView], bool] | None = None,
    ) -> list[MessageView]:
        accept = _message_filter(containing, matching, where)

        def new_messages() -> list[MessageView] | None:
            found = []
            for stored in self.server.stored_messages(self.chat_id):
                if not stored.from_bot or stored.message["message_id"] <= self._seen_up_to:
                    continue
                view = self._view(stored)
                if not view.deleted and accept(view):
                    found.append(view)
                    if len(found) == count:
                        return found
            return None

        what = "message" if count == 1 else f"{count} messages"
        condition = f" {_describe_filter(containing, matching, where)}" if accept is not _any else ""
        found = await _wait(
            self.server,
            new_messages,
            timeout,
            lambda: f"{self.name}: the bot sent no new {what}{condition} within {timeout} s.\n{self.describe()}",
        )
        self._seen_up_to = max(self._seen_up_to, found[-1].message_id)
        return found

    async def wait_for_edit(
        self,
        message: MessageView,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        containing: str | None = None,
        where: Callable[[MessageView], bool] | None = None,
    ) -> MessageView:
        """Wait until the bot edits `message` (after this snapshot was taken); the new view."""
        accept = _message_filter(containing, None, where)

        def edited() -> MessageView | None:
            view = self.message(message)
            return view if view.edits > message.edits and accept(view) else None

        return await _wait(
            self.server,
            edited,
            timeout,
            lambda: f"{self.name}: the bot did not edit {message} within {timeout} s.\n{self.describe()}",
        )

    async def wait_for_deletion(self, message: MessageView, timeout: float = DEFAULT_TIMEOUT) -> None:
        await _wait(
            self.server,
            lambda: True if self.message(message).deleted else None,
            timeout,
            lambda: f"{self.name}: the bot did not delete {message} within {timeout} s",
        )

    async def wait_until(
        self, condition: Callable[[], Any], timeout: float = DEFAULT_TIMEOUT, what: str = "condition"
    ) -> Any:
        """Wait until `condition()` returns something truthy (re-checked on every change)."""
        return await _wait(
            self.server,
            lambda: condition() or None,
            timeout,
            lambda: f"{self.name}: {what} not met within {timeout} s.\n{self.describe()}",
        )

    async def expect_silence(self, within: float = 0.3) -> None:
        """Assert the bot sends nothing new here: it answered every update and stayed quiet.

        A bot in the test's process (registered with ``server.watch_bot``) is drained: the check runs
        once it has fetched and answered every update, however long that takes. Only for a bot in
        another process, which nothing here can watch, does it also keep watching for ``within`` seconds.
        """
        before = self._seen_up_to
        self.mark_all_seen()
        unseen_before = self._seen_up_to
        self._seen_up_to = before

        def check() -> None:
            spoken = [
                m
                for m in self.server.stored_messages(self.chat_id)
                if m.from_bot and m.message["message_id"] > unseen_before
            ]
            if spoken:
                raise AssertionError(
                    f"{self.name}: expected no answer, the bot sent {self._view(spoken[0])}.\n{self.describe()}"
                )

        await _until_idle(
            self.server, 5, lambda: f"{self.name}: the bot did not answer its updates.\n{self.describe()}"
        )
        check()
        if self.server.watches_bots:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while (remaining := deadline - loop.time()) > 0:
            version = self.server.version
            check()
            await self.server.wait_for_change(version, remaining)
        check()

    def mark_all_seen(self) -> None:
        """Let wait_for_message ignore everything the bot sent so far."""
        for stored in self.server.stored_messages(self.chat_id):
            if stored.from_bot:
                self._seen_up_to = max(self._seen_up_to, stored.message["message_id"])

    def describe(self) -> str:
        """The chat and the bot's recent requests and errors, for failure messages."""
        lines = [f"Chat {self.chat_id} ({self.name}):"]
        for stored in self.server.stored_messages(self.chat_id):
            who = "bot" if stored.from_bot else stored.message.get("from", {}).get("first_name")
            lines.append(f"  {who}: {self._view(stored)}")
        with self.server._lock:
            recent = [r for r in self.server.requests if r.method != "getUpdates"][-8:]
            errors = self.server.errors[-5:]
            violations = list(self.server.violations)
        if recent:
            lines.append(
                "Bot's last requests: "
                + "; ".join(f"{r.method}({_short(r.params)}) -> {'ok' if r.ok else r.error}" for r in recent)
            )
        if errors:
            lines.append(f"Error answers: {errors}")
        if violations:
            lines.append("Bot API violations: " + "; ".join(map(str, violations)))
        return "\n".join(lines)

    def _view(self, stored: StoredMessage) -> MessageView:
        with self.server._lock:  # the server thread may be editing this message
            return self._view_locked(stored)

    def _view_locked(self, stored: StoredMessage) -> MessageView:
        raw = stored.message
        text = raw.get("text", raw.get("caption"))
        entities = raw.get("entities") or raw.get("caption_entities") or []
        keyboard = stored.reply_keyboard or {}
        return MessageView(
            chat_id=self.chat_id,
            message_id=raw["message_id"],
            from_bot=stored.from_bot,
            text=text,
            html=entities_to_html(text, entities) if text is not None else None,
            keyboard=_rows((raw.get("reply_markup") or {}).get("inline_keyboard", [])),
            reply_keyboard=_rows(keyboard["keyboard"]) if "keyboard" in keyboard else None,
            removes_reply_keyboard=bool(keyboard.get("remove_keyboard")),
            edits=stored.edits,
            deleted=stored.deleted,
            raw=_copy(raw),
            source=stored.source_text,
        )


class FakeUser(ChatObserver):
    """A person with a private chat with the bot.

    ada = telegram.user("Ada", language_code="de")
    await ada.send_text("/start")
    menu = await ada.wait_for_message()
    await ada.press(menu, "Settings")
    """

    def __init__(self, server: FakeTelegramServer, user: dict) -> None:
        super().__init__(server, user["id"], user["first_name"])
        self.user = user
        self.id = user["id"]
        server.add_user(user)
        self._live: dict[int, int] = {}  # chat id -> message id of my live location

    # --- sending --------------------------------------------------------------------------------

    async def send_text(
        self, text: str, *, chat: ChatObserver | None = None, reply_to: MessageView | None = None
    ) -> MessageView:
        """Type a message ("/start poi-123" is a command: it gets a bot_command entity)."""
        content: dict[str, Any] = {"text": text}
        entities = _auto_entities(text)
        if entities:
            content["entities"] = entities
        return await self._send(content, chat, reply_to)

    async def edit_text(self, message: MessageView, text: str) -> MessageView:
        """Edit one of your own text messages: the bot gets an edited_message update."""
        changes: dict[str, Any] = {"text": text, "entities": _auto_entities(text) or None}
        self.server.user_edits_message(message.chat_id, message.message_id, changes)
        await asyncio.sleep(0)
        return self._observer_for(message.chat_id).message(message.message_id)

    async def send_text_in(self, group: ChatObserver, text: str) -> MessageView:
        return await self.send_text(text, chat=group)

    async def send_location(
        self,
        latitude: float,
        longitude: float,
        *,
        horizontal_accuracy: float | None = None,
        chat: ChatObserver | None = None,
        reply_to: MessageView | None = None,
    ) -> MessageView:
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        if horizontal_accuracy is not None:
            location["horizontal_accuracy"] = horizontal_accuracy
        return await self._send({"location": location}, chat, reply_to)

    async def send_live_location(
        self,
        latitude: float,
        longitude: float,
        *,
        live_period: int = 900,
        heading: int | None = None,
        chat: ChatObserver | None = None,
    ) -> MessageView:
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude, "live_period": live_period}
        if heading is not None:
            location["heading"] = heading
        view = await self._send({"location": location}, chat, None)
        self._live[view.chat_id] = view.message_id
        return view

    async def move_live_location(
        self, latitude: float, longitude: float, *, heading: int | None = None, chat: ChatObserver | None = None
    ) -> MessageView:
        """The live location moves: the bot gets an edited_message update."""
        chat_id = chat.chat_id if chat else self.chat_id
        message_id = self._live[chat_id]
        location = dict(self.server.chat(chat_id).messages[message_id].message["location"])
        location.update(latitude=latitude, longitude=longitude)
        if heading is not None:
            location["heading"] = heading
        self.server.user_edits_message(chat_id, message_id, {"location": location})
        await asyncio.sleep(0)
        return self._observer(chat).message(message_id)

    async def stop_live_location(self, *, chat: ChatObserver | None = None) -> MessageView:
        chat_id = chat.chat_id if chat else self.chat_id
        message_id = self._live.pop(chat_id)
        location = dict(self.server.chat(chat_id).messages[message_id].message["location"])
        # Telegram's last edit of a stopped live location no longer carries live_period.
        for live_only in ("live_period", "heading", "proximity_alert_radius"):
            location.pop(live_only, None)
        self.server.user_edits_message(chat_id, message_id, {"location": location})
        await asyncio.sleep(0)
        return self._observer(chat).message(message_id)

    async def send_venue(
        self,
        latitude: float,
        longitude: float,
        title: str,
        address: str,
        *,
        chat: ChatObserver | None = None,
        **extra: str,
    ) -> MessageView:
        location = {"latitude": latitude, "longitude": longitude}
        venue = {"location": location, "title": title, "address": address, **extra}
        return await self._send({"venue": venue, "location": location}, chat, None)

    async def send_contact(
        self, phone_number: str, first_name: str, *, user_id: int | None = None, chat: ChatObserver | None = None
    ) -> MessageView:
        contact: dict[str, Any] = {"phone_number": phone_number, "first_name": first_name}
        if user_id is not None:
            contact["user_id"] = user_id
        return await self._send({"contact": contact}, chat, None)

    async def send_photo(
        self,
        caption: str | None = None,
        *,
        chat: ChatObserver | None = None,
        content: bytes | None = None,
        reply_to: MessageView | None = None,
    ) -> MessageView:
        """Send a photo; with ``content`` the bot can download it (getFile + the file URL)."""
        file_id = f"user-photo-{self.server.new_id()}"
        size = {"width": 1280, "height": 960}
        if content is not None:
            self.server.add_file(file_id, f"photos/{file_id}.jpg", content)
            size["file_size"] = len(content)
        message: dict[str, Any] = {"photo": [{"file_id": file_id, "file_unique_id": file_id[-16:], **size}]}
        if caption:
            message["caption"] = caption
        return await self._send(message, chat, reply_to)

    async def send_file(
        self,
        kind: str,
        *,
        content: bytes | None = None,
        file_size: int | None = None,
        mime_type: str | None = None,
        file_name: str | None = None,
        caption: str | None = None,
        reply_to: MessageView | None = None,
        chat: ChatObserver | None = None,
    ) -> MessageView:
        """Send a ``document``, ``video``, ``animation`` or ``sticker``; ``content`` makes it downloadable,
        ``file_size`` alone describes a file the bot must not need to download (a 40 MB video)."""
        file_id = f"user-{kind}-{self.server.new_id()}"
        described: dict[str, Any] = {"file_id": file_id, "file_unique_id": file_id[-16:]}
        if content is not None:
            self.server.add_file(file_id, f"{kind}s/{file_id}_{file_name or 'file'}", content)
            described["file_size"] = len(content)
        if file_size is not None:
            described["file_size"] = file_size
        if mime_type is not None and kind != "sticker":
            described["mime_type"] = mime_type
        if file_name is not None and kind in ("document", "animation", "video"):
            described["file_name"] = file_name
        if kind in ("video", "animation"):
            described.update(width=640, height=480, duration=12)
        if kind == "sticker":
            described.update(type="regular", width=512, height=512, is_animated=False, is_video=False)
        message: dict[str, Any] = {kind: described}
        if kind == "animation":  # Telegram sends a GIF as an animation and a document
            message["document"] = {k: v for k, v in described.items() if k not in ("width", "height", "duration")}
        if caption:
            message["caption"] = caption
        return await self._send(message, chat, reply_to)

    async def forward(
        self,
        *,
        text: str | None = None,
        location: tuple[float, float] | None = None,
        from_user: FakeUser | None = None,
        sender_name: str | None = None,
        chat: ChatObserver | None = None,
    ) -> MessageView:
        """Forward a text or a location someone else sent (forward_origin set)."""
        origin: dict[str, Any]
        if from_user is not None:
            origin = {"type": "user", "date": int(time.time()) - 60, "sender_user": from_user.user}
        else:
            origin = {
                "type": "hidden_user",
                "date": int(time.time()) - 60,
                "sender_user_name": sender_name or "Someone",
            }
        content: dict[str, Any] = {"forward_origin": origin}
        if text is not None:
            content["text"] = text
        if location is not None:
            content["location"] = {"latitude": location[0], "longitude": location[1]}
        return await self._send(content, chat, None)

    async def _send(self, content: dict, chat: ChatObserver | None, reply_to: MessageView | None) -> MessageView:
        target = chat.chat_id if chat else self.chat_id
        if reply_to is not None:
            stored = self.server.chat(target).messages[reply_to.message_id]
            content = {**content, "reply_to_message": _copy(stored.message)}
        if target == self.chat_id and self.server.chat(target).blocked:
            self.server.set_bot_status(target, "member", self.user)  # writing again unblocks
        message = self.server.user_message(target, self.user, content)
        await asyncio.sleep(0)
        return self._observer(chat).message(message["message_id"])

    def _observer(self, chat: ChatObserver | None) -> ChatObserver:
        return chat or self

    # --- buttons --------------------------------------------------------------------------------

    async def press(self, message: MessageView, label: Label) -> PressedButton:
        """Press an inline button of the message as it is now (label: exact, substring, regex)."""
        current = self._observer_for(message.chat_id).message(message)
        if current.deleted:
            raise AssertionError(f"{self.name} cannot press {label!r}: {message} was deleted")
        button = current.button(label)
        if button.kind != "callback_data":
            raise AssertionError(f"{button.text!r} is a {button.kind} button, not a callback button ({button.value!r})")
        query_id = self.server.new_callback_query(self.user, current.chat_id, current.message_id, button.value)
        await asyncio.sleep(0)
        return PressedButton(query_id, button.value, current, self.server)

    async def press_keyboard_button(
        self, label: Label, *, location: tuple[float, float] | None = None, chat: ChatObserver | None = None
    ) -> MessageView:
        """Tap a button of the custom keyboard: a text, or your location / contact if it asks."""
        observer = self._observer(chat)
        keyboard = observer.reply_keyboard
        if keyboard is None:
            raise AssertionError(f"{self.name} has no custom keyboard to press {label!r} on.\n{observer.describe()}")
        button = _find_button([b for row in keyboard for b in row], label, None)
        if button.kind == "request_location":
            if location is None:
                raise AssertionError(f"{button.text!r} shares a location: pass location=(lat, lon)")
            return await self.send_location(*location, chat=chat)
        if button.kind == "request_contact":
            return await self.send_contact("+15035550100", self.user["first_name"], user_id=self.id, chat=chat)
        return await self.send_text(button.text, chat=chat)

    def _observer_for(self, chat_id: int) -> ChatObserver:
        if chat_id == self.chat_id:
            return self
        return ChatObserver(self.server, chat_id, f"chat {chat_id}")

    # --- inline mode ----------------------------------------------------------------------------

    async def send_inline_query(
        self,
        query: str,
        *,
        offset: str = "",
        chat_type: str | None = "sender",
        location: tuple[float, float] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> InlineAnswer:
        """Type "@bot query" in a chat; waits for answerInlineQuery and returns the results."""
        where = {"latitude": location[0], "longitude": location[1]} if location else None
        query_id = self.server.new_inline_query(self.user, query, offset, chat_type, where)

        def answer() -> InlineAnswer | None:
            state = self.server.inline_queries[query_id]
            if state.answer is None:
                return None
            return InlineAnswer(query_id, list(state.answer.get("results", [])), dict(state.answer))

        return await _wait(
            self.server,
            answer,
            timeout,
            lambda: f"the bot did not answer the inline query {query!r} within {timeout} s.\n{self.describe()}",
        )

    async def type_inline_query(
        self,
        query: str,
        *,
        chat_type: str | None = "sender",
        location: tuple[float, float] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> InlineAnswer:
        """Type "@bot query" letter by letter, as Telegram sends it: one inline query per keystroke,
        all at once; waits for the answer to the whole query (the earlier ones may go unanswered)."""
        where = {"latitude": location[0], "longitude": location[1]} if location else None
        for end in range(1, len(query)):
            self.server.new_inline_query(self.user, query[:end], "", chat_type, where)
        return await self.send_inline_query(query, chat_type=chat_type, location=location, timeout=timeout)

    async def choose_inline_result(
        self, answer: InlineAnswer, which: int | str = 0, *, chat: ChatObserver | None = None
    ) -> MessageView:
        """Pick a result: it is posted "via @bot" in `chat` (default: the chat with the bot).

        With an inline keyboard it becomes an inline message: button presses reach the bot with
        inline_message_id, and the bot edits it by that id. The bot gets chosen_inline_result
        only if the server has inline_feedback=True (BotFather's /setinlinefeedback).
        """
        target = chat or self
        message = self.server.choose_inline_result(self.user, answer.query_id, answer.result(which), target.chat_id)
        await asyncio.sleep(0)
        return target.message(message["message_id"])

    # --- guest mode (Bot API 10.0) --------------------------------------------------------------

    async def send_guest_message(self, chat: ChatObserver, text: str) -> GuestQuery:
        """Call the bot in a chat it has not joined ("@bot CCS near Leeds"): a ``guest_message``
        update with a ``guest_query_id``. The bot's answerGuestQuery posts one message in ``chat``."""
        query_id = self.server.new_guest_message(self.user, chat.chat_id, text, _auto_entities(text))
        await asyncio.sleep(0)
        return GuestQuery(self.server, query_id, chat)

    # --- the relationship with the bot ----------------------------------------------------------

    async def block_bot(self) -> None:
        """Block the bot: it gets my_chat_member (kicked) and 403 on every send."""
        self.server.set_bot_status(self.chat_id, "kicked", self.user)
        await asyncio.sleep(0)

    async def unblock_bot(self) -> None:
        self.server.set_bot_status(self.chat_id, "member", self.user)
        await asyncio.sleep(0)


class FakeGroup(ChatObserver):
    """A group (a supergroup by default) with members and admins; the bot joins when added.

    club = telegram.group("EV Club", members=[ada, bob], admins=[ada])
    await club.add_bot(by=ada)
    await ada.send_text_in(club, "/subscribe")
    reply = await club.wait_for_message()
    """

    def __init__(
        self,
        server: FakeTelegramServer,
        title: str,
        members: Iterable[FakeUser],
        admins: Iterable[FakeUser],
        owner: FakeUser | None,
        supergroup: bool,
    ) -> None:
        group_id = -(10**12 + server.new_id()) if supergroup else -(10**5 + server.new_id())
        super().__init__(server, group_id, title)
        self.title = title
        admins = list(admins)
        owner = owner or (admins[0] if admins else None)
        roles: dict[int, str] = {}
        for user in [*members, *admins]:
            roles[user.id] = "administrator" if user in admins else "member"
        if owner is not None:
            roles[owner.id] = "creator"
        chat = {"id": group_id, "type": "supergroup" if supergroup else "group", "title": title}
        server.add_group(chat, roles)

    async def add_bot(self, by: FakeUser, *, as_admin: bool = False) -> None:
        """`by` adds the bot: my_chat_member, then the new_chat_members service message."""
        self.server.set_bot_status(self.chat_id, "administrator" if as_admin else "member", by.user)
        self.server.user_message(self.chat_id, by.user, {"new_chat_members": [self.server.bot_user]})
        await asyncio.sleep(0)

    async def remove_bot(self, by: FakeUser) -> None:
        self.server.set_bot_status(self.chat_id, "kicked", by.user)
        await asyncio.sleep(0)

    async def promote_bot(self, by: FakeUser) -> None:
        self.server.set_bot_status(self.chat_id, "administrator", by.user)
        await asyncio.sleep(0)

    async def demote_bot(self, by: FakeUser) -> None:
        self.server.set_bot_status(self.chat_id, "member", by.user)
        await asyncio.sleep(0)

    async def add_member(self, user: FakeUser, *, admin: bool = False) -> None:
        with self.server._lock:
            self.server.chat(self.chat_id).members[user.id] = "administrator" if admin else "member"
        self.server.user_message(self.chat_id, user.user, {"new_chat_members": [user.user]})
        await asyncio.sleep(0)

    async def remove_member(self, user: FakeUser) -> None:
        with self.server._lock:
            self.server.chat(self.chat_id).members[user.id] = "left"
        self.server.user_message(self.chat_id, user.user, {"left_chat_member": user.user})
        await asyncio.sleep(0)

    async def upgrade_to_supergroup(self, by: FakeUser) -> None:
        """Turn a basic group into a supergroup: the bot gets migrate_to/from_chat_id messages,
        sends to the old id fail with ChatMigrated, and this group takes the new id."""
        if self.server.chat(self.chat_id).type != "group":
            raise AssertionError(f"{self.title} is already a supergroup")
        new_id = -(10**12 + self.server.new_id())
        self.old_chat_id = self.chat_id
        self.server.upgrade_to_supergroup(self.chat_id, new_id, by.user)
        self.chat_id = new_id
        self._seen_up_to = 0
        await asyncio.sleep(0)

    def set_role(self, user: FakeUser, status: str) -> None:
        """ "creator", "administrator", "member", "restricted", "left" or "kicked"."""
        with self.server._lock:
            self.server.chat(self.chat_id).members[user.id] = status

    @property
    def bot_status(self) -> str:
        return self.server.chat(self.chat_id).bot_status


class TelegramDriver:
    """Creates the people and groups of a test, all talking to one fake server.

    telegram.user("Ada")                       # FakeUser with a private chat
    telegram.group("EV Club", members=[ada, bob], admins=[ada])
    """

    def __init__(self, server: FakeTelegramServer) -> None:
        self.server = server

    @property
    def token(self) -> str:
        return self.server.token

    @property
    def api_url(self) -> str:
        return self.server.api_url

    def user(
        self,
        first_name: str = "Ada",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        is_premium: bool | None = None,
        user_id: int | None = None,
    ) -> FakeUser:
        user: dict[str, Any] = {
            "id": user_id or 10**8 + self.server.new_id(),
            "is_bot": False,
            "first_name": first_name,
        }
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        if is_premium:
            user["is_premium"] = True
        return FakeUser(self.server, user)

    def group(
        self,
        title: str = "EV Club",
        *,
        members: Iterable[FakeUser] = (),
        admins: Iterable[FakeUser] = (),
        owner: FakeUser | None = None,
        supergroup: bool = True,
    ) -> FakeGroup:
        return FakeGroup(self.server, title, members, admins, owner, supergroup)

    async def wait_for_request(
        self,
        method: str,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        after: int | None = None,
        where: Callable[[dict], bool] | None = None,
    ) -> dict:
        """Wait for the bot's next call of `method` (after request number `after`, default now)."""
        start = len(self.server.requests) if after is None else after

        def found() -> dict | None:
            with self.server._lock:
                for request in self.server.requests[start:]:
                    if request.method.lower() == method.lower() and (where is None or where(request.params)):
                        return request.params
            return None

        return await _wait(self.server, found, timeout, lambda: f"the bot did not call {method} within {timeout} s")

    async def wait_for_updates_consumed(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until the bot has confirmed every queued update (the next getUpdates offset)."""
        await _wait(
            self.server,
            lambda: True if not self.server._pending else None,
            timeout,
            lambda: f"the bot left {len(self.server._pending)} updates unconsumed",
        )

    async def wait_until_idle(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Drain the bot: wait until it fetched every update and answered it (see server.bot_is_idle)."""
        await _until_idle(self.server, timeout, lambda: f"the bot did not answer its updates within {timeout} s")

    def unanswered_callback_queries(self) -> list[str]:
        with self.server._lock:
            return [q.data or "" for q in self.server.callback_queries.values() if q.answer is None]


# --- helpers ------------------------------------------------------------------------------------


async def _wait(
    server: FakeTelegramServer, probe: Callable[[], Any], timeout: float, explain: Callable[[], str]
) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        version = server.version
        result = probe()
        if result is not None:
            return result
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError(explain())
        await server.wait_for_change(version, remaining)


IDLE_RECHECK = 0.005  # a handler can finish without a Bot API call: re-check the bot this often


async def _until_idle(server: FakeTelegramServer, timeout: float, explain: Callable[[], str]) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        version = server.version
        if server.bot_is_idle():
            return
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError(explain())
        await server.wait_for_change(version, min(remaining, IDLE_RECHECK))


def _rows(rows: list) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(_button(b) for b in row) for row in rows)


def _button(raw: dict | str) -> Button:
    if isinstance(raw, str):  # a KeyboardButton may be a bare string
        return Button(raw, "text", None, {"text": raw})
    action = next((k for k in raw if k not in ("text", "icon_custom_emoji_id", "style")), "text")
    return Button(raw["text"], action, raw.get(action), raw)


def _find_button(buttons: list[Button], label: Label, message: MessageView | None) -> Button:
    if isinstance(label, re.Pattern):
        found = [b for b in buttons if label.search(b.text)]
    else:
        found = [b for b in buttons if b.text == label] or [b for b in buttons if label in b.text]
    if len(found) == 1:
        return found[0]
    where = f" on {message}" if message else ""
    labels = [b.text for b in buttons]
    if not found:
        raise AssertionError(f"no button {label!r}{where}; buttons: {labels}")
    raise AssertionError(f"{len(found)} buttons match {label!r}{where}: {[b.text for b in found]}; be more precise")


def _message_filter(
    containing: str | None, matching: str | re.Pattern[str] | None, where: Callable[[MessageView], bool] | None
) -> Callable[[MessageView], bool]:
    if containing is None and matching is None and where is None:
        return _any

    def accept(view: MessageView) -> bool:
        text = view.text or ""
        if containing is not None and containing not in text:
            return False
        if matching is not None and not re.search(matching, text):
            return False
        return where is None or where(view)

    return accept


def _any(view: MessageView) -> bool:
    return True


def _describe_filter(containing: Any, matching: Any, where: Any) -> str:
    parts = []
    if containing is not None:
        parts.append(f"containing {containing!r}")
    if matching is not None:
        parts.append(f"matching {matching!r}")
    if where is not None:
        parts.append("accepted by the where= filter")
    return " and ".join(parts)


def _auto_entities(text: str) -> list[dict]:
    """The entities Telegram detects in what a person types: commands, links and @username mentions."""
    entities = []
    for regex, kind in ((_COMMAND_RE, "bot_command"), (_URL_RE, "url"), (_MENTION_RE, "mention")):
        for match in regex.finditer(text):
            entities.append(
                {"type": kind, "offset": utf16_len(text[: match.start()]), "length": utf16_len(match.group(0))}
            )
    return sorted(entities, key=lambda e: e["offset"])


def _describe_content(raw: dict) -> str:
    for key in ("location", "venue", "photo", "contact", "document", "new_chat_members", "left_chat_member"):
        if key in raw:
            return f"<{key}>"
    return "<message>"


def _short(params: dict) -> str:
    parts = []
    for key, value in params.items():
        text = html.unescape(str(value))
        parts.append(f"{key}={text[:60]!r}" if len(text) > 60 else f"{key}={text!r}")
    return ", ".join(parts)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
