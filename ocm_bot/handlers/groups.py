"""Search in groups: ``/near <place>``, a mention with a place, a reply to the bot's question; and
the group's own settings (``/settings``, ``/language``), chosen by its admins.

Works with privacy mode on (Telegram's default for bots), where the bot sees a group's commands,
replies to its own messages and service messages only: ``/near`` without a place asks with a
selective ForceReply, and the asker's reply (a place name, or a location shared as a reply) is the
place. A shared location that replies to any of the bot's messages is searched by
:mod:`ocm_bot.handlers.search`, which also keeps one results message per search (paged and
refined in place) and lets only the asker change a search. A mention (``@bot Leeds``) is answered
whenever Telegram delivers it (privacy mode off, or the bot an admin).

A group searches with its settings and speaks its language (:mod:`ocm_bot.domain.group_preferences`,
read by :func:`ocm_bot.handlers.common.preferences_for` and ``translator_for``). Only admins change
them: every tap asks Telegram ``getChatMember`` for the presser; an anonymous admin's command comes
from the group itself (``sender_chat``). No reply keyboard is ever sent in a group.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import ForceReply, MessageEntity, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from ocm_bot.context import BotContext
from ocm_bot.domain.group_preferences import group_preferences, save_group_preferences
from ocm_bot.domain.preferences import UserPreferences
from ocm_bot.domain.preferences_edit import InvalidChoice, Setting, apply_choice, search_operators
from ocm_bot.handlers import search
from ocm_bot.handlers.common import (
    answer_query,
    chat_of,
    edit_unless_not_modified,
    is_group,
    is_group_admin,
    message_of,
    query_of,
    translator_for,
    user_of,
)
from ocm_bot.handlers.preferences import reference_data, user_lock
from ocm_bot.i18n import Translator, available_languages, negotiate_language, translator
from ocm_bot.ocm.reference import ReferenceData
from ocm_bot.views.callbacks import InvalidCallback, action_pattern
from ocm_bot.views.common import View
from ocm_bot.views.groups import (
    admins_only_settings_text,
    group_settings_view,
    near_prompt,
    near_prompt_placeholder,
    operator_reply_hint,
)
from ocm_bot.views.preferences import (
    SETTINGS_ACTION,
    MenuContext,
    Screen,
    closed_menu,
    operator_matches,
    read_settings_button,
    render,
    saved_notice,
    screen_after,
    settings_button_expired,
)

log = logging.getLogger(__name__)

PROMPTS_KEY = "near.prompts"
"""chat_data key: the ids of the bot's latest "Near which place?" questions in the chat."""
PROMPTS_KEPT = 20
AWAITING_OPERATOR_KEY = "settings.operator"
"""chat_data key: the group settings message whose operator search waits for an admin's reply."""


# /near, mentions and replies ----------------------------------------------------------------------


async def on_near(update: Update, context: BotContext) -> None:
    """``/near <place>`` (also ``/near@bot <place>``): chargers near it; without a place, ask for one."""
    place = " ".join(context.args or ()).strip()
    if place:
        await search.search_typed(update, context, place)
    else:
        await ask_for_place(update, context)


async def ask_for_place(update: Update, context: BotContext) -> None:
    """Ask the asker (only them: a selective ForceReply) for a place name or a location."""
    message = message_of(update)
    t = await translator_for(update, context)
    view = near_prompt(t)
    sent = await message.reply_text(
        view.text,
        parse_mode=ParseMode.HTML,
        do_quote=True,  # a selective ForceReply reaches the author of the message it replies to
        reply_markup=ForceReply(selective=True, input_field_placeholder=near_prompt_placeholder(t)),
    )
    if context.chat_data is not None:
        prompts: list[int] = context.chat_data.setdefault(PROMPTS_KEY, [])
        prompts.append(sent.message_id)
        del prompts[:-PROMPTS_KEPT]


