"""The top of an area result: where, the driver's filters, and what the area holds at a glance.

    <b>Chargers in Leeds</b>
    Filters: ≥ 50 kW
    77 chargers · 12 fast DC (≥ 50 kW)
    Plugs: Type 2 60 · CCS (Type 2) 14 · CHAdeMO 9
    Operators: Pod Point 21 · BP Pulse 8
    page 1 of 16

Also the answers to ``/area`` without a place and to a place without an area.
"""

from __future__ import annotations

from ocm_bot.domain.area import FAST_DC_KW, summarise
from ocm_bot.domain.search import SearchResult
from ocm_bot.i18n import N_, Translator
from ocm_bot.views.common import View
from ocm_bot.views.format import clip, html_text, power
from ocm_bot.views.html import Html, bold, gettext_html, join, ngettext_html

LABEL_CHARS = 60
NAME_CHARS = 28

CHARGERS_IN = N_("chargers in {place}")
"""What a driver types to search an area ("chargers in Leeds"). Its translation is the phrase drivers
of that language type, matched literally (case ignored) with the place where ``{place}`` stands; the
place must come last or be followed by fixed words only (read by :func:`chargers_in_phrases`)."""


def chargers_in_phrases(t: Translator) -> tuple[str, ...]:
    """The phrases that ask for an area search: the driver's language's and English."""
    return tuple(dict.fromkeys((t.gettext(CHARGERS_IN), CHARGERS_IN)))


def area_title(t: Translator, result: SearchResult) -> Html:
    return bold(gettext_html(t, "Chargers in {place}", place=clip(result.label, LABEL_CHARS)))


def area_summary_lines(t: Translator, result: SearchResult, page: int) -> list[Html]:
    summary = summarise(result.hits)
    if not summary.chargers:
        return [gettext_html(t, "No chargers found in this area.")]
    first = ngettext_html(t, "{n} charger", "{n} chargers", summary.chargers)
    first += " · " + gettext_html(t, "{n} fast DC (≥ {power})", n=summary.fast_dc, power=power(t, FAST_DC_KW))
    out = [first]
    if summary.by_connector:
        counted = join(
            " · ", [Html("{} {}").format(html_text(name, NAME_CHARS), n) for name, n in summary.by_connector]
        )
        out.append(gettext_html(t, "Plugs: {plugs}", plugs=counted))
    if summary.by_operator:
        counted = _counted(summary.by_operator)
        out.append(gettext_html(t, "Operators: {operators}", operators=counted))
    if not result.complete:
        out.append(
            gettext_html(
                t,
                "Open Charge Map sent its first {n}: the area holds more. Narrow your filters to see the rest.",
                n=summary.chargers,
            )
        )
    if result.page_count() > 1:
        out.append(gettext_html(t, "page {page} of {pages}", page=page + 1, pages=result.page_count()))
    return out


def _counted(named: tuple[tuple[str, int], ...]) -> Html:
    return join(" · ", [Html("{} {}").format(html_text(name, NAME_CHARS), n) for name, n in named])


def area_usage_text(t: Translator) -> View:
    return View(gettext_html(t, "Send /area and a town or district, for example: /area Leeds"))


def no_area_text(t: Translator, query: str) -> View:
    return View(
        gettext_html(
            t,
            "I found “{query}”, but not its area. Try a town or district name, or send your location.",
            query=clip(query, LABEL_CHARS),
        )
    )
