"""The user driver against a tiny python-telegram-bot application polling the fake server."""

from __future__ import annotations

import asyncio
import re

import pytest
from telegram import (
    Bot,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden
from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from .ptb import build_application, loopback_request, polling


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    payload = " ".join(context.args or [])
    keyboard = ReplyKeyboardMarkup([[KeyboardButton("Send my location", request_location=True)]], resize_keyboard=True)
    await update.effective_message.reply_text(
        f"<b>Welcome</b>, {update.effective_user.first_name}! &lt;payload: {payload}&gt;",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
    )


async def located(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    location = update.effective_message.location
    pages = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Next ›", callback_data="page:2")],
            [InlineKeyboardButton("Open OCM", url="https://openchargemap.org/site")],
        ]
    )
    await update.effective_message.reply_text(
        f"Chargers near {location.latitude:.4f}, {location.longitude:.4f}: page 1", reply_markup=pages
    )


async def page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer("Page 2")
    number = query.data.split(":")[1]
    await query.edit_message_text(f"Chargers: page {number}")


@pytest.fixture
async def bot(telegram_server):
    app = build_application(
        telegram_server,
        [
            CommandHandler("start", start),
            MessageHandler(filters.LOCATION, located),
            CallbackQueryHandler(page, pattern=r"^page:"),
        ],
    )
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


async def test_pressing_needs_one_clear_label(telegram, telegram_server, bot):
    ada = telegram.user("Ada")
    await ada.send_location(45.5, -122.6)
    results = await ada.wait_for_message()

    with pytest.raises(AssertionError, match=r"no button 'Previous'.*\['Next ›', 'Open OCM'\]"):
        await ada.press(results, "Previous")
    with pytest.raises(AssertionError, match="is a url button"):
        await ada.press(results, re.compile("^Open"))
    with pytest.raises(AssertionError, match="did not edit"):
        await ada.wait_for_edit(results, timeout=0.1)


# --- live locations, venues, forwards, inline mode -----------------------------------------------


async def describe_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if update.edited_message:
        await context.bot.send_message(message.chat_id, f"Moved to {message.location.latitude:.2f}")
    elif message.venue:
        await message.reply_text(f"Venue {message.venue.title}")
    elif message.forward_origin:
        await message.reply_text(f"Forwarded from {message.forward_origin.sender_user.first_name}")
    elif message.location.live_period:
        await message.reply_text(f"Live for {message.location.live_period} s")
    else:
        await message.reply_text("Static")


