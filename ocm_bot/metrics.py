"""The bot's Prometheus metrics: what an operator graphs and alerts on.

Defined once here (in prometheus-client's default registry) and counted where each thing happens;
``GET /metrics`` (:mod:`ocm_bot.endpoints`) writes them in Prometheus' text format. Every name
starts with ``ocm_bot_``; docs/grafana-dashboard.json graphs them. Labels have few values (an update
type, an OCM path, an error class), never a user, chat or place.

Example::

    from ocm_bot import metrics
    metrics.OCM_REQUESTS.labels(path="/poi", status="200").inc()
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram

UPDATES = Counter("ocm_bot_updates", "Telegram updates handled, by type", ["type"])
HANDLER_SECONDS = Histogram(
    "ocm_bot_handler_seconds",
    "Time from taking an update to finishing its handlers, by update type",
    ["type"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
OCM_REQUESTS = Counter(
    "ocm_bot_ocm_requests", "Requests sent to Open Charge Map, by path and HTTP status", ["path", "status"]
)
OCM_CACHE_HITS = Counter("ocm_bot_ocm_cache_hits", "Searches answered from the bot's OCM cache without a request")
OCM_ERRORS = Counter("ocm_bot_ocm_errors", "OCM requests that failed, by kind (the error's class)", ["kind"])
OCM_LAST_SUCCESS = Gauge(
    "ocm_bot_ocm_last_success_timestamp_seconds", "Unix time of the last OCM request that succeeded (0: none yet)"
)
GEOCODER_CALLS = Counter("ocm_bot_geocoder_calls", "Requests to the geocoder (Nominatim), by outcome", ["outcome"])
CHECKINS = Counter(
    "ocm_bot_checkins", "Check-ins: submitted by drivers, queued for a retry, failed for good", ["result"]
)
NOTIFICATIONS = Counter(
    "ocm_bot_notifications_sent", "Unprompted messages sent (watch announcements, alerts)", ["kind"]
)
TELEGRAM_RETRY_AFTER = Counter(
    "ocm_bot_telegram_retry_after",
    "429 Too Many Requests answers from the Bot API (each waited out), by method",
    ["method"],
)
TELEGRAM_BLOCKED = Counter("ocm_bot_telegram_blocked", "Messages not sent because the user blocked the bot")
OUTBOX_BACKLOG = Gauge("ocm_bot_outbox_backlog", "Check-ins waiting to be posted to OCM (read when scraped)")

NAMES = (
    "ocm_bot_updates_total",
    "ocm_bot_handler_seconds",
    "ocm_bot_ocm_requests_total",
    "ocm_bot_ocm_cache_hits_total",
    "ocm_bot_ocm_errors_total",
    "ocm_bot_ocm_last_success_timestamp_seconds",
    "ocm_bot_geocoder_calls_total",
    "ocm_bot_checkins_total",
    "ocm_bot_notifications_sent_total",
    "ocm_bot_telegram_retry_after_total",
    "ocm_bot_telegram_blocked_total",
    "ocm_bot_outbox_backlog",
)
"""Every series family the bot exposes (the dashboard and README name only these)."""


_last_ocm_success = 0.0


def ocm_succeeded() -> None:
    global _last_ocm_success
    _last_ocm_success = time.time()
    OCM_LAST_SUCCESS.set(_last_ocm_success)


def seconds_since_ocm_success() -> float | None:
    """Seconds since the last OCM request that worked; None when none has yet."""
    return max(0.0, time.time() - _last_ocm_success) if _last_ocm_success else None
