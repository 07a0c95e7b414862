"""What a watching group reads: one event with the charger's card and buttons, or a digest of many."""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ocm_bot.domain.announcements import Announcement
from ocm_bot.domain.preferences import DistanceUnitChoice
from ocm_bot.domain.watch_changes import Condition
from ocm_bot.domain.watches import Announce
from ocm_bot.i18n import Translator
from ocm_bot.ocm.models import Charger
from ocm_bot.views.callbacks import CallbackCodec
from ocm_bot.views.cards import card, navigation_url, poi_url
from ocm_bot.views.common import reading_order
from ocm_bot.views.format import html_text
from ocm_bot.views.html import Html, bold, italic, join, ngettext_html
from ocm_bot.views.results import DETAILS, NO_SEARCH, View

DIGEST_LINES = 10  # a page of a digest
DIGEST_PAGE = "dg"  # a digest's page button: key, page
NAME_CHARS = 60
COMMENT_CHARS = 300


def event_headline(t: Translator, item: Announcement) -> str:
    if item.kind is Announce.NEW:
        return t.gettext("🆕 New charger in your area")
    if item.kind is Announce.FAULT:
        return t.gettext("⚠️ A driver reported a fault")
    if item.after is Condition.REMOVED:
        return t.gettext("❌ Charger removed")
    if item.after is Condition.WORKING:
        return t.gettext("✅ Charger working again")
    return t.gettext("🔴 Charger out of order")


def announcement_keyboard(t: Translator, charger: Charger, codec: CallbackCodec) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t.gettext("Open in OCM ↗"), url=poi_url(charger.id)),
                InlineKeyboardButton(t.gettext("Navigate 🧭"), url=navigation_url(charger)),
            ],
            [InlineKeyboardButton(t.gettext("ℹ️ Details"), callback_data=codec.encode(DETAILS, charger.id, NO_SEARCH))],
        ]
    )


def announcement_view(
    t: Translator, codec: CallbackCodec, item: Announcement, charger: Charger, *, now: datetime
) -> View:
    """One event: what happened, the charger's card, its OCM page, navigation and details."""
    parts: list[str | Html] = [bold(html_text(event_headline(t, item), 200))]
    if item.comment:
        parts.append(italic(Html("“{}”").format(html_text(item.comment, COMMENT_CHARS))))
    parts.append(card(t, charger, now=now, unit=DistanceUnitChoice.KM))
    text = join("\n\n", parts)
    return View(text, announcement_keyboard(t, charger, codec))


def digest_view(
    t: Translator, codec: CallbackCodec, items: list[tuple[Announcement, str]], *, key: str | None = None, page: int = 0
) -> View:
    """Many events at once: one message, a line each, :data:`DIGEST_LINES` a page (``key``: the stored digest)."""
    count = len(items)
    pages = max(1, -(-count // DIGEST_LINES))
    page = min(max(page, 0), pages - 1)
    title = ngettext_html(t, "{n} change in your watched areas", "{n} changes in your watched areas", count)
    lines: list[str | Html] = [bold(title)]
    for item, name in items[page * DIGEST_LINES : (page + 1) * DIGEST_LINES]:
        lines.append(Html("{} — {}").format(html_text(event_headline(t, item), 200), html_text(name, NAME_CHARS)))
    if pages == 1 or key is None:
        return View(join("\n", lines))
    paging = []
    if page > 0:
        paging.append(InlineKeyboardButton(t.gettext("‹ Prev"), callback_data=codec.encode(DIGEST_PAGE, key, page - 1)))
    paging.append(InlineKeyboardButton(f"{page + 1}/{pages}", callback_data=codec.encode(DIGEST_PAGE, key, page)))
    if page < pages - 1:
        paging.append(InlineKeyboardButton(t.gettext("Next ›"), callback_data=codec.encode(DIGEST_PAGE, key, page + 1)))
    return View(join("\n", lines), InlineKeyboardMarkup([reading_order(t, paging)]))
