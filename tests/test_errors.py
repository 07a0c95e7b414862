"""The bot's own errors share one root, so "one of ours" and "a bug" can be told apart."""

from __future__ import annotations

import pytest

from ocm_bot.app import StartupError
from ocm_bot.errors import OcmBotError
from ocm_bot.geocoding import GeocoderBusy, GeocoderDown, GeocoderRefused
from ocm_bot.ocm.errors import OcmBudgetExhausted, OcmPasswordlessAccount, OcmUnavailable
from ocm_bot.ocm.local import LocalDataError
from ocm_bot.settings import SettingsError
from ocm_bot.storage.base import SchemaTooNew, StorageUnavailable, TokensDisabled, UnsupportedDatabaseUrl


@pytest.mark.parametrize(
    "error",
    [
        OcmUnavailable,
        OcmBudgetExhausted,
        OcmPasswordlessAccount,
        LocalDataError,
        GeocoderDown,
        GeocoderBusy,
        GeocoderRefused,
        StorageUnavailable,
        UnsupportedDatabaseUrl,
        SchemaTooNew,
        TokensDisabled,
        SettingsError,
        StartupError,
    ],
)
def test_every_error_of_the_bot_has_the_one_root(error: type[Exception]) -> None:
    assert issubclass(error, OcmBotError)
