"""SQLite backend: one file, zero set-up, for a single bot process.

aiosqlite runs the connection in its own thread, so no query blocks the event loop. One connection
serves the process, one transaction at a time (an asyncio lock), which is what SQLite allows for
writes anyway. WAL lets other processes (a backup, a second tool) read while the bot writes.
``synchronous=NORMAL`` in WAL mode survives any crash of the process (kill -9 included); only a
power cut or an OS crash can undo the last transactions, never corrupt the file.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from ocm_bot.storage.base import StorageUnavailable
from ocm_bot.storage.sql import SqlStorage

# Messages of the errors that say "not now" rather than "wrong SQL".
_UNAVAILABLE = ("locked", "busy", "disk is full", "disk I/O error", "unable to open")


class _SqliteTransaction:
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with self._connection.execute(sql, params) as cursor:
            return [tuple(row) for row in await cursor.fetchall()]

    async def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._connection.execute(sql, params) as cursor:
            return cursor.rowcount


class SqliteStorage(SqlStorage):
    """Storage in one SQLite file.

    >>> storage = SqliteStorage(Path("data/ocm-bot.sqlite3"), secret=None)
    >>> await storage.open()          # creates the file and migrates it
    >>> await storage.set_value("last_poll", "2026-01-01T00:00:00Z")
    >>> await storage.close()
    """

    id_type = "INTEGER PRIMARY KEY AUTOINCREMENT"
    bigint_type = "INTEGER"
    real_type = "REAL"
    now_sql = "((julianday('now') - 2440587.5) * 86400.0)"

    def __init__(self, path: Path, *, secret: str | None, busy_timeout_ms: int = 10_000) -> None:
        super().__init__(secret=secret)
        self.path = Path(path)
        self._busy_timeout_ms = busy_timeout_ms
        self._connection: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def open(self, *, target_version: int | None = None) -> SqliteStorage:
        """Open (creating the file and its directory if needed) and migrate."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new_file = not self.path.exists()
        # isolation_level=None: we issue BEGIN ourselves, so that writes take the lock up front.
        try:
            connection = await aiosqlite.connect(self.path, isolation_level=None)
        except sqlite3.Error as exc:
            raise StorageUnavailable(f"SQLite {self.path}: {exc}") from exc
        try:
            if new_file:
                # Drivers' data is nobody else's business; SQLite gives -wal and -shm the same mode.
                self.path.chmod(0o600)
            await connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            await self._switch_to_wal(connection)
            await connection.execute("PRAGMA synchronous = NORMAL")
            await connection.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            await connection.close()
            raise StorageUnavailable(f"SQLite {self.path}: {exc}") from exc
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        try:
            await self.migrate(target_version)
        except BaseException:
            await self.close()
            raise
        return self

    async def _switch_to_wal(self, connection: aiosqlite.Connection) -> None:
        """Put the file in WAL mode, waiting for other processes that open it at the same moment.

        Switching a new file to WAL needs an exclusive lock, and SQLite answers "database is locked"
        at once (without the busy handler, to avoid a deadlock) when another connection holds a
        shared lock it got while opening the file too. Retrying with a little jitter until the
        busy timeout lets every instance through; once one has switched, the mode is in the file.
        """
        deadline = time.monotonic() + self._busy_timeout_ms / 1000
        while True:
            try:
                await connection.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                transient = "locked" in str(exc) or "busy" in str(exc)
                if not transient or time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(random.uniform(0.005, 0.05))

    @asynccontextmanager
    async def _transaction(self, *, write: bool = True) -> AsyncIterator[_SqliteTransaction]:
        connection = self._connection
        if connection is None:
            raise RuntimeError("the storage is not open (call open(), or use open_storage)")
        async with self._lock:
            try:
                # IMMEDIATE takes the write lock at BEGIN: no deadlock upgrading a read lock later.
                await connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield _SqliteTransaction(connection)
                    await connection.execute("COMMIT")
                except BaseException:
                    # Some errors (a full disk) end the transaction themselves.
                    if connection.in_transaction:
                        await asyncio.shield(connection.execute("ROLLBACK"))
                    raise
            except sqlite3.OperationalError as exc:
                if any(sign in str(exc) for sign in _UNAVAILABLE):
                    raise StorageUnavailable(f"SQLite {self.path}: {exc}") from exc
                raise

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()
