"""The composition root: every service the bot uses and every handler it runs, built in one place.

- :func:`open_services` builds storage, the OCM client (or the local OCM dump), the geocoder, the
  search and the check-in service (outbox, accounts) into a typed :class:`~ocm_bot.context.Services`;
  handlers read them from ``context.services`` and never build one.
- :func:`register_handlers` lists every handler module's handlers, group by group, in the order
  python-telegram-bot tries them, then the repeating jobs and the error handler.
- :func:`build_application` builds the python-telegram-bot Application around them.

Over 400 lines because it is the one place a reader follows top to bottom to see how the bot is
put together (services, handler groups, jobs, lifecycle); splitting it would scatter exactly that.

``ocm-bot run``, ``ocm-bot webhook``, the offline demo (with :class:`Overrides` for its OCM and
gazetteer) and the end-to-end tests all build the bot here, so every one of them runs the same
services and handlers. Long-lived clients (HTTP, storage) are opened in ``post_init`` and closed
in ``post_shutdown``.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import BotCommandScopeAllGroupChats, BotCommandScopeDefault, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ApplicationBuilder, ContextTypes, PersistenceInput
from telegram.request import BaseRequest

from ocm_bot.context import BotApplication, BotContext, BotData, Closer, OcmApi, PlaceFinder, Services
from ocm_bot.domain.accounts import Accounts
from ocm_bot.domain.checkin import CheckinService
from ocm_bot.domain.inline import InlineSearch
from ocm_bot.domain.live import LiveTracker
from ocm_bot.domain.outbox import Outbox, charger_refresher
from ocm_bot.domain.photos import PhotoService
from ocm_bot.domain.results import StoredResults
from ocm_bot.domain.route import RoutePlanner
from ocm_bot.domain.search import SearchService
from ocm_bot.domain.search_limit import SearchRateLimit
from ocm_bot.domain.watch_poller import WatchPoller
from ocm_bot.errors import OcmBotError
from ocm_bot.geocoding import Geocoder
from ocm_bot.handlers import (
    alerts,
    announcements,
    area,
    checkin,
    details,
    export,
    groups,
    guest,
    inline,
    language,
    live,
    missing,
    outbox,
    photos,
    preferences,
    privacy,
    route,
    search,
    signin,
    start,
    watches,
)
from ocm_bot.handlers.common import translator_for
from ocm_bot.i18n import available_languages, negotiate_language, translator
from ocm_bot.ocm.client import OcmClient, OcmLimits
from ocm_bot.ocm.errors import OcmError
from ocm_bot.ocm.identity import user_agent
from ocm_bot.ocm.local import LocalSource
from ocm_bot.ocm.reference import bundled_reference_data
from ocm_bot.ocm.source import ChargerSource
from ocm_bot.routing import Router
from ocm_bot.runtime import DeferredStorage, PerChatUpdateProcessor, RetryingRateLimiter
from ocm_bot.settings import Settings
from ocm_bot.storage import Storage, open_storage
from ocm_bot.storage.base import utc_now
from ocm_bot.storage.persistence import StoragePersistence
from ocm_bot.views.callbacks import CallbackCodec
from ocm_bot.views.common import View, unexpected_error_text
from ocm_bot.views.menus import GROUP_SCOPE, PRIVATE_SCOPE, bot_menus, menu_language_codes

log = logging.getLogger(__name__)

USER_AGENT = user_agent()
REFERENCE_CACHE_FILE = "ocm-reference.json"
# How often conversation state is written; a kill -9 loses at most this much of a conversation.
PERSISTENCE_INTERVAL_SECONDS = 1.0

# Digests of the command menus and descriptions Telegram has (storage), and how long start-up may
# spend sending the changed ones (what is left is sent at the next start).
MENUS_KEY = "bot-menus:sent"
MENUS_SECONDS = 20.0


def build_application(
    settings: Settings,
    *,
    overrides: Overrides | None = None,
    request: BaseRequest | Callable[[], BaseRequest] | None = None,
    paced: bool = True,
) -> BotApplication:
    """The bot, wired to the Bot API server at ``settings.telegram_api_url``.

    Its services are opened from ``settings`` in ``post_init`` (:func:`open_services`), with
    ``overrides`` in place of the network services (the offline demo's OCM and gazetteer).
    ``request`` replaces the HTTP transport to the Bot API: one request object for all calls (the
    offline demo answers them in memory), or a factory called once for ordinary calls and once
    for long polling. ``paced=False`` drops the bot's own pacing to Telegram's flood limits (30
    messages a second, 20 a minute per group; ``RetryAfter`` is still obeyed): for a Bot API server
    that has no such limits, like the loopback one the fuzz test sends 10,000 updates through.
    """
    if settings.telegram_bot_token is None:
        raise ValueError("build_application needs TELEGRAM_BOT_TOKEN")
    root = settings.telegram_api_url
    storage = DeferredStorage(lambda: open_storage_from(settings))
    builder: ApplicationBuilder = (
        Application.builder()
        .token(settings.telegram_bot_token.get())
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        # RetryAfter twice; 5xx and network failures too
        .rate_limiter(
            RetryingRateLimiter(max_retries=2)
            if paced
            else RetryingRateLimiter(max_retries=2, overall_max_rate=0, group_max_rate=0)
        )
        .concurrent_updates(PerChatUpdateProcessor())
        .persistence(
            StoragePersistence(
                storage,  # type: ignore[arg-type]  # stands in for a Storage (opened on first use)
                store_data=PersistenceInput(bot_data=False, callback_data=False),
                update_interval=PERSISTENCE_INTERVAL_SECONDS,
            )
        )
        .post_init(_post_init(settings, overrides or Overrides(), storage))
        .post_shutdown(_post_shutdown(storage))
    )
    if isinstance(request, BaseRequest):
        builder = builder.request(request).get_updates_request(request)
    elif request is not None:
        builder = builder.request(request()).get_updates_request(request())
    application = builder.build()
    application.bot_data.settings = settings
    register_handlers(application)
    return application


def register_handlers(application: BotApplication) -> None:
    """Every handler of the bot, in the order python-telegram-bot tries them; then jobs and the error handler.

    python-telegram-bot runs the first matching handler of each group, groups in ascending order.
    Conversations and awaited input come first, each in its own negative group so one module's
    catch-all for awaited text cannot hide another's conversation; each stops the update when it
    used it, so a typed password, comment or operator name never reaches the search as a place.
    Everything else shares group 0, so a catch-all cannot answer "unknown command" to a command a
    feature already handled.
    """
    # Awaited input, earliest group first.
    application.add_handlers(signin.priority_handlers(), group=-3)  # e-mail and password
    application.add_handlers(checkin.priority_handlers(), group=-2)  # the check-in steps (a comment)
    application.add_handlers(preferences.priority_handlers(), group=-1)  # an operator name to filter by
    application.add_handlers(watches.priority_handlers(), group=-4)  # a watch's place, typed by the asking admin
    application.add_handlers(photos.priority_handlers(), group=-5)  # a photo's caption (never a sign-in's text)
    # Commands and buttons; deep links (/start sign-in, /start poi-...) before the plain /start.
    application.add_handlers(groups.handlers())  # /near, mentions, a group's /settings (before the private ones)
    application.add_handlers(signin.handlers())
    application.add_handlers(checkin.handlers())
    application.add_handlers(outbox.handlers())
    application.add_handlers(preferences.handlers())
    application.add_handlers(language.handlers())
    application.add_handlers(privacy.handlers())
    application.add_handlers(details.handlers())  # /charger, /favourites, details and favourite buttons
    application.add_handlers(live.handlers())  # a live location's later positions
    application.add_handlers(search.handlers())
    application.add_handlers(area.handlers())  # /area, "chargers in <place>" (only that text)
    application.add_handlers(route.handlers())  # /route A -> B, near my destination
    application.add_handlers(export.handlers())  # GPX and KML of any result
    application.add_handlers(start.handlers())
    application.add_handlers(alerts.handlers())  # /alerts and its on/off button
    application.add_handlers(watches.handlers())  # /watch, /watches and their buttons (group admins)
    application.add_handlers(announcements.handlers())  # the bot removed from a group, a group migrated, digest pages
    application.add_handlers(inline.handlers())  # "@bot <place>" in any chat: venue results
    application.add_handlers(guest.handlers(), group=-5)  # "@bot CCS near Leeds" where the bot is a guest; stops there
    application.add_handlers(photos.handlers())  # a charger photo (or a file, a sticker) and its caption step
    application.add_handlers(missing.handlers())  # ➕ Charger not listed?: OCM's add-a-charger page
    # Whatever no feature claimed: unknown commands, stale buttons, then any private text as a place.
    application.add_handlers(start.fallback_handlers())
    application.add_handlers(search.text_handlers())
    # Repeating jobs.
    outbox.register_outbox_job(application)
    search.schedule_pruning(application)
    announcements.register_watch_job(application)
    # Conversations go on after a restart at the step their records in storage say.
    if isinstance(application.persistence, StoragePersistence):
        for name, states in (*signin.restored_conversations().items(), *checkin.restored_conversations().items()):
            application.persistence.restore_conversation(name, states)
    application.add_error_handler(on_error)


def _post_init(
    settings: Settings, overrides: Overrides, storage: DeferredStorage
) -> Callable[[BotApplication], Coroutine[Any, Any, None]]:
    async def post_init(application: BotApplication) -> None:
        services = await open_services(settings, storage=await storage.get(), overrides=overrides)
        services.closers.insert(0, storage.close)
        application.bot_data.services = services
        await publish_menus(application)

    return post_init


def _post_shutdown(storage: DeferredStorage) -> Callable[[BotApplication], Coroutine[Any, Any, None]]:
    async def post_shutdown(application: BotApplication) -> None:
        services: Services | None = getattr(application.bot_data, "services", None)
        if services is not None:
            await close_services(services)
        else:
            # The start failed after the persistence opened the storage (python-telegram-bot
            # still shuts down after a failed post_init): close it, or its thread keeps the
            # process alive.
            await storage.close()

    return post_shutdown


async def open_storage_from(settings: Settings) -> Storage:
    return await open_storage(
        settings.database_url.get() if settings.database_url else None,
        data_dir=settings.data_dir,
        secret=settings.storage_secret.get() if settings.storage_secret else None,
    )


class StartupError(OcmBotError):
    """A service the bot needs cannot be opened; the message tells the operator what to do."""


@dataclass(frozen=True)
class Overrides:
    """Services put in place of the network ones (the offline demo); the composition closes them with the rest.

    Example::

        build_application(settings, overrides=Overrides(ocm=DemoOcm(LocalSource.bundled()), geocoder=gazetteer))
    """

    ocm: OcmApi | None = None
    """Open Charge Map and the charger source in one (instead of the OCM API and ``OCM_DATA_FILE``)."""
    geocoder: PlaceFinder | None = None
    """Place names (instead of Nominatim at ``NOMINATIM_URL``)."""
    clock: Callable[[], datetime] | None = None
    """The time groups' quiet hours are read against (instead of the wall clock; tests)."""


async def open_services(
    settings: Settings, *, storage: Storage | None = None, overrides: Overrides | None = None
) -> Services:
    """The composition root: storage, OCM, the geocoder, the search and the check-in, built from ``settings``.

    ``storage`` is one already opened (the persistence's); it is not closed here. When a service
    fails to open, those already opened are closed again before the error propagates.
    """
    closers: list[Closer] = []
    try:
        return await _open_services(settings, storage, overrides or Overrides(), closers)
    except BaseException:
        await _close_all(closers)
        raise


async def _open_services(
    settings: Settings, storage: Storage | None, overrides: Overrides, closers: list[Closer]
) -> Services:
    if storage is None:
        storage = await open_storage_from(settings)
        closers.append(storage.close)

    ocm_client: OcmApi
    chargers: ChargerSource
    if overrides.ocm is not None:
        ocm_client = chargers = overrides.ocm
        closers.append(ocm_client.aclose)
    else:
        client = OcmClient.create(
            base_url=settings.ocm_api_url,
            api_key=settings.ocm_api_key.get() if settings.ocm_api_key else None,
            reference_cache_path=settings.data_dir / REFERENCE_CACHE_FILE,
            limits=OcmLimits(requests_per_minute=settings.ocm_requests_per_minute),
            user_agent=USER_AGENT,
        )
        closers.append(client.aclose)
        await _start_ocm_client(client)
        ocm_client = chargers = client
        if settings.ocm_data_file is not None:
            local = await _open_local_source(settings.ocm_data_file)
            closers.append(local.aclose)
            chargers = local

    geocoder = overrides.geocoder or Geocoder(
        settings.nominatim_url,
        user_agent=user_agent(contact=settings.contact or None),
        min_interval=1.0 / settings.nominatim_requests_per_second,
    )
    closers.append(geocoder.close)
    router: Router | None = None
    if settings.router_url:
        router = Router(settings.router_url, user_agent=user_agent(contact=settings.contact or None))
        closers.append(router.close)

    # In storage, results and live-location sessions are known to every instance sharing the database
    # (webhook behind a balancer); the wall clock is the one every instance shares.
    search_service = SearchService(
        chargers, results=StoredResults(storage), live=LiveTracker(clock=time.time, state=storage)
    )

    write_key = settings.ocm_write_key.get() if settings.ocm_write_key else None
    outbox_service = Outbox(
        storage,
        ocm_client,
        write_key=write_key,
        refresh_charger=charger_refresher(ocm_client),
        lease_seconds=settings.outbox_lease_seconds,
    )
    # At a clean stop another instance runs the delivery at once (kill -9: after JOB_LEASE_SECONDS).
    closers.append(lambda: _release_lease(storage, outbox.OUTBOX_JOB_LEASE, outbox_service.instance_id))
    checkin_service = CheckinService(
        storage,
        outbox_service,
        Accounts(storage, ocm_client),
        chargers=chargers,
        write_key_configured=write_key is not None,
        min_interval=timedelta(minutes=settings.checkin_min_interval_minutes),
    )

    watch_poller = WatchPoller(
        chargers,  # type: ignore[arg-type]  # the OCM client and the local source both list changes
        storage,
        instance_id=f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}",
        interval_seconds=settings.watch_poll_seconds,
    )
    closers.append(watch_poller.release)  # at a clean stop another instance polls at once

    return Services(
        settings=settings,
        callbacks=CallbackCodec.for_token(settings.telegram_bot_token.get() if settings.telegram_bot_token else None),
        storage=storage,
        ocm_client=ocm_client,
        chargers=chargers,
        geocoder=geocoder,
        search=search_service,
        checkin=checkin_service,
        closers=closers,
        watch_poller=watch_poller,
        inline=InlineSearch(search_service, geocoder),
        routes=RoutePlanner(router),
        clock=overrides.clock or utc_now,
        photos=PhotoService(storage, outbox_service, checkin_service.submitter_for),
        search_limit=SearchRateLimit(settings.search_rate_limit, clock=time.monotonic),
    )


