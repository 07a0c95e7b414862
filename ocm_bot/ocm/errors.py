"""Errors raised by the OCM client.

The tree (under :class:`ocm_bot.errors.OcmBotError`; the view layer picks a translated message
for each leaf)::

    OcmError
    ├── OcmUnavailable        timeouts, connection errors, 5xx, 502 text pages
    ├── OcmRateLimited        wait ``retry_after`` seconds (None: unknown) before asking OCM again
    │   ├── OcmTooManyRequests    OCM answered 429 (its ``Retry-After``)
    │   └── OcmBudgetExhausted    our own per-minute budget of OCM requests is used up; nothing was sent
    ├── OcmAuthError          403 API key missing or invalid, 401 user token missing or expired
    │   └── OcmPasswordlessAccount  sign-in answered 200 with no body: a social-login account
    ├── OcmRejected           400 and "Error: Validation Failed"; ``description`` is OCM's text
    ├── OcmBadResponse        malformed JSON or an unexpected shape
    └── OcmBlockedAsRobot     503 "API requests by robots are temporarily disabled"

Statuses map to these in one table here (:data:`ERROR_CODE_MAP`, read by
:func:`raise_for_response`); every error is raised ``from`` its cause.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
from datetime import UTC, datetime

import httpx

from ocm_bot.errors import OcmBotError


class OcmError(OcmBotError):
    """Base class of everything the OCM client raises."""

    def __init__(self, message: str = "", *, status: int | None = None) -> None:
        super().__init__(message or self.__class__.__name__)
        self.status = status


class OcmUnavailable(OcmError):
    """OCM did not answer in time, or answered with a server error."""


class OcmRateLimited(OcmError):
    """No answer now: ask again after ``retry_after`` seconds (None when nobody said)."""

    def __init__(self, message: str = "", *, status: int | None = 429, retry_after: float | None = None) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class OcmTooManyRequests(OcmRateLimited):
    """OCM itself asked us to slow down (HTTP 429, with its ``Retry-After``)."""


class OcmBudgetExhausted(OcmRateLimited):
    """This bot's own budget of OCM requests per minute is used up; OCM was not asked."""

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message, status=None, retry_after=retry_after)


class OcmAuthError(OcmError):
    """The API key (403) or the user's sign-in (401; or a token OCM could not read) was refused."""

    def __init__(self, message: str = "", *, status: int | None = None, user_token: bool | None = None) -> None:
        super().__init__(message, status=status)
        self._user_token = user_token

    @property
    def is_user_token(self) -> bool:
        """True when the driver's own sign-in was refused (they can fix it with /login)."""
        return self._user_token if self._user_token is not None else self.status == 401


class OcmPasswordlessAccount(OcmAuthError):
    """OCM answered a sign-in with 200 and no body: the account has no password (it signs in
    with Google, GitHub and the like), so it cannot sign in with a password until one is set."""

    def __init__(self, message: str = "") -> None:
        super().__init__(
            message or "sign-in answered with an empty body (social-login account)", status=200, user_token=False
        )


class OcmRejected(OcmError):
    """OCM refused the request as invalid; ``description`` is what OCM said."""

    def __init__(self, description: str = "", *, status: int | None = 400) -> None:
        super().__init__(description, status=status)
        self.description = description


class OcmBadResponse(OcmError):
    """OCM answered with something we cannot read."""


class OcmBlockedAsRobot(OcmError):
    """OCM took our User-Agent for a robot (HTTP 503 with the robots message)."""


# One table from HTTP status to error (geopy's ERROR_CODE_MAP); special bodies are read first
# in _error_for: 503 robots JSON, 200 "Error: Validation Failed", unreadable 200 bodies.
ERROR_CODE_MAP: dict[int, type[OcmError]] = {
    400: OcmRejected,
    401: OcmAuthError,
    403: OcmAuthError,
    404: OcmRejected,
    408: OcmUnavailable,
    409: OcmRejected,
    413: OcmRejected,
    422: OcmRejected,
    429: OcmTooManyRequests,
    500: OcmUnavailable,
    502: OcmUnavailable,
    503: OcmUnavailable,
    504: OcmUnavailable,
}
_ROBOTS_MESSAGE = "requests by robots"
_VALIDATION_FAILED = "Error: Validation Failed"


def raise_for_response(response: httpx.Response) -> None:
    """Raise the error ``response`` stands for, ``from`` httpx's own status error."""
    error = _error_for(response)
    if error is None:
        return
    try:
        response.raise_for_status()
    except httpx.HTTPStatusError as exc:
        raise error from exc
    raise error


def _error_for(response: httpx.Response) -> OcmError | None:
    status = response.status_code
    text = _text_of(response)
    description = _description(text)
    if status == 503 and _ROBOTS_MESSAGE in text.lower():
        return OcmBlockedAsRobot(description or "OCM took us for a robot", status=status)
    if 200 <= status < 300:
        if text.strip().startswith(_VALIDATION_FAILED):
            return OcmRejected(_VALIDATION_FAILED, status=status)
        return None
    kind = ERROR_CODE_MAP.get(status) or (OcmUnavailable if status >= 500 else OcmRejected)
    if kind is OcmTooManyRequests:
        return OcmTooManyRequests(
            description or "OCM asks us to slow down", status=status, retry_after=_retry_after(response)
        )
    if kind is OcmRejected:
        return OcmRejected(description or f"HTTP {status}", status=status)
    message = f"HTTP {status}: {description}" if description else f"HTTP {status}"
    return kind(message, status=status)


def _text_of(response: httpx.Response) -> str:
    try:
        return response.text
    except (UnicodeDecodeError, LookupError):
        return ""


def _description(text: str) -> str:
    """OCM's ``description`` from a JSON error, or the start of a text/HTML error page."""
    stripped = text.strip()
    if stripped.startswith("{"):
        with contextlib.suppress(ValueError, AttributeError):
            payload = {str(k).lower(): v for k, v in json.loads(stripped).items()}
            if payload.get("description"):
                return str(payload["description"])
    return " ".join(stripped.split())[:200]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
