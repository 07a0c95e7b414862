"""What a driver is told after an attempt to post a check-in (UX.md, "Check-in"). Pure functions.

The outbox worker (:mod:`ocm_bot.handlers.outbox`) sends a :func:`delivery_screen` for each attempt it
reports; its "Retry now" button carries the check-in conversation's ``ci-q`` callback data.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ocm_bot.domain.outbox import NEEDS_SIGN_IN, Delivery, DeliveryResult, OutboxStatus, QueuedPhoto
from ocm_bot.i18n import Translator
from ocm_bot.ocm.errors import OcmAuthError, OcmBudgetExhausted, OcmRateLimited
from ocm_bot.ocm.identity import poi_page_url
from ocm_bot.views.callbacks import CallbackCodec
from ocm_bot.views.checkin import RETRY, add_comment_keyboard
from ocm_bot.views.common import View
from ocm_bot.views.html import Html, bold, gettext_html, link
from ocm_bot.views.photos import photo_delivery_screen


def _details_keyboard(t: Translator, charger_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t.gettext("Open in OCM ↗"), url=poi_page_url(charger_id))]])


def delivery_screen(t: Translator, codec: CallbackCodec, delivery: Delivery) -> View:
    """What the driver is told after an attempt to post their check-in (or their photo)."""
    if isinstance(delivery.checkin, QueuedPhoto):
        return photo_delivery_screen(t, codec, delivery, RETRY)
    checkin = delivery.checkin
    charger_id = checkin.charger_id
    name = bold(checkin.charger_name or f"#{charger_id}")
    page = gettext_html(t, "the charger page")  # outside the f-string, where the extractor finds it
    page_link = link(poi_page_url(charger_id), page)
    result = delivery.result
    if result is DeliveryResult.DELIVERED:
        if delivery.first_attempt:
            text = gettext_html(
                t, "Thanks! Your check-in at {name} is on Open Charge Map: {link}.", name=name, link=page_link
            )
        else:
            text = gettext_html(
                t,
                "Open Charge Map is back: your check-in at {name} is now posted. Thanks! See {link}.",
                name=name,
                link=page_link,
            )
        return View(text, _details_keyboard(t, charger_id))
    if result is DeliveryResult.NEEDS_SIGN_IN:
        return View(
            gettext_html(
                t,
                "Your Open Charge Map sign-in has expired. Your check-in at {name} is kept: "
                "send /login and I will post it.",
                name=name,
            )
        )
    if result is DeliveryResult.REJECTED:
        error = delivery.error
        if isinstance(error, OcmAuthError):
            reason = gettext_html(t, "this bot is not allowed to post to Open Charge Map right now.")
        else:
            description = getattr(error, "description", "") or str(error or "")
            reason = gettext_html(t, "it answered “{answer}”.", answer=description[:200])
        text = gettext_html(
            t,
            "Open Charge Map did not accept your check-in at {name}, so it is not posted: {reason} "
            "You can check in on the Open Charge Map site instead.",
            name=name,
            reason=reason,
        )
        return View(text, add_comment_keyboard(t, charger_id))
    if result is DeliveryResult.GAVE_UP and delivery.item.last_error == NEEDS_SIGN_IN:
        text = gettext_html(
            t,
            "Your check-in at {name} waited a month for you to sign in again, so it was not posted. "
            "You can check in on the Open Charge Map site instead.",
            name=name,
        )
        return View(text, add_comment_keyboard(t, charger_id))
    if result is DeliveryResult.GAVE_UP:
        text = gettext_html(
            t,
            "I could not reach Open Charge Map for two days, so your check-in at {name} was not posted. "
            "You can check in on the Open Charge Map site instead.",
            name=name,
        )
        return View(text, add_comment_keyboard(t, charger_id))
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(t.gettext("🔄 Retry now"), callback_data=codec.encode(RETRY, delivery.item.key))]]
    )
    if isinstance(delivery.error, OcmBudgetExhausted):
        # The bot's own per-minute share of OCM, not OCM's 429: nothing is wrong with OCM.
        text = gettext_html(
            t, "This bot is busy right now. Your check-in at {name} is saved; I'll send it in a moment.", name=name
        )
        return View(text, keyboard)
    if isinstance(delivery.error, OcmRateLimited):
        reason = gettext_html(t, "Open Charge Map asks us to slow down.")
    elif delivery.error is not None and "read only" in str(delivery.error).lower():
        reason = gettext_html(t, "Open Charge Map is not taking check-ins right now (maintenance).")
    else:
        reason = gettext_html(t, "Open Charge Map is not answering right now.")
    text = (
        reason
        + Html(" ")
        + gettext_html(t, "Your check-in at {name} is saved; I'll send it as soon as it is back.", name=name)
    )
    return View(text, keyboard)


def queued_item_text(t: Translator, status: OutboxStatus | None) -> str:
    """A submission that exists already (a second tap on Submit, a replayed update), by its outbox status."""
    if status == OutboxStatus.SENT:
        return t.gettext("This check-in is already on Open Charge Map.")
    if status == OutboxStatus.FAILED:
        return t.gettext("Open Charge Map did not take this check-in; it was not posted.")
    return t.gettext("This check-in is already on its way to Open Charge Map.")


def retry_started_text(t: Translator) -> str:
    return t.gettext("Trying again…")
