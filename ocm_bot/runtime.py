"""Run-time plumbing for the application: per-chat update ordering, storage opened once, and
Bot API calls retried through transient failures.

The first two exist because of how python-telegram-bot starts: persistence is loaded in
``initialize()``, before ``post_init`` opens the services, and concurrent updates are processed in
any order. The third because a reply must not be lost to one 502 from Telegram's front end.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import httpx
from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, Application, BaseUpdateProcessor

from ocm_bot import endpoints, metrics
from ocm_bot.settings import Settings
from ocm_bot.storage.base import Storage

log = logging.getLogger(__name__)

# Waits before the 2nd, 3rd and 4th attempt of a Bot API call that failed on the way (about 3.5 s
# in all, within what a driver waits for a reply); no attempt starts later than the deadline.
TRANSIENT_RETRY_DELAYS: tuple[float, ...] = (0.5, 1.0, 2.0)
TRANSIENT_RETRY_DEADLINE_SECONDS = 20.0


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Processes updates concurrently across chats but in order within one chat.

    A slow OCM answer for one driver must not hold up everybody else, while two taps of the same
    driver must not race through a conversation.
    """

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _ordering_key(update)
        if key is None:
            await _measured(update, coroutine)
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await _measured(update, coroutine)
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


async def _measured(update: object, coroutine: Awaitable[Any]) -> None:
    kind = str(update_type(update))
    started = time.monotonic()
    try:
        await coroutine
    finally:
        metrics.UPDATES.labels(type=kind).inc()
        metrics.HANDLER_SECONDS.labels(type=kind).observe(time.monotonic() - started)


def update_type(update: object) -> str:
    """The kind of an update as the Bot API names its field ("message", "callback_query", ...)."""
    if isinstance(update, Update):
        for kind in Update.ALL_TYPES:
            if getattr(update, kind, None) is not None:
                return kind
        return "other"
    return type(update).__name__


def _ordering_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.inline_query is not None:
        # Inline queries carry no conversation, and a person's newer query must be able to
        # supersede an older one still waiting (domain/inline.py's Debouncer): not in line.
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class DeferredStorage:
    """A storage opened on first use, shared by the persistence and the services.

    Attribute access returns async callables that open the storage first, so it can stand in
    for a :class:`Storage` before the event loop that will own the connections runs.
    """

    def __init__(self, opener: Callable[[], Awaitable[Storage]]) -> None:
        self._opener = opener
        self._storage: Storage | None = None
        self._lock: asyncio.Lock | None = None

    async def get(self) -> Storage:
        if self._storage is None:
            self._lock = self._lock or asyncio.Lock()
            async with self._lock:
                if self._storage is None:
                    self._storage = await self._opener()
        return self._storage

    async def close(self) -> None:
        if self._storage is not None:
            await self._storage.close()
            self._storage = None

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            storage = await self.get()
            return await getattr(storage, name)(*args, **kwargs)

        return call


MESSAGES_PER_SECOND = 29  # Telegram's ceiling is about 30 a second overall, in any one second


