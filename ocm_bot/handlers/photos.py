"""A driver's photo of a charger: picked up, checked, kept, captioned, queued for OCM.

A photo (or an image file, a sticker, a video...) sent in a private chat in reply to a charger's
details or card, or after 📷 Add a photo under the details: size and type are checked from what
Telegram says before anything is downloaded (:func:`ocm_bot.domain.photos.check_media`); then the
file is fetched (getFile), kept in storage, and the caption step is shown. A typed caption, Skip or
Send queues it in the check-in outbox (:mod:`ocm_bot.handlers.outbox` delivers and reports).
Buttons: ``ph`` / ``phs`` / ``phx`` (:mod:`ocm_bot.views.photos`).
"""

from __future__ import annotations

import contextlib
import logging
import re

from telegram import InputMediaPhoto, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop, BaseHandler, CallbackQueryHandler, MessageHandler, filters

from ocm_bot.context import BotContext
from ocm_bot.domain.photos import (
    HeldMedia,
    MediaKind,
    PhotoDraft,
    PhotoProblem,
    PhotoService,
    PhotoStatus,
    PhotoTarget,
    check_media,
    sniff_image_type,
)
from ocm_bot.handlers import answers
from ocm_bot.handlers.common import answer_query, chat_of, message_of, query_of, user_of
from ocm_bot.handlers.outbox import deliver_outbox
from ocm_bot.handlers.signin import sign_in_under_way
from ocm_bot.i18n import Translator
from ocm_bot.ocm.errors import OcmError
from ocm_bot.views import photos as views
from ocm_bot.views.callbacks import action_pattern
from ocm_bot.views.cards import short_licence
from ocm_bot.views.delivery import queued_item_text

log = logging.getLogger(__name__)

OCM_CONTRIBUTORS = 1  # OCM's data provider "Open Charge Map Contributors": whose licence user photos carry

_CHARGER_PAGE = re.compile(r"openchargemap\.org/site/poi/details/(\d{1,9})\b")
_MEDIA = (
    filters.PHOTO | filters.Document.ALL | filters.Sticker.ALL | filters.VIDEO | filters.ANIMATION | filters.VIDEO_NOTE
) & filters.ChatType.PRIVATE


def _media_of(message: Message) -> tuple[MediaKind, str, str | None, int | None] | None:
    """What was sent: kind, file ID, media type and size as Telegram gives them."""
    if message.photo:
        largest = message.photo[-1]
        return MediaKind.PHOTO, largest.file_id, "image/jpeg", largest.file_size
    if message.sticker:
        return MediaKind.STICKER, message.sticker.file_id, None, message.sticker.file_size
    if message.animation:  # before document: a GIF comes with both
        return MediaKind.ANIMATION, message.animation.file_id, message.animation.mime_type, message.animation.file_size
    if message.video or message.video_note:
        video = message.video or message.video_note
        assert video is not None
        return MediaKind.VIDEO, video.file_id, getattr(video, "mime_type", None), video.file_size
    if message.document:
        document = message.document
        return MediaKind.DOCUMENT, document.file_id, document.mime_type, document.file_size
    return None


def charger_ids_in(message: Message | None) -> list[int]:
    """The chargers a bot message shows, from its "Open in OCM" buttons (in the order shown)."""
    if message is None or message.from_user is None or not message.from_user.is_bot or message.reply_markup is None:
        return []
    found: list[int] = []
    for row in message.reply_markup.inline_keyboard:
        for button in row:
            match = _CHARGER_PAGE.search(button.url or "")
            if match and int(match[1]) not in found:
                found.append(int(match[1]))
    return found


async def _target(context: BotContext, charger_id: int) -> PhotoTarget:
    """The charger a photo is for, with its name as the driver sees it."""
    return PhotoTarget(charger_id, (await context.services.checkin.lookup_charger(charger_id)).name)


def _photos(context: BotContext) -> PhotoService:
    return context.services.photos


async def on_media(update: Update, context: BotContext) -> None:
    """A picture, file or sticker in a private chat: a charger photo when it names a charger."""
    message, user = message_of(update), user_of(update)
    media = _media_of(message)
    if media is None:
        return
    kind, file_id, mime_type, size = media
    photos = _photos(context)
    t, _ = await answers.driver(update, context)
    replied = charger_ids_in(message.reply_to_message)
    target_id = replied[0] if len(replied) == 1 else None
    awaited = await photos.awaited_target(user.id) if not replied else None
    if not replied and awaited is None:
        if kind is MediaKind.PHOTO or (kind is MediaKind.DOCUMENT and (mime_type or "").startswith("image/")):
            await answers.reply(update, views.no_charger_view(t))
        return  # a sticker or a file with no charger in sight is not meant for OCM
    if (problem := check_media(kind, mime_type, size)) is not None:
        await answers.reply(update, views.problem_view(t, problem))
        return
    if len(replied) > 1:
        if not await photos.can_post(user.id):
            await answers.reply(update, views.cannot_post_view(t, replied[0], f"#{replied[0]}"))
            return
        held = HeldMedia(file_id, mime_type, size, message.caption, tuple(replied), photos.now())
        await photos.hold_for_choice(user.id, held)
        await answers.reply(update, views.pick_charger_view(t, context.services.callbacks, len(replied)))
        return
    target = awaited or await _target(context, target_id or 0)
    await _take(update, context, t, target, file_id, message.caption)


