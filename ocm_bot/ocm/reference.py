"""OCM reference data: resolves the IDs in compact payloads to titled objects locally.

Example::

    ref = ReferenceData.from_json(payload)          # GET /v3/referencedata
    ref.connection_types[33].title                  # "CCS (Type 2)"
    ref.status_types[50].is_operational             # True
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ocm_bot.ocm.models import (
    CheckinStatusType,
    CommentType,
    ConnectionType,
    Country,
    CurrentType,
    DataProvider,
    Level,
    Operator,
    StatusType,
    SubmissionStatusType,
    UsageType,
)

T = TypeVar("T")

# Status type IDs whose meaning the bot relies on (OCM's StatusTypes in GET /v3/referencedata);
# OCM never returns a removed charger from /poi, and the local source does the same.
STATUS_NOT_OPERATIONAL = 100
STATUS_PLANNED = 150
REMOVED_STATUS_IDS = frozenset({200, 210})  # Removed (Decommissioned), Removed (Duplicate Listing)
PUBLISHED_SUBMISSION_IDS = frozenset({100, 200})  # Imported and Published, Submission Published


def _by_id(items: Iterable[Mapping[str, Any]] | None, build: Callable[[Mapping[str, Any]], T]) -> dict[int, T]:
    result: dict[int, T] = {}
    for raw in items or ():
        item = _ci(raw)
        if item.get("id") is not None:
            result[int(item["id"])] = build(item)
    return result


def _title(item: Mapping[str, Any]) -> str:
    return str(item.get("title") or "").strip()


def _ci(item: Mapping[str, Any]) -> dict[str, Any]:
    """Keys lower-cased: OCM's PascalCase (``ISOCode``) and camelCase (``isoCode``) read alike."""
    return {key.lower(): value for key, value in item.items()}


def connection_type_from(raw: Mapping[str, Any]) -> ConnectionType:
    item = _ci(raw)
    return ConnectionType(
        int(item["id"]), _title(item), item.get("formalname"), item.get("isdiscontinued"), item.get("isobsolete")
    )


def operator_from(raw: Mapping[str, Any]) -> Operator:
    item = _ci(raw)
    return Operator(
        int(item["id"]),
        _title(item),
        item.get("websiteurl"),
        item.get("phoneprimarycontact"),
        item.get("isprivateindividual"),
    )


def status_type_from(raw: Mapping[str, Any]) -> StatusType:
    item = _ci(raw)
    return StatusType(int(item["id"]), _title(item), item.get("isoperational"), item.get("isuserselectable"))


def usage_type_from(raw: Mapping[str, Any]) -> UsageType:
    item = _ci(raw)
    return UsageType(
        int(item["id"]),
        _title(item),
        item.get("ispayatlocation"),
        item.get("ismembershiprequired"),
        item.get("isaccesskeyrequired"),
    )


def level_from(raw: Mapping[str, Any]) -> Level:
    item = _ci(raw)
    return Level(int(item["id"]), _title(item), item.get("isfastchargecapable"))


def current_type_from(raw: Mapping[str, Any]) -> CurrentType:
    item = _ci(raw)
    return CurrentType(int(item["id"]), _title(item), item.get("description"))


def country_from(raw: Mapping[str, Any]) -> Country:
    item = _ci(raw)
    return Country(int(item["id"]), _title(item), item.get("isocode"), item.get("continentcode"))


def data_provider_from(raw: Mapping[str, Any]) -> DataProvider:
    item = _ci(raw)
    return DataProvider(
        int(item["id"]), _title(item), item.get("websiteurl"), item.get("license"), item.get("isopendatalicensed")
    )


def comment_type_from(raw: Mapping[str, Any]) -> CommentType:
    item = _ci(raw)
    return CommentType(int(item["id"]), _title(item))


def checkin_status_type_from(raw: Mapping[str, Any]) -> CheckinStatusType:
    item = _ci(raw)
    return CheckinStatusType(int(item["id"]), _title(item), item.get("ispositive"), item.get("isautomatedcheckin"))


def submission_status_type_from(raw: Mapping[str, Any]) -> SubmissionStatusType:
    item = _ci(raw)
    return SubmissionStatusType(int(item["id"]), _title(item), item.get("islive"))


@dataclass(frozen=True)
class ReferenceData:
    """All of OCM's reference lists, keyed by ID."""

    connection_types: dict[int, ConnectionType] = field(default_factory=dict)
    operators: dict[int, Operator] = field(default_factory=dict)
    status_types: dict[int, StatusType] = field(default_factory=dict)
    usage_types: dict[int, UsageType] = field(default_factory=dict)
    levels: dict[int, Level] = field(default_factory=dict)
    current_types: dict[int, CurrentType] = field(default_factory=dict)
    countries: dict[int, Country] = field(default_factory=dict)
    data_providers: dict[int, DataProvider] = field(default_factory=dict)
    comment_types: dict[int, CommentType] = field(default_factory=dict)
    checkin_status_types: dict[int, CheckinStatusType] = field(default_factory=dict)
    submission_status_types: dict[int, SubmissionStatusType] = field(default_factory=dict)

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> ReferenceData:
        """Parse a ``/v3/referencedata`` document (PascalCase or camelCase keys)."""
        data = {_pascal(key): value for key, value in payload.items()}
        return cls(
            connection_types=_by_id(_items(data, "ConnectionTypes"), connection_type_from),
            operators=_by_id(_items(data, "Operators"), operator_from),
            status_types=_by_id(_items(data, "StatusTypes"), status_type_from),
            usage_types=_by_id(_items(data, "UsageTypes"), usage_type_from),
            levels=_by_id(_items(data, "ChargerTypes"), level_from),
            current_types=_by_id(_items(data, "CurrentTypes"), current_type_from),
            countries=_by_id(_items(data, "Countries"), country_from),
            data_providers=_by_id(_items(data, "DataProviders"), data_provider_from),
            comment_types=_by_id(_items(data, "UserCommentTypes"), comment_type_from),
            checkin_status_types=_by_id(_items(data, "CheckinStatusTypes"), checkin_status_type_from),
            submission_status_types=_by_id(_items(data, "SubmissionStatusTypes"), submission_status_type_from),
        )

    def country_by_iso(self, iso_code: str) -> Country | None:
        iso = iso_code.upper()
        return next((c for c in self.countries.values() if (c.iso_code or "").upper() == iso), None)


def _pascal(key: str) -> str:
    return key[:1].upper() + key[1:]


def _items(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    return [item for item in data.get(key) or () if isinstance(item, Mapping)]


BUNDLED_REFERENCE_FILE = Path(__file__).resolve().parent.parent / "data" / "ocm" / "referencedata.json"


def bundled_reference_data() -> ReferenceData:
    """The reference data shipped with the bot: the last resort when OCM is down at first start."""
    return ReferenceData.from_json(json.loads(BUNDLED_REFERENCE_FILE.read_text(encoding="utf-8")))
