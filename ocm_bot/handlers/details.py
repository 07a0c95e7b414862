"""One charger's details and the driver's favourites.

Commands: ``/charger <id>``, ``/start poi-<id>`` (the deep link of a group card) and ``/start charger_<id>``
(of an inline or guest result), ``/favourites``.
Buttons: ``ℹ️ n`` on a result (callback ``dt``), ``☆ / ★ Favourite`` (``fv``) and /favourites' Retry
(``fl``); see :mod:`ocm_bot.views.details`. A details button names its search (kept in storage), so
the distance and bearing from the searched point are shown on any instance.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from ocm_bot.context import BotContext
from ocm_bot.domain.alerts import TELEGRAM_LANGUAGE
from ocm_bot.domain.favourites import Favourites, FavouritesFull
from ocm_bot.domain.geo import GeoPoint, haversine_km, initial_bearing
from ocm_bot.domain.units import place_country, unit_for_place
from ocm_bot.domain.watch_poller import remember_known
from ocm_bot.handlers import answers
from ocm_bot.handlers.common import (
    button_message,
    chat_of,
    is_group,
    is_private,
    query_of,
    user_of,
)
from ocm_bot.i18n import Translator
from ocm_bot.ocm.errors import OcmError
from ocm_bot.views.callbacks import action_pattern
from ocm_bot.views.details import FAVOURITE, details_view, favourites_views, venue_address, venue_title
from ocm_bot.views.results import DETAILS, NO_SEARCH, charger_not_found_text, charger_usage_text

FAVOURITES_RETRY = "fl"
_DEEP_LINK = r"^/start(?:@\w+)?\s+(?:poi-|charger_)(\d{1,9})\s*$"  # group cards; inline and guest results

log = logging.getLogger(__name__)


async def on_charger_command(update: Update, context: BotContext) -> None:
    """``/charger <id>``: one charger's details."""
    args = context.args or []
    if len(args) != 1 or not args[0].lstrip("#").isdigit() or len(args[0]) > 10:
        t, _ = await answers.driver(update, context)
        await answers.reply(update, charger_usage_text(t))
        return
    await _send_details(update, context, int(args[0].lstrip("#")), None)


async def on_poi_deep_link(update: Update, context: BotContext) -> None:
    """``/start poi-<id>`` (a group card) or ``/start charger_<id>`` (an inline result): that charger's details."""
    args = context.args or []
    charger_id = int(context.matches[0].group(1)) if context.matches else int(args[0].replace("_", "-").split("-")[1])
    await _send_details(update, context, charger_id, None)


async def on_favourites(update: Update, context: BotContext) -> None:
    """``/favourites``: the driver's saved chargers with their current status (one OCM request)."""
    t, prefs = await answers.driver(update, context)
    favourites = Favourites(context.services.storage, context.services.search)
    try:
        chargers, gone = await favourites.chargers(user_of(update).id)
    except OcmError as error:
        await answers.report_ocm_failure(update, context, t, error, context.services.callbacks.encode(FAVOURITES_RETRY))
        return
    unit = unit_for_place(prefs, answers.country_of(chargers))  # no searched place: the chargers' own country
    for view in favourites_views(t, chargers, gone, context.services.callbacks, unit=unit, now=answers.now()):
        await answers.reply(update, view)


async def on_details(update: Update, context: BotContext) -> None:
    """ℹ️ n: a charger's details with comments, and a venue pin."""
    button = await answers.button_with_args(update, context, 2)
    if button is None:
        return
    await query_of(update).answer()
    await _send_details(update, context, button.int_arg(0), None if button.args[1] == NO_SEARCH else button.args[1])


async def on_favourite(update: Update, context: BotContext) -> None:
    """☆ / ★ Favourite: toggle, and flip the star on the button."""
    button = await answers.button_with_args(update, context, 2)
    if button is None:
        return
    t, _ = await answers.driver(update, context)
    try:
        now_favourite = await Favourites(context.services.storage, context.services.search).toggle(
            user_of(update).id, button.int_arg(0)
        )
    except FavouritesFull:
        await query_of(update).answer(t.gettext("You have too many favourites. Remove one first."))
        return
    if now_favourite:
        await _remember_for_alerts(update, context, button.int_arg(0))
    await query_of(update).answer(
        t.gettext("Added to your favourites.") if now_favourite else t.gettext("Removed from your favourites.")
    )
    await _flip_star(update, t, now_favourite)


