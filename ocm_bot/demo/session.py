"""One demo session: settings and services for the offline bot, the banner, the read-type-answer loop."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import sys
import tempfile
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from telegram import Update
from telegram.warnings import PTBUserWarning

from ocm_bot.context import BotApplication
from ocm_bot.demo.botapi import DEMO_API_URL, DEMO_TOKEN, InMemoryBotApi
from ocm_bot.demo.driver import Driver
from ocm_bot.demo.rendering import Style
from ocm_bot.demo.screen import Screen
from ocm_bot.settings import Secret, Settings

if TYPE_CHECKING:
    from ocm_bot.demo.ocm import DemoOcm

PROMPT = "you › "
QUIT_COMMANDS = ("/quit", "/exit", "/q")
_PRESS = re.compile(r"^(?:/press\s+)?(?:#?(\d+)\.)?(\d+)$")
_LOCATION = re.compile(r"^/loc(?:ation)?\s+(-?\d+(?:\.\d+)?)\s*[, ]\s*(-?\d+(?:\.\d+)?)$")


def demo_settings(settings: Settings, data_dir: Path) -> Settings:
    """The operator's settings, with the demo's token, an unreachable Bot API and a throw-away data folder.

    The write key is the demo's own: only its in-process OCM (:class:`DemoOcm`) takes it.
    """
    from ocm_bot.demo.ocm import DEMO_WRITE_KEY

    return dataclasses.replace(
        settings,
        telegram_bot_token=Secret(DEMO_TOKEN),
        telegram_api_url=DEMO_API_URL,
        data_dir=data_dir,
        database_url=None,
        storage_secret=None,
        ocm_write_key=Secret(DEMO_WRITE_KEY),
        webhook_url=None,
    )


async def open_demo_ocm(settings: Settings) -> DemoOcm:
    """The demo's Open Charge Map: the operator's own OCM dump (OCM_DATA_FILE) or the bundled records,
    in a :class:`DemoOcm`, which also takes check-ins, so a check-in in the demo is delivered as it
    would be on Telegram. It and the offline gazetteer are the demo's :class:`ocm_bot.app.Overrides`;
    everything else is the bot's own composition (:func:`ocm_bot.app.open_services`).
    """
    from ocm_bot.demo.ocm import DemoOcm
    from ocm_bot.ocm.local import LocalSource

    if settings.ocm_data_file is not None:
        return DemoOcm(await LocalSource.open(settings.ocm_data_file, reload_interval=None))
    return DemoOcm(LocalSource.bundled())


def banner(style: Style, chargers: int, places: list[str], data_file: Path | None = None) -> str:
    bold, dim = (lambda s: style("bold", s)), (lambda s: style("dim", s))
    if data_file is None:
        data = [
            f"It runs on bundled data: {chargers} real Open Charge Map chargers (a snapshot, not live data) in",
            "east London (Mile End, Bow), Leeds/Garforth, Portland OR, Salt Lake City, Andorra, Bavaria, Gdańsk",
            "and US towns.",
        ]
    else:
        data = [f"It runs on your OCM data file {data_file} ({chargers} chargers)."]
    lines = [
        bold("ocm-bot offline demo") + " — you are chatting with the real bot, in this terminal.",
        *data,
        "Place names work offline for: " + ", ".join(places[:14]) + ", ...",
        "Nothing is sent to Telegram or Open Charge Map: check-ins go to the demo's own copy of the data and",
        "are forgotten when you leave.",
        "",
        bold("How to talk to it"),
        "  /start, /help, /settings, any text ...   as in Telegram",
        "  /loc 51.5225 -0.0375                     share a location (latitude longitude)",
        "  Mile End                                 type a place name, an address, coordinates or a map link",
        "  3   or  /press 3                         press button [3] of the latest message",
        "  /press 12.3                              press button [3] of message #12",
        "  /quit  or  Ctrl-D                        leave",
        "",
        bold("To run it on Telegram") + ": set TELEGRAM_BOT_TOKEN (from @BotFather, https://t.me/BotFather) and",
        "OCM_API_KEY (from https://openchargemap.org/site/profile/applications), in the environment or in .env,",
        "then start `ocm-bot run`.",
        dim("Charger data © Open Charge Map contributors and its data providers (see ocm_bot/data/README.md)."),
    ]
    return "\n".join(lines)


class _LineReader:
    """Reads lines in a daemon thread, one at a time when asked, so Ctrl-C never waits on ``input``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, stdin: TextIO, stdout: TextIO, prompt: str) -> None:
        self._loop = loop
        self._stdin = stdin
        self._stdout = stdout
        self._prompt = prompt
        self._wanted = threading.Event()
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        threading.Thread(target=self._run, name="demo-input", daemon=True).start()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            try:
                if self._stdin is sys.stdin and self._stdout is sys.stdout:
                    line: str | None = input(self._prompt)
                else:
                    self._stdout.write(self._prompt)
                    self._stdout.flush()
                    raw = self._stdin.readline()
                    line = raw.rstrip("\n") if raw else None
            except (EOFError, KeyboardInterrupt, OSError, ValueError):
                line = None
            self._loop.call_soon_threadsafe(self._lines.put_nowait, line)
            if line is None:
                return

    async def next_line(self) -> str | None:
        self._wanted.set()
        return await self._lines.get()


