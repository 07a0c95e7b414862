"""What a driver sees while checking in and signing in (UX.md, "Check-in"). Pure functions.

Every screen is a :class:`Screen`: HTML text (OCM text escaped) and its inline keyboard, with
signed callback data from :class:`~ocm_bot.views.callbacks.CallbackCodec`. Example::

    screen = outcome_screen(t, codec, draft, group_outcomes(outcomes))
    await message.reply_text(screen.text, parse_mode="HTML", reply_markup=screen.keyboard)

What the driver is told after an attempt to post is :mod:`ocm_bot.views.delivery`; the /login and
/logout messages are :mod:`ocm_bot.views.signin`, as the handlers are split.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ocm_bot.domain.checkin import (
    FAULT_REPORT,
    GENERAL_COMMENT,
    MAX_COMMENT_CHARS,
    CheckinDraft,
    Outcome,
    OutcomeGroup,
    find_outcome,
)
from ocm_bot.domain.outbox import Submitter
from ocm_bot.i18n import Translator
from ocm_bot.ocm.identity import add_comment_url
from ocm_bot.views.callbacks import CallbackCodec
from ocm_bot.views.common import View, reading_order
from ocm_bot.views.format import stars
from ocm_bot.views.html import Html, bold, gettext_html, italic, join, ngettext_html
from ocm_bot.views.vocabulary import group_label, outcome_label

# Callback actions (``ci`` is the "Check in" button on search cards and details).
START = "ci"
OUTCOME = "ci-o"
GROUP = "ci-g"
BACK = "ci-b"
RATE = "ci-r"
COMMENT_TYPE = "ci-t"
SKIP_COMMENT = "ci-s"
SUBMIT = "ci-y"
CANCEL = "ci-x"
RETRY = "ci-q"
WRITE_COMMENT = "ci-w"
NOT_A_CHECKIN_BUTTON = re.compile(r"^(?!ci(?:-[a-z])?\|)")
"""Callback data of every other feature's buttons (a CallbackQueryHandler pattern)."""

SKIP_RATING = 0


Screen = View
"""A check-in screen is a :class:`~ocm_bot.views.common.View` like every other."""


def _name(draft_or_name: CheckinDraft | str) -> Html:
    name = draft_or_name.charger_name if isinstance(draft_or_name, CheckinDraft) else draft_or_name
    return bold(name)


def _cancel_button(t: Translator, codec: CallbackCodec) -> InlineKeyboardButton:
    return InlineKeyboardButton(t.gettext("Cancel"), callback_data=codec.encode(CANCEL))


def _back_button(t: Translator, codec: CallbackCodec) -> InlineKeyboardButton:
    return InlineKeyboardButton(t.gettext("‹ Back"), callback_data=codec.encode(BACK))


def add_comment_button(t: Translator, charger_id: int) -> InlineKeyboardButton:
    """Where the driver can check in by hand when the bot cannot post for them."""
    return InlineKeyboardButton(t.gettext("Check in on Open Charge Map ↗"), url=add_comment_url(charger_id))


def add_comment_keyboard(t: Translator, charger_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[add_comment_button(t, charger_id)]])


# Before step 1: a bot that cannot post -----------------------------------------------------------


def cannot_post_screen(t: Translator, charger_id: int, charger_name: str) -> Screen:
    """Neither a write key nor a possible sign-in: say so at once and send the driver to OCM's own page."""
    text = gettext_html(
        t,
        "This bot cannot post check-ins to Open Charge Map. You can check in at {name} on the "
        "Open Charge Map site instead:",
        name=_name(charger_name),
    )
    return Screen(text, add_comment_keyboard(t, charger_id))


# Step 1: outcome ---------------------------------------------------------------------------------


def outcome_screen(
    t: Translator,
    codec: CallbackCodec,
    draft: CheckinDraft,
    groups: tuple[OutcomeGroup, ...],
    *,
    needs_sign_in: bool = False,
) -> Screen:
    rows = []
    for group in groups:
        if group.is_single:
            outcome = group.outcomes[0]
            data = codec.encode(OUTCOME, outcome.id)
            label = group_label(t, group)
        else:
            data = codec.encode(GROUP, group.name)
            label = f"{group_label(t, group)} ▸"
        if draft.outcome_id is not None and any(o.id == draft.outcome_id for o in group.outcomes):
            label = f"• {label}"
        rows.append([InlineKeyboardButton(label, callback_data=data)])
    rows.append([_cancel_button(t, codec)])
    text = gettext_html(t, "How did it go at {name}?", name=_name(draft))
    if needs_sign_in:
        # Said now, not after the driver has filled everything in.
        text += "\n" + gettext_html(t, "To post it, I need you to sign in to Open Charge Map: send /login at any step.")
    return Screen(text, InlineKeyboardMarkup(rows))


