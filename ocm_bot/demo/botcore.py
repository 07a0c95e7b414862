"""The Bot API core the demo and the test suite's fake Bot API server share.

What Telegram does with a bot's messages, whatever the transport: its error answers
(:class:`TelegramErrors`, :class:`ApiError`); the chats (:class:`Chat`) and their messages with
ids, text and entities, reply markup (:class:`StoredMessage`); the edit rule (:func:`apply_edit`:
an edit that changes nothing is refused as "message is not modified", which the bot must
handle); deletions; callback queries and their one answer (:class:`BotCore`).

The demo's in-memory Bot API (:mod:`ocm_bot.demo.botapi`) adds the terminal on top of it;
``tests/fakes/telegram/server.py`` adds HTTP, schema checking, members, long polling, webhooks and
fault injection. Neither keeps messages of its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ocm_bot.demo.formatting import ParsedText
from ocm_bot.errors import OcmBotError


class TelegramErrors:
    """Telegram's own error descriptions, for assertions and inject_error()."""

    NOT_MODIFIED = (
        "Bad Request: message is not modified: specified new message content and reply markup are"
        " exactly the same as a current content and reply markup of the message"
    )
    MESSAGE_TO_EDIT_NOT_FOUND = "Bad Request: message to edit not found"
    MESSAGE_TO_DELETE_NOT_FOUND = "Bad Request: message to delete not found"
    MESSAGE_CANT_BE_EDITED = "Bad Request: message can't be edited"
    NO_TEXT_TO_EDIT = "Bad Request: there is no text in the message to edit"
    NO_CAPTION_TO_EDIT = "Bad Request: there is no caption in the message to edit"
    CHAT_NOT_FOUND = "Bad Request: chat not found"
    USER_NOT_FOUND = "Bad Request: user not found"
    BLOCKED = "Forbidden: bot was blocked by the user"
    CANT_INITIATE = "Forbidden: bot can't initiate conversation with a user"
    TEXT_EMPTY = "Bad Request: message text is empty"
    TEXT_TOO_LONG = "Bad Request: message is too long"
    CAPTION_TOO_LONG = "Bad Request: message caption is too long"
    QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
    GET_UPDATES_WITH_WEBHOOK = (
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
    )
    GET_UPDATES_TERMINATED = (
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
    )
    MESSAGE_NOT_LIVE = "Bad Request: message can't be edited"
    MIGRATED = "Bad Request: group chat was upgraded to a supergroup chat"

    @staticmethod
    def too_many_requests(retry_after: int) -> str:
        return f"Too Many Requests: retry after {retry_after}"

    @staticmethod
    def kicked(chat_type: str) -> str:
        return f"Forbidden: bot was kicked from the {_group_word(chat_type)} chat"

    @staticmethod
    def not_member(chat_type: str) -> str:
        return f"Forbidden: bot is not a member of the {_group_word(chat_type)} chat"


def _group_word(chat_type: str) -> str:
    return {"group": "group", "supergroup": "supergroup", "channel": "channel"}.get(chat_type, "group")


