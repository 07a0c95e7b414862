"""A live location on the move: edit the results message its first position got.

The first message of a live location is an ordinary location (:func:`ocm_bot.handlers.search.on_location`
answers it and starts the session); each later position arrives as an edited message, answered here
by editing that answer, at most once a minute after moving more than 1 km (the rules are
:mod:`ocm_bot.domain.live`'s; its sessions are kept in storage, so any instance follows them).
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import BaseHandler, MessageHandler, filters

from ocm_bot.context import BotContext
from ocm_bot.domain.geo import GeoPoint
from ocm_bot.handlers import answers
from ocm_bot.handlers.common import (
    edit_unless_not_modified,
    message_of,
)
from ocm_bot.ocm.errors import OcmError
from ocm_bot.views.results import results_view

log = logging.getLogger(__name__)


async def on_live_update(update: Update, context: BotContext) -> None:
    """A live location moved: edit its results message (once a minute at most, after moving > 1 km)."""
    message = message_of(update)
    location = answers.shared_location(message)
    point = GeoPoint(location.latitude, location.longitude)
    live = context.services.search.live
    key = (message.chat_id, message.message_id)
    decision = await live.on_move(key, point, live=bool(answers.live_seconds(location)))
    if not decision.update or decision.session is None:
        return
    t, prefs = await answers.driver(update, context)
    try:
        result = await context.services.search.nearby(point, prefs, owner=answers.user_id(update))
    except OcmError as error:
        log.warning("live location refresh failed: %r", error)
        return  # the last results stay up; the next move tries again
    answers.remember_place_unit(context, result)
    view = results_view(
        t, result, 0, context.services.callbacks, now=answers.now(), reference=await answers.reference(context)
    )
    try:
        await edit_unless_not_modified(
            context.bot.edit_message_text,
            text=view.text,
            chat_id=message.chat_id,
            message_id=decision.session.results_message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=view.keyboard,
            link_preview_options=answers.NO_PREVIEW,
        )
    except BadRequest as error:
        log.info("live results message can no longer be edited: %s", error)
        await live.stop(key)


def handlers() -> list[BaseHandler]:
    return [MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.LOCATION, on_live_update)]
