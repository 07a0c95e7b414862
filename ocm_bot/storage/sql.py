"""The storage logic, written once in the SQL that SQLite and PostgreSQL share.

A backend supplies a connection's transaction (``_transaction``) and a few dialect details; every
query here uses ``?`` placeholders, which the PostgreSQL backend turns into ``%s``. Times are stored
as seconds since the epoch (REAL / DOUBLE PRECISION) and JSON documents as TEXT, so both backends
store the same bytes. Over 400 lines because it is the one implementation of every storage protocol,
a section each; splitting it by protocol would spread the shared helpers and transactions.
"""

from __future__ import annotations

import abc
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

from ocm_bot.storage.base import (
    JSON,
    Notice,
    OcmToken,
    OutboxItem,
    OutboxStatus,
    SchemaTooNew,
    Storage,
    Subscription,
    TokensDisabled,
)
from ocm_bot.storage.migrations import HEAD, MIGRATIONS, SCHEMA_VERSION_TABLE, Migration
from ocm_bot.storage.tokens import TokenCipher

log = logging.getLogger(__name__)

PTB_KINDS = ("user", "chat")

_OUTBOX_COLUMNS = (
    "key, user_id, chat_id, charger_id, payload, status, attempts, created_at, next_attempt_at,"
    " claimed_by, lease_until, last_error, result"
)


class Transaction(Protocol):
    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a statement and return its rows (empty if it returns none)."""

    async def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement and return how many rows it changed."""


def dumps(value: JSON) -> str:
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"storage keeps JSON-able values only: {exc}") from exc
    try:
        text.encode()
    except UnicodeEncodeError:
        # A lone surrogate (a broken emoji in a message) cannot be stored as UTF-8; escaped it can.
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    return text


def loads(text: str | None) -> JSON:
    return None if text is None else json.loads(text)


def epoch(moment: datetime | None) -> float:
    if moment is None:
        return time.time()
    if moment.tzinfo is None:
        raise ValueError("storage needs timezone-aware datetimes")
    return moment.timestamp()