async def chat(
    settings: Settings,
    *,
    color: bool,
    stdin: TextIO,
    stdout: TextIO,
    data_dir: Path,
    language: str = "en",
) -> int:
    from ocm_bot.app import Overrides, build_application
    from ocm_bot.demo.gazetteer import OfflineGeocoder

    style = Style(color)
    screen = Screen(stdout, style)
    settings = demo_settings(settings, data_dir)
    ocm = await open_demo_ocm(settings)
    gazetteer = OfflineGeocoder.bundled()
    api = InMemoryBotApi(screen)
    overrides = Overrides(ocm=ocm, geocoder=gazetteer)  # closed with the bot's other services
    application: BotApplication = build_application(settings, overrides=overrides, request=api)
    screen.write(banner(style, len(ocm), gazetteer.place_names, settings.ocm_data_file))
    driver = Driver(api, language=language)
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        reader = _LineReader(asyncio.get_running_loop(), stdin, stdout, style("you", PROMPT))
        while True:
            line = await reader.next_line()
            if line is None or line.strip().lower() in QUIT_COMMANDS:
                screen.write(style("dim", "Bye! Run `ocm-bot demo` to chat again."))
                return 0
            update = _update_for(line.strip(), driver, screen, api)
            if update is None:
                continue
            await application.process_update(Update.de_json(update, application.bot))
            await api.wait_until_answered(application)
    finally:
        if application.running:
            await application.stop()
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


def _update_for(line: str, driver: Driver, screen: Screen, api: InMemoryBotApi) -> dict[str, Any] | None:
    """The update for one typed line, or None when the line was handled here (or was empty)."""
    if not line:
        return None
    if line in ("/demo", "/howto"):
        screen.note("Type as in Telegram; /loc <lat> <lon> shares a location; a number presses a button; /quit leaves.")
        return None
    location = _LOCATION.match(line)
    if location:
        lat, lon = float(location.group(1)), float(location.group(2))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            screen.note("A location is /loc <latitude -90..90> <longitude -180..180>, e.g. /loc 51.5225 -0.0375")
            return None
        screen.note(f"   📍 you shared a location: {lat}, {lon}")
        return driver.location(lat, lon)
    if line.startswith("/loc"):
        screen.note("A location is /loc <latitude> <longitude>, e.g. /loc 51.5225 -0.0375")
        return None
    press = _PRESS.match(line)
    if press and (line.startswith("/press") or line.isdigit()):
        message_id = int(press.group(1)) if press.group(1) else None
        found = screen.button(message_id, int(press.group(2)))
        if found is None:
            screen.note("No such button here. Type the number shown in [brackets], or /press <message>.<number>.")
            return None
        target, button = found
        if button.url:
            screen.note(f"   ↗ {button.text}: {button.url}")
            return None
        if button.callback_data is None:
            screen.note("   (this kind of button does nothing in the demo)")
            return None
        screen.note(f"   (you pressed “{button.text}”)")
        return driver.press(target, button.callback_data)
    if line.startswith("/press"):
        screen.note("Press a button with /press <number> (or /press <message>.<number>).")
        return None
    return driver.text(line)


def run_demo(settings: Settings, *, color: bool, language: str = "en") -> int:
    """Chat with the bot in this terminal until /quit or end of input; the exit status (0).

    ``color`` is the caller's decision (see :func:`wants_color`); ``language`` is the demo
    driver's Telegram language (the terminal's, as the CLI reads it from LANG).
    """
    _quiet_logs(settings.log_level)
    with tempfile.TemporaryDirectory(prefix="ocm-bot-demo-") as folder:
        try:
            return asyncio.run(
                chat(
                    settings,
                    color=color,
                    stdin=sys.stdin,
                    stdout=sys.stdout,
                    data_dir=Path(folder),
                    language=language,
                )
            )
        except KeyboardInterrupt:
            print("\nBye!")
            return 0
        except BrokenPipeError:  # the output went to a pipe that closed (`ocm-bot demo | head`)
            sys.stderr.close()
            return 0


def _quiet_logs(level: str) -> None:
    """Start-up chatter would scroll the conversation away: only warnings, unless LOG_LEVEL=DEBUG."""
    if level != "DEBUG":
        logging.getLogger().setLevel(logging.WARNING)
        logging.getLogger("telegram").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=PTBUserWarning)
