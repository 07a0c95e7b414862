"""The shared sample POIs as parsed chargers, and an in-memory ChargerSource over them.

``SampleSource`` answers ``search`` the way OCM does for the parameters the search uses
(distance, minpowerkw, connectiontypeid, operatorid, levelid, opendata, maxresults, nearest
first) and records every query, so domain tests can count OCM requests without the HTTP fake.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from ocm_bot.domain.geo import GeoPoint
from ocm_bot.ocm.models import Charger
from ocm_bot.ocm.parse import parse_pois
from ocm_bot.ocm.query import PoiQuery
from ocm_bot.ocm.reference import ReferenceData
from tests.fakes.ocm import haversine_km  # OCM's own distance (radius 6371 km), not the bot's

SHARED = Path(__file__).resolve().parents[3] / "shared"
PORTLAND = GeoPoint(45.5122, -122.6587)


@cache
def reference() -> ReferenceData:
    return ReferenceData.from_json(json.loads((SHARED / "ocm" / "referencedata.json").read_text()))


@cache
def sample_chargers() -> tuple[Charger, ...]:
    payload = json.loads((SHARED / "ocm" / "poi-samples.json").read_text())
    return tuple(parse_pois(payload, reference()))


def by_id(charger_id: int) -> Charger:
    return next(c for c in sample_chargers() if c.id == charger_id)


class SampleSource:
    """A ChargerSource over the sample POIs, recording the queries it is asked."""

    def __init__(self, chargers: tuple[Charger, ...] | None = None) -> None:
        self.chargers = chargers if chargers is not None else sample_chargers()
        self.queries: list[PoiQuery] = []
        self.lookups: list[tuple[list[int], bool]] = []

    async def search(self, query: PoiQuery) -> list[Charger]:
        self.queries.append(query)
        assert query.latitude is not None and query.longitude is not None
        here = GeoPoint(query.latitude, query.longitude)
        found = []
        for charger in self.chargers:
            distance = haversine_km(here.latitude, here.longitude, charger.latitude, charger.longitude)
            if query.radius_km is not None and distance > query.radius_km:
                continue
            if not _ocm_matches(charger, query):
                continue
            found.append((distance, charger))
        found.sort(key=lambda pair: pair[0])
        return [charger for _, charger in found][: query.maxresults or 100]

    async def get_chargers(self, ids: list[int], *, include_comments: bool = False) -> list[Charger]:
        self.lookups.append((list(ids), include_comments))
        known = {c.id: c for c in self.chargers}
        return [known[i] for i in ids if i in known]

    async def reference_data(self) -> ReferenceData:
        return reference()


def _ocm_matches(charger: Charger, query: PoiQuery) -> bool:
    """OCM's own semantics: each parameter is met by any connection, independently."""
    connections = charger.connections
    if query.minpowerkw is not None and not any((c.power_kw or 0) >= query.minpowerkw for c in connections):
        return False
    if query.connectiontypeid and not any(
        c.connection_type and c.connection_type.id in query.connectiontypeid for c in connections
    ):
        return False
    if query.levelid and not any(c.level and c.level.id in query.levelid for c in connections):
        return False
    if query.operatorid and not (charger.operator and charger.operator.id in query.operatorid):
        return False
    return not (query.opendata and not (charger.data_provider and charger.data_provider.is_open_data_licensed))
