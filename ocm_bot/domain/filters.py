"""From a driver's preferences to an OCM query, plus the local filter applied to every answer.

Two halves, documented here because the split decides how often OCM is asked:

**Sent to OCM** (they shrink the payload most, and a driver who needs CCS ≥ 50 kW would get an
empty page out of 50 nearest 7 kW posts otherwise): minimum power (``minpowerkw``), connector types
(``connectiontypeid``), operators (``operatorid``), charging levels (``levelid``) and open data only
(``opendata=true``). :class:`ServerFilter` holds them.

**Local only** (:func:`matches`, over any cached answer): status and usage, which OCM cannot express
the way drivers mean them, plus every server filter again, so that a cached *wider* answer can
be narrowed without asking OCM:

- Removed (status 200 decommissioned, 210 duplicate) and delisted POIs (a submission status that
  is not live) are never shown.
- *Operational only* hides what is known not to work: not operational (100), planned (150) and any
  status with ``IsOperational == false``. Unknown status (none, 0 or ``IsOperational == null``)
  stays visible and is marked unknown on the card.
- Usage: *public only* keeps public usage types that need no membership (1 public, 5 pay at
  location, 7 notice required) and unknown ones; *include membership* adds 4 (membership
  required); *include restricted* keeps everything, private ones too.
- Power, connector types and levels must be met by **one** connection: a CCS 50 kW need is not met
  by a 7 kW Type 2 next to a 50 kW CHAdeMO (OCM checks each parameter on any connection). A
  connection of unknown power never meets a minimum power.
- Operators: the charger's operator is one of the chosen ones. Open data: the data provider is
  open-data licensed.

Example::

    query = ocm_query(prefs, GeoPoint(45.5122, -122.6587), radius_km=10)
    shown = [c for c in chargers if matches(c, prefs)]
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.preferences import UsageChoice, UserPreferences
from ocm_bot.domain.trust import has_recent_fault, trust_of
from ocm_bot.domain.usage import usage_type_ids
from ocm_bot.ocm.models import Charger, Connection
from ocm_bot.ocm.query import PoiQuery
from ocm_bot.ocm.reference import REMOVED_STATUS_IDS, STATUS_NOT_OPERATIONAL, STATUS_PLANNED

MAX_RESULTS = 40
"""Chargers asked of OCM per search: eight pages of five."""

_ALLOWED_USAGE_TYPES = {choice: usage_type_ids(choice) for choice in UsageChoice}  # None: any usage type


class StatusKind(enum.StrEnum):
    OPERATIONAL = "operational"
    NOT_OPERATIONAL = "not_operational"
    PLANNED = "planned"
    REMOVED = "removed"
    UNKNOWN = "unknown"


class FilterKey(enum.StrEnum):
    """One removable filter (short values: they travel in callback data)."""

    MIN_POWER = "p"
    CONNECTORS = "c"
    OPERATORS = "o"
    LEVELS = "l"
    USAGE = "u"
    OPERATIONAL = "s"
    OPEN_DATA = "d"


SERVER_KEYS = frozenset(
    {FilterKey.MIN_POWER, FilterKey.CONNECTORS, FilterKey.OPERATORS, FilterKey.LEVELS, FilterKey.OPEN_DATA}
)


def status_kind(charger: Charger) -> StatusKind:
    """How a charger's OCM status reads to a driver."""
    submission = charger.submission_status
    if submission is not None and submission.is_live is False:
        return StatusKind.REMOVED
    status = charger.status
    if status is None:
        return StatusKind.UNKNOWN
    if status.id in REMOVED_STATUS_IDS:
        return StatusKind.REMOVED
    if status.id == STATUS_PLANNED:
        return StatusKind.PLANNED
    if status.id == STATUS_NOT_OPERATIONAL or status.is_operational is False:
        return StatusKind.NOT_OPERATIONAL
    if status.is_operational is True:
        return StatusKind.OPERATIONAL
    return StatusKind.UNKNOWN


def connection_status_kind(connection: Connection) -> StatusKind:
    status = connection.status
    if status is None or status.is_operational is None:
        return StatusKind.UNKNOWN
    if status.id in REMOVED_STATUS_IDS:
        return StatusKind.REMOVED
    if status.id == STATUS_PLANNED:
        return StatusKind.PLANNED
    return StatusKind.OPERATIONAL if status.is_operational else StatusKind.NOT_OPERATIONAL


@dataclass(frozen=True, slots=True)
class ServerFilter:
    """The part of the preferences that OCM applies (see the module docstring)."""

    min_power_kw: float | None = None
    connection_type_ids: frozenset[int] = frozenset()
    operator_ids: frozenset[int] = frozenset()
    level_ids: frozenset[int] = frozenset()
    open_data_only: bool = False

    @classmethod
    def of(cls, prefs: UserPreferences) -> ServerFilter:
        return cls(
            prefs.min_power_kw or None,
            prefs.connection_type_ids,
            prefs.operator_ids,
            prefs.level_ids,
            prefs.open_data_only,
        )

    def covers(self, other: ServerFilter) -> bool:
        """True when every charger ``other`` lets through, this filter lets through too.

        An OCM answer fetched with ``self`` can then be narrowed locally to ``other``.
        """
        if self.min_power_kw is not None and (other.min_power_kw or 0) < self.min_power_kw:
            return False
        for mine, theirs in (
            (self.connection_type_ids, other.connection_type_ids),
            (self.operator_ids, other.operator_ids),
            (self.level_ids, other.level_ids),
        ):
            if mine and (not theirs or not theirs <= mine):
                return False
        return not (self.open_data_only and not other.open_data_only)


