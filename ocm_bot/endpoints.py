"""``GET /healthz`` and ``GET /metrics`` for operators, and where they are served.

- webhook mode: on the webhook server itself (the same port as ``PORT``), added to
  python-telegram-bot's tornado application once it listens;
- any mode with ``METRICS_PORT`` set (the only way in polling mode): on a small tornado server of
  their own on that port, in the bot's event loop.

``/healthz`` answers 200 with a JSON body when the process can do its work and 503, with the
reason, when it cannot (the storage does not answer). Example::

    $ curl -s localhost:9100/healthz
    {"status": "ok", "storage": "ok", "seconds_since_ocm_success": 12.4, "outbox_backlog": 0, ...}
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import timedelta
from typing import Any

import tornado.web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from tornado.httpserver import HTTPServer

from ocm_bot import metrics
from ocm_bot.storage.base import utc_now

log = logging.getLogger(__name__)

STORAGE_TIMEOUT_SECONDS = 3.0
"""How long /healthz waits for the storage before it calls it unreachable."""
BACKLOG_LIMIT = 10_000
STARTED = time.time()


class _Endpoint(tornado.web.RequestHandler):
    def initialize(self, bot: Any) -> None:
        self.bot_application = bot

    def log_exception(self, *args: Any) -> None:  # tornado's own line would carry the request
        log.warning("%s %s failed", self.request.method, self.request.path, exc_info=args[1] if len(args) > 1 else None)


class HealthHandler(_Endpoint):
    async def get(self) -> None:
        status, body = await health(self.bot_application)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body))


class MetricsHandler(_Endpoint):
    async def get(self) -> None:
        await _read_backlog(self.bot_application)
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(generate_latest())


def routes(application: Any) -> list[tuple[str, type[tornado.web.RequestHandler], dict[str, Any]]]:
    return [
        (r"/healthz", HealthHandler, {"bot": application}),
        (r"/metrics", MetricsHandler, {"bot": application}),
    ]


async def health(application: Any) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of ``/healthz``: 503 with the reason when the storage does not answer."""
    body: dict[str, Any] = {"status": "ok", "uptime_seconds": round(time.time() - STARTED, 1)}
    services = getattr(application.bot_data, "services", None)
    if services is None:
        return 503, body | {"status": "starting", "reason": "the bot is still starting"}
    try:
        backlog = await asyncio.wait_for(_backlog(services.storage), STORAGE_TIMEOUT_SECONDS)
    except Exception as error:  # any failure of the storage is the answer here
        reason = f"storage unreachable ({type(error).__name__})"
        return 503, body | {"status": "unhealthy", "storage": "unreachable", "reason": reason}
    since = metrics.seconds_since_ocm_success()
    body |= {
        "storage": "ok",
        "seconds_since_ocm_success": None if since is None else round(since, 1),
        "outbox_backlog": backlog,
    }
    return 200, body


async def _backlog(storage: Any) -> int:
    """Check-ins waiting to be posted (one read, which is also the storage's health check)."""
    waiting = await storage.due_outbox(now=utc_now() + timedelta(days=3650), limit=BACKLOG_LIMIT)
    metrics.OUTBOX_BACKLOG.set(len(waiting))
    return len(waiting)


async def _read_backlog(application: Any) -> None:
    services = getattr(application.bot_data, "services", None)
    if services is None:
        return
    try:
        await asyncio.wait_for(_backlog(services.storage), STORAGE_TIMEOUT_SECONDS)
    except Exception as error:
        log.warning("the outbox backlog could not be read for /metrics (%s)", type(error).__name__)


def serve(application: Any, listen: str, port: int) -> HTTPServer:
    """``/healthz`` and ``/metrics`` on a server of their own (``METRICS_PORT``), in the running loop."""
    server = HTTPServer(tornado.web.Application(routes(application), log_function=_log_request))
    server.listen(port, address=listen)
    log.info("health and metrics at http://%s:%d/healthz and /metrics", listen, port)
    return server


def _log_request(handler: tornado.web.RequestHandler) -> None:
    """A scrape every few seconds is not news (the webhook server logs requests at DEBUG too)."""
    status = handler.get_status()
    level = logging.WARNING if status >= 500 else logging.DEBUG
    log.log(level, "%d %s %s", status, handler.request.method, handler.request.path)


def add_to_webhook_server(application: Any) -> bool:
    """Add the routes to python-telegram-bot's webhook server (same port); False when it has none.

    python-telegram-bot builds its tornado application inside ``Updater.start_webhook`` and offers
    no hook to add routes, so they are added to that application once it exists (tornado's
    ``add_handlers``; the webhook path keeps its own route).
    """
    server = getattr(application.updater, "_httpd", None)
    http_server = getattr(server, "_http_server", None)
    app = getattr(http_server, "request_callback", None)
    if not isinstance(app, tornado.web.Application):
        return False
    app.add_handlers(r".*", routes(application))
    return True
