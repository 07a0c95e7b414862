"""Storage fixtures: a private PostgreSQL server for the test session, and opened storages.

``postgres_server`` starts a throwaway cluster (initdb + pg_ctl from /usr/lib/postgresql/*/bin) in a
temporary directory, listening on 127.0.0.1 on a free port, and removes it at the end of the session.
As root it runs the server as the unprivileged ``postgres`` user (or ``nobody``). Without the server
binaries the fixture fails (``scripts/test`` installs them): storage tests are never skipped.

Fixtures:
    postgres_server   the session's cluster (``PostgresCluster``)
    postgres_url      the URL of a fresh, empty database (a schema of its own; one per test)
    postgres_storage  a ``PostgresStorage`` on a fresh, migrated database
    sqlite_storage    a ``SqliteStorage`` in a fresh file under tmp_path
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ocm_bot.storage.postgres import PostgresStorage
from ocm_bot.storage.sqlite import SqliteStorage

_PREFIX = "ocm-bot-pg-"


def find_postgres_bin() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin that has initdb and pg_ctl."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parent.parent.name),
    )
    if not candidates:
        pytest.fail(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin. The storage"
            " tests start their own server: run scripts/test (it installs the Debian 'postgresql'"
            " package as root) or `apt-get install postgresql`.",
            pytrace=False,
        )
    return Path(candidates[-1]).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_account() -> tuple[int, int] | None:
    """The unprivileged uid/gid to run the server as when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    pytest.fail("running as root, but there is no 'postgres' or 'nobody' user to run PostgreSQL")


def _run_as(account: tuple[int, int] | None, root: Path, *args: str) -> None:
    uid, gid = account or (None, None)
    result = subprocess.run(
        args,
        user=uid,
        group=gid,
        extra_groups=[] if uid is not None else None,
        env={**os.environ, "HOME": str(root), "LC_ALL": "C"},
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        log = root / "server.log"
        details = log.read_text() if log.exists() else ""
        raise RuntimeError(f"{args[0]} failed:\n{result.stdout}{result.stderr}{details}")


def _stop_server(bin_dir: Path, account: tuple[int, int] | None, root: Path) -> None:
    _run_as(account, root, str(bin_dir / "pg_ctl"), "--pgdata", str(root / "data"), "--mode", "immediate", "stop")


def remove_abandoned_clusters(bin_dir: Path) -> None:
    """Stop and delete clusters whose test session was killed before it could clean up."""
    for root in [*Path("/dev/shm").glob(_PREFIX + "*"), *Path(tempfile.gettempdir()).glob(_PREFIX + "*")]:
        try:
            os.kill(int((root / "owner.pid").read_text()), 0)
            continue  # its session is still running
        except ProcessLookupError:
            pass
        except (OSError, ValueError):
            continue  # being created right now, or not ours to judge
        if (root / "data" / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):
                _stop_server(bin_dir, _server_account(), root)
        shutil.rmtree(root, ignore_errors=True)


class PostgresCluster:
    """A throwaway PostgreSQL cluster; ``create_database()`` gives a fresh database's URL."""

    def __init__(self, bin_dir: Path, *, durable: bool = False) -> None:
        self.bin_dir = bin_dir
        self.account = _server_account()
        self.durable = durable
        # Tests run on tmpfs when there is one (creating tables is several times faster there)
        # and without fsync; a durable cluster (for benchmarks) is on disk with default settings.
        shm = Path("/dev/shm")
        in_memory = not durable and shm.is_dir() and os.access(shm, os.W_OK)
        self.root = Path(tempfile.mkdtemp(prefix=_PREFIX, dir=shm if in_memory else None))
        (self.root / "owner.pid").write_text(str(os.getpid()))
        self.data_dir = self.root / "data"
        self.port = _free_port()
        self._names = itertools.count(1)
        self._admin_connection: psycopg.Connection[Any] | None = None

    def _run(self, *args: str) -> None:
        _run_as(self.account, self.root, *args)

    def start(self) -> None:
        if self.account is not None:
            os.chown(self.root, *self.account)
        self._run(
            str(self.bin_dir / "initdb"),
            "--pgdata", str(self.data_dir),
            "--username", "postgres",
            "--auth", "trust",
            "--encoding", "UTF8",
            "--locale", "C",
            "--no-sync",
        )  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port}"
            f" -c unix_socket_directories={self.root} -c max_connections=100"
        )
        if not self.durable:
            # A test server: durability of the server itself is not under test, speed is.
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "--pgdata", str(self.data_dir),
            "--log", str(self.root / "server.log"),
            "--options", options,
            "--wait",
            "start",
        )  # fmt: skip

    def stop(self) -> None:
        if self._admin_connection is not None:
            self._admin_connection.close()
        try:
            _stop_server(self.bin_dir, self.account, self.root)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """Create a new, empty database and return its URL."""
        name = f"test_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def create_schema(self) -> str:
        """A URL whose connections see only a new, empty schema: a fresh database for a test.

        Creating a schema takes a millisecond where creating a database takes a third of a second.
        """
        name = f"test_{next(self._names)}"
        self._admin_execute(f'CREATE SCHEMA "{name}"')
        return f"{self.url()}?options=-csearch_path%3D{name}"

    def drop_schema(self, url: str) -> None:
        name = url.rsplit("%3D", 1)[1]
        self._admin_execute(f'DROP SCHEMA "{name}" CASCADE')

    def _admin_execute(self, sql: str) -> None:
        """Run an administrative statement on a kept connection (a test may have ended it)."""
        for attempt in (1, 2):
            if self._admin_connection is None or self._admin_connection.closed:
                self._admin_connection = psycopg.connect(self.url(), autocommit=True)
            try:
                self._admin_connection.execute(sql)
                return
            except psycopg.OperationalError:
                self._admin_connection.close()
                if attempt == 2:
                    raise


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresCluster]:
    bin_dir = find_postgres_bin()
    remove_abandoned_clusters(bin_dir)
    cluster = PostgresCluster(bin_dir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresCluster) -> Iterator[str]:
    """The URL of a fresh, empty database (a schema of its own), removed after the test."""
    url = postgres_server.create_schema()
    yield url
    postgres_server.drop_schema(url)


@pytest.fixture
async def postgres_storage(postgres_url: str) -> AsyncIterator[PostgresStorage]:
    """A ``PostgresStorage`` on a fresh database, migrated, with a STORAGE_SECRET."""
    storage = await PostgresStorage(postgres_url, secret="test secret").open()
    yield storage
    await storage.close()


@pytest.fixture
async def sqlite_storage(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    """A ``SqliteStorage`` in a fresh file, migrated, with a STORAGE_SECRET."""
    storage = await SqliteStorage(tmp_path / "ocm-bot.sqlite3", secret="test secret").open()
    yield storage
    await storage.close()
