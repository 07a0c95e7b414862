"""Delivering queued check-ins: the repeating job that posts them to OCM, and [🔄 Retry now].

A submitted check-in waits in the outbox (storage) under its idempotency key; :func:`deliver_outbox`
posts whatever is due (right away after Submit, then every ``OUTBOX_POLL_SECONDS`` with each item's
backoff) and tells each driver what happened.
"""

from __future__ import annotations

import contextlib
import logging

from telegram import CallbackQuery, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, BaseHandler, CallbackQueryHandler

from ocm_bot.context import BotContext, Services
from ocm_bot.domain.outbox import Delivery, DeliveryResult, OutboxStatus
from ocm_bot.handlers.common import answer_query, handled, translator_for
from ocm_bot.i18n import Translator, translator
from ocm_bot.settings import Settings
from ocm_bot.views import delivery as views
from ocm_bot.views.callbacks import InvalidCallback, action_pattern
from ocm_bot.views.common import expired_button_text

log = logging.getLogger(__name__)

OUTBOX_POLL_SECONDS = 10.0
"""How often the outbox job looks for due check-ins (the backoff decides when each one is due)."""


async def deliver_outbox(application: Application) -> list[Delivery]:
    """Deliver every due check-in and tell each driver what happened."""
    services: Services | None = getattr(application.bot_data, "services", None)
    if services is None:  # a job before post_init
        return []
    deliveries = await services.checkin.outbox.deliver_due()
    for delivery in deliveries:
        await notify(application, delivery)
    return deliveries


async def notify(application: Application, delivery: Delivery) -> None:
    """Tell the driver; a retry is announced once (on the first failure), not on every attempt."""
    if delivery.result is DeliveryResult.RETRY and not delivery.first_attempt:
        return
    t = translator(delivery.checkin.language)
    screen = views.delivery_screen(t, application.bot_data.services.callbacks, delivery)
    chat_id = delivery.item.chat_id
    panel = delivery.checkin.panel_message_id
    try:
        if delivery.first_attempt and panel is not None:
            try:
                await application.bot.edit_message_text(
                    screen.text, chat_id, panel, parse_mode=ParseMode.HTML, reply_markup=screen.keyboard
                )
                return
            except BadRequest:
                pass  # the panel is gone or unchanged: send a new message instead
        await application.bot.send_message(
            chat_id, screen.text, parse_mode=ParseMode.HTML, reply_markup=screen.keyboard
        )
    except Forbidden:
        log.info("chat %s blocked the bot; check-in %s notice not sent", chat_id, delivery.item.key)
    except TelegramError as error:
        log.warning("could not tell chat %s about check-in %s: %s", chat_id, delivery.item.key, error)


OUTBOX_JOB_LEASE = "checkin-outbox"
"""The storage lease of the instance that runs the repeating delivery (one at a time across instances)."""


async def outbox_job(context: BotContext) -> None:
    """The repeating job: deliver whatever is due (each item's backoff decides when it is due).

    With several instances on one database only the holder of the ``checkin-outbox`` lease runs
    it; the lease is renewed on every run, so when its holder dies another instance takes over
    ``JOB_LEASE_SECONDS`` after the holder's last run. (A driver's own Submit or Retry is
    delivered at once by the instance that got the tap; each item's claim keeps it to one.)
    """
    services: Services | None = getattr(context.application.bot_data, "services", None)
    if services is None:  # a job before post_init
        return
    outbox = services.checkin.outbox
    lease = float(services.settings.job_lease_seconds)
    holding = await services.storage.try_acquire_lease(OUTBOX_JOB_LEASE, outbox.instance_id, lease)
    state = context.job.data if context.job is not None and isinstance(context.job.data, dict) else {}
    if state.get("holding") is not holding:
        state["holding"] = holding
        if holding:
            log.info("this instance runs the check-in delivery now (lease %s)", OUTBOX_JOB_LEASE)
        else:
            log.info("another instance runs the check-in delivery (lease %s)", OUTBOX_JOB_LEASE)
    if holding:
        await deliver_outbox(context.application)


async def prune_job(context: BotContext) -> None:
    """Daily: forget check-ins delivered or refused a month ago (one instance does it)."""
    services: Services | None = getattr(context.application.bot_data, "services", None)
    if services is not None:
        await services.checkin.outbox.prune()


def register_outbox_job(application: Application) -> None:
    if application.job_queue is None:
        log.warning("no job queue: queued check-ins are delivered only when a driver submits or retries")
        return
    settings: Settings | None = getattr(application.bot_data, "settings", None)
    interval = settings.outbox_poll_seconds if settings is not None else OUTBOX_POLL_SECONDS
    application.job_queue.run_repeating(outbox_job, interval=interval, first=1.0, name="checkin-outbox", data={})
    application.job_queue.run_repeating(prune_job, interval=24 * 3600, first=600, name="checkin-outbox-prune")


async def on_retry(update: Update, context: BotContext) -> None:
    """[🔄 Retry now] under "OCM is not answering": try the driver's check-in at once."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    t = await translator_for(update, context)
    service = context.services.checkin
    if (key := await outbox_key(context, query, t)) is None:
        return
    item = await service.outbox.retry_now(key, user.id) if service is not None else None
    if service is None or item is None:
        await answer_query(query, expired_button_text(t))
        return
    if item.status != OutboxStatus.PENDING:
        await answer_query(query, views.queued_item_text(t, item.status), show_alert=True)
        return
    await answer_query(query, views.retry_started_text(t))
    deliveries = await service.outbox.deliver_due()
    for delivery in deliveries:
        if delivery.item.key != key:
            await notify(context.application, delivery)
            continue
        screen = views.delivery_screen(t, context.services.callbacks, delivery)
        with contextlib.suppress(BadRequest):
            await query.edit_message_text(screen.text, parse_mode=ParseMode.HTML, reply_markup=screen.keyboard)


async def outbox_key(context: BotContext, query: CallbackQuery, t: Translator) -> str | None:
    """The check-in key a Submit or Retry button carries; None, the tap answered, when it is unreadable."""
    try:
        return context.services.callbacks.decode(query.data).args[0]
    except (InvalidCallback, IndexError):
        await answer_query(query, expired_button_text(t))
        return None


def handlers() -> list[BaseHandler]:
    return [CallbackQueryHandler(handled(on_retry), pattern=action_pattern(views.RETRY))]
