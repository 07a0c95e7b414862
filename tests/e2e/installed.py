"""The bot as an operator deploys it: a wheel built from the checkout, installed into a fresh
virtual environment outside it, run as the installed ``ocm-bot`` command from another folder.

    def test_something(installed_bot_process, bot_settings, telegram):
        process = installed_bot_process(bot_settings)          # `ocm-bot run`, cwd outside the checkout
        ...

    def test_start_up(run_installed, tmp_path):
        result = run_installed("check", env={...})             # a finished `ocm-bot check`

The wheel is built once per test session (a copy of the sources, so the checkout gets no build
folders and only what the wheel ships can be found) with the build backend of the development
environment, without build isolation: tests never touch the internet. The virtual environment is
new and has ``ocm-bot`` installed from the wheel, not editable; only its third-party dependencies
come from the development environment (a ``.pth`` line), which keeps the set-up offline and about
ten seconds long. The tests check that ``ocm_bot`` is imported from the installed copy.

With pytest-xdist the workers share one build (a file lock in the session's base temp folder).
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests import secret_watch
from tests.e2e.fixtures import REPO_ROOT, BotProcess, started_processes

_SOURCES = ("pyproject.toml", "README.md", "ocm_bot")
SECRET_VARIABLES = (
    "TELEGRAM_BOT_TOKEN",
    "OCM_API_KEY",
    "OCM_WRITE_KEY",
    "STORAGE_SECRET",
    "DATABASE_URL",
    "WEBHOOK_SECRET",
)
_NOT_SHIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "*.mo")


@dataclasses.dataclass(frozen=True)
class InstalledBot:
    """A virtual environment with ocm-bot installed from its wheel."""

    venv: Path
    wheel: Path

    @property
    def command(self) -> Path:
        return self.venv / "bin" / "ocm-bot"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"


def _build(root: Path) -> InstalledBot:
    sources = root / "src"
    for name in _SOURCES:
        origin = REPO_ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, sources / name, ignore=_NOT_SHIPPED)
        else:
            sources.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, sources / name)
    wheels = root / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--wheel-dir", str(wheels), str(sources)])
    [wheel] = wheels.glob("ocm_bot-*.whl")
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    site_packages = Path(
        sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)})
    )  # the new environment's
    # The dependencies (python-telegram-bot, httpx, ...) and pip itself, from the development
    # environment. A path in a .pth file is only appended to sys.path: the development
    # environment's own .pth files (its editable ocm_bot among them) are not read.
    (site_packages / "zz-development-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    # -I: the development environment's editable ocm-bot is visible through that path; install
    # beside it without touching it.
    _run([str(venv / "bin" / "python"), *pip[1:], "install", "--no-deps", "--no-index", "-I", str(wheel)])
    shutil.rmtree(sources)
    return InstalledBot(venv, wheel)


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}\n(the wheel is built offline with"
            " the development environment's setuptools, which the test extras pin to >=70.1: run ./scripts/test"
            " or pip install -e '.[test]')",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def installed_bot(tmp_path_factory: pytest.TempPathFactory) -> InstalledBot:
    """ocm-bot installed from a freshly built wheel into a new virtual environment (built once)."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # this session's folder, the same for every xdist worker
    root = shared / "installed-ocm-bot"
    with (shared / "installed-ocm-bot.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = root / "installed.json"
        if done.exists():
            found = json.loads(done.read_text())
            return InstalledBot(Path(found["venv"]), Path(found["wheel"]))
        shutil.rmtree(root, ignore_errors=True)
        installed = _build(root)
        done.write_text(json.dumps({"venv": str(installed.venv), "wheel": str(installed.wheel)}))
        return installed


@pytest.fixture
def outside_checkout(tmp_path: Path) -> Path:
    """A working folder that is not the checkout (no ocm_bot/ or locales/ next to it)."""
    folder = tmp_path / "deployment"
    folder.mkdir()
    return folder


@pytest.fixture
def installed_bot_process(installed_bot: InstalledBot, outside_checkout: Path) -> Iterator[Callable[..., BotProcess]]:
    """``installed_bot_process(settings, command="run", **env)``: the installed ``ocm-bot`` running."""

    def argv(command: str) -> list[str]:
        return [str(installed_bot.command), command]

    with started_processes(argv, cwd=outside_checkout, logs=outside_checkout, prefix="ocm-bot") as start:
        yield start


@dataclasses.dataclass(frozen=True)
class Finished:
    """A finished command: its exit code, everything it printed, and how long it ran."""

    returncode: int
    output: str
    seconds: float


@pytest.fixture
def run_installed(installed_bot: InstalledBot, outside_checkout: Path) -> Callable[..., Finished]:
    """``run_installed(*args, env=..., timeout=30)`` runs the installed ``ocm-bot`` to its end."""

    def run(*args: str, env: dict[str, str], timeout: float = 30) -> Finished:
        started = time.monotonic()
        result = subprocess.run(
            [str(installed_bot.command), *args],
            cwd=outside_checkout,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=timeout,
        )
        secret_watch.register(*(env.get(name) for name in SECRET_VARIABLES))
        secret_watch.scan_output(result.stdout, f"the output of ocm-bot {' '.join(args)}")
        return Finished(result.returncode, result.stdout, time.monotonic() - started)

    return run
