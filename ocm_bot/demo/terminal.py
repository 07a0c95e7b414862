"""``ocm-bot demo``: chat with the real bot in a terminal, on bundled data, with no token and no network.

The application is the one ``ocm-bot run`` builds (:func:`ocm_bot.app.build_application`), with
the same handlers and views. Only its two ends are replaced:

- the Bot API: :class:`InMemoryBotApi` is python-telegram-bot's transport (a ``BaseRequest``) that
  answers every Bot API call in memory with Telegram-shaped JSON and draws what the bot sends
  (messages, edits, keyboards, alerts, locations) on the terminal;
- the data: Open Charge Map records bundled with the bot (:meth:`LocalSource.bundled`), an
  offline gazetteer instead of Nominatim, and storage in a temporary SQLite file.

What the driver types becomes a Telegram update (a message, a shared location, a button press)
handed to ``Application.process_update``; the prompt returns once the bot has gone quiet.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import itertools
import json
import logging
import re
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar, TextIO

from telegram import Update
from telegram.request import BaseRequest, RequestData
from telegram.warnings import PTBUserWarning

from ocm_bot.context import BotApplication, Services
from ocm_bot.settings import Secret, Settings
from ocm_bot.views.callbacks import CallbackCodec

log = logging.getLogger(__name__)

DEMO_TOKEN = "1234567890:offline-demo-token-not-for-telegram"
DEMO_API_URL = "http://telegram.invalid"  # never contacted: every call is answered in memory
USER = {"id": 1001, "is_bot": False, "first_name": "Driver", "language_code": "en"}
CHAT = {"id": 1001, "type": "private", "first_name": "Driver"}
BOT = {
    "id": 1234567890,
    "is_bot": True,
    "first_name": "Open Charge Map bot (demo)",
    "username": "ocm_demo_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}
PROMPT = "you › "
QUIT_COMMANDS = ("/quit", "/exit", "/q")
_PRESS = re.compile(r"^(?:/press\s+)?(?:#?(\d+)\.)?(\d+)$")
_LOCATION = re.compile(r"^/loc(?:ation)?\s+(-?\d+(?:\.\d+)?)\s*[, ]\s*(-?\d+(?:\.\d+)?)$")


# Terminal styling --------------------------------------------------------------------------------


class Style:
    """ANSI styling, or plain text when colours are off."""

    CODES: ClassVar[dict[str, str]] = {
        "bold": "1",
        "dim": "2",
        "italic": "3",
        "underline": "4",
        "strike": "9",
        "bot": "1;36",
        "you": "1;32",
        "button": "33",
        "link": "4;34",
        "alert": "1;33",
        "error": "1;31",
    }

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, kind: str, text: str) -> str:
        if not self.color or not text:
            return text
        return f"\033[{self.CODES[kind]}m{text}\033[0m"


def wants_color(requested: bool, stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Colours unless turned off (--no-color, NO_COLOR, https://no-color.org) or not a terminal."""
    if not requested or environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class _HtmlToTerminal(HTMLParser):
    """Telegram's HTML subset (b, i, u, s, a, code, pre, blockquote, spoiler) as terminal text."""

    STYLES: ClassVar[dict[str, str]] = {
        "b": "bold",
        "strong": "bold",
        "i": "italic",
        "em": "italic",
        "u": "underline",
        "ins": "underline",
        "s": "strike",
        "strike": "strike",
        "del": "strike",
        "code": "bold",
        "pre": "bold",
    }

    def __init__(self, style: Style) -> None:
        super().__init__(convert_charrefs=True)
        self.style = style
        self.parts: list[str] = []
        self.stack: list[tuple[str, int, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") if tag == "a" else None
        self.stack.append((tag, len(self.parts), href))

    def handle_endtag(self, tag: str) -> None:
        for position in range(len(self.stack) - 1, -1, -1):
            if self.stack[position][0] == tag:
                _, start, href = self.stack.pop(position)
                inner = "".join(self.parts[start:])
                del self.parts[start:]
                self.parts.append(self._styled(tag, inner, href))
                return

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def _styled(self, tag: str, inner: str, href: str | None) -> str:
        if tag == "a" and href:
            if inner.strip() == href or not inner.strip():
                return self.style("link", href)
            return f"{self.style('underline', inner)} <{self.style('link', href)}>"
        if tag == "blockquote":
            return "\n".join(f"│ {line}" for line in inner.splitlines())
        if tag == "tg-spoiler" or (tag == "span" and inner):
            return self.style("dim", inner)
        kind = self.STYLES.get(tag)
        return self.style(kind, inner) if kind else inner

    def result(self) -> str:
        while self.stack:  # unclosed tags: keep their text
            self.handle_endtag(self.stack[-1][0])
        return "".join(self.parts)


def render_text(text: str, parse_mode: str | None, style: Style) -> str:
    if (parse_mode or "").upper() == "HTML":
        parser = _HtmlToTerminal(style)
        parser.feed(text)
        parser.close()
        return parser.result()
    return text


def plain_text(text: str, parse_mode: str | None) -> str:
    """What Telegram stores as a message's text: the markup removed."""
    if (parse_mode or "").upper() == "HTML":
        return html.unescape(re.sub(r"<[^>]+>", "", text))
    return text


# The terminal screen -------------------------------------------------------------------------------


@dataclasses.dataclass
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None


class Screen:
    """Draws the conversation and remembers which number presses which button."""

    def __init__(self, out: TextIO, style: Style) -> None:
        self.out = out
        self.style = style
        self.keyboards: dict[int, list[Button]] = {}
        self.latest_keyboard: int | None = None

    def write(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def bot_message(self, message: dict[str, Any], source_text: str, parse_mode: str | None, *, edited: bool) -> None:
        number = message["message_id"]
        label = f"bot #{number}" + (" (edited)" if edited else "")
        self.write()
        self.write(self.style("bot", f"── {label} ") + self.style("dim", "─" * max(0, 50 - len(label))))
        self.write(render_text(source_text, parse_mode, self.style))
        self.keyboard(number, message.get("reply_markup"))

    def forget_keyboard(self, message_id: int) -> bool:
        """Drop a message's buttons; a bare number then presses those of the newest message that has some."""
        dropped = self.keyboards.pop(message_id, None) is not None
        if self.latest_keyboard == message_id:
            self.latest_keyboard = max(self.keyboards, default=None)
        return dropped

    def keyboard(self, message_id: int, markup: Any) -> None:
        if not isinstance(markup, dict):
            self.forget_keyboard(message_id)
            return
        if "inline_keyboard" in markup:
            buttons: list[Button] = []
            lines = []
            for row in markup["inline_keyboard"]:
                cells = []
                for raw in row:
                    buttons.append(Button(raw.get("text", ""), raw.get("callback_data"), raw.get("url")))
                    mark = " ↗" if raw.get("url") and "↗" not in raw.get("text", "") else ""
                    cells.append(self.style("button", f"[{len(buttons)}] {raw.get('text', '')}{mark}"))
                lines.append("  " + "   ".join(cells))
            if buttons:
                self.keyboards[message_id] = buttons
                self.latest_keyboard = message_id
                self.write("\n".join(lines))
            else:
                self.forget_keyboard(message_id)
        elif "keyboard" in markup:
            labels = [f"[{b.get('text', '')}]" for row in markup["keyboard"] for b in row]
            self.write(self.style("dim", "  keyboard: " + "  ".join(labels)))
            if any(b.get("request_location") for row in markup["keyboard"] for b in row):
                self.write(self.style("dim", "  (in this demo, share a location with /loc <latitude> <longitude>)"))
        elif markup.get("force_reply"):
            self.write(self.style("dim", "  (the bot waits for your reply)"))

    def removed_keyboard(self, message_id: int) -> None:
        if self.forget_keyboard(message_id):
            self.write(self.style("dim", f"   (buttons of #{message_id} removed)"))

    def alert(self, text: str, *, show_alert: bool) -> None:
        self.write(self.style("alert", ("⚠ " if show_alert else "ⓘ ") + text))

    def note(self, text: str) -> None:
        self.write(self.style("dim", text))

    def button(self, message_id: int | None, number: int) -> tuple[int, Button] | None:
        target = message_id if message_id is not None else self.latest_keyboard
        buttons = self.keyboards.get(target) if target is not None else None
        if not buttons or not 1 <= number <= len(buttons):
            return None
        return target, buttons[number - 1]


# The Bot API, in memory --------------------------------------------------------------------------


class BotApiError(Exception):
    def __init__(self, description: str, code: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.code = code


class InMemoryBotApi(BaseRequest):
    """python-telegram-bot's transport, answering Bot API calls in memory and drawing them on a :class:`Screen`.

    Example::

        api = InMemoryBotApi(screen)
        application = build_application(settings, services=services, request=api)
    """

    def __init__(self, screen: Screen) -> None:
        self.screen = screen
        self.messages: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self.in_flight = 0
        self.last_call = time.monotonic()
        self.calls: list[str] = []

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def next_message_id(self) -> int:
        return next(self._ids)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        name = url.rstrip("/").rsplit("/", 1)[-1]
        params = request_data.parameters if request_data is not None else {}
        self.in_flight += 1
        self.calls.append(name)
        try:
            handler: Callable[[dict[str, Any]], Any] | None = getattr(self, "api_" + name.lower(), None)
            result = handler(params) if handler is not None else self._unknown(name)
            body = {"ok": True, "result": result}
            status = 200
        except BotApiError as error:
            body = {"ok": False, "error_code": error.code, "description": error.description}
            status = error.code
        finally:
            self.in_flight -= 1
            self.last_call = time.monotonic()
        return status, json.dumps(body).encode()

    async def wait_until_quiet(self, quiet: float = 0.15, longest: float = 10.0) -> None:
        """Return once the bot has made no call for ``quiet`` seconds (handlers may spawn tasks)."""
        deadline = time.monotonic() + longest
        while time.monotonic() < deadline:
            if self.in_flight == 0 and time.monotonic() - self.last_call >= quiet:
                return
            await asyncio.sleep(0.02)

    # Messages the bot sends ---------------------------------------------------------------------

    def _new_message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        message = {
            "message_id": self.next_message_id(),
            "date": int(time.time()),
            "chat": dict(CHAT, id=int(params.get("chat_id", CHAT["id"]))),
            "from": BOT,
            **content,
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self.messages[message["message_id"]] = message
        return message

    def api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        text, mode = str(params.get("text", "")), params.get("parse_mode")
        message = self._new_message(params, text=plain_text(text, mode))
        message["_source"] = (text, mode)
        self.screen.bot_message(message, text, mode, edited=False)
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" not in markup:
            self.screen.keyboard(-1, markup)  # a reply keyboard belongs to the chat, not to the message
        return _public(message)

    def api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        message = self._message(params)
        text, mode = str(params.get("text", "")), params.get("parse_mode")
        markup = params.get("reply_markup")
        if message.get("_source") == (text, mode) and message.get("reply_markup") == markup:
            raise BotApiError(
                "Bad Request: message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.update(text=plain_text(text, mode), _source=(text, mode), edit_date=int(time.time()))
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        self.screen.bot_message(message, text, mode, edited=True)
        return _public(message)

    def api_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._message(params)
        markup = params.get("reply_markup")
        if message.get("reply_markup") == markup or (not markup and "reply_markup" not in message):
            raise BotApiError("Bad Request: message is not modified")
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            message["reply_markup"] = markup
            self.screen.note(f"   (buttons of #{message['message_id']} changed)")
            self.screen.keyboard(message["message_id"], markup)
        else:
            message.pop("reply_markup", None)
            self.screen.removed_keyboard(message["message_id"])
        return _public(message)

    def api_editmessagecaption(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.api_editmessagetext({**params, "text": params.get("caption", "")})

    def api_deletemessage(self, params: dict[str, Any]) -> bool:
        message_id = int(params.get("message_id", 0))
        self.messages.pop(message_id, None)
        self.screen.forget_keyboard(message_id)
        self.screen.note(f"   (message #{message_id} deleted)")
        return True

    def api_deletemessages(self, params: dict[str, Any]) -> bool:
        for message_id in params.get("message_ids", ()):
            self.api_deletemessage({"message_id": message_id})
        return True

    def api_sendlocation(self, params: dict[str, Any]) -> dict[str, Any]:
        lat, lon = float(params["latitude"]), float(params["longitude"])
        message = self._new_message(params, location={"latitude": lat, "longitude": lon})
        text = f"📍 {lat:.5f}, {lon:.5f}  {_map_link(lat, lon)}"
        message["_source"] = (text, None)
        self.screen.bot_message(message, text, None, edited=False)
        return _public(message)

    def api_sendvenue(self, params: dict[str, Any]) -> dict[str, Any]:
        lat, lon = float(params["latitude"]), float(params["longitude"])
        venue = {
            "location": {"latitude": lat, "longitude": lon},
            "title": str(params.get("title", "")),
            "address": str(params.get("address", "")),
        }
        message = self._new_message(params, venue=venue, location=venue["location"])
        text = f"📍 {venue['title']}\n{venue['address']}\n{_map_link(lat, lon)}"
        message["_source"] = (text, None)
        self.screen.bot_message(message, text, None, edited=False)
        return _public(message)

    def api_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        caption, mode = str(params.get("caption", "")), params.get("parse_mode")
        photo = params.get("photo")
        text = f"[photo] {photo if isinstance(photo, str) else ''}\n{caption}".strip()
        message = self._new_message(params, caption=plain_text(caption, mode))
        message["_source"] = (text, mode)
        self.screen.bot_message(message, text, mode, edited=False)
        return _public(message)

    def api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        if params.get("text"):
            self.screen.alert(str(params["text"]), show_alert=bool(params.get("show_alert")))
        if params.get("url"):
            self.screen.note(f"   (Telegram would open {params['url']})")
        return True

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        if "inline_message_id" in params:
            raise BotApiError("Bad Request: inline messages are not part of the demo")
        message = self.messages.get(int(params.get("message_id", 0)))
        if message is None:
            raise BotApiError("Bad Request: message to edit not found")
        return message

    # Everything else ------------------------------------------------------------------------------

    def api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return BOT

    def api_getchat(self, params: dict[str, Any]) -> dict[str, Any]:
        return dict(CHAT, accent_color_id=0, max_reaction_count=11, accepted_gift_types=_NO_GIFTS)

    def api_getchatmember(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"status": "member", "user": USER}

    def api_getchatadministrators(self, params: dict[str, Any]) -> list[Any]:
        return []

    def api_getmycommands(self, params: dict[str, Any]) -> list[Any]:
        return []

    def api_getupdates(self, params: dict[str, Any]) -> list[Any]:
        return []

    def api_sendchataction(self, params: dict[str, Any]) -> bool:
        return True

    def _unknown(self, name: str) -> bool:
        if not name.startswith(("set", "delete", "close", "log")):
            self.screen.note(f"   (the demo skips the Bot API call {name})")
        return True


_NO_GIFTS = {
    "unlimited_gifts": False,
    "limited_gifts": False,
    "unique_gifts": False,
    "premium_subscription": False,
}


def _public(message: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in message.items() if not key.startswith("_")}


def _map_link(lat: float, lon: float) -> str:
    return f"https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map=17/{lat:.5f}/{lon:.5f}"


# The driver's side -------------------------------------------------------------------------------


class Driver:
    """Turns what the driver types into Telegram updates."""

    def __init__(self, api: InMemoryBotApi, *, language: str = "en") -> None:
        self.api = api
        self.user = {**USER, "language_code": language}
        self._update_ids = itertools.count(1)

    def _message(self, **content: Any) -> dict[str, Any]:
        message = {
            "message_id": self.api.next_message_id(),
            "date": int(time.time()),
            "chat": CHAT,
            "from": self.user,
            **content,
        }
        self.api.messages[message["message_id"]] = message
        return message

    def text(self, text: str) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": next(self._update_ids), "message": self._message(**content)}

    def location(self, latitude: float, longitude: float) -> dict[str, Any]:
        location = {"latitude": latitude, "longitude": longitude}
        return {"update_id": next(self._update_ids), "message": self._message(location=location)}

    def press(self, message_id: int, data: str) -> dict[str, Any]:
        message = _public(self.api.messages[message_id])
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": str(next(self._update_ids) + 10_000),
                "from": self.user,
                "chat_instance": "ocm-bot-demo",
                "message": message,
                "data": data,
            },
        }


# Set-up and the loop -----------------------------------------------------------------------------


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
        ocm_write_key=Secret(DEMO_WRITE_KEY),
        webhook_url=None,
    )


async def demo_services(settings: Settings) -> Services:
    """Storage in ``settings.data_dir``, the bundled OCM records, the offline gazetteer, every feature's services.

    The OCM records sit in a :class:`DemoOcm`, which also takes check-ins, so a check-in in the
    demo is delivered as it would be on Telegram.
    """
    from ocm_bot.app import feature_modules
    from ocm_bot.demo.gazetteer import OfflineGeocoder
    from ocm_bot.demo.ocm import DemoOcm
    from ocm_bot.ocm.local import LocalSource
    from ocm_bot.storage import open_storage

    token = settings.telegram_bot_token.get() if settings.telegram_bot_token else None
    services = Services(settings=settings, callbacks=CallbackCodec.for_token(token))
    services.storage = await open_storage(None, data_dir=settings.data_dir, secret=None)
    services.closers.append(services.storage.close)
    if settings.ocm_data_file is not None:  # the operator's own OCM dump (OCM_DATA_FILE)
        chargers = await LocalSource.open(settings.ocm_data_file, reload_interval=None)
    else:
        chargers = LocalSource.bundled()
    services.chargers = services.ocm_client = DemoOcm(chargers)
    services.closers.append(chargers.aclose)
    for module in feature_modules():
        setup = getattr(module, "setup", None)
        if setup is not None:
            await setup(services)
    services.geocoder = OfflineGeocoder.bundled()  # replaces Nominatim (its client is closed with the others)
    return services


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
    from ocm_bot.app import build_application

    style = Style(color)
    screen = Screen(stdout, style)
    settings = demo_settings(settings, data_dir)
    services = await demo_services(settings)
    api = InMemoryBotApi(screen)
    application: BotApplication = build_application(settings, services=services, request=api)
    places = services.geocoder.place_names
    screen.write(banner(style, len(services.chargers), places, settings.ocm_data_file))
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
            await api.wait_until_quiet()
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
