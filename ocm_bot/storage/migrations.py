"""Versioned, forward-only schema migrations shared by both backends.

Each migration is a list of DDL statements written once for both SQL dialects; the few type names
that differ are placeholders (``{id}``, ``{bigint}``, ``{real}``) filled in by the backend. A
migration and the ``schema_version`` row recording it commit in one transaction, so a crash leaves
the database at the previous version or the next, never in between. Never edit a released
migration: add the next one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


SCHEMA_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at {real} NOT NULL
)"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "users' settings, favourites, key-value state, leases",
        (
            """CREATE TABLE users (
                user_id {bigint} PRIMARY KEY,
                data TEXT NOT NULL,
                updated_at {real} NOT NULL
            )""",
            """CREATE TABLE favourites (
                id {id},
                user_id {bigint} NOT NULL,
                charger_id {bigint} NOT NULL,
                added_at {real} NOT NULL,
                UNIQUE (user_id, charger_id)
            )""",
            """CREATE TABLE kv (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL,
                updated_at {real} NOT NULL
            )""",
            """CREATE TABLE leases (
                name TEXT PRIMARY KEY,
                holder TEXT NOT NULL,
                expires_at {real} NOT NULL
            )""",
        ),
    ),
    Migration(
        2,
        "check-in drafts and outbox",
        (
            """CREATE TABLE drafts (
                user_id {bigint} PRIMARY KEY,
                data TEXT NOT NULL,
                updated_at {real} NOT NULL
            )""",
            """CREATE TABLE outbox (
                key TEXT PRIMARY KEY,
                user_id {bigint} NOT NULL,
                chat_id {bigint} NOT NULL,
                charger_id {bigint},
                payload TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'pending',
                attempts INTEGER NOT NULL DEFAULT 0,
                created_at {real} NOT NULL,
                next_attempt_at {real} NOT NULL,
                claimed_by TEXT,
                lease_until {real},
                last_error TEXT,
                result TEXT
            )""",
            "CREATE INDEX outbox_due ON outbox (status, next_attempt_at)",
            "CREATE INDEX outbox_user_charger ON outbox (user_id, charger_id, created_at)",
        ),
    ),
    Migration(
        3,
        "group subscriptions and notification history",
        (
            """CREATE TABLE subscriptions (
                id {id},
                chat_id {bigint} NOT NULL,
                data TEXT NOT NULL,
                created_at {real} NOT NULL,
                updated_at {real} NOT NULL
            )""",
            "CREATE INDEX subscriptions_chat ON subscriptions (chat_id)",
            """CREATE TABLE notified (
                chat_id {bigint} NOT NULL,
                charger_id {bigint} NOT NULL,
                fingerprint TEXT NOT NULL,
                notified_at {real} NOT NULL,
                PRIMARY KEY (chat_id, charger_id)
            )""",
            "CREATE INDEX notified_at ON notified (notified_at)",
        ),
    ),
    Migration(
        4,
        "python-telegram-bot persistence: conversations, user and chat data",
        (
            """CREATE TABLE ptb_conversations (
                name TEXT NOT NULL,
                key TEXT NOT NULL,
                state TEXT NOT NULL,
                PRIMARY KEY (name, key)
            )""",
            """CREATE TABLE ptb_data (
                kind TEXT NOT NULL,
                entity_id {bigint} NOT NULL,
                data TEXT NOT NULL,
                PRIMARY KEY (kind, entity_id)
            )""",
        ),
    ),
    Migration(
        5,
        "OCM sign-in tokens, encrypted",
        (
            """CREATE TABLE ocm_tokens (
                user_id {bigint} PRIMARY KEY,
                ciphertext TEXT NOT NULL,
                expires_at {real},
                updated_at {real} NOT NULL
            )""",
        ),
    ),
    Migration(
        6,
        "short-lived state that buttons need (search results), shared by every instance",
        (
            """CREATE TABLE short_lived (
                kind TEXT NOT NULL,
                key TEXT NOT NULL,
                data TEXT NOT NULL,
                expires_at {real} NOT NULL,
                user_id {bigint},
                PRIMARY KEY (kind, key)
            )""",
            "CREATE INDEX short_lived_expiry ON short_lived (expires_at)",
            "CREATE INDEX short_lived_user ON short_lived (user_id)",
        ),
    ),
)

HEAD = MIGRATIONS[-1].version
assert [m.version for m in MIGRATIONS] == list(range(1, HEAD + 1)), "versions are 1, 2, 3..."