async def _release_lease(storage: Storage, name: str, holder: str) -> None:
    await storage.release_lease(name, holder)


async def _open_local_source(path: Path) -> LocalSource:
    try:
        return await LocalSource.open(path)
    except (OcmError, OSError, ValueError) as error:
        reason = str(error) if str(path) in str(error) else f"{path}: {error}"
        raise StartupError(
            f"OCM_DATA_FILE cannot be read ({reason}). Point OCM_DATA_FILE at a readable OCM dump"
            " (a JSON array, JSON lines or a folder of POI files), or unset it to use the OCM API"
        ) from error


async def _start_ocm_client(client: OcmClient) -> None:
    """Load reference data; with OCM down and no disk copy, fall back to the bundled copy."""
    try:
        await client.start()
    except OcmError as error:
        log.warning("OCM reference data unavailable (%s); using the bundled copy", type(error).__name__)
        client.use_reference_data(bundled_reference_data())


async def close_services(services: Services) -> None:
    await _close_all(services.closers)


async def _close_all(closers: list[Closer]) -> None:
    for close in reversed(closers):
        try:
            await close()
        except Exception:
            log.exception("closing a service failed")


async def publish_menus(application: BotApplication) -> None:
    """The command menus (private chats; group chats) and the descriptions, in every language.

    The default (no language code) is in ``DEFAULT_LANGUAGE``. Each call is sent only when what it
    sets changed since Telegram last took it (a digest per call in storage), so a restart sends
    nothing; a refusal or Telegram's flood limit is logged, start-up goes on, and what is left is
    sent at the next start. These calls skip the rate limiter's waiting (``runtime.UNTHROTTLED``):
    Telegram may ask for an hour's wait after many changes, and the bot must answer meanwhile.
    """
    services: Services = application.bot_data.services
    sent_value = await services.storage.get_value(MENUS_KEY)
    sent: dict[str, Any] = dict(sent_value) if isinstance(sent_value, dict) else {}
    changed = 0
    try:
        async with asyncio.timeout(MENUS_SECONDS):
            for key, digest, send in _menu_calls(application, services.settings.default_language):
                if sent.get(key) == digest:
                    continue
                await send()
                sent[key] = digest
                changed += 1
    except (NetworkError, RetryAfter, TimeoutError) as error:
        log.warning("could not set every command menu and description (%s); the rest at the next start", error)
    finally:
        if changed:
            await services.storage.set_value(MENUS_KEY, sent)


