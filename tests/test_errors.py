"""The bot's own errors share one root, so "one of ours" and "a bug" can be told apart."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import ocm_bot
from ocm_bot.app import StartupError
from ocm_bot.domain.accounts import SignInDisabled
from ocm_bot.domain.checkin import CheckinInputError, CommentTooLong, InvalidRating
from ocm_bot.domain.favourites import FavouritesFull
from ocm_bot.domain.places import PlaceInputError
from ocm_bot.domain.preferences_edit import InvalidChoice
from ocm_bot.errors import InputError, OcmBotError
from ocm_bot.geocoding import GeocoderBusy, GeocoderDown, GeocoderRefused
from ocm_bot.ocm.errors import OcmBudgetExhausted, OcmPasswordlessAccount, OcmUnavailable
from ocm_bot.ocm.local import LocalDataError
from ocm_bot.settings import SettingsError
from ocm_bot.storage.base import SchemaTooNew, StorageUnavailable, TokensDisabled, UnsupportedDatabaseUrl
from ocm_bot.views.callbacks import InvalidCallback


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


def _exception_classes() -> list[type[BaseException]]:
    """Every exception class defined in a module of ocm_bot (found by importing each module)."""
    found = []
    for module_info in pkgutil.walk_packages(ocm_bot.__path__, "ocm_bot."):
        if module_info.name.endswith("__main__"):
            continue  # running it starts the bot
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseException) and value.__module__ == module.__name__:
                found.append(value)
    return found


def test_every_exception_class_in_the_package_has_the_one_root() -> None:
    classes = _exception_classes()
    assert OcmBotError in classes and LocalDataError in classes  # the walk sees the package's modules
    assert [f"{c.__module__}.{c.__qualname__}" for c in classes if not issubclass(c, OcmBotError)] == []


def test_the_domains_input_errors_are_input_errors_under_the_root() -> None:
    for error in (PlaceInputError, CheckinInputError, CommentTooLong, InvalidRating, InvalidChoice, InvalidCallback):
        assert issubclass(error, InputError)
    assert issubclass(InputError, OcmBotError)
    for error in (FavouritesFull, SignInDisabled):
        assert issubclass(error, OcmBotError)
