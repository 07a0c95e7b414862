"""The storage contract and the persistence contract, run on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.storage.contract import StorageContract
from tests.storage.persistence_contract import PersistenceContract


class TestSqliteStorage(StorageContract, PersistenceContract):
    failing_delete_trigger = (
        "CREATE TRIGGER refuse_delete BEFORE DELETE ON outbox BEGIN SELECT RAISE(ABORT, 'delete refused'); END",
    )

    @pytest.fixture
    def database_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'ocm-bot.sqlite3'}"


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
