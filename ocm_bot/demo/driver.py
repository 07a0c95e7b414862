"""The driver's side of the demo: what the person types becomes a Telegram update."""

from __future__ import annotations

import itertools
from typing import Any

from ocm_bot.demo.botapi import USER, InMemoryBotApi, _public


class Driver:
    """Turns what the driver types into Telegram updates."""

    def __init__(self, api: InMemoryBotApi, *, language: str = "en") -> None:
        self.api = api
        self.user = {**USER, "language_code": language}
        self._update_ids = itertools.count(1)

    def _message(self, **content: Any) -> dict[str, Any]:
        return self.api.chat().add_message(self.user, content, from_bot=False).message

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
        chat = self.api.chat()
        message = _public(chat.messages[message_id].message)
        update_id = next(self._update_ids)
        query = self.api.core.new_callback_query(
            str(next(self._update_ids) + 10_000), int(self.user["id"]), chat.id, message_id, data
        )
        return {
            "update_id": update_id,
            "callback_query": {
                "id": query.id,
                "from": self.user,
                "chat_instance": "ocm-bot-demo",
                "message": message,
                "data": data,
            },
        }
