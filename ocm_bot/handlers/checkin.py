"""Check-in conversation (charger -> outcome -> rating -> comment -> summary -> POST /comment), /login, /logout.

Entry: the "✅ Check in" button on a card (callback ``ci|<id>``), ``/checkin <id>``, or the deep link
``/start checkin-<id>`` that group cards use so a check-in continues in a private chat. The draft lives
in storage with its step, saved before the driver sees that step, and a restart rebuilds the
conversation's state from the drafts (``restored_conversations``), so a half-finished check-in
survives even a kill -9 at any moment; a submission goes to the outbox and is delivered by
:func:`deliver_outbox` (right away, then by a repeating job with backoff). The states are the draft's steps::

    OUTCOME --outcome--> RATING --rating/skip--> COMMENT --text/skip--> SUMMARY --submit--> END
       ^------back---------'  ^------back-----------'  ^------back-----------'
    /cancel and [Cancel] end it anywhere; 15 idle minutes end it politely.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from functools import wraps

from telegram import CallbackQuery, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from ocm_bot.context import BotContext, Services
from ocm_bot.domain.accounts import Accounts, SignInDisabled, looks_like_email
from ocm_bot.domain.checkin import (
    CheckinDraft,
    CheckinService,
    CommentTooLong,
    Step,
    SubmitStatus,
    group_outcomes,
    parse_charger_id,
)
from ocm_bot.domain.outbox import Delivery, DeliveryResult, Outbox, Submitter
from ocm_bot.handlers.common import translator_for
from ocm_bot.i18n import Translator, translator
from ocm_bot.ocm.errors import OcmAuthError, OcmError
from ocm_bot.ocm.query import PoiQuery
from ocm_bot.settings import Settings
from ocm_bot.storage.base import Storage
from ocm_bot.storage.persistence import StatesFromStorage
from ocm_bot.views import checkin as views
from ocm_bot.views.callbacks import InvalidCallback, action_pattern
from ocm_bot.views.common import expired_button_text, ocm_error_text, unexpected_error_text

log = logging.getLogger(__name__)

CONVERSATION_NAME = "checkin"
CONVERSATION_TIMEOUT = timedelta(minutes=15)
LOGIN_TIMEOUT = timedelta(minutes=5)
OUTBOX_POLL_SECONDS = 10.0
"""How often the outbox job looks for due check-ins (the backoff decides when each one is due)."""

State = Step
"""The conversation's named states are the draft's steps (``outcome``, ``rating``, ...)."""


class LoginState(enum.StrEnum):
    EMAIL = "email"
    PASSWORD = "password"


END = ConversationHandler.END
_DEEP_LINK = re.compile(r"^/start(?:@\w+)?\s+checkin-(\d+)\s*$")
_STEP_ACTIONS = (
    views.OUTCOME,
    views.GROUP,
    views.BACK,
    views.RATE,
    views.COMMENT_TYPE,
    views.SKIP_COMMENT,
    views.WRITE_COMMENT,
)
_CANCEL_COMMAND = filters.Regex(r"^/cancel(?:@\w+)?(?:\s|$)")

# E-mail addresses typed at /login wait here for the password, in memory only: they are never
# written to storage, and a restart just means typing /login again.
_pending_emails: dict[int, str] = {}


# Services ----------------------------------------------------------------------------------------


async def setup(services: Services) -> None:
    """Build the check-in service and its outbox (called once in ``post_init``)."""
    _checkin_service(services)


def _checkin_service(services: Services) -> CheckinService | None:
    """The check-in service, built on first use; None without storage (nowhere to keep a draft)."""
    if services.checkin is None and services.storage is not None:
        services.checkin = build_service(services)
    return services.checkin


def build_service(services: Services) -> CheckinService:
    settings = services.settings
    write_key = settings.ocm_write_key.get() if settings.ocm_write_key else None
    client = services.ocm_client

    async def refresh_charger(charger_id: int) -> None:
        # An ID query is never answered from the OCM client's search cache, and its answer replaces
        # the cached charger (with and without comments), so the driver's next look shows the check-in.
        if client is not None:
            await client.search(PoiQuery(chargepointid=(charger_id,), maxresults=1, includecomments=True))

    outbox = Outbox(
        services.storage,
        client,
        write_key=write_key,
        refresh_charger=refresh_charger,
        lease_seconds=settings.outbox_lease_seconds,
    )
    accounts = Accounts(services.storage, client)
    minutes = settings.checkin_min_interval_minutes
    return CheckinService(
        services.storage,
        outbox,
        accounts,
        chargers=services.chargers or client,
        write_key_configured=write_key is not None and client is not None,
        min_interval=timedelta(minutes=minutes),
    )


def _service(context: BotContext) -> CheckinService | None:
    return _checkin_service(context.services)


# Entry -------------------------------------------------------------------------------------------


async def start_from_button(update: Update, context: BotContext) -> object:
    """The "✅ Check in" button on a charger card."""
    query = update.callback_query
    try:
        charger_id = context.services.callbacks.decode(query.data).int_arg(0)
    except InvalidCallback:
        t = await translator_for(update, context)
        await _answer(query, expired_button_text(t))
        return END
    if not _is_private(update):
        # answerCallbackQuery may open a t.me/<bot>?start= link: the check-in goes on in private.
        await _answer(query, url=views.private_checkin_url(context.bot.username, charger_id))
        return END
    await _answer(query)
    return await _begin(update, context, charger_id)


async def start_from_command(update: Update, context: BotContext) -> object:
    """``/checkin <id>``."""
    t = await translator_for(update, context)
    charger_id = parse_charger_id(" ".join(context.args or []))
    if charger_id is None:
        await update.effective_message.reply_text(views.checkin_usage_text(t))
        return END
    if not _is_private(update):
        screen = views.private_chat_screen(t, context.bot.username, charger_id)
        await update.effective_message.reply_text(screen.text, parse_mode=ParseMode.HTML, reply_markup=screen.keyboard)
        return END
    return await _begin(update, context, charger_id)


async def start_from_deep_link(update: Update, context: BotContext) -> object:
    """``/start checkin-<id>``, from a group card's button."""
    match = _DEEP_LINK.match(update.effective_message.text or "")
    if match is None or not _is_private(update):
        return END
    return await _begin(update, context, int(match.group(1)))


