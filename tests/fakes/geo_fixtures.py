"""Pytest fixtures for the fake Nominatim and OSRM servers (loaded as a plugin by tests/conftest.py).

    def test_geocodes_leeds(nominatim_server):
        r = httpx.get(f"{nominatim_server.url}/search", params={"q": "Leeds", "format": "jsonv2"},
                      headers={"User-Agent": "ocm-bot-tests/1.0"})

Each server runs once per session; the per-test fixtures reset data, faults, hangs and the log.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.nominatim_server import FakeNominatimServer
from tests.fakes.osrm_server import FakeOsrmServer


@pytest.fixture(scope="session")
def nominatim_server_session() -> Iterator[FakeNominatimServer]:
    server = FakeNominatimServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def nominatim_server(nominatim_server_session: FakeNominatimServer) -> Iterator[FakeNominatimServer]:
    """A fake Nominatim at ``nominatim_server.url`` (root, e.g. http://127.0.0.1:PORT); fresh per test."""
    nominatim_server_session.reset()
    try:
        yield nominatim_server_session
    finally:
        nominatim_server_session.reset()


@pytest.fixture(scope="session")
def osrm_server_session() -> Iterator[FakeOsrmServer]:
    server = FakeOsrmServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def osrm_server(osrm_server_session: FakeOsrmServer) -> Iterator[FakeOsrmServer]:
    """A fake OSRM at ``osrm_server.url`` (root); fresh per test."""
    osrm_server_session.reset()
    try:
        yield osrm_server_session
    finally:
        osrm_server_session.reset()
