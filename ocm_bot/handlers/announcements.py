"""The watch poll job and what it tells chats; the bot's life in groups (removed, migrated, blocked).

Every ``WATCH_POLL_SECONDS`` (the first a few seconds after start) the instance holding the poll
lease polls OCM once for every watch (the poll queues the events in storage in the step that marks
them told), then sends each chat one message (one event: its charger's card and buttons; several:
one digest) and each favourite's owner its alerts. Queued events leave the queue only after
Telegram took the message. Sends go through the application's rate
limiter, which keeps to Telegram's per-group limit (about 20 messages a minute) by waiting.
"""

from __future__ import annotations

import contextlib
import logging
import uuid

from telegram import ChatMember, ChatMemberUpdated, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError
from telegram.ext import Application, BaseHandler, CallbackQueryHandler, ChatMemberHandler, MessageHandler, filters

from ocm_bot import metrics
from ocm_bot.context import BotContext, Services
from ocm_bot.domain.announcements import (
    Announcement,
    AnnouncementQueue,
    forget_group,
    migrate_group,
    stop_alerts_for,
)
from ocm_bot.domain.group_preferences import forget_group_settings, move_group_settings
from ocm_bot.domain.watch_changes import ChargerEvent
from ocm_bot.domain.watch_poller import LAST_POLL_KEY
from ocm_bot.domain.watch_quiet import is_quiet_now
from ocm_bot.handlers.alerts import send_favourite_alerts
from ocm_bot.handlers.common import answer_query, chat_translator, query_of, translator_for
from ocm_bot.i18n import Translator
from ocm_bot.ocm.errors import OcmError
from ocm_bot.ocm.models import Charger, Comment
from ocm_bot.storage.base import JSON, utc_now
from ocm_bot.views import announcements as views
from ocm_bot.views.callbacks import InvalidCallback, action_pattern
from ocm_bot.views.common import expired_button_text

log = logging.getLogger(__name__)

FIRST_POLL_SECONDS = 2.0
DIGEST_KIND = "digest"
DIGEST_TTL_SECONDS = 7 * 24 * 3600  # a digest's pages can be turned for a week

_Found = tuple[Announcement, Charger]


def register_watch_job(application: Application) -> None:
    if application.job_queue is None:
        log.warning("no job queue: watched areas are not polled")
        return
    settings = getattr(application.bot_data, "settings", None)
    interval = settings.watch_poll_seconds if settings is not None else 300
    application.job_queue.run_repeating(watch_job, interval=interval, first=FIRST_POLL_SECONDS, name="watch-poll")


async def watch_job(context: BotContext) -> None:
    await poll_and_announce(context.application)


async def poll_and_announce(application: Application) -> int:
    """Poll (if this instance holds the lease), queue the events, send what is queued; messages sent."""
    services: Services | None = getattr(application.bot_data, "services", None)
    if services is None:  # a job before post_init
        return 0
    if not await services.storage.list_subscriptions() and not await services.storage.has_favourites():
        # Nothing is watched and no favourite can alert: no request to OCM; the next poll starts from
        # now, not from long ago.
        await services.storage.set_value(LAST_POLL_KEY, utc_now().isoformat())
        return 0
    try:
        result = await services.watch_poller.poll()
    except OcmError as error:
        # Queued events wait too: they are sent after the next poll that works.
        log.warning("watch poll failed (%s); the next poll goes on from the same time", type(error).__name__)
        return 0
    if result is None:
        return 0  # another instance polls (and sends) now
    return await send_pending(application, services, AnnouncementQueue(services.storage))


async def _send_alerts(
    application: Application, services: Services, queue: AnnouncementQueue, user_id: int, found: list[_Found]
) -> int | None:
    """A favourite's owner gets its queued alerts in private, a message per charger; None: try later."""
    by_charger: dict[int, list[_Found]] = {}
    for item, charger in found:
        by_charger.setdefault(charger.id, []).append((item, charger))
    sent = 0
    for pairs in by_charger.values():
        events = [_event_of(item, charger) for item, charger in pairs]
        try:
            delivered = await send_favourite_alerts(application.bot, services, user_id, events)
            metrics.NOTIFICATIONS.labels(kind="favourite_alert").inc(delivered)
            sent += delivered
        except Forbidden:
            await stop_alerts_for(services.storage, user_id)
            await queue.done(user_id)
            return sent
        except BadRequest as error:
            log.warning("Telegram refused a favourite's alert: %s", error)
        except TelegramError as error:
            log.warning("alerts wait: Telegram did not take them (%s)", type(error).__name__)
            return None
        await queue.done(user_id, [item for item, _ in pairs])
    return sent


def _event_of(item: Announcement, charger: Charger) -> ChargerEvent:
    comment = Comment(None, text=item.comment) if item.comment else None
    return ChargerEvent(item.kind, charger, before=item.before, after=item.after, comment=comment)


