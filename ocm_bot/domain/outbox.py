"""Delivering check-ins and photos to OCM: nothing lost, nothing twice.

Over 400 lines: the one delivery path for both kinds of submission (check-ins and photos) and their
in-doubt checks, kept in one module so the rules against posting twice live in one place.

A submitted check-in goes into the storage outbox under its draft's idempotency key, so a double
tap, a retried webhook delivery or a restart finds the key taken and posts nothing new. Delivery
claims due items with a lease (one instance per item), posts each once, and records what happened:

    delivered        OCM said OK (or a post whose answer was lost turned out to be on OCM)
    retry            OCM down, slow, 5xx, 429, read-only: kept and retried with backoff
    needs_sign_in    the driver's OCM sign-in expired (401): kept until they /login again
    rejected         OCM refused it (400, "Error: Validation Failed"): never marked delivered
    gave_up          still failing after ``max_age``: the driver is told and given OCM's own page

A photo (:class:`QueuedPhoto`, ``POST /mediaitem``) takes the same path; its image waits in storage
beside the item (``photo-file:<key>``) from the moment the driver confirmed it until OCM took it or
refused it for good.

OCM's ``POST /comment`` and ``POST /mediaitem`` have no idempotency key, so a post whose answer
never came (timeout, reset, a crash mid-request) may have been stored anyway. Such an item is marked
*in doubt*; before posting it again the outbox reads the charger's comments (or photos) and looks
for it. Example::

    outbox = Outbox(storage, ocm_client, write_key=None)
    await outbox.enqueue(key=draft.key, user_id=7, chat_id=7, checkin=queued)
    for delivery in await outbox.deliver_due():
        ...  # tell delivery.item.chat_id what happened (the handler layer does)
"""

from __future__ import annotations

import base64
import contextlib
import enum
import logging
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ocm_bot import metrics
from ocm_bot.ocm.client import CommentSubmission, PhotoSubmission
from ocm_bot.ocm.errors import OcmAuthError, OcmError, OcmRateLimited, OcmRejected
from ocm_bot.ocm.models import Comment, MediaItem
from ocm_bot.ocm.query import PoiQuery
from ocm_bot.ocm.wire import comment_body, comment_fields
from ocm_bot.storage.base import OutboxDelivery, OutboxItem, TokensDisabled, utc_now
from ocm_bot.storage.base import OutboxStatus as OutboxStatus  # the views name it from here

log = logging.getLogger(__name__)

_INFLIGHT_PREFIX = "outbox-inflight:"
# A comment's DateCreated comes from OCM's clock; allow for some skew when matching a lost post.
_CLOCK_SKEW = timedelta(minutes=1)


class OutboxReason(enum.StrEnum):
    """Why an item is not delivered, as its stored ``last_error`` starts (the stored strings are these values).

    The first ones are the whole note; the last three are followed by ``": "`` and the error (:func:`note`).
    """

    IN_DOUBT = "in-doubt"  # a post whose answer never came: look on OCM before posting again
    NEEDS_SIGN_IN = "needs-sign-in"  # parked until the driver signs in again
    NO_CREDENTIALS = "no-credentials"  # neither a write key nor a sign-in: refused for good
    SIGN_IN_NEVER_CAME = "gave up waiting for a sign-in"
    RETRY = "retry"
    REJECTED = "rejected"
    GAVE_UP = "gave up"


NEEDS_SIGN_IN = OutboxReason.NEEDS_SIGN_IN  # the name views/checkin.py imports


def note(reason: OutboxReason, detail: object) -> str:
    """A stored ``last_error``: the reason and what went wrong, within the column's 500 characters."""
    return f"{reason}: {detail}"[:500]


class Submitter(enum.StrEnum):
    """Whose credentials post a check-in."""

    USER = "user"  # the driver's own OCM sign-in (Bearer token)
    APP = "app"  # the operator's write-enabled application key
    NONE = "none"  # neither: the driver is sent to OCM's own check-in page


