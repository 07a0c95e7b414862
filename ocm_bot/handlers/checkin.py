"""Check-in conversation (charger -> outcome -> rating -> comment -> summary -> POST /comment).

Entry: the "✅ Check in" button on a card (callback ``ci|<id>``), ``/checkin <id>``, or the deep link
``/start checkin-<id>`` that group cards use so a check-in continues in a private chat. The draft lives
in storage with its step, saved before the driver sees that step, and the conversation reads its
state from the draft on every update (``_stored_step``; at start too, ``restored_conversations``), so a
half-finished check-in survives even a kill -9 at any moment and goes on on whichever instance behind
the webhook gets the driver's next update; a submission goes to the outbox and is delivered by
:func:`ocm_bot.handlers.outbox.deliver_outbox` (right away, then by a repeating job with backoff);
signing in is :mod:`ocm_bot.handlers.signin`. The states are the draft's steps::

    OUTCOME --outcome--> RATING --rating/skip--> COMMENT --text/skip--> SUMMARY --submit--> END
       ^------back---------'  ^------back-----------'  ^------back-----------'  |
                                                                 text (a new comment) --'
    /cancel and [Cancel] end it anywhere; 15 idle minutes end it politely.

Over 400 lines on purpose: it is one conversation, and its entry points, steps and states table read
best together (a step's handler, the screen it saves before showing, and the state it returns).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from functools import wraps

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from ocm_bot.context import BotContext
from ocm_bot.domain.checkin import (
    CheckinDraft,
    CheckinService,
    CommentTooLong,
    Step,
    SubmitStatus,
    group_outcomes,
    parse_charger_id,
)
from ocm_bot.domain.outbox import Submitter
from ocm_bot.errors import OcmBotError
from ocm_bot.handlers.common import Callback, answer_query, handled, is_private, translator_for
from ocm_bot.handlers.conversation import ConversationKey, StoredConversationHandler
from ocm_bot.handlers.outbox import deliver_outbox, outbox_key
from ocm_bot.i18n import Translator
from ocm_bot.storage.base import Storage
from ocm_bot.storage.persistence import StatesFromStorage
from ocm_bot.views import checkin as views
from ocm_bot.views import delivery
from ocm_bot.views.callbacks import InvalidCallback, action_pattern
from ocm_bot.views.common import expired_button_text, unexpected_error_text

log = logging.getLogger(__name__)

CONVERSATION_NAME = "checkin"
CONVERSATION_TIMEOUT = timedelta(minutes=15)

State = Step
"""The conversation's named states are the draft's steps (``outcome``, ``rating``, ...)."""


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


# Entry -------------------------------------------------------------------------------------------


async def start_from_button(update: Update, context: BotContext) -> object:
    """The "✅ Check in" button on a charger card."""
    query = update.callback_query
    if query is None:
        return END
    try:
        charger_id = context.services.callbacks.decode(query.data).int_arg(0)
    except InvalidCallback:
        t = await translator_for(update, context)
        await answer_query(query, expired_button_text(t))
        return END
    if not is_private(update):
        # answerCallbackQuery may open a t.me/<bot>?start= link: the check-in goes on in private.
        await answer_query(query, url=views.private_checkin_url(context.bot.username, charger_id))
        return END
    await answer_query(query)
    return await _begin(update, context, charger_id)


async def start_from_command(update: Update, context: BotContext) -> object:
    """``/checkin <id>``."""
    message = update.effective_message
    if message is None:
        return END
    t = await translator_for(update, context)
    charger_id = parse_charger_id(" ".join(context.args or []))
    if charger_id is None:
        await message.reply_text(views.checkin_usage_text(t))
        return END
    if not is_private(update):
        screen = views.private_chat_screen(t, context.bot.username, charger_id)
        await message.reply_text(screen.text, parse_mode=ParseMode.HTML, reply_markup=screen.keyboard)
        return END
    return await _begin(update, context, charger_id)


async def start_from_deep_link(update: Update, context: BotContext) -> object:
    """``/start checkin-<id>``, from a group card's button."""
    message = update.effective_message
    match = _DEEP_LINK.match(message.text or "") if message is not None else None
    if match is None or not is_private(update):
        return END
    return await _begin(update, context, int(match.group(1)))