def outcome_group_screen(t: Translator, codec: CallbackCodec, draft: CheckinDraft, group: OutcomeGroup) -> Screen:
    rows = []
    for outcome in group.outcomes:
        label = outcome_label(t, outcome)
        if outcome.id == draft.outcome_id:
            label = f"• {label}"
        rows.append([InlineKeyboardButton(label, callback_data=codec.encode(OUTCOME, outcome.id))])
    rows.append([_back_button(t, codec), _cancel_button(t, codec)])
    text = gettext_html(t, "How did it go at {name}?", name=_name(draft)) + "\n" + group_label(t, group)
    return Screen(text, InlineKeyboardMarkup(rows))


# Step 2: rating ----------------------------------------------------------------------------------


def rating_screen(t: Translator, codec: CallbackCodec, draft: CheckinDraft) -> Screen:
    numbers = [
        InlineKeyboardButton(f"•{n}•" if draft.rating == n else str(n), callback_data=codec.encode(RATE, n))
        for n in range(1, 6)
    ]
    rows = [
        reading_order(t, numbers),  # 1 (poor) where reading starts
        [
            InlineKeyboardButton(t.gettext("Skip"), callback_data=codec.encode(RATE, SKIP_RATING)),
            _back_button(t, codec),
            _cancel_button(t, codec),
        ],
    ]
    text = gettext_html(t, "Rate {name}: 1 is poor, 5 is excellent.", name=_name(draft))
    return Screen(text, InlineKeyboardMarkup(rows))


# Step 3: comment ---------------------------------------------------------------------------------


def comment_screen(t: Translator, codec: CallbackCodec, draft: CheckinDraft) -> Screen:
    rows = []
    if draft.paused:
        # The driver searched meanwhile, so what they type now is a place: the panel must say so.
        lines = [
            gettext_html(
                t,
                "Anything to add for other drivers? Tap ✍️ Write a comment, then send it, or tap Skip. "
                "Until then, what you type is searched as a place.",
            )
        ]
        rows.append([InlineKeyboardButton(t.gettext("✍️ Write a comment"), callback_data=codec.encode(WRITE_COMMENT))])
    else:
        lines = [gettext_html(t, "Anything to add for other drivers? Send a message, or tap Skip.")]
    if draft.outcome_failed:
        fault = draft.comment_type_id == FAULT_REPORT
        lines.append(
            gettext_html(t, "It will be posted as a fault report, which the operator is told about.")
            if fault
            else gettext_html(t, "It will be posted as a general comment.")
        )
        rows.append(
            [
                InlineKeyboardButton(
                    ("✓ " if fault else "") + gettext_html(t, "🛠 Fault report"),
                    callback_data=codec.encode(COMMENT_TYPE, FAULT_REPORT),
                ),
                InlineKeyboardButton(
                    ("" if fault else "✓ ") + gettext_html(t, "💬 General comment"),
                    callback_data=codec.encode(COMMENT_TYPE, GENERAL_COMMENT),
                ),
            ]
        )
    if draft.comment:
        lines.append(gettext_html(t, "Your comment so far: {comment}", comment=italic(draft.comment)))
    skip = t.gettext("Keep this comment") if draft.comment else t.gettext("Skip")
    rows.append(
        [
            InlineKeyboardButton(skip, callback_data=codec.encode(SKIP_COMMENT)),
            _back_button(t, codec),
            _cancel_button(t, codec),
        ]
    )
    return Screen(join("\n", lines), InlineKeyboardMarkup(rows))


def comment_too_long_text(t: Translator, length: int) -> str:
    return t.gettext(
        "That is {length} characters; Open Charge Map takes at most {limit}. Please send a shorter comment.",
        length=t.number(length, digits=0),
        limit=t.number(MAX_COMMENT_CHARS, digits=0),
    )


# Step 4: summary ---------------------------------------------------------------------------------