async def _begin(update: Update, context: BotContext, charger_id: int) -> object:
    t = await translator_for(update, context)
    service = _service(context)
    message = update.effective_message
    if service is None:  # no storage: nowhere to keep a draft
        await context.bot.send_message(update.effective_chat.id, unexpected_error_text(t))
        return END
    user_id = update.effective_user.id
    lookup = await service.lookup_charger(charger_id)
    if not lookup.found:
        await context.bot.send_message(update.effective_chat.id, views.unknown_charger_text(t, charger_id))
        return END
    needs_sign_in = await service.submitter_for(user_id) is Submitter.NONE
    if needs_sign_in and not service.accounts.enabled:
        screen = views.cannot_post_screen(t, charger_id, lookup.name)
        await context.bot.send_message(
            update.effective_chat.id, screen.text, parse_mode=ParseMode.HTML, reply_markup=screen.keyboard
        )
        return END
    wait = await service.wait_before(user_id, charger_id)
    if wait is not None:
        await context.bot.send_message(
            update.effective_chat.id, views.too_soon_text(t, lookup.name, wait), parse_mode=ParseMode.HTML
        )
        return END
    draft = CheckinDraft.start(charger_id=charger_id, charger_name=lookup.name, chat_id=update.effective_chat.id)
    groups = group_outcomes(await service.outcomes())
    screen = views.outcome_screen(t, context.services.callbacks, draft, groups, needs_sign_in=needs_sign_in)
    # Saved before it is shown (see _show); the first tap on the panel makes it the draft's panel.
    await service.save_draft(user_id, draft)
    await context.bot.send_message(
        update.effective_chat.id,
        screen.text,
        parse_mode=ParseMode.HTML,
        reply_markup=screen.keyboard,
        reply_to_message_id=message.message_id if message is not None and update.callback_query is None else None,
    )
    return State.OUTCOME


# Steps -------------------------------------------------------------------------------------------


class _Step:
    """What every step handler needs: the translator, the service and the driver's open draft."""

    def __init__(self, t: Translator, service: CheckinService, draft: CheckinDraft) -> None:
        self.t, self.service, self.draft = t, service, draft


