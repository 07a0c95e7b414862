"""The user driver against a tiny python-telegram-bot application polling the fake server."""

from __future__ import annotations

import re

import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from .ptb import build_application, polling


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    payload = " ".join(context.args or [])
    keyboard = ReplyKeyboardMarkup([[KeyboardButton("Send my location", request_location=True)]],
                                   resize_keyboard=True)
    await update.effective_message.reply_text(
        f"<b>Welcome</b>, {update.effective_user.first_name}! &lt;payload: {payload}&gt;",
        parse_mode=ParseMode.HTML, reply_markup=keyboard)


async def located(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    location = update.effective_message.location
    pages = InlineKeyboardMarkup([[InlineKeyboardButton("Next ›", callback_data="page:2")],
                                  [InlineKeyboardButton("Open OCM",
                                                        url="https://openchargemap.org/site")]])
    await update.effective_message.reply_text(
        f"Chargers near {location.latitude:.4f}, {location.longitude:.4f}: page 1",
        reply_markup=pages)


async def page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer("Page 2")
    number = query.data.split(":")[1]
    await query.edit_message_text(f"Chargers: page {number}")


@pytest.fixture
async def bot(telegram_server):
    app = build_application(telegram_server, [
        CommandHandler("start", start),
        MessageHandler(filters.LOCATION, located),
        CallbackQueryHandler(page, pattern=r"^page:"),
    ])
    async with polling(app):
        yield app


async def test_start_command_gets_html_welcome_and_location_keyboard(telegram, bot):
    ada = telegram.user("Ada")

    await ada.send_text("/start poi-123")
    welcome = await ada.wait_for_message()

    assert welcome.text == "Welcome, Ada! <payload: poi-123>"
    assert welcome.html.startswith("<b>Welcome</b>, Ada! &lt;payload")
    assert ada.reply_keyboard_labels == ["Send my location"]


async def test_location_button_then_paging_edits_the_results(telegram, bot):
    ada = telegram.user("Ada")
    await ada.send_text("/start")
    await ada.wait_for_message()

    await ada.press_keyboard_button("Send my location", location=(45.5122, -122.6587))
    results = await ada.wait_for_message(containing="Chargers near")
    assert results.labels == ["Next ›", "Open OCM"]
    assert results.url_buttons == {"Open OCM": "https://openchargemap.org/site"}

    pressed = await ada.press(results, "Next")
    answer = await pressed.answered()
    page2 = await ada.wait_for_edit(results)

    assert answer.text == "Page 2"
    assert page2.text == "Chargers: page 2"
    assert page2.buttons == []  # editMessageText without reply_markup drops the keyboard
    assert ada.messages[-1] == page2


async def test_wait_for_message_names_what_the_bot_sent_instead(telegram, bot):
    ada = telegram.user("Ada")
    await ada.send_text("/start")

    with pytest.raises(AssertionError, match=re.compile(r"containing 'nope'.*Welcome", re.S)):
        await ada.wait_for_message(timeout=0.3, containing="nope")
