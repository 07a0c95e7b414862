"""What changed at a charger since the bot last saw it: new, working <-> not working or removed, a fault.

:func:`classify` compares what the bot knew of a charger (:class:`KnownCharger`, kept in storage
by the poller) with the charger OCM has now, and names the events a watching chat may be told of.
"Working" follows the search's reading of OCM's status (:func:`ocm_bot.domain.filters.status_kind`,
with its one removed-status set); a fault is a new check-in whose status reads as a failure
(:func:`ocm_bot.domain.checkin.checkin_sentiment`) or a comment of OCM's "Fault Report" type.

Example::

    events = classify(known, charger, since=last_poll)
    # [ChargerEvent(kind=Announce.STATUS, before=Condition.WORKING, after=Condition.NOT_WORKING, ...)]
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ocm_bot.domain.checkin import FAULT_REPORT, Sentiment, checkin_sentiment
from ocm_bot.domain.filters import StatusKind, status_kind
from ocm_bot.domain.watches import Announce
from ocm_bot.ocm.models import Charger, Comment
from ocm_bot.storage.base import JSON


class Condition(enum.StrEnum):
    """Whether a charger works, as a watching group hears it (stored values)."""

    WORKING = "working"
    NOT_WORKING = "not_working"  # not operational, or planned
    REMOVED = "removed"
    UNKNOWN = "unknown"  # no status: no change is announced to or from it


_CONDITIONS = {
    StatusKind.OPERATIONAL: Condition.WORKING,
    StatusKind.NOT_OPERATIONAL: Condition.NOT_WORKING,
    StatusKind.PLANNED: Condition.NOT_WORKING,
    StatusKind.REMOVED: Condition.REMOVED,
    StatusKind.UNKNOWN: Condition.UNKNOWN,
}


def condition_of(charger: Charger) -> Condition:
    return _CONDITIONS[status_kind(charger)]


def is_fault_report(comment: Comment) -> bool:
    if comment.comment_type is not None and comment.comment_type.id == FAULT_REPORT:
        return True
    return checkin_sentiment(comment.checkin_status) is Sentiment.NEGATIVE


@dataclass(frozen=True, slots=True)
class KnownCharger:
    """What the bot last saw of a charger: its condition, its newest comment and where it is
    (``position``: latitude, longitude; None in states kept before positions were; pruning reads it)."""

    condition: Condition
    newest_comment_id: int | None = None
    position: tuple[float, float] | None = None

    @classmethod
    def of(cls, charger: Charger) -> KnownCharger:
        ids = [c.id for c in charger.comments if c.id is not None]
        address = charger.address
        return cls(condition_of(charger), max(ids) if ids else None, (address.latitude, address.longitude))

    def to_data(self) -> dict[str, JSON]:
        data: dict[str, JSON] = {"condition": self.condition.value, "comment": self.newest_comment_id}
        if self.position is not None:
            data["at"] = list(self.position)
        return data

    @classmethod
    def from_data(cls, data: Any) -> KnownCharger | None:
        """The stored state, or None if it cannot be read (the charger is then seen afresh)."""
        try:
            comment = data.get("comment")
            at = data.get("at")
            position = (float(at[0]), float(at[1])) if isinstance(at, list) and len(at) == 2 else None
            return cls(Condition(data["condition"]), None if comment is None else int(comment), position)
        except (AttributeError, KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True, slots=True)
class ChargerEvent:
    """One thing a watching chat may be told about a charger."""

    kind: Announce
    charger: Charger
    before: Condition | None = None  # STATUS: the condition the bot knew
    after: Condition | None = None  # STATUS: the condition now
    comment: Comment | None = None  # FAULT: the check-in reporting it

    @property
    def fingerprint(self) -> str:
        """Equal for the same event seen twice (by another poll, instance or after a restart)."""
        if self.kind is Announce.FAULT and self.comment is not None:
            if self.comment.id is not None:
                return f"fault:{self.comment.id}"
            created = self.comment.date_created
            return f"fault:at:{created.isoformat() if created else ''}"
        if self.kind is Announce.STATUS:
            changed = self.charger.date_last_status_update
            return f"status:{self.before}:{self.after}:{changed.isoformat() if changed else ''}"
        return "new"


def classify(known: KnownCharger | None, charger: Charger, *, since: datetime) -> list[ChargerEvent]:
    """The events between what the bot knew (None: never saw it) and ``charger`` now.

    ``since``: when the bot last looked. A charger never seen is NEW only if OCM created it since
    then (otherwise the bot merely had not looked at it before); its comments since then may
    still report a fault.
    """
    events: list[ChargerEvent] = []
    now = condition_of(charger)
    if known is None:
        created = charger.date_created
        if created is not None and created >= since and now is not Condition.REMOVED:
            events.append(ChargerEvent(Announce.NEW, charger, after=now))
    elif Condition.UNKNOWN not in (known.condition, now) and known.condition is not now:
        events.append(ChargerEvent(Announce.STATUS, charger, before=known.condition, after=now))
    for comment in sorted(charger.comments, key=_comment_order):
        if _is_new_comment(comment, known, since) and is_fault_report(comment):
            events.append(ChargerEvent(Announce.FAULT, charger, comment=comment))
    return events


def _is_new_comment(comment: Comment, known: KnownCharger | None, since: datetime) -> bool:
    if known is not None and comment.id is not None:
        return known.newest_comment_id is None or comment.id > known.newest_comment_id
    return comment.date_created is not None and comment.date_created >= since


def _comment_order(comment: Comment) -> tuple[int, str]:
    created = comment.date_created
    return (comment.id or 0, created.isoformat() if created else "")
