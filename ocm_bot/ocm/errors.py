"""Errors raised by the OCM client.

The tree (the view layer picks a translated message for each leaf)::

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

Statuses map to these in one table in :mod:`ocm_bot.ocm.client`; every error is raised
``from`` its cause.
"""

from __future__ import annotations


class OcmError(Exception):
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
