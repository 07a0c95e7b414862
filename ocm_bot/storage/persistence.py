"""python-telegram-bot persistence kept in our storage, so conversations survive restarts.

Conversation states may be JSON values or members of an ``Enum`` (our conversations name their
states with enums); an enum member is stored as its class's import path and the member's name.
user_data, chat_data, bot_data and callback_data must be JSON-able (dict keys become strings).

python-telegram-bot writes changes every ``update_interval`` seconds and when the application
stops, so a kill -9 loses at most the last interval; the default here is short for that reason.
A conversation that must lose nothing keeps its step in a record of its own, written before the
driver sees the step, and registers that record as the source of its states
(:meth:`StoragePersistence.restore_conversation`): its states are then rebuilt from those records
at start and never written on the interval.
"""

from __future__ import annotations

import enum
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from ocm_bot.storage.base import JSON, Storage

log = logging.getLogger(__name__)

_BOT_DATA_KEY = "ptb.bot_data"
_CALLBACK_DATA_KEY = "ptb.callback_data"
_ENUM_TAG = "$enum"

ConversationKey = tuple[int | str, ...]
ConversationDict = dict[ConversationKey, object]
CDCData = tuple[list[tuple[str, float, dict[str, Any]]], dict[str, str]]
StatesFromStorage = Callable[[Storage], Awaitable[ConversationDict]]


def encode_state(state: object) -> JSON:
    """A conversation state as JSON: plain values as they are, enum members by name."""
    if isinstance(state, enum.Enum):
        cls = type(state)
        return {_ENUM_TAG: f"{cls.__module__}:{cls.__qualname__}", "name": state.name}
    json.dumps(state)  # raises TypeError for anything else that JSON cannot hold
    return state


def decode_state(value: JSON) -> object:
    """The inverse of ``encode_state``; raises LookupError if the enum no longer exists."""
    if isinstance(value, dict) and _ENUM_TAG in value:
        module_name, _, qualname = value[_ENUM_TAG].partition(":")
        # Only modules already loaded (the conversations' own): a row in the database must not
        # choose what the bot imports.
        target: Any = sys.modules.get(module_name)
        if target is None:
            raise LookupError(f"{module_name} is not loaded")
        for part in qualname.split("."):
            target = getattr(target, part, None)
        if not (isinstance(target, type) and issubclass(target, enum.Enum)):
            raise LookupError(f"{value[_ENUM_TAG]} is not an Enum")
        return target[value["name"]]
    return value


class StoragePersistence(BasePersistence[dict, dict, dict]):
    """Keeps conversations, user_data, chat_data, bot_data and callback_data in a ``Storage``.

    >>> application = (Application.builder().token(token)
    ...                .persistence(StoragePersistence(storage)).build())
    >>> application.add_handler(ConversationHandler(..., name="checkin", persistent=True))

    Pass ``store_data=PersistenceInput(user_data=False, ...)`` to keep some kinds out: the
    application loads all stored user_data at start, so keep it small and put settings in the
    storage's own tables.

    With several instances behind webhooks, note that python-telegram-bot reads conversation
    states only at start and keeps them in memory. Our conversations (check-in, sign-in) keep their
    step in records of their own and read it on every update
    (:class:`ocm_bot.handlers.conversation.StoredConversationHandler`), so any instance continues them.
    """

    def __init__(
        self,
        storage: Storage,
        *,
        store_data: PersistenceInput | None = None,
        update_interval: float = 5,
    ) -> None:
        super().__init__(store_data=store_data, update_interval=update_interval)
        self.storage = storage
        self._last_written: dict[str, str] = {}
        self._restorers: dict[str, StatesFromStorage] = {}

    def restore_conversation(self, name: str, states: StatesFromStorage) -> None:
        """Rebuild conversation ``name`` from the feature's own records instead of stored states.

        ``states(storage)`` returns every open conversation's key and state. The feature writes
        its record (with the step) before the user sees the step, so a kill -9 at any moment
        loses nothing, whereas states written on the interval may be up to one interval old.
        """
        self._restorers[name] = states

    # --- conversations ------------------------------------------------------------------------
    async def get_conversations(self, name: str) -> ConversationDict:
        restorer = self._restorers.get(name)
        if restorer is not None:
            return await restorer(self.storage)
        conversations: ConversationDict = {}
        for key, value in await self.storage.load_conversations(name):
            try:
                conversations[tuple(key)] = decode_state(value)
            except (LookupError, ImportError, AttributeError):
                # The code changed under a stored state: the driver starts that conversation over.
                log.warning("dropping a stored state of conversation %r that no longer exists", name)
        return conversations

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        if name in self._restorers:
            return  # its states come from the feature's own records
        state = None if new_state is None else encode_state(new_state)
        await self.storage.save_conversation(name, list(key), state)

    # --- user and chat data -------------------------------------------------------------------
    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        return await self.storage.load_ptb_data("user")

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        await self.storage.save_ptb_data("user", user_id, data)

    async def drop_user_data(self, user_id: int) -> None:
        await self.storage.save_ptb_data("user", user_id, None)

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        """Nothing: this process's copy is the newest (it writes every change back)."""

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return await self.storage.load_ptb_data("chat")

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        await self.storage.save_ptb_data("chat", chat_id, data)

    async def drop_chat_data(self, chat_id: int) -> None:
        await self.storage.save_ptb_data("chat", chat_id, None)

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        """Nothing: this process's copy is the newest (it writes every change back)."""

    # --- bot and callback data ----------------------------------------------------------------
    async def get_bot_data(self) -> dict[Any, Any]:
        return await self.storage.get_value(_BOT_DATA_KEY) or {}

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        await self._set_if_changed(_BOT_DATA_KEY, data)

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        """Nothing: this process's copy is the newest (it writes every change back)."""

    async def get_callback_data(self) -> CDCData | None:
        stored = await self.storage.get_value(_CALLBACK_DATA_KEY)
        if stored is None:
            return None
        buttons, mapping = stored
        return [(uuid, when, data) for uuid, when, data in buttons], mapping

    async def update_callback_data(self, data: CDCData) -> None:
        await self._set_if_changed(_CALLBACK_DATA_KEY, data)

    async def _set_if_changed(self, key: str, value: JSON) -> None:
        # The application hands over bot_data and callback_data at every interval, changed or not.
        text = json.dumps(value, sort_keys=True, default=repr)
        if self._last_written.get(key) == text:
            return
        await self.storage.set_value(key, value)
        self._last_written[key] = text

    async def flush(self) -> None:
        """Nothing: every update is written through at once."""
