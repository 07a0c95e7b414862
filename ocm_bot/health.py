"""``ocm-bot check``: does each service the bot needs answer, with these settings?"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from ocm_bot.ocm.identity import user_agent
from ocm_bot.routing import NoRoute, Router, RouterDown
from ocm_bot.settings import Settings
from ocm_bot.storage import open_storage
from ocm_bot.storage.base import StorageError

USER_AGENT = user_agent(purpose="configuration check")
TIMEOUT = httpx.Timeout(10.0)


ROUTER_TIMEOUT_SECONDS = 5.0
ROUTER_PROBE = ((52.517033, 13.388798), (52.529407, 13.397634))
"""Two points in central Berlin (OSRM's own example): any OSRM server answers a route between them,
or, when it holds another region's roads only, "NoSegment", which still proves it is an OSRM server."""


@dataclass(frozen=True)
class CheckResult:
    service: str
    ok: bool
    detail: str
    optional: bool = False
    """The bot works without this service (with less): a failure is shown, the exit status stays 0."""
    configured: bool = True
    """False: an optional service the settings do not name (nothing was asked)."""


async def check_services(settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> list[CheckResult]:
    async with httpx.AsyncClient(timeout=TIMEOUT, headers={"User-Agent": USER_AGENT}, transport=transport) as http:
        return list(
            await asyncio.gather(
                _check_telegram(http, settings),
                _check_ocm(http, settings),
                _check_nominatim(http, settings),
                _check_storage(settings),
                _check_router(http, settings),
            )
        )


async def _check_telegram(http: httpx.AsyncClient, settings: Settings) -> CheckResult:
    if settings.telegram_bot_token is None:
        return CheckResult("Telegram", False, "TELEGRAM_BOT_TOKEN is not set (get one from @BotFather)")
    url = f"{settings.telegram_api_url}/bot{settings.telegram_bot_token.get()}/getMe"
    try:
        response = await http.get(url)
        body = response.json()
    except (httpx.HTTPError, ValueError) as error:
        return CheckResult("Telegram", False, f"{settings.telegram_api_url} did not answer ({type(error).__name__})")
    if not isinstance(body, dict):
        return CheckResult("Telegram", False, f"{settings.telegram_api_url} did not answer like a Bot API server")
    if response.status_code == 401 or not body.get("ok"):
        return CheckResult("Telegram", False, f"the token was refused: {body.get('description', response.status_code)}")
    return CheckResult("Telegram", True, f"signed in as @{body['result'].get('username')}")


async def _check_ocm(http: httpx.AsyncClient, settings: Settings) -> CheckResult:
    if settings.ocm_data_file is not None:
        return CheckResult("OCM", True, f"local data file {settings.ocm_data_file}")
    if settings.ocm_api_key is None:
        # `ocm-bot run` refuses to start without one: OCM answers 403 to every request.
        return CheckResult(
            "OCM",
            False,
            "OCM_API_KEY is not set: get a key at https://openchargemap.org/site/profile/applications"
            " or point OCM_DATA_FILE at a local copy of the data",
        )
    headers = {"X-API-Key": settings.ocm_api_key.get()}
    params = {"maxresults": "1", "compact": "true", "verbose": "false"}
    try:
        response = await http.get(f"{settings.ocm_api_url}/poi", params=params, headers=headers)
    except httpx.HTTPError as error:
        return CheckResult("OCM", False, f"{settings.ocm_api_url} did not answer ({type(error).__name__})")
    if response.status_code == 403:
        return CheckResult("OCM", False, "the API key was refused: set OCM_API_KEY to your key from openchargemap.org")
    if response.status_code != 200:
        return CheckResult("OCM", False, f"{settings.ocm_api_url} answered HTTP {response.status_code}")
    return CheckResult("OCM", True, f"{settings.ocm_api_url} answers")


async def _check_nominatim(http: httpx.AsyncClient, settings: Settings) -> CheckResult:
    params = {"q": "London", "format": "jsonv2", "limit": "1"}
    try:
        response = await http.get(f"{settings.nominatim_url}/search", params=params)
        response.json()
    except (httpx.HTTPError, ValueError) as error:
        return CheckResult("Nominatim", False, f"{settings.nominatim_url} did not answer ({type(error).__name__})")
    if response.status_code != 200:
        return CheckResult("Nominatim", False, f"{settings.nominatim_url} answered HTTP {response.status_code}")
    return CheckResult("Nominatim", True, f"{settings.nominatim_url} answers")


async def _check_router(http: httpx.AsyncClient, settings: Settings) -> CheckResult:
    """One OSRM ``route`` request between two fixed points, with a short timeout (``ROUTER_URL`` is optional)."""
    fallback = "/route draws great-circle lines without it"
    if not settings.router_url:
        return CheckResult("Router", True, f"ROUTER_URL is not set (optional: {fallback})", True, configured=False)
    router = Router(settings.router_url, user_agent=USER_AGENT, timeout=ROUTER_TIMEOUT_SECONDS, client=http)
    try:
        await router.route(*ROUTER_PROBE)
    except NoRoute:
        return CheckResult("Router", True, f"{settings.router_url} answers (no road at the test points)", True)
    except RouterDown as error:
        return CheckResult("Router", False, f"{settings.router_url}: {error} (optional: {fallback})", True)
    return CheckResult("Router", True, f"{settings.router_url} answers routes", True)


async def _check_storage(settings: Settings) -> CheckResult:
    """Open the database as the bot would (creating the SQLite file, migrating), then close it."""
    url = settings.database_url.get() if settings.database_url else None
    where = _database_named(url) if url else f"SQLite in {settings.data_dir}"
    try:
        storage = await open_storage(
            url, data_dir=settings.data_dir, secret=settings.storage_secret.get() if settings.storage_secret else None
        )
    except (StorageError, OSError) as error:
        # The error's text may carry the URL with its password: name the database by host only.
        return CheckResult(
            "Storage", False, f"{where} could not be opened ({type(error).__name__}): check DATABASE_URL"
        )
    await storage.close()
    return CheckResult("Storage", True, f"{where} opens")


def _database_named(url: str) -> str:
    """``postgresql://user:secret@db.example:5432/ocm`` -> ``PostgreSQL at db.example:5432/ocm``."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return (
        f"PostgreSQL at {host}{port}{parts.path}" if parts.scheme.startswith("postgres") else f"{parts.scheme} database"
    )
