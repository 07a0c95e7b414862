"""Inline and guest answers: chargers as venue results, and the card a chosen result posts.

A result in the inline popup is an ``InlineQueryResultVenue``: the charger's name as its title;
distance, plugs with their power and the address in its address line (the popup shows those two).
Chosen, it posts the charger's card (:func:`ocm_bot.views.cards.card`, HTML escaped) with two
buttons: ``[Open in OCM ↗]`` and ``[Details & check-in ›]``, a deep link
(``https://t.me/<bot>?start=charger_<id>``) that opens the details in a private chat.

A guest query (Bot API 10.0) is answered with ONE result: an article whose message lists the
nearest chargers (compact cards) with a row of the same two buttons per charger.
"""

from __future__ import annotations

import math
from datetime import datetime

from markupsafe import Markup
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InlineQueryResultVenue,
    InputTextMessageContent,
)
from telegram.constants import ParseMode

from ocm_bot.domain.inline import PAGE_SIZE
from ocm_bot.domain.search import Hit, SearchResult
from ocm_bot.i18n import Translator
from ocm_bot.views.cards import address_line, card, connector_summary, poi_url
from ocm_bot.views.details import venue_title
from ocm_bot.views.format import clip, distance
from ocm_bot.views.html import Html, bold, gettext_html, join

START_CHARGER = "charger_"
"""``/start charger_<id>``: the deep link of an inline or guest result (the charger's details)."""
START_INLINE = "inline"
"""``/start inline``: the "Open the bot" button of an inline answer without results."""
GUEST_CHARGERS = 5
VENUE_ADDRESS_CHARS = 200
BUTTON_CHARS = 60


def deep_link(bot_username: str, parameter: str) -> str:
    return f"https://t.me/{bot_username}?start={parameter}"


def charger_link(bot_username: str, charger_id: int) -> str:
    """Opens the charger's details in a private chat with the bot."""
    return deep_link(bot_username, f"{START_CHARGER}{charger_id}")


def plain(text: str | Html) -> str:
    """HTML built for a message, as plain text (the venue's address line is not HTML)."""
    return Markup(text).unescape() if isinstance(text, Html) else text


def venue_address_line(t: Translator, result: SearchResult, hit: Hit) -> str:
    """Distance, plugs and power, address: what the popup shows under the charger's name."""
    parts = [distance(t, hit.distance_km, result.unit)]
    if hit.charger.connections:
        parts.append("⚡ " + connector_summary(t, hit.charger.connections, groups=2))
    if address := address_line(hit.charger):
        parts.append(address)
    return clip(" · ".join(plain(p) for p in parts), VENUE_ADDRESS_CHARS)


def charger_buttons(
    t: Translator, charger_id: int, bot_username: str, *, index: int | None = None
) -> list[InlineKeyboardButton]:
    """``[Open in OCM ↗] [Details & check-in ›]`` (numbered in a list of several)."""
    if index is None:
        ocm, details = t.gettext("Open in OCM ↗"), t.gettext("Details & check-in ›")
    else:
        ocm, details = t.gettext("{n} · Open in OCM ↗", n=index), t.gettext("{n} · Details ›", n=index)
    return [
        InlineKeyboardButton(ocm, url=poi_url(charger_id)),
        InlineKeyboardButton(details, url=charger_link(bot_username, charger_id)),
    ]


def _shared_card(t: Translator, result: SearchResult, hit: Hit, now: datetime) -> Html:
    """The card a chosen result posts: the charger, and how far it is from the searched place."""
    text = Html(card(t, hit.charger, now=now, unit=result.unit))
    if not result.label:  # near the person's own location: a distance from them means nothing to others
        return text
    where = distance(t, hit.distance_km, result.unit)
    return join("\n", [text, gettext_html(t, "📍 {distance} from {place}", distance=where, place=result.label)])