class _Stop(Exception):
    """Leave a step handler early, moving the conversation to ``state`` (None keeps the state)."""

    def __init__(self, state: object) -> None:
        self.state = state


StepHandler = Callable[[Update, BotContext, _Step], Awaitable[object]]


def _step(handler: StepHandler) -> Callable[[Update, BotContext], Awaitable[object]]:
    """Run ``handler`` with the driver's open draft; a gone or expired draft ends the conversation."""

    @wraps(handler)
    async def run(update: Update, context: BotContext) -> object:
        try:
            step = await _open_step(update, context)
            if update.callback_query is not None:
                await _answer(update.callback_query)
            return await handler(update, context, step)
        except _Stop as stop:
            return stop.state

    return run


async def _open_step(update: Update, context: BotContext) -> _Step:
    """The driver's draft; raises _Stop after telling them it is gone, expired or not this panel's."""
    t = await translator_for(update, context)
    service = _service(context)
    query = update.callback_query
    draft = await service.load_draft(update.effective_user.id) if service is not None else None
    if draft is not None and draft.is_stale(service.now(), CONVERSATION_TIMEOUT):
        # The timeout job does not survive a restart; the draft's age does.
        await service.discard_draft(update.effective_user.id)
        await _close_panel(context, draft)
        if query is not None:
            await _answer(query)
        await _say(update, context, views.timed_out_text(t))
        raise _Stop(END)
    if draft is None:
        if query is not None:
            await _answer(query, views.no_open_checkin_text(t), show_alert=True)
        else:
            await _say(update, context, views.no_open_checkin_text(t))
        raise _Stop(END)
    if query is not None and query.message is not None:
        if draft.panel_message_id is None:
            draft = replace(draft, panel_message_id=query.message.message_id)
        elif query.message.message_id != draft.panel_message_id:
            await _answer(query, expired_button_text(t))
            raise _Stop(None)
    return _Step(t, service, draft)


async def _show(update: Update, context: BotContext, step: _Step, draft: CheckinDraft) -> object:
    """Save ``draft`` and show its step on the panel (edited in place, or a new panel after text).

    Showing comes last: the driver may answer as soon as they see it, and a restart rebuilds the
    conversation's state from the saved draft's step.
    """
    t, service, codec = step.t, step.service, context.services.callbacks
    draft = draft.resume()  # the driver is on the check-in's panel again
    outcomes = await service.outcomes()
    if draft.step is Step.OUTCOME:
        needs_sign_in = await service.submitter_for(update.effective_user.id) is Submitter.NONE
        screen = views.outcome_screen(t, codec, draft, group_outcomes(outcomes), needs_sign_in=needs_sign_in)
    elif draft.step is Step.RATING:
        screen = views.rating_screen(t, codec, draft)
    elif draft.step is Step.COMMENT:
        screen = views.comment_screen(t, codec, draft)
    else:
        submitter = await service.submitter_for(update.effective_user.id)
        screen = views.summary_screen(t, codec, draft, outcomes, submitter, sign_in_available=service.accounts.enabled)
    query = update.callback_query
    if query is None or query.message is None:
        # After a typed comment the panel moves below it; the first tap on the new one adopts it.
        await _close_panel(context, draft)
        draft = replace(draft, panel_message_id=None)
    await service.save_draft(update.effective_user.id, draft)
    await _put_on_panel(update, context, draft, screen)
    return draft.step


async def _put_on_panel(update: Update, context: BotContext, draft: CheckinDraft, screen: views.Screen) -> None:
    query = update.callback_query
    if query is not None and query.message is not None:
        with contextlib.suppress(BadRequest):  # "message is not modified" after a repeated tap
            await query.edit_message_text(screen.text, parse_mode=ParseMode.HTML, reply_markup=screen.keyboard)
        return
    await context.bot.send_message(draft.chat_id, screen.text, parse_mode=ParseMode.HTML, reply_markup=screen.keyboard)


async def _close_panel(context: BotContext, draft: CheckinDraft) -> None:
    """Take the buttons off the draft's panel message (best effort: it may be gone)."""
    if draft.panel_message_id is None:
        return
    with contextlib.suppress(TelegramError):
        await context.bot.edit_message_reply_markup(draft.chat_id, draft.panel_message_id, reply_markup=None)


