"""How Telegram's updates reach the bot: long polling (``ocm-bot run``) or a webhook (``ocm-bot webhook``).

- :func:`handled_update_types`: the ``allowed_updates`` both modes ask Telegram for, computed from
  the handlers the application registered, so Telegram sends nothing the bot would ignore and a
  new kind of handler (inline queries, guest messages) subscribes its updates by being registered.
- :func:`derived_webhook_secret`: the webhook's secret token when ``WEBHOOK_SECRET`` is not set,
  derived from the bot token, so every instance of one bot checks the same secret.
- :func:`guard_polling`: ``ocm-bot run`` refuses to poll while a webhook is set (polling would
  silently delete it), unless told to take over.

Example::

    application = build_application(settings)
    application.run_webhook(..., allowed_updates=handled_update_types(application))
"""

from __future__ import annotations

import base64
import logging
from typing import Any

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from telegram import Update
from telegram.ext import (
    Application,
    BaseHandler,
    BusinessConnectionHandler,
    BusinessMessagesDeletedHandler,
    CallbackQueryHandler,
    ChatBoostHandler,
    ChatJoinRequestHandler,
    ChatMemberHandler,
    ChosenInlineResultHandler,
    CommandHandler,
    ConversationHandler,
    InlineQueryHandler,
    MessageHandler,
    MessageReactionHandler,
    PaidMediaPurchasedHandler,
    PollAnswerHandler,
    PollHandler,
    PreCheckoutQueryHandler,
    PrefixHandler,
    ShippingQueryHandler,
    StringCommandHandler,
    StringRegexHandler,
    TypeHandler,
    filters,
)

from ocm_bot.app import StartupError
from ocm_bot.handlers.conversation import PanelButton

log = logging.getLogger(__name__)

ALL_UPDATE_TYPES: tuple[str, ...] = tuple(str(kind) for kind in Update.ALL_TYPES)

# The update types whose payload is a Message: MessageHandler and CommandHandler filters decide among them.
MESSAGE_UPDATE_TYPES: tuple[str, ...] = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
    "guest_message",
)
# Messages that reach a bot only in a set-up of their own (an admin in a channel, a Business account,
# guest mode): a handler takes them when its filters name them (``filters.UpdateType.GUEST_MESSAGE``),
# not because a filter on the content (``filters.TEXT``) would also let one through.
_NAMED_ONLY = frozenset(MESSAGE_UPDATE_TYPES) - {"message", "edited_message"}

# Handlers that take exactly one kind of update, whatever their pattern.
_ONE_UPDATE_TYPE: dict[type[BaseHandler], str] = {
    CallbackQueryHandler: "callback_query",
    InlineQueryHandler: "inline_query",
    ChosenInlineResultHandler: "chosen_inline_result",
    ShippingQueryHandler: "shipping_query",
    PreCheckoutQueryHandler: "pre_checkout_query",
    PollHandler: "poll",
    PollAnswerHandler: "poll_answer",
    ChatJoinRequestHandler: "chat_join_request",
    BusinessConnectionHandler: "business_connection",
    BusinessMessagesDeletedHandler: "deleted_business_messages",
    PaidMediaPurchasedHandler: "purchased_paid_media",
}

WEBHOOK_SECRET_HELP = (
    "WEBHOOK_SECRET is not set: the webhook checks a secret token derived from TELEGRAM_BOT_TOKEN (the same"
    " on every instance of this bot, a new one when the token changes). To choose your own, set WEBHOOK_SECRET"
    " to 1-256 characters of A-Z, a-z, 0-9, _ and - (the same on every instance)"
)


def handled_update_types(application: Application) -> list[str]:
    """The update types at least one registered handler may take, in the Bot API's order.

    A filter that leaves an update type open (``filters.TEXT`` matches a channel post too) counts;
    a handler kind this function does not know counts for every type, so a new kind never loses
    updates silently (``tests/test_delivery.py`` checks that the bot registers none).
    """
    wanted: set[str] = set()
    for group in application.handlers.values():
        for handler in group:
            wanted |= _update_types_of(handler)
    return [kind for kind in ALL_UPDATE_TYPES if kind in wanted]


