"""What a driver reads when Open Charge Map (or the bot's own budget for it) cannot answer now."""

from __future__ import annotations

import pytest

from ocm_bot.i18n import translator
from ocm_bot.ocm.errors import OcmBudgetExhausted, OcmPasswordlessAccount, OcmTooManyRequests, OcmUnavailable
from ocm_bot.views.common import ocm_error_text


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (OcmTooManyRequests(retry_after=1), "Open Charge Map asks us to slow down. Please try again in 1 second."),
        (OcmTooManyRequests(retry_after=6.2), "Open Charge Map asks us to slow down. Please try again in 7 seconds."),
        (OcmTooManyRequests(retry_after=3600), "Open Charge Map asks us to slow down. Please try again in 60 minutes."),
        (OcmTooManyRequests(), "Open Charge Map asks us to slow down. Please try again in a minute."),
        (OcmBudgetExhausted(retry_after=42), "This bot is busy right now. Please try again in 42 seconds."),
        (OcmUnavailable(), "Open Charge Map is not answering right now. Please try again in a minute."),
    ],
)
def test_throttling_says_who_asks_to_wait_and_how_long(error, text):
    assert ocm_error_text(translator("en"), error) == text


@pytest.mark.parametrize("language", ["de", "fr", "es", "nl"])
def test_every_language_says_how_long_and_tells_the_bot_from_ocm(language):
    t = translator(language)
    busy = ocm_error_text(t, OcmBudgetExhausted(retry_after=42))
    slow_down = ocm_error_text(t, OcmTooManyRequests(retry_after=42))
    assert "42" in busy and "42" in slow_down
    assert "Open Charge Map" not in busy and "Open Charge Map" in slow_down
    assert busy != ocm_error_text(translator("en"), OcmBudgetExhausted(retry_after=42))


def test_a_social_login_account_is_not_told_its_password_is_wrong():
    text = ocm_error_text(translator("en"), OcmPasswordlessAccount())
    assert "no password yet" in text and "openchargemap.org" in text


@pytest.mark.parametrize("language", ["en", "de", "fr", "es", "nl"])
def test_a_broken_local_data_file_is_not_blamed_on_open_charge_map(language):
    from ocm_bot.ocm.local import LocalDataError

    t = translator(language)
    text = ocm_error_text(t, LocalDataError("/srv/ocm/poi.json is not valid JSON"))
    assert "Open Charge Map" not in text and "poi.json" not in text  # the operator's file is not the driver's business
    assert text != ocm_error_text(t, OcmUnavailable())
    assert language == "en" or text != ocm_error_text(translator("en"), LocalDataError())  # translated
