"""Personal alerts: a favourite's events sent to its owner in private, and /alerts (on or off).

The poll job calls :func:`send_favourite_alerts` for each ``user_id, events`` of a poll's
``PollResult.alerts`` (:class:`~ocm_bot.domain.watch_poller.WatchPoller`). Each alert looks for
the two nearest working alternatives with the driver's saved filters around the favourite: one
search, so at most one OCM request per alert (none when the search cache already holds that area).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from telegram import Bot, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from ocm_bot.context import BotContext, Services
from ocm_bot.domain.alerts import ALTERNATIVES, TELEGRAM_LANGUAGE, alerts_on, set_alerts
from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.preferences import DistanceUnitChoice, UserPreferences
from ocm_bot.domain.search import Hit
from ocm_bot.domain.watch_changes import ChargerEvent, Condition, condition_of
from ocm_bot.handlers.common import (
    edit_unless_not_modified,
    message_of,
    private_or_explain,
    query_of,
    translator_for,
    user_of,
)
from ocm_bot.i18n import negotiate_language, translator
from ocm_bot.ocm.errors import OcmError
from ocm_bot.storage.base import utc_now
from ocm_bot.views.alerts import TOGGLE, alert_view, alerts_settings_view, read_toggle
from ocm_bot.views.callbacks import InvalidCallback, action_pattern
from ocm_bot.views.common import expired_button_text

log = logging.getLogger(__name__)


async def send_favourite_alerts(bot: Bot, services: Services, user_id: int, events: Sequence[ChargerEvent]) -> int:
    """Send ``user_id`` one private message per favourite in ``events``; the number of messages sent.

    Nothing is sent when the driver turned alerts off meanwhile. Telegram's errors (the driver
    blocked the bot, flood limits) reach the caller, which decides to retry or to stop the alerts.
    """
    storage = services.storage
    if not events or not await alerts_on(storage, user_id):
        return 0
    document = await storage.get_user(user_id) or {}
    prefs = UserPreferences.from_dict(document)
    telegram_language = document.get(TELEGRAM_LANGUAGE)
    t = translator(
        negotiate_language(
            prefs.language,
            telegram_language if isinstance(telegram_language, str) else None,
            default=services.settings.default_language,
        )
    )
    by_charger: dict[int, list[ChargerEvent]] = {}
    for event in events:
        by_charger.setdefault(event.charger.id, []).append(event)
    sent = 0
    for charger_events in by_charger.values():
        charger = charger_events[0].charger
        alternatives, unit = await _alternatives(services, prefs, charger_events[0], user_id)
        view = alert_view(t, charger_events, alternatives, unit=unit or prefs.unit_for(None), now=utc_now())
        await bot.send_message(
            user_id,
            view.text,
            parse_mode=ParseMode.HTML,
            reply_markup=view.keyboard,
            disable_web_page_preview=True,
        )
        sent += 1
        log.info("favourite alert sent for charger %d", charger.id)
    return sent


async def _alternatives(
    services: Services, prefs: UserPreferences, event: ChargerEvent, user_id: int
) -> tuple[list[Hit], DistanceUnitChoice | None]:
    address = event.charger.address
    point = GeoPoint(address.latitude, address.longitude)
    try:
        result = await services.search.nearby(point, replace(prefs, operational_only=True), owner=user_id)
    except OcmError as error:
        log.info("no alternatives for a favourite alert: %s", error)
        return [], None
    hits = [
        hit
        for hit in result.hits
        if hit.charger.id != event.charger.id and condition_of(hit.charger) is Condition.WORKING
    ]
    return hits[:ALTERNATIVES], result.unit


async def show_alerts(update: Update, context: BotContext) -> None:
    """/alerts: whether favourites alert the driver, with a button to turn them on or off."""
    if not await private_or_explain(update, context, "/alerts"):
        return
    t = await translator_for(update, context)
    on = await alerts_on(context.services.storage, user_of(update).id)
    view = alerts_settings_view(t, context.services.callbacks, on=on)
    await message_of(update).reply_text(view.text, parse_mode=ParseMode.HTML, reply_markup=view.keyboard)


async def on_alerts_button(update: Update, context: BotContext) -> None:
    """🔔 / 🔕: store the driver's choice and show the screen the other way round."""
    query = query_of(update)
    t = await translator_for(update, context)
    try:
        on = read_toggle(context.services.callbacks.decode(query.data))
    except InvalidCallback as error:
        log.info("alerts button refused: %s", error)
        await query.answer(expired_button_text(t))
        return
    await set_alerts(context.services.storage, user_of(update).id, on=on)
    await query.answer()
    view = alerts_settings_view(t, context.services.callbacks, on=on)
    # A double tap (or a replayed button) asks for the screen already shown: not a failure.
    await edit_unless_not_modified(
        query.edit_message_text, text=view.text, parse_mode=ParseMode.HTML, reply_markup=view.keyboard
    )


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("alerts", show_alerts),
        CallbackQueryHandler(on_alerts_button, pattern=action_pattern(TOGGLE)),
    ]
