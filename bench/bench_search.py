"""Search: bot-side latency of a location search, and OCM requests and bytes per 100 actions.

    .venv/bin/python bench/bench_search.py                     # both parts, default sizes
    .venv/bin/python bench/bench_search.py --searches 500 --sessions 20

Everything runs on loopback: the fake Bot API and the fake OCM (threads of this process, zero added
latency), SQLite storage in a temporary folder, and the real search handlers, domain and views on
python-telegram-bot. A driver sends updates through the fake Bot API as a person would.

Part 1 — latency of one location search, *update received -> reply sent*: from the moment
python-telegram-bot hands the update to the handlers (a stamp in handler group -1) to the moment
the ``sendMessage`` with the results is handed to the network. The bot runs in its own process
(as in production), so the fake servers do not compete with it for the GIL. Reported with and
without the time spent waiting for OCM, and as the bot process's CPU time in that window (all its
threads; it includes parsing OCM's answer), which a busy machine does not inflate. Two series:
each search at a new place (OCM is asked), and searches near an earlier one (served from the
cached answer).

Part 2 — a scripted session mix of 10 actions (search, next page, next page, a narrower filter,
details, favourite, a filter chip removed, details, /favourites, a search 300 m away), repeated
per driver. Counts OCM ``/poi`` requests and response bytes from the fake OCM's log, against a bot
that sends one OCM request per action (the same actions replayed as single naive requests).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler
from telegram.request import HTTPXRequest

from ocm_bot.app import close_services, open_services
from ocm_bot.context import BotContext, BotData, Services
from ocm_bot.domain.filters import MAX_RESULTS
from ocm_bot.domain.preferences import DistanceUnitChoice, UserPreferences
from ocm_bot.domain.search import SearchService
from ocm_bot.handlers import details as details_handlers
from ocm_bot.handlers import search as search_handlers
from ocm_bot.handlers import start
from ocm_bot.settings import Secret, Settings
from ocm_bot.storage.sqlite import SqliteStorage
from tests.fakes.ocm import FakeOcmServer
from tests.fakes.telegram.driver import TelegramDriver
from tests.fakes.telegram.server import FakeTelegramServer

CENTER = (51.5200, -0.0300)  # Bow / Mile End: the real compact samples, plus generated chargers
SEND_METHODS = ("sendMessage", "editMessageText")


class Stamps:
    """Per update: when the handlers got it, when the reply left, time spent waiting for OCM."""

    def __init__(self, expect: int | None = None) -> None:
        self.received: dict[int, float] = {}
        self.sent: list[float] = []
        self.ocm_wait = 0.0
        self.replied = asyncio.Event()
        self.rows: list[tuple[float, float, float, float]] = []  # (received, sent, OCM wait, CPU) per reply
        self._open: tuple[float, float, float] | None = None
        self.expect = expect
        self.done = asyncio.Event()

    def on_received(self, update_id: int) -> None:
        now = time.perf_counter()
        self.received[update_id] = now
        self._open = (now, self.ocm_wait, time.process_time())

    def on_sent(self) -> None:
        now = time.perf_counter()
        self.sent.append(now)
        if self._open is not None:
            received, ocm_before, cpu_before = self._open
            self.rows.append((received, now, self.ocm_wait - ocm_before, time.process_time() - cpu_before))
            self._open = None
            if self.expect is not None and len(self.rows) >= self.expect:
                self.done.set()


class TimedRequest(HTTPXRequest):
    """Notes when the bot hands a reply to the network."""

    def __init__(self, stamps: Stamps, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._stamps = stamps

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        if url.rsplit("/", 1)[-1] not in SEND_METHODS:
            return await super().do_request(url, method, *args, **kwargs)
        self._stamps.on_sent()
        try:
            return await super().do_request(url, method, *args, **kwargs)
        finally:
            self._stamps.replied.set()


class TimedSource:
    """A ChargerSource proxy that adds up the time spent waiting for OCM."""

    def __init__(self, source: Any, stamps: Stamps) -> None:
        self._source = source
        self._stamps = stamps

    async def _timed(self, call: Any) -> Any:
        started = time.perf_counter()
        try:
            return await call
        finally:
            self._stamps.ocm_wait += time.perf_counter() - started

    async def search(self, query: Any) -> Any:
        return await self._timed(self._source.search(query))

    async def get_chargers(self, ids: list[int], *, include_comments: bool = False) -> Any:
        return await self._timed(self._source.get_chargers(ids, include_comments=include_comments))

    async def reference_data(self) -> Any:
        return await self._source.reference_data()


@dataclass(frozen=True)
class Endpoints:
    telegram_url: str
    token: str
    ocm_url: str
    ocm_key: str

    @classmethod
    def of(cls, telegram: FakeTelegramServer, ocm: FakeOcmServer) -> Endpoints:
        return cls(telegram.url, telegram.token, ocm.url, ocm.api_key)


async def start_bot(endpoints: Endpoints, data_dir: Path, stamps: Stamps, *, max_results: int):
    settings = Settings(
        telegram_bot_token=Secret(endpoints.token),
        telegram_api_url=endpoints.telegram_url,
        ocm_api_url=endpoints.ocm_url,
        ocm_api_key=Secret(endpoints.ocm_key),
        nominatim_url="http://127.0.0.1:9",
    )
    storage = await SqliteStorage(data_dir / "bench.sqlite3", secret="bench").open()
    # The bot's own composition; the client's own budget (60 requests a minute) would turn this
    # benchmark into a wait, and the search keeps its results in memory, timed on the way to OCM.
    settings = dataclasses.replace(settings, data_dir=data_dir, ocm_requests_per_minute=100_000)
    services = await open_services(settings, storage=storage)
    chargers = TimedSource(services.ocm_client, stamps)
    services = dataclasses.replace(services, chargers=chargers, search=SearchService(chargers, max_results=max_results))
    request_options = {"connect_timeout": 2, "read_timeout": 10, "pool_timeout": 5, "httpx_kwargs": {"verify": False}}
    application = (
        Application.builder()
        .token(endpoints.token)
        .base_url(f"{endpoints.telegram_url}/bot")
        .base_file_url(f"{endpoints.telegram_url}/file/bot")
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        .concurrent_updates(True)
        .request(TimedRequest(stamps, connection_pool_size=16, **request_options))
        .get_updates_request(HTTPXRequest(**request_options))
        .build()
    )
    application.bot_data.services = services

    async def stamp(update: Update, context: BotContext) -> None:
        stamps.on_received(update.update_id)

    application.add_handler(TypeHandler(Update, stamp), group=-1)
    application.add_handlers(details_handlers.handlers())
    application.add_handlers(search_handlers.handlers())
    application.add_handlers(start.handlers())
    await application.initialize()
    await application.start()
    await application.updater.start_polling(poll_interval=0, timeout=10)

    async def stop() -> None:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        await close_services(services)
        await storage.close()

    return services, stop


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def search_points(count: int, seed: int) -> list[tuple[str, tuple[float, float]]]:
    """Alternately a new place (away from every earlier answer) and a point near the last one."""
    rng = random.Random(seed)
    points: list[tuple[str, tuple[float, float]]] = []
    previous = CENTER
    for n in range(count):
        if n % 2 == 0:
            point = (CENTER[0] + rng.uniform(-0.12, 0.12), CENTER[1] + rng.uniform(-0.2, 0.2))
            points.append(("new place", point))
        else:  # a few hundred metres from the last search: the cached answer covers it
            point = (previous[0] + rng.uniform(-0.002, 0.002), previous[1] + rng.uniform(-0.003, 0.003))
            points.append(("near an earlier search", point))
        previous = point
    return points


async def latency(
    telegram: FakeTelegramServer, ocm: FakeOcmServer, folder: Path, args: argparse.Namespace
) -> dict[str, dict[str, float]]:
    """Searches one at a time against a bot in its own process; the bot reports its stamps."""
    warm_up = 20
    driver = TelegramDriver(telegram)
    user = driver.user("Lat")
    storage = await SqliteStorage(folder / "bench.sqlite3", secret="bench").open()
    await storage.save_user(user.id, UserPreferences(unit=DistanceUnitChoice.KM, radius_km=2).to_dict())
    await storage.close()
    endpoints = Endpoints.of(telegram, ocm)
    command = [
        sys.executable, __file__, "--bot-process", json.dumps(dataclasses.asdict(endpoints)), "--data-dir", str(folder),
        "--expect", str(warm_up + args.searches),
        "--max-results", str(args.max_results),
    ]  # fmt: skip
    if args.sniffio_fix:
        command.append("--sniffio-fix")
    bot = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    points = [("warm-up", CENTER)] * warm_up + search_points(args.searches, args.seed)
    for _, point in points:
        telegram.user_message(user.id, user.user, {"location": {"latitude": point[0], "longitude": point[1]}})
        await user.wait_for_message(containing="Chargers near", timeout=30)
    output, _ = await asyncio.wait_for(bot.communicate(), 60)
    rows = json.loads(output.decode().strip().splitlines()[-1])
    series: dict[str, dict[str, list[float]]] = {}
    for (name, _), (received, sent, ocm_wait, cpu) in list(zip(points, rows, strict=True))[warm_up:]:
        bucket = series.setdefault(name, {"total": [], "ocm": [], "bot": [], "cpu": []})
        bucket["total"].append((sent - received) * 1000)
        bucket["ocm"].append(ocm_wait * 1000)
        bucket["bot"].append((sent - received - ocm_wait) * 1000)
        bucket["cpu"].append(cpu * 1000)
    return {
        name: {f"{kind} p50": statistics.median(values) for kind, values in parts.items()}
        | {f"{kind} p99": percentile(values, 0.99) for kind, values in parts.items()}
        | {"n": len(parts["total"])}
        for name, parts in series.items()
    }


async def run_bot_process(args: argparse.Namespace) -> None:
    """The bot alone in this process: serve until ``--expect`` replies went out, print the stamps."""
    endpoints = Endpoints(**json.loads(args.bot_process))
    stamps = Stamps(expect=args.expect)
    _, stop = await start_bot(endpoints, Path(args.data_dir), stamps, max_results=args.max_results)
    try:
        await stamps.done.wait()
    finally:
        await stop()
    print(json.dumps(stamps.rows))


async def press(user: Any, message: Any, label: str) -> Any:
    pressed = await user.press(message, label)
    await pressed.answered(timeout=10)
    return pressed


async def session_mix(
    driver: TelegramDriver, ocm: FakeOcmServer, services: Services, sessions: int, seed: int
) -> dict[str, float]:
    rng = random.Random(seed)
    ocm.clear()
    actions: list[tuple[str, dict[str, str]]] = []  # what a one-request-per-action bot would ask
    count = 0
    for s in range(sessions):
        user = driver.user(f"Driver{s}")
        await services.storage.save_user(user.id, UserPreferences(unit=DistanceUnitChoice.KM, radius_km=5).to_dict())
        point = (CENTER[0] + rng.uniform(-0.08, 0.08), CENTER[1] + rng.uniform(-0.12, 0.12))
        area = {"latitude": f"{point[0]:.5f}", "longitude": f"{point[1]:.5f}", "distance": "5", "distanceunit": "km"}

        await user.send_location(*point)  # 1. search
        results = await user.wait_for_message(containing="Chargers near", timeout=10)
        actions.append(("search", {**area, "maxresults": "5"}))
        for page in (2, 3):  # 2-3. next page, twice (the last page pages back)
            label = "Next ›" if "Next ›" in results.labels else "‹ Prev"
            await press(user, results, label)
            results = await user.wait_for_edit(results, timeout=10)
            actions.append(("page", {**area, "maxresults": str(5 * page)}))
        prefs = UserPreferences(unit=DistanceUnitChoice.KM, radius_km=5, min_power_kw=22)
        await services.storage.save_user(user.id, prefs.to_dict())  # 4. a narrower filter, same place
        await user.send_location(*point)
        results = await user.wait_for_message(containing="Chargers near", timeout=10)
        actions.append(("filter", {**area, "maxresults": "5", "minpowerkw": "22"}))
        charger_ids = [int(url.rsplit("/", 1)[-1]) for label, url in results.url_buttons.items() if "OCM" in label]
        await press(user, results, "ℹ️ 1")  # 5. details
        details = await user.wait_for_message(containing="Connections", timeout=10)
        actions.append(("details", {"chargepointid": str(charger_ids[0]), "includecomments": "true"}))
        await press(user, details, "☆ Favourite")  # 6. favourite
        await user.wait_for_edit(details, timeout=10)
        actions.append(("favourite", {"chargepointid": str(charger_ids[0])}))
        await press(user, results, "✕ ≥ 22 kW")  # 7. a filter removed with one tap
        results = await user.wait_for_edit(results, timeout=10)
        actions.append(("filter", {**area, "maxresults": "5"}))
        await press(user, results, "ℹ️ 2")  # 8. details
        await user.wait_for_message(containing="Connections", timeout=10)
        second = [int(url.rsplit("/", 1)[-1]) for label, url in results.url_buttons.items() if "OCM" in label][1]
        actions.append(("details", {"chargepointid": str(second), "includecomments": "true"}))
        await user.send_text("/favourites")  # 9. favourites
        await user.wait_for_message(containing="favourite", timeout=10)
        actions.append(("favourites", {"chargepointid": str(charger_ids[0])}))
        moved = (point[0] + 0.0027, point[1])  # 10. a search 300 m away
        await user.send_location(*moved)
        await user.wait_for_message(containing="Chargers near", timeout=10)
        actions.append(("search", {**area, "latitude": f"{moved[0]:.5f}", "maxresults": "5"}))
        count += 10
    poi = [r for r in ocm.requests_to("/v3/poi") if r.method == "GET"]
    bot_requests, bot_bytes = len(poi), sum(r.response_bytes for r in poi)
    by_id = [r for r in poi if "chargepointid" in r.params]

    ocm.clear()  # replay the same actions as one naive request each
    headers = {"X-API-Key": ocm.api_key, "User-Agent": "ocm-bot-bench/1.0"}
    async with httpx.AsyncClient(base_url=ocm.url, headers=headers) as http:
        for _, params in actions:
            await http.get("/poi", params={**params, "compact": "true", "verbose": "false"})
    naive = [r for r in ocm.requests_to("/v3/poi") if r.method == "GET"]
    per_100 = 100 / count
    return {
        "actions": count,
        "bot requests /100": bot_requests * per_100,
        "bot kB /100": bot_bytes * per_100 / 1000,
        "by-id requests /100": len(by_id) * per_100,
        "by-id kB /100": sum(r.response_bytes for r in by_id) * per_100 / 1000,
        "naive requests /100": len(naive) * per_100,
        "naive kB /100": sum(r.response_bytes for r in naive) * per_100 / 1000,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--chargers", type=int, default=3000, help="generated chargers around Bow")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-results", type=int, default=MAX_RESULTS, help="chargers the search asks OCM for")
    parser.add_argument(
        "--sniffio-fix",
        action="store_true",
        help="make httpcore's per-request `import sniffio` fail fast, as installing sniffio would",
    )
    parser.add_argument("--bot-process", help=argparse.SUPPRESS)  # internal: run only the bot
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--expect", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sniffio_fix:
        # httpcore tries `import sniffio` on every request; without the package each try searches
        # sys.path (about 1 ms). A None entry makes the import fail at once.
        sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]
    if args.bot_process:
        await run_bot_process(args)
        return

    telegram = FakeTelegramServer().start()
    ocm = FakeOcmServer().start()
    ocm.generate_chargers(args.chargers, center=CENTER, radius_km=15, seed=args.seed)
    try:
        with tempfile.TemporaryDirectory() as folder:
            if args.searches:
                print(f"Location search, update received -> reply sent ({args.searches} searches, ms):")
                for name, figures in (await latency(telegram, ocm, Path(folder), args)).items():
                    print(
                        f"  {name:24s} n={figures['n']:4d}  total p50 {figures['total p50']:6.2f} p99 "
                        f"{figures['total p99']:6.2f} | waiting for OCM p50 {figures['ocm p50']:6.2f} p99 "
                        f"{figures['ocm p99']:6.2f} | bot-side p50 {figures['bot p50']:6.2f} "
                        f"p99 {figures['bot p99']:6.2f} | bot CPU p50 {figures['cpu p50']:5.2f} "
                        f"p99 {figures['cpu p99']:5.2f}"
                    )
            if args.sessions:
                await print_session_mix(telegram, ocm, Path(folder), args)
    finally:
        ocm.stop()
        telegram.stop()


async def print_session_mix(
    telegram: FakeTelegramServer, ocm: FakeOcmServer, folder: Path, args: argparse.Namespace
) -> None:
    stamps = Stamps()
    services, stop = await start_bot(Endpoints.of(telegram, ocm), folder, stamps, max_results=args.max_results)
    try:
        mix = await session_mix(TelegramDriver(telegram), ocm, services, args.sessions, args.seed)
    finally:
        await stop()
    print(f"Session mix ({mix['actions']} actions: search, 2 pages, narrower filter, details, favourite,")
    print("  filter chip removed, details, /favourites, search 300 m away), OCM /poi per 100 actions:")
    print(
        f"  bot:   {mix['bot requests /100']:6.1f} requests, {mix['bot kB /100']:8.1f} kB "
        f"(of which by ID, for details and favourites: {mix['by-id requests /100']:.1f} requests, "
        f"{mix['by-id kB /100']:.1f} kB)"
    )
    print(
        f"  naive: {mix['naive requests /100']:6.1f} requests, {mix['naive kB /100']:8.1f} kB  (one request per action)"
    )
    print(f"  search stats: {services.search.stats}; asked OCM for {args.max_results} chargers per area search")


if __name__ == "__main__":
    asyncio.run(main())
