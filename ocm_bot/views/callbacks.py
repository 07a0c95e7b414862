"""Callback data for inline buttons: short, signed, and checked when it comes back.

Telegram allows 1-64 bytes of ``callback_data`` and sends back whatever a client claims, so every
button carries an action, its arguments and a short HMAC. A forged, malformed or foreign button
fails :meth:`CallbackCodec.decode` and the handler answers "this button has expired" without
asking OCM anything.

Example::

    codec = CallbackCodec(key=b"...")
    data = codec.encode("pg", "a1b2", 2)        # 'pg|a1b2|2|Xk3v9QaZ'
    codec.decode(data)                          # Callback(action='pg', args=('a1b2', '2'))
    CallbackQueryHandler(on_page, pattern=action_pattern("pg"))
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from ocm_bot.errors import InputError

MAX_CALLBACK_BYTES = 64
_SEPARATOR = "|"
_SIGNATURE_CHARS = 8


class InvalidCallback(InputError):
    """The button's data is malformed, forged, or from another bot instance's key."""


@dataclass(frozen=True, slots=True)
class Callback:
    action: str
    args: tuple[str, ...]

    def int_arg(self, index: int) -> int:
        """Argument ``index`` as an int; InvalidCallback when it is missing or not a number."""
        try:
            return int(self.args[index])
        except (IndexError, ValueError) as error:
            raise InvalidCallback(f"argument {index} of {self.action!r} is not a number") from error


def action_pattern(action: str) -> re.Pattern[str]:
    """A CallbackQueryHandler pattern matching the buttons of one action."""
    return re.compile("^" + re.escape(action + _SEPARATOR))


def _encodable(text: str) -> bool:
    """Whether ``text`` is valid Unicode (no lone surrogate, which JSON can carry and UTF-8 cannot)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


class CallbackCodec:
    """Encodes and verifies signed callback data."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def for_token(cls, token: str | None) -> CallbackCodec:
        """A codec whose key follows from the bot token, so buttons still work after a restart."""
        seed = (token or "ocm-bot offline demo").encode()
        return cls(hashlib.sha256(b"ocm-bot callback data\x00" + seed).digest())

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:_SIGNATURE_CHARS]

    def encode(self, action: str, *args: str | int) -> str:
        parts = [action, *(str(arg) for arg in args)]
        if any(_SEPARATOR in part for part in parts) or not action:
            raise ValueError(f"callback parts may not contain {_SEPARATOR!r}: {parts!r}")
        payload = _SEPARATOR.join(parts)
        data = f"{payload}{_SEPARATOR}{self._sign(payload)}"
        if len(data.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
        return data

    def decode(self, data: str | None) -> Callback:
        if not data or len(data.encode("utf-8", "surrogatepass")) > MAX_CALLBACK_BYTES:
            raise InvalidCallback("empty or oversized callback data")
        payload, _, signature = data.rpartition(_SEPARATOR)
        # compare_digest refuses non-ASCII text, and our signatures are ASCII: anything else is forged.
        if not payload or not signature.isascii() or not _encodable(payload):
            raise InvalidCallback("callback data that no button of ours carries")
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise InvalidCallback("callback data signature does not match")
        action, *args = payload.split(_SEPARATOR)
        return Callback(action, tuple(args))
