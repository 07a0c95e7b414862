"""The interface shared by the OCM API client and the local OCM data source.

The domain depends on this protocol only, so a search runs the same way against
api.openchargemap.io, an operator's own OCM instance, or a local dump (``OCM_DATA_FILE``).
"""

from __future__ import annotations

from typing import Protocol

from ocm_bot.ocm.models import Charger
from ocm_bot.ocm.query import PoiQuery
from ocm_bot.ocm.reference import ReferenceData


class ChargerSource(Protocol):
    async def search(self, query: PoiQuery) -> list[Charger]:
        """Chargers matching ``query`` (nearest first when it has a point)."""
        ...

    async def get_chargers(self, ids: list[int], *, include_comments: bool = False) -> list[Charger]:
        """Chargers by OCM ID, in the order asked; unknown IDs are left out."""
        ...

    async def reference_data(self) -> ReferenceData:
        """The current reference data (cached; never None once started)."""
        ...
