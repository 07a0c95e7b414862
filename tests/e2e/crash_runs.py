"""Check-in conversations with ``ocm-bot run`` killed (SIGKILL) at random points and restarted.

Each run is one driver: open a charger's details and star it, set a minimum power in /settings,
then check in at the charger (outcome, rating, a comment of its own, Submit). Before the run a
seeded random generator picks one of those actions and a delay of 0-500 ms after it: there the
bot process is killed with SIGKILL and started again on the same database. The driver then does
what a person does: looks at the chat, and repeats the action only if nothing came of it (an
update fetched but not yet handled when the process died is gone with it). After all runs:

- every check-in the driver saw accepted ("Sending…", "Thanks!", "saved") is on the fake OCM
  exactly once (``POST /comment`` bodies, matched by the run's own comment text);
- every conversation went on after the restart from where the driver saw it (the draft resumed);
- every favourite and the minimum power the driver saw confirmed are in the database.

``run_crash_conversations(runs=100, seed=1)`` is used by ``bench/crash_runs.py`` (the 100-run
figure in docs/reliability.md) and, with a few runs, by ``tests/e2e/test_crash_safety.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ocm_bot.domain.preferences import UserPreferences
from ocm_bot.settings import Secret, Settings
from ocm_bot.storage import open_storage
from tests.e2e.fixtures import REPO_ROOT, BotProcess, settings_for, started_processes
from tests.fakes.nominatim_server import FakeNominatimServer
from tests.fakes.ocm_server import FakeOcmServer
from tests.fakes.telegram.driver import FakeUser, MessageView, TelegramDriver
from tests.fakes.telegram.server import FakeTelegramServer

CHARGERS = [102848, 13343, 142463, 142462, 13362]  # Salt Lake City samples
ACTIONS = [
    "open details",
    "star it",
    "open /settings",
    "open minimum power",
    "choose 50 kW",
    "start the check-in",
    "choose the outcome",
    "rate it",
    "type the comment",
    "submit",
]
ACCEPTED = ("Sending your check-in", "Thanks!", "is saved; I'll send it")
WAIT = 30.0  # a restart (a new process, the reference data, the command menus) and the answer


@dataclasses.dataclass
class RunResult:
    run: int
    killed_after: str
    delay_ms: int
    repeated: list[str] = dataclasses.field(default_factory=list)  # actions whose update died with the process
    checkin_accepted: bool = False
    posts: int = 0
    favourite_confirmed: bool = False
    favourite_kept: bool = False
    setting_confirmed: bool = False
    setting_kept: bool = False
    problems: list[str] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclasses.dataclass
class CrashReport:
    database: str
    runs: list[RunResult]
    seconds: float
    kills: int

    @property
    def failures(self) -> list[RunResult]:
        return [run for run in self.runs if not run.ok]

    def summary(self) -> dict[str, Any]:
        runs = self.runs
        return {
            "database": self.database,
            "runs": len(runs),
            "kills": self.kills,
            "seconds": round(self.seconds, 1),
            "check-ins accepted": sum(r.checkin_accepted for r in runs),
            "posted exactly once": sum(r.checkin_accepted and r.posts == 1 for r in runs),
            "posted twice or more": sum(r.posts > 1 for r in runs),
            "accepted but lost": sum(r.checkin_accepted and r.posts == 0 for r in runs),
            "favourites confirmed / kept": f"{sum(r.favourite_confirmed for r in runs)} / "
            f"{sum(r.favourite_confirmed and r.favourite_kept for r in runs)}",
            "settings confirmed / kept": f"{sum(r.setting_confirmed for r in runs)} / "
            f"{sum(r.setting_confirmed and r.setting_kept for r in runs)}",
            "actions repeated (update lost with the process)": sum(len(r.repeated) for r in runs),
            "failed runs": len(self.failures),
        }


class Conversation:
    """One driver's run against a bot that may be killed after any action."""

    def __init__(self, harness: Harness, user: FakeUser, run: RunResult, kill_at: int, delay: float) -> None:
        self.harness = harness
        self.user = user
        self.result = run
        self.kill_at = kill_at
        self.delay = delay
        self.step = 0

    async def act(
        self, name: str, do: Callable[[], Awaitable[Any]], seen: Callable[[], Awaitable[MessageView]]
    ) -> MessageView:
        """Do ``name``; maybe kill the bot right after; wait for what the driver expects to see,
        repeating the action once when the bot never saw it (lost with the killed process)."""
        killing = self.step == self.kill_at
        self.step += 1
        watch = asyncio.ensure_future(seen())
        await do()
        if killing:
            await asyncio.sleep(self.delay)
            await self.harness.restart()
        try:
            return await asyncio.wait_for(asyncio.shield(watch), WAIT)
        except (TimeoutError, AssertionError):
            watch.cancel()
        self.result.repeated.append(name)
        watch = asyncio.ensure_future(seen())
        await do()
        try:
            return await asyncio.wait_for(watch, WAIT)
        except (TimeoutError, AssertionError) as error:
            raise ConversationStuck(f"{name}: nothing came of it after a repeat ({error})") from None


