"""A driver's saved search preferences (filters, radius, unit, page size, language).

Stored as a JSON document through the storage interface; unknown or invalid keys in a stored
document fall back to defaults rather than failing, so old rows keep working.

Example::

    prefs = UserPreferences.from_dict(await storage.get_user(user_id) or {})
    prefs = replace(prefs, min_power_kw=50)
    await storage.save_user(user_id, prefs.to_dict())
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

POWER_STEPS_KW: tuple[float, ...] = (3.7, 7, 11, 22, 50, 100, 150, 350)
RADIUS_STEPS_KM: tuple[float, ...] = (2, 5, 10, 25, 50)
PAGE_SIZES: tuple[int, ...] = (3, 5, 8)
MAX_PAGE_SIZE = 10
MILES_BY_DEFAULT = frozenset({"US", "GB", "LR", "MM"})


class DistanceUnitChoice(enum.StrEnum):
    KM = "km"
    MILES = "mi"


class UsageChoice(enum.StrEnum):
    """Which usage types to show; :func:`ocm_bot.domain.usage.usage_type_ids` maps them to OCM IDs."""

    PUBLIC_ONLY = "public"
    INCLUDE_MEMBERSHIP = "membership"
    INCLUDE_RESTRICTED = "all"


@dataclass(frozen=True, slots=True)
class UserPreferences:
    language: str | None = None
    unit: DistanceUnitChoice | None = None
    radius_km: float = 10.0
    min_power_kw: float | None = None
    connection_type_ids: frozenset[int] = frozenset()
    operator_ids: frozenset[int] = frozenset()
    level_ids: frozenset[int] = frozenset()
    usage: UsageChoice = UsageChoice.INCLUDE_MEMBERSHIP
    operational_only: bool = True
    hide_recent_faults: bool = False  # with operational_only: also hide chargers with a recent fault report
    open_data_only: bool = False
    page_size: int = 5

    def unit_for(self, country_iso: str | None, *, language_code: str | None = None) -> DistanceUnitChoice:
        """The saved unit, or miles in the countries that drive in miles.

        The country is the searched place's when known, else the region of the user's Telegram
        ``language_code`` (``en-US``, ``en-GB``); a bare ``en`` says nothing about miles.
        """
        if self.unit is not None:
            return self.unit
        country = (country_iso or region_of(language_code) or "").upper()
        return DistanceUnitChoice.MILES if country in MILES_BY_DEFAULT else DistanceUnitChoice.KM

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, frozenset):
                value = sorted(value)
            elif isinstance(value, enum.Enum):
                value = value.value
            result[item.name] = value
        return result

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UserPreferences:
        defaults = cls()
        values: dict[str, Any] = {}
        for item in fields(cls):
            if item.name not in data:
                continue
            raw = data[item.name]
            default = getattr(defaults, item.name)
            try:
                values[item.name] = _coerce(item.name, raw, default)
            except (TypeError, ValueError):
                continue
        return cls(**values)


def region_of(language_code: str | None) -> str | None:
    """The region of an IETF language tag (``en-GB`` -> ``GB``), or None when it has none."""
    parts = (language_code or "").replace("_", "-").split("-")
    region = parts[1] if len(parts) > 1 else ""
    return region.upper() if len(region) == 2 and region.isalpha() else None


def _coerce(name: str, raw: Any, default: Any) -> Any:
    if name == "unit":
        return None if raw is None else DistanceUnitChoice(raw)
    if name == "usage":
        return UsageChoice(raw)
    if name == "language":
        return None if raw is None else str(raw)
    if name == "min_power_kw":
        if raw is None:
            return None
        power = float(raw)
        if not 0 < power < 10_000:
            raise ValueError(name)
        return power
    if name == "page_size":
        size = int(raw)
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ValueError(name)
        return size
    if isinstance(default, frozenset):
        return frozenset(int(value) for value in raw)
    if isinstance(default, bool):
        if not isinstance(raw, bool):
            raise TypeError(name)
        return raw
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        value = float(raw)
        if not 0 < value < 10_000:
            raise ValueError(name)
        return value
    return raw
