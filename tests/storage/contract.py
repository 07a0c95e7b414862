"""The behaviour every storage backend must have, as one abstract test class.

``test_storage.py`` runs it on SQLite and on PostgreSQL: a subclass only says how to get an empty
database's URL and how to make a statement fail inside a transaction.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocm_bot.storage import Storage, TokensDisabled, open_storage
from ocm_bot.storage.base import Notice, OutboxStatus, SchemaTooNew
from ocm_bot.storage.migrations import HEAD
from ocm_bot.storage.postgres import PostgresStorage
from ocm_bot.storage.sql import SqlStorage
from ocm_bot.storage.sqlite import SqliteStorage

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET = "correct horse battery staple"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def unopened(url: str, *, secret: str | None = SECRET) -> SqlStorage:
    """The backend for ``url``, not yet opened (so a test can choose the schema version)."""
    if url.startswith("sqlite:///"):
        return SqliteStorage(Path(url.removeprefix("sqlite:///")), secret=secret)
    return PostgresStorage(url, secret=secret)


async def raw_rows(storage: Storage, sql: str) -> list[tuple[Any, ...]]:
    assert isinstance(storage, SqlStorage)
    async with storage._transaction() as tx:
        return await tx.fetch(sql)


async def raw_run(storage: Storage, *statements: str) -> None:
    assert isinstance(storage, SqlStorage)
    async with storage._transaction() as tx:
        for statement in statements:
            await tx.run(statement)


def start_worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.storage.workers", *args],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def read_line(process: subprocess.Popen[str], within: float = 10) -> str:
    assert process.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), within)
    if not line:
        raise AssertionError(f"worker ended: {process.stderr.read() if process.stderr else ''}")
    return line.strip()


# Rows written at each schema version, and how to check them after migrating to the newest.
async def _seed_v1(storage: Storage) -> None:
    await storage.save_user(7, {"unit": "mi", "connections": [25, 33]})
    await storage.add_favourite(7, 101)
    await storage.add_favourite(7, 100)
    await storage.set_value("ocm.modifiedsince", "2026-02-01T00:00:00Z")


async def _check_v1(storage: Storage) -> None:
    assert await storage.get_user(7) == {"unit": "mi", "connections": [25, 33]}
    assert await storage.list_favourites(7) == [101, 100]
    assert await storage.get_value("ocm.modifiedsince") == "2026-02-01T00:00:00Z"


async def _seed_v2(storage: Storage) -> None:
    await storage.save_draft(7, {"charger_id": 101, "step": "rating"})
    await storage.enqueue_outbox("k-7", 7, 7, {"rating": 4}, charger_id=101, now=T0)


async def _check_v2(storage: Storage) -> None:
    assert await storage.get_draft(7) == {"charger_id": 101, "step": "rating"}
    item = await storage.get_outbox("k-7")
    assert item is not None and item.payload == {"rating": 4} and item.status == "pending"


async def _seed_v3(storage: Storage) -> None:
    await storage.save_subscription(-100, {"lat": 52.5, "lon": 13.4, "radius_km": 5})
    await storage.mark_notified(-100, 101, "fp1")


async def _check_v3(storage: Storage) -> None:
    [subscription] = await storage.subscriptions_for(-100)
    assert subscription.data == {"lat": 52.5, "lon": 13.4, "radius_km": 5}
    assert not await storage.mark_notified(-100, 101, "fp1")


async def _seed_v4(storage: Storage) -> None:
    await storage.save_conversation("checkin", [7, 7], "RATING")
    await storage.save_ptb_data("user", 7, {"page": 2})


async def _check_v4(storage: Storage) -> None:
    assert await storage.load_conversations("checkin") == [([7, 7], "RATING")]
    assert await storage.load_ptb_data("user") == {7: {"page": 2}}


async def _seed_v5(storage: Storage) -> None:
    await storage.save_ocm_token(7, "ocm-token-7")


async def _check_v5(storage: Storage) -> None:
    token = await storage.get_ocm_token(7)
    assert token is not None and token.token == "ocm-token-7"


async def _seed_v6(storage: Storage) -> None:
    await storage.put_short_lived("search", "abc", {"hits": [[101, 0.5]]}, 3600)


async def _check_v6(storage: Storage) -> None:
    assert await storage.get_short_lived("search", "abc") == {"hits": [[101, 0.5]]}


SEEDS: dict[int, tuple[Callable[[Storage], Awaitable[None]], Callable[[Storage], Awaitable[None]]]]
SEEDS = {
    1: (_seed_v1, _check_v1),
    2: (_seed_v2, _check_v2),
    3: (_seed_v3, _check_v3),
    4: (_seed_v4, _check_v4),
    5: (_seed_v5, _check_v5),
    6: (_seed_v6, _check_v6),
}
assert sorted(SEEDS) == list(range(1, HEAD + 1)), "add a seed for the new migration"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
)


class StorageContract:
    """Subclasses provide ``database_url`` (an empty database) and ``failing_delete_trigger``."""

    #: Statements that make any DELETE on ``outbox`` fail, for the transaction test.
    failing_delete_trigger: ClassVar[tuple[str, ...]]

    @pytest.fixture
    def database_url(self) -> str:
        raise NotImplementedError

    @pytest.fixture
    async def storage(self, database_url: str, tmp_path: Path) -> AsyncIterator[Storage]:
        storage = await open_storage(database_url, data_dir=tmp_path, secret=SECRET)
        yield storage
        await storage.close()

    # --- users --------------------------------------------------------------------------------
    async def test_unknown_user_has_no_settings(self, storage: Storage) -> None:
        assert await storage.get_user(1) is None

    async def test_saved_settings_come_back_as_saved(self, storage: Storage) -> None:
        settings = {"unit": "km", "min_power_kw": 50.5, "operators": [3, 23], "lang": "uk",
                    "name": "Łódź — ☕", "open_data_only": True, "radius": None}  # fmt: skip
        await storage.save_user(1, settings)
        assert await storage.get_user(1) == settings

    async def test_saving_settings_replaces_the_previous_ones(self, storage: Storage) -> None:
        await storage.save_user(1, {"unit": "km", "page_size": 5})
        await storage.save_user(1, {"unit": "mi"})
        assert await storage.get_user(1) == {"unit": "mi"}

    async def test_users_settings_do_not_mix(self, storage: Storage) -> None:
        await storage.save_user(1, {"unit": "km"})
        await storage.save_user(2**50, {"unit": "mi"})  # Telegram ids exceed 32 bits
        assert await storage.get_user(1) == {"unit": "km"}
        assert await storage.get_user(2**50) == {"unit": "mi"}

    # One test method runs on both backends' classes: "differing executors" is the point here.
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
    )
    @given(document=st.dictionaries(st.text(), JSON_VALUES, max_size=6))
    async def test_any_json_document_comes_back_unchanged(self, storage: Storage, document: dict[str, Any]) -> None:
        await storage.save_user(1, document)
        assert await storage.get_user(1) == document

    async def test_text_with_a_broken_emoji_is_kept(self, storage: Storage) -> None:
        draft = {"comment": "Fast charger \ud83d but busy"}  # half of a surrogate pair
        await storage.save_draft(1, draft)
        assert await storage.get_draft(1) == draft

    async def test_values_that_json_cannot_hold_are_refused(self, storage: Storage) -> None:
        with pytest.raises(TypeError):
            await storage.save_user(1, {"when": datetime.now(UTC)})
        assert await storage.get_user(1) is None

    async def test_many_concurrent_calls_all_land(self, storage: Storage) -> None:
        # More callers than the PostgreSQL pool has connections; SQLite takes them in turn.
        await asyncio.gather(*(storage.save_user(uid, {"n": uid}) for uid in range(1, 41)))
        await asyncio.gather(*(storage.add_favourite(1, charger) for charger in range(40)))
        documents = await asyncio.gather(*(storage.get_user(uid) for uid in range(1, 41)))
        assert documents == [{"n": uid} for uid in range(1, 41)]
        assert sorted(await storage.list_favourites(1)) == list(range(40))

    # --- favourites ---------------------------------------------------------------------------
    async def test_favourites_are_listed_in_the_order_added(self, storage: Storage) -> None:
        for charger_id in (30, 10, 20):
            assert await storage.add_favourite(1, charger_id)
        assert await storage.list_favourites(1) == [30, 10, 20]

    async def test_adding_a_favourite_twice_keeps_its_place(self, storage: Storage) -> None:
        await storage.add_favourite(1, 30)
        await storage.add_favourite(1, 10)
        assert not await storage.add_favourite(1, 30)
        assert await storage.list_favourites(1) == [30, 10]

    async def test_removed_favourite_is_no_longer_one(self, storage: Storage) -> None:
        await storage.add_favourite(1, 30)
        await storage.add_favourite(2, 30)
        assert await storage.remove_favourite(1, 30)
        assert not await storage.remove_favourite(1, 30)
        assert not await storage.is_favourite(1, 30)
        assert await storage.is_favourite(2, 30)
        assert await storage.list_favourites(1) == []

    async def test_favourite_owners_by_charger_for_many_chargers_at_once(self, storage: Storage) -> None:
        await storage.add_favourite(1, 30)
        await storage.add_favourite(2, 30)
        await storage.add_favourite(2, 1200)
        await storage.add_favourite(3, 40)
        asked = [30, 1200, 99, *range(2000, 3000)]  # more IDs than one query's chunk
        assert await storage.favourite_owners(asked) == {30: [1, 2], 1200: [2]}
        assert await storage.favourite_owners([]) == {}

    async def test_whether_anyone_keeps_a_favourite(self, storage: Storage) -> None:
        assert not await storage.has_favourites()
        await storage.add_favourite(7, 30)
        assert await storage.has_favourites()
        await storage.remove_favourite(7, 30)
        assert not await storage.has_favourites()

    # --- drafts -------------------------------------------------------------------------------
    async def test_a_draft_is_kept_until_deleted(self, storage: Storage) -> None:
        assert await storage.get_draft(1) is None
        await storage.save_draft(1, {"charger_id": 5, "step": "outcome"})
        await storage.save_draft(1, {"charger_id": 5, "step": "rating", "outcome": 10})
        assert await storage.get_draft(1) == {"charger_id": 5, "step": "rating", "outcome": 10}
        assert await storage.delete_draft(1)
        assert await storage.get_draft(1) is None
        assert not await storage.delete_draft(1)

    async def test_every_draft_is_listed_for_a_restart(self, storage: Storage) -> None:
        assert await storage.list_drafts() == []
        await storage.save_draft(1, {"charger_id": 5, "step": "outcome"})
        await storage.save_draft(2, {"charger_id": 6, "step": "comment"})
        await storage.save_draft(1, {"charger_id": 5, "step": "rating"})
        assert sorted(await storage.list_drafts()) == [
            (1, {"charger_id": 5, "step": "rating"}),
            (2, {"charger_id": 6, "step": "comment"}),
        ]
        await storage.delete_draft(2)
        assert await storage.list_drafts() == [(1, {"charger_id": 5, "step": "rating"})]

    # --- outbox -------------------------------------------------------------------------------
    async def test_an_idempotency_key_is_queued_once(self, storage: Storage) -> None:
        assert await storage.enqueue_outbox("k1", 1, 1, {"rating": 5}, charger_id=9, now=T0)
        assert not await storage.enqueue_outbox("k1", 1, 1, {"rating": 1}, charger_id=9, now=T0)
        item = await storage.get_outbox("k1")
        assert item is not None
        assert (item.payload, item.status, item.attempts) == ({"rating": 5}, "pending", 0)
        assert (item.user_id, item.chat_id, item.charger_id) == (1, 1, 9)
        assert item.created_at == item.next_attempt_at == T0

    async def test_queued_items_are_due_oldest_first(self, storage: Storage) -> None:
        await storage.enqueue_outbox("late", 1, 1, {}, now=T0 + timedelta(seconds=2))
        await storage.enqueue_outbox("early", 2, 2, {}, now=T0)
        await storage.enqueue_outbox("future", 3, 3, {}, now=T0 + timedelta(hours=1))
        due = await storage.due_outbox(T0 + timedelta(minutes=1))
        assert [item.key for item in due] == ["early", "late"]
        assert [item.key for item in await storage.due_outbox(T0 + timedelta(minutes=1), 1)] == ["early"]

    async def test_a_claimed_item_is_not_claimed_again_until_its_lease_ends(self, storage: Storage) -> None:
        await storage.enqueue_outbox("k1", 1, 1, {}, now=T0)
        [claimed] = await storage.claim_due_outbox("a", now=T0, lease_seconds=30)
        assert (claimed.key, claimed.claimed_by) == ("k1", "a")
        assert claimed.lease_until == T0 + timedelta(seconds=30)
        assert await storage.claim_due_outbox("b", now=T0 + timedelta(seconds=29)) == []
        assert await storage.due_outbox(T0 + timedelta(seconds=29)) == []
        # Instance a died: once its lease is over, b may send the item.
        [reclaimed] = await storage.claim_due_outbox("b", now=T0 + timedelta(seconds=31))
        assert reclaimed.claimed_by == "b"

    async def test_a_sent_item_is_never_due_again(self, storage: Storage) -> None:
        await storage.enqueue_outbox("k1", 1, 1, {}, now=T0)
        await storage.claim_due_outbox("a", now=T0)
        assert await storage.mark_outbox_sent("k1", {"ID": 555})
        item = await storage.get_outbox("k1")
        assert item is not None
        assert (item.status, item.result, item.attempts, item.claimed_by) == (
            "sent", {"ID": 555}, 1, None,
        )  # fmt: skip
        assert await storage.claim_due_outbox("a", now=T0 + timedelta(days=1)) == []
        assert not await storage.mark_outbox_sent("unknown")

    async def test_a_retryable_failure_is_due_again_at_the_given_time(self, storage: Storage) -> None:
        await storage.enqueue_outbox("k1", 1, 1, {}, now=T0)
        await storage.claim_due_outbox("a", now=T0)
        retry_at = T0 + timedelta(minutes=5)
        assert await storage.mark_outbox_failed("k1", "OCM 503", next_attempt_at=retry_at)
        assert await storage.claim_due_outbox("a", now=retry_at - timedelta(seconds=1)) == []
        [item] = await storage.claim_due_outbox("b", now=retry_at)
        assert (item.attempts, item.last_error, item.status) == (1, "OCM 503", "pending")

    async def test_a_permanent_failure_is_kept_but_never_retried(self, storage: Storage) -> None:
        await storage.enqueue_outbox("k1", 1, 1, {}, now=T0)
        assert await storage.mark_outbox_failed("k1", "OCM 400: bad comment", permanent=True)
        item = await storage.get_outbox("k1")
        assert item is not None and (item.status, item.last_error) == ("failed", "OCM 400: bad comment")
        assert await storage.due_outbox(T0 + timedelta(days=1)) == []
        assert not await storage.mark_outbox_failed("k1", "again")

    async def test_a_waiting_item_can_be_made_due_at_once(self, storage: Storage) -> None:
        await storage.enqueue_outbox("k1", 1, 1, {}, now=T0)
        await storage.mark_outbox_failed("k1", "OCM 503", next_attempt_at=T0 + timedelta(hours=1))
        assert await storage.reschedule_outbox("k1", T0 + timedelta(minutes=1), now=T0)
        [item] = await storage.due_outbox(T0 + timedelta(minutes=1))
        assert (item.attempts, item.last_error) == (1, "OCM 503")

    async def test_an_item_being_sent_is_not_rescheduled(self, storage: Storage) -> None:
        await storage.enqueue_outbox("k1", 1, 1, {}, now=T0)
        await storage.claim_due_outbox("a", now=T0, lease_seconds=60)
        assert not await storage.reschedule_outbox("k1", T0, now=T0 + timedelta(seconds=1))
        await storage.mark_outbox_sent("k1")
        assert not await storage.reschedule_outbox("k1", T0, now=T0 + timedelta(minutes=5))
        item = await storage.get_outbox("k1")
        assert item is not None and item.status == "sent"

    async def test_an_items_status_reads_back_as_the_enum(self, storage: Storage) -> None:
        await storage.enqueue_outbox("p", 1, 1, {}, now=T0)
        await storage.enqueue_outbox("s", 1, 1, {}, now=T0)
        await storage.enqueue_outbox("f", 1, 1, {}, now=T0)
        await storage.mark_outbox_sent("s")
        await storage.mark_outbox_failed("f", "OCM 400", permanent=True)
        statuses = [item.status for item in [await storage.get_outbox(key) for key in "psf"] if item is not None]
        assert statuses == [OutboxStatus.PENDING, OutboxStatus.SENT, OutboxStatus.FAILED]
        assert all(type(status) is OutboxStatus for status in statuses)

    async def test_latest_submission_per_driver_and_charger(self, storage: Storage) -> None:
        await storage.enqueue_outbox("a", 1, 1, {}, charger_id=9, now=T0)
        await storage.enqueue_outbox("b", 1, 1, {}, charger_id=9, now=T0 + timedelta(minutes=3))
        await storage.enqueue_outbox("c", 1, 1, {}, charger_id=8, now=T0 + timedelta(minutes=4))
        await storage.enqueue_outbox("d", 2, 2, {}, charger_id=9, now=T0 + timedelta(minutes=5))
        latest = await storage.latest_outbox_for(1, 9)
        assert latest is not None and latest.key == "b"
        assert await storage.latest_outbox_for(1, 7) is None
        assert [item.key for item in await storage.outbox_for_user(1)] == ["c", "b", "a"]

    async def test_pruning_keeps_pending_items(self, storage: Storage) -> None:
        for key in ("sent", "failed", "pending"):
            await storage.enqueue_outbox(key, 1, 1, {}, now=T0)
        await storage.mark_outbox_sent("sent")
        await storage.mark_outbox_failed("failed", "no", permanent=True)
        assert await storage.prune_outbox(T0 + timedelta(days=1)) == 2
        assert [item.key for item in await storage.outbox_for_user(1)] == ["pending"]

    async def test_two_instances_never_claim_the_same_item(
        self, storage: Storage, database_url: str, tmp_path: Path
    ) -> None:
        for number in range(60):
            await storage.enqueue_outbox(f"k{number:02}", 1, 1, {}, now=T0)
        other = await open_storage(database_url, data_dir=tmp_path, secret=SECRET)
        try:
            claims: dict[str, list[str]] = {"a": [], "b": []}

            async def drain(instance: Storage, name: str) -> None:
                while batch := await instance.claim_due_outbox(name, now=T0, limit=7):
                    claims[name] += [item.key for item in batch]

            await asyncio.gather(drain(storage, "a"), drain(other, "b"))
        finally:
            await other.close()
        assert not set(claims["a"]) & set(claims["b"])
        assert sorted(claims["a"] + claims["b"]) == [f"k{number:02}" for number in range(60)]

    # --- subscriptions ------------------------------------------------------------------------
    async def test_subscriptions_are_kept_per_chat(self, storage: Storage) -> None:
        first = await storage.save_subscription(-1, {"radius_km": 5})
        second = await storage.save_subscription(-2, {"radius_km": 10})
        third = await storage.save_subscription(-1, {"radius_km": 15})
        assert len({first, second, third}) == 3
        assert [(s.id, s.data) for s in await storage.subscriptions_for(-1)] == [
            (first, {"radius_km": 5}), (third, {"radius_km": 15}),
        ]  # fmt: skip
        assert [s.chat_id for s in await storage.list_subscriptions()] == [-1, -2, -1]

    async def test_a_subscription_is_updated_in_place(self, storage: Storage) -> None:
        sub_id = await storage.save_subscription(-1, {"radius_km": 5})
        assert await storage.save_subscription(-1, {"radius_km": 8}, subscription_id=sub_id) == sub_id
        [subscription] = await storage.list_subscriptions()
        assert subscription.data == {"radius_km": 8}
        with pytest.raises(KeyError):  # another chat's subscription
            await storage.save_subscription(-2, {}, subscription_id=sub_id)

    async def test_deleted_subscription_is_gone(self, storage: Storage) -> None:
        sub_id = await storage.save_subscription(-1, {})
        assert await storage.delete_subscription(sub_id)
        assert not await storage.delete_subscription(sub_id)
        assert await storage.list_subscriptions() == []

    async def test_forgetting_a_chat_removes_its_subscriptions_and_history(self, storage: Storage) -> None:
        await storage.save_subscription(-1, {})
        await storage.save_subscription(-2, {})
        await storage.mark_notified(-1, 5, "f")
        await storage.save_ptb_data("chat", -1, {"x": 1})
        await storage.forget_chat(-1)
        assert [s.chat_id for s in await storage.list_subscriptions()] == [-2]
        assert await storage.mark_notified(-1, 5, "f")
        assert await storage.load_ptb_data("chat") == {}

    # --- notification de-duplication ----------------------------------------------------------
    async def test_a_chat_is_told_once_per_charger_state(self, storage: Storage) -> None:
        assert await storage.mark_notified(-1, 5, "status=50")
        assert not await storage.mark_notified(-1, 5, "status=50")
        assert await storage.mark_notified(-2, 5, "status=50")
        assert await storage.mark_notified(-1, 5, "status=75")
        assert not await storage.mark_notified(-1, 5, "status=75")

    async def test_notices_are_marked_and_queued_in_one_step_and_only_once(self, storage: Storage) -> None:
        notices = [Notice(-1, 5, "new", ({"charger": 5},)), Notice(-2, 5, "new", ({"charger": 5}, {"x": 1}))]
        new = await storage.record_notices(notices, queue_key="q", values={"last": "t1", "gone": None})
        assert new == [True, True]
        assert await storage.get_value("q") == {"-1": [{"charger": 5}], "-2": [{"charger": 5}, {"x": 1}]}
        assert await storage.get_value("last") == "t1"
        # The same events again (a poll seen twice): nothing more is queued.
        again = await storage.record_notices([*notices, Notice(-1, 6, "new", ({"charger": 6},))], queue_key="q")
        assert again == [False, False, True]
        queue = await storage.get_value("q")
        assert queue == {"-1": [{"charger": 5}, {"charger": 6}], "-2": [{"charger": 5}, {"x": 1}]}

    async def test_notices_whose_step_fails_are_neither_marked_nor_queued(self, storage: Storage) -> None:
        with pytest.raises(TypeError):
            await storage.record_notices(
                [Notice(-1, 5, "new", ({"charger": 5},))], queue_key="q", values={"known": object()}
            )
        assert await storage.get_value("q") is None
        assert await storage.mark_notified(-1, 5, "new")  # not marked: a later poll queues it

    async def test_values_are_listed_by_prefix_in_pages_and_deleted_unless_stored_again(self, storage: Storage) -> None:
        for key in ("k:1", "k:2", "k:3", "k_x", "kx:1", "other"):
            await storage.set_value(key, {"v": key})
        first = await storage.values_with_prefix("k:", limit=2)
        assert first == [("k:1", {"v": "k:1"}), ("k:2", {"v": "k:2"})]
        assert await storage.values_with_prefix("k:", after="k:2") == [("k:3", {"v": "k:3"})]
        assert [key for key, _ in await storage.values_with_prefix("k_")] == ["k_x"]  # "_" is no wildcard
        cutoff = datetime.now(UTC)
        await storage.set_value("k:3", {"v": "again"})  # stored again after the cutoff: kept
        assert await storage.delete_values(["k:1", "k:3", "missing"], unchanged_since=cutoff) == 1
        assert [key for key, _ in await storage.values_with_prefix("k:")] == ["k:2", "k:3"]

    async def test_a_value_updated_by_many_at_once_keeps_every_change(self, storage: Storage) -> None:
        await asyncio.gather(*(storage.update_value("n", lambda v: (v or 0) + 1) for _ in range(20)))
        assert await storage.get_value("n") == 20
        assert await storage.update_value("n", lambda v: None) is None
        assert await storage.get_value("n") is None

    async def test_old_notification_history_is_pruned(self, storage: Storage) -> None:
        await storage.mark_notified(-1, 5, "f", now=T0)
        await storage.mark_notified(-1, 6, "f", now=T0 + timedelta(days=10))
        assert await storage.prune_notified(T0 + timedelta(days=1)) == 1
        assert await storage.mark_notified(-1, 5, "f")
        assert not await storage.mark_notified(-1, 6, "f")

    # --- key-value ----------------------------------------------------------------------------
    async def test_values_are_stored_by_key(self, storage: Storage) -> None:
        assert await storage.get_value("missing") is None
        for value in ("2026-01-01T00:00:00Z", 3, 2.5, True, [1, "a"], {"nested": {"a": [1]}}):
            await storage.set_value("k", value)
            assert await storage.get_value("k") == value
        await storage.set_value("k", None)
        assert await storage.get_value("k") is None

    # --- short-lived state ---------------------------------------------------------------------
    async def test_short_lived_state_is_kept_by_kind_and_key(self, storage: Storage) -> None:
        assert await storage.get_short_lived("search", "a") is None
        await storage.put_short_lived("search", "a", {"ids": [1, 2]}, 60)
        await storage.put_short_lived("note", "a", ["text", "Berlin"], 60)
        assert await storage.get_short_lived("search", "a") == {"ids": [1, 2]}
        assert await storage.get_short_lived("note", "a") == ["text", "Berlin"]
        await storage.put_short_lived("search", "a", {"ids": [3]}, 60)  # replaced
        assert await storage.get_short_lived("search", "a") == {"ids": [3]}
        assert await storage.delete_short_lived("search", "a")
        assert not await storage.delete_short_lived("search", "a")
        assert await storage.get_short_lived("search", "a") is None

    async def test_expired_short_lived_state_is_gone_and_pruned(self, storage: Storage) -> None:
        await storage.put_short_lived("search", "old", [1], 0.2)
        await storage.put_short_lived("search", "new", [2], 60)
        assert await storage.get_short_lived("search", "old") == [1]
        await asyncio.sleep(0.3)
        assert await storage.get_short_lived("search", "old") is None
        assert await storage.prune_short_lived() == 1
        assert await storage.get_short_lived("search", "new") == [2]

    # --- OCM tokens ---------------------------------------------------------------------------
    async def test_a_token_is_stored_and_read_back(self, storage: Storage) -> None:
        assert storage.tokens_enabled
        assert await storage.get_ocm_token(1) is None
        expires = datetime.now(UTC) + timedelta(days=30)
        await storage.save_ocm_token(1, "jwt-abc.def", expires)
        token = await storage.get_ocm_token(1)
        assert token is not None and token.token == "jwt-abc.def"
        assert token.expires_at is not None
        assert abs(token.expires_at - expires) < timedelta(milliseconds=1)
        assert await storage.delete_ocm_token(1)
        assert await storage.get_ocm_token(1) is None

    async def test_a_token_is_not_stored_in_clear(self, storage: Storage) -> None:
        token = "ocm-secret-token-4f9a2c"
        await storage.save_ocm_token(1, token)
        rows = await raw_rows(storage, "SELECT * FROM ocm_tokens")
        assert len(rows) == 1
        assert token not in repr(rows)
        assert "4f9a2c" not in repr(rows)

    async def test_an_expired_token_is_not_returned(self, storage: Storage) -> None:
        await storage.save_ocm_token(1, "t", datetime.now(UTC) - timedelta(seconds=1))
        assert await storage.get_ocm_token(1) is None

    async def test_a_token_copied_to_another_user_does_not_decrypt(self, storage: Storage) -> None:
        await storage.save_ocm_token(1, "token-of-1")
        await raw_run(
            storage,
            "INSERT INTO ocm_tokens (user_id, ciphertext, expires_at, updated_at)"
            " SELECT 2, ciphertext, expires_at, updated_at FROM ocm_tokens WHERE user_id = 1",
        )
        assert await storage.get_ocm_token(2) is None

    async def test_tokens_under_another_secret_read_as_signed_out(
        self, storage: Storage, database_url: str, tmp_path: Path
    ) -> None:
        await storage.save_ocm_token(1, "t")
        other = await open_storage(database_url, data_dir=tmp_path, secret="another secret")
        try:
            assert await other.get_ocm_token(1) is None
        finally:
            await other.close()

    async def test_without_a_secret_sign_in_is_disabled(
        self, storage: Storage, database_url: str, tmp_path: Path
    ) -> None:
        await storage.save_ocm_token(1, "t")
        plain = await open_storage(database_url, data_dir=tmp_path, secret=None)
        try:
            assert not plain.tokens_enabled
            with pytest.raises(TokensDisabled, match="STORAGE_SECRET"):
                await plain.save_ocm_token(2, "t")
            with pytest.raises(TokensDisabled):
                await plain.get_ocm_token(1)
            assert await plain.delete_ocm_token(1)  # signing out still works
        finally:
            await plain.close()
        assert await raw_rows(storage, "SELECT user_id FROM ocm_tokens") == []

    # --- /forget ------------------------------------------------------------------------------
    async def _store_everything_about(self, storage: Storage, user_id: int) -> None:
        await storage.save_user(user_id, {"unit": "km"})
        await storage.add_favourite(user_id, 5)
        await storage.save_draft(user_id, {"step": "rating"})
        await storage.save_ocm_token(user_id, "t")
        await storage.enqueue_outbox(f"sent-{user_id}", user_id, user_id, {}, charger_id=5)
        await storage.mark_outbox_sent(f"sent-{user_id}")
        await storage.enqueue_outbox(f"pending-{user_id}", user_id, user_id, {}, charger_id=5)
        await storage.save_subscription(user_id, {"private": True})
        await storage.mark_notified(user_id, 5, "f")
        await storage.save_ptb_data("user", user_id, {"a": 1})
        await storage.save_ptb_data("chat", user_id, {"a": 1})
        await storage.save_conversation("checkin", [user_id, user_id], "RATING")
        await storage.save_conversation("settings", [user_id], "UNIT")
        await storage.put_short_lived("search", f"s{user_id}", {"point": [45.5, -122.6]}, 60, user_id=user_id)

    async def test_forget_removes_everything_about_the_user(self, storage: Storage) -> None:
        await self._store_everything_about(storage, 1)
        await self._store_everything_about(storage, 2)
        await storage.save_subscription(-50, {"group": True})

        assert await storage.forget_user(1)

        assert await storage.get_user(1) is None
        assert await storage.list_favourites(1) == []
        assert await storage.get_draft(1) is None
        assert await storage.get_ocm_token(1) is None
        assert await storage.outbox_for_user(1) == []
        assert await storage.subscriptions_for(1) == []
        assert await storage.load_ptb_data("user") == {2: {"a": 1}}
        assert await storage.load_ptb_data("chat") == {2: {"a": 1}}
        assert await storage.load_conversations("checkin") == [([2, 2], "RATING")]
        assert await storage.load_conversations("settings") == [([2], "UNIT")]
        assert await storage.get_short_lived("search", "s1") is None  # where the driver searched
        assert await storage.get_short_lived("search", "s2") == {"point": [45.5, -122.6]}
        assert await storage.claim_due_outbox("a", now=datetime.now(UTC)) != []  # user 2's
        assert await storage.get_user(2) == {"unit": "km"}
        assert len(await storage.subscriptions_for(-50)) == 1
        assert not await storage.forget_user(1)
        assert await storage.mark_notified(1, 5, "f")  # no history left

    async def test_forget_is_one_transaction(self, storage: Storage) -> None:
        await self._store_everything_about(storage, 1)
        # The outbox is emptied after the user's row, favourites, draft and token are deleted.
        await raw_run(storage, *self.failing_delete_trigger)
        with pytest.raises(Exception, match="refused"):
            await storage.forget_user(1)
        assert await storage.get_user(1) == {"unit": "km"}
        assert await storage.list_favourites(1) == [5]
        assert await storage.get_draft(1) == {"step": "rating"}
        assert await storage.get_ocm_token(1) is not None
        assert len(await storage.outbox_for_user(1)) == 2

    # --- leases -------------------------------------------------------------------------------
    async def test_a_lease_has_one_holder_at_a_time(self, storage: Storage) -> None:
        assert await storage.try_acquire_lease("poll", "a", 30)
        assert await storage.try_acquire_lease("poll", "a", 30)  # renewal
        assert not await storage.try_acquire_lease("poll", "b", 30)
        assert await storage.try_acquire_lease("other", "b", 30)
        assert not await storage.release_lease("poll", "b")
        assert await storage.release_lease("poll", "a")
        assert await storage.try_acquire_lease("poll", "b", 30)

    async def test_an_expired_lease_passes_to_another_holder(self, storage: Storage) -> None:
        assert await storage.try_acquire_lease("poll", "a", 0.2)
        assert not await storage.try_acquire_lease("poll", "b", 0.2)
        await asyncio.sleep(0.3)
        assert await storage.try_acquire_lease("poll", "b", 0.2)
        assert not await storage.try_acquire_lease("poll", "a", 0.2)

    async def test_one_of_two_processes_polls_and_the_other_takes_over_when_it_is_killed(
        self, database_url: str, storage: Storage
    ) -> None:
        ttl = 1.0
        first = start_worker("lease", database_url, "first", str(ttl))
        second = None
        try:
            assert (await read_line(first)).endswith("held")
            second = start_worker("lease", database_url, "second", str(ttl))
            # Well past one ttl: the first renews, the second must keep waiting.
            deadline = time.monotonic() + 1.2 * ttl
            while time.monotonic() < deadline:
                assert (await read_line(second)).endswith("waiting")
            last_renewal = float((await read_line(first)).split()[0])
            first.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            while not (line := await read_line(second)).endswith("held"):
                pass
            taken_at = float(line.split()[0])
            # Not before the dead holder's lease ran out, and within one ttl plus one poll.
            assert taken_at >= last_renewal + ttl - 0.05
            assert taken_at - killed_at <= ttl + 0.5
        finally:
            for process in (first, second):
                if process is not None:
                    process.kill()
                    process.communicate()

    # --- crash safety -------------------------------------------------------------------------
    async def test_kill_9_during_writes_loses_no_committed_row(self, database_url: str, tmp_path: Path) -> None:
        writer = start_worker("write", database_url)
        try:
            assert await read_line(writer, within=20) == "open"
            last_reported = 0
            while last_reported < 100:
                last_reported = int(await read_line(writer))
            writer.send_signal(signal.SIGKILL)
            unread, _ = writer.communicate()
        finally:
            writer.kill()
        assert writer.returncode == -signal.SIGKILL
        last_reported = max([last_reported, *(int(line) for line in unread.split())])

        storage = await open_storage(database_url, data_dir=tmp_path, secret=SECRET)
        try:
            assert await storage.schema_version() == HEAD
            favourites = await storage.list_favourites(1)
            assert favourites[:last_reported] == list(range(1, last_reported + 1))
            assert await storage.get_user(last_reported) == {
                "unit": "km", "row": last_reported, "padding": "x" * 200,
            }  # fmt: skip
            await storage.add_favourite(1, 0)  # still writable
        finally:
            await storage.close()

    # --- migrations ---------------------------------------------------------------------------
    async def test_a_new_database_is_migrated_to_the_newest_schema(self, storage: Storage) -> None:
        assert await storage.schema_version() == HEAD
        versions = await raw_rows(storage, "SELECT version FROM schema_version ORDER BY version")
        assert [version for (version,) in versions] == list(range(1, HEAD + 1))

    @pytest.mark.parametrize("start", range(1, HEAD))
    async def test_migrating_from_an_earlier_version_keeps_every_row(
        self, database_url: str, tmp_path: Path, start: int
    ) -> None:
        old = await unopened(database_url).open(target_version=start)
        try:
            assert await old.schema_version() == start
            for version in range(1, start + 1):
                await SEEDS[version][0](old)
        finally:
            await old.close()

        storage = await open_storage(database_url, data_dir=tmp_path, secret=SECRET)
        try:
            assert await storage.schema_version() == HEAD
            for version in range(1, start + 1):
                await SEEDS[version][1](storage)
            for version in range(start + 1, HEAD + 1):  # the new tables work too
                await SEEDS[version][0](storage)
                await SEEDS[version][1](storage)
        finally:
            await storage.close()

    async def test_reopening_runs_no_migration_twice(self, storage: Storage, database_url: str, tmp_path: Path) -> None:
        await _seed_v1(storage)
        again = await open_storage(database_url, data_dir=tmp_path, secret=SECRET)
        try:
            await _check_v1(again)
            assert len(await raw_rows(again, "SELECT version FROM schema_version")) == HEAD
        finally:
            await again.close()

    async def test_instances_starting_together_migrate_once(self, database_url: str, tmp_path: Path) -> None:
        storages = await asyncio.gather(
            *(open_storage(database_url, data_dir=tmp_path, secret=SECRET) for _ in range(3))
        )
        try:
            assert [await storage.schema_version() for storage in storages] == [HEAD] * 3
            assert len(await raw_rows(storages[0], "SELECT version FROM schema_version")) == HEAD
        finally:
            for storage in storages:
                await storage.close()

    async def test_a_database_from_a_newer_release_is_refused(
        self, storage: Storage, database_url: str, tmp_path: Path
    ) -> None:
        await raw_run(
            storage,
            f"INSERT INTO schema_version (version, description, applied_at) VALUES ({HEAD + 1}, 'from the future', 0)",
        )
        with pytest.raises(SchemaTooNew, match="newer release"):
            await open_storage(database_url, data_dir=tmp_path, secret=SECRET)
