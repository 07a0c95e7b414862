"""A charger's details message, its buttons, the venue pin, and the favourites list.

Buttons (UX.md): ``[Open in OCM ↗] [Navigate 🧭]`` / ``[✅ Check in] [☆ Favourite]`` (★ when it is
one). Check in is the check-in conversation's ``ci|<id>`` button in private chats and a deep link
``https://t.me/<bot>?start=checkin-<id>`` in groups, so a group is not flooded. Favourite is
``fv|<id>|<search id or ->``. In a group a last row ``[🔔 Watch here]`` (``wh|<chat>|<id>``) lets an
admin start ``/watch`` around the charger; private chats have no such row.

Example::

    view = details_view(t, charger, codec, now=now, unit=unit, is_favourite=False, private=True,
                        bot_username="ocm_bot", distance_km=0.6, bearing=45)
"""

from __future__ import annotations

from datetime import datetime
from statistics import mean

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ocm_bot.domain.checkin import outcomes_from
from ocm_bot.domain.filters import StatusKind, connection_status_kind, status_kind
from ocm_bot.domain.preferences import DistanceUnitChoice
from ocm_bot.domain.trust import trust_of
from ocm_bot.i18n import Translator, isolate
from ocm_bot.ocm.models import Charger, CheckinStatusType, Comment, Connection
from ocm_bot.views.callbacks import CallbackCodec
from ocm_bot.views.cards import (
    STATUS_EMOJI,
    STATUS_LABELS,
    STATUS_TYPE_LABELS,
    address_line,
    connector_summary,
    cost_text,
    heading,
    navigation_url,
    operator_and_verified,
    poi_url,
    provider_credit,
    status_and_usage,
    status_label,
)
from ocm_bot.views.checkin import START as CHECK_IN
from ocm_bot.views.checkin import private_checkin_url
from ocm_bot.views.format import ago, amount, clip, date, html_text, power, stars
from ocm_bot.views.html import Html, bold, gettext_html, italic, join, link, ngettext_html
from ocm_bot.views.missing import not_listed_button
from ocm_bot.views.photos import add_photo_button, album_button
from ocm_bot.views.results import DETAILS, NO_SEARCH, View
from ocm_bot.views.trust import charger_button_style, trust_line
from ocm_bot.views.vocabulary import (
    checkin_status_name,
    connection_type_name,
    country_name,
    current_type_name,
    outcome_text,
    status_type_name,
)
from ocm_bot.views.watches import watch_here_button

FAVOURITE = "fv"
RECENT_COMMENTS = 3
COMMENT_CHARS = 200
NOTE_CHARS = 300
CONNECTIONS_SHOWN = 12
_SAFE_MESSAGE_CHARS = 4000


def full_address(t: Translator, charger: Charger) -> str:
    address = charger.address
    country = country_name(t, address.country)
    parts = [
        address.address_line1,
        address.address_line2,
        address.town,
        address.state_or_province,
        address.postcode,
        country,
    ]
    text = html_text(", ".join(p.strip() for p in parts[:-1] if p and p.strip()), 200)
    if text and t.rtl:  # the Latin street and town as one unit, so the line reads right to left
        text = Html(isolate(text))
    return join(", ", [part for part in (text, country) if part])


def connection_line(t: Translator, connection: Connection) -> str:
    parts: list[str | Html] = [_isolated(t, html_text(connection_type_name(t, connection.connection_type), 40))]
    if connection.power_kw is not None:
        parts.append(power(t, connection.power_kw))
    if connection.amps:
        parts.append(amount(t, connection.amps, "A"))
    if connection.voltage:
        parts.append(amount(t, connection.voltage, "V"))
    if current := current_type_name(t, connection.current_type):
        parts.append(_isolated(t, html_text(current, 24)))
    parts.append("×" + _isolated(t, Html(max(1, connection.quantity or 1))))
    kind_of_status = connection_status_kind(connection)
    if kind_of_status is not StatusKind.UNKNOWN:
        parts.append(connection_status_label(t, connection, kind_of_status))
    return "• " + join(" · ", parts)


def _isolated(t: Translator, text: Html) -> Html:
    """In right-to-left text, a Latin plug name or a count between isolates: its line reads right to left."""
    return Html(isolate(text)) if t.rtl else text


def connection_status_label(t: Translator, connection: Connection, kind: StatusKind) -> str:
    """A connection's OCM status type in the driver's words ("🚫 Removed (duplicate listing)")."""
    status = connection.status
    if status is None:
        return gettext_html(t, STATUS_LABELS[kind])
    if status.id in STATUS_TYPE_LABELS:
        return gettext_html(t, STATUS_TYPE_LABELS[status.id])
    return f"{STATUS_EMOJI[kind]} {html_text(status_type_name(t, status), 40)}"


