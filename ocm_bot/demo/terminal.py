"""``ocm-bot demo``: chat with the real bot in a terminal, on bundled data, with no token and no network.

The application is the one ``ocm-bot run`` builds (:func:`ocm_bot.app.build_application`), with
the same handlers and views. Only its two ends are replaced:

- the Bot API: :class:`InMemoryBotApi` is python-telegram-bot's transport (a ``BaseRequest``) that
  answers every Bot API call in memory with Telegram-shaped JSON and draws what the bot sends
  (messages, edits, keyboards, alerts, locations) on the terminal;
- the data: Open Charge Map records bundled with the bot (:meth:`LocalSource.bundled`), an
  offline gazetteer instead of Nominatim, and storage in a temporary SQLite file.

What the driver types becomes a Telegram update (a message, a shared location, a button press)
handed to ``Application.process_update``; the prompt returns once the bot has answered it.

The pieces: :mod:`~ocm_bot.demo.rendering` (Telegram HTML on a terminal), :mod:`~ocm_bot.demo.screen`
(the conversation and its numbered buttons), :mod:`~ocm_bot.demo.botapi` (the in-memory Bot API),
:mod:`~ocm_bot.demo.driver` (typed lines as updates), :mod:`~ocm_bot.demo.session` (set-up and the
loop). This module is the demo's entry point (``ocm-bot demo`` calls :func:`run_demo`).
"""

from __future__ import annotations

from ocm_bot.demo.botapi import DEMO_TOKEN, InMemoryBotApi
from ocm_bot.demo.driver import Driver
from ocm_bot.demo.rendering import Style, plain_text, render_text, wants_color
from ocm_bot.demo.screen import Button, Screen
from ocm_bot.demo.session import chat, demo_settings, open_demo_ocm, run_demo

__all__ = [
    "DEMO_TOKEN",
    "Button",
    "Driver",
    "InMemoryBotApi",
    "Screen",
    "Style",
    "chat",
    "demo_settings",
    "open_demo_ocm",
    "plain_text",
    "render_text",
    "run_demo",
    "wants_color",
]