async def on_pick(update: Update, context: BotContext) -> None:
    """📷 n under "Which charger is in your photo?": the held picture is for that card's charger."""
    button = await answers.button_with_args(update, context, 1)
    if button is None:
        return
    t, _ = await answers.driver(update, context)
    taken = await _photos(context).take_choice(user_of(update).id, button.int_arg(0))
    if taken is None:
        await answer_query(query_of(update), views.no_draft_text(t), show_alert=True)
        return
    await answer_query(query_of(update))
    held, charger_id = taken
    target = await _target(context, charger_id)
    await _take(update, context, t, target, held.file_ref, held.caption)


async def _take(
    update: Update,
    context: BotContext,
    t: Translator,
    target: PhotoTarget,
    file_id: str,
    caption: str | None,
) -> None:
    """Download the picture for ``target``, keep it and show the caption step (or say why not)."""
    photos, user = _photos(context), user_of(update)
    if not await photos.can_post(user.id):
        await answers.reply(update, views.cannot_post_view(t, target.charger_id, target.charger_name))
        return
    image = await _download(context, file_id)
    if image is None:
        await answers.reply(update, views.download_failed_view(t))
        return
    if isinstance(image, PhotoProblem):
        await answers.reply(update, views.problem_view(t, image))
        return
    data, real_type = image
    draft = await photos.begin(
        user_id=user.id,
        chat_id=chat_of(update).id,
        target=target,
        image=data,
        mime_type=real_type,
        caption=caption,
    )
    await _show_caption_step(update, context, t, draft)


async def _download(context: BotContext, file_id: str) -> tuple[bytes, str] | PhotoProblem | None:
    """The file's bytes and real media type; a problem when it is no photo after all; None on failure."""
    try:
        file = await context.bot.get_file(file_id)
        if (problem := check_media(MediaKind.PHOTO, None, file.file_size)) is not None:
            return problem
        data = bytes(await file.download_as_bytearray())
    except TelegramError as error:
        log.warning("could not download a photo from Telegram: %s", error)
        return None
    if (problem := check_media(MediaKind.PHOTO, None, len(data))) is not None:
        return problem
    real_type = sniff_image_type(data)
    return (data, real_type) if real_type is not None else PhotoProblem.NOT_AN_IMAGE


async def _show_caption_step(update: Update, context: BotContext, t: Translator, draft: PhotoDraft) -> None:
    sent = await answers.reply(update, views.caption_view(t, context.services.callbacks, draft))
    if sent is not None:
        await _photos(context).set_panel(user_of(update).id, draft, sent.message_id)


async def on_caption(update: Update, context: BotContext) -> None:
    """Text typed while a photo waits for its caption: the caption, and the photo is queued."""
    user = user_of(update)
    draft = await _photos(context).draft(user.id)
    if draft is None or await sign_in_under_way(update, context):
        return  # not ours: the next group (sign-in, check-in comment, search...) takes it
    await _confirm(update, context, draft.key, message_of(update).text)
    raise ApplicationHandlerStop


async def on_send(update: Update, context: BotContext) -> None:
    """✅ Send / Send without caption / Skip."""
    button = await answers.button_with_args(update, context, 2)
    if button is None:
        return
    key = button.args[0]
    draft = await _photos(context).draft(user_of(update).id)
    caption = draft.caption if draft is not None and button.args[1] == views.WITH_CAPTION else None
    await _confirm(update, context, key, caption)


async def _confirm(update: Update, context: BotContext, key: str, caption: str | None) -> None:
    t, _ = await answers.driver(update, context)
    query = update.callback_query
    photos = _photos(context)
    draft = await photos.draft(user_of(update).id)
    result = await photos.confirm(user_of(update).id, key, caption=caption, language=t.language)
    if result.status is PhotoStatus.ALREADY_QUEUED:
        status = result.item.status if result.item is not None else None
        text = queued_item_text(t, status) if status is not None else views.queued_photo_text(t)
        await _tell(update, t, text)
        return
    if result.status is PhotoStatus.NO_DRAFT:
        await _tell(update, t, views.no_draft_text(t))
        return
    if result.status is PhotoStatus.NO_CREDENTIALS and result.draft is not None:
        if query is not None:
            await answer_query(query)
        target = result.draft.target
        await answers.reply(update, views.cannot_post_view(t, target.charger_id, target.charger_name))
        return
    if query is not None:
        await answer_query(query)
    sending = views.sending_view(t, result.draft.target.charger_name if result.draft else "")
    panel = draft.panel_message_id if draft is not None else None
    with contextlib.suppress(BadRequest):
        if panel is not None:
            await context.bot.edit_message_text(sending.text, chat_of(update).id, panel, parse_mode=ParseMode.HTML)
    context.application.create_task(deliver_outbox(context.application), update=update)


