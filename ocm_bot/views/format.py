"""Small formatters for numbers, distances, power and dates in the driver's language.

Example::

    distance(t, 0.62, DistanceUnitChoice.KM)     # "620 m"
    distance(t, 12.3, DistanceUnitChoice.MILES)  # "7.64 mi"
    power(t, 7.4)                                # "7.4 kW"
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from ocm_bot.domain.geo import km_to_miles
from ocm_bot.domain.preferences import DistanceUnitChoice
from ocm_bot.i18n import Translator


def distance(t: Translator, km: float, unit: DistanceUnitChoice) -> str:
    """A distance to three significant digits (1 % or better): "634 m", "1.2 km", "12.3 km", "0.392 mi"."""
    if unit is DistanceUnitChoice.MILES:
        miles = km_to_miles(km)
        if miles < 0.1:
            return t.gettext("{n} ft", n=t.number(round(miles * 5280), digits=0))
        return t.gettext("{n} mi", n=t.number(miles, digits=_decimals(miles)))
    if km < 1:
        return t.gettext("{n} m", n=t.number(round(km * 1000), digits=0))
    return t.gettext("{n} km", n=t.number(km, digits=_decimals(km)))


def _decimals(value: float) -> int:
    """Decimals for three significant digits."""
    if value >= 100:
        return 0
    if value >= 10:
        return 1
    return 2 if value >= 1 else 3


def radius(t: Translator, km: float, unit: DistanceUnitChoice) -> str:
    """A search radius in the driver's unit (whole numbers where they are whole)."""
    if unit is DistanceUnitChoice.MILES:
        miles = km_to_miles(km)
        return t.gettext("{n} mi", n=t.number(miles, digits=0 if miles >= 10 else 1))
    return t.gettext("{n} km", n=t.number(km, digits=1))


def power(t: Translator, kw: float | None) -> str:
    if kw is None:
        return t.gettext("? kW")
    return t.gettext("{n} kW", n=t.number(kw, digits=1))


def ago(t: Translator, moment: datetime | None, now: datetime) -> str | None:
    """ "3 days ago" (None without a date; a date in the future reads as today)."""
    if moment is None:
        return None
    return t.ago(min(moment, now), now=now)


def clip(text: str | None, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters (an ellipsis marks a cut)."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: max(0, limit - 1)].rstrip() + "…"


def html_text(text: str | None, limit: int) -> str:
    """OCM or user text, clipped and HTML-escaped for a ``parse_mode=HTML`` message."""
    return escape(clip(text, limit), quote=False)
