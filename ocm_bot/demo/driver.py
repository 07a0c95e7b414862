"""The driver's side of the demo: what the person types becomes a Telegram update."""

from __future__ import annotations

import itertools
import time
from typing import Any

from ocm_bot.demo.botapi import CHAT, USER, InMemoryBotApi, _public


class Driver:
    """Turns what the driver types into Telegram updates."""

    def __init__(self, api: InMemoryBotApi, *, language: str = "en") -> None:
        self.api = api
        self.user = {**USER, "language_code": language}
        self._update_ids = itertools.count(1)

    def _message(self, **content: Any) -> dict[str, Any]:
        message = {
            "message_id": self.api.next_message_id(),
            "date": int(time.time()),
            "chat": CHAT,
            "from": self.user,
            **content,
        }
        self.api.messages[message["message_id"]] = message
        return message

    def text(self, text: str) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": next(self._update_ids), "message": self._message(**content)}

    def location(self, latitude: float, longitude: float) -> dict[str, Any]:
        location = {"latitude": latitude, "longitude": longitude}
        return {"update_id": next(self._update_ids), "message": self._message(location=location)}

    def press(self, message_id: int, data: str) -> dict[str, Any]:
        message = _public(self.api.messages[message_id])
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": str(next(self._update_ids) + 10_000),
                "from": self.user,
                "chat_instance": "ocm-bot-demo",
                "message": message,
                "data": data,
            },
        }
