"""Storage behind one small interface: SQLite by default, PostgreSQL through DATABASE_URL.

>>> storage = await open_storage(None, data_dir=Path("data"), secret=None)  # data/ocm-bot.sqlite3
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from ocm_bot.storage.base import (
    JSON,
    CheckinStorage,
    ConversationStore,
    DraftStore,
    FavouriteStore,
    LeaseStore,
    Notice,
    NotificationLog,
    OcmToken,
    OutboxDelivery,
    OutboxItem,
    OutboxStore,
    SchemaTooNew,
    ShortLivedStore,
    Storage,
    StorageError,
    StorageUnavailable,
    Subscription,
    SubscriptionStore,
    TokensDisabled,
    TokenStore,
    UnsupportedDatabaseUrl,
    UserEraser,
    UserStore,
    ValueStore,
)

if TYPE_CHECKING:
    from ocm_bot.storage.persistence import StoragePersistence

SQLITE_FILE_NAME = "ocm-bot.sqlite3"


async def open_storage(database_url: str | None, *, data_dir: Path, secret: str | None) -> Storage:
    """Open (and migrate) the storage that ``database_url`` names.

    None or "" means the SQLite file ``data_dir/ocm-bot.sqlite3``; ``sqlite:///relative/path`` and
    ``sqlite:////absolute/path`` name another file; ``postgresql://`` or ``postgres://`` a server.
    ``secret`` (STORAGE_SECRET) enables encrypted OCM sign-in tokens.
    """
    if not database_url:
        return await _open_sqlite(Path(data_dir) / SQLITE_FILE_NAME, secret)
    scheme = urlsplit(database_url).scheme.lower()
    if scheme == "sqlite":
        prefix = "sqlite:///"
        path = unquote(database_url[len(prefix) :]) if database_url.startswith(prefix) else ""
        if not path:
            raise UnsupportedDatabaseUrl("a SQLite DATABASE_URL is sqlite:///relative/path or sqlite:////absolute/path")
        return await _open_sqlite(Path(path), secret)
    if scheme in ("postgresql", "postgres"):
        from ocm_bot.storage.postgres import PostgresStorage

        return await PostgresStorage(database_url, secret=secret).open()
    raise UnsupportedDatabaseUrl(
        f"DATABASE_URL must start with sqlite:/// or postgresql://, not {scheme or 'nothing'}://"
    )


def __getattr__(name: str) -> object:
    # Imported on first use: it pulls in python-telegram-bot, which storage alone does not need.
    if name == "StoragePersistence":
        from ocm_bot.storage.persistence import StoragePersistence

        return StoragePersistence
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


async def _open_sqlite(path: Path, secret: str | None) -> Storage:
    from ocm_bot.storage.sqlite import SqliteStorage

    return await SqliteStorage(path, secret=secret).open()


__all__ = [
    "JSON",
    "SQLITE_FILE_NAME",
    "CheckinStorage",
    "ConversationStore",
    "DraftStore",
    "FavouriteStore",
    "LeaseStore",
    "Notice",
    "NotificationLog",
    "OcmToken",
    "OutboxDelivery",
    "OutboxItem",
    "OutboxStore",
    "SchemaTooNew",
    "ShortLivedStore",
    "Storage",
    "StorageError",
    "StoragePersistence",
    "StorageUnavailable",
    "Subscription",
    "SubscriptionStore",
    "TokenStore",
    "TokensDisabled",
    "UnsupportedDatabaseUrl",
    "UserEraser",
    "UserStore",
    "ValueStore",
    "open_storage",
]
