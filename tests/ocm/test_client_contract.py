"""The API client passes the same ChargerSource contract as the local source, against the fake OCM server.

The fake server serves the shared sample records, so both sources answer from the same data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ocm_bot.ocm.client import OcmClient, OcmLimits
from tests.fakes.ocm import FakeOcmServer
from tests.ocm.contract import ChargerSourceContract


class TestOcmClientContract(ChargerSourceContract):
    @pytest.fixture
    async def source(self, ocm_server: FakeOcmServer) -> AsyncIterator[OcmClient]:
        client = OcmClient.create(
            base_url=ocm_server.url,
            api_key=ocm_server.api_key,
            limits=OcmLimits(requests_per_minute=10_000),  # with its cache, as in production
        )
        await client.start()
        try:
            yield client
        finally:
            await client.aclose()