async def _say(update: Update, context: BotContext, text: str) -> Message | None:
    if update.effective_chat is None:
        return None
    return await context.bot.send_message(update.effective_chat.id, text)


async def _outbox_key(context: BotContext, query: CallbackQuery, t: Translator) -> str | None:
    """The check-in key a Submit or Retry button carries; None, the tap answered, when it is unreadable."""
    try:
        return context.services.callbacks.decode(query.data).args[0]
    except (InvalidCallback, IndexError):
        await _answer(query, expired_button_text(t))
        return None


def _int_arg(context: BotContext, update: Update) -> int | None:
    try:
        return context.services.callbacks.decode(update.callback_query.data).int_arg(0)
    except InvalidCallback:
        return None


@_step
async def on_group(update: Update, context: BotContext, step: _Step) -> object:
    """Open one outcome group ("Could not charge ▸") to pick the detailed OCM status."""
    try:
        name = context.services.callbacks.decode(update.callback_query.data).args[0]
    except (InvalidCallback, IndexError):
        return State.OUTCOME
    group = next((g for g in group_outcomes(await step.service.outcomes()) if g.name == name), None)
    if group is None:
        return State.OUTCOME
    screen = views.outcome_group_screen(step.t, context.services.callbacks, step.draft, group)
    await _put_on_panel(update, context, step.draft, screen)
    return State.OUTCOME


@_step
async def on_outcome(update: Update, context: BotContext, step: _Step) -> object:
    """An outcome was chosen: on to the rating."""
    outcome_id = _int_arg(context, update)
    outcome = next((o for o in await step.service.outcomes() if o.id == outcome_id), None)
    if outcome is None:
        return State.OUTCOME
    return await _show(update, context, step, step.draft.with_outcome(outcome))


@_step
async def on_rating(update: Update, context: BotContext, step: _Step) -> object:
    """A rating (or Skip): on to the comment."""
    rating = _int_arg(context, update)
    if rating is None or not 0 <= rating <= 5:
        return State.RATING
    return await _show(update, context, step, step.draft.with_rating(rating or None))


@_step
async def on_comment_type(update: Update, context: BotContext, step: _Step) -> object:
    """Switch between a fault report and a general comment (offered for failed outcomes)."""
    comment_type = _int_arg(context, update)
    try:
        draft = step.draft.with_comment_type(comment_type or 0)
    except ValueError:
        return State.COMMENT
    return await _show(update, context, step, draft)


async def on_comment_text(update: Update, context: BotContext) -> object:
    """Typed text at the comment step: the comment, unless the driver has moved on since (a new search).

    Text the check-in does not take goes on to the other features (the search takes it for a place).
    """
    service = _service(context)
    user_id = update.effective_user.id
    draft = await service.load_draft(user_id) if service is not None else None
    if draft is None:
        return END  # nothing waits for a comment any more
    if draft.is_stale(service.now(), CONVERSATION_TIMEOUT):
        # Left too long (the timeout job does not survive a restart): end it, and the text is a place.
        await service.discard_draft(user_id)
        await _close_panel(context, draft)
        await _say(update, context, views.timed_out_text(await translator_for(update, context)))
        return END
    if not draft.takes_typed_comment:
        return None
    raise ApplicationHandlerStop(await _take_comment(update, context))


@_step
async def _take_comment(update: Update, context: BotContext, step: _Step) -> object:
    """The driver's comment: on to the summary."""
    try:
        draft = step.draft.with_comment(update.effective_message.text)
    except CommentTooLong as error:
        await update.effective_message.reply_text(views.comment_too_long_text(step.t, error.args[0]))
        return State.COMMENT
    return await _show(update, context, step, draft)


@_step
async def on_write_comment(update: Update, context: BotContext, step: _Step) -> object:
    """[✍️ Write a comment] on a paused comment step: typed text is the comment again."""
    return await _show(update, context, step, step.draft.at(Step.COMMENT))


