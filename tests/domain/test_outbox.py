"""Outbox delivery against the fake OCM server: nothing lost, nothing twice, honest outcomes."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

import pytest

from ocm_bot.domain.accounts import Accounts
from ocm_bot.domain.outbox import Backoff, DeliveryResult, Outbox, QueuedCheckin, Submitter
from ocm_bot.ocm.client import CommentSubmission, OcmClient, OcmLimits
from ocm_bot.ocm.wire import comment_fields
from ocm_bot.storage.base import utc_now

CHARGER = 102848  # "SEASON SCC" in the shared samples
BODY = {
    "ChargePointID": CHARGER,
    "CommentTypeID": 1000,
    "CheckinStatusTypeID": 20,
    "Rating": 2,
    "Comment": "Screen dead",
}


class Clock:
    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self):
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
async def client(ocm_server):
    limits = OcmLimits(connect_timeout=0.5, read_timeout=0.5, total_timeout=0.5, retries=0)
    client = OcmClient.create(base_url=ocm_server.url, api_key=ocm_server.api_key, limits=limits)
    await client.start()
    yield client
    await client.aclose()


@pytest.fixture
def clock():
    return Clock()


def outbox_for(storage, client, clock, *, write_key=None, **options) -> Outbox:
    backoff = Backoff(base=timedelta(seconds=30))
    return Outbox(storage, client, write_key=write_key, now=clock, backoff=backoff, **options)


async def enqueue(outbox: Outbox, *, key="k1", submitter=Submitter.APP, body=None, user_id=7) -> dict:
    """Queue a check-in; its comment text is unique, as the fake OCM keeps comments across tests."""
    body = dict(body or {**BODY, "Comment": f"Screen dead ({uuid.uuid4().hex[:8]})"})
    checkin = QueuedCheckin(CommentSubmission(**comment_fields(body)), submitter, charger_name="SEASON SCC")
    assert await outbox.enqueue(key=key, user_id=user_id, chat_id=user_id, checkin=checkin)
    return body


def answer_comments_late(ocm_server, monkeypatch, *, seconds: float) -> None:
    """OCM stores each comment at once but answers ``seconds`` later: a client that gives up (or
    dies) meanwhile never learns that its post is on OCM. The fake's "delay" fault waits before
    storing instead, and a request whose client hung up is never stored."""
    store_and_answer = ocm_server.dispatch

    async def dispatch(request):
        response = store_and_answer(request)
        if request.path.startswith("/v3/comment"):
            await asyncio.sleep(seconds)
        return response

    monkeypatch.setattr(ocm_server, "dispatch", dispatch)


def posts(ocm_server):
    return ocm_server.requests_to("/v3/comment", "POST")


async def test_write_key_delivery_posts_the_body_once_and_marks_it_sent(sqlite_storage, client, ocm_server, clock):
    outbox = outbox_for(sqlite_storage, client, clock, write_key=ocm_server.add_write_key())
    body = await enqueue(outbox)
    [delivery] = await outbox.deliver_due()
    assert delivery.result is DeliveryResult.DELIVERED and delivery.first_attempt
    [stored] = ocm_server.comments
    assert json.loads(posts(ocm_server)[0].body) == body
    assert stored.via == "write-key" and stored.poi_id == CHARGER
    assert (await sqlite_storage.get_outbox("k1")).status == "sent"
    assert await outbox.deliver_due() == []
    assert len(posts(ocm_server)) == 1


async def test_signed_in_driver_delivery_carries_the_bearer_token(sqlite_storage, client, ocm_server, clock):
    ocm_server.register_user("ada@example.org", "correct horse", username="ada")
    accounts = Accounts(sqlite_storage, client)
    assert await accounts.sign_in(7, "ada@example.org", "correct horse") == "ada"
    token = (await sqlite_storage.get_ocm_token(7)).token
    outbox = outbox_for(sqlite_storage, client, clock)
    await enqueue(outbox, submitter=Submitter.USER)
    [delivery] = await outbox.deliver_due()
    assert delivery.result is DeliveryResult.DELIVERED
    [stored] = ocm_server.comments
    assert stored.via == "token" and stored.username == "ada"
    assert posts(ocm_server)[0].headers["Authorization"] == f"Bearer {token}"


async def test_ocm_down_then_up_retries_with_backoff_and_delivers_exactly_once(
    sqlite_storage, client, ocm_server, clock
):
    outbox = outbox_for(sqlite_storage, client, clock, write_key=ocm_server.add_write_key())
    await enqueue(outbox)
    ocm_server.inject("status500", times=2, path_prefix="/v3/comment")
    [first] = await outbox.deliver_due()
    assert first.result is DeliveryResult.RETRY and first.retry_at == clock.now + timedelta(seconds=30)
    assert await outbox.deliver_due() == []  # not due yet
    clock.advance(seconds=31)
    [second] = await outbox.deliver_due()
    assert second.result is DeliveryResult.RETRY and second.retry_at == clock.now + timedelta(seconds=60)
    clock.advance(seconds=61)
    [third] = await outbox.deliver_due()
    assert third.result is DeliveryResult.DELIVERED and not third.first_attempt
    assert len(ocm_server.comments) == 1


async def test_a_post_whose_answer_was_lost_is_found_on_ocm_and_not_posted_again(
    sqlite_storage, client, ocm_server, clock, monkeypatch
):
    outbox = outbox_for(sqlite_storage, client, clock, write_key=ocm_server.add_write_key())
    await enqueue(outbox)
    answer_comments_late(ocm_server, monkeypatch, seconds=1.0)  # stored at once, answered after our timeout
    [first] = await outbox.deliver_due()
    assert first.result is DeliveryResult.RETRY
    await _until(lambda: ocm_server.comments)
    clock.advance(minutes=1)
    [second] = await outbox.deliver_due()
    assert second.result is DeliveryResult.DELIVERED
    assert len(ocm_server.comments) == 1 and len(posts(ocm_server)) == 1
    assert await sqlite_storage.get_value("outbox-inflight:k1") is None


async def test_an_instance_killed_mid_post_is_replaced_after_its_lease_without_a_second_post(
    sqlite_storage, client, ocm_server, clock, monkeypatch
):
    key = ocm_server.add_write_key()
    dying = outbox_for(sqlite_storage, client, clock, write_key=key, lease_seconds=60)
    await enqueue(dying)
    answer_comments_late(ocm_server, monkeypatch, seconds=0.3)
    task = asyncio.create_task(dying.deliver_due())
    await _until(lambda: ocm_server.comments)  # OCM stored the post ...
    task.cancel()  # ... and the instance dies waiting for the answer
    await asyncio.gather(task, return_exceptions=True)

    successor = outbox_for(sqlite_storage, client, clock, write_key=key, lease_seconds=60)
    assert await successor.deliver_due() == []  # the dead instance's lease still holds
    clock.advance(seconds=61)
    [delivery] = await successor.deliver_due()
    assert delivery.result is DeliveryResult.DELIVERED
    assert len(ocm_server.comments) == 1 and len(posts(ocm_server)) == 1


async def test_an_instance_killed_before_ocm_stored_it_posts_again_after_checking(
    sqlite_storage, client, ocm_server, clock
):
    key = ocm_server.add_write_key()
    dying = outbox_for(sqlite_storage, client, clock, write_key=key)
    await enqueue(dying)
    ocm_server.inject("hang", path_prefix="/v3/comment")
    task = asyncio.create_task(dying.deliver_due())
    await _until(lambda: posts(ocm_server))
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    ocm_server.clear_faults()

    clock.advance(seconds=dying.lease_seconds + 1)
    [delivery] = await outbox_for(sqlite_storage, client, clock, write_key=key).deliver_due()
    assert delivery.result is DeliveryResult.DELIVERED
    assert len(ocm_server.comments) == 1
    assert len(ocm_server.requests_to("/v3/poi")) >= 1  # it looked before posting again


async def test_two_instances_delivering_at_once_post_once(sqlite_storage, client, ocm_server, clock):
    key = ocm_server.add_write_key()
    one, two = (outbox_for(sqlite_storage, client, clock, write_key=key) for _ in range(2))
    await enqueue(one)
    results = await asyncio.gather(one.deliver_due(), two.deliver_due())
    assert sorted(len(r) for r in results) == [0, 1]
    assert len(ocm_server.comments) == 1


async def test_expired_sign_in_keeps_the_checkin_until_the_driver_signs_in_again(
    sqlite_storage, client, ocm_server, clock
):
    ocm_server.register_user("ada@example.org", "pw-1", username="ada")
    accounts = Accounts(sqlite_storage, client)
    await accounts.sign_in(7, "ada@example.org", "pw-1")
    ocm_server.expire_tokens()
    outbox = outbox_for(sqlite_storage, client, clock)
    await enqueue(outbox, submitter=Submitter.USER)
    [delivery] = await outbox.deliver_due()
    assert delivery.result is DeliveryResult.NEEDS_SIGN_IN
    assert await sqlite_storage.get_ocm_token(7) is None  # the dead token is forgotten
    assert (await sqlite_storage.get_outbox("k1")).status == "pending"
    clock.advance(hours=1)
    assert await outbox.deliver_due() == []  # parked, not retried against a 401

    await accounts.sign_in(7, "ada@example.org", "pw-1")
    assert await outbox.resume_after_sign_in(7) == 1
    [delivered] = await outbox.deliver_due()
    assert delivered.result is DeliveryResult.DELIVERED
    assert len(ocm_server.comments) == 1


@pytest.mark.parametrize(
    ("fault", "body", "said"),
    [
        ("validation-failed", BODY, "Error: Validation Failed"),
        (None, {**BODY, "ChargePointID": 1}, "Failed"),  # unknown POI: 400
    ],
)
async def test_ocm_refusals_are_reported_and_never_marked_delivered(
    sqlite_storage, client, ocm_server, clock, fault, body, said
):
    outbox = outbox_for(sqlite_storage, client, clock, write_key=ocm_server.add_write_key())
    await enqueue(outbox, body=body)
    if fault:
        ocm_server.inject(fault, path_prefix="/v3/comment")
    [delivery] = await outbox.deliver_due()
    assert delivery.result is DeliveryResult.REJECTED
    assert delivery.error.description == said
    item = await sqlite_storage.get_outbox("k1")
    assert item.status == "failed" and item.result is None
    clock.advance(days=1)
    assert await outbox.deliver_due() == []
    assert ocm_server.comments == []


async def test_read_only_ocm_is_retried_later(sqlite_storage, client, ocm_server, clock):
    outbox = outbox_for(sqlite_storage, client, clock, write_key=ocm_server.add_write_key())
    await enqueue(outbox)
    ocm_server.read_only = True
    [delivery] = await outbox.deliver_due()
    assert delivery.result is DeliveryResult.RETRY
    ocm_server.read_only = False
    clock.advance(minutes=1)
    [delivered] = await outbox.deliver_due()
    assert delivered.result is DeliveryResult.DELIVERED


async def test_retry_now_makes_a_waiting_checkin_due_for_its_driver_only(sqlite_storage, client, ocm_server, clock):
    outbox = outbox_for(sqlite_storage, client, clock, write_key=ocm_server.add_write_key())
    await enqueue(outbox)
    ocm_server.inject("status503", path_prefix="/v3/comment")
    await outbox.deliver_due()
    assert await outbox.retry_now("k1", user_id=8) is None
    assert (await outbox.retry_now("k1", user_id=7)).next_attempt_at <= clock.now
    [delivery] = await outbox.deliver_due()
    assert delivery.result is DeliveryResult.DELIVERED


async def test_retry_now_is_not_a_failed_attempt_so_the_backoff_does_not_double(
    sqlite_storage, client, ocm_server, clock
):
    outbox = outbox_for(sqlite_storage, client, clock, write_key=ocm_server.add_write_key())
    await enqueue(outbox)
    ocm_server.inject("status503", times=2, path_prefix="/v3/comment")
    [first] = await outbox.deliver_due()
    assert first.retry_at == clock.now + timedelta(seconds=30)
    waiting = await outbox.retry_now("k1", user_id=7)
    assert waiting.attempts == 1 and waiting.next_attempt_at <= clock.now
    [second] = await outbox.deliver_due()
    # Two posts failed, so the next wait is the second step of the backoff (60 s), not the third.
    assert second.result is DeliveryResult.RETRY and second.retry_at == clock.now + timedelta(seconds=60)
    assert len(posts(ocm_server)) == 2
    assert (await sqlite_storage.get_outbox("k1")).attempts == 2


async def test_after_two_days_of_failures_the_driver_is_told_and_it_stops(sqlite_storage, client, ocm_server, clock):
    outbox = outbox_for(sqlite_storage, client, clock, write_key=ocm_server.add_write_key())
    await enqueue(outbox)
    ocm_server.inject("status500", times=None, path_prefix="/v3/comment")
    await outbox.deliver_due()
    clock.advance(days=2, minutes=1)
    [delivery] = await outbox.deliver_due()
    assert delivery.result is DeliveryResult.GAVE_UP
    assert (await sqlite_storage.get_outbox("k1")).status == "failed"


async def test_the_charger_is_refreshed_after_a_delivered_checkin(sqlite_storage, client, ocm_server, clock):
    refreshed = []

    async def refresh(charger_id):
        refreshed.append(charger_id)

    outbox = outbox_for(sqlite_storage, client, clock, write_key=ocm_server.add_write_key(), refresh_charger=refresh)
    await enqueue(outbox)
    await outbox.deliver_due()
    assert refreshed == [CHARGER]


async def _until(condition, within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_old_delivered_checkins_are_pruned_by_one_instance(sqlite_storage, client, ocm_server, clock):
    key = ocm_server.add_write_key()
    outbox = outbox_for(sqlite_storage, client, clock, write_key=key)
    await enqueue(outbox)
    await outbox.deliver_due()
    clock.advance(days=31)
    other = outbox_for(sqlite_storage, client, clock, write_key=key)
    assert await outbox.prune() == 1
    assert await other.prune() == 0  # the prune lease is held by the first instance
    assert await sqlite_storage.get_outbox("k1") is None


async def test_a_checkin_waiting_a_month_for_a_sign_in_is_given_up(sqlite_storage, client, ocm_server, clock):
    outbox = outbox_for(sqlite_storage, client, clock)
    await enqueue(outbox, submitter=Submitter.USER)  # the driver is not signed in (any more)
    [parked] = await outbox.deliver_due()
    assert parked.result is DeliveryResult.NEEDS_SIGN_IN
    clock.advance(days=31)
    [delivery] = await outbox.deliver_due()
    assert delivery.result is DeliveryResult.GAVE_UP
    assert (await sqlite_storage.get_outbox("k1")).status == "failed"
    assert posts(ocm_server) == []
