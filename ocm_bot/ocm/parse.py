"""Turn OCM ``/poi`` JSON into :class:`~ocm_bot.ocm.models.Charger` objects.

OCM answers in three shapes, each also available with camelCase keys:

- verbose (OCM's default): every field, nulls kept, reference objects inline
  (``"StatusTypeID": 50, "StatusType": {...}``);
- ``verbose=false``: null fields left out;
- ``compact=true``: reference objects left out, IDs only (``"StatusTypeID": 50``).

All of them parse to *equal* objects because reference entities are always taken from
:class:`~ocm_bot.ocm.reference.ReferenceData` by ID. An inline object is used only for an ID the
reference data does not know (OCM added an operator since our last refresh); with neither, the
entity keeps its ID and gets an empty title, so filters by ID still work and views can say
"unknown".

A POI without usable coordinates is skipped (logged once per page); one broken POI never loses
the rest of the page. A payload that is not a list of objects raises
:class:`~ocm_bot.ocm.errors.OcmBadResponse`.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from ocm_bot.ocm import reference as ref
from ocm_bot.ocm.errors import OcmBadResponse
from ocm_bot.ocm.models import (
    Address,
    Charger,
    Comment,
    Connection,
    MediaItem,
)
from ocm_bot.ocm.reference import ReferenceData

log = logging.getLogger(__name__)

E = TypeVar("E")
Raw = Mapping[str, Any]


def parse_pois(payload: Any, reference: ReferenceData) -> list[Charger]:
    """Every usable POI of a ``/poi`` answer, in OCM's order."""
    if not isinstance(payload, list):
        raise OcmBadResponse(f"expected a JSON list of POIs, got {type(payload).__name__}")
    chargers: list[Charger] = []
    skipped: list[str] = []
    for item in payload:
        charger = None
        try:
            charger = parse_poi(item, reference) if isinstance(item, Mapping) else None
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            log.debug("unreadable POI %r: %s", _raw_id(item), exc)
        if charger is None:
            skipped.append(str(_raw_id(item)))
        else:
            chargers.append(charger)
    if skipped:
        log.warning(
            "skipped %d of %d POIs without an ID or coordinates: %s",
            len(skipped),
            len(payload),
            ", ".join(skipped[:10]),
        )
    return chargers


def parse_poi(item: Raw, reference: ReferenceData) -> Charger | None:
    """One POI, or None when it has no ID or no usable coordinates."""
    poi = item if "ID" in item or "AddressInfo" in item else _pascalised(item)
    poi_id = _int(poi.get("ID"))
    address = _parse_address(_object(poi.get("AddressInfo")), reference)
    if poi_id is None or address is None:
        return None
    return Charger(
        id=poi_id,
        address=address,
        uuid=_text(poi.get("UUID")),
        connections=tuple(_parse_connection(c, reference) for c in _list(poi.get("Connections"))),
        operator=_resolve(reference.operators, poi.get("OperatorID"), poi.get("OperatorInfo"), ref.operator_from),
        usage_type=_resolve(reference.usage_types, poi.get("UsageTypeID"), poi.get("UsageType"), ref.usage_type_from),
        usage_cost=_text(poi.get("UsageCost")),
        status=_resolve(reference.status_types, poi.get("StatusTypeID"), poi.get("StatusType"), ref.status_type_from),
        data_provider=_resolve(
            reference.data_providers, poi.get("DataProviderID"), poi.get("DataProvider"), ref.data_provider_from
        ),
        submission_status=_resolve(
            reference.submission_status_types,
            poi.get("SubmissionStatusTypeID"),
            poi.get("SubmissionStatus"),
            ref.submission_status_type_from,
        ),
        number_of_points=_int(poi.get("NumberOfPoints")),
        general_comments=_text(poi.get("GeneralComments")),
        date_created=_date(poi.get("DateCreated")),
        date_last_verified=_date(poi.get("DateLastVerified")),
        date_last_status_update=_date(poi.get("DateLastStatusUpdate")),
        date_planned=_date(poi.get("DatePlanned")),
        data_quality_level=_int(poi.get("DataQualityLevel")),
        comments=tuple(_parse_comment(c, reference) for c in _list(poi.get("UserComments"))),
        media_items=tuple(_parse_media_item(m) for m in _list(poi.get("MediaItems"))),
    )


def _parse_address(info: Raw, reference: ReferenceData) -> Address | None:
    latitude, longitude = _float(info.get("Latitude")), _float(info.get("Longitude"))
    if latitude is None or longitude is None:
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180) or (latitude == 0 and longitude == 0):
        return None  # (0, 0) is OCM's placeholder for "never geocoded"
    return Address(
        title=_text(info.get("Title")),
        latitude=latitude,
        longitude=longitude,
        address_line1=_text(info.get("AddressLine1")),
        address_line2=_text(info.get("AddressLine2")),
        town=_text(info.get("Town")),
        state_or_province=_text(info.get("StateOrProvince")),
        postcode=_text(info.get("Postcode")),
        country=_resolve(reference.countries, info.get("CountryID"), info.get("Country"), ref.country_from),
        phone=_text(info.get("ContactTelephone1")),
        email=_text(info.get("ContactEmail")),
        access_comments=_text(info.get("AccessComments")),
        related_url=_text(info.get("RelatedURL")),
    )