async def on_other_activity(update: Update, context: BotContext) -> object:
    """The driver does something else at the comment step (a location, a command, another button).

    From now on typed text is not taken as the comment (it is most likely a place for the new
    search) until the driver comes back to the check-in's panel, which says so. The update goes
    on to the feature it is for.
    """
    service = _service(context)
    user = update.effective_user
    draft = await service.load_draft(user.id) if service is not None else None
    if draft is None:
        return END
    if not draft.takes_typed_comment:
        return None
    draft = await service.save_draft(user.id, draft.pause())
    if draft.panel_message_id is not None:
        t = await translator_for(update, context)
        screen = views.comment_screen(t, context.services.callbacks, draft)
        with contextlib.suppress(TelegramError):
            await context.bot.edit_message_text(
                screen.text,
                draft.chat_id,
                draft.panel_message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=screen.keyboard,
            )
    return None


@_step
async def on_skip_comment(update: Update, context: BotContext, step: _Step) -> object:
    """No comment (or keep the one given before going back): on to the summary."""
    return await _show(update, context, step, step.draft.with_comment(step.draft.comment))


@_step
async def on_back(update: Update, context: BotContext, step: _Step) -> object:
    """One step back; from an outcome group, back to the groups."""
    return await _show(update, context, step, step.draft.back() if step.draft.step is not Step.OUTCOME else step.draft)


async def on_submit(update: Update, context: BotContext) -> object:
    """Queue the check-in under its idempotency key and deliver it at once."""
    query = update.callback_query
    t = await translator_for(update, context)
    service = _service(context)
    if (key := await _outbox_key(context, query, t)) is None:
        return END
    user = update.effective_user
    draft = await service.load_draft(user.id) if service is not None else None
    if service is None or draft is None or draft.key != key:
        item = await service.storage.get_outbox(key) if service is not None else None
        mine = item is not None and item.user_id == user.id
        text = views.queued_item_text(t, item.status) if mine else views.no_open_checkin_text(t)
        await _answer(query, text, show_alert=True)
        return END
    if draft.is_stale(service.now(), CONVERSATION_TIMEOUT):
        await service.discard_draft(user.id)
        await _answer(query)
        with contextlib.suppress(BadRequest):
            await query.edit_message_text(views.timed_out_text(t))
        return END
    if draft.panel_message_id is None and query.message is not None:
        draft = replace(draft, panel_message_id=query.message.message_id)
    result = await service.submit(user.id, draft, language=t.language)
    if result.status is SubmitStatus.ALREADY_QUEUED:
        await _answer(query, views.queued_item_text(t, result.item and result.item.status), show_alert=True)
        return END
    if result.status is SubmitStatus.TOO_SOON:
        await _answer(query)
        await service.discard_draft(user.id)
        with contextlib.suppress(BadRequest):
            await query.edit_message_text(
                views.too_soon_text(t, draft.charger_name, result.wait or timedelta(0)), parse_mode=ParseMode.HTML
            )
        return END
    if result.status is not SubmitStatus.QUEUED:
        # No credentials any more (signed out meanwhile) or an incomplete draft: show where it stands.
        await _answer(query)
        step = _Step(t, service, draft)
        return await _show(update, context, step, draft.at(Step.SUMMARY if draft.is_complete else Step.OUTCOME))
    await _answer(query)
    with contextlib.suppress(BadRequest):
        await query.edit_message_text(views.sending_text(t, draft.charger_name), parse_mode=ParseMode.HTML)
    context.application.create_task(deliver_outbox(context.application), update=update)
    return END


async def on_cancel(update: Update, context: BotContext) -> object:
    """/cancel or [Cancel]: drop the draft; nothing is sent."""
    t = await translator_for(update, context)
    service = _service(context)
    draft = await service.load_draft(update.effective_user.id) if service is not None else None
    if service is not None:
        await service.discard_draft(update.effective_user.id)
    query = update.callback_query
    if query is not None:
        await _answer(query)
        with contextlib.suppress(BadRequest):
            await query.edit_message_text(views.cancelled_text(t))
        return END
    if draft is not None:
        await _close_panel(context, draft)
    await update.effective_message.reply_text(views.cancelled_text(t))
    return END


async def nothing_to_cancel(update: Update, context: BotContext) -> None:
    """/cancel with no check-in or sign-in open."""
    t = await translator_for(update, context)
    await update.effective_message.reply_text(views.nothing_to_cancel_text(t))


