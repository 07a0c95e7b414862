"""The Bot API core the demo and the test suite's fake Bot API server share.

What Telegram does with a bot's messages, whatever the transport: its error answers
(:class:`TelegramErrors`, :class:`ApiError`), a stored message (:class:`StoredMessage`) and the
edit rule (:func:`apply_edit`: an edit that changes nothing is refused as "message is not
modified", which the bot must handle). The demo's in-memory Bot API (:mod:`ocm_bot.demo.botapi`)
and ``tests/fakes/telegram/server.py`` (which adds HTTP, schema checking, chats and members,
long polling, webhooks and fault injection) both answer edits with it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

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
