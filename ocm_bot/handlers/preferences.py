"""/settings: a driver's filters and preferences, in one message edited in place.

Buttons (signed ``st`` callback data, see :mod:`ocm_bot.views.preferences`) open a screen or apply
a choice; every choice is saved at once. Adding an operator asks for a name: the menu remembers
that it waits (in ``user_data``, so it survives a restart with persistence) and the next text
message in the private chat is read as that name, not as a place to search.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from functools import partial

from telegram import BotCommandScopeChat, MaybeInaccessibleMessage, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from ocm_bot.context import BotContext
from ocm_bot.domain.preferences import UserPreferences
from ocm_bot.domain.preferences_edit import InvalidChoice, Setting, apply_choice, search_operators
from ocm_bot.domain.units import automatic_unit
from ocm_bot.handlers.answers import LAST_PLACE_UNIT
from ocm_bot.handlers.common import (
    driver_translator,
    edit_unless_not_modified,
    is_private,
    load_preferences,
    message_of,
    query_of,
    save_preferences,
    user_data_of,
    user_of,
)
from ocm_bot.i18n import Translator, available_languages, negotiate_language
from ocm_bot.ocm.errors import OcmError
from ocm_bot.ocm.reference import ReferenceData
from ocm_bot.views.callbacks import InvalidCallback, action_pattern
from ocm_bot.views.common import location_keyboard, location_prompt
from ocm_bot.views.menus import PRIVATE_SCOPE, bot_menus
from ocm_bot.views.preferences import (
    SETTINGS_ACTION,
    MenuContext,
    Screen,
    SettingsButton,
    View,
    closed_menu,
    operator_matches,
    private_chat_only,
    read_settings_button,
    render,
    saved_notice,
    screen_after,
    settings_button_expired,
)

log = logging.getLogger(__name__)

AWAITING_OPERATOR = "settings.awaiting_operator"
"""user_data key: the settings message ({"chat_id", "message_id", "since"}) waiting for an operator's name."""
AWAITING_OPERATOR_SECONDS = 15 * 60
"""After this long, a text is a place to search again, not an operator's name."""


async def show_settings(update: Update, context: BotContext) -> None:
    """Send the settings overview (private chats only: settings are per driver)."""
    _, prefs = await load_preferences(update, context)
    if not is_private(update):
        t = driver_translator(update, context, prefs)
        await message_of(update).reply_text(private_chat_only(t, "/settings").text, parse_mode=ParseMode.HTML)
        return
    user_data_of(context).pop(AWAITING_OPERATOR, None)
    await send_view(message_of(update), render(Screen.MAIN, await menu_context(update, context, prefs)))


async def on_button(update: Update, context: BotContext) -> None:
    """Show a settings screen or apply a choice, editing the menu message in place."""
    query, user = query_of(update), user_of(update)
    async with user_lock(user.id):
        document, prefs = await load_preferences(update, context)
        speaking = driver_translator(update, context, prefs)
        reference = await reference_data(context)  # one snapshot for the choice and the menu
        try:
            button = read_settings_button(context.services.callbacks.decode(query.data))
            if button.setting is not None:
                prefs = _apply(prefs, button, reference)
        except (InvalidCallback, InvalidChoice) as error:
            log.info("settings button refused: %s", error)
            await query.answer(settings_button_expired(driver_translator(update, context, prefs)))
            return
        if button.setting is not None:
            await save_preferences(context, user.id, document, prefs)
        menu = await menu_context(update, context, prefs, reference=reference)
        view = _view_after(button, menu, context, query.message)
        await query.answer(saved_notice(menu.t) if button.setting is not None else None)
        await edit_view(query.edit_message_text, view)
        if button.setting is Setting.LANGUAGE and menu.t.language != speaking.language and query.message:
            await follow_language(context, query.message.chat.id, menu.t, chosen=prefs.language is not None)


async def follow_language(context: BotContext, chat_id: int, t: Translator, *, chosen: bool) -> None:
    """Beyond the menu, a new language shows at once: the "Send my location" keyboard and the chat's
    command menu (Telegram picks menus by the app's language; a chat scope overrides it)."""
    scope = BotCommandScopeChat(chat_id)
    try:
        if chosen:
            await context.bot.set_my_commands(bot_menus(t).commands[PRIVATE_SCOPE], scope=scope)
        else:
            await context.bot.delete_my_commands(scope=scope)
    except TelegramError as error:  # the menu is a convenience: the language is saved anyway
        log.warning("chat menu not updated after a language change: %s", error)
    await context.bot.send_message(chat_id, location_prompt(t), reply_markup=location_keyboard(t))


