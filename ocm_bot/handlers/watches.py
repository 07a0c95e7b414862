"""Group watches: ``/watch`` (a guided setup in one message edited in place) and ``/watches``.

Only the group's admins change watches: every change (each button that changes something, the
typed place, the save) asks Telegram ``getChatMember`` for the presser at that moment; an anonymous
admin posts as the group (``sender_chat`` is the group). Buttons carry the group's chat id in signed
callback data, so a forged button or one from another group is refused. The setups in progress
live in the group's ``chat_data`` by message (it survives a restart; each admin's /watch has its
own); while one asks for the area, its admin's next text in the group (within
:data:`AWAIT_PLACE_SECONDS`) is read as the area: a place name, a charger's OCM ID or its Open
Charge Map link (the charger's position); nobody else's text is touched. "🔔 Watch here" on a
charger's details in a group starts the same setup around that charger, for an admin (checked on press).

Over 400 lines because the setup, the list and the quiet hours screen are one keyboard family: one
button handler, one admin check and one set of signed buttons for the three screens.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import replace
from typing import Any

from telegram import CallbackQuery, Chat, Message, Update
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from ocm_bot.context import BotContext
from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.group_preferences import group_preferences
from ocm_bot.domain.preferences import DistanceUnitChoice, UserPreferences
from ocm_bot.domain.units import place_country, unit_for_place
from ocm_bot.domain.watch_quiet import QuietHours, quiet_hours_of, save_quiet_hours
from ocm_bot.domain.watch_setup import AWAIT_PLACE_SECONDS, MAX_DRAFTS, Step, WatchSetup, charger_reference
from ocm_bot.domain.watches import Announce, InvalidWatch, Watch, WatchBook
from ocm_bot.geocoding import GeocoderBusy, GeocodingError
from ocm_bot.handlers.common import (
    answer_query,
    button_message,
    chat_of,
    edit_unless_not_modified,
    message_of,
    query_of,
    translator_for,
    user_of,
)
from ocm_bot.i18n import Translator
from ocm_bot.ocm.errors import OcmError
from ocm_bot.views.callbacks import InvalidCallback, action_pattern
from ocm_bot.views.common import View, ocm_error_text
from ocm_bot.views.results import geocoder_busy_text, geocoder_down_text
from ocm_bot.views.watches import (
    LIST_ACTION,
    QUIET_ACTION,
    SETUP_ACTION,
    WATCH_HERE_ACTION,
    ListOp,
    QuietOp,
    SetupOp,
    WatchButton,
    admins_only_text,
    button_refused_text,
    cancelled_view,
    confirm_removal_view,
    groups_only_text,
    place_not_found_view,
    quiet_hours_view,
    radius_km,
    read_watch_button,
    read_watch_here_button,
    saved_view,
    setup_view,
    watch_changed_notice,
    watches_view,
)

log = logging.getLogger(__name__)

SETUP_KEY = "watch.setup"
"""chat_data key of an older version: the group's one watch setup in progress (read once, then moved)."""
SETUPS_KEY = "watch.setups"
"""chat_data key: the group's watch setups in progress by message id (:meth:`WatchSetup.to_dict`).

One per admin's /watch: a second admin's /watch starts a second setup, it does not replace the first."""
_ADMIN_STATUSES = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("watch", on_watch),
        CommandHandler("watches", on_watches),
        CallbackQueryHandler(on_button, pattern=rf"^(?:{SETUP_ACTION}|{LIST_ACTION}|{QUIET_ACTION})\|"),
        CallbackQueryHandler(on_watch_here, pattern=action_pattern(WATCH_HERE_ACTION)),
    ]


def priority_handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The area the setup waits for: the asking admin's typed place or shared location in the group."""
    awaited = filters.ChatType.GROUPS & ((filters.TEXT & ~filters.COMMAND) | filters.LOCATION)
    return [MessageHandler(awaited, on_area)]


# Who may change watches -------------------------------------------------------------------------


def sender_id(message: Message) -> int | None:
    """Who wrote ``message``: the group itself for an anonymous admin, else the user."""
    if message.sender_chat is not None:
        return message.sender_chat.id
    return message.from_user.id if message.from_user else None


async def is_admin(context: BotContext, chat: Chat, user_id: int | None, message: Message | None = None) -> bool:
    """The presser is the group's creator or an administrator, asked of Telegram now."""
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id  # an anonymous admin posts as the group
    if user_id is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat.id, user_id)
    except TelegramError as error:
        log.info("getChatMember failed in %s: %s", chat.id, error)
        return False
    return member.status in _ADMIN_STATUSES


