"""The demo's terminal pieces in-process: Telegram HTML on a terminal, the in-memory Bot API, a whole chat."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest

from ocm_bot.demo.botapi import DEMO_TOKEN, InMemoryBotApi
from ocm_bot.demo.botcore import TelegramErrors
from ocm_bot.demo.driver import Driver
from ocm_bot.demo.rendering import Style, render_text, wants_color
from ocm_bot.demo.screen import Screen
from ocm_bot.demo.session import chat
from ocm_bot.settings import Settings
from tests.ocm.contract import shared_pois


def test_html_is_drawn_readably_without_colours() -> None:
    text = '<b>Lidl Garforth</b> &amp; co — <a href="https://openchargemap.org/site/poi/details/100627">Open</a>'
    assert render_text(text, "HTML", Style(False)) == (
        "Lidl Garforth & co — Open <https://openchargemap.org/site/poi/details/100627>"
    )


def test_colours_are_ansi_codes_and_off_when_asked() -> None:
    assert render_text("<b>x</b>", "HTML", Style(True)) == "\x1b[1mx\x1b[0m"
    terminal = io.StringIO()
    terminal.isatty = lambda: True  # type: ignore[method-assign]
    assert wants_color(True, terminal, {})
    assert not wants_color(True, terminal, {"NO_COLOR": "1"})
    assert not wants_color(False, terminal, {})
    assert not wants_color(True, io.StringIO(), {})


async def test_an_edit_that_changes_nothing_is_refused_like_telegram_does() -> None:
    out = io.StringIO()
    api = InMemoryBotApi(Screen(out, Style(False)))
    async with Bot(DEMO_TOKEN, request=api, get_updates_request=api) as bot:
        sent = await bot.send_message(1001, "<b>hi</b>", parse_mode=ParseMode.HTML)
        assert sent.text == "hi"
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text("<b>hi</b>", 1001, sent.message_id, parse_mode=ParseMode.HTML)
        edited = await bot.edit_message_text("ho", chat_id=1001, message_id=sent.message_id)
    assert isinstance(edited, Message) and edited.text == "ho"
    assert "(edited)" in out.getvalue()


async def test_a_chat_on_the_operators_own_data_file(tmp_path: Path) -> None:
    dump = tmp_path / "poi.jsonl"
    dump.write_text("\n".join(json.dumps(p) for p in shared_pois()[:40]) + "\n", encoding="utf-8")
    typed = io.StringIO("/start\n/loc 45.5122 -122.6587\n/press 999\n/quit\n")
    shown = io.StringIO()
    status = await chat(
        Settings(ocm_data_file=dump), color=False, stdin=typed, stdout=shown, data_dir=tmp_path / "state"
    )
    screen = shown.getvalue()
    assert status == 0
    assert f"your OCM data file {dump}" in screen
    assert "I find electric-vehicle chargers" in screen
    assert "Chargers near" in screen
    assert "No such button" in screen
    assert "Bye!" in screen


async def test_the_demo_and_the_fake_bot_api_refuse_an_unchanged_keyboard_with_telegrams_words() -> None:
    api = InMemoryBotApi(Screen(io.StringIO(), Style(False)))
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Next ›", callback_data="pg|1")]])
    async with Bot(DEMO_TOKEN, request=api, get_updates_request=api) as bot:
        sent = await bot.send_message(1001, "results", reply_markup=keyboard)
        with pytest.raises(BadRequest) as refused:
            await bot.edit_message_reply_markup(1001, sent.message_id, reply_markup=keyboard)
    assert refused.value.message.lower() == TelegramErrors.NOT_MODIFIED.removeprefix("Bad Request: ").lower()


async def test_the_demo_keeps_the_text_and_entities_telegram_would() -> None:
    api = InMemoryBotApi(Screen(io.StringIO(), Style(False)))
    async with Bot(DEMO_TOKEN, request=api, get_updates_request=api) as bot:
        sent = await bot.send_message(1001, "  <b>Lidl</b> &amp; co ", parse_mode=ParseMode.HTML)
        assert sent.text == "Lidl & co"
        assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 4)]
        with pytest.raises(BadRequest, match="not modified"):  # same text, same entities
            await bot.edit_message_text("<strong>Lidl</strong> &amp; co", 1001, sent.message_id, parse_mode="HTML")


async def test_the_demo_answers_a_button_press_once_and_then_refuses_like_telegram() -> None:
    out = io.StringIO()
    api = InMemoryBotApi(Screen(out, Style(False)))
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Details", callback_data="d|1")]])
    async with Bot(DEMO_TOKEN, request=api, get_updates_request=api) as bot:
        sent = await bot.send_message(1001, "results", reply_markup=keyboard)
        query_id = Driver(api).press(sent.message_id, "d|1")["callback_query"]["id"]
        assert await bot.answer_callback_query(query_id, text="Loading…")
        with pytest.raises(BadRequest) as refused:
            await bot.answer_callback_query(query_id, text="again")
    assert refused.value.message.lower() == TelegramErrors.QUERY_TOO_OLD.removeprefix("Bad Request: ").lower()
    assert "Loading…" in out.getvalue()
    assert "again" not in out.getvalue()


async def test_the_demo_deletes_a_message_once_and_then_says_it_is_not_found() -> None:
    api = InMemoryBotApi(Screen(io.StringIO(), Style(False)))
    async with Bot(DEMO_TOKEN, request=api, get_updates_request=api) as bot:
        sent = await bot.send_message(1001, "Searching…")
        assert await bot.delete_message(1001, sent.message_id)
        with pytest.raises(BadRequest) as refused:
            await bot.delete_message(1001, sent.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("Found 3 chargers", 1001, sent.message_id)
    assert refused.value.message.lower() == (
        TelegramErrors.MESSAGE_TO_DELETE_NOT_FOUND.removeprefix("Bad Request: ").lower()
    )
