"""The ``ocm-bot`` command as an operator uses it."""

from __future__ import annotations

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
    assert settings.telegram_bot_token.get() not in result.stdout
    assert settings.ocm_api_key.get() not in result.stdout


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