def _parse_connection(conn: Raw, reference: ReferenceData) -> Connection:
    return Connection(
        id=_int(conn.get("ID")),
        connection_type=_resolve(
            reference.connection_types,
            conn.get("ConnectionTypeID"),
            conn.get("ConnectionType"),
            ref.connection_type_from,
        ),
        status=_resolve(reference.status_types, conn.get("StatusTypeID"), conn.get("StatusType"), ref.status_type_from),
        level=_resolve(reference.levels, conn.get("LevelID"), conn.get("Level"), ref.level_from),
        amps=_int(conn.get("Amps")),
        voltage=_int(conn.get("Voltage")),
        power_kw=_float(conn.get("PowerKW")),
        current_type=_resolve(
            reference.current_types, conn.get("CurrentTypeID"), conn.get("CurrentType"), ref.current_type_from
        ),
        quantity=_int(conn.get("Quantity")),
        comments=_text(conn.get("Comments")),
    )


def _parse_comment(comment: Raw, reference: ReferenceData) -> Comment:
    user = _object(comment.get("User"))
    return Comment(
        id=_int(comment.get("ID")),
        comment_type=_resolve(
            reference.comment_types, comment.get("CommentTypeID"), comment.get("CommentType"), ref.comment_type_from
        ),
        checkin_status=_resolve(
            reference.checkin_status_types,
            comment.get("CheckinStatusTypeID"),
            comment.get("CheckinStatusType"),
            ref.checkin_status_type_from,
        ),
        rating=_int(comment.get("Rating")),
        text=_text(comment.get("Comment")),
        user_name=_text(comment.get("Username")) or _text(user.get("Username")),
        date_created=_date(comment.get("DateCreated")),
    )


def _parse_media_item(item: Raw) -> MediaItem:
    return MediaItem(
        id=_int(item.get("ID")),
        url=_text(item.get("ItemURL")),
        thumbnail_url=_text(item.get("ItemThumbnailURL")),
        comment=_text(item.get("Comment")),
        date_created=_date(item.get("DateCreated")),
        user_name=_text(_object(item.get("User")).get("Username")),
    )


# Small readers: OCM data is hand-entered, so every one of them tolerates nulls and odd types.


def _resolve(known: Mapping[int, E], raw_id: Any, inline: Any, build: Callable[[Raw], E]) -> E | None:
    if type(raw_id) is int:  # the usual case, kept fast
        found = known.get(raw_id)
        if found is not None:
            return found
    inline_fields = _ci(inline)
    entity_id = _int(raw_id)
    if entity_id is None:
        entity_id = _int(inline_fields.get("id"))
    if entity_id is None:
        return None
    found = known.get(entity_id)
    if found is not None:
        return found
    if inline_fields:
        try:
            return build(inline_fields)
        except (TypeError, ValueError, KeyError):
            pass
    return build({"id": entity_id})  # an untitled entity: filters by ID still work, views say "unknown"


# The names read below, to turn camelCase answers (camelcase=true) back into OCM's PascalCase.
_READ_NAMES = (
    "ID", "UUID", "AddressInfo", "Connections", "OperatorID", "OperatorInfo", "UsageTypeID", "UsageType",
    "UsageCost", "StatusTypeID", "StatusType", "DataProviderID", "DataProvider", "SubmissionStatusTypeID",
    "SubmissionStatus", "NumberOfPoints", "GeneralComments", "DateCreated", "DateLastVerified",
    "DateLastStatusUpdate", "DatePlanned", "DataQualityLevel", "UserComments", "MediaItems", "Latitude",
    "Longitude", "Title", "AddressLine1", "AddressLine2", "Town", "StateOrProvince", "Postcode", "CountryID",
    "Country", "ContactTelephone1", "ContactEmail", "AccessComments", "RelatedURL", "ConnectionTypeID",
    "ConnectionType", "LevelID", "Level", "Amps", "Voltage", "PowerKW", "CurrentTypeID", "CurrentType",
    "Quantity", "Comments", "User", "CommentTypeID", "CommentType", "CheckinStatusTypeID", "CheckinStatusType",
    "Rating", "Comment", "UserName", "Username", "ItemURL", "ItemThumbnailURL",
)  # fmt: skip
_PASCAL = {name.lower(): name for name in _READ_NAMES}


def _pascalised(value: Any) -> Any:
    """A camelCase answer (``camelcase=true``) with OCM's PascalCase names, recursively."""
    if isinstance(value, Mapping):
        return {_PASCAL.get(str(k).lower(), k): _pascalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_pascalised(v) for v in value]
    return value


def _object(value: Any) -> Raw:
    return value if isinstance(value, Mapping) else {}


def _ci(value: Any) -> dict[str, Any]:
    """Keys lower-cased, so PascalCase and camelCase payloads read alike; a non-object is empty."""
    if not isinstance(value, Mapping):
        return {}
    return {str(key).lower(): v for key, v in value.items()}


def _list(value: Any) -> list[Any]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


# Some imported records carry the word "null" where the field is empty (UK registry data).
_EMPTY_WORDS = frozenset({"null", "none", "n/a"})
# JSON may spell half a UTF-16 pair ("\ud800"); such a string cannot be encoded to send anywhere.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = (value if type(value) is str else str(value)).strip()
    if not text.isascii():
        text = _LONE_SURROGATE.sub("\ufffd", text)
    if text.lower() in _EMPTY_WORDS:
        return None
    return text or None


def _int(value: Any) -> int | None:
    if type(value) is int:
        return value
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) and number == int(number) else None


def _float(value: Any) -> float | None:
    if type(value) is float and math.isfinite(value):
        return value
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _date(value: Any) -> datetime | None:
    """OCM dates are UTC, with or without a ``Z`` and with 0-7 fractional digits."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if "." in text:  # fromisoformat takes at most 6 fractional digits before 3.12 on some inputs
        head, _, tail = text.partition(".")
        digits = "".join(ch for ch in tail if ch.isdigit())
        zone = tail[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}" if digits else f"{head}{zone}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _raw_id(item: Any) -> Any:
    return _ci(item).get("id", "?")
