"""A watch being set up in a group: the guided flow's state between button presses.

The flow (``/watch``) fills a :class:`WatchSetup` step by step (area, radius, filters, what to
announce) and turns it into a :class:`~ocm_bot.domain.watches.WatchDraft` at Save. It is kept as a
plain dict (:meth:`WatchSetup.to_dict`) in the group's chat data, so it survives a restart.

Example::

    setup = WatchSetup(chat_id=-100123, admin_id=42, message_id=7)
    setup = setup.with_area(GeoPoint(53.8, -1.54), "Leeds", "GB")
    setup = replace(setup, radius_km=5.0)
    draft = setup.draft()
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.preferences_edit import COMMON_CONNECTORS
from ocm_bot.domain.watches import ALL_ANNOUNCEMENTS, Announce, Watch, WatchDraft, WatchFilters

RADIUS_STEPS = (1, 3, 5, 10, 25, 50)
"""The radius buttons, in the group's unit (km or miles)."""
POWER_STEPS: tuple[float | None, ...] = (None, 7.0, 22.0, 50.0, 150.0)
"""The minimum power button cycles through these."""
AWAIT_PLACE_SECONDS = 5 * 60
"""How long the flow reads the asking admin's next text in the group as the place name."""


OPERATOR_CHOICES = 4
"""Operator buttons in the setup: the commonest near the area (and those already chosen)."""
MAX_DRAFTS = 10
"""Setups kept per group (one per admin's /watch; the oldest goes when an eleventh starts)."""

_CHARGER_REFERENCES = (
    re.compile(r"^#?(\d{1,9})$"),  # an OCM charger ID
    re.compile(r"openchargemap\.org/site/poi/details/(\d{1,9})\b", re.IGNORECASE),
    re.compile(r"map\.openchargemap\.io/.*[?&#]id=(\d{1,9})\b", re.IGNORECASE),
)


def charger_reference(text: str) -> int | None:
    """The OCM charger ID that ``text`` names (``12345``, ``#12345`` or an OCM page or map link), or None."""
    text = text.strip()
    for pattern in _CHARGER_REFERENCES:
        if found := pattern.search(text):
            return int(found.group(1))
    return None


class Step:
    AREA = "area"
    RADIUS = "radius"
    OPTIONS = "options"


