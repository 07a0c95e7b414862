"""Check-in screens: what the driver reads and taps, OCM text escaped, buttons signed and short."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ocm_bot.domain.checkin import CheckinDraft, find_outcome, group_outcomes, outcomes_from
from ocm_bot.domain.outbox import Delivery, DeliveryResult, QueuedCheckin, Submitter
from ocm_bot.i18n import translator
from ocm_bot.ocm.client import CommentSubmission
from ocm_bot.ocm.errors import OcmBudgetExhausted, OcmRejected, OcmTooManyRequests, OcmUnavailable
from ocm_bot.storage.base import OutboxItem, utc_now
from ocm_bot.views import checkin as views
from ocm_bot.views import delivery as delivery_views
from ocm_bot.views.callbacks import CallbackCodec

T = translator("en")
CODEC = CallbackCodec(b"test key")
OUTCOMES = outcomes_from(None)
NASTY_NAME = "Tesco <Extra> & Co"


def draft(**changes) -> CheckinDraft:
    base = CheckinDraft.start(charger_id=1234, charger_name=NASTY_NAME, chat_id=7)
    base = base.with_outcome(find_outcome(OUTCOMES, changes.pop("outcome", 20)))
    return base.with_rating(changes.pop("rating", 4)).with_comment(changes.pop("comment", "It <works> & more"))


def actions(screen) -> list[tuple[str, tuple[str, ...]]]:
    decoded = []
    for row in screen.keyboard.inline_keyboard:
        for button in row:
            if button.callback_data:
                assert len(button.callback_data.encode()) <= 64
                callback = CODEC.decode(button.callback_data)
                decoded.append((callback.action, callback.args))
    return decoded


def labels(screen) -> list[str]:
    return [button.text for row in screen.keyboard.inline_keyboard for button in row]


def test_outcome_screen_escapes_the_charger_name_and_offers_groups_and_cancel():
    screen = views.outcome_screen(
        T, CODEC, CheckinDraft.start(charger_id=1, charger_name=NASTY_NAME, chat_id=7), group_outcomes(OUTCOMES)
    )
    assert screen.text == "How did it go at <b>Tesco &lt;Extra&gt; &amp; Co</b>?"
    assert actions(screen) == [
        (views.OUTCOME, ("10",)),
        (views.GROUP, ("failed",)),
        (views.OUTCOME, ("100",)),
        (views.GROUP, ("blocked",)),
        (views.GROUP, ("other",)),
        (views.CANCEL, ()),
    ]


def test_group_screen_lists_detailed_outcomes_with_emoji_back_and_cancel():
    failed = next(g for g in group_outcomes(OUTCOMES) if g.name == "failed")
    screen = views.outcome_group_screen(T, CODEC, draft(outcome=25), failed)
    assert "• ⚠️ Failed: equipment problem" in labels(screen)  # the answer given before is marked
    assert labels(screen)[-2:] == ["‹ Back", "Cancel"]


def test_rating_screen_has_five_stars_skip_back_cancel():
    screen = views.rating_screen(T, CODEC, draft(rating=3))
    assert labels(screen) == ["1", "2", "•3•", "4", "5", "Skip", "‹ Back", "Cancel"]
    assert (views.RATE, ("0",)) in actions(screen)


def test_comment_screen_offers_fault_report_only_for_a_failed_outcome():
    failed = views.comment_screen(T, CODEC, draft(outcome=20))
    assert "✓ 🛠 Fault report" in labels(failed) and "💬 General comment" in labels(failed)
    assert "Your comment so far: <i>It &lt;works&gt; &amp; more</i>" in failed.text
    charged = views.comment_screen(T, CODEC, draft(outcome=10))
    assert not any("Fault" in label for label in labels(charged))


def test_a_paused_comment_step_says_typed_text_is_a_place_and_offers_to_write_a_comment():
    d = CheckinDraft.start(charger_id=1234, charger_name=NASTY_NAME, chat_id=7)
    paused = d.with_outcome(find_outcome(OUTCOMES, 10)).with_rating(4).pause()
    screen = views.comment_screen(T, CODEC, paused)
    assert "what you type is searched as a place" in screen.text and "Send a message" not in screen.text
    assert labels(screen)[0] == "✍️ Write a comment" and actions(screen)[0] == (views.WRITE_COMMENT, ())
    assert "Send a message" in views.comment_screen(T, CODEC, paused.resume()).text


@pytest.mark.parametrize(
    ("submitter", "expected"),
    [
        (Submitter.USER, "It will appear on Open Charge Map under your own account."),
        (Submitter.APP, "It will appear on Open Charge Map under this bot's account, not under your name."),
    ],
)
def test_summary_with_credentials_has_submit_back_cancel(submitter, expected):
    d = draft()
    screen = views.summary_screen(T, CODEC, d, OUTCOMES, submitter, sign_in_available=True)
    assert expected in screen.text and "Telegram name" not in screen.text
    assert "Rating: ★★★★☆ (4/5)" in screen.text
    assert "Comment: <i>It &lt;works&gt; &amp; more</i>" in screen.text
    assert "Posted as a fault report." in screen.text
    assert labels(screen) == ["Submit", "‹ Back", "Cancel"]
    assert actions(screen)[0] == (views.SUBMIT, (d.key,))


@pytest.mark.parametrize(
    ("sign_in_available", "why"),
    [(True, "send /login"), (False, "no write access to Open Charge Map")],
)
def test_summary_without_credentials_links_to_ocm_and_explains_why(sign_in_available, why):
    screen = views.summary_screen(T, CODEC, draft(), OUTCOMES, Submitter.NONE, sign_in_available=sign_in_available)
    assert why in screen.text
    [link] = [b for row in screen.keyboard.inline_keyboard for b in row if b.url]
    assert link.url == "https://openchargemap.org/site/poi/addcomment/1234"
    assert "Submit" not in labels(screen)


def delivery(result: DeliveryResult, *, attempts: int = 0, error=None, last_error=None) -> Delivery:
    now = utc_now()
    item = OutboxItem("a" * 32, 7, 7, 1234, {}, "pending", attempts, now, now, None, None, last_error, None)
    checkin = QueuedCheckin(CommentSubmission(charger_id=1234), Submitter.APP, NASTY_NAME)
    return Delivery(item, checkin, result, error)


def test_delivered_links_to_the_charger_page():
    screen = delivery_views.delivery_screen(T, CODEC, delivery(DeliveryResult.DELIVERED))
    assert screen.text.startswith("Thanks! Your check-in at <b>Tesco &lt;Extra&gt; &amp; Co</b> is on Open Charge Map")
    assert 'href="https://openchargemap.org/site/poi/details/1234"' in screen.text
    later = delivery_views.delivery_screen(T, CODEC, delivery(DeliveryResult.DELIVERED, attempts=3))
    assert "now posted" in later.text


def test_a_refusal_quotes_ocm_escaped_and_offers_the_ocm_page():
    error = OcmRejected("Error: <Validation> Failed")
    screen = delivery_views.delivery_screen(T, CODEC, delivery(DeliveryResult.REJECTED, error=error))
    assert "“Error: &lt;Validation&gt; Failed”" in screen.text and "not posted" in screen.text
    assert screen.keyboard.inline_keyboard[0][0].url == "https://openchargemap.org/site/poi/addcomment/1234"


def test_a_checkin_held_up_by_the_bots_own_budget_says_the_bot_is_busy_not_that_ocm_asks_to_slow_down():
    held = delivery_views.delivery_screen(
        T, CODEC, delivery(DeliveryResult.RETRY, error=OcmBudgetExhausted(retry_after=20))
    )
    assert held.text.startswith("This bot is busy right now. Your check-in at")
    assert "slow down" not in held.text and "Open Charge Map" not in held.text
    assert actions(held) == [(views.RETRY, ("a" * 32,))]
    throttled = delivery_views.delivery_screen(T, CODEC, delivery(DeliveryResult.RETRY, error=OcmTooManyRequests()))
    assert throttled.text.startswith("Open Charge Map asks us to slow down.")


def test_waiting_for_ocm_offers_retry_of_that_checkin():
    screen = delivery_views.delivery_screen(T, CODEC, delivery(DeliveryResult.RETRY, error=OcmUnavailable("down")))
    assert "Open Charge Map is not answering right now." in screen.text
    assert actions(screen) == [(views.RETRY, ("a" * 32,))]


def test_expired_sign_in_asks_to_login_again():
    screen = delivery_views.delivery_screen(T, CODEC, delivery(DeliveryResult.NEEDS_SIGN_IN))
    assert "/login" in screen.text and "kept" in screen.text


def test_too_soon_counts_minutes_up():
    assert "again in 1 minute." in views.too_soon_text(T, "X", timedelta(seconds=20)).text
    assert "again in 7 minutes." in views.too_soon_text(T, "X", timedelta(minutes=6, seconds=1)).text


def test_group_invite_is_a_deep_link_to_a_private_chat():
    screen = views.private_chat_screen(T, "ocm_bot", 1234)
    assert screen.keyboard.inline_keyboard[0][0].url == "https://t.me/ocm_bot?start=checkin-1234"


def test_giving_up_says_why():
    unreachable = delivery_views.delivery_screen(
        T, CODEC, delivery(DeliveryResult.GAVE_UP, error=OcmUnavailable("down"))
    )
    assert "could not reach Open Charge Map for two days" in unreachable.text
    unsigned = delivery_views.delivery_screen(T, CODEC, delivery(DeliveryResult.GAVE_UP, last_error="needs-sign-in"))
    assert "waited a month for you to sign in again" in unsigned.text
    assert unsigned.keyboard.inline_keyboard[0][0].url.endswith("/addcomment/1234")
