"""Drivers doing a scripted session against the real bot in its own process, on the loopback servers.

A session is what a driver does at the roadside: share a location (search), turn a page, drop a
filter with one tap, open a charger's details, check in (two steps), and search again 300 m on.
:class:`Bench` starts the fake Bot API and the fake OCM in this process, the bot in its own
(:mod:`bench.botproc`, polling or webhook), and plays ``users`` drivers; each waits for the bot's
reply before the next action (plus an optional think time). Reply times are measured at the fake
Bot API (when the reply arrives there); the bot's own stamps say how much of that was OCM, the
rate limiter and the bot's own code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.fakes.ocm import FakeOcmServer
from tests.fakes.telegram.driver import FakeUser, MessageView, TelegramDriver
from tests.fakes.telegram.server import FakeTelegramServer

REPO_ROOT = Path(__file__).resolve().parents[1]
CENTER = (51.5200, -0.0300)  # Bow / Mile End: the real compact samples, plus generated chargers
ACTIONS = ("location search", "page", "filter change", "details", "check-in step")
REPLIES = frozenset({"sendMessage", "editMessageText", "sendVenue", "sendLocation", "editMessageReplyMarkup"})
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT", "60"))


@dataclass
class Done:
    """One action as the driver saw it."""

    user: int
    kind: str
    sent: float  # time.time() when the update was queued at the fake Bot API
    replied: float | None = None  # when the first reply arrived there
    params: dict[str, Any] = field(default_factory=dict)  # what a naive client would ask OCM for


class WindowOver(Exception):
    """The measuring window is over: the driver starts no new action."""


class Replies:
    """Watches the fake Bot API's request log and wakes the driver whose chat got a reply."""

    def __init__(self, server: FakeTelegramServer) -> None:
        self.server = server
        self.seen = 0
        self.first: dict[int, float] = {}  # chat -> time of its first reply since it was armed
        self.events: dict[int, asyncio.Event] = {}
        self.task: asyncio.Task[None] | None = None

    def arm(self, chat_id: int) -> asyncio.Event:
        self.first.pop(chat_id, None)
        event = self.events[chat_id] = asyncio.Event()
        return event

    async def run(self) -> None:
        while True:
            version = self.server.version
            requests = self.server.requests
            while self.seen < len(requests):
                record = requests[self.seen]
                if record.method in REPLIES and record.result_json is None and record.error is None:
                    break  # still being answered
                self.seen += 1
                if record.method in REPLIES and record.result_json is not None:
                    chat = record.params.get("chat_id")
                    with contextlib.suppress(TypeError, ValueError):
                        chat = int(chat)
                    if chat in self.events and chat not in self.first:
                        self.first[chat] = record.time
                    event = self.events.get(chat)
                    if event is not None:
                        event.set()
            await self.server.wait_for_change(version, 0.2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_mem_mb(pid: int) -> tuple[float, float]:
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


class Bench:
    """The fake servers in this process and the bot in its own; ``await bench.start()`` first."""

    def __init__(self, *, mode: str = "polling", chargers: int = 3000, ocm_delay: float = 0.0, flood: bool = False):
        self.mode = mode
        self.chargers = chargers
        self.ocm_delay = ocm_delay
        self.flood = flood
        self.folder = Path(tempfile.mkdtemp(prefix="ocm-bot-bench-"))
        self.telegram = FakeTelegramServer().start()
        self.ocm = FakeOcmServer().start()
        self.ocm.generate_chargers(chargers, center=CENTER, radius_km=15, seed=1)
        self.driver = TelegramDriver(self.telegram)
        self.replies = Replies(self.telegram)
        self.process: subprocess.Popen[bytes] | None = None
        self.stats_path = self.folder / "stats.json"
        self.done: list[Done] = []
        self.until = 0.0  # time.monotonic() after which drivers start no new action (0: none)
        self.acted: set[int] = set()
        self.late: list[tuple[int, Done]] = []

    async def drain(self, within: float = 15.0) -> None:
        """Wait (up to ``within`` s) for the replies the drivers gave up on; a reply that comes is late, not lost."""
        deadline = time.monotonic() + within
        while any(chat not in self.replies.first for chat, _ in self.late) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        for chat, record in self.late:
            record.replied = self.replies.first.get(chat)

    async def start(self) -> None:
        if self.flood:
            self.telegram.enable_flood_control(per_second=30, per_chat_per_second=1e9, per_group_per_minute=20)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "PYTHONPATH": str(REPO_ROOT),
            "TELEGRAM_BOT_TOKEN": self.telegram.token,
            "TELEGRAM_API_URL": self.telegram.url,
            "OCM_API_URL": self.ocm.url,
            "OCM_API_KEY": self.ocm.api_key,
            "NOMINATIM_URL": "http://127.0.0.1:9",
            "DATA_DIR": str(self.folder),
            "STORAGE_SECRET": "bench-storage-secret",
            "LOG_LEVEL": "WARNING",
        }
        port = free_port()
        if self.mode == "webhook":
            env |= {"WEBHOOK_URL": f"http://127.0.0.1:{port}/hook", "PORT": str(port), "WEBHOOK_LISTEN": "127.0.0.1"}
        command = [sys.executable, "-m", "bench.botproc", "--mode", self.mode, "--stats", str(self.stats_path)]
        log = (self.folder / "bot.log").open("wb")
        self.process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.replies.task = asyncio.create_task(self.replies.run())
        # Ready when it asks for updates (polling) or set its webhook and listens.
        method = "getUpdates" if self.mode == "polling" else "setWebhook"
        deadline = time.monotonic() + 60
        while not any(r.method == method for r in list(self.telegram.requests)):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the bot did not start:\n{(self.folder / 'bot.log').read_text()[-3000:]}")
            await asyncio.sleep(0.05)
        if self.mode == "webhook":
            async with httpx.AsyncClient() as http:
                while True:
                    try:
                        await http.get(f"http://127.0.0.1:{port}/")
                        break
                    except httpx.TransportError:
                        await asyncio.sleep(0.05)
        if self.ocm_delay:
            self.ocm.inject("delay", times=None, delay=self.ocm_delay)

    def usage(self) -> dict[str, float]:
        assert self.process is not None
        rss, peak = proc_mem_mb(self.process.pid)
        return {"cpu_s": proc_cpu_s(self.process.pid), "rss_mb": rss, "peak_rss_mb": peak}

    async def stop(self) -> dict[str, Any]:
        """Stop the bot as production does (SIGTERM); its stamps."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        await asyncio.get_running_loop().run_in_executor(None, self.process.wait, 60)
        if self.replies.task is not None:
            self.replies.task.cancel()
        self.ocm.stop()
        self.telegram.stop()
        stats = json.loads(self.stats_path.read_text())
        subprocess.run(["rm", "-rf", str(self.folder)], check=False)
        return stats

    # --- one driver's session ----------------------------------------------------------------------

    async def act(self, user: FakeUser, number: int, kind: str, params: dict[str, Any], do: Any) -> None:
        if self.until and time.monotonic() > self.until and user.chat_id in self.acted:
            do.close()  # never sent
            raise WindowOver
        self.acted.add(user.chat_id)
        event = self.replies.arm(user.chat_id)
        record = Done(user.chat_id, kind, time.time(), params=params)
        self.done.append(record)
        await do  # a coroutine: it runs only now, after the reply watch is armed
        try:
            await asyncio.wait_for(event.wait(), TIMEOUT)
        except TimeoutError:
            self.late.append((user.chat_id, record))  # a reply may still come: see drain()
            raise WindowOver from None  # this driver gives up
        record.replied = self.replies.first.get(user.chat_id)

    async def settle(self, user: FakeUser, probe: Any, within: float = TIMEOUT) -> MessageView:
        """The message the reply made (a later reply of the same action may still be on its way)."""
        deadline = time.monotonic() + within
        while True:
            found = probe()
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{user.name}: no reply\n{user.describe()}")
            event = self.replies.arm(user.chat_id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), 0.5)

    async def session(
        self,
        number: int,
        rng: random.Random,
        think: float = 0.0,
        until: float = 0.0,
        arrive: float = 0.0,
        search_only: bool = False,
    ) -> int:
        """One driver's scripted session, repeated until ``until`` (time.monotonic; default: once).

        The driver arrives after ``arrive`` seconds; once the window is over it starts no new action.
        """
        self.until = until
        if arrive:
            await asyncio.sleep(arrive)
        user = self.driver.user(f"Driver{number}")
        if search_only:  # one location search, nothing else
            point = (CENTER[0] + rng.uniform(-0.08, 0.08), CENTER[1] + rng.uniform(-0.12, 0.12))
            params = {"latitude": point[0], "longitude": point[1], "page": 1}
            with contextlib.suppress(WindowOver):
                await self.act(user, number, "location search", params, user.send_location(*point))
            return 1
        try:
            return await self._session(user, number, rng, think, until)
        except WindowOver:
            return 0

    async def _session(self, user: FakeUser, number: int, rng: random.Random, think: float, until: float) -> int:
        count = 0
        first = True
        while first or time.monotonic() < until:
            first = False
            point = (CENTER[0] + rng.uniform(-0.08, 0.08), CENTER[1] + rng.uniform(-0.12, 0.12))
            area = {"latitude": point[0], "longitude": point[1]}

            def latest(containing: str, after: int = 0) -> Any:
                def probe() -> MessageView | None:
                    for view in reversed(user.messages):
                        if view.message_id > after and containing in (view.text or ""):
                            return view
                    return None

                return probe

            def edited(message: MessageView) -> Any:
                return lambda: (lambda v: v if v.edits > message.edits else None)(user.message(message))

            async def pause() -> None:
                if think:  # not past the window's end: a driver still thinking then starts nothing more
                    wait = rng.expovariate(1 / think)
                    if until:
                        wait = min(wait, max(0.0, until - time.monotonic()) + 0.01)
                    await asyncio.sleep(wait)

            last = max((m.message_id for m in user.messages), default=0)
            await self.act(user, number, "location search", {**area, "page": 1}, user.send_location(*point))
            results = await self.settle(user, latest("Chargers near", last))
            await pause()
            if "Next ›" in results.labels:
                await self.act(user, number, "page", {**area, "page": 2}, user.press(results, "Next ›"))
                results = await self.settle(user, edited(results))
                await pause()
            chip = next((label for label in results.labels if label.startswith("✕")), None)
            if chip is not None:
                await self.act(user, number, "filter change", {**area, "page": 1, "unfiltered": True},
                               user.press(results, chip))  # fmt: skip
                results = await self.settle(user, edited(results))
                await pause()
            info = next((label for label in results.labels if label.startswith("ℹ️")), None)
            if info is not None:
                last = max(m.message_id for m in user.messages)
                ids = [int(url.rsplit("/", 1)[-1]) for label, url in results.url_buttons.items() if "OCM" in label]
                await self.act(user, number, "details", {"id": ids[0] if ids else None},
                               user.press(results, info))  # fmt: skip
                details = await self.settle(user, latest("Connections", last))
                await self.settle(user, lambda: True if user.messages[-1].venue is not None else None)  # its pin
                await pause()
                if any("Check in" in label for label in details.labels):
                    last = max(m.message_id for m in user.messages)
                    await self.act(user, number, "check-in step", {"id": ids[0] if ids else None},
                                   user.press(details, "Check in"))  # fmt: skip
                    outcome = await self.settle(user, latest("How did it go", last))
                    await pause()
                    count += 1
                    await self.act(user, number, "check-in step", {"id": ids[0] if ids else None},
                                   user.press(outcome, "Charged successfully"))  # fmt: skip
                    await pause()
                count += 2
            moved = (point[0] + 0.0027, point[1])
            last = max(m.message_id for m in user.messages)
            await self.act(user, number, "location search", {"latitude": moved[0], "longitude": moved[1], "page": 1},
                           user.send_location(*moved))  # fmt: skip
            await self.settle(user, latest("Chargers near", last))
            await pause()
            count += 4
        return count


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def bot_side(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """Per update the bot handled, in the order received: its own time, OCM's, the limiter's (ms).

    ``total`` is None for an update the bot did not reply to with a message.
    """
    rows = []
    for record in sorted(stats["records"], key=lambda r: r["id"]):
        replies = [r for r in record["replies"] if r[0] != "answerCallbackQuery"]
        row = {"id": record["id"], "chat": record["chat"], "total": None, "ocm_calls": record["ocm_calls"]}
        if replies:
            _, sent, cpu = replies[0]
            row["replied_at"] = sent
            total = (sent - record["received"]) * 1000
            ocm, limiter = record["ocm"] * 1000, record["limiter"] * 1000
            row |= {"total": total, "ocm": ocm, "limiter": limiter, "own": total - ocm - limiter, "cpu": cpu * 1000}
        rows.append(row)
    return rows


def matched(done: list[Done], rows: list[dict[str, Any]]) -> list[tuple[Done, dict[str, Any] | None]]:
    """Each driver action with the bot's stamps for it (per chat, in order)."""
    by_chat: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_chat.setdefault(row["chat"], []).append(row)
    pairs = []
    taken: dict[int, int] = {}
    for action in done:
        n = taken.get(action.user, 0)
        taken[action.user] = n + 1
        chat_rows = by_chat.get(action.user, [])
        pairs.append((action, chat_rows[n] if n < len(chat_rows) else None))
    return pairs
