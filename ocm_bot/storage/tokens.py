"""Encryption at rest of OCM sign-in tokens (Fernet, key derived from STORAGE_SECRET by HKDF)."""

from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Changing either constant makes every stored token unreadable (drivers sign in again).
_SALT = b"ocm-bot/storage"
_INFO = b"ocm-token/v1"


class TokenCipher:
    """Encrypts a user's token so that it decrypts only with the same secret and the same user.

    >>> cipher = TokenCipher("s3cret")
    >>> cipher.decrypt(7, cipher.encrypt(7, "abc"))
    'abc'
    """

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("an empty STORAGE_SECRET cannot protect tokens")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(secret.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def encrypt(self, user_id: int, token: str) -> str:
        # The user id inside the ciphertext stops a row copied to another user from decrypting.
        plaintext = json.dumps({"u": user_id, "t": token}).encode()
        return self._fernet.encrypt(plaintext).decode("ascii")

    def decrypt(self, user_id: int, ciphertext: str) -> str | None:
        """The token, or None if the ciphertext is not ours (other secret, other user, damaged)."""
        try:
            document = json.loads(self._fernet.decrypt(ciphertext.encode("ascii")))
        except (InvalidToken, ValueError):
            return None
        if not isinstance(document, dict) or document.get("u") != user_id:
            return None
        token = document.get("t")
        return token if isinstance(token, str) else None
