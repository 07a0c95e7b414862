"""Logging that never shows a secret: known secret values are masked in every record."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime

_BOT_PATH = re.compile(r"/bot\d+:[A-Za-z0-9_-]+")


class SecretMaskingFilter(logging.Filter):
    """Replaces secret values (and any /bot<token> URL path) with *** in formatted messages."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [value for value in secrets if value and len(value) >= 6]

    def mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return _BOT_PATH.sub("/bot***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        # A traceback carries exception messages too (python-telegram-bot's InvalidToken names the
        # token); formatters reuse ``exc_text`` once it is set, so the masked one is what is written.
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


_TRACEBACKS = logging.Formatter()


class NonJsonAnswerIsAWarning(logging.Filter):
    """python-telegram-bot logs a non-JSON answer from the Bot API (the HTML error page of Telegram's
    front end during a 502) as an ERROR with a traceback. The bot retries those calls and warns when
    it gives up (``runtime.RetryingRateLimiter``), so here it is one warning line with the page cut short."""

    PAGE_CHARS = 120

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and str(record.msg).startswith("Can not load invalid JSON data"):
            # python-telegram-bot passes the page as the one positional argument.
            page = " ".join(str(record.args[0] if isinstance(record.args, tuple) and record.args else "").split())
            record.msg, record.args = "Telegram answered a page that is not JSON: %s", (page[: self.PAGE_CHARS],)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (``LOG_FORMAT=json``): time, level, logger, message, and the
    traceback (masked like the message) as one string, so a log collector never splits an event."""

    def format(self, record: logging.LogRecord) -> str:
        event = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            event["traceback"] = record.exc_text
        if record.stack_info:
            event["stack"] = record.stack_info
        return json.dumps(event, ensure_ascii=False)


class OneLineFormatter(logging.Formatter):
    """The text format, one line per event: a traceback's lines are joined with " | "."""

    def format(self, record: logging.LogRecord) -> str:
        return " | ".join(super().format(record).splitlines())


def configure_logging(level: str, secrets: Iterable[str], *, log_format: str = "text") -> None:
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(OneLineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretMaskingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # Libraries' DEBUG output carries what users typed (python-telegram-bot's updates, aiosqlite's and
    # psycopg's SQL parameters: a check-in comment, a password sent to /login), so LOG_LEVEL=DEBUG
    # applies to our own code only; the libraries stay at INFO or above.
    requested = logging.getLevelName(level) if isinstance(level, str) else level
    root.setLevel(max(logging.INFO, requested))
    logging.getLogger("ocm_bot").setLevel(requested)
    # httpx logs every request URL at INFO, and Telegram URLs carry the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("telegram").setLevel(max(logging.INFO, root.level))
    ptb_requests = logging.getLogger("telegram.request.BaseRequest")
    if not any(isinstance(f, NonJsonAnswerIsAWarning) for f in ptb_requests.filters):
        ptb_requests.addFilter(NonJsonAnswerIsAWarning())