async def on_group_text(update: Update, context: BotContext) -> None:
    """A text in a group: a reply to the bot's question, or a mention of the bot with a place."""
    message = message_of(update)
    text, mentioned = _without_mentions(message, context.bot.username)
    replied = message.reply_to_message
    prompts = (context.chat_data or {}).get(PROMPTS_KEY, [])
    awaiting = (context.chat_data or {}).get(AWAITING_OPERATOR_KEY)
    if replied is not None and isinstance(awaiting, dict) and replied.message_id == awaiting.get("message_id"):
        await _operator_name(update, context, text)
        return
    if replied is not None and replied.message_id in prompts:
        if text:
            await search.search_typed(update, context, text)
        else:
            await ask_for_place(update, context)
        return
    if not mentioned:
        return  # talk among people (seen with privacy mode off): not for the bot
    if text:
        await search.search_typed(update, context, text)
    else:
        await ask_for_place(update, context)


def _without_mentions(message: Any, username: str | None) -> tuple[str, bool]:
    """The message's text without the bot's @mentions, and whether it mentioned the bot."""
    text = message.text or ""
    if not username:
        return text.strip(), False
    spans = [
        (entity.offset, entity.length)
        for entity, value in message.parse_entities([MessageEntity.MENTION]).items()
        if value.lower() == "@" + username.lower()
    ]
    if not spans:
        return text.strip(), False
    encoded = text.encode("utf-16-le")  # entity offsets count UTF-16 code units
    for offset, length in sorted(spans, reverse=True):
        encoded = encoded[: 2 * offset] + " ".encode("utf-16-le") + encoded[2 * (offset + length) :]
    return " ".join(encoded.decode("utf-16-le").split()), True


# The group's settings -----------------------------------------------------------------------------


async def _operator_name(update: Update, context: BotContext, name: str) -> None:
    """An admin's reply to the settings' "type the operator's name": the matching operators."""
    chat, message = chat_of(update), message_of(update)
    prefs = await group_preferences(context.services.storage, chat.id)
    sender = message.from_user.id if message.from_user else None
    if not await is_group_admin(context, chat.id, sender, message):
        await message.reply_text(admins_only_settings_text(_group_translator(context, prefs)), do_quote=True)
        return
    menu = await _menu(context, prefs)
    view = operator_matches(menu.t, prefs, name, search_operators(menu.reference.operators, name), menu.codec)
    awaiting = _chat_data(context).get(AWAITING_OPERATOR_KEY) or {}
    await edit_unless_not_modified(
        context.bot.edit_message_text,
        chat_id=chat.id,
        message_id=awaiting.get("message_id"),
        text=view.text,
        parse_mode=ParseMode.HTML,
        reply_markup=view.keyboard,
    )


async def on_settings(update: Update, context: BotContext) -> None:
    """``/settings`` in a group: the group's settings menu, for its admins."""
    await show_group_settings(update, context)


async def on_language(update: Update, context: BotContext) -> None:
    """``/language`` in a group: the group's language, for its admins."""
    await show_group_settings(update, context, Screen.LANGUAGE)


async def show_group_settings(update: Update, context: BotContext, screen: Screen = Screen.MAIN) -> None:
    """Send the group's settings menu to an admin's command or ⚙️ button; anyone else is told who may."""
    chat = chat_of(update)
    prefs = await group_preferences(context.services.storage, chat.id)
    t = _group_translator(context, prefs)
    query = update.callback_query
    presser = update.effective_user.id if update.effective_user else None
    if not await is_group_admin(context, chat.id, presser, update.message):
        if query is not None:
            await answer_query(query, admins_only_settings_text(t), show_alert=True)
        else:
            await message_of(update).reply_text(admins_only_settings_text(t), do_quote=True)
        return
    if query is not None:
        await answer_query(query)
    menu = await _menu(context, prefs)
    view = _screen(menu, screen)
    await context.bot.send_message(chat.id, view.text, parse_mode=ParseMode.HTML, reply_markup=view.keyboard)