class RetryingRateLimiter(AIORateLimiter):
    """python-telegram-bot's rate limiter (which retries ``RetryAfter``), also retrying a Bot API call
    that failed on the way to Telegram, a few times with a growing wait (``TRANSIENT_RETRY_DELAYS``).

    Every call of the bot but ``getUpdates`` (which the updater retries itself) passes through here.
    What is retried is what Telegram certainly did not carry out, or what is harmless to repeat:

    - a connection that could not be made (connect error or timeout, no free connection): the
      request never left, so any call is sent again;
    - a 5xx answer (nginx's ``502 Bad Gateway`` when the Bot API server behind it is away): the
      call did not reach Telegram's bot logic, so it is sent again;
    - a failure after the request was sent (read timeout, connection broken before the answer):
      Telegram may have carried it out. A new message is then *not* sent again, since the driver
      would see it twice and Telegram has very probably delivered it (the request was complete);
      a call that is harmless to repeat (``get*``, ``set*``, ``editMessage*``) is, and an edit
      answered "message is not modified" on the retry counts as done.

    Telegram's own refusals (400, 403, 409; 429 goes to ``RetryAfter``) are never retried. After the
    last attempt the error is raised (logged as a warning: an outage of Telegram is not a bug).

    Example::

        Application.builder().rate_limiter(RetryingRateLimiter(max_retries=2))
    """

    def __init__(self, *args: Any, delays: tuple[float, ...] = TRANSIENT_RETRY_DELAYS, **kwargs: Any) -> None:
        # python-telegram-bot's default limiter (30 per 1 s, a bucket of 30) lets a burst of 30 through
        # and 30 more within the same second: under a sustained load Telegram refuses about every
        # other message (429) and a reply refused three times is dropped. One message per 1/29 s
        # never puts more than 30 into any one second.
        kwargs.setdefault("overall_max_rate", 1)
        kwargs.setdefault("overall_time_period", 1 / MESSAGES_PER_SECOND)
        super().__init__(*args, **kwargs)
        self._delays = delays

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint in UNTHROTTLED:
            return await callback(*args, **kwargs)
        if endpoint in _CHAT_READS:  # no message: outside a chat's message budget (the global limit still holds)
            data = {key: value for key, value in data.items() if key != "chat_id"}
        callback = _counted(callback, endpoint)
        if endpoint not in _CHAT_READS and _private_chat(data.get("chat_id")):
            callback = _waiting_out_chat_floods(callback)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TRANSIENT_RETRY_DEADLINE_SECONDS
        may_have_been_done = False
        for attempt, delay in enumerate((*self._delays, None), start=1):
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except BadRequest as error:
                if may_have_been_done and endpoint.startswith("editMessage") and "not modified" in str(error):
                    return True  # the attempt whose answer was lost did the edit
                raise
            except (NetworkError, TelegramError) as caught:
                if isinstance(caught, NetworkError):
                    failure: NetworkError = caught
                    retry, maybe_done = _worth_retrying(caught, endpoint)
                elif _unreadable_answer(caught):
                    # A 2xx whose body is not JSON (a broken proxy or front end): the call reached
                    # Telegram and was very probably carried out; treated like a lost answer.
                    failure = NetworkError(f"unreadable answer to {endpoint}")
                    failure.__cause__ = caught
                    retry, maybe_done = endpoint.startswith(_REPEATABLE_PREFIXES), True
                else:
                    raise
                if not retry or delay is None or loop.time() + delay > deadline:
                    if retry or maybe_done:
                        log.warning(
                            "Telegram did not take %s (%s); gave up after %d attempt%s",
                            endpoint,
                            _describe_error(failure),
                            attempt,
                            "" if attempt == 1 else "s",
                        )
                    if failure is caught:
                        raise
                    raise failure from caught
                may_have_been_done = may_have_been_done or maybe_done
                log.info(
                    "Telegram did not take %s (%s); trying again in %.1f s", endpoint, _describe_error(failure), delay
                )
                await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")


UNTHROTTLED = frozenset({"setMyCommands", "setMyDescription", "setMyShortDescription"})
"""Start-up calls sent straight to Telegram: python-telegram-bot's limiter holds back every call of the
bot while a ``RetryAfter`` lasts, and Telegram can ask for an hour after many menu changes; the caller
(``app.publish_menus``) gets the ``RetryAfter`` at once and leaves the rest for the next start."""


def _counted(
    callback: Callable[..., Coroutine[Any, Any, Any]], endpoint: str
) -> Callable[..., Coroutine[Any, Any, Any]]:
    """``callback``, counting Telegram's 429s (which the rate limiter waits out) and blocked users."""

    async def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as error:
            metrics.TELEGRAM_RETRY_AFTER.labels(method=endpoint).inc()
            log.warning("Telegram asked to wait %s s before %s (429)", error.retry_after, endpoint)
            raise
        except Forbidden:
            metrics.TELEGRAM_BLOCKED.inc()
            raise

    return call


_CHAT_READS = frozenset({"getChat", "getChatMember", "getChatAdministrators", "getChatMemberCount"})
"""Calls that only read a chat: Telegram's per-chat limits (about 20 messages a minute in a group)
count messages, so the admin check of every watch button neither waits for nor uses up that budget."""
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_REPEATABLE_PREFIXES = ("get", "set", "editMessage", "deleteWebhook", "deleteMyCommands")


CHAT_FLOOD_RETRIES = 3