def venue_results(
    t: Translator, result: SearchResult, page: int, *, bot_username: str, now: datetime
) -> tuple[list[InlineQueryResultVenue], str]:
    """One page of venue results, and the ``next_offset`` of the next page ("" on the last)."""
    start = max(0, page) * PAGE_SIZE
    hits = result.hits[start : start + PAGE_SIZE]
    results = [
        InlineQueryResultVenue(
            id=f"c{hit.charger.id}",
            latitude=hit.charger.latitude,
            longitude=hit.charger.longitude,
            title=venue_title(hit.charger),
            address=venue_address_line(t, result, hit),
            input_message_content=InputTextMessageContent(
                str(_shared_card(t, result, hit, now)), parse_mode=ParseMode.HTML, link_preview_options=None
            ),
            reply_markup=InlineKeyboardMarkup([charger_buttons(t, hit.charger.id, bot_username)]),
        )
        for hit in hits
    ]
    more = start + PAGE_SIZE < len(result.hits)
    return results, str(page + 1) if more else ""


def open_bot_button(text: str) -> InlineQueryResultsButton:
    """The button above an inline answer that opens a private chat with the bot (``/start inline``)."""
    return InlineQueryResultsButton(text=clip(text, BUTTON_CHARS), start_parameter=START_INLINE)


def type_a_place_text(t: Translator) -> str:
    return t.gettext("Type a place or address… or open the bot")


def no_place_text(t: Translator, query: str) -> str:
    return t.gettext("No place called “{query}”. Open the bot", query=clip(query, 24))


def search_limit_notice(t: Translator, wait_seconds: float) -> str:
    """A person who searched too often this minute (``SEARCH_RATE_LIMIT``): when to try again."""
    seconds = max(1, math.ceil(wait_seconds))
    return t.ngettext(
        "That's a lot of searches in one minute. Please wait {n} second, then try again.",
        "That's a lot of searches in one minute. Please wait {n} seconds, then try again.",
        seconds,
    )


def no_chargers_text(t: Translator) -> str:
    return t.gettext("No chargers there with your filters. Open the bot")


def ocm_down_text(t: Translator) -> str:
    return t.gettext("Open Charge Map is not answering. Open the bot")


def geocoder_down_text(t: Translator) -> str:
    return t.gettext("The address search is not answering. Open the bot")


# Guest mode -----------------------------------------------------------------------------------


def guest_results_article(
    t: Translator, result: SearchResult, *, bot_username: str, now: datetime
) -> InlineQueryResultArticle:
    """The one message a guest query gets: the nearest chargers, each with its two buttons."""
    hits = result.hits[:GUEST_CHARGERS]
    place = result.label or ""
    title = t.gettext("Chargers near {place}", place=place)
    if not hits:
        return guest_notice_article(
            t, t.gettext("No chargers near {place} with these filters.", place=place), bot_username
        )
    cards = [
        card(
            t,
            hit.charger,
            now=now,
            unit=result.unit,
            index=n,
            distance_km=hit.distance_km,
            bearing=hit.bearing,
            compact=True,
        )
        for n, hit in enumerate(hits, 1)
    ]
    text = join("\n\n", [bold(title), *cards])
    rows = [charger_buttons(t, hit.charger.id, bot_username, index=n) for n, hit in enumerate(hits, 1)]
    return InlineQueryResultArticle(
        id=f"g{result.id}",
        title=clip(title, 100),
        input_message_content=InputTextMessageContent(str(text), parse_mode=ParseMode.HTML),
        reply_markup=InlineKeyboardMarkup(rows),
    )


def guest_notice_article(t: Translator, text: str, bot_username: str) -> InlineQueryResultArticle:
    """A guest query that found nothing (or failed): say so, and offer the bot itself."""
    return InlineQueryResultArticle(
        id="notice",
        title=clip(text, 100),
        input_message_content=InputTextMessageContent(text),
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(t.gettext("Open the bot ›"), url=deep_link(bot_username, START_INLINE))]]
        ),
    )


def guest_usage_text(t: Translator, bot_username: str) -> str:
    return t.gettext("Write a place after my name, like “@{bot} CCS near Leeds”.", bot=bot_username)


def guest_place_not_found_text(t: Translator, query: str) -> str:
    return t.gettext("I could not find “{query}”. Try a town or an address.", query=clip(query, 60))


def guest_failure_text(t: Translator) -> str:
    return t.gettext("Open Charge Map or the address search is not answering right now. Try again in a minute.")