def _update_types_of(handler: BaseHandler) -> set[str]:
    if isinstance(handler, ConversationHandler):
        inner: list[BaseHandler] = [*handler.entry_points, *handler.fallbacks]
        for state, state_handlers in handler.states.items():
            if state != ConversationHandler.TIMEOUT:  # run by the conversation's timer, not by an update
                inner.extend(state_handlers)
        return set().union(*(_update_types_of(each) for each in inner))
    if isinstance(handler, PanelButton):  # a stored conversation's button: its callback query handler
        return _update_types_of(handler.button)
    for kind, update_type in _ONE_UPDATE_TYPE.items():
        if isinstance(handler, kind):
            return {update_type}
    if isinstance(handler, MessageHandler | CommandHandler | PrefixHandler):
        return {kind for kind in MESSAGE_UPDATE_TYPES if _may_match(handler.filters, kind) is not False}
    if isinstance(handler, ChatMemberHandler):
        return _by_choice(
            handler.chat_member_types,
            ChatMemberHandler.MY_CHAT_MEMBER,
            ChatMemberHandler.CHAT_MEMBER,
            ("my_chat_member", "chat_member"),
        )
    if isinstance(handler, MessageReactionHandler):
        return _by_choice(
            handler.message_reaction_types,
            MessageReactionHandler.MESSAGE_REACTION_UPDATED,
            MessageReactionHandler.MESSAGE_REACTION_COUNT_UPDATED,
            ("message_reaction", "message_reaction_count"),
        )
    if isinstance(handler, ChatBoostHandler):
        return _by_choice(
            handler.chat_boost_types,
            ChatBoostHandler.CHAT_BOOST,
            ChatBoostHandler.REMOVED_CHAT_BOOST,
            ("chat_boost", "removed_chat_boost"),
        )
    if isinstance(handler, TypeHandler):
        return set(ALL_UPDATE_TYPES) if issubclass(Update, handler.type) else set()
    if isinstance(handler, StringCommandHandler | StringRegexHandler):
        return set()  # they take strings put in the update queue, never an Update
    log.warning("unknown handler kind %s: asking Telegram for every update type", type(handler).__name__)
    return set(ALL_UPDATE_TYPES)


def _by_choice(chosen: object, first: object, second: object, names: tuple[str, str]) -> set[str]:
    if chosen == first:
        return {names[0]}
    if chosen == second:
        return {names[1]}
    return set(names)


def _may_match(condition: filters.BaseFilter | bool, update_type: str) -> bool | None:
    """Whether ``condition`` passes an update of ``update_type``: True, False, or None (depends on the message).

    Filters on the update (``filters.UpdateType.*``) are decided on an update of that type; filters
    on the message's content are undecided for an ordinary message and false for the messages of
    :data:`_NAMED_ONLY`.
    """
    if isinstance(condition, bool):
        return condition
    if isinstance(condition, filters._InvertedFilter):
        inverted = _may_match(condition.inv_filter, update_type)
        return None if inverted is None else not inverted
    if isinstance(condition, filters._XORFilter):
        return _may_match(condition.merged_filter, update_type)
    if isinstance(condition, filters._MergedFilter):
        first = _may_match(condition.base_filter, update_type)
        if condition.and_filter is not None:
            return _all(first, _may_match(condition.and_filter, update_type))
        return _any(first, _may_match(condition.or_filter or False, update_type))
    carries_message = update_type not in _NAMED_ONLY and filters.BaseFilter.check_update(
        condition, _update_of(update_type)
    )
    if isinstance(condition, filters.UpdateFilter):
        try:
            return bool(condition.check_update(_update_of(update_type)))
        except Exception:  # a custom update filter that looks into the update's contents
            return None if carries_message else False
    return None if carries_message else False


def _all(first: bool | None, second: bool | None) -> bool | None:
    if first is False or second is False:
        return False
    return True if first and second else None


def _any(first: bool | None, second: bool | None) -> bool | None:
    if first or second:
        return True
    return False if first is False and second is False else None


def _update_of(update_type: str) -> Update:
    """An update of that type whose payload is a placeholder: enough for filters on the update's kind."""
    payload: dict[str, Any] = {update_type: _Placeholder()}
    return Update(0, **payload)


class _Placeholder:
    def __bool__(self) -> bool:
        return True


def derived_webhook_secret(bot_token: str) -> str:
    """A webhook secret token derived from the bot token (HKDF-SHA256), for when WEBHOOK_SECRET is not set.

    The same token gives the same secret, so every instance of one bot registers and checks the
    same one with no set-up; the secret does not reveal the token. 43 characters of A-Z, a-z,
    0-9, _ and -, as Telegram's ``secret_token`` allows.
    """
    key = HKDF(algorithm=SHA256(), length=32, salt=None, info=b"ocm-bot webhook secret token v1").derive(
        bot_token.encode()
    )
    return base64.urlsafe_b64encode(key).decode().rstrip("=")


def guard_polling(application: Application, *, take_over: bool) -> None:
    """Before polling starts: refuse while a webhook is set, or with ``take_over`` delete it, keeping its updates.

    python-telegram-bot would delete a webhook without a word when polling starts; a worker
    started beside a webhook (`web`) would then take the updates away from it, or lose them to it.
    """
    opened = application.post_init

    async def post_init(app: Application) -> None:
        webhook = await app.bot.get_webhook_info()
        if webhook.url:
            if not take_over:
                raise StartupError(
                    f"a webhook is set for this bot ({webhook.url}), so `ocm-bot run` will not poll: that"
                    " would take the updates away from the webhook. Run `ocm-bot webhook` instead, or take"
                    " over with `ocm-bot run --take-over` (or TAKE_OVER_WEBHOOK=1), which deletes the webhook"
                    " and keeps its pending updates"
                )
            await app.bot.delete_webhook(drop_pending_updates=False)
            log.warning(
                "took over from the webhook %s: it is deleted, its %d pending updates are kept for polling",
                webhook.url,
                webhook.pending_update_count,
            )
        if opened is not None:
            await opened(app)

    application.post_init = post_init