async def _begin(update: Update, context: BotContext, charger_id: int) -> object:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return END
    t = await translator_for(update, context)
    service = context.services.checkin
    message = update.effective_message
    if service is None:  # no storage: nowhere to keep a draft
        await context.bot.send_message(chat.id, unexpected_error_text(t))
        return END
    user_id = user.id
    lookup = await service.lookup_charger(charger_id)
    if not lookup.found:
        await context.bot.send_message(chat.id, views.unknown_charger_text(t, charger_id))
        return END
    needs_sign_in = await service.submitter_for(user_id) is Submitter.NONE
    if needs_sign_in and not service.accounts.enabled:
        screen = views.cannot_post_screen(t, charger_id, lookup.name)
        await context.bot.send_message(chat.id, screen.text, parse_mode=ParseMode.HTML, reply_markup=screen.keyboard)
        return END
    wait = await service.wait_before(user_id, charger_id)
    if wait is not None:
        await context.bot.send_message(
            chat.id, views.too_soon_text(t, lookup.name, wait).text, parse_mode=ParseMode.HTML
        )
        return END
    draft = CheckinDraft.start(charger_id=charger_id, charger_name=lookup.name, chat_id=chat.id)
    groups = group_outcomes(await service.outcomes())
    screen = views.outcome_screen(t, context.services.callbacks, draft, groups, needs_sign_in=needs_sign_in)
    # Saved before it is shown (see _show); the first tap on the panel makes it the draft's panel.
    await service.save_draft(user_id, draft)
    await context.bot.send_message(
        chat.id,
        screen.text,
        parse_mode=ParseMode.HTML,
        reply_markup=screen.keyboard,
        reply_to_message_id=message.message_id if message is not None and update.callback_query is None else None,
    )
    return State.OUTCOME


# Steps -------------------------------------------------------------------------------------------


class _Step:
    """What every step handler needs: the translator, the service, the driver's open draft and their id."""

    def __init__(self, t: Translator, service: CheckinService, draft: CheckinDraft, user_id: int) -> None:
        self.t, self.service, self.draft, self.user_id = t, service, draft, user_id


class _Stop(OcmBotError):
    """Leave a step handler early, moving the conversation to ``state`` (None keeps the state)."""

    def __init__(self, state: object) -> None:
        self.state = state


StepHandler = Callable[[Update, BotContext, _Step], Awaitable[object]]


def _step(handler: StepHandler) -> Callback:
    """Run ``handler`` with the driver's open draft; a gone or expired draft ends the conversation."""

    @wraps(handler)
    async def run(update: Update, context: BotContext) -> object:
        try:
            step = await _open_step(update, context)
            if update.callback_query is not None:
                await answer_query(update.callback_query)
            return await handler(update, context, step)
        except _Stop as stop:
            return stop.state

    return run


async def _open_step(update: Update, context: BotContext) -> _Step:
    """The driver's draft; raises _Stop after telling them it is gone, expired or not this panel's."""
    t = await translator_for(update, context)
    service = context.services.checkin
    query, user = update.callback_query, update.effective_user
    draft = await service.load_draft(user.id) if service is not None and user is not None else None
    if service is None or user is None or draft is None:
        if query is not None:
            await answer_query(query, views.no_open_checkin_text(t), show_alert=True)
        else:
            await _say(update, context, views.no_open_checkin_text(t))
        raise _Stop(END)
    if draft.is_stale(service.now(), CONVERSATION_TIMEOUT):
        # The timeout job does not survive a restart; the draft's age does.
        await service.discard_draft(user.id)
        await _close_panel(context, draft)
        if query is not None:
            await answer_query(query)
        await _say(update, context, views.timed_out_text(t))
        raise _Stop(END)
    if query is not None and query.message is not None:
        if draft.panel_message_id is None:
            draft = replace(draft, panel_message_id=query.message.message_id)
        elif query.message.message_id != draft.panel_message_id:
            await answer_query(query, expired_button_text(t))
            raise _Stop(None)
    return _Step(t, service, draft, user.id)


