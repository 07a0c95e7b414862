"""The real bot in its own process, as ``ocm-bot run`` / ``ocm-bot webhook`` start it, with stamps.

    python -m bench.botproc --mode polling|webhook --stats stats.json   (settings from the environment)

It builds the application with :func:`ocm_bot.app.build_application` (the production handlers,
rate limiter, per-chat update processing and persistence) and adds three observers that change
nothing the bot does:

- a handler in group -100 (before all of the bot's) notes when python-telegram-bot hands an update to the handlers;
- the OCM HTTP calls are timed (``httpx.AsyncClient.send`` to the OCM host);
- the rate limiter is wrapped: the time from asking it to send until it lets the call go is the
  wait in the limiter; the moment it lets a ``sendMessage``/``editMessageText`` go is the reply.

Each stamp goes to the update being handled (a context variable set per update). On SIGTERM the
bot stops as it does in production and the stamps are written to ``--stats`` as JSON.
"""

from __future__ import annotations

import argparse
import contextvars
import dataclasses
import json
import os
import resource
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from telegram import Update
from telegram.ext import TypeHandler

from ocm_bot.app import build_application
from ocm_bot.cli import webhook_path, webhook_secret
from ocm_bot.delivery import handled_update_types
from ocm_bot.settings import Settings

REPLY_METHODS = ("sendMessage", "editMessageText", "sendVenue", "sendLocation", "answerCallbackQuery")
CURRENT: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("bench_update", default=None)


def instrument(application: Any, ocm_url: str, records: list[dict[str, Any]]) -> None:
    ocm_host = urlsplit(ocm_url).netloc

    async def stamp(update: Update, context: Any) -> None:
        query = update.callback_query
        record = {
            "id": update.update_id,
            "chat": update.effective_chat.id if update.effective_chat else None,
            "received": time.time(),
            "cpu": time.thread_time(),
            "ocm": 0.0,
            "ocm_calls": 0,
            "limiter": 0.0,
            "replies": [],
            "data": query.data if query is not None else None,
        }
        records.append(record)
        CURRENT.set(record)

    application.add_handler(TypeHandler(Update, stamp), group=-100)  # before every handler group

    send = httpx.AsyncClient.send

    async def timed_send(self: httpx.AsyncClient, request: httpx.Request, *args: Any, **kwargs: Any) -> Any:
        record = CURRENT.get()
        if record is None or request.url.netloc.decode() != ocm_host:
            return await send(self, request, *args, **kwargs)
        started = time.perf_counter()
        try:
            return await send(self, request, *args, **kwargs)
        finally:
            record["ocm"] += time.perf_counter() - started
            record["ocm_calls"] += 1

    httpx.AsyncClient.send = timed_send  # type: ignore[method-assign]

    limiter = application.bot.rate_limiter
    process_request = limiter.process_request

    async def timed_process_request(
        callback: Any, args: Any, kwargs: Any, endpoint: str, data: Any, rate_limit_args: Any
    ) -> Any:
        record = CURRENT.get()
        if record is None:
            return await process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        asked = time.perf_counter()
        first = True

        async def let_go(*a: Any, **k: Any) -> Any:
            nonlocal first
            if first:
                first = False
                record["limiter"] += time.perf_counter() - asked
                if endpoint in REPLY_METHODS:
                    record["replies"].append((endpoint, time.time(), time.thread_time() - record["cpu"]))
            return await callback(*a, **k)

        return await process_request(let_go, args, kwargs, endpoint, data, rate_limit_args)

    limiter.process_request = timed_process_request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["polling", "webhook"], default="polling")
    parser.add_argument("--stats", required=True)
    args = parser.parse_args()
    settings = Settings.from_env(os.environ)
    # The bench offers more load than one driver: let the instance use OCM as much as the setting allows.
    settings = dataclasses.replace(settings, ocm_requests_per_minute=int(os.environ.get("BENCH_OCM_RPM", "600")))
    application = build_application(settings)
    records: list[dict[str, Any]] = []
    instrument(application, settings.ocm_api_url, records)
    started_cpu = time.process_time()
    if args.mode == "polling":
        application.run_polling(allowed_updates=handled_update_types(application), drop_pending_updates=False)
    else:
        assert settings.webhook_url is not None
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.port,
            url_path=webhook_path(settings.webhook_url),
            webhook_url=settings.webhook_url,
            secret_token=webhook_secret(settings),
            drop_pending_updates=False,
            allowed_updates=handled_update_types(application),
        )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    search = application.bot_data.services.search.stats if hasattr(application.bot_data, "services") else None
    Path(args.stats).write_text(
        json.dumps(
            {
                "records": records,
                "cpu_s": time.process_time() - started_cpu,
                "peak_rss_mb": usage.ru_maxrss / 1024,
                "search_stats": dataclasses.asdict(search) if dataclasses.is_dataclass(search) else str(search),
            }
        )
    )


if __name__ == "__main__":
    main()
