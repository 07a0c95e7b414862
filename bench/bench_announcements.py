"""Benchmark: announcements sent per second under Telegram's flood limits, queued and never dropped.

The real bot (its application, its rate limiter, :func:`~ocm_bot.handlers.announcements.send_pending`
reading the durable queue) sends to the fake Bot API server with Telegram's limits switched on
(``enable_flood_control``: 30 messages a second in all, 1 a second per chat, 20 a minute per group;
a message over a limit is answered 429 as Telegram does). Chargers come from the bundled data
(the offline demo's source), so no OCM server is involved.

Measured:
- many groups: ``--groups`` groups with one queued announcement each, sent in one round: messages
  per second (the global limit is ~30/s);
- one busy group: ``--burst`` rounds with one announcement each for the same group (a poll a round):
  how long the messages take and the rate reached (the group limit is 20 a minute);
- for both: messages delivered, 429 answers the server gave, events left in the queue.

Run: ``.venv/bin/python bench/bench_announcements.py [--groups 300] [--burst 25]``
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ocm_bot.app import Overrides, build_application
from ocm_bot.demo.ocm import DemoOcm
from ocm_bot.domain.announcements import QUEUE_KEY, Announcement, AnnouncementQueue
from ocm_bot.domain.watches import Announce
from ocm_bot.handlers.announcements import send_pending
from ocm_bot.ocm.local import LocalSource
from ocm_bot.settings import Secret, Settings
from ocm_bot.storage.base import Notice
from tests.fakes.telegram.driver import TelegramDriver
from tests.fakes.telegram.server import FakeTelegramServer


async def queue_events(storage, chats: list[int], charger_ids: list[int], round_number: int) -> None:
    notices = [
        Notice(
            chat,
            charger_ids[(n + round_number) % len(charger_ids)],
            f"bench:{round_number}",
            (Announcement(charger_ids[(n + round_number) % len(charger_ids)], Announce.NEW, 1).to_data(),),
        )
        for n, chat in enumerate(chats)
    ]
    await storage.record_notices(notices, queue_key=QUEUE_KEY)


def too_many(server: FakeTelegramServer, start: int) -> int:
    sends = [r for r in server.requests[start:] if r.method == "sendMessage"]
    return sum(1 for r in sends if "Too Many Requests" in (r.error or ""))


def delivered(server: FakeTelegramServer, start: int) -> int:
    return sum(1 for r in server.requests[start:] if r.method == "sendMessage" and r.ok is not False and not r.error)


async def run(groups: int, burst: int) -> dict[str, float]:
    server = FakeTelegramServer().start()
    server.enable_flood_control(per_second=30, per_chat_per_second=1, per_group_per_minute=20)
    driver = TelegramDriver(server)
    admin = driver.user("Ada")
    chats = []
    for n in range(groups):
        group = driver.group(f"Club {n}", members=[admin], admins=[admin])
        await group.add_bot(by=admin)
        chats.append(group.chat_id)
    source = LocalSource.bundled()
    charger_ids = [c.id for c in await source.modified_since(datetime(2000, 1, 1, tzinfo=UTC), maxresults=200)]
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            telegram_bot_token=Secret(server.token),
            telegram_api_url=server.url,
            ocm_api_url="http://127.0.0.1:9",
            nominatim_url="http://127.0.0.1:9",
            data_dir=Path(data_dir),
        )
        application = build_application(settings, overrides=Overrides(ocm=DemoOcm(source)))
        await application.initialize()
        assert application.post_init is not None
        await application.post_init(application)
        services = application.bot_data.services
        queue = AnnouncementQueue(services.storage)
        try:
            await queue_events(services.storage, chats, charger_ids, 0)
            start = len(server.requests)
            began = time.perf_counter()
            sent = await send_pending(application, services, queue)
            took = time.perf_counter() - began
            left = sum(len(items) for items in (await queue.pending()).values())
            result = {
                "groups": groups,
                "sent": sent,
                "seconds": took,
                "per_s": sent / took,
                "delivered": delivered(server, start),
                "too_many": too_many(server, start),
                "left": left,
            }
            print(
                f"{groups} groups, one announcement each: {sent} sent in {took:.1f} s = {sent / took:.1f} messages/s;"
                f" delivered {delivered(server, start)}, 429 answers {too_many(server, start)}, left queued {left}"
            )

            busy = chats[:1]
            start = len(server.requests)
            began = time.perf_counter()
            sent = 0
            for round_number in range(1, burst + 1):
                await queue_events(services.storage, busy, charger_ids, round_number)
                sent += await send_pending(application, services, queue)
            took = time.perf_counter() - began
            left = sum(len(items) for items in (await queue.pending()).values())
            result |= {
                "burst": burst,
                "burst_sent": sent,
                "burst_seconds": took,
                "burst_delivered": delivered(server, start),
                "burst_too_many": too_many(server, start),
                "burst_left": left,
            }
            print(
                f"one group, {burst} polls with one announcement each: {sent} sent in {took:.1f} s"
                f" = {60 * sent / took:.1f} messages/minute; delivered {delivered(server, start)},"
                f" 429 answers {too_many(server, start)}, left queued {left}"
            )
        finally:
            await application.shutdown()
            if application.post_shutdown:
                await application.post_shutdown(application)
            server.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=300)
    parser.add_argument("--burst", type=int, default=25)
    args = parser.parse_args()
    asyncio.run(run(args.groups, args.burst))


if __name__ == "__main__":
    main()