async def inline_search(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.inline_query.query
    await update.inline_query.answer(
        [
            InlineQueryResultArticle(
                id=str(n), title=f"{query} charger {n}", input_message_content=InputTextMessageContent(f"Charger {n}")
            )
            for n in (1, 2)
        ],
        cache_time=0,
    )


@pytest.fixture
async def location_bot(telegram_server):
    app = build_application(
        telegram_server,
        [
            MessageHandler(filters.LOCATION, describe_location),
            InlineQueryHandler(inline_search),
        ],
    )
    async with polling(app):
        yield app


async def test_live_location_moves_arrive_as_edited_messages(telegram, location_bot):
    ada = telegram.user("Ada")

    await ada.send_live_location(45.51, -122.65, live_period=900)
    assert (await ada.wait_for_message()).text == "Live for 900 s"
    await ada.move_live_location(45.52, -122.66)
    assert (await ada.wait_for_message()).text == "Moved to 45.52"
    stopped = await ada.stop_live_location()

    assert stopped.edits == 2
    assert stopped.location["latitude"] == 45.52


async def test_venue_and_forwarded_location(telegram, location_bot):
    ada, bob = telegram.user("Ada"), telegram.user("Bob")

    await ada.send_venue(45.52, -122.68, "Pioneer Square", "701 SW 6th Ave")
    assert (await ada.wait_for_message()).text == "Venue Pioneer Square"
    await ada.forward(location=(45.5, -122.6), from_user=bob)
    assert (await ada.wait_for_message()).text == "Forwarded from Bob"


async def test_inline_query_returns_the_bots_results(telegram, location_bot):
    ada = telegram.user("Ada")

    answer = await ada.send_inline_query("Portland")

    assert answer.titles == ["Portland charger 1", "Portland charger 2"]
    assert answer.raw["cache_time"] == 0


# --- groups --------------------------------------------------------------------------------------


async def greet_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    change = update.my_chat_member
    if change.new_chat_member.status == ChatMember.MEMBER:
        await context.bot.send_message(change.chat.id, "Hi! Admins can /subscribe.")


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    member = await context.bot.get_chat_member(update.effective_chat.id, update.effective_user.id)
    if member.status in (ChatMember.ADMINISTRATOR, ChatMember.OWNER):
        await update.effective_message.reply_text("Subscribed.")
    else:
        await update.effective_message.reply_text("Only admins can subscribe.")


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(f"Echo: {update.effective_message.text}")


@pytest.fixture
async def group_bot(telegram_server):
    app = build_application(
        telegram_server,
        [
            ChatMemberHandler(greet_group, ChatMemberHandler.MY_CHAT_MEMBER),
            CommandHandler("subscribe", subscribe),
            MessageHandler(filters.TEXT & ~filters.COMMAND, echo),
        ],
    )
    async with polling(app):
        yield app


async def test_group_admin_subscribes_and_members_cannot(telegram, group_bot):
    ada, bob = telegram.user("Ada"), telegram.user("Bob")
    club = telegram.group("EV Club", members=[ada, bob], admins=[ada])

    await club.add_bot(by=ada)
    assert (await club.wait_for_message()).text == "Hi! Admins can /subscribe."
    await bob.send_text_in(club, "/subscribe")
    assert (await club.wait_for_message()).text == "Only admins can subscribe."
    await ada.send_text_in(club, "/subscribe@ocm_test_bot")
    assert (await club.wait_for_message()).text == "Subscribed."


async def test_privacy_mode_hides_plain_group_messages_unless_admin(telegram, group_bot):
    ada = telegram.user("Ada")
    club = telegram.group("EV Club", members=[ada], admins=[ada])
    await club.add_bot(by=ada)
    await club.wait_for_message()

    await ada.send_text_in(club, "anyone charging?")
    await club.expect_silence()
    assert [m.text for m in club.messages] == ["Hi! Admins can /subscribe."]
    await club.promote_bot(by=ada)
    await ada.send_text_in(club, "now?")
    assert (await club.wait_for_message()).text == "Echo: now?"


async def test_removed_bot_gets_forbidden(telegram, telegram_server, group_bot):
    ada = telegram.user("Ada")
    club = telegram.group("EV Club", members=[ada], admins=[ada])
    await club.add_bot(by=ada)
    await club.wait_for_message()

    await club.remove_bot(by=ada)
    await telegram.wait_for_updates_consumed()
    with pytest.raises(Forbidden, match=r"(?i)bot was kicked from the supergroup chat"):
        await group_bot.bot.send_message(club.chat_id, "still here?")
    assert club.bot_status == "kicked"


async def test_basic_group_upgraded_to_supergroup_moves_the_chat(telegram, group_bot):
    ada = telegram.user("Ada")
    club = telegram.group("EV Club", members=[ada], admins=[ada], supergroup=False)
    await club.add_bot(by=ada)
    await club.wait_for_message()
    old_id = club.chat_id

    await club.upgrade_to_supergroup(by=ada)
    await telegram.wait_for_updates_consumed()
    with pytest.raises(ChatMigrated) as raised:
        await group_bot.bot.send_message(old_id, "hello?")
    await ada.send_text_in(club, "/subscribe")

    assert raised.value.new_chat_id == club.chat_id
    assert (await club.wait_for_message()).text == "Subscribed."


async def inline_card(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    more = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more")]])
    await update.inline_query.answer(
        [
            InlineQueryResultArticle(
                id="poi-1",
                title="Tesco Bow",
                reply_markup=more,
                input_message_content=InputTextMessageContent("<b>Tesco Bow</b> 2 × CCS", parse_mode=ParseMode.HTML),
            )
        ],
        cache_time=0,
    )


async def expand_inline_card(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.callback_query.answer()
    await update.callback_query.edit_message_text("Tesco Bow: 2 × CCS 50 kW, open 24/7")


async def test_an_inline_result_sent_to_a_group_is_edited_by_its_inline_id(telegram, telegram_server):
    app = build_application(
        telegram_server, [InlineQueryHandler(inline_card), CallbackQueryHandler(expand_inline_card)]
    )
    ada, bob = telegram.user("Ada"), telegram.user("Bob")
    club = telegram.group("EV Club", members=[ada, bob])
    async with polling(app):
        answer = await ada.send_inline_query("tesco")
        card = await ada.choose_inline_result(answer, "Tesco", chat=club)
        assert card.text == "Tesco Bow 2 × CCS"
        assert card.raw["via_bot"]["username"] == "ocm_test_bot"

        await (await bob.press(card, "More")).answered()
        expanded = await club.wait_for_edit(card)

    assert expanded.text == "Tesco Bow: 2 × CCS 50 kW, open 24/7"
    (edit,) = telegram_server.calls("editMessageText")
    assert "inline_message_id" in edit and "chat_id" not in edit


async def test_expect_silence_fails_when_the_bot_answers(telegram, group_bot):
    ada = telegram.user("Ada")
    await ada.send_text("hello")

    with pytest.raises(AssertionError, match="expected no answer, the bot sent #2: 'Echo: hello'"):
        await ada.expect_silence()


async def test_edited_text_reaches_the_bot(telegram, telegram_server, group_bot):
    ada = telegram.user("Ada")
    sent = await ada.send_text("helo")
    await ada.wait_for_message()

    edited = await ada.edit_text(sent, "hello")
    await telegram.wait_for_updates_consumed()

    assert edited.text == "hello" and edited.edits == 1
    await ada.expect_silence()  # the echo handler ignores edits


async def think_then_echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await asyncio.sleep(0.4)  # the bot's own slow work (an OCM search), longer than any fixed wait
    await update.effective_message.reply_text(f"Echo: {update.effective_message.text}")


@pytest.fixture
async def slow_bot(telegram_server):
    app = build_application(telegram_server, [MessageHandler(filters.TEXT, think_then_echo)])
    async with polling(app):
        yield app


async def test_expect_silence_drains_a_slow_bot_instead_of_waiting_a_fixed_time(telegram, slow_bot):
    ada = telegram.user("Ada")
    await ada.send_text("hello")

    with pytest.raises(AssertionError, match="expected no answer, the bot sent #2: 'Echo: hello'"):
        await ada.expect_silence()


async def test_wait_until_idle_returns_once_the_bot_has_answered(telegram, telegram_server, slow_bot):
    ada = telegram.user("Ada")
    await ada.send_text("hello")

    assert not telegram_server.bot_is_idle()
    await telegram.wait_until_idle()

    assert [m.text for m in ada.messages] == ["Echo: hello"]


# --- guest mode (Bot API 10.0) ------------------------------------------------------------------


async def guest_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.guest_message
    more = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more")]])
    await context.bot.answer_guest_query(
        message.guest_query_id,
        InlineQueryResultArticle(
            id="g1",
            title="Tesco Bow",
            reply_markup=more,
            input_message_content=InputTextMessageContent(f"<b>You asked:</b> {message.text}", parse_mode="HTML"),
        ),
    )
    with pytest.raises(BadRequest, match="query is too old"):  # one answer per guest query
        await context.bot.answer_guest_query(
            message.guest_query_id, InlineQueryResultArticle("g2", "x", InputTextMessageContent("x"))
        )


async def test_a_guest_message_is_answered_once_in_the_chat_the_bot_has_not_joined(telegram, telegram_server):
    app = build_application(
        telegram_server,
        [MessageHandler(filters.UpdateType.GUEST_MESSAGE, guest_answer), CallbackQueryHandler(expand_inline_card)],
    )
    ada = telegram.user("Ada")
    club = telegram.group("EV Club", members=[ada])
    async with polling(app):
        assert (await app.bot.get_me()).supports_guest_queries
        query = await ada.send_guest_message(club, "@ocm_test_bot tesco near Bow")
        posted = await query.answered()
        assert posted.from_bot and posted.text == "You asked: @ocm_test_bot tesco near Bow"
        assert posted.raw["guest_bot_caller_user"]["id"] == ada.id
        assert posted.raw["guest_bot_caller_chat"]["id"] == club.chat_id
        await (await ada.press(posted, "More")).answered()  # an inline message: edited by its id
        await club.wait_for_edit(posted)

    with pytest.raises(AssertionError, match="not a member"):
        await club.add_bot(by=ada)
        await ada.send_guest_message(club, "@ocm_test_bot hi")


async def test_an_answer_guest_query_outside_the_schema_is_a_violation(telegram, telegram_server):
    ada = telegram.user("Ada")
    club = telegram.group("EV Club", members=[ada])
    query = await ada.send_guest_message(club, "@ocm_test_bot hi")
    bot = Bot(telegram_server.token, base_url=telegram_server.api_url, request=loopback_request())
    async with bot:
        with pytest.raises(BadRequest, match="title"):
            await bot.do_api_request(
                "answerGuestQuery", api_kwargs={"guest_query_id": query.id, "result": {"type": "article", "id": "1"}}
            )
    violations = telegram_server.take_violations()
    assert any("answerGuestQuery.result" in str(v) and "title" in str(v) for v in violations)
    assert club.messages == []  # nothing was posted