async def on_timeout(update: Update, context: BotContext) -> None:
    """Fifteen idle minutes: end politely and drop the draft."""
    t = await translator_for(update, context)
    service = _service(context)
    user = update.effective_user
    draft = await service.load_draft(user.id) if service is not None and user is not None else None
    if draft is None:
        return
    await service.discard_draft(user.id)
    await _close_panel(context, draft)
    with contextlib.suppress(Forbidden):
        await context.bot.send_message(draft.chat_id, views.timed_out_text(t))


# Delivery ----------------------------------------------------------------------------------------


async def deliver_outbox(application: Application) -> list[Delivery]:
    """Deliver every due check-in and tell each driver what happened."""
    services: Services | None = getattr(application.bot_data, "services", None)
    service = _checkin_service(services) if services is not None else None
    if service is None:
        return []
    deliveries = await service.outbox.deliver_due()
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


async def outbox_job(context: BotContext) -> None:
    """The repeating job: deliver whatever is due (each item's backoff decides when it is due)."""
    await deliver_outbox(context.application)


async def prune_job(context: BotContext) -> None:
    """Daily: forget check-ins delivered or refused a month ago (one instance does it)."""
    services: Services | None = getattr(context.application.bot_data, "services", None)
    if services is not None and services.checkin is not None:
        await services.checkin.outbox.prune()


def register_outbox_job(application: Application) -> None:
    if application.job_queue is None:
        log.warning("no job queue: queued check-ins are delivered only when a driver submits or retries")
        return
    settings: Settings | None = getattr(application.bot_data, "settings", None)
    interval = settings.outbox_poll_seconds if settings is not None else OUTBOX_POLL_SECONDS
    application.job_queue.run_repeating(outbox_job, interval=interval, first=1.0, name="checkin-outbox")
    application.job_queue.run_repeating(prune_job, interval=24 * 3600, first=600, name="checkin-outbox-prune")


async def on_retry(update: Update, context: BotContext) -> None:
    """[🔄 Retry now] under "OCM is not answering": try the driver's check-in at once."""
    query = update.callback_query
    t = await translator_for(update, context)
    service = _service(context)
    if (key := await _outbox_key(context, query, t)) is None:
        return
    item = await service.outbox.retry_now(key, update.effective_user.id) if service is not None else None
    if item is None:
        await _answer(query, expired_button_text(t))
        return
    if item.status != "pending":
        await _answer(query, views.queued_item_text(t, item.status), show_alert=True)
        return
    await _answer(query, views.retry_started_text(t))
    deliveries = await service.outbox.deliver_due()
    for delivery in deliveries:
        if delivery.item.key != key:
            await notify(context.application, delivery)
            continue
        screen = views.delivery_screen(t, context.services.callbacks, delivery)
        with contextlib.suppress(BadRequest):
            await query.edit_message_text(screen.text, parse_mode=ParseMode.HTML, reply_markup=screen.keyboard)


# Sign-in -----------------------------------------------------------------------------------------


async def login_start(update: Update, context: BotContext) -> object:
    """/login: private chats only; asks for the OCM e-mail."""
    t = await translator_for(update, context)
    message = update.effective_message
    if not _is_private(update):
        await message.reply_text(views.login_private_only_text(t))
        return END
    service = _service(context)
    if service is None or not service.accounts.enabled:
        await message.reply_text(views.login_disabled_text(t))
        return END
    await message.reply_text(views.ask_email_text(t))
    return LoginState.EMAIL


async def login_email(update: Update, context: BotContext) -> object:
    """The e-mail: kept in memory until the password arrives."""
    t = await translator_for(update, context)
    text = (update.effective_message.text or "").strip()
    if not looks_like_email(text):
        # It might be the password typed first: it must not stay in the chat either.
        with contextlib.suppress(TelegramError):
            await update.effective_message.delete()
        await context.bot.send_message(update.effective_chat.id, views.not_an_email_text(t))
        return LoginState.EMAIL
    _pending_emails[update.effective_user.id] = text
    await update.effective_message.reply_text(views.ask_password_text(t))
    return LoginState.PASSWORD