class ConversationStuck(Exception):
    pass


class Harness:
    """The fakes, one bot process at a time on one database, and the kill/restart."""

    def __init__(self, settings: Settings, start: Callable[..., BotProcess], env: dict[str, str]) -> None:
        self.settings = settings
        self._start = start
        self._env = env
        self.process = start(settings, **env)
        self.kills = 0

    async def restart(self) -> None:
        self.process.kill()
        self.kills += 1
        self.process = self._start(self.settings, **self._env)


async def _one_run(harness: Harness, telegram: TelegramDriver, index: int, rng: random.Random) -> RunResult:
    kill_at = rng.randrange(len(ACTIONS))
    delay = rng.uniform(0.0, 0.5)
    result = RunResult(index, ACTIONS[kill_at], round(delay * 1000))
    charger = CHARGERS[index % len(CHARGERS)]
    comment = f"crash run {index}: quick and easy"
    user = telegram.user(f"Driver {index}")
    talk = Conversation(harness, user, result, kill_at, delay)

    async def tap(message: MessageView, label: str) -> None:
        await user.press(user.message(message), label)

    def edit_of(message: MessageView, **wait: Any) -> Callable[[], Awaitable[MessageView]]:
        snapshot = user.message(message)
        return lambda: user.wait_for_edit(snapshot, timeout=WAIT * 2, **wait)

    def new_message(**wait: Any) -> Callable[[], Awaitable[MessageView]]:
        return lambda: user.wait_for_message(timeout=WAIT * 2, **wait)

    try:
        details = await talk.act(
            "open details", lambda: user.send_text(f"/charger {charger}"), new_message(containing="Connections")
        )
        starred = await talk.act(
            "star it",
            lambda: tap(details, "☆ Favourite"),
            edit_of(details, where=lambda m: "★ Favourite" in m.labels),
        )
        result.favourite_confirmed = "★ Favourite" in starred.labels
        menu = await talk.act("open /settings", lambda: user.send_text("/settings"), new_message(containing="Settings"))
        power = await talk.act(
            "open minimum power",
            lambda: tap(menu, "⚡ Minimum power"),
            edit_of(menu, where=lambda m: "50 kW" in m.labels),
        )
        chosen = await talk.act(
            "choose 50 kW", lambda: tap(power, "50 kW"), edit_of(power, containing="Minimum power: ≥ 50 kW")
        )
        result.setting_confirmed = "Minimum power: ≥ 50 kW" in chosen.text
        panel = await talk.act(
            "start the check-in", lambda: user.send_text(f"/checkin {charger}"), new_message(containing="How did it go")
        )
        panel = await talk.act(
            "choose the outcome", lambda: tap(panel, "✅ Charged successfully"), edit_of(panel, containing="Rate")
        )
        panel = await talk.act("rate it", lambda: tap(panel, "4"), edit_of(panel, containing="Anything to add"))
        summary = await talk.act(
            "type the comment", lambda: user.send_text(comment), new_message(containing="Your check-in at")
        )
        told = await talk.act(
            "submit",
            lambda: tap(summary, "Submit"),
            edit_of(summary, where=lambda m: any(text in m.text for text in ACCEPTED)),
        )
        result.checkin_accepted = any(text in told.text for text in ACCEPTED)
    except ConversationStuck as stuck:
        result.problems.append(f"not resumable: {stuck}")
    except AssertionError as error:  # a button the driver expected is not there
        result.problems.append(f"unexpected screen: {str(error).splitlines()[0]}")
    result.comment = comment  # type: ignore[attr-defined]
    result.user_id = user.id  # type: ignore[attr-defined]
    return result


