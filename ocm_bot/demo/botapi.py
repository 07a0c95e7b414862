"""The demo's Bot API, in memory: python-telegram-bot's transport answering every call without Telegram.

:class:`InMemoryBotApi` keeps the chat, its messages and the button presses in the
:class:`~ocm_bot.demo.botcore.BotCore` the test suite's fake Bot API also keeps them in (sends;
edits with Telegram's "message is not modified" rule; deletions; one answer per callback query),
parses text with Telegram's HTML parse mode (:mod:`ocm_bot.demo.formatting`, also shared), and
draws everything on a :class:`Screen`.
:func:`application_idle` says when the bot has answered every update it was given: the demo waits
on it before the next prompt, and the fake Bot API server (``tests/fakes/telegram``) uses the same
definition for its "the bot is idle" signal.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from ocm_bot.demo.botcore import ApiError, BotCore, Chat, StoredMessage
from ocm_bot.demo.formatting import EntityParseError, ParsedText, parse_html, strip_edges
from ocm_bot.demo.rendering import plain_text
from ocm_bot.demo.screen import Screen

DEMO_TOKEN = "1234567890:offline-demo-token-not-for-telegram"
DEMO_API_URL = "http://telegram.invalid"  # never contacted: every call is answered in memory
CHAT_ID = 1001  # the driver's private chat: Telegram gives it the driver's user id
USER: dict[str, Any] = {"id": CHAT_ID, "is_bot": False, "first_name": "Driver", "language_code": "en"}
CHAT: dict[str, Any] = {"id": CHAT_ID, "type": "private", "first_name": "Driver"}
BOT = {
    "id": 1234567890,
    "is_bot": True,
    "first_name": "Open Charge Map bot (demo)",
    "username": "ocm_demo_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}


def application_idle(application: Application[Any, Any, Any, Any, Any, Any]) -> bool:
    """Whether ``application`` has answered every update it was given: none queued, none being
    processed, no task it started for an update (``Application.create_task``, non-blocking handlers)
    still running. Jobs scheduled for later do not count."""
    if not application.running:
        return True
    tasks: set[asyncio.Task[Any]] = getattr(application, "_Application__create_task_tasks", set())
    return (
        application.update_queue.empty() and not tasks and application.update_processor.current_concurrent_updates == 0
    )


class InMemoryBotApi(BaseRequest):
    """python-telegram-bot's transport, answering Bot API calls in memory and drawing them on a :class:`Screen`.

    Example::

        api = InMemoryBotApi(screen)
        application = build_application(settings, overrides=Overrides(ocm=ocm, geocoder=gazetteer), request=api)
    """

    def __init__(self, screen: Screen) -> None:
        self.screen = screen
        self.core: BotCore[Chat] = BotCore()
        self.core.chats[CHAT_ID] = Chat(dict(CHAT))
        self.in_flight = 0
        self.last_call = time.monotonic()
        self.calls: list[str] = []

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def chat(self, chat_id: Any = None) -> Chat:
        """The demo's chat (the driver's private chat unless the bot names another)."""
        chat_id = int(chat_id) if chat_id is not None else CHAT_ID
        return self.core.chats.setdefault(chat_id, Chat(dict(CHAT, id=chat_id)))

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        name = url.rstrip("/").rsplit("/", 1)[-1]
        params = request_data.parameters if request_data is not None else {}
        self.in_flight += 1
        self.calls.append(name)
        try:
            handler: Callable[[dict[str, Any]], Any] | None = getattr(self, "api_" + name.lower(), None)
            result = handler(params) if handler is not None else self._unknown(name)
            body = {"ok": True, "result": result}
            status = 200
        except ApiError as error:
            body = error.body()
            status = error.code
        finally:
            self.in_flight -= 1
            self.last_call = time.monotonic()
        return status, json.dumps(body).encode()

    async def wait_until_answered(
        self, application: Application[Any, Any, Any, Any, Any, Any], longest: float = 10.0
    ) -> None:
        """Return once the bot has answered what it was given (:func:`application_idle`), including
        the tasks its handlers started, and no Bot API call is in flight."""
        deadline = time.monotonic() + longest
        while time.monotonic() < deadline:
            if self.in_flight == 0 and application_idle(application):
                return
            await asyncio.sleep(0.005)  # re-check: a task can end without calling the Bot API

    # Messages the bot sends ---------------------------------------------------------------------

    def _new_message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat = self.chat(params.get("chat_id"))
        return chat.add_message(BOT, content, from_bot=True, markup=params.get("reply_markup")).message

    def api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        text, mode = str(params.get("text", "")), params.get("parse_mode")
        message = self._new_message(params, **_text_fields(telegram_text(text, mode)))
        self.screen.bot_message(message, text, mode, edited=False)
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" not in markup:
            self.screen.keyboard(-1, markup)  # a reply keyboard belongs to the chat, not to the message
        return _public(message)

    def api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self._message(params)
        text, mode = str(params.get("text", "")), params.get("parse_mode")
        message = stored.edit_text(telegram_text(text, mode), params.get("reply_markup"), text, mode)
        self.screen.bot_message(message, text, mode, edited=True)
        return _public(message)

    def api_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._message(params).edit({}, params.get("reply_markup"))
        if "reply_markup" in message:
            self.screen.note(f"   (buttons of #{message['message_id']} changed)")
            self.screen.keyboard(message["message_id"], message["reply_markup"])
        else:
            self.screen.removed_keyboard(message["message_id"])
        return _public(message)

    def api_editmessagecaption(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self._message(params)
        caption, mode = str(params.get("caption", "")), params.get("parse_mode")
        message = stored.edit_caption(telegram_text(caption, mode), params.get("reply_markup"), caption, mode)
        self.screen.bot_message(message, caption, mode, edited=True)
        return _public(message)

    def api_deletemessage(self, params: dict[str, Any]) -> bool:
        message_id = int(params.get("message_id", 0))
        self.chat(params.get("chat_id")).delete(message_id)
        self._deleted(message_id)
        return True

    def api_deletemessages(self, params: dict[str, Any]) -> bool:
        message_ids = [int(message_id) for message_id in params.get("message_ids", ())]
        chat = self.chat(params.get("chat_id"))
        shown = [i for i in message_ids if i in chat.messages and not chat.messages[i].deleted]
        chat.delete_many(message_ids)
        for message_id in shown:
            self._deleted(message_id)
        return True

    def _deleted(self, message_id: int) -> None:
        self.screen.forget_keyboard(message_id)
        self.screen.note(f"   (message #{message_id} deleted)")

    def api_sendlocation(self, params: dict[str, Any]) -> dict[str, Any]:
        lat, lon = float(params["latitude"]), float(params["longitude"])
        message = self._new_message(params, location={"latitude": lat, "longitude": lon})
        text = f"📍 {lat:.5f}, {lon:.5f}  {_map_link(lat, lon)}"
        self.screen.bot_message(message, text, None, edited=False)
        return _public(message)

    def api_sendvenue(self, params: dict[str, Any]) -> dict[str, Any]:
        lat, lon = float(params["latitude"]), float(params["longitude"])
        venue = {
            "location": {"latitude": lat, "longitude": lon},
            "title": str(params.get("title", "")),
            "address": str(params.get("address", "")),
        }
        message = self._new_message(params, venue=venue, location=venue["location"])
        text = f"📍 {venue['title']}\n{venue['address']}\n{_map_link(lat, lon)}"
        self.screen.bot_message(message, text, None, edited=False)
        return _public(message)

    def api_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        caption, mode = str(params.get("caption", "")), params.get("parse_mode")
        photo = params.get("photo")
        text = f"[photo] {photo if isinstance(photo, str) else ''}\n{caption}".strip()
        message = self._new_message(params, caption=plain_text(caption, mode))
        self.screen.bot_message(message, text, mode, edited=False)
        return _public(message)

    def api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        answer = self.core.answer_callback_query(params)
        if answer.get("text"):
            self.screen.alert(str(answer["text"]), show_alert=bool(answer.get("show_alert")))
        if answer.get("url"):
            self.screen.note(f"   (Telegram would open {answer['url']})")
        return True

    def _message(self, params: dict[str, Any]) -> StoredMessage:
        if "inline_message_id" in params:
            raise ApiError(400, "Bad Request: inline messages are not part of the demo")
        return self.chat(params.get("chat_id")).message_to_edit(int(params.get("message_id", 0)))

    # Everything else ------------------------------------------------------------------------------

    def api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return BOT

    def api_getchat(self, params: dict[str, Any]) -> dict[str, Any]:
        return dict(CHAT, accent_color_id=0, max_reaction_count=11, accepted_gift_types=_NO_GIFTS)

    def api_getchatmember(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"status": "member", "user": USER}

    def api_getchatadministrators(self, params: dict[str, Any]) -> list[Any]:
        return []

    def api_getmycommands(self, params: dict[str, Any]) -> list[Any]:
        return []

    def api_getupdates(self, params: dict[str, Any]) -> list[Any]:
        return []

    def api_sendchataction(self, params: dict[str, Any]) -> bool:
        return True

    def _unknown(self, name: str) -> bool:
        if not name.startswith(("set", "delete", "close", "log")):
            self.screen.note(f"   (the demo skips the Bot API call {name})")
        return True


_NO_GIFTS = {
    "unlimited_gifts": False,
    "limited_gifts": False,
    "unique_gifts": False,
    "premium_subscription": False,
}


def telegram_text(source: str, parse_mode: str | None) -> ParsedText:
    """The text and entities Telegram keeps for ``source`` sent with ``parse_mode`` (trimmed as
    Telegram trims). HTML Telegram could not parse is kept with its tags dropped: the demo shows
    what the bot meant rather than refusing it (the test suite's fake Bot API refuses it)."""
    if (parse_mode or "").upper() == "HTML":
        try:
            return strip_edges(parse_html(source))
        except EntityParseError:
            return ParsedText(plain_text(source, parse_mode))
    return strip_edges(ParsedText(source))


def _text_fields(parsed: ParsedText) -> dict[str, Any]:
    return {"text": parsed.text, "entities": parsed.entities} if parsed.entities else {"text": parsed.text}


def _public(message: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in message.items() if not key.startswith("_")}


def _map_link(lat: float, lon: float) -> str:
    return f"https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map=17/{lat:.5f}/{lon:.5f}"
