"""Typed HTML: a translation with ``&`` or ``<`` renders escaped on every screen sent with parse_mode=HTML.

The translator here adds " & <i>" to every message; each screen must still be HTML that Telegram
(the fake Bot API's parser) accepts without a warning, and show that text literally.
"""

from __future__ import annotations

import gettext
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ocm_bot.demo.formatting import parse_html
from ocm_bot.domain.checkin import CheckinDraft, find_outcome, group_outcomes, outcomes_from
from ocm_bot.domain.outbox import Delivery, DeliveryResult, QueuedCheckin, Submitter
from ocm_bot.domain.preferences import DistanceUnitChoice, UsageChoice, UserPreferences
from ocm_bot.domain.search import SearchService
from ocm_bot.i18n import Translator
from ocm_bot.ocm.client import CommentSubmission
from ocm_bot.ocm.errors import OcmAuthError, OcmBudgetExhausted, OcmRateLimited, OcmRejected, OcmUnavailable
from ocm_bot.ocm.models import Comment, Operator
from ocm_bot.ocm.reference import ReferenceData
from ocm_bot.storage.base import OutboxItem, utc_now
from ocm_bot.views import checkin, common, delivery, details, preferences, results, signin
from ocm_bot.views.callbacks import CallbackCodec
from ocm_bot.views.common import View
from ocm_bot.views.html import Html
from tests.domain.samples import PORTLAND, SampleSource, by_id
from tests.domain.samples import reference as sample_reference

MARK = " & <i>"
NOW = datetime(2024, 6, 1, tzinfo=UTC)
CODEC = CallbackCodec(b"k" * 32)
REFERENCE_FILE = Path(__file__).resolve().parents[3] / "shared" / "ocm" / "referencedata.json"


class _HostileCatalog(gettext.NullTranslations):
    """A translation that adds HTML's special characters to every message."""

    def gettext(self, message: str) -> str:
        return message + MARK

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return (singular if n == 1 else plural) + MARK


T = Translator("en", _HostileCatalog())


def _screens() -> dict[str, View]:
    name = "Tesco <Extra> & Co"
    draft = CheckinDraft.start(charger_id=1234, charger_name=name, chat_id=7)
    outcomes = outcomes_from(None)
    full = draft.with_outcome(find_outcome(outcomes, 20)).with_rating(4).with_comment("It <works> & more")
    now = utc_now()
    item = OutboxItem("a" * 32, 7, 7, 1234, {}, "pending", 1, now, now, None, None, None, None)
    queued = QueuedCheckin(CommentSubmission(charger_id=1234), Submitter.APP, name)
    lidl = replace(
        by_id(100627),
        comments=(Comment(1, rating=5, text="Fast <3", user_name="A&B", date_created=NOW - timedelta(days=2)),),
    )
    prefs = UserPreferences(min_power_kw=50, operator_ids=frozenset({3}), usage=UsageChoice.INCLUDE_MEMBERSHIP)
    reference = ReferenceData.from_json(json.loads(REFERENCE_FILE.read_text()))
    menu = preferences.MenuContext(
        T, prefs, reference, CODEC, automatic_unit=None, telegram_language="en", languages=("en", "de")
    )
    screens: dict[str, View] = {
        "welcome": common.welcome_view(T, "Ann & <Bob>"),
        "help": common.help_view(T),
        "expired": View.plain(common.expired_button_text(T)),
        "unexpected": View.plain(common.unexpected_error_text(T)),
        "place choice": results.place_choice_text(T, "Main St & <1st>"),
        "place not found": results.place_not_found_text(T, "Main St & <1st>"),
        "geocoder busy": results.geocoder_busy_text(T),
        "geocoder down": results.geocoder_down_text(T),
        "charger not found": results.charger_not_found_text(T, 5),
        "charger usage": results.charger_usage_text(T),
        "details": details.details_view(
            T, lidl, CODEC, now=NOW, unit=DistanceUnitChoice.KM, is_favourite=True, private=True, bot_username="ocm_bot"
        ),
        "favourites": details.favourites_views(T, [lidl], [42], CODEC, unit=DistanceUnitChoice.KM)[0],
        "no favourites": details.favourites_views(T, [], [], CODEC, unit=DistanceUnitChoice.KM)[0],
        "closed settings": preferences.closed_menu(T, prefs, reference, unit=DistanceUnitChoice.KM),
        "operator matches": preferences.operator_matches(
            T, prefs, "Ion & <ity>", [Operator(3, "Ionity & <Co>")], CODEC
        ),
        "operator no match": preferences.operator_matches(T, prefs, "x & <y>", [], CODEC),
        "forget": preferences.forget_confirmation(T, CODEC),
        "forgotten": preferences.forgotten(T),
        "nothing deleted": preferences.nothing_deleted(T),
        "privacy": preferences.privacy_text(T),
        "private only": preferences.private_chat_only(T, "/settings"),
        "checkin cannot post": checkin.cannot_post_screen(T, 1234, name),
        "checkin outcome": checkin.outcome_screen(T, CODEC, draft, group_outcomes(outcomes)),
        "checkin group": checkin.outcome_group_screen(T, CODEC, full, group_outcomes(outcomes)[1]),
        "checkin rating": checkin.rating_screen(T, CODEC, full),
        "checkin comment": checkin.comment_screen(T, CODEC, full),
        "checkin summary": checkin.summary_screen(T, CODEC, full, outcomes, Submitter.APP, sign_in_available=True),
        "checkin too soon": checkin.too_soon_text(T, name, timedelta(minutes=3)),
        "checkin sending": checkin.sending_text(T, name),
        "signed in": signin.signed_in_text(T, "ann & <bob>", 2),
    }
    for result in DeliveryResult:
        screens[f"delivery {result}"] = delivery.delivery_screen(T, CODEC, Delivery(item, queued, result))
    for error in (
        OcmBudgetExhausted(3.0),
        OcmRateLimited(200.0),
        OcmAuthError("x"),
        OcmRejected("x"),
        OcmUnavailable("x"),
    ):
        screens[f"ocm error {type(error).__name__}"] = View.plain(common.ocm_error_text(T, error))
    for screen in preferences.Screen:
        screens[f"settings {screen}"] = preferences.render(screen, menu)
    return screens


