"""A favourite's alert in the driver's private chat, and the /alerts screen (pure functions).

Example::

    view = alert_view(t, events, alternatives, unit=prefs.distance_unit, now=utc_now())
    view = alerts_settings_view(t, codec, on=True)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ocm_bot.domain.preferences import DistanceUnitChoice
from ocm_bot.domain.search import Hit
from ocm_bot.domain.watch_changes import ChargerEvent, Condition
from ocm_bot.domain.watches import Announce
from ocm_bot.i18n import N_, Translator
from ocm_bot.views.callbacks import Callback, CallbackCodec, InvalidCallback
from ocm_bot.views.cards import card, navigation_url, poi_url
from ocm_bot.views.common import View
from ocm_bot.views.format import html_text
from ocm_bot.views.html import Html, bold, escape, italic, join

TOGGLE = "alerts"  # callback action: /alerts' on/off button
COMMENT_CHARS = 200

_CONDITIONS = {
    Condition.WORKING: N_("working again"),
    Condition.NOT_WORKING: N_("not working"),
    Condition.REMOVED: N_("removed from Open Charge Map"),
    Condition.UNKNOWN: N_("in an unknown state"),
}


def alert_view(
    t: Translator,
    events: Sequence[ChargerEvent],
    alternatives: Sequence[Hit],
    *,
    unit: DistanceUnitChoice,
    now: datetime,
) -> View:
    """One message for one favourite's events: what happened, its card, the nearest working alternatives."""
    charger = events[0].charger
    lines: list[str | Html] = []
    for event in events:
        if event.kind is Announce.STATUS and event.after is not None:
            state = t.gettext(_CONDITIONS[event.after])
            lines.append(bold(t.gettext("⭐ Your favourite is {state}.").format(state=state)))
        elif event.kind is Announce.FAULT:
            lines.append(bold(t.gettext("⚠️ A driver reported a fault at your favourite.")))
            text = event.comment.text if event.comment is not None else None
            if text and text.strip():
                lines.append(italic(html_text(text, COMMENT_CHARS)))
    lines += ["", card(t, charger, now=now, unit=unit)]
    if alternatives:
        lines += ["", bold(t.gettext("Nearest working alternatives for your filters:"))]
        for number, hit in enumerate(alternatives, start=1):
            lines.append(
                card(
                    t,
                    hit.charger,
                    now=now,
                    unit=unit,
                    index=number,
                    distance_km=hit.distance_km,
                    bearing=hit.bearing,
                    compact=True,
                )
            )
    else:
        lines += ["", escape(t.gettext("No working alternative nearby fits your filters."))]
    lines += ["", escape(t.gettext("/alerts turns these messages off."))]
    rows = [
        [
            InlineKeyboardButton(t.gettext("Open in OCM ↗"), url=poi_url(charger.id)),
            InlineKeyboardButton(t.gettext("Navigate 🧭"), url=navigation_url(charger)),
        ]
    ]
    for number, hit in enumerate(alternatives, start=1):
        rows.append([InlineKeyboardButton(f"{number}. " + t.gettext("Navigate 🧭"), url=navigation_url(hit.charger))])
    return View(join("\n", lines), InlineKeyboardMarkup(rows))


def alerts_settings_view(t: Translator, codec: CallbackCodec, *, on: bool) -> View:
    """/alerts: whether favourites alert the driver, and the button that turns them the other way."""
    if on:
        text = t.gettext(
            "🔔 Alerts are on: I tell you here when one of your favourites stops working, works again, "
            "is removed, or gets a fault report, with the two nearest working alternatives."
        )
        button = InlineKeyboardButton(t.gettext("🔕 Turn alerts off"), callback_data=codec.encode(TOGGLE, 0))
    else:
        text = t.gettext("🔕 Alerts are off: your favourites do not message you.")
        button = InlineKeyboardButton(t.gettext("🔔 Turn alerts on"), callback_data=codec.encode(TOGGLE, 1))
    return View(escape(text), InlineKeyboardMarkup([[button]]))


def read_toggle(callback: Callback) -> bool:
    """The state the button asks for (True: on); :class:`InvalidCallback` for anything else."""
    if callback.action != TOGGLE or len(callback.args) != 1 or callback.args[0] not in ("0", "1"):
        raise InvalidCallback("not an alerts button")
    return callback.args[0] == "1"
