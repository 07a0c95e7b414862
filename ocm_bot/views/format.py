"""Small formatters for numbers, distances, power and dates in the driver's language.

Example::

    distance(t, 0.62, DistanceUnitChoice.KM)     # "620 m"
    distance(t, 12.3, DistanceUnitChoice.MILES)  # "7.64 mi"
    power(t, 7.4)                                # "7.4 kW"
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from html import escape

from babel.numbers import get_decimal_symbol, get_group_symbol

from ocm_bot.domain.geo import km_to_miles
from ocm_bot.domain.preferences import DistanceUnitChoice
from ocm_bot.i18n import Translator


def distance(t: Translator, km: float, unit: DistanceUnitChoice) -> str:
    """A distance to three significant digits (1 % or better): "634 m", "1.2 km", "12.3 km", "0.392 mi"."""
    if unit is DistanceUnitChoice.MILES:
        miles = km_to_miles(km)
        if miles < 0.1:
            return t.gettext("{n} ft", n=number(t, round(miles * 5280), digits=0))
        return t.gettext("{n} mi", n=number(t, miles, digits=_decimals(miles)))
    if km < 1:
        return t.gettext("{n} m", n=number(t, round(km * 1000), digits=0))
    return t.gettext("{n} km", n=number(t, km, digits=_decimals(km)))


def number(t: Translator, value: float, digits: int) -> str:
    """``value`` with at most ``digits`` decimals in the user's locale ("3.7", "3,7", "1,250").

    The same as ``t.number`` for the small numbers of a card, without Babel's pattern engine:
    a results page formats dozens of numbers and Babel's formatter costs about 0.1 ms each.
    """
    decimal, group = _number_symbols(t)
    text = f"{value:,.{digits}f}"
    if digits:
        text = text.rstrip("0").rstrip(".")
    return text.translate({ord(","): group, ord("."): decimal})


@lru_cache(maxsize=64)
def _number_symbols(t: Translator) -> tuple[str, str]:
    return get_decimal_symbol(t.locale), get_group_symbol(t.locale)


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
        return t.gettext("{n} mi", n=number(t, miles, digits=0 if miles >= 10 else 1))
    return t.gettext("{n} km", n=number(t, km, digits=1))


def power(t: Translator, kw: float | None) -> str:
    if kw is None:
        return t.gettext("? kW")
    return t.gettext("{n} kW", n=number(t, kw, digits=1))


def ago(t: Translator, moment: datetime | None, now: datetime) -> str | None:
    """ "3 days ago" (None without a date; a date in the future reads as today)."""
    if moment is None:
        return None
    seconds = max(0, int((now - moment).total_seconds()))
    # Babel's wording changes by the minute below two hours and by the hour above: cache on that.
    bucket = seconds // 60 * 60 if seconds < 7200 else seconds // 3600 * 3600
    return _ago(t, bucket)


@lru_cache(maxsize=8192)
def _ago(t: Translator, seconds: int) -> str:
    now = datetime(2000, 1, 1)
    return t.ago(now - timedelta(seconds=seconds), now=now)


def clip(text: str | None, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters (an ellipsis marks a cut)."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: max(0, limit - 1)].rstrip() + "…"


def html_text(text: str | None, limit: int) -> str:
    """OCM or user text, clipped and HTML-escaped for a ``parse_mode=HTML`` message."""
    return escape(clip(text, limit), quote=False)
