"""A group's own search settings and language, chosen by its admins.

A group searches with its settings, never with the asker's private ones: unit, radius, the search
filters and the language everything in the group is said in. They are a
:class:`~ocm_bot.domain.preferences.UserPreferences` document kept in the value store under
``group-settings:<chat id>``; a group nobody configured searches with the defaults, in the bot's
default language. The bot removed from the group deletes them; a migration to a supergroup moves them.

Example::

    prefs = await group_preferences(storage, chat_id)
    await save_group_preferences(storage, chat_id, replace(prefs, radius_km=25))
    language = await chat_language_choice(storage, chat_id)  # "de", or None: the bot's default
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ocm_bot.domain.preferences import UserPreferences
from ocm_bot.storage.base import JSON, ShortLivedStore, UserStore, ValueStore

KEY = "group-settings:{}"


def is_group_chat(chat_id: int) -> bool:
    """Group and supergroup ids are negative; a private chat's id is its user's."""
    return chat_id < 0


async def group_preferences(store: ValueStore, chat_id: int) -> UserPreferences:
    """The group's saved settings (the defaults while no admin chose any)."""
    document = await store.get_value(KEY.format(chat_id))
    return UserPreferences.from_dict(document if isinstance(document, dict) else {})


async def save_group_preferences(store: ValueStore, chat_id: int, prefs: UserPreferences) -> None:
    await store.set_value(KEY.format(chat_id), prefs.to_dict())


async def forget_group_settings(store: ValueStore, chat_id: int) -> None:
    """The bot left the group: its settings go with its watches."""
    await store.set_value(KEY.format(chat_id), None)


async def move_group_settings(store: ValueStore, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: its settings follow it to the new chat id."""
    document = await store.get_value(KEY.format(old_chat_id))
    if isinstance(document, dict):
        await store.set_value(KEY.format(new_chat_id), document)
        await store.set_value(KEY.format(old_chat_id), None)


class ChatStore(UserStore, ValueStore, Protocol):
    """What the chat's language is read from: drivers' documents and groups' settings."""


async def chat_language_choice(store: ChatStore, chat_id: int) -> str | None:
    """The language chosen for a chat: the group's (by its admins) or the driver's; None: not chosen."""
    if is_group_chat(chat_id):
        return (await group_preferences(store, chat_id)).language
    return UserPreferences.from_dict(await store.get_user(chat_id) or {}).language


ASKER_KIND = "group-asker"
"""Short-lived records: who asked a group's search (``search id`` -> :class:`Asker`)."""


@dataclass(frozen=True, slots=True)
class Asker:
    """Who asked a search in a group: only they change it (filters, radius); anyone pages it.

    ``user_id`` is the group's own id when an anonymous admin asked: then any admin may change it.
    """

    user_id: int
    name: str | None = None


async def remember_asker(store: ShortLivedStore, search_id: str, asker: Asker, ttl_seconds: float) -> None:
    value: JSON = {"id": asker.user_id, "name": asker.name}
    owner = asker.user_id if asker.user_id > 0 else None  # /forget deletes a driver's own records
    await store.put_short_lived(ASKER_KIND, search_id, value, ttl_seconds, user_id=owner)


async def asker_of(store: ShortLivedStore, search_id: str) -> Asker | None:
    """Who asked the search ``search_id`` (None: not a group's search, or it expired)."""
    value = await store.get_short_lived(ASKER_KIND, search_id)
    if not isinstance(value, dict) or not isinstance(value.get("id"), int):
        return None
    name = value.get("name")
    return Asker(value["id"], name if isinstance(name, str) else None)
