"""Settings: built once from the environment, with one clear message per problem."""

import subprocess
import sys

import pytest

from ocm_bot.settings import (
    DEFAULT_NOMINATIM_URL,
    DEFAULT_OCM_API_URL,
    DEFAULT_TELEGRAM_API_URL,
    Settings,
    SettingsError,
)

TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
KEY = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


def test_defaults_point_at_the_public_services():
    settings = Settings.from_env({})
    assert settings.telegram_api_url == DEFAULT_TELEGRAM_API_URL
    assert settings.ocm_api_url == DEFAULT_OCM_API_URL
    assert settings.nominatim_url == DEFAULT_NOMINATIM_URL
    assert settings.telegram_bot_token is None


def test_urls_are_taken_as_given_without_trailing_slash():
    settings = Settings.from_env(
        {
            "TELEGRAM_API_URL": "http://127.0.0.1:8081/",
            "OCM_API_URL": "http://127.0.0.1:9000/v3/",
            "NOMINATIM_URL": "http://127.0.0.1:9001",
        }
    )
    assert settings.telegram_api_url == "http://127.0.0.1:8081"
    assert settings.ocm_api_url == "http://127.0.0.1:9000/v3"
    assert settings.nominatim_url == "http://127.0.0.1:9001"


def test_watched_areas_are_polled_every_five_minutes_unless_told_otherwise():
    assert Settings.from_env({}).watch_poll_seconds == 300
    assert Settings.from_env({"WATCH_POLL_SECONDS": "60"}).watch_poll_seconds == 60
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"WATCH_POLL_SECONDS": "0"})
    assert "WATCH_POLL_SECONDS" in caught.value.problems[0]


def test_every_problem_is_named_at_once():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(
            {"TELEGRAM_BOT_TOKEN": "nope", "OCM_API_URL": "ftp://x", "PORT": "99999", "LOG_LEVEL": "LOUD"}
        )
    problems = " | ".join(caught.value.problems)
    assert "TELEGRAM_BOT_TOKEN" in problems and "BotFather" in problems
    assert "OCM_API_URL" in problems
    assert "PORT" in problems
    assert "LOG_LEVEL" in problems
    assert len(caught.value.problems) == 4


def test_secrets_never_show_in_repr_or_masked_view():
    settings = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "OCM_API_KEY": KEY, "STORAGE_SECRET": "s3cr3t-value"})
    for text in (repr(settings), str(settings), str(settings.masked())):
        assert TOKEN not in text and KEY not in text and "s3cr3t-value" not in text
    assert settings.telegram_bot_token.get() == TOKEN


def test_dotenv_fills_what_the_environment_lacks(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\nOCM_API_URL=http://127.0.0.1:1/v3\n")
    settings = Settings.from_env({"OCM_API_URL": "http://127.0.0.1:2/v3"}, dotenv=dotenv)
    assert settings.telegram_bot_token.get() == TOKEN
    assert settings.ocm_api_url == "http://127.0.0.1:2/v3"


def test_invalid_configuration_exits_2_with_the_problems_and_no_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "ocm_bot", "--env-file", str(tmp_path / "none"), "check"],
        env={"PATH": "/usr/bin:/bin", "OCM_API_KEY": "not-a-guid", "PORT": "abc"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "OCM_API_KEY" in result.stderr and "PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_search_rate_limit_and_nominatim_rate_are_read_and_checked():
    settings = Settings.from_env({"SEARCH_RATE_LIMIT": "0", "NOMINATIM_REQUESTS_PER_SECOND": "50"})
    assert (settings.search_rate_limit, settings.nominatim_requests_per_second) == (0, 50)
    assert Settings.from_env({}).search_rate_limit == 20
    assert Settings.from_env({}).nominatim_requests_per_second == 1
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"SEARCH_RATE_LIMIT": "many", "NOMINATIM_REQUESTS_PER_SECOND": "0"})
    assert {problem.split()[0] for problem in caught.value.problems} == {
        "SEARCH_RATE_LIMIT",
        "NOMINATIM_REQUESTS_PER_SECOND",
    }
