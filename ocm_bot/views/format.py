"""Small formatters for numbers, distances, power and dates in the driver's language.

Example::

    distance(t, 0.62, DistanceUnitChoice.KM)     # "620 m"
    distance(t, 12.3, DistanceUnitChoice.MILES)  # "7.6 mi"
    power(t, 7.4)                                # "7.4 kW"; translator("de"): "7,4 kW"
    price(t, "£0.45/kWh")                        # "£0.45/kWh"; translator("de"): "0,45 £/kWh"
    ago(t, three_days_before, now)               # "3 days ago"; translator("de"): "vor 3 Tagen"

In a right-to-left language each of these comes isolated (FSI … PDI), so it reads as one unit
inside Arabic text.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from functools import lru_cache

from babel.dates import format_date, format_time
from babel.numbers import format_currency, get_decimal_symbol, get_group_symbol

from ocm_bot.domain.preferences import DistanceUnitChoice
from ocm_bot.geometry import km_to_miles
from ocm_bot.i18n import Translator, isolate
from ocm_bot.views.html import Html, escape, sendable


def _unit(t: Translator, text: str) -> str:
    """A number with its unit, kept together inside right-to-left text."""
    return isolate(text) if t.rtl else text


def distance(t: Translator, km: float, unit: DistanceUnitChoice) -> str:
    """A distance the way a driver's app shows it: "650 m", "4.3 km", "12 km", "0.4 mi", "160 ft".

    Metres (or feet under a tenth of a mile) to the nearest 10; one decimal under 10 km or 10 mi;
    whole numbers above. A trailing ".0" is dropped ("4 km").
    """
    if unit is DistanceUnitChoice.MILES:
        miles = km_to_miles(km)
        feet = round(miles * 5280, -1)
        if feet < 528:  # under a tenth of a mile
            return _unit(t, t.gettext("{n} ft", n=number(t, feet, digits=0)))
        return _unit(t, t.gettext("{n} mi", n=_rounded(t, miles)))
    metres = round(km * 1000, -1)
    if metres < 1000:
        return _unit(t, t.gettext("{n} m", n=number(t, metres, digits=0)))
    return _unit(t, t.gettext("{n} km", n=_rounded(t, km)))


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
        return _unit(t, t.gettext("{n} mi", n=_rounded(t, km_to_miles(km))))
    return _unit(t, t.gettext("{n} km", n=_rounded(t, km)))


def power(t: Translator, kw: float | None) -> str:
    """A charging power: "7.4 kW", "3,7 kW" (de, fr)."""
    if kw is None:
        return _unit(t, t.gettext("? kW"))
    return _unit(t, t.gettext("{n} kW", n=number(t, kw, digits=1)))


def amount(t: Translator, value: float, unit: str) -> str:
    """A number with a technical unit that no language translates ("32 A", "400 V")."""
    return _unit(t, f"{number(t, value, digits=1)}\N{NO-BREAK SPACE}{unit}")


# A price as a bare number with a currency ("£0.45/kWh", "0,39 € per kWh", "EUR 0.35"): OCM's usage cost
# is free text, and only a text that is nothing but a price is reformatted for the driver's locale.
_PRICE = re.compile(
    r"^\s*(?:(?P<before>[£€$]|EUR|GBP|USD|CHF|NOK|SEK)\s?(?P<amount1>\d{1,4}(?:[.,]\d{1,4})?)"
    r"|(?P<amount2>\d{1,4}(?:[.,]\d{1,4})?)\s?(?P<after>[£€$]|EUR|GBP|USD|CHF|NOK|SEK|kr))"
    r"\s*(?P<per>(?:/|per\s*|pro\s*)kWh)?\s*$",
    re.IGNORECASE,
)
_CURRENCY_SIGNS = {"£": "GBP", "€": "EUR"}
_DOLLARS = {"US": "USD", "CA": "CAD", "AU": "AUD", "NZ": "NZD"}
_KRONER = {"NO": "NOK", "SE": "SEK", "DK": "DKK"}


def price(t: Translator, text: str | None, country_iso: str | None = None) -> str | None:
    """OCM's usage cost in the driver's locale when it is just a price ("0,45 £/kWh" in German).

    ``$`` and ``kr`` need the charger's country to name the currency; any other text (tariffs,
    opening hours, "Free") is None, and the card shows OCM's words as they are.
    """
    match = _PRICE.match(text or "")
    if not match:
        return None
    sign = (match["before"] or match["after"]).upper()
    country = (country_iso or "").upper()
    if sign == "$":
        code = _DOLLARS.get(country)
    elif sign == "KR":
        code = _KRONER.get(country)
    else:
        code = _CURRENCY_SIGNS.get(sign, sign)
    if code is None:
        return None
    digits = match["amount1"] or match["amount2"]
    value = float(digits.replace(",", "."))
    formatted = format_currency(value, code, locale=t.locale, decimal_quantization=False)
    if match["per"]:
        formatted = t.gettext("{price}/kWh", price=formatted)
    return _unit(t, formatted)


def ago(t: Translator, moment: datetime | None, now: datetime) -> str | None:
    """ "3 days ago" (None without a date; a date in the future reads as today)."""
    if moment is None:
        return None
    seconds = max(0, int((now - moment).total_seconds()))
    # Babel's wording changes by the minute below two hours and by the hour above: cache on that.
    # Under a minute is "1 minute ago": Babel words a zero delta as the future ("in 0 seconds").
    bucket = max(60, seconds // 60 * 60) if seconds < 7200 else seconds // 3600 * 3600
    return _unit(t, _ago(t, bucket))


def date(t: Translator, moment: datetime) -> str:
    """A calendar date in the driver's locale ("4 Dec 2026", "04.12.2026")."""
    return _unit(t, format_date(moment, format="medium", locale=t.locale))


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


def clock_hour(t: Translator, hour: int) -> str:
    """A whole hour on a clock as the driver's locale writes it ("22:00", "10:00 PM")."""
    return format_time(time(hour % 24), format="short", locale=t.locale)


def coordinate(degrees: float) -> str:
    """One latitude or longitude as machine-readable text: a dot, 4 decimals (about 10 m), "-1.5400".

    Not for reading in the driver's locale: it is typed or pasted into a web form (OCM's add page),
    travels in callback data or a map link, so it is the same in every language (no comma decimals,
    no grouping, no right-to-left isolation marks that would be copied along with it).
    """
    return f"{degrees:.4f}"


def coordinates(latitude: float, longitude: float) -> str:
    """A position as machine-readable text for forms and map links: "53.8000, -1.5400" in every language."""
    return f"{coordinate(latitude)}, {coordinate(longitude)}"


def utc_offset(minutes: int) -> str:
    """A time zone's offset from UTC, as clocks and phones show it ("UTC+01:00", "UTC−05:30")."""
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


TYPED_PLACE_CHARS = 120
"""A place the driver typed, echoed back: 10 kB of text must not make the reply unsendable."""
