"""Every OCM answer maps to one error of the tree, raised from its cause (httpx MockTransport).

The same failures are exercised end to end against the loopback OCM server in
``test_client_loopback.py``; this table pins the mapping of each status and body exactly.
"""

from __future__ import annotations

import httpx
import pytest

from ocm_bot.ocm.client import CommentSubmission, OcmClient, OcmLimits
from ocm_bot.ocm.errors import (
    OcmAuthError,
    OcmBadResponse,
    OcmBlockedAsRobot,
    OcmError,
    OcmRateLimited,
    OcmRejected,
    OcmUnavailable,
)
from ocm_bot.ocm.query import PoiQuery

# Just enough reference data for the client to start; parsing against the full document is tested elsewhere.
REFERENCE_JSON = {
    "ConnectionTypes": [{"ID": 33, "Title": "CCS (Type 2)"}],
    "StatusTypes": [{"ID": 50, "Title": "Operational", "IsOperational": True}],
}
QUICK = OcmLimits(retries=0, connect_timeout=0.5, read_timeout=0.5, total_timeout=1.0)
POINT = PoiQuery(latitude=51.52, longitude=-0.03, distance=2)


def client_answering(response: httpx.Response | Exception) -> OcmClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/referencedata"):
            return httpx.Response(200, json=REFERENCE_JSON)
        if isinstance(response, Exception):
            raise response
        return response

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return OcmClient(http, base_url="http://ocm.test/v3", api_key="k", limits=QUICK, owns_http=True)


ROBOTS = {"status": "error", "description": "API requests by robots are temporarily disabled."}


@pytest.mark.parametrize(
    ("response", "error", "status"),
    [
        (httpx.Response(502, text="<html><h1>502 Bad Gateway</h1></html>"), OcmUnavailable, 502),
        (httpx.Response(500, json={"error": "Internal Server Error"}), OcmUnavailable, 500),
        (httpx.Response(503, text="Service Unavailable"), OcmUnavailable, 503),
        (httpx.Response(504, text=""), OcmUnavailable, 504),
        (httpx.Response(599, text=""), OcmUnavailable, 599),
        (httpx.Response(503, json=ROBOTS), OcmBlockedAsRobot, 503),
        (httpx.Response(403, text="You must specify an API key"), OcmAuthError, 403),
        (httpx.Response(403, text="Invalid API key."), OcmAuthError, 403),
        (httpx.Response(401, text=""), OcmAuthError, 401),
        (httpx.Response(400, json={"status": "error", "description": "Failed"}), OcmRejected, 400),
        (httpx.Response(418, text="teapot"), OcmRejected, 418),
        (httpx.Response(200, text="Error: Validation Failed"), OcmRejected, 200),
        (httpx.Response(200, text='[{"ID": 1, "AddressInfo": {"Ti'), OcmBadResponse, None),
        (httpx.Response(200, text=""), OcmBadResponse, None),
        (httpx.Response(200, json={"not": "a list"}), OcmBadResponse, None),
    ],
)
async def test_status_and_body_map_to_one_error(
    response: httpx.Response, error: type[OcmError], status: int | None
) -> None:
    client = client_answering(response)
    with pytest.raises(error) as caught:
        await client.search(POINT)
    assert type(caught.value) is error
    assert caught.value.status == status
    await client.aclose()


async def test_rate_limit_carries_retry_after_seconds() -> None:
    client = client_answering(httpx.Response(429, text="Too Many Requests", headers={"Retry-After": "120"}))
    with pytest.raises(OcmRateLimited) as caught:
        await client.search(POINT)
    assert caught.value.retry_after == 120
    assert isinstance(caught.value.__cause__, httpx.HTTPStatusError)
    await client.aclose()


async def test_rejection_carries_ocms_description() -> None:
    answer = httpx.Response(400, json={"status": "error", "description": "API is read only. Try later."})
    client = client_answering(answer)
    with pytest.raises(OcmRejected) as caught:
        await client.submit_comment(CommentSubmission(charger_id=1, rating=4), token="t")
    assert caught.value.description == "API is read only. Try later."
    await client.aclose()


async def test_user_token_refusal_is_told_apart_from_api_key_refusal() -> None:
    client = client_answering(httpx.Response(401))
    with pytest.raises(OcmAuthError) as user:
        await client.submit_comment(CommentSubmission(charger_id=1), token="expired")
    assert user.value.is_user_token
    await client.aclose()
    client = client_answering(httpx.Response(403, text="Invalid API key."))
    with pytest.raises(OcmAuthError) as key:
        await client.search(POINT)
    assert not key.value.is_user_token
    await client.aclose()


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.ConnectTimeout("slow"),
        httpx.RemoteProtocolError("closed"),
    ],
)
async def test_transport_failures_are_unavailable_from_their_cause(failure: Exception) -> None:
    client = client_answering(failure)
    with pytest.raises(OcmUnavailable) as caught:
        await client.search(POINT)
    assert caught.value.__cause__ is failure
    await client.aclose()


async def test_malformed_json_is_raised_from_the_decoder_error() -> None:
    client = client_answering(httpx.Response(200, text="[{"))
    with pytest.raises(OcmBadResponse) as caught:
        await client.search(POINT)
    assert isinstance(caught.value.__cause__, ValueError)
    await client.aclose()