# /watch and the setup ---------------------------------------------------------------------------


async def on_watch(update: Update, context: BotContext) -> None:
    message, chat = message_of(update), chat_of(update)
    t = await translator_for(update, context)
    if chat.type not in (Chat.GROUP, Chat.SUPERGROUP):
        await message.reply_text(groups_only_text(t))
        return
    if not await is_admin(context, chat, update.effective_user.id if update.effective_user else None, message):
        await message.reply_text(admins_only_text(t))
        return
    admin = sender_id(message)
    assert admin is not None
    await _start_setup(t, context, message, admin, " ".join(context.args or ()).strip())


async def _start_setup(t: Translator, context: BotContext, message: Message, admin: int, query: str) -> None:
    """A new setup, its area ``query`` filled in when there is one, sent as a reply to ``message``."""
    setup = WatchSetup(chat_id=message.chat.id, admin_id=admin, since=time.time())
    chosen = await _chosen_unit(context, message.chat.id)
    view: View
    if query:
        setup, view = await _geocoded(t, context, setup, query, chosen)
    else:
        view = setup_view(t, context.services.callbacks, setup, _unit(setup, chosen))
    sent = await message.reply_text(view.text, parse_mode=ParseMode.HTML, reply_markup=view.keyboard)
    _keep(context, replace(setup, message_id=sent.message_id))


async def on_watch_here(update: Update, context: BotContext) -> None:
    """🔔 Watch here on a charger's details in a group: an admin's /watch around that charger."""
    query, chat, user = query_of(update), chat_of(update), user_of(update)
    t = await translator_for(update, context)
    message = button_message(query)
    try:
        chat_id, charger_id = read_watch_here_button(context.services.callbacks.decode(query.data))
        if chat_id != chat.id or message is None:
            raise InvalidCallback(f"a watch-here button of chat {chat_id} pressed in {chat.id}")
    except InvalidCallback as error:
        await _refuse(t, query, "watch-here button", error)
        return
    if not await _pressed_by_admin(t, context, chat, query, user.id):
        return
    await answer_query(query)
    await _start_setup(t, context, message, user.id, str(charger_id))


async def _geocoded(
    t: Translator, context: BotContext, setup: WatchSetup, query: str, chosen: DistanceUnitChoice | None
) -> tuple[WatchSetup, View]:
    """The area a typed text names: a charger (its ID or OCM link) or a place."""
    codec = context.services.callbacks
    charger_id = charger_reference(query)
    if charger_id is not None:
        try:
            found = await context.services.chargers.get_chargers([charger_id])
        except OcmError as error:
            log.warning("reading a watch's charger failed: %r", error)
            return setup, View.plain(
                ocm_error_text(t, error), setup_view(t, codec, setup, _unit(setup, chosen)).keyboard
            )
        if not found:
            return setup, place_not_found_view(t, codec, setup, query)
        charger = found[0]
        country = charger.address.country.iso_code if charger.address.country else None
        setup = setup.with_area(GeoPoint(charger.latitude, charger.longitude), charger.name, country)
        return setup, setup_view(t, codec, setup, _unit(setup, chosen))
    try:
        places = await context.services.geocoder.search(query, language=t.language, limit=1)
    except GeocodingError as error:
        log.warning("geocoding a watch's place failed: %r", error)
        notice = geocoder_busy_text(t) if isinstance(error, GeocoderBusy) else geocoder_down_text(t)
        return setup, View(notice.text, setup_view(t, codec, setup, _unit(setup, chosen)).keyboard)
    if not places:
        return setup, place_not_found_view(t, codec, setup, query)
    place = places[0]
    setup = setup.with_area(place.point, place.short_label, place.country_code)
    return setup, setup_view(t, codec, setup, _unit(setup, chosen))