async def on_settings_button(update: Update, context: BotContext) -> None:
    """A button of the group's settings menu: an admin's choice is saved for the whole group."""
    query, chat, user = query_of(update), chat_of(update), user_of(update)
    async with user_lock(chat.id):  # two quick taps must not undo each other
        prefs = await group_preferences(context.services.storage, chat.id)
        t = _group_translator(context, prefs)
        if not await is_group_admin(context, chat.id, user.id):
            await answer_query(query, admins_only_settings_text(t), show_alert=True)
            return
        reference = await reference_data(context)
        try:
            button = read_settings_button(context.services.callbacks.decode(query.data))
            if button.setting is not None:
                prefs = _apply(prefs, button.setting, button.values, reference)
        except (InvalidCallback, InvalidChoice) as error:
            log.info("group settings button refused: %s", error)
            await answer_query(query, settings_button_expired(t))
            return
        if button.setting is not None:
            await save_group_preferences(context.services.storage, chat.id, prefs)
        menu = await _menu(context, prefs, reference)
        _chat_data(context).pop(AWAITING_OPERATOR_KEY, None)
        if button.close:
            view = closed_menu(menu.t, prefs, reference, unit=menu.unit)
        else:
            view = _screen(menu, button.screen or (screen_after(button.setting) if button.setting else Screen.MAIN))
        if button.screen is Screen.OPERATOR_SEARCH and query.message is not None:
            _chat_data(context)[AWAITING_OPERATOR_KEY] = {"message_id": query.message.message_id}
        await answer_query(query, saved_notice(menu.t) if button.setting is not None else None)
        await edit_unless_not_modified(
            query.edit_message_text, text=view.text, parse_mode=ParseMode.HTML, reply_markup=view.keyboard
        )


def _apply(
    prefs: UserPreferences, setting: Setting, values: tuple[str, ...], reference: ReferenceData
) -> UserPreferences:
    operators = reference.operators if setting is Setting.OPERATORS else {}
    return apply_choice(prefs, setting, *values, languages=available_languages(), operators=operators)


def _screen(menu: MenuContext, screen: Screen) -> View:
    view = render(screen, menu)
    if screen is Screen.OPERATOR_SEARCH and menu.reference.operators:
        return operator_reply_hint(menu.t, view)
    return group_settings_view(menu.t, view) if screen is Screen.MAIN else view


async def _menu(context: BotContext, prefs: UserPreferences, reference: ReferenceData | None = None) -> MenuContext:
    default = context.services.settings.default_language
    return MenuContext(
        t=_group_translator(context, prefs),
        prefs=prefs,
        reference=reference if reference is not None else await reference_data(context),
        codec=context.services.callbacks,
        automatic_unit=None,  # a group's searches follow each searched place's country
        telegram_language=default,  # "automatic" in a group: the bot's default language
        languages=available_languages(),
        group=True,
    )


def _chat_data(context: BotContext) -> dict[Any, Any]:
    return context.chat_data if context.chat_data is not None else {}


def _group_translator(context: BotContext, prefs: UserPreferences) -> Translator:
    return translator(negotiate_language(prefs.language, default=context.services.settings.default_language))


# Wiring -------------------------------------------------------------------------------------------


class _GroupButton(CallbackQueryHandler[Any, Any]):
    """A button tapped in a group (the same settings buttons mean the driver's own in private)."""

    def check_update(self, update: object) -> bool | object | None:
        if not isinstance(update, Update) or not is_group(update):
            return None
        return super().check_update(update)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Before :mod:`ocm_bot.handlers.preferences`: in a group ``/settings`` and its buttons are the group's."""
    groups = filters.ChatType.GROUPS
    return [
        CommandHandler("near", on_near),
        CommandHandler("settings", on_settings, filters=groups),
        CommandHandler("language", on_language, filters=groups),
        _GroupButton(on_settings_button, pattern=action_pattern(SETTINGS_ACTION)),
        MessageHandler(filters.UpdateType.MESSAGE & groups & filters.TEXT & ~filters.COMMAND, on_group_text),
    ]