async def _check(results: list[RunResult], settings: Settings, ocm: FakeOcmServer) -> None:
    """Wait for the outbox to deliver what was accepted, then compare with OCM and the database."""
    accepted = {r.comment for r in results if r.checkin_accepted}  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        stored = {c.comment for c in ocm.comments}
        if accepted <= stored:
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(2)  # a second post of one of them would come now (the outbox polls each second)
    bodies = [json.loads(r.body) for r in ocm.requests_to("/v3/comment", "POST") if r.status == 200]
    storage = await open_storage(
        settings.database_url.get() if settings.database_url else None,
        data_dir=settings.data_dir,
        secret=settings.storage_secret.get() if settings.storage_secret else None,
    )
    try:
        for run in results:
            run.posts = sum(body.get("Comment") == run.comment for body in bodies)  # type: ignore[attr-defined]
            if run.checkin_accepted and run.posts != 1:
                run.problems.append(f"check-in accepted, posted {run.posts} times")
            if not run.checkin_accepted and run.posts > 1:
                run.problems.append(f"posted {run.posts} times")
            user_id = run.user_id  # type: ignore[attr-defined]
            run.favourite_kept = CHARGERS[run.run % len(CHARGERS)] in await storage.list_favourites(user_id)
            if run.favourite_confirmed and not run.favourite_kept:
                run.problems.append("the favourite the driver saw starred is gone")
            prefs = UserPreferences.from_dict(await storage.get_user(user_id) or {})
            run.setting_kept = prefs.min_power_kw == 50
            if run.setting_confirmed and not run.setting_kept:
                run.problems.append("the minimum power the driver saw chosen is gone")
    finally:
        await storage.close()


async def run_crash_conversations(
    runs: int, *, seed: int = 1, database_url: str | None = None, workdir: Path | None = None, log: Any = None
) -> CrashReport:
    """``runs`` conversations, one SIGKILL each at a seeded random point; see the module docstring."""
    rng = random.Random(seed)
    folder = Path(workdir or tempfile.mkdtemp(prefix="ocm-bot-crash-"))
    telegram_server = FakeTelegramServer().start()
    ocm = FakeOcmServer().start()
    nominatim = FakeNominatimServer().start()
    started = time.monotonic()
    try:
        settings = settings_for(telegram_server, ocm, nominatim, folder / "data")
        if database_url:
            settings = dataclasses.replace(settings, database_url=Secret(database_url))
        env = {"OCM_WRITE_KEY": ocm.add_write_key(username="EV Bot Team"), "OUTBOX_POLL_SECONDS": "1"}

        def argv(command: str) -> list[str]:
            return [sys.executable, "-m", "ocm_bot", "--env-file", str(folder / "no.env"), command]

        telegram = TelegramDriver(telegram_server)
        with started_processes(argv, cwd=REPO_ROOT, logs=folder, prefix="bot") as start:
            harness = Harness(settings, start, env)
            results = []
            for index in range(runs):
                result = await _one_run(harness, telegram, index, rng)
                results.append(result)
                if log is not None:
                    log(result)
            await _check(results, settings, ocm)
            kills = harness.kills
    finally:
        nominatim.stop()
        ocm.stop()
        telegram_server.stop()
    return CrashReport("PostgreSQL" if database_url else "SQLite", results, time.monotonic() - started, kills)