async def on_area(update: Update, context: BotContext) -> None:
    """A place name or a location for the setup waiting for its area; anything else passes on."""
    message, chat = message_of(update), chat_of(update)
    setup = _awaiting_area(context, sender_id(message))
    if (
        setup is None
        or time.time() - setup.since > AWAIT_PLACE_SECONDS
        or (message.reply_to_message is not None and message.reply_to_message.message_id != setup.message_id)
    ):
        return
    t = await translator_for(update, context)
    if not await is_admin(context, chat, sender_id(message), message):
        await message.reply_text(admins_only_text(t))
        raise ApplicationHandlerStop
    chosen = await _chosen_unit(context, chat.id)
    if message.location is not None:
        setup = setup.with_area(GeoPoint(message.location.latitude, message.location.longitude), "", None)
        view = setup_view(t, context.services.callbacks, setup, _unit(setup, chosen))
    else:
        setup, view = await _geocoded(t, context, setup, (message.text or "").strip(), chosen)
    looked = await _with_operators(context, setup)  # a new area for a setup past its radius
    if looked is not setup:
        setup, view = looked, setup_view(t, context.services.callbacks, looked, _unit(looked, chosen))
    message_id = await _edit(context, chat.id, setup.message_id, view)
    _keep(context, replace(setup, message_id=message_id), replacing=setup.message_id)
    raise ApplicationHandlerStop


# Buttons ----------------------------------------------------------------------------------------


async def on_button(update: Update, context: BotContext) -> None:
    query, chat, user = query_of(update), chat_of(update), user_of(update)
    t = await translator_for(update, context)
    message = button_message(query)
    try:
        button = read_watch_button(context.services.callbacks.decode(query.data))
        if button.chat_id != chat.id or message is None:
            raise InvalidCallback(f"a watch button of chat {button.chat_id} pressed in {chat.id}")
    except InvalidCallback as error:
        await _refuse(t, query, "watch button", error)
        return
    if not await _pressed_by_admin(t, context, chat, query, user.id):
        return
    chosen = await _chosen_unit(context, chat.id)
    try:
        if button.action == SETUP_ACTION:
            notice, view = await _setup_button(t, context, button, message, user.id, chosen)
        elif button.action == QUIET_ACTION:
            notice, view = await _quiet_button(t, context, button)
        else:
            notice, view = await _list_button(t, context, button, message, user.id, chosen)
    except (InvalidCallback, InvalidWatch, ValueError) as error:
        await _refuse(t, query, "watch button", error)
        return
    await answer_query(query, notice or None)  # first: the tap stops spinning even if the edit waits
    await _edit_view(message, view)


async def _refuse(t: Translator, query: CallbackQuery, what: str, error: Exception) -> None:
    """A forged, foreign or stale button: logged, and an alert for the one who pressed it."""
    log.info("%s refused: %s", what, error)
    await answer_query(query, button_refused_text(t), show_alert=True)


async def _pressed_by_admin(t: Translator, context: BotContext, chat: Chat, query: CallbackQuery, user_id: int) -> bool:
    """Whether one of the group's admins pressed the button; anyone else gets an alert."""
    if await is_admin(context, chat, user_id):
        return True
    await answer_query(query, admins_only_text(t), show_alert=True)
    return False


async def _setup_button(
    t: Translator,
    context: BotContext,
    button: WatchButton,
    message: Message,
    user_id: int,
    chosen: DistanceUnitChoice | None,
) -> tuple[str, View]:
    setup = _setup(context, message.message_id)
    if setup is None:
        raise InvalidCallback("no setup in progress on this message")
    codec = context.services.callbacks
    op = button.op
    if op == SetupOp.CANCEL:
        _drop(context, setup)
        return "", cancelled_view(t)
    if op == SetupOp.SAVE:
        draft = setup.draft()
        book = WatchBook(context.services.storage)
        if setup.watch_id:
            watch = await book.update(Watch(**_fields(draft), id=setup.watch_id))
        else:
            watch = await book.add(draft)
        _drop(context, setup)
        return "", saved_view(t, watch, _unit(setup, chosen))
    if op == SetupOp.RADIUS:
        value = int(button.value)
        setup = (
            replace(setup, step=Step.RADIUS)
            if value == 0
            else replace(setup, radius_km=radius_km(value, _unit(setup, chosen)), step=Step.OPTIONS)
        )
    elif op == SetupOp.AREA:
        setup = replace(setup, step=Step.AREA, admin_id=user_id, since=time.time())
    elif op == SetupOp.POWER:
        setup = setup.next_power()
    elif op == SetupOp.CONNECTOR:
        setup = setup.toggled_connector(button.value)
    elif op == SetupOp.ANNOUNCE:
        setup = setup.toggled_announce(Announce(button.value))
    elif op == SetupOp.OPERATOR:
        setup = setup.toggled_operator(int(button.value))
    else:
        raise InvalidCallback(f"no setup step {op!r}")
    if setup.step != Step.AREA and setup.centre is None:
        raise InvalidCallback("the setup has no area yet")
    setup = await _with_operators(context, setup)
    _keep(context, setup)
    return "", setup_view(t, codec, setup, _unit(setup, chosen))


