"""Configuration: one frozen object built once from the environment (and an optional ``.env``).

Nothing else in the bot reads ``os.environ``. Secrets are :class:`Secret` values whose repr and
str are masked, so a settings object can be logged safely.

Example::

    settings = Settings.from_env(os.environ)
    settings.ocm_api_url         # "https://api.openchargemap.io/v3"
    settings.telegram_bot_token  # Secret('***')
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

from ocm_bot.errors import OcmBotError

DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org"
DEFAULT_OCM_API_URL = "https://api.openchargemap.io/v3"
DEFAULT_NOMINATIM_URL = "https://nominatim.openstreetmap.org"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_YES = ("1", "true", "yes", "on")
_NO = ("0", "false", "no", "off")
LOG_FORMATS = ("text", "json")

_TOKEN_PATTERN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{8,}$")
_GUID_PATTERN = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")


@dataclass(frozen=True, slots=True)
class Secret:
    """A string that never shows itself in a repr, str or log line."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def get(self) -> str:
        return self.value


class SettingsError(OcmBotError):
    """The environment is not usable; ``problems`` says each thing to fix."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Settings:
    telegram_bot_token: Secret | None = None
    telegram_api_url: str = DEFAULT_TELEGRAM_API_URL
    ocm_api_url: str = DEFAULT_OCM_API_URL
    ocm_api_key: Secret | None = None
    ocm_write_key: Secret | None = None
    ocm_data_file: Path | None = None
    nominatim_url: str = DEFAULT_NOMINATIM_URL
    router_url: str | None = None
    database_url: Secret | None = None
    data_dir: Path = Path("data")
    storage_secret: Secret | None = None
    webhook_url: str | None = None
    webhook_secret: Secret | None = None
    webhook_listen: str = "0.0.0.0"
    port: int = 8443
    take_over_webhook: bool = False
    log_level: str = "INFO"
    log_format: str = "text"
    metrics_port: int | None = None
    default_language: str = "en"
    contact: str | None = field(default=None, metadata={"env": "BOT_CONTACT"})
    checkin_min_interval_minutes: int = 10
    ocm_requests_per_minute: int = 60
    outbox_poll_seconds: int = 10
    outbox_lease_seconds: int = 90
    watch_poll_seconds: int = 300
    job_lease_seconds: int = 60
    nominatim_requests_per_second: int = 1
    search_rate_limit: int = 20

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, dotenv: Path | None = None) -> Settings:
        """Build settings from ``env`` (values in ``dotenv`` fill what ``env`` lacks)."""
        merged = dict(_read_dotenv(dotenv)) if dotenv else {}
        merged.update({key: value for key, value in env.items() if value != ""})
        problems: list[str] = []

        def text(name: str) -> str | None:
            value = merged.get(name)
            return value.strip() if value and value.strip() else None

        def url(name: str, default: str | None) -> str | None:
            value = text(name)
            if value is None:
                return default
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                problems.append(f"{name} must be an http(s) URL, like {default or 'https://example.org'}")
                return default
            return value.rstrip("/")

        def secret(name: str) -> Secret | None:
            value = text(name)
            return Secret(value) if value else None

        token = secret("TELEGRAM_BOT_TOKEN")
        if token and not _TOKEN_PATTERN.match(token.get()):
            problems.append(
                "TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, then letters); "
                "copy it again from @BotFather"
            )
        api_key = secret("OCM_API_KEY")
        if api_key and not _GUID_PATTERN.match(api_key.get()):
            problems.append(
                "OCM_API_KEY must be the API key (a GUID) from https://openchargemap.org/site/profile/applications"
            )
        port_text = text("PORT") or "8443"
        port = 8443
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            problems.append(f"PORT must be a number from 1 to 65535 (got {port_text!r})")
        else:
            port = int(port_text)
        log_level = (text("LOG_LEVEL") or "INFO").upper()
        if log_level not in LOG_LEVELS:
            problems.append(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
            log_level = "INFO"
        log_format = (text("LOG_FORMAT") or "text").lower()
        if log_format not in LOG_FORMATS:
            problems.append(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
            log_format = "text"
        metrics_port: int | None = None
        if (metrics_port_text := text("METRICS_PORT")) is not None:
            if not metrics_port_text.isdigit() or not 0 < int(metrics_port_text) < 65536:
                problems.append(f"METRICS_PORT must be a number from 1 to 65535 (got {metrics_port_text!r})")
            else:
                metrics_port = int(metrics_port_text)
        database_url = secret("DATABASE_URL")
        if database_url and not re.match(r"^(sqlite|postgres|postgresql)(\+\w+)?://", database_url.get()):
            problems.append("DATABASE_URL must start with postgresql:// or sqlite:///")
        data_file = text("OCM_DATA_FILE")
        if data_file and not Path(data_file).exists():
            problems.append(f"OCM_DATA_FILE points to {data_file}, which does not exist")
        webhook_url = url("WEBHOOK_URL", None)
        if webhook_url and not (webhook_url.startswith("https://") or _is_loopback(webhook_url)):
            problems.append("WEBHOOK_URL must be an https:// URL that Telegram can reach")
        webhook_secret = secret("WEBHOOK_SECRET")
        if webhook_secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", webhook_secret.get()):
            problems.append("WEBHOOK_SECRET may only contain A-Z, a-z, 0-9, _ and - (1 to 256 characters)")

        def whole_number(name: str, default: int, low: int, high: int, meaning: str) -> int:
            value = text(name)
            if value is None:
                return default
            if not value.isdigit() or not low <= int(value) <= high:
                problems.append(f"{name} must be a whole number from {low} to {high} ({meaning})")
                return default
            return int(value)

        checkin_interval = whole_number(
            "CHECKIN_MIN_INTERVAL_MINUTES", 10, 0, 1440, "minutes between two check-ins of a driver at one charger"
        )
        ocm_rate = whole_number("OCM_REQUESTS_PER_MINUTE", 60, 1, 600, "this instance's cap on OCM requests")
        outbox_poll = whole_number("OUTBOX_POLL_SECONDS", 10, 1, 3600, "how often queued check-ins are retried")
        outbox_lease = whole_number(
            "OUTBOX_LEASE_SECONDS", 90, 1, 3600, "how long an instance may take to post one check-in"
        )
        watch_poll = whole_number(
            "WATCH_POLL_SECONDS", 300, 1, 86400, "how often OCM is asked what changed in watched areas"
        )
        take_over = (text("TAKE_OVER_WEBHOOK") or "0").lower()
        if take_over not in _YES + _NO:
            problems.append(
                "TAKE_OVER_WEBHOOK must be 1 (delete a webhook and poll) or 0 (refuse to poll while one is set)"
            )
        job_lease = whole_number(
            "JOB_LEASE_SECONDS",
            60,
            1,
            3600,
            "how long the instance running the periodic work keeps it after its last sign of life",
        )
        nominatim_rate = whole_number(
            "NOMINATIM_REQUESTS_PER_SECOND", 1, 1, 1000, "requests per second to NOMINATIM_URL; 1 for the public server"
        )
        search_rate = whole_number("SEARCH_RATE_LIMIT", 20, 0, 10000, "searches per driver per minute; 0 for no limit")
        language = (text("DEFAULT_LANGUAGE") or "en").lower()
        if not re.fullmatch(r"[a-z]{2,3}([_-][a-z0-9]{2,8})?", language):
            problems.append("DEFAULT_LANGUAGE must be a language code like en, de or pt-br")
            language = "en"

        settings = cls(
            telegram_bot_token=token,
            telegram_api_url=url("TELEGRAM_API_URL", DEFAULT_TELEGRAM_API_URL) or DEFAULT_TELEGRAM_API_URL,
            ocm_api_url=url("OCM_API_URL", DEFAULT_OCM_API_URL) or DEFAULT_OCM_API_URL,
            ocm_api_key=api_key,
            ocm_write_key=secret("OCM_WRITE_KEY"),
            ocm_data_file=Path(data_file) if data_file else None,
            nominatim_url=url("NOMINATIM_URL", DEFAULT_NOMINATIM_URL) or DEFAULT_NOMINATIM_URL,
            router_url=url("ROUTER_URL", None),
            database_url=database_url,
            data_dir=Path(text("DATA_DIR") or "data"),
            storage_secret=secret("STORAGE_SECRET"),
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            webhook_listen=text("WEBHOOK_LISTEN") or "0.0.0.0",
            port=port,
            take_over_webhook=take_over in _YES,
            log_level=log_level,
            log_format=log_format,
            metrics_port=metrics_port,
            default_language=language,
            contact=text("BOT_CONTACT"),
            checkin_min_interval_minutes=checkin_interval,
            ocm_requests_per_minute=ocm_rate,
            outbox_poll_seconds=outbox_poll,
            outbox_lease_seconds=outbox_lease,
            watch_poll_seconds=watch_poll,
            job_lease_seconds=job_lease,
            nominatim_requests_per_second=nominatim_rate,
            search_rate_limit=search_rate,
        )
        if problems:
            raise SettingsError(problems)
        return settings

    def masked(self) -> dict[str, str]:
        """Every setting as text under its environment variable's name, secrets masked (for ``ocm-bot check``)."""
        shown: dict[str, str] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            name = environment_name(item.name)
            if isinstance(value, Secret):
                shown[name] = "set (hidden)"
            elif value is None:
                shown[name] = "not set"
            else:
                shown[name] = str(value)
        return shown


def environment_name(setting: str) -> str:
    """The environment variable an operator sets for a :class:`Settings` field ("contact" -> "BOT_CONTACT")."""
    item = next(item for item in fields(Settings) if item.name == setting)
    return item.metadata.get("env", setting.upper())


def _is_loopback(url: str) -> bool:
    """A self-hosted Bot API server on the same machine may deliver to plain http."""
    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")


def _read_dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {key: value for key, value in dotenv_values(path).items() if value is not None}
