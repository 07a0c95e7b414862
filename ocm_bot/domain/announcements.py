"""Announcements: the watch poll's events, queued in storage before they are sent, sent once each.

The poller (one instance at a time, under its lease) puts every event into the queue (storage, value
``announce-queue``) in the same transaction that marks it told
(:class:`~ocm_bot.domain.watch_poller.WatchPoller`); the job then sends. A chat's entries leave the
queue after Telegram took its message, so a crash between the poll and the send loses nothing and
sends nothing twice. Favourites' alerts wait in the same queue under their owner's private chat
(``alert`` set). The queue keeps charger IDs and what happened; the sender reads the chargers again
for their cards.

Example::

    queue = AnnouncementQueue(storage)
    for chat_id, items in (await queue.pending()).items():
        ...                                      # send, then
        await queue.done(chat_id, items)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ocm_bot.domain.watch_changes import ChargerEvent, Condition
from ocm_bot.domain.watch_quiet import quiet_hours_of, save_quiet_hours
from ocm_bot.domain.watches import Announce, Watch, WatchBook
from ocm_bot.storage.base import JSON, SubscriptionStore, ValueStore

QUEUE_KEY = "announce-queue"
ALERTS_KEY = "alerts:{}"
COMMENT_CHARS = 300


@dataclass(frozen=True, slots=True)
class Announcement:
    """One queued event: which charger, what happened (STATUS: from and to), which watch asked."""

    charger_id: int
    kind: Announce
    watch_id: int
    before: Condition | None = None
    after: Condition | None = None
    comment: str | None = None  # FAULT: what the driver wrote (clipped)
    alert: bool = False  # a favourite's alert to its owner (not a group's announcement)

    @classmethod
    def of(cls, event: ChargerEvent, *, watch_id: int = 0, alert: bool = False) -> Announcement:
        comment = event.comment.text if event.comment is not None else None
        return cls(
            event.charger.id,
            event.kind,
            watch_id,
            event.before,
            event.after,
            comment[:COMMENT_CHARS] if comment else None,
            alert,
        )

    def to_data(self) -> dict[str, JSON]:
        data: dict[str, JSON] = {
            "charger": self.charger_id,
            "kind": self.kind.value,
            "watch": self.watch_id,
            "before": self.before.value if self.before else None,
            "after": self.after.value if self.after else None,
            "comment": self.comment,
        }
        if self.alert:
            data["alert"] = True
        return data

    @classmethod
    def from_data(cls, data: Any) -> Announcement | None:
        try:
            return cls(
                charger_id=int(data["charger"]),
                kind=Announce(data["kind"]),
                watch_id=int(data.get("watch") or 0),
                before=Condition(data["before"]) if data.get("before") else None,
                after=Condition(data["after"]) if data.get("after") else None,
                comment=str(data["comment"]) if data.get("comment") else None,
                alert=data.get("alert") is True,
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            return None


class AnnouncementQueue:
    """Events waiting for their chat, by chat id, in storage (one writer: the poll lease's holder)."""

    def __init__(self, storage: ValueStore) -> None:
        self.storage = storage

    async def _load(self) -> dict[str, list[JSON]]:
        stored = await self.storage.get_value(QUEUE_KEY)
        return {str(k): list(v) for k, v in stored.items() if isinstance(v, list)} if isinstance(stored, dict) else {}

    async def pending(self) -> dict[int, list[Announcement]]:
        found: dict[int, list[Announcement]] = {}
        for chat, entries in (await self._load()).items():
            items = [a for a in (Announcement.from_data(e) for e in entries) if a is not None]
            if items:
                found[int(chat)] = items
        return found

    async def done(self, chat_id: int, items: list[Announcement] | None = None) -> None:
        """Drop a chat's ``items`` (all of its entries if None): Telegram took them (or never will)."""
        drop = [item.to_data() for item in items] if items is not None else None

        def without(stored: JSON) -> JSON:
            queue = dict(stored) if isinstance(stored, dict) else {}
            entries = list(queue.pop(str(chat_id), None) or [])
            if drop is not None:
                for entry in drop:
                    if entry in entries:
                        entries.remove(entry)
                if entries:
                    queue[str(chat_id)] = entries
            return queue or None

        await self.storage.update_value(QUEUE_KEY, without)

    async def move(self, old_chat_id: int, new_chat_id: int) -> None:
        def moved(stored: JSON) -> JSON:
            queue = dict(stored) if isinstance(stored, dict) else {}
            entries = queue.pop(str(old_chat_id), None)
            if isinstance(entries, list) and entries:
                queue[str(new_chat_id)] = [*(queue.get(str(new_chat_id)) or []), *entries]
            return queue or None

        await self.storage.update_value(QUEUE_KEY, moved)


async def forget_group(storage: SubscriptionStore, queue: AnnouncementQueue, chat_id: int) -> None:
    """The bot left the group (removed, or the group deleted): its watches, queued events and quiet hours go."""
    await storage.forget_chat(chat_id)
    await queue.done(chat_id)
    await save_quiet_hours(queue.storage, chat_id, None)


async def migrate_group(
    storage: SubscriptionStore, queue: AnnouncementQueue, old_chat_id: int, new_chat_id: int
) -> int:
    """A group became a supergroup: its watches (and queued events) follow it to the new id."""
    book = WatchBook(storage)
    moved = 0
    for watch in await book.for_chat(old_chat_id):
        # Telegram tells the old chat and the new one: whoever deletes the watch first moves it.
        if await storage.delete_subscription(watch.id):
            await storage.save_subscription(new_chat_id, _moved(watch, new_chat_id).to_data())
            moved += 1
    await queue.move(old_chat_id, new_chat_id)
    quiet = await quiet_hours_of(queue.storage, old_chat_id)
    if quiet is not None:
        await save_quiet_hours(queue.storage, new_chat_id, quiet)
        await save_quiet_hours(queue.storage, old_chat_id, None)
    return moved


def _moved(watch: Watch, new_chat_id: int) -> Watch:
    return replace(watch, chat_id=new_chat_id)


async def stop_alerts_for(storage: ValueStore, user_id: int) -> None:
    """The user blocked the bot: their personal alerts stop (``alerts:<user_id>`` = false)."""
    await storage.set_value(ALERTS_KEY.format(user_id), False)
