"""What the views call what the domain knows by number: OCM's types, check-in outcomes, countries and
compass directions.

OCM's vocabulary (connector, current, status, check-in status and usage types, charging levels) is
translated through the message ids of :mod:`ocm_bot.views.ocm_vocabulary`; a type that table does not
know (OCM added it since) keeps OCM's English title. Countries get Babel's territory name by ISO code::

    connection_type_name(t, connection.connection_type)   # "Typ 2 (nur Steckdose)"
    country_name(t, address.country)                       # "Vereinigtes Königreich"

The domain knows outcomes by OCM's status type IDs and groups them (:mod:`ocm_bot.domain.checkin`),
and directions as bearings in degrees; here they get the words and emoji a driver reads at a glance::

    outcome_label(t, outcome)   # "⚠️ Failed: not operational" (OCM's own title for a type not listed)
    group_label(t, group)       # "⚠️ Could not charge"
    compass_arrow(225), t.gettext(compass_point(225))   # "↙", "SW"
"""

from __future__ import annotations

from ocm_bot.domain.checkin import Outcome, OutcomeGroup, OutcomeGroupName, Sentiment
from ocm_bot.geometry import compass_sector
from ocm_bot.i18n import N_, Translator
from ocm_bot.ocm.models import CheckinStatusType, ConnectionType, Country, CurrentType, StatusType, UsageType
from ocm_bot.views.ocm_vocabulary import (
    CHARGING_LEVELS,
    CHECKIN_STATUS_TYPES,
    CONNECTION_TYPES,
    CURRENT_TYPES,
    STATUS_TYPES,
    USAGE_TYPES,
)

# The eight compass points from north clockwise (message ids: the card shows them translated)
COMPASS_POINTS = (N_("N"), N_("NE"), N_("E"), N_("SE"), N_("S"), N_("SW"), N_("W"), N_("NW"))
COMPASS_ARROWS = ("↑", "↗", "→", "↘", "↓", "↙", "←", "↖")

SENTIMENT_EMOJI: dict[Sentiment, str] = {
    Sentiment.POSITIVE: "✅",
    Sentiment.NEGATIVE: "⚠️",
    Sentiment.NEUTRAL: "❓",
}

# OCM's check-in status types in short words (the one table: :mod:`ocm_bot.views.ocm_vocabulary`)
OUTCOME_LABELS: dict[int, str] = CHECKIN_STATUS_TYPES

GROUP_LABELS: dict[OutcomeGroupName, tuple[str, str]] = {
    OutcomeGroupName.OK: ("✅", N_("Charged successfully")),
    OutcomeGroupName.FAILED: ("⚠️", N_("Could not charge")),
    OutcomeGroupName.IN_USE: ("🚗", N_("Spot taken by another EV")),
    OutcomeGroupName.BLOCKED: ("🚫", N_("Blocked / not accessible")),
    OutcomeGroupName.OTHER: ("❓", N_("Other")),
}


def compass_point(bearing: float) -> str:
    """The message id of the compass point (N, NE, ... NW) nearest ``bearing``."""
    return COMPASS_POINTS[compass_sector(bearing)]


def compass_arrow(bearing: float) -> str:
    """An arrow pointing the way of ``bearing`` (↑ for north)."""
    return COMPASS_ARROWS[compass_sector(bearing)]


def outcome_text(t: Translator, outcome: Outcome) -> str:
    """The outcome in the driver's language where the bot knows it, else OCM's title."""
    label = OUTCOME_LABELS.get(outcome.id)
    return t.gettext(label) if label is not None else outcome.title


def outcome_label(t: Translator, outcome: Outcome) -> str:
    """The outcome's short label with its emoji (OCM's own title for types we do not know)."""
    return f"{SENTIMENT_EMOJI[outcome.sentiment]} {outcome_text(t, outcome)}"


def group_label(t: Translator, group: OutcomeGroup) -> str:
    """A first-screen button's words: the group's emoji and label."""
    emoji, label = GROUP_LABELS[group.name]
    return f"{emoji} {t.gettext(label)}"


def _named(t: Translator, table: dict[int, str], ident: int | None, title: str | None, unknown: str) -> str:
    if ident is not None and ident in table:
        return t.gettext(table[ident])
    return " ".join((title or "").split()) or t.gettext(unknown)


def connection_type_name(t: Translator, kind: ConnectionType | None) -> str:
    """A connector type in the driver's language ("Typ 2 (nur Steckdose)"), else OCM's title."""
    return _named(t, CONNECTION_TYPES, kind.id if kind else None, kind.title if kind else None, N_("Unknown plug"))


def connection_type_id_name(t: Translator, type_id: int, title: str | None) -> str:
    """:func:`connection_type_name` for an ID and OCM's title of it (reference data)."""
    return _named(t, CONNECTION_TYPES, type_id, title, N_("Unknown plug"))


def current_type_name(t: Translator, current: CurrentType | None) -> str | None:
    """ "AC (dreiphasig)"; None when OCM does not say."""
    if current is None:
        return None
    if current.id in CURRENT_TYPES:
        return t.gettext(CURRENT_TYPES[current.id])
    return " ".join((current.title or "").split()) or None


def status_type_name(t: Translator, status: StatusType | None) -> str:
    """An OCM status type in words ("Vorübergehend nicht verfügbar"), "status unknown" without one."""
    return _named(t, STATUS_TYPES, status.id if status else 0, status.title if status else None, N_("Status unknown"))


def checkin_status_name(t: Translator, status: CheckinStatusType) -> str:
    """A check-in's outcome as drivers read it ("Failed: equipment problem"), else OCM's title."""
    return _named(t, CHECKIN_STATUS_TYPES, status.id, status.title, N_("Other"))


def usage_type_name(t: Translator, usage: UsageType | None) -> str | None:
    """Who may charge ("Public", "Membership required"); None when OCM does not know."""
    if usage is None or usage.id == 0:
        return None
    return _named(t, USAGE_TYPES, usage.id, usage.title, N_("Access unknown"))


def charging_level_name(t: Translator, level_id: int, title: str | None = None) -> str:
    """A charging level as drivers know it ("Level 3 · rapid, over 40 kW")."""
    if level_id in CHARGING_LEVELS:
        return t.gettext(CHARGING_LEVELS[level_id])
    return " ".join((title or "").split()) or t.gettext("level {id}", id=level_id)


def country_name(t: Translator, country: Country | None) -> str | None:
    """The country in the driver's language (Babel's territory names by ISO code), else OCM's title."""
    if country is None:
        return None
    if country.iso_code:
        name = t.locale.territories.get(country.iso_code.upper())
        if name:
            return str(name)
    return country.title or None
