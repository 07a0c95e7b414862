"""The trust line of a card and of the details: when the charger last worked, the last fault report,
recent check-ins and the average rating (:mod:`ocm_bot.domain.trust`). Pure functions.

Example::

    trust_line(t, trust_of(charger, now), now, full=True)
    # ⚠️ fault reported 5 minutes ago · ✅ worked 3 days ago · 4 check-ins in 90 days · ★ 4.2 (5)
"""

from __future__ import annotations

from datetime import datetime

from ocm_bot.domain.filters import StatusKind, status_kind
from ocm_bot.domain.trust import Standing, Trust, standing, trust_of
from ocm_bot.i18n import Translator
from ocm_bot.ocm.models import Charger
from ocm_bot.views.format import ago
from ocm_bot.views.html import Html, gettext_html, join, ngettext_html

BUTTON_STYLES = {Standing.WORKING: "success", Standing.FAULT: "danger"}
"""Bot API 9.4 ``InlineKeyboardButton.style`` by standing: green for confirmed working, red for a
recent fault; no style (the app's own) when unknown. The button's emoji stays for clients without colour."""


def trust_line(t: Translator, trust: Trust, now: datetime, *, full: bool) -> Html | None:
    """The signals worth a line; ``full`` (details) adds the check-in count and the rating.

    A card (not ``full``) has one only for a fault report: its operator line already says when the
    charger was last verified.
    """
    if not full and trust.last_fault is None:
        return None
    parts: list[Html] = []
    if trust.last_fault is not None:
        parts.append(gettext_html(t, "⚠️ fault reported {ago}", ago=ago(t, trust.last_fault, now) or ""))
    if trust.last_working is not None:
        parts.append(gettext_html(t, "✅ worked {ago}", ago=ago(t, trust.last_working, now) or ""))
    if full and trust.recent_checkins is not None:
        parts.append(ngettext_html(t, "{n} check-in in 90 days", "{n} check-ins in 90 days", trust.recent_checkins))
    if full and trust.average_rating is not None:
        rating = t.number(trust.average_rating, digits=1)
        parts.append(gettext_html(t, "★ {rating} ({n})", rating=rating, n=trust.ratings))
    return join(" · ", parts) if parts else None


def charger_standing(charger: Charger, now: datetime) -> Standing:
    """A charger OCM lists as not operational (or removed) is never shown as working."""
    if status_kind(charger) in (StatusKind.NOT_OPERATIONAL, StatusKind.REMOVED):
        return Standing.FAULT
    return standing(trust_of(charger, now), now)


def charger_button_style(charger: Charger, now: datetime) -> str | None:
    """The ``style`` of a button naming ``charger``: its standing's colour, None when unknown."""
    return BUTTON_STYLES.get(charger_standing(charger, now))