def from_epoch(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def _outbox_item(row: tuple[Any, ...]) -> OutboxItem:
    (key, user_id, chat_id, charger_id, payload, status, attempts, created_at, next_attempt_at,
     claimed_by, lease_until, last_error, result) = row  # fmt: skip
    return OutboxItem(
        key=key,
        user_id=user_id,
        chat_id=chat_id,
        charger_id=charger_id,
        payload=loads(payload),
        status=OutboxStatus(status),
        attempts=attempts,
        created_at=from_epoch(created_at),  # type: ignore[arg-type]
        next_attempt_at=from_epoch(next_attempt_at),  # type: ignore[arg-type]
        claimed_by=claimed_by,
        lease_until=from_epoch(lease_until),
        last_error=last_error,
        result=loads(result),
    )


def _subscription(row: tuple[Any, ...]) -> Subscription:
    sub_id, chat_id, data, created_at = row
    return Subscription(
        id=sub_id,
        chat_id=chat_id,
        data=loads(data),
        created_at=from_epoch(created_at),  # type: ignore[arg-type]
    )


class SqlStorage(Storage):
    """The shared implementation; subclasses connect and say how their SQL differs."""

    #: Column type of an auto-increment primary key, a 64-bit integer and a float.
    id_type: str
    bigint_type: str
    real_type: str
    #: SQL for the database's clock in epoch seconds (leases use it: one clock for all instances).
    now_sql: str
    #: Appended to the sub-select that picks outbox items to claim.
    skip_locked: str = ""
    #: Appended to a read that is changed in the same transaction (SQLite's BEGIN IMMEDIATE locks already).
    for_update: str = ""

    def __init__(self, *, secret: str | None) -> None:
        self._cipher = TokenCipher(secret) if secret else None

    # --- what a backend provides --------------------------------------------------------------
    @abc.abstractmethod
    def _transaction(self, *, write: bool = True) -> AbstractAsyncContextManager[Transaction]:
        """A transaction that commits when the block exits normally and rolls back otherwise."""

    async def _lock_schema(self, tx: Transaction) -> None:
        """Keep other processes from migrating at the same time (SQLite's write lock does)."""

    # --- migrations ---------------------------------------------------------------------------
    def _ddl(self, statement: str) -> str:
        return statement.format(id=self.id_type, bigint=self.bigint_type, real=self.real_type)

    async def migrate(self, target: int | None = None) -> int:
        """Apply every migration up to ``target`` (default: the newest); the version reached."""
        target = HEAD if target is None else target
        while True:
            async with self._transaction() as tx:
                await self._lock_schema(tx)
                await tx.run(self._ddl(SCHEMA_VERSION_TABLE))
                current = await self._current_version(tx)
                if current > HEAD:
                    raise SchemaTooNew(
                        f"the database is at schema version {current}; this release knows up to"
                        f" {HEAD}. Run a newer release (migrations never go backwards)."
                    )
                if current >= target:
                    return current
                migration = MIGRATIONS[current]  # versions are 1..HEAD, in order
                await self._apply(tx, migration)
            log.info("storage migrated to version %d (%s)", migration.version, migration.description)

    async def _apply(self, tx: Transaction, migration: Migration) -> None:
        for statement in migration.statements:
            await tx.run(self._ddl(statement))
        await tx.run(
            "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
            (migration.version, migration.description, time.time()),
        )

    @staticmethod
    async def _current_version(tx: Transaction) -> int:
        rows = await tx.fetch("SELECT MAX(version) FROM schema_version")
        return rows[0][0] or 0

    async def schema_version(self) -> int:
        async with self._transaction(write=False) as tx:
            return await self._current_version(tx)

    # --- small helpers ------------------------------------------------------------------------
    async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with self._transaction(write=False) as tx:
            return await tx.fetch(sql, params)

    async def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._transaction() as tx:
            return await tx.run(sql, params)

    async def _document(self, sql: str, params: Sequence[Any]) -> JSON:
        rows = await self._fetch(sql, params)
        return loads(rows[0][0]) if rows else None

    # --- users --------------------------------------------------------------------------------
    async def get_user(self, user_id: int) -> dict[str, JSON] | None:
        return await self._document("SELECT data FROM users WHERE user_id = ?", (user_id,))

    async def save_user(self, user_id: int, data: dict[str, JSON]) -> None:
        await self._run(
            "INSERT INTO users (user_id, data, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET data = excluded.data,"
            " updated_at = excluded.updated_at",
            (user_id, dumps(data), time.time()),
        )

    # --- favourites ---------------------------------------------------------------------------
    async def add_favourite(self, user_id: int, charger_id: int) -> bool:
        rows = await self._run(
            "INSERT INTO favourites (user_id, charger_id, added_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id, charger_id) DO NOTHING",
            (user_id, charger_id, time.time()),
        )
        return rows == 1

    async def remove_favourite(self, user_id: int, charger_id: int) -> bool:
        rows = await self._run("DELETE FROM favourites WHERE user_id = ? AND charger_id = ?", (user_id, charger_id))
        return rows == 1

    async def list_favourites(self, user_id: int) -> list[int]:
        rows = await self._fetch("SELECT charger_id FROM favourites WHERE user_id = ? ORDER BY id", (user_id,))
        return [charger_id for (charger_id,) in rows]

    async def is_favourite(self, user_id: int, charger_id: int) -> bool:
        rows = await self._fetch("SELECT 1 FROM favourites WHERE user_id = ? AND charger_id = ?", (user_id, charger_id))
        return bool(rows)

    async def favourite_owners(self, charger_ids: Sequence[int]) -> dict[int, list[int]]:
        owners: dict[int, list[int]] = {}
        ids = sorted(set(charger_ids))
        for start in range(0, len(ids), 500):  # well under every driver's parameter limit
            chunk = ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            sql = f"SELECT charger_id, user_id FROM favourites WHERE charger_id IN ({marks}) ORDER BY id"
            for charger_id, user_id in await self._fetch(sql, tuple(chunk)):
                owners.setdefault(charger_id, []).append(user_id)
        return owners

    async def has_favourites(self) -> bool:
        return bool(await self._fetch("SELECT 1 FROM favourites LIMIT 1", ()))

    # --- drafts -------------------------------------------------------------------------------
    async def save_draft(self, user_id: int, draft: dict[str, JSON]) -> None:
        await self._run(
            "INSERT INTO drafts (user_id, data, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET data = excluded.data,"
            " updated_at = excluded.updated_at",
            (user_id, dumps(draft), time.time()),
        )

    async def get_draft(self, user_id: int) -> dict[str, JSON] | None:
        return await self._document("SELECT data FROM drafts WHERE user_id = ?", (user_id,))

    async def delete_draft(self, user_id: int) -> bool:
        return await self._run("DELETE FROM drafts WHERE user_id = ?", (user_id,)) == 1

    async def list_drafts(self) -> list[tuple[int, dict[str, JSON]]]:
        rows = await self._fetch("SELECT user_id, data FROM drafts ORDER BY user_id")
        return [(user_id, loads(data)) for user_id, data in rows]

    # --- outbox -------------------------------------------------------------------------------
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
        created = epoch(now)
        rows = await self._run(
            "INSERT INTO outbox (key, user_id, chat_id, charger_id, payload, status, attempts,"
            " created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)"
            " ON CONFLICT (key) DO NOTHING",
            (key, user_id, chat_id, charger_id, dumps(payload), created, created),
        )
        return rows == 1

    async def get_outbox(self, key: str) -> OutboxItem | None:
        rows = await self._fetch(f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE key = ?", (key,))
        return _outbox_item(rows[0]) if rows else None

    _DUE = "status = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)"

    async def due_outbox(self, now: datetime | None = None, limit: int = 50) -> list[OutboxItem]:
        at = epoch(now)
        rows = await self._fetch(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE {self._DUE} ORDER BY next_attempt_at, created_at, key LIMIT ?",
            (at, at, limit),
        )
        return [_outbox_item(row) for row in rows]

    async def claim_due_outbox(
        self,
        instance_id: str,
        *,
        now: datetime | None = None,
        lease_seconds: float = 60,
        limit: int = 50,
    ) -> list[OutboxItem]:
        at = epoch(now)
        # The outer condition repeats the inner one: PostgreSQL re-checks it on rows that another
        # instance changed meanwhile, and SKIP LOCKED passes over rows another claim is locking.
        rows = await self._run_returning(
            f"UPDATE outbox SET claimed_by = ?, lease_until = ?"
            f" WHERE key IN (SELECT key FROM outbox WHERE {self._DUE}"
            f" ORDER BY next_attempt_at, created_at, key LIMIT ?{self.skip_locked})"
            f" AND {self._DUE} RETURNING {_OUTBOX_COLUMNS}",
            (instance_id, at + lease_seconds, at, at, limit, at, at),
        )
        items = [_outbox_item(row) for row in rows]
        return sorted(items, key=lambda item: (item.next_attempt_at, item.created_at, item.key))

    async def _run_returning(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        async with self._transaction() as tx:
            return await tx.fetch(sql, params)

    async def mark_outbox_sent(self, key: str, result: JSON = None) -> bool:
        rows = await self._run(
            "UPDATE outbox SET status = 'sent', result = ?, attempts = attempts + 1,"
            " claimed_by = NULL, lease_until = NULL, last_error = NULL WHERE key = ?",
            (dumps(result), key),
        )
        return rows == 1

    async def mark_outbox_failed(
        self,
        key: str,
        error: str,
        *,
        next_attempt_at: datetime | None = None,
        permanent: bool = False,
    ) -> bool:
        rows = await self._run(
            "UPDATE outbox SET status = ?, last_error = ?, next_attempt_at = ?,"
            " attempts = attempts + 1, claimed_by = NULL, lease_until = NULL"
            " WHERE key = ? AND status = 'pending'",
            ("failed" if permanent else "pending", error, epoch(next_attempt_at), key),
        )
        return rows == 1

    async def reschedule_outbox(self, key: str, next_attempt_at: datetime, *, now: datetime | None = None) -> bool:
        at = epoch(now)
        rows = await self._run(
            "UPDATE outbox SET next_attempt_at = ?, claimed_by = NULL, lease_until = NULL"
            " WHERE key = ? AND status = 'pending' AND (lease_until IS NULL OR lease_until <= ?)",
            (epoch(next_attempt_at), key, at),
        )
        return rows == 1

    async def latest_outbox_for(self, user_id: int, charger_id: int) -> OutboxItem | None:
        rows = await self._fetch(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE user_id = ? AND charger_id = ?"
            " ORDER BY created_at DESC, key DESC LIMIT 1",
            (user_id, charger_id),
        )
        return _outbox_item(rows[0]) if rows else None

    async def outbox_for_user(self, user_id: int) -> list[OutboxItem]:
        rows = await self._fetch(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE user_id = ? ORDER BY created_at DESC, key DESC",
            (user_id,),
        )
        return [_outbox_item(row) for row in rows]

    async def prune_outbox(self, older_than: datetime) -> int:
        return await self._run(
            "DELETE FROM outbox WHERE status IN ('sent', 'failed') AND created_at < ?",
            (epoch(older_than),),
        )

    # --- subscriptions ------------------------------------------------------------------------
    async def save_subscription(self, chat_id: int, data: JSON, *, subscription_id: int | None = None) -> int:
        now = time.time()
        async with self._transaction() as tx:
            if subscription_id is not None:
                changed = await tx.run(
                    "UPDATE subscriptions SET data = ?, updated_at = ? WHERE id = ? AND chat_id = ?",
                    (dumps(data), now, subscription_id, chat_id),
                )
                if changed != 1:
                    raise KeyError(f"chat {chat_id} has no subscription {subscription_id}")
                return subscription_id
            rows = await tx.fetch(
                "INSERT INTO subscriptions (chat_id, data, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id",
                (chat_id, dumps(data), now, now),
            )
            return rows[0][0]

    async def list_subscriptions(self) -> list[Subscription]:
        rows = await self._fetch("SELECT id, chat_id, data, created_at FROM subscriptions ORDER BY id")
        return [_subscription(row) for row in rows]

    async def subscriptions_for(self, chat_id: int) -> list[Subscription]:
        rows = await self._fetch(
            "SELECT id, chat_id, data, created_at FROM subscriptions WHERE chat_id = ? ORDER BY id",
            (chat_id,),
        )
        return [_subscription(row) for row in rows]

    async def delete_subscription(self, subscription_id: int) -> bool:
        return await self._run("DELETE FROM subscriptions WHERE id = ?", (subscription_id,)) == 1

    async def forget_chat(self, chat_id: int) -> None:
        async with self._transaction() as tx:
            await tx.run("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,))
            await tx.run("DELETE FROM notified WHERE chat_id = ?", (chat_id,))
            await tx.run("DELETE FROM ptb_data WHERE kind = 'chat' AND entity_id = ?", (chat_id,))

    # --- notification de-duplication ----------------------------------------------------------
    async def mark_notified(
        self, chat_id: int, charger_id: int, fingerprint: str, *, now: datetime | None = None
    ) -> bool:
        # The upsert returns a row only when it inserted or changed one: new charger, or new state.
        rows = await self._run_returning(
            "INSERT INTO notified (chat_id, charger_id, fingerprint, notified_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (chat_id, charger_id) DO UPDATE"
            " SET fingerprint = excluded.fingerprint, notified_at = excluded.notified_at"
            " WHERE notified.fingerprint <> excluded.fingerprint RETURNING 1",
            (chat_id, charger_id, fingerprint, epoch(now)),
        )
        return bool(rows)

    async def prune_notified(self, older_than: datetime) -> int:
        return await self._run("DELETE FROM notified WHERE notified_at < ?", (epoch(older_than),))

    async def record_notices(
        self,
        notices: Sequence[Notice],
        *,
        queue_key: str,
        values: Mapping[str, JSON] | None = None,
        now: datetime | None = None,
    ) -> list[bool]:
        at = epoch(now)
        async with self._transaction() as tx:
            new: list[bool] = []
            for notice in notices:
                rows = await tx.fetch(
                    "INSERT INTO notified (chat_id, charger_id, fingerprint, notified_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (chat_id, charger_id) DO UPDATE"
                    " SET fingerprint = excluded.fingerprint, notified_at = excluded.notified_at"
                    " WHERE notified.fingerprint <> excluded.fingerprint RETURNING 1",
                    (notice.chat_id, notice.charger_id, notice.fingerprint, at),
                )
                new.append(bool(rows))
            queued = [(n, is_new) for n, is_new in zip(notices, new, strict=True) if is_new and n.entries]
            if queued:

                def append(stored: JSON) -> JSON:
                    queue = dict(stored) if isinstance(stored, dict) else {}
                    for notice, _ in queued:
                        entries = queue.get(str(notice.chat_id))
                        queue[str(notice.chat_id)] = [*(entries if isinstance(entries, list) else []), *notice.entries]
                    return queue

                await self._update_in(tx, queue_key, append)
            for key, value in (values or {}).items():
                await self._set_in(tx, key, value)
        return new

    async def _set_in(self, tx: Transaction, key: str, value: JSON) -> None:
        if value is None:
            await tx.run("DELETE FROM kv WHERE key = ?", (key,))
            return
        await tx.run(
            "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at",
            (key, dumps(value), time.time()),
        )

    async def _update_in(self, tx: Transaction, key: str, change: Callable[[JSON], JSON]) -> JSON:
        # The row exists before it is read for update, so that two writers queue on its lock.
        await tx.run(
            "INSERT INTO kv (key, value, updated_at) VALUES (?, 'null', ?) ON CONFLICT (key) DO NOTHING",
            (key, time.time()),
        )
        rows = await tx.fetch(f"SELECT value FROM kv WHERE key = ?{self.for_update}", (key,))
        value = change(loads(rows[0][0]) if rows else None)
        await self._set_in(tx, key, value)
        return value

    # --- key-value ----------------------------------------------------------------------------
    async def get_value(self, key: str) -> JSON:
        return await self._document("SELECT value FROM kv WHERE key = ?", (key,))

    async def set_value(self, key: str, value: JSON) -> None:
        if value is None:
            await self._run("DELETE FROM kv WHERE key = ?", (key,))
            return
        await self._run(
            "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at",
            (key, dumps(value), time.time()),
        )

    async def values_with_prefix(self, prefix: str, *, after: str = "", limit: int = 1000) -> list[tuple[str, JSON]]:
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = await self._fetch(
            "SELECT key, value FROM kv WHERE key LIKE ? ESCAPE '\\' AND key > ? ORDER BY key LIMIT ?",
            (pattern, after, limit),
        )
        return [(key, loads(value)) for key, value in rows]

    async def delete_values(self, keys: Sequence[str], *, unchanged_since: datetime) -> int:
        deleted = 0
        async with self._transaction() as tx:
            for key in keys:
                deleted += await tx.run(
                    "DELETE FROM kv WHERE key = ? AND updated_at <= ?", (key, epoch(unchanged_since))
                )
        return deleted

    async def update_value(self, key: str, change: Callable[[JSON], JSON]) -> JSON:
        async with self._transaction() as tx:
            return await self._update_in(tx, key, change)

    # --- short-lived state ---------------------------------------------------------------------
    async def put_short_lived(
        self, kind: str, key: str, value: JSON, ttl_seconds: float, *, user_id: int | None = None
    ) -> None:
        await self._run(
            "INSERT INTO short_lived (kind, key, data, expires_at, user_id)"
            f" VALUES (?, ?, ?, {self.now_sql} + ?, ?)"
            " ON CONFLICT (kind, key) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at,"
            " user_id = excluded.user_id",
            (kind, key, dumps(value), ttl_seconds, user_id),
        )

    async def get_short_lived(self, kind: str, key: str) -> JSON:
        return await self._document(
            f"SELECT data FROM short_lived WHERE kind = ? AND key = ? AND expires_at > {self.now_sql}", (kind, key)
        )

    async def delete_short_lived(self, kind: str, key: str) -> bool:
        return await self._run("DELETE FROM short_lived WHERE kind = ? AND key = ?", (kind, key)) == 1

    async def prune_short_lived(self) -> int:
        return await self._run(f"DELETE FROM short_lived WHERE expires_at <= {self.now_sql}")

    # --- OCM tokens ---------------------------------------------------------------------------
    @property
    def tokens_enabled(self) -> bool:
        return self._cipher is not None

    def _require_cipher(self) -> TokenCipher:
        if self._cipher is None:
            raise TokensDisabled("OCM sign-in is disabled: set STORAGE_SECRET so that tokens are stored encrypted")
        return self._cipher

    async def save_ocm_token(self, user_id: int, token: str, expires_at: datetime | None = None) -> None:
        ciphertext = self._require_cipher().encrypt(user_id, token)
        await self._run(
            "INSERT INTO ocm_tokens (user_id, ciphertext, expires_at, updated_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE"
            " SET ciphertext = excluded.ciphertext, expires_at = excluded.expires_at,"
            " updated_at = excluded.updated_at",
            (user_id, ciphertext, None if expires_at is None else epoch(expires_at), time.time()),
        )

    async def get_ocm_token(self, user_id: int) -> OcmToken | None:
        cipher = self._require_cipher()
        rows = await self._fetch("SELECT ciphertext, expires_at FROM ocm_tokens WHERE user_id = ?", (user_id,))
        if not rows:
            return None
        ciphertext, expires_at = rows[0]
        if expires_at is not None and expires_at <= time.time():
            return None
        token = cipher.decrypt(user_id, ciphertext)
        if token is None:
            log.warning("an OCM token could not be decrypted (STORAGE_SECRET changed?)")
            return None
        return OcmToken(token=token, expires_at=from_epoch(expires_at))

    async def delete_ocm_token(self, user_id: int) -> bool:
        return await self._run("DELETE FROM ocm_tokens WHERE user_id = ?", (user_id,)) == 1

    # --- /forget ------------------------------------------------------------------------------
    async def forget_user(self, user_id: int) -> bool:
        deleted = 0
        async with self._transaction() as tx:
            for statement in (
                "DELETE FROM users WHERE user_id = ?",
                "DELETE FROM favourites WHERE user_id = ?",
                "DELETE FROM drafts WHERE user_id = ?",
                "DELETE FROM ocm_tokens WHERE user_id = ?",
                "DELETE FROM short_lived WHERE user_id = ?",
                "DELETE FROM outbox WHERE user_id = ?",
                # A private chat's id is the user's id.
                "DELETE FROM subscriptions WHERE chat_id = ?",
                "DELETE FROM notified WHERE chat_id = ?",
                "DELETE FROM ptb_data WHERE kind IN ('user', 'chat') AND entity_id = ?",
            ):
                deleted += await tx.run(statement, (user_id,))
            # The /alerts choice (ocm_bot.domain.alerts.ALERTS_KEY).
            deleted += await tx.run("DELETE FROM kv WHERE key = ?", (f"alerts:{user_id}",))
            # Conversation keys are JSON lists of chat, user and message ids, depending on the
            # handler's per_* settings; the user's own are those that name the user's id.
            for name, key in await tx.fetch("SELECT name, key FROM ptb_conversations"):
                if user_id in json.loads(key):
                    deleted += await tx.run("DELETE FROM ptb_conversations WHERE name = ? AND key = ?", (name, key))
        return deleted > 0

    # --- leases -------------------------------------------------------------------------------
    async def try_acquire_lease(self, name: str, holder: str, ttl_seconds: float) -> bool:
        # One upsert: it inserts, renews for the same holder, or takes over an expired lease;
        # otherwise it changes nothing and returns no row.
        rows = await self._run_returning(
            f"INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, {self.now_sql} + ?)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
            " expires_at = excluded.expires_at"
            f" WHERE leases.holder = excluded.holder OR leases.expires_at <= {self.now_sql}"
            " RETURNING holder",
            (name, holder, ttl_seconds),
        )
        return bool(rows)

    async def release_lease(self, name: str, holder: str) -> bool:
        rows = await self._run("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))
        return rows == 1

    # --- python-telegram-bot persistence ------------------------------------------------------
    async def load_conversations(self, name: str) -> list[tuple[list[int | str], JSON]]:
        rows = await self._fetch("SELECT key, state FROM ptb_conversations WHERE name = ?", (name,))
        return [(json.loads(key), loads(state)) for key, state in rows]

    async def save_conversation(self, name: str, key: list[int | str], state: JSON) -> None:
        key_text = dumps(list(key))
        if state is None:
            await self._run("DELETE FROM ptb_conversations WHERE name = ? AND key = ?", (name, key_text))
            return
        await self._run(
            "INSERT INTO ptb_conversations (name, key, state) VALUES (?, ?, ?)"
            " ON CONFLICT (name, key) DO UPDATE SET state = excluded.state",
            (name, key_text, dumps(state)),
        )

    async def load_ptb_data(self, kind: str) -> dict[int, JSON]:
        _check_kind(kind)
        rows = await self._fetch("SELECT entity_id, data FROM ptb_data WHERE kind = ?", (kind,))
        return {entity_id: loads(data) for entity_id, data in rows}

    async def save_ptb_data(self, kind: str, entity_id: int, data: JSON) -> None:
        _check_kind(kind)
        if data is None:
            await self._run("DELETE FROM ptb_data WHERE kind = ? AND entity_id = ?", (kind, entity_id))
            return
        await self._run(
            "INSERT INTO ptb_data (kind, entity_id, data) VALUES (?, ?, ?)"
            " ON CONFLICT (kind, entity_id) DO UPDATE SET data = excluded.data",
            (kind, entity_id, dumps(data)),
        )


def _check_kind(kind: str) -> None:
    if kind not in PTB_KINDS:
        raise ValueError(f"kind must be one of {PTB_KINDS}, not {kind!r}")


__all__ = ["PTB_KINDS", "SqlStorage", "Transaction"]
