"""What the views call what the domain knows by number: check-in outcomes and compass directions.

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

# The eight compass points from north clockwise (message ids: the card shows them translated)
COMPASS_POINTS = (N_("N"), N_("NE"), N_("E"), N_("SE"), N_("S"), N_("SW"), N_("W"), N_("NW"))
COMPASS_ARROWS = ("↑", "↗", "→", "↘", "↓", "↙", "←", "↖")

SENTIMENT_EMOJI: dict[Sentiment, str] = {
    Sentiment.POSITIVE: "✅",
    Sentiment.NEGATIVE: "⚠️",
    Sentiment.NEUTRAL: "❓",
}

# OCM's check-in status types (reference data ``CheckinStatusTypes``) in short words
OUTCOME_LABELS: dict[int, str] = {
    10: N_("Charged successfully"),
    20: N_("Failed: not operational"),
    22: N_("Failed: not fully installed"),
    25: N_("Failed: equipment problem"),
    30: N_("Failed: not compatible with my car"),
    40: N_("Failed: needed another card or app"),
    50: N_("Failed: no charging equipment here"),
    100: N_("In use by another EV"),
    110: N_("Blocked by a non-EV"),
    120: N_("Not accessible (locked or closed)"),
    130: N_("Not found (wrong details)"),
    140: N_("Equipment and location confirmed"),
    150: N_("Duplicate of another charger"),
    160: N_("Decommissioned"),
    200: N_("Other (bad)"),
    210: N_("Other (good)"),
    0: N_("Did not visit"),
}

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
