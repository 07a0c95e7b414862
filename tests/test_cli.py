"""The ``ocm-bot`` command as an operator uses it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.fixtures import REPO_ROOT, environment_for, settings_for


def ocm_bot(*args: str, env: dict[str, str] | None = None, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "ocm_bot", "--env-file", str(tmp_path / "none.env"), *args],
        env=base | (env or {}),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["webhook", "--help"], ["check", "--help"]])
def test_help_is_available_everywhere(args, tmp_path):
    result = ocm_bot(*args, tmp_path=tmp_path)
    assert result.returncode == 0
    assert "usage: ocm-bot" in result.stdout


def test_help_lists_every_command(tmp_path):
    result = ocm_bot("--help", tmp_path=tmp_path)
    for command in ("run", "webhook", "check", "demo"):
        assert command in result.stdout


def test_check_says_service_by_service_that_everything_answers(telegram_server, ocm_server, nominatim_server, tmp_path):
    settings = settings_for(telegram_server, ocm_server, nominatim_server, tmp_path / "data")
    result = ocm_bot("check", env=environment_for(settings), tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[ok  ] Telegram" in result.stdout
    assert "[ok  ] OCM" in result.stdout
    assert "[ok  ] Nominatim" in result.stdout
    assert "[ok  ] Storage" in result.stdout
    assert settings.telegram_bot_token.get() not in result.stdout
    assert settings.ocm_api_key.get() not in result.stdout


def test_check_names_the_bot_to_ocm_and_nominatim_as_the_bot_itself_does(
    telegram_server, ocm_server, nominatim_server, tmp_path
):
    """Both usage policies ask for a User-Agent that says who we are and where to find out more."""
    settings = settings_for(telegram_server, ocm_server, nominatim_server, tmp_path / "data")
    assert ocm_bot("check", env=environment_for(settings), tmp_path=tmp_path).returncode == 0
    agents = {r.headers.get("User-Agent") for r in [*ocm_server.requests_to("/v3"), *nominatim_server.requests_to("/")]}
    assert agents and all(a.startswith("ocm-bot/") and "+https://github.com/ocm-bot/ocm-bot" in a for a in agents)


def test_check_asks_the_router_for_a_route_when_router_url_is_set(
    telegram_server, ocm_server, nominatim_server, osrm_server, tmp_path
):
    settings = settings_for(telegram_server, ocm_server, nominatim_server, tmp_path / "data")
    result = ocm_bot("check", env=environment_for(settings), tmp_path=tmp_path)
    assert "[--  ] Router     ROUTER_URL is not set (optional" in result.stdout
    assert osrm_server.requests_to("/route/") == []

    result = ocm_bot("check", env=environment_for(settings) | {"ROUTER_URL": osrm_server.url}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"[ok  ] Router     {osrm_server.url} answers routes" in result.stdout
    [probe] = osrm_server.requests_to("/route/v1/driving/")
    assert probe.headers.get("User-Agent", "").startswith("ocm-bot/")

    osrm_server.inject("status500", times=None)
    result = ocm_bot("check", env=environment_for(settings) | {"ROUTER_URL": osrm_server.url}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr  # optional: the bot runs without it
    [line] = [line for line in result.stdout.splitlines() if "] Router" in line]
    assert line.startswith("  [FAIL] Router") and "optional" in line and "500" in line


def test_check_names_the_service_that_is_down_and_fails(telegram_server, ocm_server, nominatim_server, tmp_path):
    settings = settings_for(telegram_server, ocm_server, nominatim_server, tmp_path / "data")
    env = environment_for(settings) | {"OCM_API_KEY": "00000000-0000-0000-0000-000000000000"}
    env["NOMINATIM_URL"] = "http://127.0.0.1:9"  # the discard port: nothing listens there
    result = ocm_bot("check", env=env, tmp_path=tmp_path)
    assert result.returncode == 1
    assert "[ok  ] Telegram" in result.stdout
    assert "[FAIL] OCM" in result.stdout and "API key was refused" in result.stdout
    assert "[FAIL] Nominatim" in result.stdout and "did not answer" in result.stdout


def test_webhook_without_a_url_says_what_is_missing(tmp_path):
    result = ocm_bot("webhook", env={"TELEGRAM_BOT_TOKEN": "123456:ABCDEFGHIJKLMN"}, tmp_path=tmp_path)
    assert result.returncode == 2
    assert "WEBHOOK_URL is not set" in result.stderr


def test_run_without_an_ocm_key_says_where_to_get_one(tmp_path):
    result = ocm_bot("run", env={"TELEGRAM_BOT_TOKEN": "123456:ABCDEFGHIJKLMN"}, tmp_path=tmp_path)
    assert result.returncode == 2
    assert "OCM_API_KEY is not set" in result.stderr
    assert "openchargemap.org/site/profile/applications" in result.stderr
    assert "Traceback" not in result.stderr


def configuration_shown(output: str) -> dict[str, str]:
    """`ocm-bot check`'s Configuration section: {variable name: value shown}."""
    section = output.split("Configuration:\n", 1)[1].split("\n\n", 1)[0]
    return dict(line.strip().split(None, 1) for line in section.splitlines())  # type: ignore[misc]


