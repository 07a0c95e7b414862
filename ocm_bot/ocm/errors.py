"""Errors raised by the OCM client.

The tree (the view layer picks a translated message for each leaf)::

    OcmError
    ├── OcmUnavailable        timeouts, connection errors, 5xx, 502 text pages
    ├── OcmRateLimited        429; ``retry_after`` seconds when OCM says so
    ├── OcmAuthError          403 API key missing or invalid, 401 user token missing or expired
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
    """OCM asked us to slow down (HTTP 429)."""

    def __init__(self, message: str = "", *, status: int | None = 429, retry_after: float | None = None) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class OcmAuthError(OcmError):
    """The API key (403) or the user's sign-in token (401) was refused."""

    @property
    def is_user_token(self) -> bool:
        return self.status == 401


class OcmRejected(OcmError):
    """OCM refused the request as invalid; ``description`` is what OCM said."""

    def __init__(self, description: str = "", *, status: int | None = 400) -> None:
        super().__init__(description, status=status)
        self.description = description


class OcmBadResponse(OcmError):
    """OCM answered with something we cannot read."""


class OcmBlockedAsRobot(OcmError):
    """OCM took our User-Agent for a robot (HTTP 503 with the robots message)."""
