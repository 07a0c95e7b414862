"""Check-in rules: outcomes, the draft's steps, the POST /comment body, the 10-minute rule, submit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocm_bot.domain.accounts import Accounts, looks_like_email, token_expiry
from ocm_bot.domain.checkin import (
    FAULT_REPORT,
    GENERAL_COMMENT,
    CheckinDraft,
    CheckinService,
    CommentTooLong,
    InvalidRating,
    Sentiment,
    Step,
    SubmitStatus,
    find_outcome,
    group_outcomes,
    outcomes_from,
    parse_charger_id,
    submission_for,
    wait_before_next_checkin,
)
from ocm_bot.domain.outbox import Outbox, QueuedCheckin, Submitter
from ocm_bot.ocm.reference import ReferenceData
from ocm_bot.ocm.wire import comment_body
from tests.fakes.ocm import shared_dir

REFERENCE = ReferenceData.from_json(json.loads((shared_dir() / "ocm" / "referencedata.json").read_text()))
NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


def ocm_outcomes():
    return outcomes_from(REFERENCE.checkin_status_types.values())


def test_first_screen_groups_ocm_checkin_types_as_the_ux_sketch_shows():
    groups = group_outcomes(ocm_outcomes())
    assert [(g.name, g.is_single) for g in groups] == [
        ("ok", True),
        ("failed", False),
        ("in_use", True),
        ("blocked", False),
        ("other", False),
    ]
    failed = next(g for g in groups if g.name == "failed")
    assert [o.id for o in failed.outcomes] == [20, 22, 25, 30, 40, 50]
    assert all(o.is_failure for o in failed.outcomes)


def test_automated_checkins_are_not_offered_to_drivers():
    ids = {o.id for o in ocm_outcomes()}
    assert 15 not in ids  # "Charged Successfully (Automated Checkin)"
    assert {10, 20, 100, 110, 210} <= ids


def test_other_group_lists_positive_outcomes_before_negative_ones():
    other = next(g for g in group_outcomes(ocm_outcomes()) if g.name == "other")
    sentiments = [o.sentiment for o in other.outcomes]
    assert sentiments == sorted(sentiments, key=[Sentiment.POSITIVE, Sentiment.NEGATIVE, Sentiment.NEUTRAL].index)
    assert find_outcome(other.outcomes, 0).sentiment is Sentiment.NEUTRAL


def test_an_unknown_ocm_status_type_falls_into_other_with_ocm_title():
    from ocm_bot.ocm.models import CheckinStatusType

    outcomes = outcomes_from([*REFERENCE.checkin_status_types.values(), CheckinStatusType(999, "Brand new", False)])
    other = next(g for g in group_outcomes(outcomes) if g.name == "other")
    new = find_outcome(other.outcomes, 999)
    assert new.title == "Brand new" and new.is_failure


def test_without_reference_data_the_known_outcomes_are_still_offered():
    assert {o.id for o in outcomes_from(None)} >= {10, 20, 100, 120}


def draft_for(outcome_id: int) -> CheckinDraft:
    draft = CheckinDraft.start(charger_id=102848, charger_name="SEASON SCC", chat_id=7, now=NOW)
    return draft.with_outcome(find_outcome(ocm_outcomes(), outcome_id))


def test_failed_outcome_defaults_to_fault_report_and_success_to_general_comment():
    assert draft_for(20).comment_type_id == FAULT_REPORT
    assert draft_for(10).comment_type_id == GENERAL_COMMENT
    assert draft_for(100).comment_type_id == GENERAL_COMMENT
    assert draft_for(20).with_comment_type(GENERAL_COMMENT).comment_type_id == GENERAL_COMMENT


def test_payload_is_the_openapi_comment_body():
    draft = draft_for(20).with_rating(2).with_comment("  Screen dead, card reader off  ")
    # No UserName: OCM files a comment under the account of the key or token that posts it.
    assert comment_body(submission_for(draft)) == {
        "ChargePointID": 102848,
        "CommentTypeID": 1000,
        "CheckinStatusTypeID": 20,
        "Rating": 2,
        "Comment": "Screen dead, card reader off",
    }


def test_skipped_rating_and_comment_are_left_out_of_the_payload():
    draft = draft_for(10).with_rating(None).with_comment(None)
    assert comment_body(submission_for(draft)) == {
        "ChargePointID": 102848,
        "CommentTypeID": 10,
        "CheckinStatusTypeID": 10,
    }


def test_steps_go_forward_and_back_keeping_answers():
    draft = draft_for(10)
    assert draft.step is Step.RATING
    draft = draft.with_rating(4)
    assert draft.step is Step.COMMENT
    draft = draft.with_comment("ok")
    assert draft.step is Step.SUMMARY
    assert draft.back().step is Step.COMMENT
    assert draft.back().back().step is Step.RATING
    assert draft.back().back().back().step is Step.OUTCOME
    assert draft.back().back().back().rating == 4


def test_a_paused_comment_step_takes_no_typed_text_until_resumed_and_is_stored_so():
    draft = draft_for(10).with_rating(4)
    assert draft.takes_typed_comment
    paused = draft.pause()
    assert not paused.takes_typed_comment and paused.step is Step.COMMENT
    assert CheckinDraft.from_dict(json.loads(json.dumps(paused.to_dict()))) == paused
    assert paused.resume().takes_typed_comment
    assert not draft.with_comment(None).takes_typed_comment  # the summary takes no text either


def test_rating_outside_one_to_five_and_overlong_comment_are_refused():
    with pytest.raises(InvalidRating):
        draft_for(10).with_rating(6)
    with pytest.raises(CommentTooLong):
        draft_for(10).with_comment("x" * 4001)
    assert draft_for(10).with_comment("x" * 4000).comment == "x" * 4000


def test_draft_survives_a_round_trip_through_storage_and_bad_documents_read_as_none():
    draft = draft_for(25).with_rating(3).with_comment("<b>broken</b>")
    assert CheckinDraft.from_dict(json.loads(json.dumps(draft.to_dict()))) == draft
    assert CheckinDraft.from_dict(None) is None
    assert CheckinDraft.from_dict({"key": "x"}) is None
    assert CheckinDraft.from_dict({**draft.to_dict(), "step": "nonsense"}) is None


def test_each_draft_has_its_own_idempotency_key():
    assert draft_for(10).key != draft_for(10).key


def test_stale_draft_after_fifteen_idle_minutes():
    draft = draft_for(10)
    assert not draft.is_stale(NOW + timedelta(minutes=14))
    assert draft.is_stale(NOW + timedelta(minutes=16))


@pytest.mark.parametrize(
    ("minutes_ago", "expected"),
    [(None, None), (0, timedelta(minutes=10)), (3, timedelta(minutes=7)), (10, None), (60, None)],
)
def test_ten_minute_rule(minutes_ago, expected):
    last = None if minutes_ago is None else NOW - timedelta(minutes=minutes_ago)
    assert wait_before_next_checkin(last, NOW) == expected


def test_ten_minute_rule_is_configurable_and_can_be_off():
    last = NOW - timedelta(minutes=3)
    assert wait_before_next_checkin(last, NOW, min_interval=timedelta(minutes=5)) == timedelta(minutes=2)
    assert wait_before_next_checkin(last, NOW, min_interval=timedelta(0)) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("102848", 102848),
        (" #102848 ", 102848),
        ("https://openchargemap.org/site/poi/details/102848", 102848),
        ("abc", None),
        ("", None),
        ("-5", None),
        ("99999999999999", None),
    ],
)
def test_charger_id_from_command_argument(text, expected):
    assert parse_charger_id(text) == expected


def test_sign_in_helpers():
    assert looks_like_email("ada@example.org")
    assert not looks_like_email("hunter2")
    assert not looks_like_email("ada@localhost")
    header_payload = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3NjQwOTM2MDB9.sig"  # exp 2025-11-25T18:00:00Z
    assert token_expiry(header_payload) == datetime(2025, 11, 25, 18, 0, tzinfo=UTC)
    assert token_expiry("not a jwt") is None


# CheckinService on a real storage ------------------------------------------------------------------


def service_on(storage, *, write_key: bool = True, now=lambda: NOW) -> CheckinService:
    outbox = Outbox(storage, client=None, write_key="key" if write_key else None, now=now)
    accounts = Accounts(storage, client=object())  # sign-in possible; these tests never call OCM
    return CheckinService(storage, outbox, accounts, write_key_configured=write_key, now=now)


async def test_submitting_the_same_draft_twice_queues_it_once(sqlite_storage):
    service = service_on(sqlite_storage)
    draft = draft_for(10).with_rating(5).with_comment(None)
    first = await service.submit(7, draft, language="en")
    second = await service.submit(7, draft, language="en")
    assert first.status is SubmitStatus.QUEUED
    assert second.status is SubmitStatus.ALREADY_QUEUED
    assert len(await sqlite_storage.outbox_for_user(7)) == 1
    assert await service.load_draft(7) is None


async def test_a_second_checkin_at_the_same_charger_within_ten_minutes_is_refused(sqlite_storage):
    clock = [NOW]
    service = service_on(sqlite_storage, now=lambda: clock[0])
    await service.submit(7, draft_for(10).with_comment(None), language="en")
    clock[0] = NOW + timedelta(minutes=4)
    again = await service.submit(7, draft_for(20).with_comment(None), language="en")
    assert again.status is SubmitStatus.TOO_SOON
    assert again.wait == timedelta(minutes=6)
    assert len(await sqlite_storage.outbox_for_user(7)) == 1
    # Another driver, or the same driver at another charger, is not held back.
    other = await service.submit(8, draft_for(20).with_comment(None), language="en")
    assert other.status is SubmitStatus.QUEUED


async def test_without_token_or_write_key_nothing_is_queued(sqlite_storage):
    service = service_on(sqlite_storage, write_key=False)
    result = await service.submit(7, draft_for(10).with_comment(None), language="en")
    assert result.status is SubmitStatus.NO_CREDENTIALS
    assert await sqlite_storage.outbox_for_user(7) == []


async def test_a_signed_in_driver_posts_as_themselves_even_with_a_write_key(sqlite_storage):
    service = service_on(sqlite_storage)
    assert await service.submitter_for(7) is Submitter.APP
    await sqlite_storage.save_ocm_token(7, "a.b.c")
    assert await service.submitter_for(7) is Submitter.USER


@settings(max_examples=200, deadline=None)
@given(
    outcome_id=st.sampled_from(sorted(o.id for o in outcomes_from(None))),
    rating=st.none() | st.integers(1, 5),
    comment=st.none() | st.text(max_size=4000),
)
def test_any_finished_draft_survives_storage_and_makes_a_comment_ocm_accepts(outcome_id, rating, comment):
    draft = CheckinDraft.start(charger_id=102848, charger_name="SEASON SCC", chat_id=7, now=NOW)
    draft = draft.with_outcome(find_outcome(outcomes_from(None), outcome_id)).with_rating(rating).with_comment(comment)
    assert CheckinDraft.from_dict(json.loads(json.dumps(draft.to_dict()))) == draft
    queued = QueuedCheckin(submission_for(draft), submitter=Submitter.APP, charger_name=draft.charger_name)
    stored = json.loads(json.dumps(queued.to_payload()))
    assert QueuedCheckin.from_payload(stored) == queued  # within OCM's limits, nothing lost


def test_a_checkin_queued_by_an_earlier_release_reads_back_without_its_user_name():
    stored = {
        "v": 1,
        "submission": {"ChargePointID": 102848, "CommentTypeID": 10, "CheckinStatusTypeID": 10, "UserName": "ada"},
        "submitter": "app",
        "charger_name": "SEASON SCC",
    }
    queued = QueuedCheckin.from_payload(stored)
    assert queued.charger_id == 102848 and queued.submission.user_name is None
    assert queued.to_payload()["submission"] == {
        "ChargePointID": 102848,
        "CommentTypeID": 10,
        "CheckinStatusTypeID": 10,
    }