async def login_password(update: Update, context: BotContext) -> object:
    """The password: deleted from the chat at once, sent to OCM once, never stored or logged."""
    t = await translator_for(update, context)
    message = update.effective_message
    password = message.text or ""
    with contextlib.suppress(TelegramError):
        await message.delete()
    chat_id = update.effective_chat.id
    user_id = update.effective_user.id
    email = _pending_emails.pop(user_id, None)
    service = _service(context)
    if email is None or service is None:  # the bot restarted between e-mail and password
        await context.bot.send_message(chat_id, views.login_failed_text(t))
        return END
    try:
        username = await service.accounts.sign_in(user_id, email, password)
    except SignInDisabled:
        await context.bot.send_message(chat_id, views.login_disabled_text(t))
        return END
    except OcmAuthError as error:
        refused = error.is_user_token
        reason = views.wrong_password_text(t) if refused else views.login_failed_text(t, ocm_error_text(t, error))
        await context.bot.send_message(chat_id, reason)
        return END
    except OcmError as error:
        await context.bot.send_message(chat_id, views.login_failed_text(t, ocm_error_text(t, error)))
        return END
    resumed = await service.outbox.resume_after_sign_in(user_id)
    await context.bot.send_message(chat_id, views.signed_in_text(t, username, resumed), parse_mode=ParseMode.HTML)
    if resumed:
        context.application.create_task(deliver_outbox(context.application), update=update)
    await _reshow_open_summary(update, context, service, t)
    return END


async def _reshow_open_summary(update: Update, context: BotContext, service: CheckinService, t: Translator) -> None:
    """A check-in waiting at its summary gets its [Submit] button now that the driver is signed in."""
    draft = await service.load_draft(update.effective_user.id)
    if draft is None or draft.step is not Step.SUMMARY:
        return
    await context.bot.send_message(update.effective_chat.id, views.resume_summary_hint_text(t))
    await _show(update, context, _Step(t, service, draft), draft)


async def login_cancel(update: Update, context: BotContext) -> object:
    _pending_emails.pop(update.effective_user.id, None)
    t = await translator_for(update, context)
    await update.effective_message.reply_text(views.login_cancelled_text(t))
    return END


async def login_timeout(update: Update, context: BotContext) -> None:
    if update.effective_user is not None:
        _pending_emails.pop(update.effective_user.id, None)
    t = await translator_for(update, context)
    if update.effective_chat is not None:
        with contextlib.suppress(Forbidden):
            await context.bot.send_message(update.effective_chat.id, views.login_timed_out_text(t))


async def logout(update: Update, context: BotContext) -> None:
    """/logout: forget the driver's OCM sign-in."""
    t = await translator_for(update, context)
    service = _service(context)
    was_signed_in = await service.accounts.sign_out(update.effective_user.id) if service is not None else False
    await update.effective_message.reply_text(views.signed_out_text(t, was_signed_in))


# Wiring ------------------------------------------------------------------------------------------


Callback = Callable[[Update, BotContext], Awaitable[object]]


def _handled(callback: Callback) -> Callback:
    """``callback``, and then no later handler group sees the update.

    A check-in answer must not also reach the catch-alls of a later group ("I don't know that
    command", "this button has expired"). Inside the conversation PTB takes the exception's state
    as the new state (ApplicationHandlerStop, python-telegram-bot's documented way to stop groups).
    """

    @wraps(callback)
    async def run(update: Update, context: BotContext) -> object:
        raise ApplicationHandlerStop(await callback(update, context))

    return run


async def _answer(query: CallbackQuery, text: str | None = None, **options: object) -> None:
    """Answer a button tap; a query answered before (a replayed update) or too old is left alone."""
    with contextlib.suppress(BadRequest):
        await query.answer(text, **options)


def _is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


def _step_handlers() -> dict[str, Callback]:
    return {
        views.OUTCOME: on_outcome,
        views.GROUP: on_group,
        views.BACK: on_back,
        views.RATE: on_rating,
        views.COMMENT_TYPE: on_comment_type,
        views.SKIP_COMMENT: on_skip_comment,
        views.WRITE_COMMENT: on_write_comment,
        views.SUBMIT: on_submit,
        views.CANCEL: on_cancel,
    }


def _buttons(action: str) -> CallbackQueryHandler:
    return CallbackQueryHandler(_handled(_step_handlers()[action]), pattern=action_pattern(action))


