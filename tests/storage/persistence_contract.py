"""python-telegram-bot persistence in our storage: a conversation half done survives a restart.

A real Application with a real persistent ConversationHandler processes real updates; its Bot API
requests go to ``RecordingRequest``, a transport that answers getMe and records sendMessage.
"""

from __future__ import annotations

import asyncio
import enum
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import (
    Application,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, RequestData

from ocm_bot.storage import Storage, StoragePersistence, open_storage

SECRET = "correct horse battery staple"
DRIVER = 42


class Step(enum.Enum):
    OUTCOME = enum.auto()
    RATING = enum.auto()


class RecordingRequest(BaseRequest):
    """Answers getMe and sendMessage like the Bot API; records the texts sent."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **_: Any
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[1]
        parameters = request_data.parameters if request_data else {}
        if api_method == "getMe":
            result: dict[str, Any] = {"id": 1, "is_bot": True, "first_name": "OCM"}
            result["username"] = "ocm_test_bot"
        elif api_method == "sendMessage":
            self.texts.append(str(parameters["text"]))
            chat_id = int(parameters["chat_id"])  # type: ignore[arg-type]
            result = {"message_id": len(self.texts), "date": 1767225600, "text": parameters["text"],
                      "chat": {"id": chat_id, "type": "private"}}  # fmt: skip
        else:
            body = {"ok": False, "error_code": 400, "description": f"{api_method} is not faked"}
            return 400, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()


def message(update_id: int, text: str, user_id: int = DRIVER) -> dict[str, Any]:
    entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] if text.startswith("/") else []
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1767225600,
            "chat": {"id": user_id, "type": "private", "first_name": "Ana"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Ana"},
            "text": text,
            "entities": entities,
        },
    }


async def ask_outcome(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    context.user_data["charger_id"] = 1234  # type: ignore[index]
    await update.effective_message.reply_text("How did charging go?")  # type: ignore[union-attr]
    return Step.OUTCOME


async def ask_rating(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    context.user_data["outcome"] = update.effective_message.text  # type: ignore[index, union-attr]
    await update.effective_message.reply_text("Rating 1-5?")  # type: ignore[union-attr]
    return Step.RATING


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    data = context.user_data or {}
    rating = update.effective_message.text  # type: ignore[union-attr]
    await update.effective_message.reply_text(  # type: ignore[union-attr]
        f"Check-in at {data.get('charger_id')}: {data.get('outcome')}, {rating}/5"
    )
    data.clear()
    return ConversationHandler.END


async def remember_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    context.chat_data["seen"] = True  # type: ignore[index]
    context.bot_data["messages"] = context.bot_data.get("messages", 0) + 1


def build_application(storage: Storage, request: RecordingRequest, update_interval: float = 60) -> Application:
    application = (
        Application.builder()
        .token("1:test")
        .request(request)
        .get_updates_request(request)
        .updater(None)
        .persistence(StoragePersistence(storage, update_interval=update_interval))
        .build()
    )
    application.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("checkin", ask_outcome)],
            states={
                Step.OUTCOME: [MessageHandler(filters.TEXT & ~filters.COMMAND, ask_rating)],
                Step.RATING: [MessageHandler(filters.TEXT & ~filters.COMMAND, confirm)],
            },
            fallbacks=[],
            name="checkin",
            persistent=True,
        )
    )
    application.add_handler(MessageHandler(filters.ALL, remember_group), group=1)
    return application


class RunningBot:
    """One bot process: its storage and its started application."""

    def __init__(self, database_url: str, data_dir: Path, update_interval: float = 60) -> None:
        self.database_url = database_url
        self.data_dir = data_dir
        self.update_interval = update_interval
        self.request = RecordingRequest()

    async def start(self) -> RunningBot:
        self.storage = await open_storage(self.database_url, data_dir=self.data_dir, secret=SECRET)
        self.application = build_application(self.storage, self.request, self.update_interval)
        await self.application.initialize()
        await self.application.start()
        return self

    async def send(self, update_id: int, text: str, user_id: int = DRIVER) -> str | None:
        before = len(self.request.texts)
        update = Update.de_json(message(update_id, text, user_id), self.application.bot)
        await self.application.process_update(update)
        return self.request.texts[-1] if len(self.request.texts) > before else None

    async def stop(self) -> None:
        await self.application.stop()
        await self.application.shutdown()
        await self.storage.close()


class PersistenceContract:
    @pytest.fixture
    async def bots(self, database_url: str, tmp_path: Path) -> AsyncIterator[list[RunningBot]]:
        """Bots a test started; stopped at the end if the test left them running."""
        started: list[RunningBot] = []
        yield started
        for bot in started:
            if bot.application.running:
                await bot.stop()

    async def test_a_check_in_half_done_continues_after_a_restart(
        self, database_url: str, tmp_path: Path, bots: list[RunningBot]
    ) -> None:
        first = await RunningBot(database_url, tmp_path).start()
        bots.append(first)
        assert await first.send(1, "/checkin") == "How did charging go?"
        assert await first.send(2, "Charged fine") == "Rating 1-5?"
        await first.stop()

        second = await RunningBot(database_url, tmp_path).start()
        bots.append(second)
        assert await second.send(3, "5") == "Check-in at 1234: Charged fine, 5/5"
        # The conversation is over: a plain message no longer answers as a rating.
        assert await second.send(4, "4") is None
        await second.stop()

        third = await RunningBot(database_url, tmp_path).start()
        bots.append(third)
        assert await third.storage.load_conversations("checkin") == []
        assert await third.send(5, "3") is None

    async def test_a_crashed_bot_loses_at_most_one_update_interval(
        self, database_url: str, tmp_path: Path, bots: list[RunningBot]
    ) -> None:
        crashing = await RunningBot(database_url, tmp_path, update_interval=0.05).start()
        bots.append(crashing)
        await crashing.send(1, "/checkin")
        await crashing.send(2, "Could not charge")
        await asyncio.sleep(0.3)  # a few intervals; then the process "dies" without stopping

        successor = await RunningBot(database_url, tmp_path).start()
        bots.append(successor)
        assert await successor.send(3, "1") == "Check-in at 1234: Could not charge, 1/5"

    async def test_chat_and_bot_data_survive_a_restart(
        self, database_url: str, tmp_path: Path, bots: list[RunningBot]
    ) -> None:
        first = await RunningBot(database_url, tmp_path).start()
        bots.append(first)
        await first.send(1, "hello", user_id=7)
        await first.send(2, "hello again", user_id=7)
        await first.stop()

        second = await RunningBot(database_url, tmp_path).start()
        bots.append(second)
        assert second.application.chat_data[7] == {"seen": True}
        assert second.application.bot_data == {"messages": 2}

    async def test_a_state_the_code_no_longer_has_starts_the_conversation_over(
        self, database_url: str, tmp_path: Path, bots: list[RunningBot]
    ) -> None:
        storage = await open_storage(database_url, data_dir=tmp_path, secret=SECRET)
        gone = {"$enum": "tests.storage.persistence_contract:Removed", "name": "RATING"}
        await storage.save_conversation("checkin", [DRIVER, DRIVER], gone)
        await storage.close()

        bot = await RunningBot(database_url, tmp_path).start()
        bots.append(bot)
        assert await bot.send(1, "5") is None
        assert await bot.send(2, "/checkin") == "How did charging go?"