async def _results_view() -> View:
    prefs = UserPreferences(operational_only=False, usage=UsageChoice.INCLUDE_RESTRICTED, min_power_kw=50)
    result = await SearchService(SampleSource()).nearby(PORTLAND, prefs, label="Pioneer & <Square>")
    return results.results_view(T, result, 0, CODEC, now=NOW, reference=sample_reference())


SCREENS = _screens()


@pytest.mark.parametrize("name", sorted(SCREENS))
def test_a_translation_with_html_characters_is_escaped_on_every_screen(name):
    view = SCREENS[name]
    assert isinstance(view.text, Html), "a screen's text is typed HTML"
    parsed = parse_html(view.text)  # raises where Telegram would answer "can't parse entities"
    assert parsed.warnings == []  # a bare & or > is text that was not escaped
    assert MARK.strip() in parsed.text


async def test_a_translation_with_html_characters_is_escaped_on_the_results_page():
    view = await _results_view()
    assert isinstance(view.text, Html)
    parsed = parse_html(view.text)
    assert parsed.warnings == []
    assert MARK.strip() in parsed.text and "Pioneer & <Square>" in parsed.text


# Found by tests/e2e/test_fuzz.py: a venue titled "\ud800" (a lone surrogate, which JSON carries and
# UTF-8 cannot) made the results message unsendable, and the driver got no answer at all.
def test_a_lone_surrogate_in_text_becomes_the_replacement_character():
    from ocm_bot.views.html import bold, escape

    assert escape("Leeds\ud800 <b>") == "Leeds\ufffd &lt;b&gt;"
    assert bold("\udfff").encode("utf-8") == "<b>\ufffd</b>".encode()
    assert escape("🚗 kept") == "🚗 kept"


def test_clipped_user_text_is_sendable_too():
    # Found by tests/e2e/test_fuzz.py: a guest call "@bot \ud86d" was answered with
    # "I could not find “\ud86d”", which no Bot API request can carry.
    from ocm_bot.i18n import translator
    from ocm_bot.views.inline import guest_place_not_found_text, no_place_text

    t = translator("en")
    assert guest_place_not_found_text(t, ">\ud86d\ud8f1").encode("utf-8")
    assert no_place_text(t, "x\udfff").encode("utf-8")