def _menu_calls(
    application: BotApplication, default_language: str
) -> Iterator[tuple[str, str, Callable[[], Coroutine[Any, Any, bool]]]]:
    bot = application.bot
    default = negotiate_language(default_language)
    targets: list[tuple[str | None, str]] = [(None, default)]
    targets += [(code, lang) for lang in available_languages() if lang != default for code in menu_language_codes(lang)]
    scopes = {PRIVATE_SCOPE: BotCommandScopeDefault(), GROUP_SCOPE: BotCommandScopeAllGroupChats()}
    for code, menu_language in targets:
        menus = bot_menus(translator(menu_language))
        for scope_name, commands in menus.commands.items():
            digest = _digest([command.to_dict() for command in commands])
            yield (
                f"commands|{scope_name}|{code or ''}",
                digest,
                functools.partial(bot.set_my_commands, commands, scope=scopes[scope_name], language_code=code),
            )
        yield (
            f"description|{code or ''}",
            _digest(menus.description),
            functools.partial(bot.set_my_description, menus.description, language_code=code),
        )
        yield (
            f"short_description|{code or ''}",
            _digest(menus.short_description),
            functools.partial(bot.set_my_short_description, menus.short_description, language_code=code),
        )


def _digest(payload: object) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure with its traceback and tell the user, in their language, without details."""
    error = context.error
    if isinstance(error, Forbidden):
        log.info("a user blocked the bot: %s", error)
        return
    if isinstance(error, TimedOut | RetryAfter | NetworkError) and not isinstance(update, Update):
        log.warning("Telegram connection problem: %s", error)
        return
    if isinstance(error, RetryAfter | NetworkError) and not isinstance(error, BadRequest) and not _unsendable(error):
        # Telegram could not be reached after the retries (RetryingRateLimiter): an outage, not a
        # bug, and an apology would not get through either.
        log.warning("Telegram could not take the reply to update %s: %s", _describe(update), type(error).__name__)
        return
    log.error("handler failed for update %s", _describe(update), exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        t = await translator_for(update, context)
        if update.callback_query is not None:
            await update.callback_query.answer()
        await context.bot.send_message(
            update.effective_chat.id, View.plain(unexpected_error_text(t)).text, parse_mode=ParseMode.HTML
        )
    except Exception:
        log.warning("could not send the apology", exc_info=True)


def _unsendable(error: Exception) -> bool:
    """python-telegram-bot reports a request it could not even encode as a NetworkError: our bug, no outage."""
    return isinstance(error.__cause__, UnicodeError)


def _describe(update: object) -> str:
    if isinstance(update, Update):
        return f"#{update.update_id}"
    return type(update).__name__
