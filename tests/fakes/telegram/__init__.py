"""A loopback Telegram Bot API server and a driver that plays the people (see README.md)."""

from .driver import (
    Button,
    CallbackAnswer,
    ChatObserver,
    FakeGroup,
    FakeUser,
    InlineAnswer,
    MessageView,
    PressedButton,
    TelegramDriver,
)
from .server import DEFAULT_TOKEN, FakeTelegramServer, TelegramErrors, Violation

__all__ = [
    "DEFAULT_TOKEN",
    "Button",
    "CallbackAnswer",
    "ChatObserver",
    "FakeGroup",
    "FakeTelegramServer",
    "FakeUser",
    "InlineAnswer",
    "MessageView",
    "PressedButton",
    "TelegramDriver",
    "TelegramErrors",
    "Violation",
]
