"""Faults for the fault matrix: a service that refuses connections (down, then back on the same
port), and a Bot API front end that hangs or answers malformed JSON."""

from __future__ import annotations

import time

import httpx
import pytest

from .telegram.server import FakeTelegramServer


def get(url: str, **kwargs) -> httpx.Response:
    with httpx.Client(timeout=2) as client:
        return client.get(url, **kwargs)


@pytest.mark.parametrize("fake", ["ocm_server", "nominatim_server", "osrm_server"])
def test_a_loopback_server_refuses_connections_until_it_accepts_them_again_on_the_same_port(fake, request):
    server = request.getfixturevalue(fake)
    url = f"{server.root_url}/status"
    status = get(url).status_code  # listening: whatever it answers to that path
    server.refuse_connections()
    with pytest.raises(httpx.ConnectError):
        get(url)
    server.accept_connections()
    assert get(url).status_code == status


def test_reset_listens_again(ocm_server):
    ocm_server.refuse_connections()
    ocm_server.reset()
    assert get(f"{ocm_server.url}/poi", headers={"X-API-Key": ocm_server.api_key}).status_code == 200


def test_the_bot_api_refuses_connections_until_it_accepts_them_again(telegram_server: FakeTelegramServer):
    url = f"{telegram_server.api_url}{telegram_server.token}/getMe"
    assert get(url).json()["ok"] is True
    telegram_server.refuse_connections()
    with pytest.raises(httpx.ConnectError):
        get(url)
    telegram_server.accept_connections()
    assert get(url).json()["result"]["username"] == "ocm_test_bot"


def test_a_hung_front_end_closes_the_connection_after_the_delay(telegram_server: FakeTelegramServer):
    telegram_server.inject_failure("getMe", None, delay=0.5)
    started = time.monotonic()
    with pytest.raises(httpx.RemoteProtocolError):
        get(f"{telegram_server.api_url}{telegram_server.token}/getMe")
    assert 0.5 <= time.monotonic() - started < 2
    assert get(f"{telegram_server.api_url}{telegram_server.token}/getMe").json()["ok"] is True


def test_a_front_end_can_answer_malformed_json(telegram_server: FakeTelegramServer):
    telegram_server.inject_failure("getMe", 200, body=b'{"ok": true, "result": {"id')
    answer = get(f"{telegram_server.api_url}{telegram_server.token}/getMe")
    assert answer.status_code == 200 and answer.content == b'{"ok": true, "result": {"id'
    with pytest.raises(ValueError):
        answer.json()


def test_a_fault_with_a_probability_strikes_that_share_of_requests_reproducibly(ocm_server):
    def statuses() -> list[int]:
        ocm_server.reset()
        ocm_server.fault_random.seed(7)
        ocm_server.inject("status500", times=None, probability=0.25)
        with httpx.Client(timeout=2, verify=False, headers={"X-API-Key": ocm_server.api_key}) as client:
            return [client.get(f"{ocm_server.url}/poi", params={"maxresults": 1}).status_code for _ in range(200)]

    first = statuses()
    assert 30 <= first.count(500) <= 70 and first.count(200) == 200 - first.count(500)
    assert statuses() == first  # seeded: the same requests fail again
    assert all(r.answered is not None and r.answered >= r.monotonic for r in ocm_server.requests)