def readme_variables() -> list[str]:
    section = (REPO_ROOT / "README.md").read_text().split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([A-Z_]+)` \|", section, flags=re.MULTILINE)


def test_check_shows_every_setting_under_the_variable_an_operator_sets(
    telegram_server, ocm_server, nominatim_server, tmp_path
):
    data_file = tmp_path / "ocm-dump.json"
    data_file.write_text("[]")
    settings = settings_for(telegram_server, ocm_server, nominatim_server, tmp_path / "data")
    plain = {
        "OCM_DATA_FILE": str(data_file),
        "ROUTER_URL": "https://router.example.test",
        "WEBHOOK_URL": "https://example.test/telegram/hook",
        "WEBHOOK_LISTEN": "127.0.0.2",
        "PORT": "8444",
        "LOG_LEVEL": "WARNING",
        "DEFAULT_LANGUAGE": "de",
        "BOT_CONTACT": "ev-help@example.test",
        "CHECKIN_MIN_INTERVAL_MINUTES": "11",
        "OCM_REQUESTS_PER_MINUTE": "61",
        "OUTBOX_POLL_SECONDS": "12",
        "OUTBOX_LEASE_SECONDS": "91",
        "WATCH_POLL_SECONDS": "301",
        "TAKE_OVER_WEBHOOK": "True",
        "JOB_LEASE_SECONDS": "61",
        "LOG_FORMAT": "json",
        "METRICS_PORT": "9101",
        "NOMINATIM_REQUESTS_PER_SECOND": "2",
        "SEARCH_RATE_LIMIT": "21",
    }
    hidden = {
        "OCM_WRITE_KEY": "write-key-0123456789",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        "WEBHOOK_SECRET": "hook-secret_1",
    }
    env = environment_for(settings) | plain | hidden
    result = ocm_bot("check", env=env, tmp_path=tmp_path)
    # Nothing answers at ROUTER_URL: shown as failed, but the router is optional, so the exit status is 0.
    assert result.returncode == 0, result.stdout + result.stderr
    [router_line] = [line for line in result.stdout.splitlines() if "] Router" in line]
    assert router_line.startswith("  [FAIL] Router") and "https://router.example.test" in router_line
    assert "optional" in router_line
    shown = configuration_shown(result.stdout)
    variables = set(env) - {"PATH", "HOME"}
    assert set(shown) == variables, (
        f"shown but not read: {set(shown) - variables}; read, not shown: {variables - set(shown)}"
    )
    secrets = {"TELEGRAM_BOT_TOKEN", "OCM_API_KEY", "STORAGE_SECRET", *hidden}
    for name in variables - secrets:
        assert shown[name] == env[name], name
    for name in secrets:
        assert shown[name] == "set (hidden)", name
        assert env[name] not in result.stdout
    # README's Configuration table documents exactly these variables.
    assert sorted(readme_variables()) == sorted(shown)


def test_check_fails_without_an_ocm_key_as_run_refuses_to_start(
    telegram_server, ocm_server, nominatim_server, tmp_path
):
    settings = settings_for(telegram_server, ocm_server, nominatim_server, tmp_path / "data")
    env = environment_for(settings)
    del env["OCM_API_KEY"]
    result = ocm_bot("check", env=env, tmp_path=tmp_path)
    assert result.returncode == 1
    [ocm_line] = [line for line in result.stdout.splitlines() if "] OCM" in line]
    assert ocm_line.startswith("  [FAIL] OCM") and "OCM_API_KEY is not set" in ocm_line
    assert "openchargemap.org/site/profile/applications" in ocm_line
    assert "OCM_API_KEY" in configuration_shown(result.stdout)


TERMINAL_VARIABLES = {"LC_ALL", "LC_MESSAGES", "LANG", "NO_COLOR", "TERM"}


@pytest.mark.parametrize(
    ("command", "does", "reads"),
    [
        ("run", "long polling", {"TELEGRAM_BOT_TOKEN", "OCM_API_KEY", "OCM_DATA_FILE", "DATABASE_URL", "BOT_CONTACT"}),
        ("webhook", "webhook", {"WEBHOOK_URL", "WEBHOOK_SECRET", "WEBHOOK_LISTEN", "PORT", "TELEGRAM_BOT_TOKEN"}),
        ("check", "Validate the configuration", {"TELEGRAM_BOT_TOKEN", "OCM_API_KEY", "WEBHOOK_URL", "NOMINATIM_URL"}),
        ("demo", "bundled with it", {"LANG", "NO_COLOR"}),
    ],
)
def test_each_command_help_says_what_it_does_and_which_variables_it_reads(command, does, reads, tmp_path):
    result = ocm_bot(command, "--help", tmp_path=tmp_path)
    assert result.returncode == 0
    assert does in result.stdout.replace("\n", " ")
    named = set(re.findall(r"\b[A-Z][A-Z_]{2,}\b", result.stdout))
    assert reads <= named
    # Every name is a variable the bot really reads.
    assert named - {"API", "URL", "HTTPS"} <= set(readme_variables()) | TERMINAL_VARIABLES


def test_check_fails_when_the_database_is_down_without_showing_its_password(
    telegram_server, ocm_server, nominatim_server, tmp_path
):
    settings = settings_for(telegram_server, ocm_server, nominatim_server, tmp_path / "data")
    env = environment_for(settings) | {"DATABASE_URL": "postgresql://ocm:Pg-Secret-Pass-42@127.0.0.1:9/ocm"}
    result = ocm_bot("check", env=env, tmp_path=tmp_path)
    assert result.returncode == 1
    [line] = [line for line in result.stdout.splitlines() if "] Storage" in line]
    assert line.startswith("  [FAIL] Storage") and "PostgreSQL at 127.0.0.1:9/ocm" in line and "DATABASE_URL" in line
    assert "Pg-Secret-Pass-42" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
