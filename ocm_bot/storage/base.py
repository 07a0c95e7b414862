"""The storage interface the domain codes against, its records and its errors.

One small protocol per consumer (``FavouriteStore``, ``OutboxStore``, ``TokenStore`` ...); ``Storage``
is all of them, which both backends implement. Over 400 lines only because it documents the contract
of every method; there is no logic here.

Storage keeps JSON-able data only (dicts, lists, str, int, float, bool, None); the domain owns its
dataclasses and converts them to and from dicts, so this package never imports the domain.
Times are timezone-aware ``datetime`` objects in UTC.

Errors::

    StorageError
     ├── StorageUnavailable       the database cannot be reached or is busy: try again later
     ├── UnsupportedDatabaseUrl   DATABASE_URL names a database we cannot use
     ├── SchemaTooNew             the database was migrated by a newer release (forward-only)
     └── TokensDisabled           no STORAGE_SECRET: OCM sign-in tokens cannot be stored
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ocm_bot.errors import OcmBotError

JSON = Any
"""A JSON-able value: dict, list, str, int, float, bool or None."""


class StorageError(OcmBotError):
    """Base class of every error raised by the storage package."""


class StorageUnavailable(StorageError):
    """The database is unreachable, restarting, locked or full: tell the user to try again later.

    Retrying is safe: writes are keyed or idempotent (only ``save_subscription`` without an id
    could create a duplicate, if the connection broke during the commit itself).
    """


class UnsupportedDatabaseUrl(StorageError):
    """DATABASE_URL has a scheme we do not support (only sqlite:/// and postgresql://)."""


class SchemaTooNew(StorageError):
    """The database's schema is newer than this code knows; migrations never go backwards."""


class TokensDisabled(StorageError):
    """OCM sign-in is disabled because STORAGE_SECRET is not set (tokens are never kept in clear)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class OutboxStatus(enum.StrEnum):
    """An outbox item's ``status`` (the stored strings are these values)."""

    PENDING = "pending"  # to send; possibly claimed by an instance until its lease ends
    SENT = "sent"  # OCM took it (or it was found on OCM)
    FAILED = "failed"  # for good; ``last_error`` says why


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One check-in waiting to be (or already) posted to OCM.

    ``status`` is :attr:`~OutboxStatus.PENDING` (to send; possibly claimed by an instance until
    ``lease_until``), :attr:`~OutboxStatus.SENT` (``result`` holds what OCM answered) or
    :attr:`~OutboxStatus.FAILED` (permanently; ``last_error``). A retryable failure puts the item
    back to pending with a later ``next_attempt_at``.
    """

    key: str
    user_id: int
    chat_id: int
    charger_id: int | None
    payload: JSON
    status: OutboxStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    claimed_by: str | None
    lease_until: datetime | None
    last_error: str | None
    result: JSON


@dataclass(frozen=True, slots=True)
class Subscription:
    """A group's subscription to an area; ``data`` (location, radius, filters) belongs to the domain."""

    id: int
    chat_id: int
    data: JSON
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Notice:
    """Something to tell a chat about a charger, queued once (:meth:`NotificationLog.record_notices`).

    ``fingerprint`` names the charger's state told (as in ``mark_notified``); ``entries`` are what
    the queue keeps for the sender (JSON-able, one per event).
    """

    chat_id: int
    charger_id: int
    fingerprint: str
    entries: tuple[JSON, ...]


@dataclass(frozen=True, slots=True)
class OcmToken:
    """A driver's OCM sign-in token, decrypted."""

    token: str
    expires_at: datetime | None


class UserStore(Protocol):
    """Users' preferences: an opaque JSON document per user."""

    @abc.abstractmethod
    async def get_user(self, user_id: int) -> dict[str, JSON] | None:
        """The document last saved for the user, or None."""

    @abc.abstractmethod
    async def save_user(self, user_id: int, data: dict[str, JSON]) -> None:
        """Replace the user's document (the row also records when, as ``updated_at``)."""


class FavouriteStore(Protocol):
    """Each user's favourite chargers."""

    @abc.abstractmethod
    async def add_favourite(self, user_id: int, charger_id: int) -> bool:
        """Add a favourite charger; False if it was a favourite already (its position is kept)."""

    @abc.abstractmethod
    async def remove_favourite(self, user_id: int, charger_id: int) -> bool:
        """Remove a favourite; False if it was not one."""

    @abc.abstractmethod
    async def list_favourites(self, user_id: int) -> list[int]:
        """The user's favourite charger ids, oldest first."""

    @abc.abstractmethod
    async def is_favourite(self, user_id: int, charger_id: int) -> bool: ...

    async def favourite_owners(self, charger_ids: Sequence[int]) -> dict[int, list[int]]:
        """The users who keep each of ``charger_ids`` as a favourite (chargers nobody keeps are left out)."""
        ...

    @abc.abstractmethod
    async def has_favourites(self) -> bool:
        """Whether any driver keeps a favourite (the watch poll has something to alert about)."""
        ...


class DraftStore(Protocol):
    """Check-in drafts: at most one per user."""

    @abc.abstractmethod
    async def save_draft(self, user_id: int, draft: dict[str, JSON]) -> None: ...

    @abc.abstractmethod
    async def get_draft(self, user_id: int) -> dict[str, JSON] | None: ...

    @abc.abstractmethod
    async def delete_draft(self, user_id: int) -> bool: ...

    @abc.abstractmethod
    async def list_drafts(self) -> list[tuple[int, dict[str, JSON]]]:
        """Every draft as ``(user_id, draft)``: a restart rebuilds the open check-ins from them."""


class OutboxStore(Protocol):
    """The check-in outbox: submissions waiting to be (or already) posted to OCM."""

    @abc.abstractmethod
    async def enqueue_outbox(
        self,
        key: str,
        user_id: int,
        chat_id: int,
        payload: JSON,
        *,
        charger_id: int | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Queue a submission under an idempotency key; False (and no change) if the key exists.

        It is due at once. ``charger_id`` lets ``latest_outbox_for`` enforce the rate limit.
        """

    @abc.abstractmethod
    async def get_outbox(self, key: str) -> OutboxItem | None: ...

    @abc.abstractmethod
    async def due_outbox(self, now: datetime | None = None, limit: int = 50) -> list[OutboxItem]:
        """Pending items due at ``now`` and not claimed by a live lease, oldest due first (read only)."""

    @abc.abstractmethod
    async def claim_due_outbox(
        self,
        instance_id: str,
        *,
        now: datetime | None = None,
        lease_seconds: float = 60,
        limit: int = 50,
    ) -> list[OutboxItem]:
        """Claim due items for ``instance_id`` until ``now + lease_seconds`` and return them.

        Two instances never claim the same item while a lease lives; an item whose claimer died
        is claimable again once its lease has expired.
        """

    @abc.abstractmethod
    async def mark_outbox_sent(self, key: str, result: JSON = None) -> bool:
        """Record a successful post; False if the key is unknown (e.g. the user was forgotten)."""

    @abc.abstractmethod
    async def mark_outbox_failed(
        self,
        key: str,
        error: str,
        *,
        next_attempt_at: datetime | None = None,
        permanent: bool = False,
    ) -> bool:
        """Record a failed attempt: retried at ``next_attempt_at`` unless ``permanent``."""

    @abc.abstractmethod
    async def reschedule_outbox(self, key: str, next_attempt_at: datetime, *, now: datetime | None = None) -> bool:
        """Move a pending item's next attempt (attempts and last error unchanged).

        False if the item is not pending or an instance holds a live claim on it (it is being sent).
        """

    @abc.abstractmethod
    async def latest_outbox_for(self, user_id: int, charger_id: int) -> OutboxItem | None:
        """The user's most recent submission for a charger (any status), for the rate limit."""

    @abc.abstractmethod
    async def outbox_for_user(self, user_id: int) -> list[OutboxItem]:
        """All of the user's submissions, newest first."""

    @abc.abstractmethod
    async def prune_outbox(self, older_than: datetime) -> int:
        """Delete sent and permanently failed items created before ``older_than``; how many."""


class SubscriptionStore(Protocol):
    """Group subscriptions to an area."""

    @abc.abstractmethod
    async def save_subscription(self, chat_id: int, data: JSON, *, subscription_id: int | None = None) -> int:
        """Create a subscription (or replace ``subscription_id``'s data) and return its id."""

    @abc.abstractmethod
    async def list_subscriptions(self) -> list[Subscription]:
        """Every subscription, by id."""

    @abc.abstractmethod
    async def subscriptions_for(self, chat_id: int) -> list[Subscription]: ...

    @abc.abstractmethod
    async def delete_subscription(self, subscription_id: int) -> bool: ...

    @abc.abstractmethod
    async def forget_chat(self, chat_id: int) -> None:
        """Remove a chat's subscriptions, notification history and chat data (bot left a group)."""


class NotificationLog(Protocol):
    """Notification de-duplication: which chat was told about which charger state."""

    @abc.abstractmethod
    async def mark_notified(
        self, chat_id: int, charger_id: int, fingerprint: str, *, now: datetime | None = None
    ) -> bool:
        """True if the chat has not been told about this charger in this state (``fingerprint``)."""

    @abc.abstractmethod
    async def prune_notified(self, older_than: datetime) -> int: ...

    @abc.abstractmethod
    async def record_notices(
        self,
        notices: Sequence[Notice],
        *,
        queue_key: str,
        values: Mapping[str, JSON] | None = None,
        now: datetime | None = None,
    ) -> list[bool]:
        """In ONE transaction: mark each notice notified (as ``mark_notified``), append the entries
        of every newly marked one to its chat's list in the queue document stored under
        ``queue_key`` (``{"<chat_id>": [entry, ...]}``), and store ``values`` (None deletes a key).

        Whether each notice was new. A crash leaves either all of it or none of it: an event is
        never marked told without being queued, nor queued twice.
        """


class ValueStore(Protocol):
    """Small bot state under string keys."""

    @abc.abstractmethod
    async def get_value(self, key: str) -> JSON:
        """The value stored under ``key``, or None."""

    @abc.abstractmethod
    async def set_value(self, key: str, value: JSON) -> None:
        """Store a JSON-able value; None deletes the key."""

    @abc.abstractmethod
    async def values_with_prefix(self, prefix: str, *, after: str = "", limit: int = 1000) -> list[tuple[str, JSON]]:
        """Up to ``limit`` ``(key, value)`` whose key starts with ``prefix`` and sorts after ``after``, by key."""

    @abc.abstractmethod
    async def delete_values(self, keys: Sequence[str], *, unchanged_since: datetime) -> int:
        """Delete those of ``keys`` not stored again since ``unchanged_since``; how many."""

    @abc.abstractmethod
    async def update_value(self, key: str, change: Callable[[JSON], JSON]) -> JSON:
        """Read, change and store the value under ``key`` in one transaction (None deletes it).

        ``change`` gets the stored value (None if none) and returns the new one, which is returned.
        Two instances updating the same key at once do not lose each other's change.
        """


class TokenStore(Protocol):
    """OCM sign-in tokens, encrypted at rest."""

    @property
    @abc.abstractmethod
    def tokens_enabled(self) -> bool:
        """False without STORAGE_SECRET: sign-in must be disabled with a clear message."""

    @abc.abstractmethod
    async def save_ocm_token(self, user_id: int, token: str, expires_at: datetime | None = None) -> None:
        """Encrypt and store the token; raises ``TokensDisabled`` without a secret."""

    @abc.abstractmethod
    async def get_ocm_token(self, user_id: int) -> OcmToken | None:
        """The decrypted token; None if none, expired, or encrypted under another secret.

        Raises ``TokensDisabled`` without a secret.
        """

    @abc.abstractmethod
    async def delete_ocm_token(self, user_id: int) -> bool: ...


class UserEraser(Protocol):
    """/forget: everything about a user, in one transaction."""

    @abc.abstractmethod
    async def forget_user(self, user_id: int) -> bool:
        """Remove everything stored about a user in one transaction; False if there was nothing.

        That is the settings document, favourites, draft, OCM token, short-lived state (searches,
        live locations), every outbox item (pending ones are never sent), the user's conversation
        states, user data and private-chat data, subscriptions and notification history of the
        private chat.
        """


class LeaseStore(Protocol):
    """Leases for periodic work across instances."""

    @abc.abstractmethod
    async def try_acquire_lease(self, name: str, holder: str, ttl_seconds: float) -> bool:
        """Take or renew the lease ``name`` for ``holder`` for ``ttl_seconds``.

        True if ``holder`` now holds it (re-entrant: the holder renews). Another holder gets it
        only after the lease expired, so a killed holder is replaced within ``ttl_seconds``.
        Call it every poll interval with a ttl of about two intervals.
        """

    @abc.abstractmethod
    async def release_lease(self, name: str, holder: str) -> bool: ...


class ConversationStore(Protocol):
    """python-telegram-bot persistence: conversation states, user and chat data (used by StoragePersistence)."""

    @abc.abstractmethod
    async def load_conversations(self, name: str) -> list[tuple[list[int | str], JSON]]:
        """Every (key, state) stored for the conversation handler ``name``."""

    @abc.abstractmethod
    async def save_conversation(self, name: str, key: list[int | str], state: JSON) -> None:
        """Store a conversation's state; None ends it (deletes the row)."""

    @abc.abstractmethod
    async def load_ptb_data(self, kind: str) -> dict[int, JSON]:
        """All ``"user"`` or ``"chat"`` data, by id."""

    @abc.abstractmethod
    async def save_ptb_data(self, kind: str, entity_id: int, data: JSON) -> None:
        """Store one user's or chat's data; None deletes it."""


class ShortLivedStore(Protocol):
    """Short-lived state that a button needs (a search result for paging), shared by every instance.

    Values live ``ttl_seconds`` on the database's clock, so every instance agrees when they expire.
    """

    @abc.abstractmethod
    async def put_short_lived(
        self, kind: str, key: str, value: JSON, ttl_seconds: float, *, user_id: int | None = None
    ) -> None:
        """Store (or replace) ``value`` under ``kind`` and ``key`` for ``ttl_seconds``.

        ``user_id``: whose it is (a searched place, a live location), so that /forget deletes it."""

    @abc.abstractmethod
    async def get_short_lived(self, kind: str, key: str) -> JSON:
        """The value stored under ``kind`` and ``key``, or None once expired or unknown."""

    @abc.abstractmethod
    async def delete_short_lived(self, kind: str, key: str) -> bool: ...

    @abc.abstractmethod
    async def prune_short_lived(self) -> int:
        """Delete expired values; how many."""


class CheckinStorage(DraftStore, OutboxStore, TokenStore, Protocol):
    """What the check-in service uses: drafts, the rate limit's last submission, the driver's token."""


class OutboxDelivery(OutboxStore, LeaseStore, ValueStore, TokenStore, Protocol):
    """What delivering the outbox uses: the queue, a lease to prune once, in-flight marks, tokens."""


class Storage(
    UserStore,
    FavouriteStore,
    DraftStore,
    OutboxStore,
    SubscriptionStore,
    NotificationLog,
    ValueStore,
    TokenStore,
    UserEraser,
    LeaseStore,
    ConversationStore,
    ShortLivedStore,
    abc.ABC,
):
    """Everything the bot keeps across restarts, behind one async interface.

    Two implementations behave the same: ``SqliteStorage`` (default, one file) and
    ``PostgresStorage`` (several bot instances). Get one with ``open_storage``::

        storage = await open_storage(database_url, data_dir=Path("data"), secret=storage_secret)
        try:
            await storage.save_user(42, {"unit": "km", "min_power_kw": 50})
            prefs = await storage.get_user(42)          # {"unit": "km", "min_power_kw": 50}
            await storage.add_favourite(42, 1234)
        finally:
            await storage.close()

    Every method is one transaction; several methods are not one transaction together.

    Consumers are typed against the small protocol they use (``FavouriteStore``, ``OutboxStore``
    ...), so a reader sees what each one touches and a test double implements only that.
    """

    # --- life cycle ---------------------------------------------------------------------------
    @abc.abstractmethod
    async def schema_version(self) -> int: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    async def __aenter__(self) -> Storage:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
