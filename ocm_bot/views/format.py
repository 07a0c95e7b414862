"""Small formatters for numbers, distances, power and dates in the driver's language.

Example::

    distance(t, 0.62, DistanceUnitChoice.KM)     # "620 m"
    distance(t, 12.3, DistanceUnitChoice.MILES)  # "7.6 mi"
    power(t, 7.4)                                # "7.4 kW"
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from babel.numbers import get_decimal_symbol, get_group_symbol

from ocm_bot.domain.preferences import DistanceUnitChoice
from ocm_bot.geometry import km_to_miles
from ocm_bot.i18n import Translator
from ocm_bot.views.html import Html, escape, sendable


def distance(t: Translator, km: float, unit: DistanceUnitChoice) -> str:
    """A distance the way a driver's app shows it: "650 m", "4.3 km", "12 km", "0.4 mi", "160 ft".

    Metres (or feet under a tenth of a mile) to the nearest 10; one decimal under 10 km or 10 mi;
    whole numbers above. A trailing ".0" is dropped ("4 km").
    """
    if unit is DistanceUnitChoice.MILES:
        miles = km_to_miles(km)
        feet = round(miles * 5280, -1)
        if feet < 528:  # under a tenth of a mile
            return t.gettext("{n} ft", n=number(t, feet, digits=0))
        return t.gettext("{n} mi", n=_rounded(t, miles))
    metres = round(km * 1000, -1)
    if metres < 1000:
        return t.gettext("{n} m", n=number(t, metres, digits=0))
    return t.gettext("{n} km", n=_rounded(t, km))


def _rounded(t: Translator, value: float) -> str:
    """One decimal under 10, whole numbers from 10 on (9.96 reads "10", not "10.0")."""
    return number(t, value, digits=1 if round(value, 1) < 10 else 0)


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


def radius(t: Translator, km: float, unit: DistanceUnitChoice) -> str:
    """A search radius in the driver's unit, rounded as :func:`distance` rounds ("6.2 mi", "25 km")."""
    if unit is DistanceUnitChoice.MILES:
        return t.gettext("{n} mi", n=_rounded(t, km_to_miles(km)))
    return t.gettext("{n} km", n=_rounded(t, km))


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


def stars(rating: int) -> str:
    """A rating of 1 to 5 as five stars, "★★★★☆" (the one stars renderer: details, check-in summary)."""
    rating = max(1, min(5, rating))
    return "★" * rating + "☆" * (5 - rating)


def clip(text: str | None, limit: int) -> str:
    """``text`` on one line, at most ``limit`` characters (an ellipsis marks a cut), sendable as UTF-8."""
    flat = " ".join(sendable(text or "").split())
    return flat if len(flat) <= limit else flat[: max(0, limit - 1)].rstrip() + "…"


def html_text(text: str | None, limit: int) -> Html:
    """OCM or user text, clipped and HTML-escaped for a ``parse_mode=HTML`` message."""
    return escape(clip(text, limit))
