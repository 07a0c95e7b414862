"""How the search, details and live-location handlers answer: one place for their shared steps.

Send a :class:`~ocm_bot.views.common.View` or edit a message into it, report an Open Charge Map
failure with a Retry button (logged as one line), decode a button or answer it as expired, read the
driver's translator and preferences in one storage read, read a location or venue message, and in a
group remember who asked a search (only they change it; anyone pages it). No
handlers of its own: :mod:`ocm_bot.handlers.search`, :mod:`ocm_bot.handlers.details` and
:mod:`ocm_bot.handlers.live` use it.
"""

from __future__ import annotations

import logging
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import LinkPreviewOptions, Location, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.warnings import PTBDeprecationWarning

from ocm_bot.context import BotContext
from ocm_bot.domain.group_preferences import Asker, asker_of, remember_asker
from ocm_bot.domain.preferences import UserPreferences
from ocm_bot.domain.search import SearchResult
from ocm_bot.domain.units import unit_for_place
from ocm_bot.handlers.common import (
    UnusableUpdate,
    answer_query,
    chat_of,
    driver_translator,
    edit_unless_not_modified,
    is_group,
    is_group_admin,
    message_of,
    preferences_for,
    query_of,
    user_of,
)
from ocm_bot.i18n import Translator
from ocm_bot.ocm.errors import OcmError
from ocm_bot.ocm.reference import ReferenceData
from ocm_bot.views.callbacks import Callback, InvalidCallback
from ocm_bot.views.common import View, expired_button_text, ocm_error_text, retry_keyboard
from ocm_bot.views.groups import only_asker_text

log = logging.getLogger(__name__)


NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
LAST_PLACE_UNIT = "search.place_unit"
"""user_data key: the unit of the last searched place ("km" or "mi"), whatever the driver chose."""


async def reply(update: Update, view: View, *, edit: Message | None = None) -> Message | None:
    """Send ``view`` (or edit ``edit`` into it); an unchanged message is not an error."""
    options: dict[str, Any] = {
        "parse_mode": ParseMode.HTML,
        "reply_markup": view.keyboard,
        "link_preview_options": NO_PREVIEW,
    }
    if edit is not None:
        try:
            edited = await edit_unless_not_modified(edit.edit_text, text=view.text, **options)
            return edited if isinstance(edited, Message) else edit
        except BadRequest as error:
            log.info("could not edit message, sending a new one: %s", error)
    message = message_of(update)
    return await message.get_bot().send_message(message.chat_id, view.text, **options)


ASKER_NAME_CHARS = 40
"""A name in "Only <name> can change this search" (a button's answer holds 200 characters)."""


async def keep_asker(update: Update, context: BotContext, search_id: str, asker: Asker | None) -> None:
    """In a group, remember who asked a search or a choice of places (a refined search keeps its
    asker): only they change it."""
    if not is_group(update):
        return
    if asker is None:
        message = update.message
        if message is not None and message.sender_chat is not None:  # an anonymous admin: the group's admins
            asker = Asker(message.sender_chat.id)
        else:
            user = user_of(update)
            asker = Asker(user.id, user.first_name[:ASKER_NAME_CHARS])
    await remember_asker(context.services.storage, search_id, asker, context.services.search.result_ttl)


async def may_change(update: Update, context: BotContext, search_id: str) -> tuple[bool, Asker | None]:
    """Whether the presser may change the search (and who asked it); anyone else gets a short answer.

    In a private chat the search is the driver's own. In a group only its asker changes it (any
    admin when an anonymous admin asked); paging and details stay open to everyone.
    """
    if not is_group(update):
        return True, None
    asker = await asker_of(context.services.storage, search_id)
    presser, chat = user_of(update), chat_of(update)
    if asker is not None and (
        asker.user_id == presser.id or (asker.user_id == chat.id and await is_group_admin(context, chat.id, presser.id))
    ):
        return True, asker
    t, _ = await driver(update, context)
    await answer_query(query_of(update), only_asker_text(t, asker.name if asker else None))
    return False, None


async def report_ocm_failure(
    update: Update, context: BotContext, t: Translator, error: OcmError, retry: str, *, edit: Message | None = None
) -> None:
    log.warning("Open Charge Map request failed: %r", error)
    await reply(update, View.plain(ocm_error_text(t, error), retry_keyboard(t, retry)), edit=edit)


async def button(update: Update, context: BotContext) -> Callback | None:
    try:
        return context.services.callbacks.decode(query_of(update).data)
    except InvalidCallback as error:
        log.info("refused a button: %s", error)
        return None


async def button_with_args(update: Update, context: BotContext, count: int) -> Callback | None:
    """The tapped button when it decodes and carries ``count`` arguments; else the expired alert and None."""
    tapped = await button(update, context)
    if tapped is None or len(tapped.args) != count:
        await expired(update, context)
        return None
    return tapped


async def expired(update: Update, context: BotContext) -> None:
    t, _ = await driver(update, context)
    await query_of(update).answer(expired_button_text(t), show_alert=True)


async def driver(update: Update, context: BotContext) -> tuple[Translator, UserPreferences]:
    """The user's translator and preferences, from one storage read."""
    prefs = await preferences_for(update, context)
    return driver_translator(update, context, prefs), prefs


async def reference(context: BotContext) -> ReferenceData | None:
    source = context.services.chargers
    if source is None:
        return None
    try:
        return await source.reference_data()
    except OcmError:
        return None  # chips then name plugs and operators by ID


def remember_place_unit(context: BotContext, result: SearchResult) -> None:
    """Keep the searched place's own unit, for screens without a place (the /settings radius menu)."""
    if context.user_data is not None:
        context.user_data[LAST_PLACE_UNIT] = unit_for_place(UserPreferences(), result.country_iso).value


def shared_location(message: Message) -> Location:
    """The location of a location or venue message (the only messages the location handlers take)."""
    location = message.venue.location if message.venue else message.location
    if location is None:
        raise UnusableUpdate(f"message {message.message_id} has no location")
    return location


def button_data(update: Update) -> str:
    """The tapped button's data, for a Retry of the same button (the handler decoded it already)."""
    data = query_of(update).data
    if data is None:
        raise UnusableUpdate(f"update {update.update_id} is a button without data")
    return data


def user_id(update: Update) -> int | None:
    """Whose search, note or live location it is: /forget deletes what is kept under it."""
    return update.effective_user.id if update.effective_user else None


def now() -> datetime:
    return datetime.now(UTC)


def country_of(chargers: list[Any]) -> str | None:
    for charger in chargers:
        country = charger.address.country
        if country is not None and country.iso_code:
            return country.iso_code
    return None


def live_seconds(location: Location) -> int | None:
    """A live location's sharing period in seconds (None when not live).

    python-telegram-bot 22 warns that ``live_period`` becomes a ``timedelta``; both are read here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        period = location.live_period
    if period is None:
        return None
    return int(period.total_seconds()) if isinstance(period, timedelta) else int(period)