class ApiError(OcmBotError):
    """A Telegram error answer: {"ok": false, "error_code": ..., "description": ...}."""

    def __init__(
        self, code: int, description: str, retry_after: int | None = None, migrate_to_chat_id: int | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def body(self) -> dict:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        parameters = {}
        if self.retry_after is not None:
            parameters["retry_after"] = self.retry_after
        if self.migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = self.migrate_to_chat_id
        if parameters:
            body["parameters"] = parameters
        return body


def apply_edit(
    message: dict[str, Any], changes: dict[str, Any], removed: tuple[str, ...], markup: Any
) -> dict[str, Any]:
    """Edit ``message`` in place as Telegram does and return it: ``changes`` set, ``removed`` keys
    dropped, the inline keyboard replaced by ``markup`` (removed unless it is one), ``edit_date``
    stamped. An edit that changes nothing raises :attr:`TelegramErrors.NOT_MODIFIED`."""
    before = {k: message.get(k) for k in (*changes, *removed, "reply_markup")}
    new_markup = markup if isinstance(markup, dict) and "inline_keyboard" in markup else None
    after = {**{k: None for k in removed}, **changes, "reply_markup": new_markup}
    if all(before.get(k) == after.get(k) for k in set(before) | set(after)):
        raise ApiError(400, TelegramErrors.NOT_MODIFIED)
    for key in removed:
        message.pop(key, None)
    message.update(changes)
    if new_markup is None:
        message.pop("reply_markup", None)
    else:
        message["reply_markup"] = new_markup
    message["edit_date"] = int(time.time())
    return message


@dataclass
class StoredMessage:
    """One message in a chat, as Telegram keeps it, plus what a person sees around it."""

    message: dict[str, Any]
    from_bot: bool
    source_text: str | None = None  # text or caption as the bot sent it (before parse_mode)
    parse_mode: str | None = None
    reply_keyboard: dict | None = None  # ReplyKeyboardMarkup / ReplyKeyboardRemove / ForceReply
    edits: int = 0
    deleted: bool = False
    live_until: float | None = None
    inline_message_id: str | None = None  # sent via the bot in inline mode

    def edit(self, changes: dict[str, Any], markup: Any, removed: tuple[str, ...] = ()) -> dict[str, Any]:
        """:func:`apply_edit` on this message, counted."""
        message = apply_edit(self.message, changes, removed, markup)
        self.edits += 1
        return message

    def edit_text(self, parsed: ParsedText, markup: Any, source: str, parse_mode: str | None) -> dict[str, Any]:
        """editMessageText: the new text and entities (``parsed``), the inline keyboard ``markup``."""
        if "text" not in self.message:
            raise ApiError(400, TelegramErrors.NO_TEXT_TO_EDIT)
        message = self.edit({"text": parsed.text, "entities": parsed.entities or None}, markup)
        if message.get("entities") is None:
            message.pop("entities", None)
        self.source_text, self.parse_mode = source, parse_mode
        return message

    def edit_caption(
        self, parsed: ParsedText, markup: Any, source: str | None, parse_mode: str | None
    ) -> dict[str, Any]:
        """editMessageCaption: only a message with a photo, document, video, ... has one."""
        if not any(k in self.message for k in _CAPTIONED):
            raise ApiError(400, TelegramErrors.NO_CAPTION_TO_EDIT)
        changes = {"caption": parsed.text or None, "caption_entities": parsed.entities or None}
        message = self.edit(changes, markup)
        for key in ("caption", "caption_entities"):
            if message.get(key) is None:
                message.pop(key, None)
        self.source_text, self.parse_mode = source, parse_mode
        return message


_CAPTIONED = ("photo", "document", "video", "audio", "animation", "voice")


@dataclass
class Chat:
    """One chat and its messages, numbered from 1 as Telegram numbers them in a private chat."""

    chat: dict[str, Any]  # the short Chat object
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1

    @property
    def id(self) -> int:
        return int(self.chat["id"])

    @property
    def type(self) -> str:
        return str(self.chat["type"])

    def add_message(
        self,
        sender: dict[str, Any],
        content: dict[str, Any],
        *,
        from_bot: bool,
        markup: Any = None,
        reply_to: dict[str, Any] | None = None,
    ) -> StoredMessage:
        """Store a new message from ``sender``: an inline keyboard belongs to the message, any other
        ``markup`` (reply keyboard, ForceReply, ReplyKeyboardRemove) to the chat."""
        message: dict[str, Any] = {
            "message_id": self.next_message_id,
            "from": sender,
            "chat": dict(self.chat),
            "date": int(time.time()),
        }
        self.next_message_id += 1
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(content)
        stored = StoredMessage(message, from_bot=from_bot)
        if isinstance(markup, dict):
            if "inline_keyboard" in markup:
                message["reply_markup"] = markup
            else:
                stored.reply_keyboard = markup
        self.messages[message["message_id"]] = stored
        return stored

    def message_to_edit(self, message_id: int) -> StoredMessage:
        """The bot's message ``message_id``, or Telegram's refusal to edit it."""
        stored = self.messages.get(message_id)
        if stored is None or stored.deleted:
            raise ApiError(400, TelegramErrors.MESSAGE_TO_EDIT_NOT_FOUND)
        if not stored.from_bot:
            raise ApiError(400, TelegramErrors.MESSAGE_CANT_BE_EDITED)
        return stored

    def delete(self, message_id: int) -> None:
        """deleteMessage: a message deleted before (or never sent) is "not found"."""
        stored = self.messages.get(message_id)
        if stored is None or stored.deleted:
            raise ApiError(400, TelegramErrors.MESSAGE_TO_DELETE_NOT_FOUND)
        stored.deleted = True

    def delete_many(self, message_ids: Any) -> None:
        """deleteMessages: the ones that cannot be found are skipped."""
        for message_id in message_ids:
            stored = self.messages.get(message_id)
            if stored is not None:
                stored.deleted = True


@dataclass
class CallbackQuery:
    """A button press the bot was told about, and its answer once the bot gave one."""

    id: str
    user_id: int
    chat_id: int | None
    message_id: int | None
    data: str | None
    answer: dict[str, Any] | None = None


C = TypeVar("C", bound=Chat)


class BotCore(Generic[C]):
    """Every chat the bot is in (by id) and the callback queries it was sent."""

    def __init__(self) -> None:
        self.chats: dict[int, C] = {}
        self.callback_queries: dict[str, CallbackQuery] = {}

    def new_callback_query(
        self, query_id: str, user_id: int, chat_id: int | None, message_id: int | None, data: str | None
    ) -> CallbackQuery:
        query = CallbackQuery(query_id, user_id, chat_id, message_id, data)
        self.callback_queries[query_id] = query
        return query

    def answer_callback_query(self, params: dict[str, Any]) -> dict[str, Any]:
        """answerCallbackQuery: once per query; the answer (text, show_alert, url, cache_time)."""
        query = self.callback_queries.get(str(params.get("callback_query_id")))
        if query is None or query.answer is not None:
            raise ApiError(400, TelegramErrors.QUERY_TOO_OLD)
        query.answer = {k: params[k] for k in ("text", "show_alert", "url", "cache_time") if k in params}
        return query.answer
