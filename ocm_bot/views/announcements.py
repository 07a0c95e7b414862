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
from ocm_bot.views.format import html_text
from ocm_bot.views.html import Html, bold, join, ngettext_html
from ocm_bot.views.results import DETAILS, NO_SEARCH, View

DIGEST_LINES = 20  # one message: a longer digest says how many more
NAME_CHARS = 60


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
    text = join(
        "\n\n", [bold(html_text(event_headline(t, item), 200)), card(t, charger, now=now, unit=DistanceUnitChoice.KM)]
    )
    return View(text, announcement_keyboard(t, charger, codec))


def digest_view(t: Translator, items: list[tuple[Announcement, Charger]]) -> View:
    """Many events at once: one message, a line each (the first :data:`DIGEST_LINES`)."""
    count = len(items)
    lines: list[str | Html] = [
        bold(ngettext_html(t, "{n} change in your watched areas", "{n} changes in your watched areas", count))
    ]
    for item, charger in items[:DIGEST_LINES]:
        lines.append(
            Html("{} — {}").format(html_text(event_headline(t, item), 200), html_text(charger.name, NAME_CHARS))
        )
    if count > DIGEST_LINES:
        more = count - DIGEST_LINES
        lines.append(ngettext_html(t, "…and {n} more", "…and {n} more", more))
    return View(join("\n", lines))