class DeliveryResult(enum.StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    NEEDS_SIGN_IN = "needs_sign_in"
    REJECTED = "rejected"
    GAVE_UP = "gave_up"


_FINAL = frozenset({DeliveryResult.DELIVERED, DeliveryResult.REJECTED, DeliveryResult.GAVE_UP})


@dataclass(frozen=True, slots=True)
class QueuedCheckin:
    """What an outbox item carries: the comment to post and what to tell the driver.

    Stored as a payload whose ``submission`` is OCM's ``POST /comment`` body (:mod:`ocm_bot.ocm.wire`),
    so items queued by earlier releases deliver unchanged.
    """

    submission: CommentSubmission
    submitter: Submitter
    charger_name: str
    language: str = "en"
    panel_message_id: int | None = None

    @property
    def charger_id(self) -> int:
        return self.submission.charger_id

    def to_payload(self) -> dict[str, Any]:
        return {
            "v": 1,
            "submission": comment_body(self.submission),
            "submitter": self.submitter.value,
            "charger_name": self.charger_name,
            "language": self.language,
            "panel_message_id": self.panel_message_id,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> QueuedCheckin:
        fields = comment_fields(payload["submission"])
        # A user name queued by an older release is not sent: OCM would replace it anyway.
        fields.pop("user_name", None)
        return cls(
            submission=CommentSubmission(**fields),
            submitter=Submitter(payload.get("submitter") or Submitter.APP),
            charger_name=str(payload.get("charger_name") or ""),
            language=str(payload.get("language") or "en"),
            panel_message_id=payload.get("panel_message_id"),
        )


PHOTO_KIND = "photo"
PHOTO_FILE_PREFIX = "photo-file:"


def photo_file_key(key: str) -> str:
    """Where a queued photo's image waits in storage (a value beside its outbox item)."""
    return PHOTO_FILE_PREFIX + key


@dataclass(frozen=True, slots=True)
class QueuedPhoto:
    """A photo waiting for ``POST /mediaitem``; its image is kept in storage under :func:`photo_file_key`."""

    charger_id: int
    mime_type: str
    caption: str | None
    submitter: Submitter
    charger_name: str
    language: str = "en"
    panel_message_id: int | None = None

    def to_payload(self) -> dict[str, Any]:
        return {
            "v": 1,
            "kind": PHOTO_KIND,
            "charger_id": self.charger_id,
            "mime_type": self.mime_type,
            "caption": self.caption,
            "submitter": self.submitter.value,
            "charger_name": self.charger_name,
            "language": self.language,
            "panel_message_id": self.panel_message_id,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> QueuedPhoto:
        return cls(
            charger_id=int(payload["charger_id"]),
            mime_type=str(payload.get("mime_type") or "image/jpeg"),
            caption=payload.get("caption") or None,
            submitter=Submitter(payload.get("submitter") or Submitter.APP),
            charger_name=str(payload.get("charger_name") or ""),
            language=str(payload.get("language") or "en"),
            panel_message_id=payload.get("panel_message_id"),
        )

    def submission(self, image: bytes) -> PhotoSubmission:
        return PhotoSubmission(self.charger_id, image, self.mime_type, self.caption)


Queued = QueuedCheckin | QueuedPhoto


def queued_from_payload(payload: Mapping[str, Any]) -> Queued:
    """An outbox item's payload as what it carries: a check-in (any release's) or a photo."""
    if payload.get("kind") == PHOTO_KIND:
        return QueuedPhoto.from_payload(payload)
    return QueuedCheckin.from_payload(payload)


def matches_photo(media: MediaItem, photo: QueuedPhoto, *, since: datetime) -> bool:
    """Whether ``media`` on OCM is ``photo``'s upload queued at ``since`` (same caption, dated after it).

    OCM keeps no client reference with a photo, so two captionless photos of one charger posted in
    the same minute look alike; the in-doubt check then takes the other for ours rather than
    risk posting the same picture twice.
    """
    created = media.date_created
    if created is None:
        return False
    if created.tzinfo is None:
        created = created.replace(tzinfo=since.tzinfo)
    return created >= since - _CLOCK_SKEW and (media.comment or None) == (photo.caption or None)


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of one delivery attempt, for the driver's notification (``checkin`` may be a photo)."""

    item: OutboxItem
    checkin: Queued
    result: DeliveryResult
    error: OcmError | None = None
    retry_at: datetime | None = None

    @property
    def first_attempt(self) -> bool:
        return self.item.attempts == 0


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff between attempts: 30 s, 1 min, 2 min, ... at most 30 min."""

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(minutes=30)

    def delay(self, attempts: int, retry_after: float | None = None) -> timedelta:
        wait = min(self.cap, self.base * (2 ** max(0, attempts)))
        if retry_after is not None:
            wait = max(wait, timedelta(seconds=retry_after))
        return wait


def matches_submission(comment: Comment, submission: CommentSubmission, *, since: datetime) -> bool:
    """Whether ``comment`` on OCM is the post of ``submission`` queued at ``since``.

    Only a comment dated after the check-in was queued counts (less OCM's possible clock skew); one
    without a date proves nothing, so the check-in is posted rather than lost.
    """
    created = comment.date_created
    if created is None:
        return False
    if created.tzinfo is None:
        created = created.replace(tzinfo=since.tzinfo)
    if created < since - _CLOCK_SKEW:
        return False
    status_id = comment.checkin_status.id if comment.checkin_status else None
    return (
        status_id == submission.checkin_status_type_id
        and comment.rating == submission.rating
        and (comment.text or None) == (submission.comment or None)
    )


def charger_with_comments(charger_id: int) -> PoiQuery:
    """One charger by ID with its comments: never answered from the OCM client's search cache, and
    its answer replaces the cached charger (with and without comments)."""
    return PoiQuery(chargepointid=(charger_id,), maxresults=1, includecomments=True)


def charger_refresher(client: Any) -> Callable[[int], Awaitable[None]]:
    """An :attr:`Outbox.refresh_charger` that reads the charger again from OCM after a delivery, so
    the driver's next look at it shows the check-in."""

    async def refresh(charger_id: int) -> None:
        await client.search(charger_with_comments(charger_id))

    return refresh


_COUNTED_AS = {
    DeliveryResult.DELIVERED: "delivered",
    DeliveryResult.RETRY: "queued",
    DeliveryResult.NEEDS_SIGN_IN: "queued",
    DeliveryResult.REJECTED: "failed",
    DeliveryResult.GAVE_UP: "failed",
}
"""Each delivery as ``ocm_bot_checkins_total{result}`` counts it (queued: waiting for a retry)."""


@dataclass
class Outbox:
    """Queues check-ins and delivers them to OCM (see the module docstring)."""

    storage: OutboxDelivery
    client: Any  # OcmClient: submit_comment, search
    write_key: str | None = None
    instance_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}")
    backoff: Backoff = field(default_factory=Backoff)
    lease_seconds: float = 90.0  # longer than the OCM client's total timeout plus the check read
    max_age: timedelta = timedelta(days=2)
    park_for: timedelta = timedelta(days=30)
    now: Callable[[], datetime] = utc_now
    refresh_charger: Callable[[int], Any] | None = None

    async def enqueue(self, *, key: str, user_id: int, chat_id: int, checkin: QueuedCheckin) -> bool:
        """Queue a check-in; False when this key was queued before (a double tap, a retry)."""
        queued = await self.storage.enqueue_outbox(
            key, user_id, chat_id, checkin.to_payload(), charger_id=checkin.charger_id, now=self.now()
        )
        if queued:
            metrics.CHECKINS.labels(result="submitted").inc()
        return queued

    async def keep_photo_file(self, key: str, image: bytes) -> None:
        """Store a photo's image under the key it will be queued with (before it is queued, so a
        queued photo always has its file, whatever instance delivers it and whenever)."""
        await self.storage.set_value(photo_file_key(key), base64.b64encode(image).decode("ascii"))

    async def enqueue_photo(self, *, key: str, user_id: int, chat_id: int, photo: QueuedPhoto) -> bool:
        """Queue a photo whose file :meth:`keep_photo_file` stored; False when this key was queued before."""
        # No charger_id: a photo is not a check-in and must not hold back the next check-in there.
        return await self.storage.enqueue_outbox(key, user_id, chat_id, photo.to_payload(), now=self.now())

    async def deliver_due(self, *, limit: int = 20) -> list[Delivery]:
        """Claim and deliver every due item; one entry per item attempted."""
        items = await self.storage.claim_due_outbox(
            self.instance_id, now=self.now(), lease_seconds=self.lease_seconds, limit=limit
        )
        deliveries = []
        for item in items:
            try:
                delivery = await self._deliver(item)
                deliveries.append(delivery)
                if not isinstance(delivery.checkin, QueuedPhoto):  # photos are not check-ins
                    metrics.CHECKINS.labels(result=_COUNTED_AS[delivery.result]).inc()
                elif delivery.result in _FINAL:
                    await self.storage.set_value(photo_file_key(item.key), None)  # done with the image
            except Exception:
                # One broken item must not block the others; its lease expires and it is retried.
                log.exception("delivering outbox item %s failed", item.key)
        return deliveries

    async def retry_now(self, key: str, user_id: int) -> OutboxItem | None:
        """Make the driver's waiting item due at once (the "Retry" button); None if not theirs or done."""
        item = await self.storage.get_outbox(key)
        if item is None or item.user_id != user_id:
            return None
        if item.status == OutboxStatus.PENDING and item.next_attempt_at > self.now() and not self._leased(item):
            await self._reschedule(item, self.now())
            return await self.storage.get_outbox(key)
        return item

    async def resume_after_sign_in(self, user_id: int) -> int:
        """After a new sign-in, items that waited for one are due at once; how many."""
        count = 0
        for item in await self.storage.outbox_for_user(user_id):
            parked = item.status == OutboxStatus.PENDING and item.last_error == OutboxReason.NEEDS_SIGN_IN
            waiting = parked and not self._leased(item)
            if waiting and await self._reschedule(item, self.now()):
                count += 1
        return count

    async def prune(self, *, keep: timedelta = timedelta(days=30)) -> int:
        """Forget delivered and refused check-ins older than ``keep``; once across instances."""
        if not await self.storage.try_acquire_lease("checkin-outbox-prune", self.instance_id, 3600):
            return 0
        return await self.storage.prune_outbox(self.now() - keep)

    async def pending_for(self, user_id: int) -> list[OutboxItem]:
        return [i for i in await self.storage.outbox_for_user(user_id) if i.status == OutboxStatus.PENDING]

    # Delivery -----------------------------------------------------------------------------------

    async def _deliver(self, item: OutboxItem) -> Delivery:
        checkin = queued_from_payload(item.payload)
        inflight_key = _INFLIGHT_PREFIX + item.key
        in_doubt = item.last_error == OutboxReason.IN_DOUBT or await self.storage.get_value(inflight_key) is not None
        if in_doubt:
            try:
                if await self._already_on_ocm(item, checkin):
                    log.info("outbox item %s was already on OCM; not posting it again", item.key)
                    return await self._delivered(item, checkin, {"status": "OK", "found": True})
            except OcmError as error:
                # Not knowing whether it is there, posting again could double it: wait and look again.
                return await self._retry(item, checkin, error, keep_doubt=True)

        credentials = await self._credentials(item, checkin)
        if credentials is None:
            if checkin.submitter is Submitter.USER:
                return await self._park_for_sign_in(item, checkin, None)
            no_key = OcmAuthError("no write-enabled application key is configured", status=403)
            await self.storage.mark_outbox_failed(item.key, OutboxReason.NO_CREDENTIALS, permanent=True)
            return Delivery(item, checkin, DeliveryResult.REJECTED, no_key)

        image = None
        if isinstance(checkin, QueuedPhoto):
            image = await self._photo_image(item)
            if image is None:
                lost = OcmRejected("the photo's file is gone from storage")
                await self.storage.mark_outbox_failed(item.key, note(OutboxReason.REJECTED, lost), permanent=True)
                return Delivery(item, checkin, DeliveryResult.REJECTED, lost)
        await self.storage.set_value(inflight_key, {"by": self.instance_id, "at": self.now().isoformat()})
        try:
            if isinstance(checkin, QueuedPhoto) and image is not None:
                await self.client.submit_photo(checkin.submission(image), **credentials)
            elif isinstance(checkin, QueuedCheckin):
                await self.client.submit_comment(checkin.submission, **credentials)
        except OcmRejected as error:
            await self.storage.set_value(inflight_key, None)
            if "read only" in error.description.lower():
                return await self._retry(item, checkin, error)
            log.warning("OCM rejected outbox item %s: %s", item.key, error.description)
            reason = note(OutboxReason.REJECTED, error.description)
            await self.storage.mark_outbox_failed(item.key, reason, permanent=True)
            return Delivery(item, checkin, DeliveryResult.REJECTED, error)
        except OcmAuthError as error:
            await self.storage.set_value(inflight_key, None)
            if error.is_user_token and checkin.submitter is Submitter.USER:
                await self._forget_token(item.user_id)
                return await self._park_for_sign_in(item, checkin, error)
            return await self._retry(item, checkin, error)
        except OcmRateLimited as error:
            await self.storage.set_value(inflight_key, None)
            return await self._retry(item, checkin, error)
        except OcmError as error:
            # Unavailable (timeout, reset, 5xx) or unreadable: the post may be stored on OCM anyway.
            await self.storage.set_value(inflight_key, None)
            return await self._retry(item, checkin, error, keep_doubt=True)
        return await self._delivered(item, checkin, {"status": "OK"})

    async def _photo_image(self, item: OutboxItem) -> bytes | None:
        stored = await self.storage.get_value(photo_file_key(item.key))
        if not isinstance(stored, str):
            return None
        try:
            return base64.b64decode(stored)
        except ValueError:
            return None

    async def _credentials(self, item: OutboxItem, checkin: Queued) -> dict[str, str] | None:
        if checkin.submitter is Submitter.USER:
            try:
                stored = await self.storage.get_ocm_token(item.user_id)
            except TokensDisabled:
                return None
            return {"token": stored.token} if stored is not None else None
        return {"write_key": self.write_key} if self.write_key else None

    async def _already_on_ocm(self, item: OutboxItem, checkin: Queued) -> bool:
        chargers = await self.client.search(charger_with_comments(checkin.charger_id))
        if isinstance(checkin, QueuedPhoto):
            return any(
                matches_photo(media, checkin, since=item.created_at)
                for charger in chargers
                if charger.id == checkin.charger_id
                for media in charger.media_items
            )
        return any(
            matches_submission(comment, checkin.submission, since=item.created_at)
            for charger in chargers
            if charger.id == checkin.charger_id
            for comment in charger.comments
        )

    async def _delivered(self, item: OutboxItem, checkin: Queued, result: dict[str, Any]) -> Delivery:
        await self.storage.mark_outbox_sent(item.key, result)
        await self.storage.set_value(_INFLIGHT_PREFIX + item.key, None)
        note = getattr(self.client, "note_own_checkin", None)
        if isinstance(checkin, QueuedCheckin) and note is not None:
            # The driver's next look at a card (from a cached search) shows this check-in at once.
            await note(checkin.submission, self.now())
        if self.refresh_charger is not None:
            try:
                await self.refresh_charger(checkin.charger_id)
            except Exception as error:  # a stale card is not worth failing a delivered check-in
                log.info("could not refresh charger %s after a check-in: %s", checkin.charger_id, error)
        return Delivery(item, checkin, DeliveryResult.DELIVERED)

    async def _retry(self, item: OutboxItem, checkin: Queued, error: OcmError, *, keep_doubt: bool = False) -> Delivery:
        now = self.now()
        if now - item.created_at > self.max_age:
            await self.storage.mark_outbox_failed(item.key, note(OutboxReason.GAVE_UP, error), permanent=True)
            return Delivery(item, checkin, DeliveryResult.GAVE_UP, error)
        retry_after = error.retry_after if isinstance(error, OcmRateLimited) else None
        retry_at = now + self.backoff.delay(item.attempts, retry_after)
        doubt = keep_doubt or item.last_error == OutboxReason.IN_DOUBT
        reason = OutboxReason.IN_DOUBT if doubt else note(OutboxReason.RETRY, error)
        await self.storage.mark_outbox_failed(item.key, reason, next_attempt_at=retry_at)
        log.info("outbox item %s not delivered (%s); next attempt at %s", item.key, error, retry_at.isoformat())
        return Delivery(item, checkin, DeliveryResult.RETRY, error, retry_at)

    async def _park_for_sign_in(self, item: OutboxItem, checkin: Queued, error: OcmError | None) -> Delivery:
        if self.now() - item.created_at > self.park_for:
            # Waited a month for a sign-in that never came: tell the driver rather than keep it forever.
            await self.storage.mark_outbox_failed(item.key, OutboxReason.SIGN_IN_NEVER_CAME, permanent=True)
            return Delivery(item, checkin, DeliveryResult.GAVE_UP, error)
        parked_until = self.now() + self.park_for
        await self.storage.mark_outbox_failed(item.key, OutboxReason.NEEDS_SIGN_IN, next_attempt_at=parked_until)
        return Delivery(item, checkin, DeliveryResult.NEEDS_SIGN_IN, error)

    def _leased(self, item: OutboxItem) -> bool:
        """Claimed by a delivery that may still be running (moving it then could post it twice)."""
        return item.lease_until is not None and item.lease_until > self.now()

    async def _reschedule(self, item: OutboxItem, when: datetime) -> bool:
        # Moving the next attempt is not an attempt: the backoff and the last error stay as they were.
        return await self.storage.reschedule_outbox(item.key, when, now=self.now())

    async def _forget_token(self, user_id: int) -> None:
        with contextlib.suppress(TokensDisabled):
            await self.storage.delete_ocm_token(user_id)