def checkin_status_text(t: Translator, status: CheckinStatusType) -> str:
    """An earlier check-in's outcome in the driver's language where the bot knows it, else OCM's title."""
    known = outcomes_from([status])
    if known and known[0].id == status.id:
        return outcome_text(t, known[0])
    return checkin_status_name(t, status)


def comment_line(t: Translator, comment: Comment, now: datetime) -> str:
    parts = []
    when = ago(t, comment.date_created, now)
    if when:
        parts.append(when)
    if comment.checkin_status and comment.checkin_status.title:
        parts.append(html_text(checkin_status_text(t, comment.checkin_status), 40))
    if comment.rating:
        parts.append(stars(comment.rating))
    if comment.text and comment.text.strip():
        parts.append("“" + html_text(comment.text, COMMENT_CHARS) + "”")
    if comment.user_name:
        parts.append("— " + html_text(comment.user_name, 30))
    return "• " + join(" · ", parts)


def details_text(
    t: Translator,
    charger: Charger,
    *,
    now: datetime,
    unit: DistanceUnitChoice,
    distance_km: float | None = None,
    bearing: float | None = None,
) -> Html:
    sections = [heading(t, charger, unit=unit, distance_km=distance_km, bearing=bearing)]
    if address := full_address(t, charger):
        sections.append("📍 " + address)
    if charger.address.access_comments and charger.address.access_comments.strip():
        sections.append(
            gettext_html(t, "Access: {notes}", notes=html_text(charger.address.access_comments, NOTE_CHARS))
        )
    if charger.address.phone and charger.address.phone.strip():
        sections.append("📞 " + html_text(charger.address.phone, 40))
    facts = status_and_usage(t, charger)
    if charger.date_planned is not None and status_kind(charger) is StatusKind.PLANNED:
        facts.append(gettext_html(t, "opening planned for {date}", date=date(t, charger.date_planned)))
    status = join(" · ", facts)
    if trust := trust_line(t, trust_of(charger, now), now, full=True):
        status = join("\n", [status, trust])
    sections.append(status)
    if cost := cost_text(t, charger, NOTE_CHARS):
        sections.append(gettext_html(t, "Cost: {cost}", cost=cost))
    if charger.connections:
        lines = [connection_line(t, c) for c in charger.connections[:CONNECTIONS_SHOWN]]
        if len(charger.connections) > CONNECTIONS_SHOWN:
            lines.append(gettext_html(t, "+{n} more", n=len(charger.connections) - CONNECTIONS_SHOWN))
        sections.append("⚡ " + gettext_html(t, "Connections:") + "\n" + join("\n", lines))
    if who := operator_and_verified(t, charger, now):
        sections.append(join(" · ", who))
    if charger.general_comments and charger.general_comments.strip():
        sections.append("ℹ️ " + html_text(charger.general_comments, NOTE_CHARS))
    sections.append(_comments_section(t, charger, now))
    if charger.media_items:
        photos = ngettext_html(t, "{n} photo", "{n} photos", len(charger.media_items))
        sections.append("📷 " + link(poi_url(charger.id), photos))
    sections.append(italic(provider_credit(t, charger)))
    text = join("\n\n", [s for s in sections if s])
    while len(text) > _SAFE_MESSAGE_CHARS and len(sections) > 2:
        sections = [s for s in sections if s is not max(sections[1:-1], key=len)]  # drop the longest middle part
        text = join("\n\n", [s for s in sections if s])
    return text


def _comments_section(t: Translator, charger: Charger, now: datetime) -> str:
    comments = sorted(
        charger.comments, key=lambda c: c.date_created or datetime.min.replace(tzinfo=now.tzinfo), reverse=True
    )
    if not comments:
        return gettext_html(t, "No check-ins yet. Be the first to tell other drivers how it went.")
    ratings = [c.rating for c in comments if c.rating]
    title = ngettext_html(t, "{n} check-in or comment", "{n} check-ins and comments", len(comments))
    if ratings:
        title += " · " + gettext_html(t, "average rating {rating} of 5", rating=t.number(mean(ratings), digits=1))
    lines = [comment_line(t, c, now) for c in comments[:RECENT_COMMENTS]]
    return "💬 " + title + "\n" + join("\n", lines)