def ocm_query(prefs: UserPreferences, point: GeoPoint, *, radius_km: float, max_results: int = MAX_RESULTS) -> PoiQuery:
    """The compact ``GET /poi`` query for ``prefs`` around ``point`` (distance always in km)."""
    server = ServerFilter.of(prefs)
    return PoiQuery(
        latitude=point.latitude,
        longitude=point.longitude,
        distance=radius_km,
        maxresults=max_results,
        minpowerkw=server.min_power_kw,
        connectiontypeid=tuple(sorted(server.connection_type_ids)),
        operatorid=tuple(sorted(server.operator_ids)),
        levelid=tuple(sorted(server.level_ids)),
        opendata=True if server.open_data_only else None,
        compact=True,
        verbose=False,
    )


def matches(charger: Charger, prefs: UserPreferences) -> bool:
    """Whether ``charger`` is shown to a driver with ``prefs`` (the local filter)."""
    return not failed_filters(charger, prefs, stop_at_first=True)


def failed_filters(charger: Charger, prefs: UserPreferences, *, stop_at_first: bool = False) -> set[FilterKey | None]:
    """The active filters that hide ``charger``; ``None`` in the set means "never shown" (removed)."""
    failed: set[FilterKey | None] = set()
    kind = status_kind(charger)
    if kind is StatusKind.REMOVED:
        return {None}
    if prefs.operational_only and (
        kind in (StatusKind.NOT_OPERATIONAL, StatusKind.PLANNED)
        # A filter has no clock of its own; "recent" is counted back from now, as a driver reads it.
        or (prefs.hide_recent_faults and has_recent_fault(trust_of(charger, datetime.now(UTC)), datetime.now(UTC)))
    ):
        failed.add(FilterKey.OPERATIONAL)
        if stop_at_first:
            return failed
    if not _usage_allowed(charger, prefs.usage):
        failed.add(FilterKey.USAGE)
    if prefs.operator_ids and (charger.operator is None or charger.operator.id not in prefs.operator_ids):
        failed.add(FilterKey.OPERATORS)
    if prefs.open_data_only and not (charger.data_provider and charger.data_provider.is_open_data_licensed):
        failed.add(FilterKey.OPEN_DATA)
    failed |= _connection_failures(charger.connections, prefs)
    return failed


def _usage_allowed(charger: Charger, usage: UsageChoice) -> bool:
    allowed = _ALLOWED_USAGE_TYPES[usage]
    return allowed is None or charger.usage_type is None or charger.usage_type.id in allowed


def _connection_failures(connections: Iterable[Connection], prefs: UserPreferences) -> set[FilterKey | None]:
    """Which connection-level filters no single connection meets together."""
    wanted = {
        FilterKey.MIN_POWER: prefs.min_power_kw is not None and prefs.min_power_kw > 0,
        FilterKey.CONNECTORS: bool(prefs.connection_type_ids),
        FilterKey.LEVELS: bool(prefs.level_ids),
    }
    active = {key for key, on in wanted.items() if on}
    if not active:
        return set()
    best: set[FilterKey | None] | None = None
    for connection in connections:
        misses: set[FilterKey | None] = set()
        if FilterKey.MIN_POWER in active and (
            connection.power_kw is None or connection.power_kw < (prefs.min_power_kw or 0)
        ):
            misses.add(FilterKey.MIN_POWER)
        if FilterKey.CONNECTORS in active and (
            connection.connection_type is None or connection.connection_type.id not in prefs.connection_type_ids
        ):
            misses.add(FilterKey.CONNECTORS)
        if FilterKey.LEVELS in active and (connection.level is None or connection.level.id not in prefs.level_ids):
            misses.add(FilterKey.LEVELS)
        if not misses:
            return set()
        if best is None or len(misses) < len(best):
            best = misses
    return best if best is not None else set(active)


def active_filters(prefs: UserPreferences) -> list[FilterKey]:
    """The filters that narrow a search, in the order the header lists them."""
    keys: list[FilterKey] = []
    if prefs.min_power_kw:
        keys.append(FilterKey.MIN_POWER)
    if prefs.connection_type_ids:
        keys.append(FilterKey.CONNECTORS)
    if prefs.level_ids:
        keys.append(FilterKey.LEVELS)
    if prefs.operator_ids:
        keys.append(FilterKey.OPERATORS)
    if prefs.usage is not UsageChoice.INCLUDE_RESTRICTED:
        keys.append(FilterKey.USAGE)
    if prefs.operational_only:
        keys.append(FilterKey.OPERATIONAL)
    if prefs.open_data_only:
        keys.append(FilterKey.OPEN_DATA)
    return keys


def without(prefs: UserPreferences, key: FilterKey) -> UserPreferences:
    """``prefs`` with one filter switched off."""
    if key is FilterKey.MIN_POWER:
        return replace(prefs, min_power_kw=None)
    if key is FilterKey.CONNECTORS:
        return replace(prefs, connection_type_ids=frozenset())
    if key is FilterKey.LEVELS:
        return replace(prefs, level_ids=frozenset())
    if key is FilterKey.OPERATORS:
        return replace(prefs, operator_ids=frozenset())
    if key is FilterKey.USAGE:
        return replace(prefs, usage=UsageChoice.INCLUDE_RESTRICTED)
    if key is FilterKey.OPERATIONAL:
        return replace(prefs, operational_only=False)
    return replace(prefs, open_data_only=False)
