"""Which storage DATABASE_URL selects, and how conversation states are stored."""

from __future__ import annotations

import enum
from pathlib import Path

import pytest

from ocm_bot.storage import SQLITE_FILE_NAME, UnsupportedDatabaseUrl, open_storage
from ocm_bot.storage.persistence import decode_state, encode_state
from ocm_bot.storage.postgres import PostgresStorage
from ocm_bot.storage.sqlite import SqliteStorage


class Step(enum.Enum):
    OUTCOME = "outcome"


async def test_without_database_url_the_bot_uses_a_sqlite_file_in_the_data_dir(
    tmp_path: Path,
) -> None:
    storage = await open_storage(None, data_dir=tmp_path / "data", secret=None)
    try:
        assert isinstance(storage, SqliteStorage)
        await storage.set_value("k", 1)
    finally:
        await storage.close()
    assert (tmp_path / "data" / SQLITE_FILE_NAME).is_file()


async def test_an_empty_database_url_means_the_default_too(tmp_path: Path) -> None:
    storage = await open_storage("", data_dir=tmp_path, secret=None)
    await storage.close()
    assert (tmp_path / SQLITE_FILE_NAME).is_file()


async def test_a_sqlite_url_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere" / "bot.db"
    storage = await open_storage(f"sqlite:///{path}", data_dir=tmp_path / "unused", secret=None)
    await storage.close()
    assert path.is_file()
    assert not (tmp_path / "unused").exists()


@pytest.mark.postgres
@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
async def test_a_postgres_url_selects_postgresql(postgres_url: str, tmp_path: Path, scheme: str) -> None:
    url = scheme + postgres_url.removeprefix("postgresql")
    storage = await open_storage(url, data_dir=tmp_path, secret=None)
    try:
        assert isinstance(storage, PostgresStorage)
        await storage.set_value("k", 1)
        assert await storage.get_value("k") == 1
    finally:
        await storage.close()
    assert not (tmp_path / SQLITE_FILE_NAME).exists()


@pytest.mark.parametrize("url", ["mysql://db/ocm", "sqlite://", "redis://localhost"])
async def test_an_unsupported_database_url_is_refused_clearly(tmp_path: Path, url: str) -> None:
    with pytest.raises(UnsupportedDatabaseUrl, match="sqlite:///"):
        await open_storage(url, data_dir=tmp_path, secret=None)


@pytest.mark.parametrize("state", [0, 3, "RATING", None, Step.OUTCOME])
def test_conversation_states_survive_encoding(state: object) -> None:
    assert decode_state(encode_state(state)) == state


def test_a_state_json_cannot_hold_is_refused_when_written() -> None:
    with pytest.raises(TypeError):
        encode_state(object())


def test_a_state_naming_something_other_than_an_enum_is_refused() -> None:
    with pytest.raises(LookupError):
        decode_state({"$enum": "os:system", "name": "x"})


async def test_the_sqlite_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    storage = await open_storage(None, data_dir=tmp_path, secret=None)
    await storage.close()
    assert (tmp_path / SQLITE_FILE_NAME).stat().st_mode & 0o777 == 0o600
