"""The storage contract and the persistence contract, run on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import psycopg
import pytest

from ocm_bot.storage import Storage, StorageUnavailable, open_storage
from ocm_bot.storage.migrations import HEAD
from tests.storage.contract import StorageContract
from tests.storage.fixtures import PostgresCluster
from tests.storage.persistence_contract import PersistenceContract


class TestSqliteStorage(StorageContract, PersistenceContract):
    failing_delete_trigger = (
        "CREATE TRIGGER refuse_delete BEFORE DELETE ON outbox BEGIN SELECT RAISE(ABORT, 'delete refused'); END",
    )

    @pytest.fixture
    def database_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'ocm-bot.sqlite3'}"

    @pytest.mark.parametrize("round_", range(25))
    async def test_eight_instances_opening_a_new_file_together_all_start(self, tmp_path: Path, round_: int) -> None:
        # Switching a new file to WAL used to fail with "database is locked" in about 8 % of such starts.
        url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
        opened = await asyncio.gather(
            *(open_storage(url, data_dir=tmp_path, secret=None) for _ in range(8)), return_exceptions=True
        )
        storages = [storage for storage in opened if isinstance(storage, Storage)]
        try:
            assert [type(failure).__name__ + f": {failure}" for failure in opened if failure not in storages] == []
            assert [await storage.schema_version() for storage in storages] == [HEAD] * 8
        finally:
            for storage in storages:
                await storage.close()


@pytest.mark.postgres
class TestPostgresStorage(StorageContract, PersistenceContract):
    failing_delete_trigger = (
        "CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN RAISE EXCEPTION 'delete refused'; END $$",
        "CREATE TRIGGER refuse_delete BEFORE DELETE ON outbox FOR EACH ROW EXECUTE FUNCTION refuse_delete()",
    )

    @pytest.fixture
    def database_url(self, postgres_url: str) -> str:
        return postgres_url

    async def test_connections_the_server_dropped_are_replaced(
        self, storage: Storage, postgres_server: PostgresCluster
    ) -> None:
        await storage.save_user(1, {"unit": "km"})
        # A server restart or failover ends every connection the pool holds.
        with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
        assert await storage.get_user(1) == {"unit": "km"}

    async def test_an_unreachable_server_is_reported_as_unavailable(self, tmp_path: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        url = f"postgresql://postgres@127.0.0.1:{closed_port}/ocm?connect_timeout=2"
        with pytest.raises(StorageUnavailable, match="cannot connect"):
            await open_storage(url, data_dir=tmp_path, secret=None)