async def _tell(update: Update, t: Translator, text: str) -> None:
    if update.callback_query is not None:
        await answer_query(update.callback_query, text, show_alert=True)
    else:
        await message_of(update).reply_text(text)


async def on_cancel(update: Update, context: BotContext) -> None:
    """Cancel under the caption step: the kept photo is dropped, nothing is sent."""
    button = await answers.button(update, context)
    if button is None:
        await answers.expired(update, context)
        return
    t, _ = await answers.driver(update, context)
    photos = _photos(context)
    draft = await photos.draft(user_of(update).id)
    if draft is None or draft.key != button.args[0]:
        await answer_query(query_of(update), views.no_draft_text(t), show_alert=True)
        return
    await photos.discard(user_of(update).id)
    await answer_query(query_of(update))
    await answers.reply(update, views.cancelled_view(t), edit=_button_message(update))


def _button_message(update: Update) -> Message | None:
    message = query_of(update).message
    return message if isinstance(message, Message) else None


async def on_add_photo(update: Update, context: BotContext) -> None:
    """📷 Add a photo under a charger's details: the next picture the driver sends is for it."""
    button = await answers.button_with_args(update, context, 1)
    if button is None:
        return
    t, _ = await answers.driver(update, context)
    await answer_query(query_of(update))
    charger_id = button.int_arg(0)
    target = await _target(context, charger_id)
    photos = _photos(context)
    if not await photos.can_post(user_of(update).id):
        await answers.reply(update, views.cannot_post_view(t, charger_id, target.charger_name))
        return
    await photos.wait_for_photo(user_of(update).id, target)
    await answers.reply(update, views.send_photo_now_view(t, target.charger_name))


async def on_album(update: Update, context: BotContext) -> None:
    """📷 Photos (n) under the details: the first photos as one album, each credited."""
    button = await answers.button_with_args(update, context, 1)
    if button is None:
        return
    t, _ = await answers.driver(update, context)
    charger_id = button.int_arg(0)
    try:
        charger = await context.services.search.charger(charger_id, include_comments=True)
    except OcmError as error:
        retry = context.services.callbacks.encode(views.ALBUM, charger_id)
        await answer_query(query_of(update))
        await answers.report_ocm_failure(update, context, t, error, retry)
        return
    await answer_query(query_of(update))
    reference = await answers.reference(context)
    contributors = reference.data_providers.get(OCM_CONTRIBUTORS) if reference else None
    licence = short_licence(t, contributors.license) if contributors else None
    items = views.album(t, charger, licence, answers.now()) if charger is not None else []
    if not items:
        await answers.reply(update, views.album_failed_view(t, charger_id))
        return
    chat_id = chat_of(update).id
    try:
        if len(items) == 1:
            url, caption = items[0]
            await context.bot.send_photo(chat_id, url, caption=caption, parse_mode=ParseMode.HTML)
        else:
            media = [InputMediaPhoto(url, caption=caption, parse_mode=ParseMode.HTML) for url, caption in items]
            await context.bot.send_media_group(chat_id, media)
    except BadRequest as error:  # Telegram could not fetch an image from OCM's storage
        log.info("the photos of charger %s could not be sent: %s", charger_id, error)
        await answers.reply(update, views.album_failed_view(t, charger_id))


def priority_handlers() -> list[BaseHandler]:
    """A typed caption, before the check-in's comment step and the search take text (group -5).

    While a sign-in is under way its e-mail address and password go to the sign-in (group -3), never
    into a photo's caption (:func:`ocm_bot.handlers.signin.sign_in_under_way`).
    """
    return [MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, on_caption)]


def handlers() -> list[BaseHandler]:
    return [
        MessageHandler(_MEDIA, on_media),
        CallbackQueryHandler(on_add_photo, pattern=action_pattern(views.ADD_PHOTO)),
        CallbackQueryHandler(on_pick, pattern=action_pattern(views.PICK_CHARGER)),
        CallbackQueryHandler(on_album, pattern=action_pattern(views.ALBUM)),
        CallbackQueryHandler(on_send, pattern=action_pattern(views.SEND_PHOTO)),
        CallbackQueryHandler(on_cancel, pattern=action_pattern(views.CANCEL_PHOTO)),
    ]