@dataclass(frozen=True, slots=True)
class WatchSetup:
    chat_id: int
    admin_id: int
    message_id: int = 0
    watch_id: int = 0  # 0: a new watch
    step: str = Step.AREA
    since: float = 0.0  # when the flow asked for the area (a typed place is read until AWAIT_PLACE_SECONDS later)
    latitude: float | None = None
    longitude: float | None = None
    label: str = ""
    country: str | None = None
    radius_km: float | None = None
    min_power_kw: float | None = None
    connectors: frozenset[str] = frozenset()
    announce: frozenset[Announce] = ALL_ANNOUNCEMENTS
    paused: bool = False
    operators: frozenset[int] = frozenset()
    operator_choices: tuple[tuple[int, str], ...] = ()  # (OCM operator ID, name) offered as buttons
    operators_looked_up: bool = False  # the choices near the area were looked up (once per area)

    @property
    def centre(self) -> GeoPoint | None:
        if self.latitude is None or self.longitude is None:
            return None
        return GeoPoint(self.latitude, self.longitude)

    def with_area(self, point: GeoPoint, label: str, country: str | None) -> WatchSetup:
        step = Step.RADIUS if self.radius_km is None else Step.OPTIONS
        chosen = tuple(choice for choice in self.operator_choices if choice[0] in self.operators)
        return replace(
            self,
            latitude=point.latitude,
            longitude=point.longitude,
            label=label,
            country=country,
            step=step,
            operator_choices=chosen,
            operators_looked_up=False,
        )

    def with_operator_choices(self, nearby: list[tuple[int, str]]) -> WatchSetup:
        """Offer the chosen operators and the commonest ``nearby`` (most frequent first)."""
        chosen = [choice for choice in self.operator_choices if choice[0] in self.operators]
        extra = [choice for choice in nearby if choice[0] not in self.operators]
        choices = (chosen + extra)[: max(OPERATOR_CHOICES, len(chosen))]
        return replace(self, operator_choices=tuple(choices), operators_looked_up=True)

    def toggled_operator(self, operator_id: int) -> WatchSetup:
        if operator_id not in {choice[0] for choice in self.operator_choices}:
            raise ValueError(f"no operator choice {operator_id!r}")
        return replace(self, operators=self.operators ^ {operator_id})

    def toggled_connector(self, key: str) -> WatchSetup:
        if key not in {group.key for group in COMMON_CONNECTORS}:
            raise ValueError(f"no connector group {key!r}")
        return replace(self, connectors=self.connectors ^ {key})

    def toggled_announce(self, kind: Announce) -> WatchSetup:
        announce = self.announce ^ {kind}
        return replace(self, announce=announce or self.announce)  # at least one stays on

    def next_power(self) -> WatchSetup:
        index = POWER_STEPS.index(self.min_power_kw) if self.min_power_kw in POWER_STEPS else 0
        return replace(self, min_power_kw=POWER_STEPS[(index + 1) % len(POWER_STEPS)])

    def connection_type_ids(self) -> frozenset[int]:
        return frozenset(
            i for group in COMMON_CONNECTORS if group.key in self.connectors for i in group.connection_type_ids
        )

    def draft(self) -> WatchDraft:
        centre = self.centre
        if centre is None or self.radius_km is None:
            raise ValueError("the watch has no area or radius yet")
        filters = WatchFilters(
            min_power_kw=self.min_power_kw,
            connection_type_ids=self.connection_type_ids(),
            operator_ids=self.operators,
        )
        return WatchDraft(
            chat_id=self.chat_id,
            centre=centre,
            radius_km=self.radius_km,
            filters=filters,
            announce=self.announce,
            paused=self.paused,
            label=self.label,
        )

    @classmethod
    def editing(cls, watch: Watch, admin_id: int) -> WatchSetup:
        connectors = frozenset(
            group.key
            for group in COMMON_CONNECTORS
            if group.connection_type_ids and group.connection_type_ids <= watch.filters.connection_type_ids
        )
        return cls(
            chat_id=watch.chat_id,
            admin_id=admin_id,
            watch_id=watch.id,
            step=Step.OPTIONS,
            latitude=watch.centre.latitude,
            longitude=watch.centre.longitude,
            label=watch.label,
            radius_km=watch.radius_km,
            min_power_kw=watch.filters.min_power_kw,
            connectors=connectors,
            announce=watch.announce,
            paused=watch.paused,
            operators=watch.filters.operator_ids,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "chat_id": self.chat_id,
            "admin_id": self.admin_id,
            "message_id": self.message_id,
            "watch_id": self.watch_id,
            "step": self.step,
            "since": self.since,
            "lat": self.latitude,
            "lon": self.longitude,
            "label": self.label,
            "country": self.country,
            "radius_km": self.radius_km,
            "min_power_kw": self.min_power_kw,
            "connectors": sorted(self.connectors),
            "announce": sorted(a.value for a in self.announce),
            "paused": self.paused,
            "operators": sorted(self.operators),
            "operator_choices": [[operator_id, name] for operator_id, name in self.operator_choices],
            "operators_looked_up": self.operators_looked_up,
        }

    @classmethod
    def from_dict(cls, data: Any) -> WatchSetup | None:
        """The stored setup, or None when it cannot be read (a flow from an older version)."""
        try:
            return cls(
                chat_id=int(data["chat_id"]),
                admin_id=int(data["admin_id"]),
                message_id=int(data["message_id"]),
                watch_id=int(data.get("watch_id", 0)),
                step=str(data["step"]),
                since=float(data.get("since", 0.0)),
                latitude=None if data.get("lat") is None else float(data["lat"]),
                longitude=None if data.get("lon") is None else float(data["lon"]),
                label=str(data.get("label", "")),
                country=data.get("country"),
                radius_km=None if data.get("radius_km") is None else float(data["radius_km"]),
                min_power_kw=None if data.get("min_power_kw") is None else float(data["min_power_kw"]),
                connectors=frozenset(str(c) for c in data.get("connectors", ())),
                announce=frozenset(Announce(a) for a in data.get("announce", ())) or ALL_ANNOUNCEMENTS,
                paused=bool(data.get("paused", False)),
                operators=frozenset(int(o) for o in data.get("operators", ())),
                operator_choices=tuple((int(i), str(n)) for i, n in data.get("operator_choices", ())),
                operators_looked_up=bool(data.get("operators_looked_up", False)),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