async def _show(update: Update, context: BotContext, step: _Step, draft: CheckinDraft) -> object:
    """Save ``draft`` and show its step on the panel (edited in place, or a new panel after text).

    Showing comes last: the driver may answer as soon as they see it, and every instance (after a
    restart too) reads the conversation's state from the saved draft's step.
    """
    t, service, codec = step.t, step.service, context.services.callbacks
    draft = draft.resume()  # the driver is on the check-in's panel again
    outcomes = await service.outcomes()
    if draft.step is Step.OUTCOME:
        needs_sign_in = await service.submitter_for(step.user_id) is Submitter.NONE
        screen = views.outcome_screen(t, codec, draft, group_outcomes(outcomes), needs_sign_in=needs_sign_in)
    elif draft.step is Step.RATING:
        screen = views.rating_screen(t, codec, draft)
    elif draft.step is Step.COMMENT:
        screen = views.comment_screen(t, codec, draft)
    else:
        submitter = await service.submitter_for(step.user_id)
        screen = views.summary_screen(t, codec, draft, outcomes, submitter, sign_in_available=service.accounts.enabled)
    query = update.callback_query
    if query is None or query.message is None:
        # After a typed comment the panel moves below it (the new one is remembered once sent).
        await _close_panel(context, draft)
        draft = replace(draft, panel_message_id=None)
    await service.save_draft(step.user_id, draft)
    sent = await _put_on_panel(update, context, draft, screen)
    if sent is not None:
        # Known at once, so a comment typed again at the summary closes this one (see on_comment_text).
        await service.save_draft(step.user_id, replace(draft, panel_message_id=sent.message_id))
    return draft.step


async def _put_on_panel(
    update: Update, context: BotContext, draft: CheckinDraft, screen: views.Screen
) -> Message | None:
    """Edit the tapped panel; or send a new one, returned."""
    query = update.callback_query
    if query is not None and query.message is not None:
        with contextlib.suppress(BadRequest):  # "message is not modified" after a repeated tap
            await query.edit_message_text(screen.text, parse_mode=ParseMode.HTML, reply_markup=screen.keyboard)
        return None
    return await context.bot.send_message(
        draft.chat_id, screen.text, parse_mode=ParseMode.HTML, reply_markup=screen.keyboard
    )


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


def _int_arg(context: BotContext, update: Update) -> int | None:
    if update.callback_query is None:
        return None
    try:
        return context.services.callbacks.decode(update.callback_query.data).int_arg(0)
    except InvalidCallback:
        return None


@_step
async def on_group(update: Update, context: BotContext, step: _Step) -> object:
    """Open one outcome group ("Could not charge ▸") to pick the detailed OCM status."""
    try:
        name = context.services.callbacks.decode(update.callback_query.data).args[0] if update.callback_query else ""
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
    """Typed text at the comment or summary step: the comment, unless the driver has moved on since.

    At the summary it replaces the comment and the summary comes again: after a kill -9 between
    saving a typed comment and sending its summary, the driver sees no summary and types it again.
    Text the check-in does not take goes on to the other features (the search takes it for a place).
    """
    service, user = context.services.checkin, update.effective_user
    draft = await service.load_draft(user.id) if service is not None and user is not None else None
    if service is None or user is None or draft is None:
        return END  # nothing waits for a comment any more
    if draft.is_stale(service.now(), CONVERSATION_TIMEOUT):
        # Left too long (the timeout job does not survive a restart): end it, and the text is a place.
        await service.discard_draft(user.id)
        await _close_panel(context, draft)
        await _say(update, context, views.timed_out_text(await translator_for(update, context)))
        return END
    if not _takes_typed_text(draft):
        return None
    raise ApplicationHandlerStop(await _take_comment(update, context))


def _takes_typed_text(draft: CheckinDraft) -> bool:
    """Typed text is the comment at the comment step and, to replace it, at the summary (unless paused)."""
    return draft.takes_typed_comment or (draft.step is Step.SUMMARY and not draft.paused)


@_step
async def _take_comment(update: Update, context: BotContext, step: _Step) -> object:
    """The driver's comment: on to the summary."""
    message = update.effective_message
    if message is None:
        return step.draft.step
    try:
        draft = step.draft.with_comment(message.text)
    except CommentTooLong as error:
        await message.reply_text(views.comment_too_long_text(step.t, error.args[0]))
        return step.draft.step
    return await _show(update, context, step, draft)


@_step
async def on_write_comment(update: Update, context: BotContext, step: _Step) -> object:
    """[✍️ Write a comment] on a paused comment step: typed text is the comment again."""
    return await _show(update, context, step, step.draft.at(Step.COMMENT))


