"""A charger as a short HTML card, as UX.md sketches it.

Example::

    card(t, charger, now=now, unit=DistanceUnitChoice.KM, index=1, distance_km=0.6, bearing=45)
    # 1. <b>Lidl Garforth</b> — 600 m ↗ NE
    #    Aberford Rd, Garforth, Leeds LS25 1PZ
    #    ⚡ CCS (Type 2) 50 kW ×1 · Type 2 22 kW ×2
    #    ✅ Operational · Public · £0.45/kWh
    #    Operator: Pod Point · verified 3 days ago
    #    <i>Data: Open Charge Map Contributors (CC BY 4.0)</i>

All OCM text is HTML-escaped and clipped, so a card stays a few hundred characters however
long OCM's fields are.
"""

from __future__ import annotations

import re
from datetime import datetime

from ocm_bot.domain.filters import StatusKind, status_kind
from ocm_bot.domain.preferences import DistanceUnitChoice
from ocm_bot.domain.trust import trust_of
from ocm_bot.i18n import N_, Translator, isolate
from ocm_bot.ocm.identity import poi_page_url
from ocm_bot.ocm.models import Charger, Connection
from ocm_bot.views.format import ago, distance, html_text, power, price
from ocm_bot.views.html import Html, bold, escape, gettext_html, italic, join
from ocm_bot.views.trust import trust_line
from ocm_bot.views.vocabulary import compass_arrow, compass_point, connection_type_name, usage_type_name

NAME_CHARS = 80
ADDRESS_CHARS = 110
COST_CHARS = 60
OPERATOR_CHARS = 50
CONNECTOR_GROUPS = 4
UNKNOWN_OPERATOR_ID = 1  # OCM's "(Unknown Operator)"

STATUS_LABELS = {
    StatusKind.OPERATIONAL: N_("✅ Operational"),
    StatusKind.NOT_OPERATIONAL: N_("⚠️ Not operational"),
    StatusKind.PLANNED: N_("🕓 Planned"),
    StatusKind.REMOVED: N_("🚫 Removed"),
    StatusKind.UNKNOWN: N_("❓ Status unknown"),
}
STATUS_EMOJI = {
    StatusKind.OPERATIONAL: "✅",
    StatusKind.NOT_OPERATIONAL: "⚠️",
    StatusKind.PLANNED: "🕓",
    StatusKind.REMOVED: "🚫",
    StatusKind.UNKNOWN: "❓",
}
# Finer wording for OCM status types that are operational but worth a note.
STATUS_TYPE_LABELS = {
    10: N_("✅ Available"),
    20: N_("✅ In use right now"),
    30: N_("⚠️ Temporarily unavailable"),
    75: N_("✅ Partly operational"),
}


def poi_url(charger_id: int) -> str:
    return poi_page_url(charger_id)


def navigation_url(charger: Charger) -> str:
    """Directions in Google Maps (opens the maps app on phones; works on every platform)."""
    return f"https://www.google.com/maps/dir/?api=1&destination={charger.latitude:.6f},{charger.longitude:.6f}"


def status_label(t: Translator, charger: Charger) -> str:
    kind = status_kind(charger)
    if kind is StatusKind.OPERATIONAL and charger.status is not None and charger.status.id in STATUS_TYPE_LABELS:
        return gettext_html(t, STATUS_TYPE_LABELS[charger.status.id])
    return gettext_html(t, STATUS_LABELS[kind])


def usage_label(t: Translator, charger: Charger) -> str | None:
    name = usage_type_name(t, charger.usage_type)
    return html_text(name, 40) if name else None


def operator_name(charger: Charger) -> str | None:
    operator = charger.operator
    if operator is None or operator.id == UNKNOWN_OPERATOR_ID or not operator.title or operator.title.startswith("("):
        return None
    return html_text(operator.title, OPERATOR_CHARS)


def address_line(charger: Charger, limit: int = ADDRESS_CHARS) -> str:
    address = charger.address
    parts = [address.address_line1, address.address_line2, address.town, address.postcode]
    seen: list[str] = []
    for part in parts:
        text = (part or "").strip()
        if text and text.casefold() not in (s.casefold() for s in seen) and text != charger.name:
            seen.append(text)
    return html_text(", ".join(seen), limit)


def connector_summary(t: Translator, connections: tuple[Connection, ...], groups: int = CONNECTOR_GROUPS) -> str:
    """Connections grouped by type, highest power first: "CCS (Type 2) 50 kW ×1 · Type 2 22 kW ×2"."""
    grouped: dict[str, tuple[float | None, int]] = {}
    for connection in connections:
        name = connection_type_name(t, connection.connection_type)
        best, count = grouped.get(name, (None, 0))
        kw = connection.power_kw
        if kw is not None and (best is None or kw > best):
            best = kw
        grouped[name] = (best, count + max(1, connection.quantity or 1))
    ordered = sorted(grouped.items(), key=lambda item: -(item[1][0] or 0))
    parts = [
        gettext_html(t, "{plug} {power} ×{count}", plug=html_text(name, 40), power=power(t, kw), count=count)
        if kw is not None
        else gettext_html(t, "{plug} ×{count}", plug=html_text(name, 40), count=count)
        for name, (kw, count) in ordered[:groups]
    ]
    if len(ordered) > groups:
        parts.append(gettext_html(t, "+{n} more", n=len(ordered) - groups))
    return join(" · ", parts)