def details_keyboard(
    t: Translator,
    charger: Charger,
    codec: CallbackCodec,
    *,
    is_favourite: bool,
    private: bool,
    bot_username: str | None,
    search_id: str | None = None,
    watch_chat_id: int | None = None,
) -> InlineKeyboardMarkup:
    """``watch_chat_id``: the group the details are shown in, whose admins may watch around the charger."""
    top = [
        InlineKeyboardButton(t.gettext("Open in OCM ↗"), url=poi_url(charger.id)),
        InlineKeyboardButton(t.gettext("Navigate 🧭"), url=navigation_url(charger)),
    ]
    if private or not bot_username:
        check_in = InlineKeyboardButton(t.gettext("✅ Check in"), callback_data=codec.encode(CHECK_IN, charger.id))
    else:
        check_in = InlineKeyboardButton(t.gettext("✅ Check in"), url=private_checkin_url(bot_username, charger.id))
    favourite_label = t.gettext("★ Favourite") if is_favourite else t.gettext("☆ Favourite")
    favourite = InlineKeyboardButton(
        favourite_label, callback_data=codec.encode(FAVOURITE, charger.id, search_id or NO_SEARCH)
    )
    rows = [top, [check_in, favourite]]
    if photos := album_button(t, codec, charger):
        rows.append([photos])
    if private:
        rows.append(
            [add_photo_button(t, codec, charger.id), not_listed_button(t, codec, charger.latitude, charger.longitude)]
        )
    if watch_chat_id is not None and not private:
        rows.append([watch_here_button(t, codec, watch_chat_id, charger.id)])
    return InlineKeyboardMarkup(rows)


def details_view(
    t: Translator,
    charger: Charger,
    codec: CallbackCodec,
    *,
    now: datetime,
    unit: DistanceUnitChoice,
    is_favourite: bool,
    private: bool,
    bot_username: str | None,
    search_id: str | None = None,
    distance_km: float | None = None,
    bearing: float | None = None,
    watch_chat_id: int | None = None,
) -> View:
    return View(
        details_text(t, charger, now=now, unit=unit, distance_km=distance_km, bearing=bearing),
        details_keyboard(
            t,
            charger,
            codec,
            is_favourite=is_favourite,
            private=private,
            bot_username=bot_username,
            search_id=search_id,
            watch_chat_id=watch_chat_id,
        ),
    )


def venue_title(charger: Charger) -> str:
    return clip(charger.name, 100)


def venue_address(charger: Charger) -> str:
    address = charger.address
    parts = [address.address_line1, address.town, address.postcode]
    return clip(", ".join(p.strip() for p in parts if p and p.strip()) or charger.name, 150)


def favourites_views(
    t: Translator,
    chargers: list[Charger],
    gone: list[int],
    codec: CallbackCodec,
    *,
    unit: DistanceUnitChoice,
    now: datetime | None = None,
) -> list[View]:
    """/favourites: each favourite's name, status and plugs, with a details button.

    A long list is split into several messages at charger boundaries, each with the details
    buttons of its own chargers.
    """
    if not chargers and not gone:
        return [
            View(gettext_html(t, "No favourites yet. Open a charger's details and tap ☆ Favourite to keep it here."))
        ]
    title = bold(t.gettext("Your favourite chargers"))
    entries: list[tuple[str, InlineKeyboardButton | None]] = []
    for n, charger in enumerate(chargers, start=1):
        line = f"{n}. " + heading(t, charger, unit=unit) + "\n   " + status_label(t, charger)
        if charger.connections:
            line += " · ⚡ " + connector_summary(t, charger.connections, groups=2)
        if address := address_line(charger, 80):
            line += "\n   " + address
        style = charger_button_style(charger, now) if now is not None else None
        button = InlineKeyboardButton(f"ℹ️ {n}", callback_data=codec.encode(DETAILS, charger.id, NO_SEARCH), style=style)
        entries.append((line, button))
    if gone:
        ids = ", ".join(f"#{i}" for i in gone[:50])
        entries.append(
            (
                ngettext_html(
                    t,
                    "{n} favourite is no longer listed on Open Charge Map: {ids}",
                    "{n} favourites are no longer listed on Open Charge Map: {ids}",
                    len(gone),
                    ids=ids,
                ),
                None,
            )
        )
    views: list[View] = []
    lines: list[str | Html] = [title]
    buttons: list[InlineKeyboardButton] = []
    for line, details_button in entries:
        if len(join("\n\n", [*lines, line])) > _SAFE_MESSAGE_CHARS and len(lines) > 1:
            views.append(_favourites_chunk(lines, buttons))
            lines, buttons = [], []
        lines.append(line)
        if details_button is not None:
            buttons.append(details_button)
    views.append(_favourites_chunk(lines, buttons))
    return views


def _favourites_chunk(lines: list[str | Html], buttons: list[InlineKeyboardButton]) -> View:
    rows = [buttons[i : i + 5] for i in range(0, len(buttons), 5)]
    return View(join("\n\n", lines), InlineKeyboardMarkup(rows) if rows else None)