async def on_other_activity(update: Update, context: BotContext) -> object:
    """The driver does something else at the comment or summary step (a location, a command, another button).

    From now on typed text is not taken as the comment (it is most likely a place for the new
    search) until the driver comes back to the check-in's panel, which says so. The update goes
    on to the feature it is for.
    """
    service = context.services.checkin
    user = update.effective_user
    draft = await service.load_draft(user.id) if service is not None and user is not None else None
    if service is None or user is None or draft is None:
        return END
    if not _takes_typed_text(draft):
        return None
    draft = await service.save_draft(user.id, draft.pause())
    if draft.step is Step.COMMENT and draft.panel_message_id is not None:
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
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return END
    t = await translator_for(update, context)
    service = context.services.checkin
    if (key := await outbox_key(context, query, t)) is None:
        return END
    draft = await service.load_draft(user.id) if service is not None else None
    if service is None or draft is None or draft.key != key:
        item = await service.storage.get_outbox(key) if service is not None else None
        mine = item is not None and item.user_id == user.id
        text = delivery.queued_item_text(t, item.status) if item is not None and mine else views.no_open_checkin_text(t)
        await answer_query(query, text, show_alert=True)
        return END
    if draft.is_stale(service.now(), CONVERSATION_TIMEOUT):
        await service.discard_draft(user.id)
        await answer_query(query)
        with contextlib.suppress(BadRequest):
            await query.edit_message_text(views.timed_out_text(t))
        return END
    if draft.panel_message_id is None and query.message is not None:
        draft = replace(draft, panel_message_id=query.message.message_id)
    result = await service.submit(user.id, draft, language=t.language)
    if result.status is SubmitStatus.ALREADY_QUEUED:
        status = result.item.status if result.item is not None else None
        await answer_query(query, delivery.queued_item_text(t, status), show_alert=True)
        return END
    if result.status is SubmitStatus.TOO_SOON:
        await answer_query(query)
        await service.discard_draft(user.id)
        with contextlib.suppress(BadRequest):
            await query.edit_message_text(
                views.too_soon_text(t, draft.charger_name, result.wait or timedelta(0)).text, parse_mode=ParseMode.HTML
            )
        return END
    if result.status is not SubmitStatus.QUEUED:
        # No credentials any more (signed out meanwhile) or an incomplete draft: show where it stands.
        await answer_query(query)
        step = _Step(t, service, draft, user.id)
        return await _show(update, context, step, draft.at(Step.SUMMARY if draft.is_complete else Step.OUTCOME))
    await answer_query(query)
    with contextlib.suppress(BadRequest):
        await query.edit_message_text(views.sending_text(t, draft.charger_name).text, parse_mode=ParseMode.HTML)
    context.application.create_task(deliver_outbox(context.application), update=update)
    return END


