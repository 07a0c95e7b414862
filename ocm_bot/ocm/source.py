"""The interface shared by the OCM API client and the local OCM data source.

The domain depends on this protocol only, so a search runs the same way against
api.openchargemap.io, an operator's own OCM instance, or a local dump (``OCM_DATA_FILE``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from ocm_bot.ocm.models import Charger
from ocm_bot.ocm.query import PoiQuery
from ocm_bot.ocm.reference import ReferenceData


class SearchAnswer(list[Charger]):
    """What a search returned, and whether it can prove what lies within its radius.

    A source may return a plain list; :meth:`ChargerSource.search` of the OCM client returns this:

    - ``returned``: how many POIs OCM sent, counting those that could not be read. An answer that
      reached ``maxresults`` was cut there, however many of its records were usable.
    - ``may_be_partial``: OCM's answer is no proof of what it holds (an empty ``200 []`` or a
      shorter list while its cache rebuilds): never take it as "these are all the chargers here".

    Example::

        answer = SearchAnswer(chargers, returned=40)
        cut = answer.returned >= query.maxresults
    """

    def __init__(self, chargers: Iterable[Charger] = (), *, returned: int | None = None, may_be_partial: bool = False):
        super().__init__(chargers)
        self.returned = len(self) if returned is None else max(returned, len(self))
        self.may_be_partial = may_be_partial


def returned_count(chargers: list[Charger]) -> int:
    """How many POIs the source sent for ``chargers`` (usable or not)."""
    return chargers.returned if isinstance(chargers, SearchAnswer) else len(chargers)


def may_be_partial(chargers: list[Charger]) -> bool:
    return isinstance(chargers, SearchAnswer) and chargers.may_be_partial


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


@runtime_checkable
class CachedChargerSource(ChargerSource, Protocol):
    """A source with the search cache in front (:class:`~ocm_bot.ocm.cached_source.CachingSource`, the OCM client).

    ``search(query, enough=k)`` may answer with only the ``k`` (or more) nearest chargers an earlier
    answer proves, cut there (``returned`` says so), instead of asking again.
    """

    async def search(self, query: PoiQuery, *, enough: int | None = None) -> list[Charger]: ...

    def forget_charger(self, charger_id: int) -> None:
        """Ask the source again next time for ``charger_id``."""
        ...
