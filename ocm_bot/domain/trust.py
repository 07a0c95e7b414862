"""How far a driver can trust a charger's listing, from OCM's own data.

From the charger's check-ins (its comments: what details ask for with ``includecomments``, and
the bot's own check-ins noted on its cached copy) and OCM's verification date:

    last_working     the newest successful check-in, or OCM's last verification if newer
    last_fault       the newest failed check-in, only when newer than last_working
    recent_checkins  check-ins of the last 90 days (None when the answer carried no comments)
    average_rating   of the rated comments (None without any)

A card built from a compact search answer has no comments, so it shows the verification date and
what the bot itself knows; details show everything. Example::

    trust = trust_of(charger, now)
    if has_recent_fault(trust, now): ...   # marked on the results list
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import mean

from ocm_bot.domain.checkin import Sentiment, checkin_sentiment
from ocm_bot.ocm.models import Charger

RECENT_CHECKINS = timedelta(days=90)
RECENT_FAULT = timedelta(days=30)


class Standing(enum.StrEnum):
    """A charger's condition at a glance (a button's colour)."""

    WORKING = "working"  # confirmed working, and no fault reported since
    FAULT = "fault"  # a recent fault report newer than any confirmation
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Trust:
    last_working: datetime | None = None
    last_fault: datetime | None = None
    recent_checkins: int | None = None
    average_rating: float | None = None
    ratings: int = 0


def _aware(when: datetime | None, like: datetime) -> datetime | None:
    if when is None or when.tzinfo is not None:
        return when
    return when.replace(tzinfo=like.tzinfo)


def trust_of(charger: Charger, now: datetime, *, with_comments: bool | None = None) -> Trust:
    """The trust signals of ``charger`` (``with_comments``: whether its answer carried comments;
    by default, whether it has any)."""
    working: list[datetime] = []
    faults: list[datetime] = []
    recent = 0
    for comment in charger.comments:
        when = _aware(comment.date_created, now)
        if when is None:
            continue
        sentiment = checkin_sentiment(comment.checkin_status) if comment.checkin_status else None
        if sentiment is Sentiment.POSITIVE:
            working.append(when)
        elif sentiment is Sentiment.NEGATIVE:
            faults.append(when)
        if comment.checkin_status is not None and now - when <= RECENT_CHECKINS:
            recent += 1
    verified = _aware(charger.date_last_verified, now)
    if verified is not None:
        working.append(verified)
    last_working = max(working) if working else None
    last_fault = max(faults) if faults else None
    if last_fault is not None and last_working is not None and last_fault <= last_working:
        last_fault = None
    ratings = [c.rating for c in charger.comments if c.rating]
    has_comments = bool(charger.comments) if with_comments is None else with_comments
    return Trust(
        last_working=last_working,
        last_fault=last_fault,
        recent_checkins=recent if has_comments else None,
        average_rating=mean(ratings) if ratings else None,
        ratings=len(ratings),
    )


def has_recent_fault(trust: Trust, now: datetime, within: timedelta = RECENT_FAULT) -> bool:
    """A fault reported within ``within`` and not confirmed working since."""
    return trust.last_fault is not None and now - trust.last_fault <= within


def standing(trust: Trust, now: datetime) -> Standing:
    if has_recent_fault(trust, now):
        return Standing.FAULT
    if trust.last_working is not None and now - trust.last_working <= RECENT_CHECKINS:
        return Standing.WORKING
    return Standing.UNKNOWN
