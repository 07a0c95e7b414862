"""Pytest fixtures for the fake Open Charge Map server (loaded as a plugin by tests/conftest.py).

    async def test_nearest_first(ocm_server):
        async with httpx.AsyncClient(base_url=ocm_server.url) as client:
            r = await client.get("/poi", params={"latitude": 45.5122, "longitude": -122.6587},
                                 headers={"X-API-Key": ocm_server.api_key, "User-Agent": "t/1"})

One server runs for the whole session; ``ocm_server`` resets it (data, users, faults, log, released
hangs) before and after every test, so each test starts from the shared sample POIs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.ocm import FakeOcmServer


@pytest.fixture(scope="session")
def ocm_server_session() -> Iterator[FakeOcmServer]:
    """The process-wide fake OCM server; prefer ``ocm_server``, which resets it per test."""
    server = FakeOcmServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def ocm_server(ocm_server_session: FakeOcmServer) -> Iterator[FakeOcmServer]:
    """A fake OCM at ``ocm_server.url`` (".../v3") accepting ``ocm_server.api_key``; fresh per test."""
    ocm_server_session.reset()
    try:
        yield ocm_server_session
    finally:
        ocm_server_session.reset()
