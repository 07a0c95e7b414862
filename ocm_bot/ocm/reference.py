"""OCM reference data: resolves the IDs in compact payloads to titled objects locally.

Example::

    ref = ReferenceData.from_json(payload)          # GET /v3/referencedata
    ref.connection_types[33].title                  # "CCS (Type 2)"
    ref.status_types[50].is_operational             # True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
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


def _by_id(items: Iterable[Mapping[str, Any]] | None, build: Callable[[Mapping[str, Any]], T]) -> dict[int, T]:
    return {int(item["ID"]): build(item) for item in items or () if item and item.get("ID") is not None}


def _title(item: Mapping[str, Any]) -> str:
    return str(item.get("Title") or "").strip()


def connection_type_from(item: Mapping[str, Any]) -> ConnectionType:
    return ConnectionType(
        int(item["ID"]), _title(item), item.get("FormalName"), item.get("IsDiscontinued"), item.get("IsObsolete")
    )


def operator_from(item: Mapping[str, Any]) -> Operator:
    return Operator(
        int(item["ID"]),
        _title(item),
        item.get("WebsiteURL"),
        item.get("PhonePrimaryContact"),
        item.get("IsPrivateIndividual"),
    )


def status_type_from(item: Mapping[str, Any]) -> StatusType:
    return StatusType(int(item["ID"]), _title(item), item.get("IsOperational"), item.get("IsUserSelectable"))


def usage_type_from(item: Mapping[str, Any]) -> UsageType:
    return UsageType(
        int(item["ID"]),
        _title(item),
        item.get("IsPayAtLocation"),
        item.get("IsMembershipRequired"),
        item.get("IsAccessKeyRequired"),
    )


def level_from(item: Mapping[str, Any]) -> Level:
    return Level(int(item["ID"]), _title(item), item.get("IsFastChargeCapable"))


def current_type_from(item: Mapping[str, Any]) -> CurrentType:
    return CurrentType(int(item["ID"]), _title(item), item.get("Description"))


def country_from(item: Mapping[str, Any]) -> Country:
    return Country(int(item["ID"]), _title(item), item.get("ISOCode"), item.get("ContinentCode"))


def data_provider_from(item: Mapping[str, Any]) -> DataProvider:
    return DataProvider(
        int(item["ID"]), _title(item), item.get("WebsiteURL"), item.get("License"), item.get("IsOpenDataLicensed")
    )


def comment_type_from(item: Mapping[str, Any]) -> CommentType:
    return CommentType(int(item["ID"]), _title(item))


def checkin_status_type_from(item: Mapping[str, Any]) -> CheckinStatusType:
    return CheckinStatusType(int(item["ID"]), _title(item), item.get("IsPositive"), item.get("IsAutomatedCheckin"))


def submission_status_type_from(item: Mapping[str, Any]) -> SubmissionStatusType:
    return SubmissionStatusType(int(item["ID"]), _title(item), item.get("IsLive"))


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
    return [
        {_pascal(k): v for k, v in item.items()} for item in data.get(key) or () if isinstance(item, Mapping)
    ]