def provider_credit(t: Translator, charger: Charger) -> str:
    """The data provider credit each card carries (OCM data licensing).

    The provider comes resolved from OCM's reference data (``DataProviders``, OCM's current word on
    each licence), which wins over the copy inside a POI answer (older answers say CC BY-SA 4.0 for
    Open Charge Map contributors, the reference data CC BY 4.0).
    """
    provider = charger.data_provider
    if provider is None or not provider.title:
        return gettext_html(t, "Data: Open Charge Map")
    licence = short_licence(t, provider.license)
    if licence:
        return gettext_html(t, "Data: {provider} ({licence})", provider=html_text(provider.title, 50), licence=licence)
    return gettext_html(t, "Data: {provider}", provider=html_text(provider.title, 50))


_CC_NAME = re.compile(r"\bCC[ -]?(0|BY(?:-(?:SA|NC|ND))*)(?:[ -]v?(\d\.\d))?")
_CC_URL = re.compile(r"creativecommons\.org/(?:licenses/([a-z-]+)|publicdomain/(zero))/([\d.]+)", re.I)
_OGL = re.compile(r"Open Government Licen[cs]e(?: v?[\d.]*\d)?", re.I)
_ETALAB = re.compile(r"Licen[cs]e[ _]Ouverte|etalab", re.I)
_ANY_PURPOSE = re.compile(r"used for any purpose", re.I)
VERBATIM_LICENCE_CHARS = 40


def short_licence(t: Translator, licence: str | None) -> str | None:
    """A provider's licence in a few words, for a card.

    "CC BY 4.0" out of "Licensed under Creative Commons Attribution 4.0 International (CC BY 4.0)"
    or "... under the CC-BY 4.0 license"; "Open Government Licence v2.0"; "CC BY-NC-SA 3.0" out of
    a creativecommons.org link; NREL's "may be used for any purpose" as "free for any use"; a short
    text as it is. None when there is no licence or it is too long to shorten safely.
    """
    if not licence:
        return None
    if match := _OGL.search(licence):
        return html_text(match[0].rstrip("."), 40)
    if match := _CC_NAME.search(licence):
        name = "CC0" if match[1] == "0" else f"CC {match[1]}"
        return html_text(f"{name} {match[2]}" if match[2] else name, 24)
    if match := _CC_URL.search(licence):
        kind = "CC0" if match[2] else "CC " + match[1].upper()
        return html_text(f"{kind} {match[3]}", 24)
    if _ETALAB.search(licence):
        return "Licence Ouverte"
    if _ANY_PURPOSE.search(licence):
        return gettext_html(t, "free for any use")
    if len(licence) <= VERBATIM_LICENCE_CHARS:
        return html_text(licence, VERBATIM_LICENCE_CHARS)
    return None


def cost_text(t: Translator, charger: Charger, limit: int) -> Html | None:
    """What charging costs: a bare price in the driver's locale, any other text as OCM has it."""
    if not charger.usage_cost or not charger.usage_cost.strip():
        return None
    country = charger.address.country
    localised = price(t, charger.usage_cost, country.iso_code if country else None)
    return escape(localised) if localised else html_text(charger.usage_cost, limit)


def status_and_usage(t: Translator, charger: Charger) -> list[str]:
    """The parts of the status line: status, then usage type when OCM knows it."""
    facts = [status_label(t, charger)]
    if usage := usage_label(t, charger):
        facts.append(usage)
    return facts


def operator_and_verified(t: Translator, charger: Charger, now: datetime) -> list[Html]:
    """The parts of the operator line: operator and when the data was last verified, each when known."""
    who: list[Html] = []
    if operator := operator_name(charger):
        who.append(gettext_html(t, "Operator: {name}", name=operator))
    if verified := ago(t, charger.date_last_verified or charger.date_last_status_update, now):
        who.append(gettext_html(t, "verified {ago}", ago=verified))
    return who


def heading(
    t: Translator,
    charger: Charger,
    *,
    unit: DistanceUnitChoice,
    index: int | None = None,
    distance_km: float | None = None,
    bearing: float | None = None,
) -> str:
    name = html_text(charger.name, NAME_CHARS)
    name = bold(Html(isolate(name)) if t.rtl else name)
    prefix = f"{index}. " if index is not None else ""
    if distance_km is None:
        return prefix + name
    where = distance(t, distance_km, unit)
    if bearing is not None and distance_km >= 0.05:
        where = Html("{} {} {}").format(where, compass_arrow(bearing), gettext_html(t, compass_point(bearing)))
    return Html("{}{} — {}").format(prefix, name, where)


def card(
    t: Translator,
    charger: Charger,
    *,
    now: datetime,
    unit: DistanceUnitChoice,
    index: int | None = None,
    distance_km: float | None = None,
    bearing: float | None = None,
    compact: bool = False,
) -> str:
    """One charger in six short lines (HTML); ``compact`` leaves out the address and operator lines."""
    indent = "   " if index is not None else ""
    lines = [heading(t, charger, unit=unit, index=index, distance_km=distance_km, bearing=bearing)]
    if not compact and (address := address_line(charger)):
        lines.append(indent + address)
    if charger.connections:
        lines.append(indent + "⚡ " + connector_summary(t, charger.connections))
    facts = status_and_usage(t, charger)
    if cost := cost_text(t, charger, COST_CHARS):
        facts.append(cost)
    lines.append(indent + join(" · ", facts))
    if trust := trust_line(t, trust_of(charger, now), now, full=False):
        lines.append(indent + trust)
    who = operator_and_verified(t, charger, now)
    if who and not compact:
        lines.append(indent + join(" · ", who))
    lines.append(indent + italic(provider_credit(t, charger)))
    return join("\n", lines)
