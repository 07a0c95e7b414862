"""Quiet hours of a watching group: announcements wait in the queue, then arrive as one digest.

An admin sets them from ``/watches``: a start and an end hour on the group's clock (a UTC offset,
first guessed from the longitude of the group's first watch). Stored per group in the value store
under ``quiet-hours:<chat_id>``; the poll job keeps a group's queued events while
:meth:`QuietHours.is_quiet` and sends them together (one digest) at the first poll after they end.

Example::

    quiet = await quiet_hours_of(storage, chat_id)           # None: never set
    if quiet is not None and quiet.is_quiet(utc_now()):
        ...                                                  # keep the group's events queued
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from ocm_bot.storage.base import JSON, ValueStore

QUIET_KEY = "quiet-hours:{}"
DEFAULT_START_HOUR = 22
DEFAULT_END_HOUR = 7
MIN_OFFSET_MINUTES = -12 * 60
MAX_OFFSET_MINUTES = 14 * 60


@dataclass(frozen=True, slots=True)
class QuietHours:
    """From ``start_hour`` to ``end_hour`` (0-23, the group's time: UTC + ``utc_offset_minutes``)."""

    start_hour: int = DEFAULT_START_HOUR
    end_hour: int = DEFAULT_END_HOUR
    utc_offset_minutes: int = 0
    on: bool = False

    @classmethod
    def guessed_for(cls, longitude: float | None) -> QuietHours:
        """Off, 22:00-07:00, at the offset of the sun over ``longitude`` (15 degrees an hour)."""
        hours = round(longitude / 15) if longitude is not None else 0
        return cls(utc_offset_minutes=_clamp_offset(hours * 60))

    def local_time(self, now: datetime) -> datetime:
        return now + timedelta(minutes=self.utc_offset_minutes)

    def is_quiet(self, now: datetime) -> bool:
        if not self.on or self.start_hour == self.end_hour:
            return False
        hour = self.local_time(now).hour
        if self.start_hour < self.end_hour:
            return self.start_hour <= hour < self.end_hour
        return hour >= self.start_hour or hour < self.end_hour  # over midnight

    def moved(self, *, start: int = 0, end: int = 0, offset_minutes: int = 0) -> QuietHours:
        return replace(
            self,
            start_hour=(self.start_hour + start) % 24,
            end_hour=(self.end_hour + end) % 24,
            utc_offset_minutes=_clamp_offset(self.utc_offset_minutes + offset_minutes),
        )

    def to_data(self) -> dict[str, JSON]:
        return {"start": self.start_hour, "end": self.end_hour, "offset": self.utc_offset_minutes, "on": self.on}

    @classmethod
    def from_data(cls, data: Any) -> QuietHours | None:
        try:
            return cls(
                int(data["start"]) % 24, int(data["end"]) % 24, _clamp_offset(int(data["offset"])), data["on"] is True
            )
        except (KeyError, TypeError, ValueError):
            return None


def _clamp_offset(minutes: int) -> int:
    return max(MIN_OFFSET_MINUTES, min(MAX_OFFSET_MINUTES, minutes))


async def quiet_hours_of(store: ValueStore, chat_id: int) -> QuietHours | None:
    return QuietHours.from_data(await store.get_value(QUIET_KEY.format(chat_id)))


async def save_quiet_hours(store: ValueStore, chat_id: int, quiet: QuietHours | None) -> None:
    await store.set_value(QUIET_KEY.format(chat_id), quiet.to_data() if quiet is not None else None)


async def is_quiet_now(store: ValueStore, chat_id: int, now: datetime) -> bool:
    quiet = await quiet_hours_of(store, chat_id) if chat_id < 0 else None
    return quiet is not None and quiet.is_quiet(now)
