"""The ``ocm-bot`` command: ``run`` (long polling), ``webhook``, ``check`` and ``demo``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ocm_bot import __version__
from ocm_bot.settings import Settings, SettingsError

log = logging.getLogger(__name__)

NO_TOKEN_HELP = """\
No TELEGRAM_BOT_TOKEN is set, so the bot cannot connect to Telegram.

To run it for real, set these (in the environment or in a .env file in this folder):
  TELEGRAM_BOT_TOKEN  the token @BotFather gives you: open https://t.me/BotFather, send /newbot
  OCM_API_KEY         your Open Charge Map API key: sign in at https://openchargemap.org,
                      then "my profile" > "my apps" (https://openchargemap.org/site/profile/applications)
"""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    try:
        settings = Settings.from_env(os.environ, dotenv=Path(args.env_file))
    except SettingsError as error:
        print("The configuration has problems:", file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
        print("Fix them in the environment or in .env, then start again.", file=sys.stderr)
        return 2
    from ocm_bot.logging_setup import configure_logging

    configure_logging(settings.log_level, _secret_values(settings), log_format=settings.log_format)
    return args.handler(settings, args)


# What each command reads (README's Configuration section says what each variable means).
_BOT_VARIABLES = """\
needs:
  TELEGRAM_BOT_TOKEN            the bot's token from @BotFather
  OCM_API_KEY                   your Open Charge Map API key (or OCM_DATA_FILE, a local copy of the data)
optional:
  TELEGRAM_API_URL, OCM_API_URL, NOMINATIM_URL, ROUTER_URL    the services' addresses
  OCM_WRITE_KEY, OCM_DATA_FILE, DATABASE_URL, DATA_DIR, STORAGE_SECRET, DEFAULT_LANGUAGE, BOT_CONTACT,
  CHECKIN_MIN_INTERVAL_MINUTES, OCM_REQUESTS_PER_MINUTE, OUTBOX_POLL_SECONDS, OUTBOX_LEASE_SECONDS,
  WATCH_POLL_SECONDS, JOB_LEASE_SECONDS, SEARCH_RATE_LIMIT, NOMINATIM_REQUESTS_PER_SECOND, LOG_LEVEL, LOG_FORMAT,
  TAKE_OVER_WEBHOOK (run: 1 deletes a webhook and polls instead of refusing)
  METRICS_PORT                  /healthz and /metrics on this port (webhook mode also serves them on PORT)"""

_READS = "Variables come from the environment, or else from the --env-file (default: .env in this folder).\n\n"

_COMMANDS = {
    "run": (
        "run the bot with long polling (the offline demo when no token is set)",
        "Run the bot with long polling: it asks Telegram for new messages, so it needs no public URL.\n"
        "Run one instance per bot token. Without TELEGRAM_BOT_TOKEN it starts the offline demo instead.\n"
        "While a webhook is set for the bot it refuses to poll (the webhook gets the updates), unless\n"
        "--take-over (or TAKE_OVER_WEBHOOK=1) says to delete the webhook, keeping its pending updates.",
        f"{_READS}{_BOT_VARIABLES}",
    ),
    "webhook": (
        "run the bot behind a webhook (WEBHOOK_URL, PORT)",
        "Run the bot behind a webhook: Telegram posts each update to WEBHOOK_URL, which your HTTPS\n"
        "proxy forwards to WEBHOOK_LISTEN:PORT on the same path (WEBHOOK_URL's whole path, / when it\n"
        "has none). Any number of instances can share one PostgreSQL DATABASE_URL.",
        f"{_READS}"
        "needs:\n"
        "  WEBHOOK_URL                   the public https:// URL Telegram posts to\n"
        "optional:\n"
        "  WEBHOOK_SECRET                checked against Telegram's X-Telegram-Bot-Api-Secret-Token header\n"
        "                                (default: one derived from TELEGRAM_BOT_TOKEN, the same on every instance)\n"
        "  WEBHOOK_LISTEN                the address to listen on (default 0.0.0.0)\n"
        "  PORT                          the port to listen on (default 8443)\n"
        f"and what `ocm-bot run` reads:\n{_BOT_VARIABLES}",
    ),
    "check": (
        "validate the configuration and check that Telegram, OCM, Nominatim, the database and the router answer",
        "Validate the configuration, show every setting under its variable's name (secrets hidden) and\n"
        "check that Telegram accepts the token, Open Charge Map the API key, that Nominatim answers,\n"
        "that the database opens and, when ROUTER_URL is set, that the router answers a route.\n"
        "Exits with 1 when a service fails, 2 when the configuration is invalid. The router is optional:\n"
        "its failure is shown but leaves the exit status at 0 (/route then draws great-circle lines).",
        f"{_READS}It reads what `ocm-bot webhook` reads (WEBHOOK_URL, WEBHOOK_SECRET, WEBHOOK_LISTEN, PORT)\n"
        f"and what `ocm-bot run` reads:\n{_BOT_VARIABLES}",
    ),
    "demo": (
        "chat with the bot in this terminal, on bundled offline data",
        "Chat with the real bot in this terminal, on Open Charge Map data bundled with it: no token, no\n"
        "key, no network. Type /start, a place name such as Portland, or a button's number.",
        "reads:\n"
        "  LC_ALL, LC_MESSAGES, LANG     the language it answers in (as your terminal's)\n"
        "  NO_COLOR, TERM                NO_COLOR or TERM=dumb turn colours off",
    ),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocm-bot",
        description="A Telegram bot that finds EV chargers with Open Charge Map.",
        epilog="`ocm-bot COMMAND --help` says what a command does and which variables it reads.",
    )
    parser.add_argument("--version", action="version", version=f"ocm-bot {__version__}")
    parser.add_argument("--env-file", default=".env", help="a .env file to read settings from (default: .env)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    handlers = {"run": _run, "webhook": _webhook, "check": _check, "demo": _demo}
    for name, (summary, description, variables) in _COMMANDS.items():
        command = commands.add_parser(
            name,
            help=summary,
            description=description,
            epilog=variables,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.set_defaults(handler=handlers[name])
        if name == "run":
            command.add_argument(
                "--take-over",
                action="store_true",
                help="when a webhook is set, delete it (keeping its pending updates) and poll instead of refusing",
            )
        if name == "demo":
            command.add_argument("--no-color", action="store_true", help="plain text, no colours")
            command.set_defaults(no_color=False)
    return parser


def _secret_values(settings: Settings) -> list[str]:
    secrets = [
        settings.telegram_bot_token,
        settings.ocm_api_key,
        settings.ocm_write_key,
        settings.database_url,
        settings.storage_secret,
        settings.webhook_secret,
    ]
    values = [secret.get() for secret in secrets if secret is not None]
    derived = webhook_secret(settings)
    if derived is not None:
        values.append(derived)
    if settings.database_url is not None:
        # A driver's error message may quote the password alone.
        password = urlsplit(settings.database_url.get()).password
        if password:
            values.append(unquote(password))
            values.append(password)
    return values


def _run(settings: Settings, args: argparse.Namespace) -> int:
    if settings.telegram_bot_token is None:
        print(NO_TOKEN_HELP)
        print("Meanwhile, here is the offline demo on bundled data:\n")
        return _demo(settings, argparse.Namespace(no_color=False))
    if not _can_search(settings):
        return 2
    from ocm_bot.app import build_application
    from ocm_bot.delivery import guard_polling, handled_update_types
    from ocm_bot.runtime import run_as_service

    application = build_application(settings)
    run_as_service(application, settings, webhook=False)
    guard_polling(application, take_over=args.take_over or settings.take_over_webhook)
    return _serve(
        settings,
        lambda: application.run_polling(allowed_updates=handled_update_types(application), drop_pending_updates=False),
    )


def _can_search(settings: Settings) -> bool:
    """OCM answers 403 to every request without a key, so the bot would be useless: say so now."""
    if settings.ocm_api_key is not None or settings.ocm_data_file is not None:
        return True
    print(
        "OCM_API_KEY is not set: Open Charge Map refuses requests without an API key.\n"
        'Get one at https://openchargemap.org/site/profile/applications ("my apps") and set OCM_API_KEY,\n'
        "or point OCM_DATA_FILE at a local copy of the OCM data.",
        file=sys.stderr,
    )
    return False


def _webhook(settings: Settings, args: argparse.Namespace) -> int:
    problems = []
    if settings.telegram_bot_token is None:
        problems.append("TELEGRAM_BOT_TOKEN is not set")
    if settings.webhook_url is None:
        problems.append("WEBHOOK_URL is not set (the public https:// URL Telegram should post to)")
    if problems:
        print("ocm-bot webhook cannot start:", *(f"  - {p}" for p in problems), sep="\n", file=sys.stderr)
        return 2
    if not _can_search(settings):
        return 2
    from ocm_bot.app import build_application
    from ocm_bot.delivery import WEBHOOK_SECRET_HELP, handled_update_types
    from ocm_bot.runtime import run_as_service

    application = build_application(settings)
    run_as_service(application, settings, webhook=True)
    if settings.webhook_secret is None:
        log.info(WEBHOOK_SECRET_HELP)
    return _serve(
        settings,
        lambda: application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.port,
            url_path=webhook_path(settings.webhook_url or ""),
            webhook_url=settings.webhook_url,
            secret_token=webhook_secret(settings),
            # Updates that arrived while no instance ran (a deploy, a restart) are delivered, not dropped.
            drop_pending_updates=False,
            allowed_updates=handled_update_types(application),
        ),
    )


def webhook_secret(settings: Settings) -> str | None:
    """WEBHOOK_SECRET, or else the secret derived from the bot token (the same on every instance)."""
    from ocm_bot.delivery import derived_webhook_secret

    if settings.webhook_secret is not None:
        return settings.webhook_secret.get()
    if settings.telegram_bot_token is not None:
        return derived_webhook_secret(settings.telegram_bot_token.get())
    return None


def _serve(settings: Settings, run: Callable[[], None]) -> int:
    """Run the bot; a start that fails ends with one line for the operator and exit status 1.

    The line says what is wrong and what to do, never a secret; python-telegram-bot's own report
    of the same failure (a traceback, which names the token) is held back. The traceback is
    logged at DEBUG level, secrets masked.
    """
    noise = _BootstrapNoise()
    logging.getLogger("telegram.ext").addFilter(noise)
    try:
        run()
    except Exception as error:
        log.debug("the start failed", exc_info=error)
        print(f"ocm-bot cannot start: {_masked(settings, start_failure(error, settings))}", file=sys.stderr)
        return 1
    finally:
        logging.getLogger("telegram.ext").removeFilter(noise)
    return 0


class _BootstrapNoise(logging.Filter):
    """python-telegram-bot logs a failed start with its traceback before raising it: we report it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Network Retry Loop (Bootstrap")


def start_failure(error: BaseException, settings: Settings) -> str:
    """What went wrong at start and what to do about it, in one line (secrets left out)."""
    from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError

    from ocm_bot.app import StartupError
    from ocm_bot.storage import StorageError, StorageUnavailable

    if isinstance(error, InvalidToken):
        return (
            "Telegram refused TELEGRAM_BOT_TOKEN (401 Unauthorized). Copy the token again from @BotFather"
            " (/mybots > your bot > API Token) and set TELEGRAM_BOT_TOKEN"
        )
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        return (
            f"Telegram did not answer at {settings.telegram_api_url} ({_first_line(error.message)}). Check this"
            " machine's network connection (and TELEGRAM_API_URL if you set it), then start again"
        )
    if isinstance(error, TelegramError):
        return (
            f"Telegram answered: {_first_line(error.message)}. Check WEBHOOK_URL (and TELEGRAM_BOT_TOKEN),"
            " then start again"
        )
    if isinstance(error, StartupError):
        return str(error)
    if isinstance(error, StorageUnavailable):
        return (
            f"the database {_database_name(settings)} cannot be reached ({_database_reason(error)}). Check that"
            " it is running and that DATABASE_URL (or DATA_DIR) is right, then start again"
        )
    if isinstance(error, StorageError):
        return f"the database {_database_name(settings)} cannot be used: {_first_line(str(error))}"
    if isinstance(error, OSError) and error.filename:
        return (
            f"{error.strerror or 'cannot use'} {error.filename}. Make sure this user may write there (DATA_DIR,"
            " DATABASE_URL), then start again"
        )
    if isinstance(error, OSError):
        return (
            f"cannot listen on {settings.webhook_listen}:{settings.port} for the webhook"
            f" ({_first_line(error.strerror or str(error))}). Set PORT (or WEBHOOK_LISTEN) to a free port"
            " on this machine, then start again"
        )
    return (
        f"an unexpected {type(error).__name__}: {_first_line(str(error))}. Run again with LOG_LEVEL=DEBUG"
        " for the details"
    )


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0].strip() if text.strip() else "no details"


def _database_name(settings: Settings) -> str:
    """The database as an operator would name it: scheme, host and port, or the SQLite file; no password."""
    from ocm_bot.storage import SQLITE_FILE_NAME

    if settings.database_url is None:
        return f"file {settings.data_dir / SQLITE_FILE_NAME}"
    parts = urlsplit(settings.database_url.get())
    if parts.scheme.startswith("sqlite"):
        return f"file {parts.path.removeprefix('/')}"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{parts.hostname or 'localhost'}{port}{parts.path}"


def _database_reason(error: BaseException) -> str:
    cause = error.__cause__ or error
    text = _first_line(str(cause))
    # psycopg: 'connection failed: connection to server at "127.0.0.1", port 5432 failed: Connection refused'
    return text.rsplit("failed: ", 1)[-1] if "failed: " in text else text


def _masked(settings: Settings, line: str) -> str:
    from ocm_bot.logging_setup import SecretMaskingFilter

    return SecretMaskingFilter(_secret_values(settings)).mask(line)


def webhook_path(webhook_url: str) -> str:
    """The path the webhook listens on: WEBHOOK_URL's whole path, "/" when it has none.

    A reverse proxy forwards https://host/telegram/hook to http://WEBHOOK_LISTEN:PORT/telegram/hook,
    so the bot must answer there (the query string, if any, is not part of the path). The path is a
    pattern for python-telegram-bot's web server, so it is escaped.
    """
    return re.escape(urlsplit(webhook_url).path or "/")


def _check(settings: Settings, args: argparse.Namespace) -> int:
    from ocm_bot.health import check_services

    print("Configuration:")
    for name, value in settings.masked().items():
        print(f"  {name:<22} {value}")
    print("\nServices:")
    results = asyncio.run(check_services(settings))
    for result in results:
        mark = "--  " if not result.configured else "ok  " if result.ok else "FAIL"
        print(f"  [{mark}] {result.service:<10} {result.detail}")
    # An optional service (the router) that fails is shown, but the bot runs without it: exit 0.
    return 0 if all(result.ok or result.optional for result in results) else 1


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from ocm_bot.demo.terminal import run_demo, wants_color

    return run_demo(
        settings,
        color=wants_color(not args.no_color, sys.stdout, os.environ),
        language=_terminal_language(os.environ),
    )


def _terminal_language(environ: Mapping[str, str]) -> str:
    """The terminal user's language as Telegram would send it ("de_DE.UTF-8" -> "de-de")."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "").split(".")[0]
        if value and value not in ("C", "POSIX"):
            return value.replace("_", "-").lower()
    return "en"