def _private_chat(chat_id: object) -> bool:
    try:
        return int(chat_id) > 0  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def _waiting_out_chat_floods(
    callback: Callable[..., Coroutine[Any, Any, Any]],
) -> Callable[..., Coroutine[Any, Any, Any]]:
    """``callback`` waiting out a 429 itself: in a private chat it is the chat's own limit (about one
    message a second; the overall pace is kept below Telegram's ceiling), and python-telegram-bot's
    limiter would pause *every* chat for it. A driver who taps twice in a second waits; nobody else does."""

    async def call(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(CHAT_FLOOD_RETRIES + 1):
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == CHAT_FLOOD_RETRIES:
                    raise
                wait = error._retry_after.total_seconds()  # the public retry_after is deprecated
                log.info("Telegram asks to slow down in one chat; waiting %.0f s", wait)
                await asyncio.sleep(wait + 0.1)
        raise AssertionError("unreachable: the last attempt returns or raises")

    return call


def _unreadable_answer(error: TelegramError) -> bool:
    """python-telegram-bot's error for an answer that is not JSON (``BaseRequest.parse_json_payload``)."""
    return type(error) is TelegramError and str(error) == "Invalid server response"


def _worth_retrying(error: NetworkError, endpoint: str) -> tuple[bool, bool]:
    """(retry it, Telegram may have carried it out) for a call that failed with ``error``."""
    cause = error.__cause__
    if isinstance(cause, _NEVER_SENT):
        return True, False
    if isinstance(cause, httpx.HTTPError):  # sent, answer lost: read/write timeout, broken connection
        return endpoint.startswith(_REPEATABLE_PREFIXES), True
    # A status PTB has no error class for (5xx), with a JSON or an HTML (unparsable) body;
    # anything else (PTB's "Unknown error in HTTP implementation") is a bug, not a network hiccup.
    return cause is None or isinstance(cause, TelegramError), False


def _describe_error(error: NetworkError) -> str:
    """The error in one short line (PTB quotes a whole HTML error page in its message)."""
    text = str(error)
    return text.split(". Parsing the server response", 1)[0] if "Parsing the server response" in text else text


SHUTDOWN_SECONDS = 10.0
"""A stop signal ends the process within this many seconds, whatever is still running."""


def run_as_service(application: Application, settings: Settings, *, webhook: bool) -> None:
    """What ``ocm-bot run`` and ``ocm-bot webhook`` add to the application (not the in-process tests).

    - ``/healthz`` and ``/metrics`` on the webhook server (webhook mode) and on ``METRICS_PORT`` when set;
    - SIGTERM (or SIGINT) stops it gracefully: no new updates, in-flight handlers finish, the
      conversation state is written, leases are released, and the process ends within
      ``SHUTDOWN_SECONDS``; a second SIGTERM ends it at once.
    """
    inner_init, inner_shutdown = application.post_init, application.post_shutdown
    servers: list[Any] = []

    async def post_init(app: Application) -> None:
        if inner_init is not None:
            await inner_init(app)
        _handle_stop_signals(app)
        if settings.metrics_port is not None:
            servers.append(endpoints.serve(app, settings.webhook_listen, settings.metrics_port))
        if webhook and app.job_queue is not None:
            # The webhook server exists once the updater started, which is before the job queue starts.
            app.job_queue.run_once(_add_routes_to_webhook_server, when=0, name="webhook-endpoints")

    async def post_shutdown(app: Application) -> None:
        for server in servers:
            server.stop()
        if inner_shutdown is not None:
            await inner_shutdown(app)
        log.info("stopped")

    application.post_init = post_init
    application.post_shutdown = post_shutdown


async def _add_routes_to_webhook_server(context: Any) -> None:
    if not endpoints.add_to_webhook_server(context.application):
        log.warning("/healthz and /metrics could not be added to the webhook server; set METRICS_PORT")


def _handle_stop_signals(application: Application) -> None:
    """python-telegram-bot stops gracefully on the first signal; a second one, or a stop that takes
    longer than ``SHUTDOWN_SECONDS``, ends the process at once (a hung OCM request must not keep an
    orchestrator waiting until it kills the process anyway)."""
    loop = asyncio.get_running_loop()
    received: list[int] = []

    def on_signal(signum: int) -> None:
        received.append(signum)
        name = signal.Signals(signum).name
        if len(received) > 1:
            log.warning("%s again: exiting now", name)
            _exit_now(1)
        in_flight = application.update_processor.current_concurrent_updates
        log.info(
            "%s: stopping (no new updates; finishing %d in progress; at most %.0f s)", name, in_flight, SHUTDOWN_SECONDS
        )
        watchdog = threading.Timer(SHUTDOWN_SECONDS - 0.5, _overdue)
        watchdog.daemon = True
        watchdog.start()
        raise SystemExit(0)  # what python-telegram-bot's own handler does: run_* then stops in order

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)


def _overdue() -> None:
    log.warning("the stop took longer than %.0f s: exiting now", SHUTDOWN_SECONDS)
    _exit_now(1)


def _exit_now(status: int) -> None:
    logging.shutdown()
    os._exit(status)
