"""The real application running against the loopback servers: what end-to-end tests talk to.

    async def test_start(bot, telegram):
        ada = telegram.user("Ada")
        await ada.send_text("/start")
        welcome = await ada.wait_for_message()

``bot`` is built by the same ``build_application`` as ``ocm-bot run`` and polls the fake Bot API
in the test's event loop; OCM and Nominatim are the fake servers; storage is a SQLite file in the
test's temporary folder. ``start_bot`` starts more (or restarted) instances, e.g. on the same
database after a stop; ``bot_process`` runs ``python -m ocm_bot run`` as a real process that a
test can kill.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from telegram.request import HTTPXRequest

from ocm_bot.app import Overrides, build_application
from ocm_bot.context import BotApplication, Services
from ocm_bot.demo.botapi import application_idle
from ocm_bot.settings import Secret, Settings
from tests import secret_watch
from tests.fakes.telegram.server import FakeTelegramServer

REPO_ROOT = Path(__file__).resolve().parents[2]
STORAGE_SECRET = "end-to-end-storage-secret"
secret_watch.register(STORAGE_SECRET)


def loopback_request() -> HTTPXRequest:
    """Plain-HTTP requests with a pool large enough for concurrent updates (no CA bundle to load)."""
    return HTTPXRequest(
        connection_pool_size=32,
        connect_timeout=2,
        read_timeout=15,
        write_timeout=5,
        pool_timeout=5,
        httpx_kwargs={"verify": False},
    )


@dataclasses.dataclass
class RunningBot:
    """One running instance of the bot."""

    application: BotApplication
    settings: Settings
    running: bool = True

    @property
    def services(self) -> Services:
        return self.application.bot_data.services

    async def stop(self) -> None:
        """A clean stop, as on SIGTERM: conversation state is flushed, services closed."""
        if not self.running:
            return
        self.running = False
        application = self.application
        if application.updater and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)


def settings_for(telegram_server: Any, ocm_server: Any, nominatim_server: Any, data_dir: Path) -> Settings:
    return Settings(
        telegram_bot_token=Secret(telegram_server.token),
        telegram_api_url=telegram_server.url,
        ocm_api_url=ocm_server.url,
        ocm_api_key=Secret(ocm_server.api_key),
        nominatim_url=nominatim_server.url,
        data_dir=data_dir,
        storage_secret=Secret(STORAGE_SECRET),
    )


@pytest.fixture
def bot_settings(telegram_server: Any, ocm_server: Any, nominatim_server: Any, tmp_path: Path) -> Settings:
    """Settings pointing every service at the loopback servers, storage in tmp_path."""
    return settings_for(telegram_server, ocm_server, nominatim_server, tmp_path / "data")


class ErrorLog(logging.Handler):
    """Collects ERROR records of the bot's own loggers: a handled failure is a warning at most."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
async def start_bot(
    bot_settings: Settings, telegram_server: FakeTelegramServer
) -> AsyncIterator[Callable[..., Awaitable[RunningBot]]]:
    """``await start_bot(**setting_changes)`` starts an instance; all are stopped after the test.

    Each instance tells the fake Bot API when it has answered every update it fetched, so
    ``telegram.wait_until_idle()`` and ``expect_silence()`` drain it instead of sleeping.
    The test fails if the bot logged an ERROR (an unhandled failure) while it ran.
    """
    started: list[RunningBot] = []
    unwatch: list[Callable[[], None]] = []
    errors = ErrorLog()
    logging.getLogger("ocm_bot").addHandler(errors)

    async def start(
        settings: Settings | None = None,
        *,
        overrides: Overrides | None = None,
        request: Callable[[], HTTPXRequest] = loopback_request,
        **changes: Any,
    ) -> RunningBot:
        chosen = dataclasses.replace(settings or bot_settings, **changes)
        application = build_application(chosen, request=request, overrides=overrides)
        await application.initialize()
        if application.post_init:
            await application.post_init(application)
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=10)
        running = RunningBot(application, chosen)
        started.append(running)
        unwatch.append(telegram_server.watch_bot(lambda: application_idle(application)))
        return running

    try:
        yield start
        for running in reversed(started):
            await running.stop()
    finally:
        logging.getLogger("ocm_bot").removeHandler(errors)
        for forget in unwatch:
            forget()
    if errors.records:
        pytest.fail(
            "the bot logged errors:\n" + "\n".join(f"  {r.name}: {r.getMessage()}" for r in errors.records),
            pytrace=False,
        )


@pytest.fixture
async def bot(start_bot: Callable[..., Awaitable[RunningBot]]) -> RunningBot:
    """The bot, running against the loopback servers."""
    return await start_bot()


@dataclasses.dataclass
class BotProcess:
    """``python -m ocm_bot run`` as a real process (for kill -9 and CLI tests)."""

    process: subprocess.Popen[str]
    log_path: Path

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def terminate(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def environment_for(settings: Settings) -> dict[str, str]:
    """The environment variables that reproduce ``settings`` in a child process."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "TELEGRAM_API_URL": settings.telegram_api_url,
        "OCM_API_URL": settings.ocm_api_url,
        "NOMINATIM_URL": settings.nominatim_url,
        "DATA_DIR": str(settings.data_dir),
        "LOG_LEVEL": "INFO",
    }
    secrets = {
        "TELEGRAM_BOT_TOKEN": settings.telegram_bot_token,
        "OCM_API_KEY": settings.ocm_api_key,
        "OCM_WRITE_KEY": settings.ocm_write_key,
        "STORAGE_SECRET": settings.storage_secret,
        "DATABASE_URL": settings.database_url,
        "WEBHOOK_SECRET": settings.webhook_secret,
    }
    env.update({name: secret.get() for name, secret in secrets.items() if secret is not None})
    secret_watch.register(*(secret.get() for secret in secrets.values() if secret is not None))
    return env


@contextlib.contextmanager
def started_processes(
    argv_for: Callable[[str], list[str]], *, cwd: Path, logs: Path, prefix: str
) -> Iterator[Callable[..., BotProcess]]:
    """``start(settings, command="run", **env)`` runs ``argv_for(command)``; every one is ended on exit."""
    processes: list[BotProcess] = []

    def start(settings: Settings, *, command: str = "run", **extra_env: str) -> BotProcess:
        log_path = logs / f"{prefix}-{len(processes)}.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                argv_for(command),
                cwd=cwd,
                env=environment_for(settings) | extra_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
            )
        running = BotProcess(process, log_path)
        processes.append(running)
        return running

    try:
        yield start
    finally:
        for running in processes:
            running.terminate()
            secret_watch.scan_output(running.log, f"the output of {running.log_path.name}")


@pytest.fixture
def bot_process(tmp_path: Path) -> Iterator[Callable[..., BotProcess]]:
    """``bot_process(settings, command="run")`` starts ``python -m ocm_bot``; each is ended after the test."""

    def argv(command: str) -> list[str]:
        return [sys.executable, "-m", "ocm_bot", "--env-file", str(tmp_path / "no.env"), command]

    with started_processes(argv, cwd=REPO_ROOT, logs=tmp_path, prefix="bot") as start:
        yield start
