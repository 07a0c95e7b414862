"""Signing drivers in to Open Charge Map, so their check-ins are posted as them.

Only the access token OCM returns is kept, encrypted at rest by the storage (``STORAGE_SECRET``);
the e-mail and password go to OCM once and are never stored or logged. Without a storage secret
sign-in is disabled, and the bot says so. Example::

    accounts = Accounts(storage, ocm_client)
    if accounts.enabled:
        await accounts.sign_in(user_id, "ada@example.org", password)   # OcmAuthError if refused
        await accounts.is_signed_in(user_id)                            # True
        await accounts.sign_out(user_id)
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ocm_bot.errors import OcmBotError
from ocm_bot.storage.base import TokensDisabled, TokenStore

MAX_EMAIL_CHARS = 254


class SignInDisabled(OcmBotError):
    """This bot has no STORAGE_SECRET, so it cannot keep a sign-in safely."""


def looks_like_email(text: str | None) -> bool:
    """A loose check that catches a password typed at the e-mail prompt, not an RFC validator."""
    value = (text or "").strip()
    if not value or len(value) > MAX_EMAIL_CHARS or any(c.isspace() for c in value):
        return False
    local, at, domain = value.rpartition("@")
    return bool(at and local and "." in domain.strip("."))


def token_expiry(token: str) -> datetime | None:
    """The ``exp`` claim of a JWT access token (read, not verified: OCM verifies it), or None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
        return datetime.fromtimestamp(float(claims["exp"]), UTC)
    except (binascii.Error, ValueError, KeyError, TypeError, OverflowError, OSError):
        return None


@dataclass
class Accounts:
    storage: TokenStore
    client: Any  # OcmClient: authenticate

    @property
    def enabled(self) -> bool:
        """Sign-in needs OCM (not the offline demo's local data) and a STORAGE_SECRET."""
        return self.client is not None and self.storage.tokens_enabled

    async def sign_in(self, user_id: int, email: str, password: str) -> str | None:
        """Authenticate with OCM and keep the token; returns the OCM username when OCM gives one.

        Raises :class:`SignInDisabled` without a storage secret, the client's ``OcmError`` when OCM
        refuses (``OcmAuthError``) or cannot be reached.
        """
        if not self.enabled:
            raise SignInDisabled
        session = await self.client.authenticate(email.strip(), password)
        try:
            await self.storage.save_ocm_token(user_id, session.token, token_expiry(session.token))
        except TokensDisabled as error:
            raise SignInDisabled from error
        return session.username

    async def sign_out(self, user_id: int) -> bool:
        try:
            return await self.storage.delete_ocm_token(user_id)
        except TokensDisabled:
            return False

    async def is_signed_in(self, user_id: int) -> bool:
        if not self.enabled:
            return False
        try:
            return await self.storage.get_ocm_token(user_id) is not None
        except TokensDisabled:
            return False
