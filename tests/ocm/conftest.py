"""Fixtures shared by the tests of the OCM API client."""

from __future__ import annotations

import asyncio
import shutil
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from ocm_bot.ocm.client import OcmClient
from tests.fakes.ocm import FakeOcmServer


@pytest.fixture(scope="session")
def reference_file(ocm_server_session: FakeOcmServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Reference data fetched from the fake once per session, as the client stores it."""
    path = tmp_path_factory.mktemp("ocm") / "reference.json"

    async def fetch() -> None:
        async with httpx.AsyncClient() as http:
            client = OcmClient(
                http, base_url=ocm_server_session.url, api_key=ocm_server_session.api_key, reference_cache_path=path
            )
            await client.start()

    asyncio.run(fetch())
    return path


@pytest.fixture
def reference_copy(reference_file: Path, tmp_path: Path) -> Path:
    """A per-test copy of the session's reference file, fresh for a day: no reference request at start."""
    path = tmp_path / "reference.json"
    shutil.copyfile(reference_file, path)
    return path


@pytest.fixture(scope="session")
def ssl_context() -> ssl.SSLContext:
    """Loading the CA bundle costs ~50 ms per httpx client; the loopback tests share one context."""
    return ssl.create_default_context()


@pytest.fixture
async def http(ssl_context: ssl.SSLContext) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(verify=ssl_context) as client:
        yield client
