"""A result's chargers as GPX 1.1 and KML 2.2 documents, for navigation apps (OsmAnd, Organic Maps,
Google My Maps, Garmin...).

Built with ``xml.etree.ElementTree`` from the typed chargers, so every name, address and plug that OCM
holds is escaped as XML needs (``&``, ``<``, quotes; control characters are dropped). Each charger is a
waypoint / placemark with its name, its plugs and power in the description, and its OCM page as a link.

Example::

    gpx_bytes = gpx(t, result)
    kml_bytes = kml(t, result)
    export_filename(result, "gpx")      # "chargers-leeds.gpx"
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET

from markupsafe import Markup

from ocm_bot.domain.search import ResultKind, SearchResult
from ocm_bot.i18n import Translator
from ocm_bot.ocm.models import Charger
from ocm_bot.views.cards import address_line, connector_summary, poi_url
from ocm_bot.views.common import View
from ocm_bot.views.format import power
from ocm_bot.views.html import Html, ngettext_html

GPX_NS = "http://www.topografix.com/GPX/1/1"
KML_NS = "http://www.opengis.net/kml/2.2"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # not allowed in XML 1.0


def gpx(t: Translator, result: SearchResult) -> bytes:
    root = ET.Element("gpx", {"version": "1.1", "creator": "ocm-bot", "xmlns": GPX_NS})
    metadata = ET.SubElement(root, "metadata")
    ET.SubElement(metadata, "name").text = _clean(document_title(t, result))
    ET.SubElement(metadata, "desc").text = _clean(t.gettext("Charging stations from Open Charge Map"))
    for hit in result.hits:
        charger = hit.charger
        point = ET.SubElement(
            root, "wpt", {"lat": _coordinate(charger.latitude), "lon": _coordinate(charger.longitude)}
        )
        ET.SubElement(point, "name").text = _clean(charger.name)
        ET.SubElement(point, "desc").text = _clean(description(t, charger))
        link = ET.SubElement(point, "link", {"href": poi_url(charger.id)})
        ET.SubElement(link, "text").text = _clean(t.gettext("Open Charge Map #{id}", id=charger.id))
        ET.SubElement(point, "type").text = "EV charging station"
    return _document(root)


def kml(t: Translator, result: SearchResult) -> bytes:
    root = ET.Element("kml", {"xmlns": KML_NS})
    document = ET.SubElement(root, "Document")
    ET.SubElement(document, "name").text = _clean(document_title(t, result))
    for hit in result.hits:
        charger = hit.charger
        placemark = ET.SubElement(document, "Placemark")
        ET.SubElement(placemark, "name").text = _clean(charger.name)
        ET.SubElement(placemark, "description").text = _clean(description(t, charger) + "\n" + poi_url(charger.id))
        data = ET.SubElement(placemark, "ExtendedData")
        for name, value in (
            ("ocm_id", str(charger.id)),
            ("max_power_kw", "" if charger.max_power_kw is None else f"{charger.max_power_kw:g}"),
            ("ocm_url", poi_url(charger.id)),
        ):
            field = ET.SubElement(data, "Data", {"name": name})
            ET.SubElement(field, "value").text = value
        location = ET.SubElement(placemark, "Point")
        ET.SubElement(
            location, "coordinates"
        ).text = f"{_coordinate(charger.longitude)},{_coordinate(charger.latitude)},0"
    return _document(root)


def description(t: Translator, charger: Charger) -> str:
    """Plain text: the plugs with their power, the maximum power, the address."""
    parts = []
    if charger.connections:
        parts.append(_plain(connector_summary(t, charger.connections)))
    if charger.max_power_kw is not None:
        parts.append(t.gettext("Up to {power}", power=power(t, charger.max_power_kw)))
    address = address_line(charger)
    if address:
        parts.append(_plain(address))
    return "\n".join(parts)


def document_title(t: Translator, result: SearchResult) -> str:
    if result.kind is ResultKind.ROUTE and result.route is not None:
        return t.gettext(
            "Chargers along {start} → {destination}",
            start=result.label or t.gettext("start"),
            destination=result.route.destination_label or t.gettext("destination"),
        )
    if result.kind is ResultKind.AREA:
        return t.gettext("Chargers in {place}", place=result.label or "?")
    if result.label:
        return t.gettext("Chargers near {place}", place=result.label)
    return t.gettext("Chargers near you")


def export_filename(result: SearchResult, extension: str) -> str:
    """``chargers-<place>.<extension>``, ASCII only (any app opens it)."""
    label = result.label or "here"
    if result.route is not None and result.route.destination_label:
        label = f"{label}-{result.route.destination_label}"
    ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_label.lower()).strip("-")[:40].strip("-") or "here"
    return f"chargers-{slug}.{extension}"


def _plain(text: str | Html) -> str:
    return str(Markup(text).unescape()) if isinstance(text, Markup) else str(text)


def _clean(text: str) -> str:
    return _CONTROL.sub("", text)


def _coordinate(value: float) -> str:
    return f"{value:.6f}"


def _document(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def export_caption(t: Translator, result: SearchResult) -> View:
    return View(
        ngettext_html(
            t,
            "{n} charger for your navigation app (GPX or KML).",
            "{n} chargers for your navigation app (GPX or KML).",
            len(result.hits),
        )
    )
