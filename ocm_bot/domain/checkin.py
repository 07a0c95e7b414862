"""Check-ins: the draft a driver fills in step by step, and the ``POST /comment`` it becomes.

No Telegram and no HTTP. The handler keeps one :class:`CheckinDraft` per driver in storage (so a
half-finished check-in survives a restart) and moves it through :class:`Step`;
:class:`CheckinService` applies the rules that need storage (the 10-minute rule, who submits) and
hands a finished draft to the outbox::

    charged = find_outcome(outcomes_from(reference.checkin_status_types.values()), 10)
    draft = CheckinDraft.start(charger_id=1234, charger_name="Lidl Garforth", chat_id=42)
    draft = draft.with_outcome(charged).with_rating(4).with_comment("Quick and easy")
    submission_for(draft)
    # CommentSubmission(charger_id=1234, comment_type_id=10, checkin_status_type_id=10,
    #                   rating=4, comment="Quick and easy")

Outcomes and their groups carry no labels: :mod:`ocm_bot.views.vocabulary` names them for drivers,
and :mod:`ocm_bot.ocm.wire` turns a submission into OCM's JSON.

The draft's ``key`` is its idempotency key: the outbox accepts one submission per key, so a double
tap, a retried webhook delivery or a restart never posts the same check-in twice.

Over 400 lines (about 500) because it is the one place that says what a check-in is: its steps, the outcomes
a driver picks from, the draft's rules and the service that applies the rules needing storage. They
change together (a new step touches all four); OCM's JSON, the labels and the outbox are elsewhere.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ocm_bot.domain.accounts import Accounts
from ocm_bot.domain.outbox import Outbox, OutboxStatus, QueuedCheckin, Submitter
from ocm_bot.errors import InputError
from ocm_bot.ocm.client import CommentSubmission
from ocm_bot.ocm.errors import OcmError
from ocm_bot.ocm.models import CheckinStatusType
from ocm_bot.storage.base import CheckinStorage, OutboxItem, TokensDisabled

log = logging.getLogger(__name__)

GENERAL_COMMENT = 10
"""OCM comment type "General Comment" (the server's default)."""
FAULT_REPORT = 1000
"""OCM comment type "Fault Report (Notice To Users And Operator)"."""

MAX_COMMENT_CHARS = 4000
DEFAULT_MIN_INTERVAL = timedelta(minutes=10)
DRAFT_LIFETIME = timedelta(minutes=15)


class Step(enum.StrEnum):
    """Where a draft is; also the conversation's state names."""

    OUTCOME = "outcome"
    RATING = "rating"
    COMMENT = "comment"
    SUMMARY = "summary"


PREVIOUS_STEP: dict[Step, Step] = {
    Step.RATING: Step.OUTCOME,
    Step.COMMENT: Step.RATING,
    Step.SUMMARY: Step.COMMENT,
}


class Sentiment(enum.StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"


@dataclass(frozen=True, slots=True)
class Outcome:
    """One check-in status type a driver may pick; ``title`` is OCM's (the views label the types they know)."""

    id: int
    title: str
    sentiment: Sentiment

    @property
    def is_failure(self) -> bool:
        return self.sentiment is Sentiment.NEGATIVE


@dataclass(frozen=True, slots=True)
class OutcomeGroup:
    """A first-screen button: one outcome (``outcomes`` has one item) or a group that opens a list."""

    name: OutcomeGroupName
    outcomes: tuple[Outcome, ...]

    @property
    def is_single(self) -> bool:
        return len(self.outcomes) == 1


class OutcomeGroupName(enum.StrEnum):
    """The first screen's groups, in the order of UX.md (also the "open this group" button's data)."""

    OK = "ok"
    FAILED = "failed"
    IN_USE = "in_use"
    BLOCKED = "blocked"
    OTHER = "other"


# OCM's check-in status types (reference data ``CheckinStatusTypes``) the bot knows, with the group
# each goes in. Types OCM adds later fall into "Other" by their IsPositive flag.
_KNOWN: dict[int, tuple[Sentiment, OutcomeGroupName]] = {
    10: (Sentiment.POSITIVE, OutcomeGroupName.OK),
    20: (Sentiment.NEGATIVE, OutcomeGroupName.FAILED),
    22: (Sentiment.NEGATIVE, OutcomeGroupName.FAILED),
    25: (Sentiment.NEGATIVE, OutcomeGroupName.FAILED),
    30: (Sentiment.NEGATIVE, OutcomeGroupName.FAILED),
    40: (Sentiment.NEGATIVE, OutcomeGroupName.FAILED),
    50: (Sentiment.NEGATIVE, OutcomeGroupName.FAILED),
    100: (Sentiment.POSITIVE, OutcomeGroupName.IN_USE),
    110: (Sentiment.NEGATIVE, OutcomeGroupName.BLOCKED),
    120: (Sentiment.NEGATIVE, OutcomeGroupName.BLOCKED),
    130: (Sentiment.NEGATIVE, OutcomeGroupName.BLOCKED),
    140: (Sentiment.POSITIVE, OutcomeGroupName.OTHER),
    150: (Sentiment.NEGATIVE, OutcomeGroupName.OTHER),
    160: (Sentiment.NEGATIVE, OutcomeGroupName.OTHER),
    200: (Sentiment.NEGATIVE, OutcomeGroupName.OTHER),
    210: (Sentiment.POSITIVE, OutcomeGroupName.OTHER),
    0: (Sentiment.NEUTRAL, OutcomeGroupName.OTHER),
}

_SENTIMENT_ORDER = {Sentiment.POSITIVE: 0, Sentiment.NEGATIVE: 1, Sentiment.NEUTRAL: 2}


def _sentiment(is_positive: bool | None) -> Sentiment:
    if is_positive is None:
        return Sentiment.NEUTRAL
    return Sentiment.POSITIVE if is_positive else Sentiment.NEGATIVE


def checkin_sentiment(status: CheckinStatusType | None) -> Sentiment:
    """How a check-in's status reads: the bot's own reading of the types it knows, else OCM's flag."""
    if status is None:
        return Sentiment.NEUTRAL
    known = _KNOWN.get(status.id)
    return known[0] if known else _sentiment(status.is_positive)


def outcomes_from(types: Iterable[CheckinStatusType] | None) -> tuple[Outcome, ...]:
    """The outcomes a driver may pick: OCM's types without the automated ones, known types first.

    With no reference data at hand the bot still offers the types it knows.
    """
    result: list[Outcome] = []
    seen: set[int] = set()
    for status in types or ():
        if status.is_automated_checkin or status.id in seen:
            continue
        seen.add(status.id)
        known = _KNOWN.get(status.id)
        sentiment = known[0] if known else _sentiment(status.is_positive)
        result.append(Outcome(status.id, status.title or f"#{status.id}", sentiment))
    if not result:
        result = [Outcome(type_id, f"#{type_id}", sentiment) for type_id, (sentiment, _) in _KNOWN.items()]
    return tuple(result)


def group_outcomes(outcomes: Iterable[Outcome]) -> tuple[OutcomeGroup, ...]:
    """The first screen: five groups in the order of UX.md; empty groups are left out."""
    members: dict[OutcomeGroupName, list[Outcome]] = {name: [] for name in OutcomeGroupName}
    for outcome in outcomes:
        known = _KNOWN.get(outcome.id)
        members[known[1] if known else OutcomeGroupName.OTHER].append(outcome)
    groups = []
    for name in OutcomeGroupName:
        items = sorted(members[name], key=lambda o: (_SENTIMENT_ORDER[o.sentiment], o.id))
        if items:
            groups.append(OutcomeGroup(name, tuple(items)))
    return tuple(groups)


def find_outcome(outcomes: Iterable[Outcome], outcome_id: int) -> Outcome | None:
    return next((o for o in outcomes if o.id == outcome_id), None)


def default_comment_type(outcome: Outcome | None) -> int:
    """A failed charge is reported to users and the operator as a fault; anything else is general."""
    return FAULT_REPORT if outcome is not None and outcome.is_failure else GENERAL_COMMENT


class CheckinInputError(InputError):
    """The driver's input cannot go into a check-in (the view explains which rule)."""


class CommentTooLong(CheckinInputError):
    pass


class InvalidRating(CheckinInputError):
    pass


@dataclass(frozen=True, slots=True)
class CheckinDraft:
    """A check-in being filled in; stored as a dict between steps."""

    key: str
    charger_id: int
    charger_name: str
    chat_id: int
    step: Step = Step.OUTCOME
    outcome_id: int | None = None
    outcome_failed: bool = False
    rating: int | None = None
    comment: str | None = None
    comment_type_id: int = GENERAL_COMMENT
    panel_message_id: int | None = None
    updated_at: datetime | None = None
    paused: bool = False
    """At the comment step, the driver did something else meanwhile (a new search): typed text is
    then theirs for that, not this check-in's comment, until they come back to the check-in."""

    @classmethod
    def start(cls, *, charger_id: int, charger_name: str, chat_id: int, now: datetime | None = None) -> CheckinDraft:
        return cls(
            key=new_idempotency_key(),
            charger_id=charger_id,
            charger_name=charger_name,
            chat_id=chat_id,
            updated_at=now or datetime.now(UTC),
        )

    def with_outcome(self, outcome: Outcome) -> CheckinDraft:
        return replace(
            self,
            outcome_id=outcome.id,
            outcome_failed=outcome.is_failure,
            comment_type_id=default_comment_type(outcome),
            step=Step.RATING,
        )

    def with_rating(self, rating: int | None) -> CheckinDraft:
        if rating is not None and not 1 <= rating <= 5:
            raise InvalidRating(rating)
        return replace(self, rating=rating, step=Step.COMMENT)

    def with_comment(self, text: str | None) -> CheckinDraft:
        comment = (text or "").strip() or None
        if comment is not None and len(comment) > MAX_COMMENT_CHARS:
            raise CommentTooLong(len(comment))
        return replace(self, comment=comment, step=Step.SUMMARY)

    def with_comment_type(self, comment_type_id: int) -> CheckinDraft:
        if comment_type_id not in (GENERAL_COMMENT, FAULT_REPORT):
            raise CheckinInputError(comment_type_id)
        return replace(self, comment_type_id=comment_type_id)

    def back(self) -> CheckinDraft:
        """One step back; the answers already given stay (they are shown as chosen)."""
        return replace(self, step=PREVIOUS_STEP.get(self.step, Step.OUTCOME))

    def at(self, step: Step) -> CheckinDraft:
        return replace(self, step=step)

    def pause(self) -> CheckinDraft:
        """The driver moved on (a location, a command, another button): stop taking typed text."""
        return replace(self, paused=True)

    def resume(self) -> CheckinDraft:
        """The driver is back on the check-in's panel: typed text is its comment again."""
        return replace(self, paused=False)

    @property
    def takes_typed_comment(self) -> bool:
        return self.step is Step.COMMENT and not self.paused

    def touched(self, now: datetime | None = None) -> CheckinDraft:
        return replace(self, updated_at=now or datetime.now(UTC))

    def is_stale(self, now: datetime, lifetime: timedelta = DRAFT_LIFETIME) -> bool:
        """Left alone longer than a conversation may idle (timeouts do not survive restarts)."""
        return self.updated_at is not None and now - self.updated_at > lifetime

    @property
    def is_complete(self) -> bool:
        return self.outcome_id is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": 1,
            "key": self.key,
            "charger_id": self.charger_id,
            "charger_name": self.charger_name,
            "chat_id": self.chat_id,
            "step": self.step.value,
            "outcome_id": self.outcome_id,
            "outcome_failed": self.outcome_failed,
            "rating": self.rating,
            "comment": self.comment,
            "comment_type_id": self.comment_type_id,
            "panel_message_id": self.panel_message_id,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "paused": self.paused,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> CheckinDraft | None:
        """The stored draft, or None when the document is missing or not a draft we can read."""
        if not data:
            return None
        try:
            updated = data.get("updated_at")
            return cls(
                key=str(data["key"]),
                charger_id=int(data["charger_id"]),
                charger_name=str(data.get("charger_name") or f"#{data['charger_id']}"),
                chat_id=int(data["chat_id"]),
                step=Step(data.get("step") or Step.OUTCOME),
                outcome_id=_optional_int(data.get("outcome_id")),
                outcome_failed=bool(data.get("outcome_failed")),
                rating=_optional_int(data.get("rating")),
                comment=data.get("comment") or None,
                comment_type_id=int(data.get("comment_type_id") or GENERAL_COMMENT),
                panel_message_id=_optional_int(data.get("panel_message_id")),
                updated_at=datetime.fromisoformat(updated) if updated else None,
                paused=bool(data.get("paused")),
            )
        except (KeyError, TypeError, ValueError):
            return None


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


def submission_for(draft: CheckinDraft) -> CommentSubmission:
    """What ``POST /comment`` carries for a finished draft; skipped answers are left out.

    No user name: OCM files a comment under the account that owns the write key or the sign-in
    token and replaces any name sent (ocm-system, ``SubmissionManager``), so the driver's name
    would only travel to be dropped.
    """
    if draft.outcome_id is None:
        raise CheckinInputError("a check-in needs an outcome")
    return CommentSubmission(
        charger_id=draft.charger_id,
        comment_type_id=draft.comment_type_id,
        checkin_status_type_id=draft.outcome_id,
        rating=draft.rating,
        comment=draft.comment[:MAX_COMMENT_CHARS] if draft.comment else None,
    )


def choose_submitter(*, has_user_token: bool, has_write_key: bool) -> Submitter:
    """A driver's own sign-in wins: the check-in is then credited to their OCM profile."""
    if has_user_token:
        return Submitter.USER
    if has_write_key:
        return Submitter.APP
    return Submitter.NONE


def wait_before_next_checkin(
    last_created_at: datetime | None,
    now: datetime,
    *,
    min_interval: timedelta = DEFAULT_MIN_INTERVAL,
) -> timedelta | None:
    """How long the driver must wait before another check-in at the same charger, or None.

    One check-in per driver per charger per ``min_interval`` stops accidental floods.
    """
    if last_created_at is None or min_interval <= timedelta(0):
        return None
    elapsed = now - last_created_at
    if elapsed < timedelta(0) or elapsed >= min_interval:
        return None
    return min_interval - elapsed


def parse_charger_id(text: str | None) -> int | None:
    """A charger ID from ``/checkin 1234``, ``#1234`` or an OCM details link; None if there is none."""
    if not text:
        return None
    candidate = text.strip().rstrip("/").rsplit("/", 1)[-1].lstrip("#")
    if candidate.isdigit() and 0 < int(candidate) < 2**31:
        return int(candidate)
    return None


# The service the handlers call -------------------------------------------------------------------


class SubmitStatus(enum.StrEnum):
    QUEUED = "queued"  # in the outbox, about to be posted
    ALREADY_QUEUED = "already_queued"  # this draft's key was queued before (double tap, replay)
    TOO_SOON = "too_soon"  # the driver checked in at this charger a moment ago
    NO_CREDENTIALS = "no_credentials"  # neither a sign-in nor a write key: use OCM's page
    INCOMPLETE = "incomplete"  # no outcome chosen (a stale button)


@dataclass(frozen=True, slots=True)
class SubmitResult:
    status: SubmitStatus
    item: OutboxItem | None = None
    wait: timedelta | None = None


@dataclass(frozen=True, slots=True)
class ChargerLookup:
    """A charger's name for the conversation; ``found`` False when OCM says there is no such ID."""

    name: str
    found: bool = True


@dataclass
class CheckinService:
    """Drafts in storage, the 10-minute rule, and handing finished check-ins to the outbox.

    Example::

        service = CheckinService(storage, outbox, accounts, chargers=source, write_key_configured=True)
        draft = await service.begin(user_id=7, chat_id=7, charger_id=1234)
        ...
        result = await service.submit(7, draft, language="en")
    """

    storage: CheckinStorage
    outbox: Outbox
    accounts: Accounts
    chargers: Any = None  # ChargerSource
    write_key_configured: bool = False
    min_interval: timedelta = DEFAULT_MIN_INTERVAL
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    async def outcomes(self) -> tuple[Outcome, ...]:
        types = None
        if self.chargers is not None:
            try:
                types = (await self.chargers.reference_data()).checkin_status_types.values()
            except OcmError as error:
                log.info("check-in status types from reference data unavailable: %s", error)
        return outcomes_from(types)

    async def lookup_charger(self, charger_id: int) -> ChargerLookup:
        """The charger's name; when OCM cannot be asked the check-in still goes ahead by ID."""
        if self.chargers is None:
            return ChargerLookup(f"#{charger_id}")
        try:
            found = await self.chargers.get_chargers([charger_id])
        except OcmError as error:
            log.info("charger %s not looked up for a check-in: %s", charger_id, error)
            return ChargerLookup(f"#{charger_id}")
        if not found:
            return ChargerLookup(f"#{charger_id}", found=False)
        return ChargerLookup(found[0].name)

    async def wait_before(self, user_id: int, charger_id: int, *, draft_key: str | None = None) -> timedelta | None:
        """How long until the driver may check in here again; a draft's own submission never counts."""
        latest = await self.storage.latest_outbox_for(user_id, charger_id)
        if latest is None or latest.status == OutboxStatus.FAILED or latest.key == draft_key:
            return None
        return wait_before_next_checkin(latest.created_at, self.now(), min_interval=self.min_interval)

    async def load_draft(self, user_id: int) -> CheckinDraft | None:
        return CheckinDraft.from_dict(await self.storage.get_draft(user_id))

    async def save_draft(self, user_id: int, draft: CheckinDraft) -> CheckinDraft:
        draft = draft.touched(self.now())
        await self.storage.save_draft(user_id, draft.to_dict())
        return draft

    async def discard_draft(self, user_id: int) -> bool:
        return await self.storage.delete_draft(user_id)

    async def submitter_for(self, user_id: int) -> Submitter:
        has_token = False
        if self.accounts.enabled:
            try:
                has_token = await self.storage.get_ocm_token(user_id) is not None
            except TokensDisabled:
                has_token = False
        return choose_submitter(has_user_token=has_token, has_write_key=self.write_key_configured)

    async def submit(self, user_id: int, draft: CheckinDraft, *, language: str) -> SubmitResult:
        """Queue the draft under its idempotency key and drop it; nothing is posted twice."""
        existing = await self.storage.get_outbox(draft.key)
        if existing is not None:
            await self.discard_draft(user_id)
            return SubmitResult(SubmitStatus.ALREADY_QUEUED, existing)
        if not draft.is_complete:
            return SubmitResult(SubmitStatus.INCOMPLETE)
        wait = await self.wait_before(user_id, draft.charger_id, draft_key=draft.key)
        if wait is not None:
            return SubmitResult(SubmitStatus.TOO_SOON, wait=wait)
        submitter = await self.submitter_for(user_id)
        if submitter is Submitter.NONE:
            return SubmitResult(SubmitStatus.NO_CREDENTIALS)
        queued = QueuedCheckin(
            submission=submission_for(draft),
            submitter=submitter,
            charger_name=draft.charger_name,
            language=language,
            panel_message_id=draft.panel_message_id,
        )
        created = await self.outbox.enqueue(key=draft.key, user_id=user_id, chat_id=draft.chat_id, checkin=queued)
        await self.discard_draft(user_id)
        item = await self.storage.get_outbox(draft.key)
        return SubmitResult(SubmitStatus.QUEUED if created else SubmitStatus.ALREADY_QUEUED, item)