def _apply(prefs: UserPreferences, button: SettingsButton, reference: ReferenceData) -> UserPreferences:
    assert button.setting is not None
    operators = reference.operators if button.setting is Setting.OPERATORS else {}
    return apply_choice(prefs, button.setting, *button.values, languages=available_languages(), operators=operators)


def _view_after(
    button: SettingsButton, menu: MenuContext, context: BotContext, message: MaybeInaccessibleMessage | None
) -> View:
    """The screen a button leads to; "Add an operator" also starts waiting for the name."""
    user_data = user_data_of(context)
    user_data.pop(AWAITING_OPERATOR, None)
    if button.close:
        return closed_menu(menu.t, menu.prefs, menu.reference, unit=menu.unit)
    screen = button.screen or (screen_after(button.setting) if button.setting else Screen.MAIN)
    if screen is Screen.OPERATOR_SEARCH and menu.reference.operators and message is not None:
        user_data[AWAITING_OPERATOR] = {
            "chat_id": message.chat.id,
            "message_id": message.message_id,
            "since": time.time(),
        }
    return render(screen, menu)


async def on_operator_name(update: Update, context: BotContext) -> None:
    """The name typed after "Add an operator": show the matching operators in the menu message."""
    waiting = user_data_of(context).pop(AWAITING_OPERATOR, None)
    if not waiting or time.time() - waiting.get("since", 0) > AWAITING_OPERATOR_SECONDS:
        return  # not for us: the driver is searching for a place
    _, prefs = await load_preferences(update, context)
    menu = await menu_context(update, context, prefs)
    query_text = message_of(update).text or ""
    matches = search_operators(menu.reference.operators, query_text)
    view = operator_matches(menu.t, prefs, query_text, matches, context.services.callbacks)
    edit = partial(context.bot.edit_message_text, chat_id=waiting["chat_id"], message_id=waiting["message_id"])
    try:
        await edit_view(edit, view)
    except BadRequest:  # the menu message is gone or too old to edit: send it anew
        await send_view(message_of(update), view)
    raise ApplicationHandlerStop


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("settings", show_settings),
        CallbackQueryHandler(on_button, pattern=action_pattern(SETTINGS_ACTION)),
    ]


def priority_handlers() -> list[BaseHandler]:
    """Handlers to run before every feature's, in group -1 (``ocm_bot.app.register_handlers``).

    The operator name typed after "Add an operator" must not reach the search's text handler as a
    place to geocode; the handler stops the update (ApplicationHandlerStop) only when it used it.
    """
    return [MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, on_operator_name)]


# Helpers shared with the account module --------------------------------------------------------

_user_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()


def user_lock(user_id: int) -> asyncio.Lock:
    """One driver's settings changes, one at a time.

    Updates are handled concurrently, and a driver ticking two plugs quickly would otherwise have
    both taps read the same stored document and the second save undo the first (and the menu
    edits arrive out of order).
    """
    lock = _user_locks.get(user_id)
    if lock is None:
        lock = _user_locks[user_id] = asyncio.Lock()
    return lock


async def reference_data(context: BotContext) -> ReferenceData:
    """OCM's reference data (cached by the client); empty when OCM cannot be reached."""
    chargers = context.services.chargers
    if chargers is None:
        return ReferenceData()
    try:
        return await chargers.reference_data()
    except OcmError as error:
        log.warning("reference data unavailable for the settings menu: %s", error)
        return ReferenceData()


async def menu_context(
    update: Update, context: BotContext, prefs: UserPreferences, *, reference: ReferenceData | None = None
) -> MenuContext:
    """What every settings screen is drawn from; ``reference``: the update's snapshot, if it has one already."""
    return MenuContext(
        t=driver_translator(update, context, prefs),
        prefs=prefs,
        reference=reference if reference is not None else await reference_data(context),
        codec=context.services.callbacks,
        automatic_unit=automatic_unit(
            (context.user_data or {}).get(LAST_PLACE_UNIT), _telegram_code(update)
        ),  # the last searched place's unit, so the radius menu speaks like the results did
        telegram_language=negotiate_language(_telegram_code(update), default=_default_language(context)),
        languages=available_languages(),
    )


async def send_view(message: Message, view: View) -> None:
    await message.reply_text(view.text, parse_mode=ParseMode.HTML, reply_markup=view.keyboard)


async def edit_view(edit: Callable[..., Awaitable[object]], view: View) -> None:
    """Edit a message with ``edit`` (an ``edit_message_text``); tapping the current choice again
    changes nothing, and Telegram's "message is not modified" for that is fine."""
    await edit_unless_not_modified(edit, text=view.text, parse_mode=ParseMode.HTML, reply_markup=view.keyboard)


def _telegram_code(update: Update) -> str | None:
    return update.effective_user.language_code if update.effective_user else None


def _default_language(context: BotContext) -> str:
    return context.services.settings.default_language