async def _list_button(
    t: Translator,
    context: BotContext,
    button: WatchButton,
    message: Message,
    user_id: int,
    chosen: DistanceUnitChoice | None,
) -> tuple[str, View]:
    book = WatchBook(context.services.storage)
    watch = await book.get(button.chat_id, int(button.value))
    if watch is None:
        raise InvalidCallback(f"chat {button.chat_id} has no watch {button.value}")
    codec = context.services.callbacks
    op = button.op
    if op in (ListOp.PAUSE, ListOp.RESUME):
        await book.set_paused(watch.chat_id, watch.id, op == ListOp.PAUSE)
    elif op == ListOp.REMOVE:
        return "", confirm_removal_view(t, codec, watch, _watch_unit(watch, chosen))
    elif op == ListOp.CONFIRM:
        await book.remove(watch.chat_id, watch.id)
    elif op == ListOp.EDIT:
        setup = replace(WatchSetup.editing(watch, user_id), message_id=message.message_id)
        setup = await _with_operators(context, setup)
        _keep(context, setup)
        return "", setup_view(t, codec, setup, _unit(setup, chosen))
    elif op != ListOp.KEEP:
        raise InvalidCallback(f"no watch list action {op!r}")
    return watch_changed_notice(t, op), await _list_view(t, context, watch.chat_id)


async def _quiet_button(t: Translator, context: BotContext, button: WatchButton) -> tuple[str, View]:
    storage, chat_id = context.services.storage, button.chat_id
    if button.op == QuietOp.BACK:
        return "", await _list_view(t, context, chat_id)
    quiet = await quiet_hours_of(storage, chat_id)
    if quiet is None:
        watches = await WatchBook(storage).for_chat(chat_id)
        quiet = QuietHours.guessed_for(watches[0].centre.longitude if watches else None)
    step = int(button.value or 0)
    if button.op in (QuietOp.START, QuietOp.END, QuietOp.OFFSET) and step not in (-1, 1):
        raise InvalidCallback(f"no quiet hours step {button.value!r}")
    if button.op == QuietOp.START:
        quiet = quiet.moved(start=step)
    elif button.op == QuietOp.END:
        quiet = quiet.moved(end=step)
    elif button.op == QuietOp.OFFSET:
        quiet = quiet.moved(offset_minutes=60 * step)
    elif button.op == QuietOp.TOGGLE:
        quiet = replace(quiet, on=not quiet.on)
    elif button.op != QuietOp.OPEN:
        raise InvalidCallback(f"no quiet hours action {button.op!r}")
    if button.op != QuietOp.OPEN:
        await save_quiet_hours(storage, chat_id, quiet)
    return "", quiet_hours_view(t, context.services.callbacks, chat_id, quiet)


async def _with_operators(context: BotContext, setup: WatchSetup) -> WatchSetup:
    """At the options step, once per area: the operators commonest near it (one search, cached), and
    the names of those already chosen (OCM's reference data)."""
    centre = setup.centre
    if setup.step != Step.OPTIONS or setup.operators_looked_up or centre is None:
        return setup
    counts: Counter[int] = Counter()
    names: dict[int, str] = {}
    try:
        reference = await context.services.ocm_client.reference_data()
        names.update((i, reference.operators[i].title) for i in setup.operators if i in reference.operators)
        result = await context.services.search.nearby(centre, UserPreferences(), radius_km=setup.radius_km)
    except OcmError as error:
        log.info("no operator choices for a watch: %r", error)
        return setup
    for hit in result.hits:
        operator = hit.charger.operator
        if operator is not None and operator.title and not operator.title.startswith("("):  # "(Unknown Operator)"
            counts[operator.id] += 1
            names.setdefault(operator.id, operator.title)
    chosen = [(i, names.get(i, f"#{i}")) for i in sorted(setup.operators)]
    setup = replace(setup, operator_choices=tuple(chosen))
    return setup.with_operator_choices([(i, names[i]) for i, _ in counts.most_common()])


# /watches ---------------------------------------------------------------------------------------


async def on_watches(update: Update, context: BotContext) -> None:
    message, chat = message_of(update), chat_of(update)
    t = await translator_for(update, context)
    if chat.type not in (Chat.GROUP, Chat.SUPERGROUP):
        await message.reply_text(groups_only_text(t))
        return
    view = await _list_view(t, context, chat.id)
    await message.reply_text(view.text, parse_mode=ParseMode.HTML, reply_markup=view.keyboard)


