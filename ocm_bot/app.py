"""The composition root's second half: builds the python-telegram-bot Application.

``ocm-bot run``, ``ocm-bot webhook``, the offline demo and the end-to-end tests all build the
bot here, so every one of them runs the same handlers. Long-lived clients (HTTP, storage) are
opened in ``post_init`` and closed in ``post_shutdown``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ApplicationBuilder, ContextTypes, PersistenceInput
from telegram.request import BaseRequest

from ocm_bot.context import BotApplication, BotContext, BotData, Services
from ocm_bot.errors import OcmBotError
from ocm_bot.handlers import start
from ocm_bot.handlers.common import translator_for
from ocm_bot.i18n import N_, translator
from ocm_bot.ocm.client import OcmClient, OcmLimits
from ocm_bot.ocm.errors import OcmError
from ocm_bot.ocm.identity import user_agent
from ocm_bot.ocm.local import LocalSource
from ocm_bot.ocm.reference import bundled_reference_data
from ocm_bot.runtime import DeferredStorage, PerChatUpdateProcessor, RetryingRateLimiter
from ocm_bot.settings import Settings
from ocm_bot.storage import Storage, open_storage
from ocm_bot.storage.persistence import StoragePersistence
from ocm_bot.views.callbacks import CallbackCodec
from ocm_bot.views.common import View, unexpected_error_text

log = logging.getLogger(__name__)

USER_AGENT = user_agent()
REFERENCE_CACHE_FILE = "ocm-reference.json"
# How often conversation state is written; a kill -9 loses at most this much of a conversation.
PERSISTENCE_INTERVAL_SECONDS = 1.0

# The command menu Telegram shows; descriptions are translated per language in post_init.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Find chargers near you")),
    ("settings", N_("Power, plugs, radius, units, language")),
    ("favourites", N_("Your saved chargers")),
    ("language", N_("Change the language")),
    ("help", N_("What this bot can do")),
    ("privacy", N_("What the bot stores about you")),
)


def feature_modules() -> list[Any]:
    """Feature modules in the order their handlers are tried (deep links before plain /start)."""
    modules: list[Any] = []
    for name in ("signin", "checkin", "outbox", "settings", "language", "privacy", "search"):
        try:
            module = __import__(f"ocm_bot.handlers.{name}", fromlist=["handlers"])
        except ModuleNotFoundError as error:
            if error.name != f"ocm_bot.handlers.{name}":
                raise
            continue
        modules.append(module)
    return [*modules, start]


def build_application(
    settings: Settings,
    *,
    services: Services | None = None,
    request: BaseRequest | Callable[[], BaseRequest] | None = None,
) -> BotApplication:
    """The bot, wired to the Bot API server at ``settings.telegram_api_url``.

    ``services`` is for callers that open the services themselves (the offline demo);
    otherwise they are opened from ``settings`` in ``post_init``. ``request`` replaces the HTTP
    transport to the Bot API: one request object for all calls (the offline demo answers them in
    memory), or a factory called once for ordinary calls and once for long polling.
    """
    if settings.telegram_bot_token is None:
        raise ValueError("build_application needs TELEGRAM_BOT_TOKEN")
    root = settings.telegram_api_url
    if services is not None:
        prepared = services
        storage = DeferredStorage(lambda: _as_awaitable(prepared.storage))
    else:
        storage = DeferredStorage(lambda: open_storage_from(settings))
    builder: ApplicationBuilder = (
        Application.builder()
        .token(settings.telegram_bot_token.get())
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        .rate_limiter(RetryingRateLimiter(max_retries=2))  # RetryAfter twice; 5xx and network failures too
        .concurrent_updates(PerChatUpdateProcessor())
        .persistence(
            StoragePersistence(
                storage,  # type: ignore[arg-type]
                store_data=PersistenceInput(bot_data=False, callback_data=False),
                update_interval=PERSISTENCE_INTERVAL_SECONDS,
            )
        )
        .post_init(_post_init(settings, services, storage))
        .post_shutdown(_post_shutdown(storage if services is None else None))
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
    """Conversations first, then every feature's handlers and the catch-alls, then the error handler.

    python-telegram-bot runs the first matching handler of each group. Conversations and awaited
    input (``priority_handlers``) go in negative groups, one per module in module order, and stop
    the update when they used it, so a typed comment or password never reaches the search as a
    place. Everything else shares group 0, so a catch-all cannot answer "unknown command" to a
    command a feature already handled.
    """
    modules = feature_modules()
    for position, module in enumerate(modules, start=1):
        # One group per module: a module's catch-all for awaited text must not hide another's
        # conversation (check-in comes first, so a typed comment is never an operator name).
        group = position - len(modules) - 1
        application.add_handlers(getattr(module, "priority_handlers", list)(), group=group)
    for module in modules:
        application.add_handlers(module.handlers())
    application.add_handlers(start.fallback_handlers())
    for module in modules:
        for job in getattr(module, "jobs", list)():
            job(application)
    if isinstance(application.persistence, StoragePersistence):
        for module in modules:
            for name, states in getattr(module, "restored_conversations", dict)().items():
                application.persistence.restore_conversation(name, states)
    application.add_error_handler(on_error)


def _post_init(settings: Settings, prepared: Services | None, storage: DeferredStorage):
    async def post_init(application: BotApplication) -> None:
        services = prepared or await open_services(settings, storage=await storage.get())
        if prepared is None:
            services.closers.insert(0, storage.close)
        application.bot_data.services = services
        await _set_commands(application)

    return post_init


def _post_shutdown(storage: DeferredStorage | None):
    async def post_shutdown(application: BotApplication) -> None:
        services: Services | None = getattr(application.bot_data, "services", None)
        if services is not None:
            await close_services(services)
        elif storage is not None:
            # The start failed after the persistence opened the storage (python-telegram-bot
            # still shuts down after a failed post_init): close it, or its thread keeps the
            # process alive.
            await storage.close()

    return post_shutdown


async def _as_awaitable(value: Any) -> Any:
    return value


async def open_storage_from(settings: Settings) -> Storage:
    return await open_storage(
        settings.database_url.get() if settings.database_url else None,
        data_dir=settings.data_dir,
        secret=settings.storage_secret.get() if settings.storage_secret else None,
    )


class StartupError(OcmBotError):
    """A service the bot needs cannot be opened; the message tells the operator what to do."""


async def open_services(settings: Settings, *, storage: Storage | None = None) -> Services:
    """Open storage, the OCM source and every feature's services from ``settings``.

    When one of them fails, those already opened are closed again before the error propagates.
    """
    services = Services(
        settings=settings,
        callbacks=CallbackCodec.for_token(settings.telegram_bot_token.get() if settings.telegram_bot_token else None),
    )
    try:
        await _open_services(settings, services, storage)
    except BaseException:
        await close_services(services)
        raise
    return services


async def _open_services(settings: Settings, services: Services, storage: Storage | None) -> None:
    if storage is None:
        storage = await open_storage_from(settings)
        services.closers.append(storage.close)
    services.storage = storage
    ocm_client = OcmClient.create(
        base_url=settings.ocm_api_url,
        api_key=settings.ocm_api_key.get() if settings.ocm_api_key else None,
        reference_cache_path=settings.data_dir / REFERENCE_CACHE_FILE,
        limits=OcmLimits(requests_per_minute=settings.ocm_requests_per_minute),
        user_agent=USER_AGENT,
    )
    services.closers.append(ocm_client.aclose)
    await _start_ocm_client(ocm_client)
    services.ocm_client = ocm_client
    services.chargers = ocm_client
    if settings.ocm_data_file is not None:
        try:
            local = await LocalSource.open(settings.ocm_data_file)
        except (OcmError, OSError, ValueError) as error:
            reason = str(error) if str(settings.ocm_data_file) in str(error) else f"{settings.ocm_data_file}: {error}"
            raise StartupError(
                f"OCM_DATA_FILE cannot be read ({reason}). Point OCM_DATA_FILE at a readable OCM dump"
                " (a JSON array, JSON lines or a folder of POI files), or unset it to use the OCM API"
            ) from error
        services.closers.append(local.aclose)
        services.chargers = local
    for module in feature_modules():
        setup = getattr(module, "setup", None)
        if setup is not None:
            await setup(services)


async def _start_ocm_client(client: OcmClient) -> None:
    """Load reference data; with OCM down and no disk copy, fall back to the bundled copy."""
    try:
        await client.start()
    except OcmError as error:
        log.warning("OCM reference data unavailable (%s); using the bundled copy", type(error).__name__)
        client.use_reference_data(bundled_reference_data())


async def close_services(services: Services) -> None:
    for close in reversed(services.closers):
        try:
            await close()
        except Exception:
            log.exception("closing a service failed")


async def _set_commands(application: BotApplication) -> None:
    from ocm_bot.i18n import available_languages

    try:
        for language in available_languages():
            t = translator(language)
            commands = [BotCommand(name, t.gettext(description)) for name, description in COMMANDS]
            code = None if language == "en" else language.split("_")[0]
            await application.bot.set_my_commands(commands, language_code=code)
    except (NetworkError, RetryAfter) as error:
        log.warning("could not set the command menu: %s", error)


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure with its traceback and tell the user, in their language, without details."""
    error = context.error
    if isinstance(error, Forbidden):
        log.info("a user blocked the bot: %s", error)
        return
    if isinstance(error, TimedOut | RetryAfter | NetworkError) and not isinstance(update, Update):
        log.warning("Telegram connection problem: %s", error)
        return
    if isinstance(error, RetryAfter | NetworkError) and not isinstance(error, BadRequest):
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


def _describe(update: object) -> str:
    if isinstance(update, Update):
        return f"#{update.update_id}"
    return type(update).__name__
