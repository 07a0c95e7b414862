"""What a driver sees around a photo of a charger: the caption step, refusals, delivery. Pure functions.

Buttons (callback data signed by :class:`~ocm_bot.views.callbacks.CallbackCodec`)::

    ph|<charger id>            📷 Add a photo (under a charger's details)
    phs|<draft key>|c or -     Send the kept photo with its caption (c) or without one (-)
    phx|<draft key>            Cancel: the kept photo is dropped
    php|<n>                    the n-th card of the message the photo replied to (0-based)
    pa|<charger id>            📷 Photos (n): the first photos as an album, each credited
"""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ocm_bot.domain.outbox import Delivery, DeliveryResult, QueuedPhoto
from ocm_bot.domain.photos import MAX_PHOTO_BYTES, PhotoDraft, PhotoProblem
from ocm_bot.i18n import Translator
from ocm_bot.ocm.errors import OcmAuthError
from ocm_bot.ocm.identity import add_photo_url, poi_page_url
from ocm_bot.ocm.models import Charger
from ocm_bot.views.callbacks import CallbackCodec
from ocm_bot.views.common import View
from ocm_bot.views.format import ago, html_text
from ocm_bot.views.html import Html, bold, gettext_html, join, link

ADD_PHOTO = "ph"
ALBUM = "pa"
ALBUM_SIZE = 5  # the first photos of a charger, as one album
PICK_CHARGER = "php"
SEND_PHOTO = "phs"
CANCEL_PHOTO = "phx"
WITH_CAPTION = "c"
NO_CAPTION = "-"
_CAPTION_SHOWN = 200


def _name(charger_name: str) -> Html:
    return bold(html_text(charger_name, 80))


def add_photo_button(t: Translator, codec: CallbackCodec, charger_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(t.gettext("📷 Add a photo"), callback_data=codec.encode(ADD_PHOTO, charger_id))


def ocm_photo_page_keyboard(t: Translator, charger_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t.gettext("Add a photo on Open Charge Map ↗"), url=add_photo_url(charger_id))]]
    )


def send_photo_now_view(t: Translator, charger_name: str) -> View:
    """After 📷 Add a photo: what to send."""
    return View(
        gettext_html(
            t,
            "Send your photo of {name} now, as a photo or as an image file (JPEG, PNG or WebP).",
            name=_name(charger_name),
        )
    )


def cannot_post_view(t: Translator, charger_id: int, charger_name: str) -> View:
    """No sign-in and no write key: OCM's own "add a photo" page for the charger."""
    return View(
        gettext_html(
            t,
            "I can't post photos for you yet: sign in with /login first. "
            "Or add your photo of {name} on Open Charge Map's own page:",
            name=_name(charger_name),
        ),
        ocm_photo_page_keyboard(t, charger_id),
    )


def no_charger_view(t: Translator) -> View:
    """A picture with no charger to put it on."""
    return View(
        gettext_html(
            t,
            "To add a photo of a charger, send it in reply to the charger's details, "
            "or tap 📷 Add a photo under its details first.",
        )
    )


def pick_charger_view(t: Translator, codec: CallbackCodec, count: int) -> View:
    """A photo in reply to a results message: which of its numbered cards it shows."""
    buttons = [InlineKeyboardButton(f"📷 {n + 1}", callback_data=codec.encode(PICK_CHARGER, n)) for n in range(count)]
    rows = [buttons[i : i + 5] for i in range(0, len(buttons), 5)]
    return View(gettext_html(t, "Which charger is in your photo? Tap its number."), InlineKeyboardMarkup(rows))


