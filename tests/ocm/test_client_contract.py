"""The API client under the ChargerSource contract, served by the loopback OCM server.

Default limits (prefetching, the search cache and containment all on), so every answer the
contract checks may come from OCM or from the client's cache: both must be OCM's answer.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ocm_bot.ocm.client import OcmClient
from tests.fakes.ocm import FakeOcmServer
from tests.ocm.contract import ChargerSourceContract


class TestOcmClientContract(ChargerSourceContract):
    @pytest.fixture
    async def source(self, ocm_server: FakeOcmServer, reference_copy: Path, http: httpx.AsyncClient) -> OcmClient:
        client = OcmClient(
            http, base_url=ocm_server.url, api_key=ocm_server.api_key, reference_cache_path=reference_copy
        )
        await client.start()
        return client