async def _remember_for_alerts(update: Update, context: BotContext, charger_id: int) -> None:
    """The new favourite's condition now, so its first change alerts its owner (the details just
    shown keep the charger in the source's cache: no OCM request), and the driver's Telegram
    language, which an alert (sent without an update) speaks unless /language chose another."""
    user, storage = user_of(update), context.services.storage
    document = await storage.get_user(user.id) or {}
    if user.language_code and document.get(TELEGRAM_LANGUAGE) != user.language_code:
        await storage.save_user(user.id, {**document, TELEGRAM_LANGUAGE: user.language_code})
    try:
        charger = await context.services.search.charger(charger_id, include_comments=True)
    except OcmError as error:
        log.info("a new favourite's state is not kept: %s", error)
        return
    if charger is not None:
        await remember_known(context.services.storage, charger)


async def on_favourites_retry(update: Update, context: BotContext) -> None:
    """🔄 Retry for /favourites."""
    if await answers.button(update, context) is None:
        await answers.expired(update, context)
        return
    await query_of(update).answer()
    await on_favourites(update, context)


async def _send_details(update: Update, context: BotContext, charger_id: int, search_id: str | None) -> None:
    t, prefs = await answers.driver(update, context)
    search = context.services.search
    try:
        charger = await search.charger(charger_id, include_comments=True)
    except OcmError as error:
        retry = context.services.callbacks.encode(DETAILS, charger_id, search_id or NO_SEARCH)
        await answers.report_ocm_failure(update, context, t, error, retry)
        return
    if charger is None:
        await answers.reply(update, charger_not_found_text(t, charger_id))
        return
    try:
        result = await search.get(search_id) if search_id else None
    except OcmError as error:  # another instance's search whose chargers could not be read again
        log.warning("the search of a details button could not be read: %r", error)
        result = None  # the details without the distance from the searched point
    where = GeoPoint(charger.latitude, charger.longitude)
    user = update.effective_user
    view = details_view(
        t,
        charger,
        context.services.callbacks,
        now=answers.now(),
        unit=result.unit if result else unit_for_place(prefs, place_country(where, answers.country_of([charger]))),
        is_favourite=user is not None and await context.services.storage.is_favourite(user.id, charger_id),
        private=is_private(update),
        bot_username=context.bot.username,
        search_id=search_id,
        distance_km=haversine_km(result.point, where) if result else None,
        bearing=initial_bearing(result.point, where) if result else None,
        watch_chat_id=chat_of(update).id if is_group(update) else None,  # "Watch here", for the group's admins
    )
    await answers.reply(update, view)
    await context.bot.send_venue(
        chat_of(update).id, charger.latitude, charger.longitude, venue_title(charger), venue_address(charger)
    )


async def _flip_star(update: Update, t: Translator, now_favourite: bool) -> None:
    query = query_of(update)
    message = button_message(query)
    markup = message.reply_markup if message else None
    if markup is None:
        return
    label = t.gettext("★ Favourite") if now_favourite else t.gettext("☆ Favourite")
    rows = [
        [
            InlineKeyboardButton(label, callback_data=b.callback_data) if b.callback_data == query.data else b
            for b in row
        ]
        for row in markup.inline_keyboard
    ]
    try:
        await query.edit_message_reply_markup(InlineKeyboardMarkup(rows))
    except BadRequest as error:
        log.info("could not flip the favourite star: %s", error)


def handlers() -> list[BaseHandler]:
    return [
        CommandHandler("start", on_poi_deep_link, filters=filters.Regex(_DEEP_LINK)),
        CommandHandler("charger", on_charger_command),
        CommandHandler(["favourites", "favorites"], on_favourites),
        CallbackQueryHandler(on_details, pattern=action_pattern(DETAILS)),
        CallbackQueryHandler(on_favourite, pattern=action_pattern(FAVOURITE)),
        CallbackQueryHandler(on_favourites_retry, pattern=action_pattern(FAVOURITES_RETRY)),
    ]