def problem_view(t: Translator, problem: PhotoProblem) -> View:
    """Why this cannot go to OCM as a charger photo, and what to send instead."""
    limit = t.number(MAX_PHOTO_BYTES // (1024 * 1024))
    texts = {
        PhotoProblem.TOO_BIG: gettext_html(
            t, "That file is too big for a charger photo: send a photo of at most {mb} MB.", mb=limit
        ),
        PhotoProblem.STICKER: gettext_html(
            t, "Stickers can't go on Open Charge Map. Send a photo of the charger instead."
        ),
        PhotoProblem.VIDEO: gettext_html(
            t, "Open Charge Map takes photos, not videos. Send a photo of the charger (at most {mb} MB).", mb=limit
        ),
        PhotoProblem.ANIMATION: gettext_html(
            t, "Open Charge Map takes still photos, not GIFs or animations. Send a photo of the charger instead."
        ),
        PhotoProblem.NOT_AN_IMAGE: gettext_html(
            t, "That file is not a photo I can send to Open Charge Map. Send a JPEG, PNG or WebP image."
        ),
    }
    return View(texts[problem])


def download_failed_view(t: Translator) -> View:
    return View(gettext_html(t, "I could not fetch your photo from Telegram. Please send it again."))


def caption_view(t: Translator, codec: CallbackCodec, draft: PhotoDraft) -> View:
    """The caption step: type one, or send the photo as it is (its own caption offered first)."""
    name = _name(draft.target.charger_name)
    cancel = InlineKeyboardButton(t.gettext("Cancel"), callback_data=codec.encode(CANCEL_PHOTO, draft.key))
    if draft.caption:
        text = gettext_html(
            t,
            "Your photo of {name} is ready. Send it with the caption “{caption}”? Or type another caption.",
            name=name,
            caption=html_text(draft.caption, _CAPTION_SHOWN),
        )
        rows = [
            [
                InlineKeyboardButton(
                    t.gettext("✅ Send"), callback_data=codec.encode(SEND_PHOTO, draft.key, WITH_CAPTION)
                )
            ],
            [
                InlineKeyboardButton(
                    t.gettext("Send without caption"), callback_data=codec.encode(SEND_PHOTO, draft.key, NO_CAPTION)
                ),
                cancel,
            ],
        ]
    else:
        text = gettext_html(
            t,
            "Your photo of {name} is ready. Add a caption for other drivers (what it shows: the plugs, "
            "the bay, the sign)? Type it now, or skip.",
            name=name,
        )
        rows = [
            [
                InlineKeyboardButton(t.gettext("Skip"), callback_data=codec.encode(SEND_PHOTO, draft.key, NO_CAPTION)),
                cancel,
            ]
        ]
    return View(text, InlineKeyboardMarkup(rows))


def sending_view(t: Translator, charger_name: str) -> View:
    return View(gettext_html(t, "Sending your photo of {name} to Open Charge Map…", name=_name(charger_name)))


def cancelled_view(t: Translator) -> View:
    return View(gettext_html(t, "Cancelled. Your photo was not sent."))


def no_draft_text(t: Translator) -> str:
    return t.gettext("This photo is no longer waiting to be sent. Send it again if you like.")


def queued_photo_text(t: Translator) -> str:
    return t.gettext("This photo is already on its way to Open Charge Map.")


def photo_delivery_screen(t: Translator, codec: CallbackCodec, delivery: Delivery, retry: str) -> View:
    """What the driver is told after an attempt to post their photo (``retry``: the Retry action)."""
    photo = delivery.checkin
    assert isinstance(photo, QueuedPhoto)
    name = _name(photo.charger_name or f"#{photo.charger_id}")
    page_link = link(poi_page_url(photo.charger_id), gettext_html(t, "the charger page"))
    result = delivery.result
    if result is DeliveryResult.DELIVERED:
        text = gettext_html(t, "Thanks! Your photo of {name} is on Open Charge Map: {link}.", name=name, link=page_link)
        return View(
            text,
            InlineKeyboardMarkup(
                [[InlineKeyboardButton(t.gettext("Open in OCM ↗"), url=poi_page_url(photo.charger_id))]]
            ),
        )
    if result is DeliveryResult.NEEDS_SIGN_IN:
        return View(
            gettext_html(
                t,
                "Your Open Charge Map sign-in has expired. Your photo of {name} is kept: "
                "send /login and I will post it.",
                name=name,
            )
        )
    if result in (DeliveryResult.REJECTED, DeliveryResult.GAVE_UP):
        if isinstance(delivery.error, OcmAuthError):
            reason = gettext_html(t, "this bot is not allowed to post to Open Charge Map right now.")
        elif result is DeliveryResult.GAVE_UP:
            reason = gettext_html(t, "I could not reach it for two days.")
        else:
            reason = gettext_html(t, "it did not accept the picture.")
        text = gettext_html(
            t,
            "Your photo of {name} is not posted: {reason} You can add it on Open Charge Map's own page instead.",
            name=name,
            reason=reason,
        )
        return View(text, ocm_photo_page_keyboard(t, photo.charger_id))
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(t.gettext("🔄 Retry now"), callback_data=codec.encode(retry, delivery.item.key))]]
    )
    text = gettext_html(
        t,
        "Open Charge Map is not answering right now. Your photo of {name} is saved; "
        "I'll send it as soon as it is back.",
        name=name,
    )
    return View(text, keyboard)


def album_button(t: Translator, codec: CallbackCodec, charger: Charger) -> InlineKeyboardButton | None:
    """📷 Photos (n) under the details of a charger with photos."""
    count = len([m for m in charger.media_items if m.url])
    if not count:
        return None
    return InlineKeyboardButton(t.gettext("📷 Photos ({n})", n=count), callback_data=codec.encode(ALBUM, charger.id))


def album(t: Translator, charger: Charger, licence: str | None, now: datetime) -> list[tuple[str, Html]]:
    """The first photos of ``charger``: (image URL, caption crediting who took it, when, and the licence)."""
    items = []
    for media in [m for m in charger.media_items if m.url][:ALBUM_SIZE]:
        who = html_text(media.user_name or t.gettext("an Open Charge Map contributor"), 40)
        if licence:
            credit = gettext_html(t, "📷 {user} on Open Charge Map ({licence})", user=who, licence=licence)
        else:
            credit = gettext_html(t, "📷 {user} on Open Charge Map", user=who)
        parts = [credit]
        if when := ago(t, media.date_created, now):
            parts.append(Html(when))
        caption = join(" · ", parts)
        if media.comment and media.comment.strip():
            caption = join("\n", ["“" + html_text(media.comment, 300) + "”", caption])
        items.append((media.url or "", caption))
    return items


def album_failed_view(t: Translator, charger_id: int) -> View:
    return View(
        gettext_html(t, "Telegram could not load these photos. See them on the charger's page:"),
        InlineKeyboardMarkup([[InlineKeyboardButton(t.gettext("Open in OCM ↗"), url=poi_page_url(charger_id))]]),
    )