def summary_screen(
    t: Translator,
    codec: CallbackCodec,
    draft: CheckinDraft,
    outcomes: tuple[Outcome, ...],
    submitter: Submitter,
    *,
    sign_in_available: bool,
) -> Screen:
    outcome = find_outcome(outcomes, draft.outcome_id) if draft.outcome_id is not None else None
    lines: list[str | Html] = [gettext_html(t, "Your check-in at {name}", name=_name(draft))]
    if outcome is not None:
        lines.append(outcome_label(t, outcome))
    lines.append(
        gettext_html(t, "Rating: {stars} ({rating}/5)", stars=stars(draft.rating), rating=draft.rating)
        if draft.rating
        else gettext_html(t, "Rating: skipped")
    )
    lines.append(
        gettext_html(t, "Comment: {comment}", comment=italic(draft.comment))
        if draft.comment
        else gettext_html(t, "Comment: none")
    )
    if draft.comment_type_id == FAULT_REPORT:
        lines.append(gettext_html(t, "Posted as a fault report."))
    # OCM files a check-in under the account that owns the key or sign-in that posts it.
    if submitter is Submitter.USER:
        lines.append(gettext_html(t, "It will appear on Open Charge Map under your own account."))
    elif submitter is Submitter.APP:
        lines.append(
            gettext_html(t, "It will appear on Open Charge Map under this bot's account, not under your name.")
        )
        if sign_in_available:
            lines.append(gettext_html(t, "To post it under your own account, send /login first."))

    if submitter is Submitter.NONE:
        lines.append("")
        lines.append(
            gettext_html(t, "I cannot post it for you until you sign in: send /login, then come back here.")
            if sign_in_available
            else gettext_html(t, "This bot has no write access to Open Charge Map, so I cannot post it for you.")
        )
        lines.append(gettext_html(t, "You can check in on the Open Charge Map site instead:"))
        rows = [
            [add_comment_button(t, draft.charger_id)],
            [_back_button(t, codec), _cancel_button(t, codec)],
        ]
    else:
        rows = [
            [
                InlineKeyboardButton(t.gettext("Submit"), callback_data=codec.encode(SUBMIT, draft.key)),
                _back_button(t, codec),
                _cancel_button(t, codec),
            ]
        ]
    return Screen(join("\n", lines), InlineKeyboardMarkup(rows))


def sending_text(t: Translator, charger_name: str) -> View:
    return View(gettext_html(t, "Sending your check-in at {name} to Open Charge Map…", name=_name(charger_name)))


# Entry, exits and other messages -----------------------------------------------------------------


def too_soon_text(t: Translator, charger_name: str, wait: timedelta) -> View:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return View(
        ngettext_html(
            t,
            "You checked in at {name} a moment ago. You can check in there again in {n} minute.",
            "You checked in at {name} a moment ago. You can check in there again in {n} minutes.",
            minutes,
            name=_name(charger_name),
        )
    )


def unknown_charger_text(t: Translator, charger_id: int) -> str:
    return t.gettext("I could not find charger #{id} on Open Charge Map.", id=charger_id)


def checkin_usage_text(t: Translator) -> str:
    return t.gettext(
        "Send /checkin followed by the charger's ID, for example /checkin 12345, or tap ✅ Check in on a charger."
    )


def private_chat_screen(t: Translator, bot_username: str, charger_id: int) -> Screen:
    """In a group, a check-in continues in a private chat so the group is not flooded."""
    url = private_checkin_url(bot_username, charger_id)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(t.gettext("✅ Check in privately"), url=url)]])
    return Screen(gettext_html(t, "Check-ins continue in a private chat with me, so the group stays quiet."), keyboard)


def private_checkin_url(bot_username: str, charger_id: int) -> str:
    return f"https://t.me/{bot_username}?start=checkin-{charger_id}"


def cancelled_text(t: Translator) -> str:
    return t.gettext("Check-in cancelled. Nothing was sent.")


def nothing_to_cancel_text(t: Translator) -> str:
    return t.gettext("There is nothing to cancel.")


def timed_out_text(t: Translator) -> str:
    return t.gettext(
        "I put this check-in aside after 15 minutes without an answer; nothing was sent. "
        "Tap ✅ Check in on a charger to start again."
    )


def no_open_checkin_text(t: Translator) -> str:
    return t.gettext("This check-in is no longer open. Tap ✅ Check in on a charger to start again.")


def resume_summary_hint_text(t: Translator) -> str:
    return t.gettext("Your check-in is still open: here it is again.")