async def _list_view(t: Translator, context: BotContext, chat_id: int) -> View:
    watches = await WatchBook(context.services.storage).for_chat(chat_id)
    quiet = await quiet_hours_of(context.services.storage, chat_id)
    chosen = await _chosen_unit(context, chat_id)
    units = {w.id: _watch_unit(w, chosen) for w in watches}
    return watches_view(t, context.services.callbacks, chat_id, watches, units, quiet)


# Helpers ----------------------------------------------------------------------------------------


async def _chosen_unit(context: BotContext, chat_id: int) -> DistanceUnitChoice | None:
    """The unit an admin chose in the group's /settings (None: each place's country decides)."""
    return (await group_preferences(context.services.storage, chat_id)).unit


def _unit(setup: WatchSetup, chosen: DistanceUnitChoice | None) -> DistanceUnitChoice:
    centre = setup.centre
    if centre is None:
        return chosen or DistanceUnitChoice.KM
    return unit_for_place(UserPreferences(unit=chosen), place_country(centre, setup.country))


def _watch_unit(watch: Watch, chosen: DistanceUnitChoice | None) -> DistanceUnitChoice:
    return unit_for_place(UserPreferences(unit=chosen), place_country(watch.centre))


def _fields(draft: Any) -> dict[str, Any]:
    return {name: getattr(draft, name) for name in type(draft).__dataclass_fields__ if name != "id"}


def _chat_data(context: BotContext) -> dict[Any, Any]:
    if context.chat_data is None:
        raise InvalidCallback("the update has no chat")
    return context.chat_data


def _setups(context: BotContext) -> dict[str, Any]:
    """The group's setups in progress, by the id of their message (one per admin's /watch)."""
    data = _chat_data(context)
    setups = data.get(SETUPS_KEY)
    if not isinstance(setups, dict):
        setups = {}
        old = WatchSetup.from_dict(data.pop(SETUP_KEY, None))  # kept by an older version: one per group
        if old is not None:
            setups[str(old.message_id)] = old.to_dict()
        data[SETUPS_KEY] = setups
    return setups


def _setup(context: BotContext, message_id: int) -> WatchSetup | None:
    if context.chat_data is None:
        return None
    return WatchSetup.from_dict(_setups(context).get(str(message_id)))


def _awaiting_area(context: BotContext, admin_id: int | None) -> WatchSetup | None:
    """The newest of ``admin_id``'s setups that asks for its area, if any."""
    if context.chat_data is None or admin_id is None:
        return None
    waiting = [
        setup
        for setup in (WatchSetup.from_dict(data) for data in _setups(context).values())
        if setup is not None and setup.step == Step.AREA and setup.admin_id == admin_id
    ]
    return max(waiting, key=lambda setup: setup.since, default=None)


def _keep(context: BotContext, setup: WatchSetup, *, replacing: int | None = None) -> None:
    setups = _setups(context)
    if replacing is not None and replacing != setup.message_id:
        setups.pop(str(replacing), None)  # the setup's message was sent anew
    setups[str(setup.message_id)] = setup.to_dict()
    while len(setups) > MAX_DRAFTS:
        oldest = min(setups, key=lambda key: float(setups[key].get("since", 0.0)))
        setups.pop(oldest)
    _chat_data(context)[SETUPS_KEY] = dict(setups)  # a new dict: the persistence sees the change


def _drop(context: BotContext, setup: WatchSetup) -> None:
    setups = _setups(context)
    setups.pop(str(setup.message_id), None)
    _chat_data(context)[SETUPS_KEY] = dict(setups)


async def _edit_view(message: Message, view: View) -> None:
    await edit_unless_not_modified(
        message.edit_text, text=view.text, parse_mode=ParseMode.HTML, reply_markup=view.keyboard
    )


async def _edit(context: BotContext, chat_id: int, message_id: int, view: View) -> int:
    """Show ``view`` in the setup message (sent anew if it was deleted); the message's id."""
    try:
        await edit_unless_not_modified(
            context.bot.edit_message_text,
            chat_id=chat_id,
            message_id=message_id,
            text=view.text,
            parse_mode=ParseMode.HTML,
            reply_markup=view.keyboard,
        )
    except BadRequest as error:  # the setup message was deleted: send the step again
        log.info("watch setup message gone: %s", error)
        sent = await context.bot.send_message(chat_id, view.text, parse_mode=ParseMode.HTML, reply_markup=view.keyboard)
        return sent.message_id
    return message_id