async def on_cancel(update: Update, context: BotContext) -> object:
    """/cancel or [Cancel]: drop the draft; nothing is sent."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return END
    t = await translator_for(update, context)
    service = context.services.checkin
    draft = await service.load_draft(user.id) if service is not None else None
    if service is not None:
        await service.discard_draft(user.id)
    query = update.callback_query
    if query is not None:
        await answer_query(query)
        with contextlib.suppress(BadRequest):
            await query.edit_message_text(views.cancelled_text(t))
        return END
    if draft is not None:
        await _close_panel(context, draft)
    await message.reply_text(views.cancelled_text(t))
    return END


async def nothing_to_cancel(update: Update, context: BotContext) -> None:
    """/cancel with no check-in or sign-in open."""
    if update.effective_message is None:
        return
    t = await translator_for(update, context)
    await update.effective_message.reply_text(views.nothing_to_cancel_text(t))


async def on_timeout(update: Update, context: BotContext) -> None:
    """Fifteen idle minutes: end politely and drop the draft.

    The timeout runs on the instance that took the conversation's last update here; when another
    instance took a later step, the draft is younger than the timeout and that instance's timeout counts.
    """
    t = await translator_for(update, context)
    service = context.services.checkin
    user = update.effective_user
    draft = await service.load_draft(user.id) if service is not None and user is not None else None
    if service is None or user is None or draft is None or not draft.is_stale(service.now(), CONVERSATION_TIMEOUT):
        return
    await service.discard_draft(user.id)
    await _close_panel(context, draft)
    with contextlib.suppress(Forbidden):
        await context.bot.send_message(draft.chat_id, views.timed_out_text(t))


async def reshow_open_summary(update: Update, context: BotContext, service: CheckinService, t: Translator) -> None:
    """A check-in waiting at its summary gets its [Submit] button now that the driver is signed in."""
    chat, user = update.effective_chat, update.effective_user
    draft = await service.load_draft(user.id) if chat is not None and user is not None else None
    if chat is None or user is None or draft is None or draft.step is not Step.SUMMARY:
        return
    await context.bot.send_message(chat.id, views.resume_summary_hint_text(t))
    await _show(update, context, _Step(t, service, draft, user.id), draft)


# Wiring ------------------------------------------------------------------------------------------


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
    return CallbackQueryHandler(handled(_step_handlers()[action]), pattern=action_pattern(action))


def _other_activity() -> list[BaseHandler]:
    """Last in a step that takes typed text, and never stopping the update: the driver has moved on."""
    return [
        MessageHandler(filters.UpdateType.MESSAGE & ~filters.TEXT, on_other_activity),
        MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND & ~_CANCEL_COMMAND, on_other_activity),
        CallbackQueryHandler(on_other_activity, pattern=views.NOT_A_CHECKIN_BUTTON),
    ]


def checkin_conversation() -> StoredConversationHandler:
    text = filters.TEXT & ~filters.COMMAND
    return StoredConversationHandler(
        entry_points=[
            CallbackQueryHandler(handled(start_from_button), pattern=action_pattern(views.START)),
            CommandHandler("checkin", handled(start_from_command)),
            CommandHandler("start", handled(start_from_deep_link), filters=filters.Regex(_DEEP_LINK)),
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
                *_other_activity(),
            ],
            State.SUMMARY: [
                _buttons(views.SUBMIT),
                _buttons(views.BACK),
                MessageHandler(text, on_comment_text),  # replaces the comment (see on_comment_text)
                *_other_activity(),
            ],
            ConversationHandler.TIMEOUT: [TypeHandler(Update, on_timeout)],
        },
        fallbacks=[
            CommandHandler("cancel", handled(on_cancel)),
            _buttons(views.CANCEL),
            # A button of another step than the conversation's: on an old panel it has expired (the
            # step handler checks the panel); on the draft's panel it is the screen the driver saw
            # when the bot was killed after saving the next step but before showing it.
            *(_buttons(action) for action in (*_STEP_ACTIONS, views.SUBMIT)),
        ],
        conversation_timeout=CONVERSATION_TIMEOUT,
        name=CONVERSATION_NAME,
        stored_step=_stored_step,  # any instance goes on at the draft's step (see _show)
    )


def priority_handlers() -> list[BaseHandler]:
    """The conversation, in a group before every feature's (like settings' priority handlers).

    A typed comment must reach it, not the search (group 0), which would take it for a place.
    Sign-in's group comes first (app.register_handlers) so its answers never become a comment.
    Each handler stops the update (ApplicationHandlerStop) only when it used it.
    """
    return [checkin_conversation()]


def handlers() -> list[BaseHandler]:
    return [
        # A second tap on Submit, after the conversation ended: "already on its way", not "expired".
        CallbackQueryHandler(handled(on_submit), pattern=action_pattern(views.SUBMIT)),
        CommandHandler("cancel", handled(nothing_to_cancel)),
    ]


async def _stored_step(context: BotContext, key: ConversationKey) -> Step | None:
    """The step of the driver's open check-in in this chat, as saved before the driver saw it."""
    service = context.services.checkin
    draft = await service.load_draft(int(key[1])) if service is not None else None
    return draft.step if draft is not None and draft.chat_id == key[0] else None


def restored_conversations() -> dict[str, StatesFromStorage]:
    """After a restart the check-in goes on at its draft's step (see _show)."""
    return {CONVERSATION_NAME: _states_from_drafts}


async def _states_from_drafts(storage: Storage) -> dict[ConversationKey, object]:
    """Every open check-in's conversation (key: chat and user, as ConversationHandler keys it) at its draft's step.

    The draft is saved with its step before the driver sees the step, so this is never behind
    what the driver sees; conversation states written once a second could be (a kill -9).
    """
    states: dict[ConversationKey, object] = {}
    for user_id, data in await storage.list_drafts():
        draft = CheckinDraft.from_dict(data)
        if draft is not None:
            states[(draft.chat_id, user_id)] = draft.step
    return states