async def send_pending(application: Application, services: Services, queue: AnnouncementQueue) -> int:
    sent = 0
    now = services.clock()
    for chat_id, items in (await queue.pending()).items():
        if await is_quiet_now(services.storage, chat_id, now):
            continue  # quiet hours: the group's events wait, and arrive as one digest when they end
        try:
            chargers = await _chargers_of(services, items)
        except OcmError as error:
            log.warning("announcements wait: OCM did not answer (%s)", type(error).__name__)
            return sent
        found = [(item, chargers[item.charger_id]) for item in items if item.charger_id in chargers]
        if not found:
            await queue.done(chat_id, items)
            continue
        alerts = [(item, charger) for item, charger in found if item.alert]
        if alerts:
            alerts_sent = await _send_alerts(application, services, queue, chat_id, alerts)
            if alerts_sent is None:
                return sent
            sent += alerts_sent
            found = [(item, charger) for item, charger in found if not item.alert]
            if not found:
                continue
        items = [item for item, _ in found]
        t = await _translator_of(services, chat_id)
        if len(found) == 1:
            view = views.announcement_view(t, services.callbacks, found[0][0], found[0][1], now=utc_now())
        else:
            named = [(item, charger.name) for item, charger in found]
            key = await _store_digest(services, chat_id, named) if len(named) > views.DIGEST_LINES else None
            view = views.digest_view(t, services.callbacks, named, key=key)
        try:
            await application.bot.send_message(
                chat_id, view.text, parse_mode=ParseMode.HTML, reply_markup=view.keyboard
            )
        except ChatMigrated as error:
            await migrate_group(services.storage, queue, chat_id, error.new_chat_id)
            continue  # sent to the new id on the next round
        except Forbidden:
            if chat_id < 0:
                log.info("the bot is no longer in chat %s: its watches are deleted", chat_id)
                await forget_group(services.storage, queue, chat_id)
            else:
                await stop_alerts_for(services.storage, chat_id)
                await queue.done(chat_id, items)
            continue
        except BadRequest as error:
            log.warning("Telegram refused an announcement to %s: %s", chat_id, error)
            await queue.done(chat_id, items)
            continue
        except TelegramError as error:
            log.warning("announcements wait: Telegram did not take them (%s)", type(error).__name__)
            return sent
        await queue.done(chat_id, items)
        metrics.NOTIFICATIONS.labels(kind="watch").inc()
        sent += 1
    return sent


async def _translator_of(services: Services, chat_id: int) -> Translator:
    """A private chat in its driver's language; a group in the language its admins chose."""
    return await chat_translator(services, chat_id)


async def _chargers_of(services: Services, items: list[Announcement]) -> dict[int, Charger]:
    ids = list(dict.fromkeys(item.charger_id for item in items))
    return {charger.id: charger for charger in await services.chargers.get_chargers(ids)}


async def _store_digest(services: Services, chat_id: int, named: list[tuple[Announcement, str]]) -> str:
    key = uuid.uuid4().hex[:12]
    value: list[JSON] = [{"item": item.to_data(), "name": name} for item, name in named]
    await services.storage.put_short_lived(DIGEST_KIND, key, {"chat": chat_id, "items": value}, DIGEST_TTL_SECONDS)
    return key


async def on_digest_page(update: Update, context: BotContext) -> None:
    """‹ Prev / Next › under a digest: anyone in the chat may page it."""
    query = query_of(update)
    t = await translator_for(update, context)
    try:
        button = context.services.callbacks.decode(query.data)
        key, page = button.args[0], button.int_arg(1)
    except (InvalidCallback, IndexError):
        await answer_query(query, expired_button_text(t))
        return
    stored = await context.services.storage.get_short_lived(DIGEST_KIND, key)
    named = _named_items(stored)
    if not named:
        await answer_query(query, expired_button_text(t))
        return
    await answer_query(query)
    chat = stored.get("chat") if isinstance(stored, dict) else None
    group_t = await _translator_of(context.services, chat) if isinstance(chat, int) else t
    view = views.digest_view(group_t, context.services.callbacks, named, key=key, page=page)
    with contextlib.suppress(BadRequest):  # the same page again: "message is not modified"
        await query.edit_message_text(view.text, parse_mode=ParseMode.HTML, reply_markup=view.keyboard)


def _named_items(stored: JSON) -> list[tuple[Announcement, str]]:
    if not isinstance(stored, dict) or not isinstance(stored.get("items"), list):
        return []
    named: list[tuple[Announcement, str]] = []
    for entry in stored["items"]:
        item = Announcement.from_data(entry.get("item")) if isinstance(entry, dict) else None
        if item is not None and isinstance(entry, dict):
            named.append((item, str(entry.get("name") or "")))
    return named


async def on_my_chat_member(update: Update, context: BotContext) -> None:
    """The bot removed from a group (or the group deleted) -> its watches go; blocked -> alerts stop."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None:
        return
    if change.new_chat_member.status not in (ChatMember.LEFT, ChatMember.BANNED):
        return
    services = context.services
    if change.chat.type == ChatType.PRIVATE:
        await stop_alerts_for(services.storage, change.chat.id)
    else:
        await forget_group(services.storage, AnnouncementQueue(services.storage), change.chat.id)
        await forget_group_settings(services.storage, change.chat.id)


async def on_migration(update: Update, context: BotContext) -> None:
    """A group became a supergroup: its watches follow it to the new chat id."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id is not None:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id is not None:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    await migrate_group(context.services.storage, AnnouncementQueue(context.services.storage), old, new)
    await move_group_settings(context.services.storage, old, new)


def handlers() -> list[BaseHandler]:
    return [
        ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
        MessageHandler(filters.StatusUpdate.MIGRATE, on_migration),
        CallbackQueryHandler(on_digest_page, pattern=action_pattern(views.DIGEST_PAGE)),
    ]