def checkin_conversation() -> ConversationHandler:
    text = filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        entry_points=[
            CallbackQueryHandler(_handled(start_from_button), pattern=action_pattern(views.START)),
            CommandHandler("checkin", _handled(start_from_command)),
            CommandHandler("start", _handled(start_from_deep_link), filters=filters.Regex(_DEEP_LINK)),
        ],
        states={
            State.OUTCOME: [_buttons(views.OUTCOME), _buttons(views.GROUP), _buttons(views.BACK)],
            State.RATING: [_buttons(views.RATE), _buttons(views.BACK)],
            State.COMMENT: [
                MessageHandler(text, on_comment_text),  # stops the update itself when it takes it
                _buttons(views.COMMENT_TYPE),
                _buttons(views.SKIP_COMMENT),
                _buttons(views.WRITE_COMMENT),
                _buttons(views.BACK),
                # Last, and never stopping the update: the driver has moved on to something else.
                MessageHandler(filters.UpdateType.MESSAGE & ~filters.TEXT, on_other_activity),
                MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND & ~_CANCEL_COMMAND, on_other_activity),
                CallbackQueryHandler(on_other_activity, pattern=views.NOT_A_CHECKIN_BUTTON),
            ],
            State.SUMMARY: [_buttons(views.SUBMIT), _buttons(views.BACK)],
            ConversationHandler.TIMEOUT: [TypeHandler(Update, on_timeout)],
        },
        fallbacks=[
            CommandHandler("cancel", _handled(on_cancel)),
            _buttons(views.CANCEL),
            # A button of another step than the conversation's: on an old panel it has expired (the
            # step handler checks the panel); on the draft's panel it is the screen the driver saw
            # when the bot was killed after saving the next step but before showing it.
            *(_buttons(action) for action in (*_STEP_ACTIONS, views.SUBMIT)),
        ],
        allow_reentry=True,
        conversation_timeout=CONVERSATION_TIMEOUT,
        name=CONVERSATION_NAME,
        persistent=True,
    )


def login_conversation() -> ConversationHandler:
    text = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE
    return ConversationHandler(
        entry_points=[CommandHandler("login", _handled(login_start))],
        states={
            LoginState.EMAIL: [MessageHandler(text, _handled(login_email))],
            LoginState.PASSWORD: [MessageHandler(text, _handled(login_password))],
            ConversationHandler.TIMEOUT: [TypeHandler(Update, login_timeout)],
        },
        fallbacks=[CommandHandler("cancel", _handled(login_cancel))],
        allow_reentry=True,
        conversation_timeout=LOGIN_TIMEOUT,
        name="login",
        # Persistent so a password typed after a restart is still taken (and deleted) as one, never
        # searched as a place. The e-mail is not kept: after a restart the driver starts over.
        persistent=True,
    )


def priority_handlers() -> list[BaseHandler]:
    """The two conversations, in a group before every feature's (like settings' priority handlers).

    A typed comment, e-mail or password must reach its conversation, not the search (group 0),
    which would take it for a place. Sign-in comes first so its answers never become a comment.
    Each handler stops the update (ApplicationHandlerStop) only when it used it.
    """
    return [login_conversation(), checkin_conversation()]


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("logout", _handled(logout)),
        CallbackQueryHandler(_handled(on_retry), pattern=action_pattern(views.RETRY)),
        # A second tap on Submit, after the conversation ended: "already on its way", not "expired".
        CallbackQueryHandler(_handled(on_submit), pattern=action_pattern(views.SUBMIT)),
        CommandHandler("cancel", _handled(nothing_to_cancel)),
    ]


def jobs() -> list:
    return [register_outbox_job]


def restored_conversations() -> dict[str, StatesFromStorage]:
    """After a restart the check-in goes on at its draft's step (see _show)."""
    return {CONVERSATION_NAME: _states_from_drafts}


async def _states_from_drafts(storage: Storage) -> dict[tuple[int, int], State]:
    """Every open check-in's conversation (key: chat and user, as ConversationHandler keys it) at its draft's step.

    The draft is saved with its step before the driver sees the step, so this is never behind
    what the driver sees; conversation states written once a second could be (a kill -9).
    """
    states: dict[tuple[int, int], State] = {}
    for user_id, data in await storage.list_drafts():
        draft = CheckinDraft.from_dict(data)
        if draft is not None:
            states[(draft.chat_id, user_id)] = draft.step
    return states
