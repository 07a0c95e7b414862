"""A typed query for OCM's ``GET /poi``.

Field names follow OCM's parameters (https://openchargemap.org/site/develop/api).
Lists become comma-separated values; :meth:`PoiQuery.to_params` renders the query string.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class OutputFormat(enum.StrEnum):
    JSON = "json"
    GEOJSON = "geojson"
    XML = "xml"
    CSV = "csv"
    KML = "kml"


class SortBy(enum.StrEnum):
    CREATED_ASC = "created_asc"
    MODIFIED_ASC = "modified_asc"
    ID_ASC = "id_asc"


@dataclass(frozen=True, slots=True)
class PoiQuery:
    """What to ask ``GET /poi`` for. Construction validates; invalid values raise ValueError.

    Example::

        PoiQuery(latitude=45.5122, longitude=-122.6587, distance=10, maxresults=50,
                 connectiontypeid=(33, 25), minpowerkw=50)
    """

    output: OutputFormat = OutputFormat.JSON
    maxresults: int | None = None
    countrycode: tuple[str, ...] = ()
    countryid: tuple[int, ...] = ()
    latitude: float | None = None
    longitude: float | None = None
    distance: float | None = None
    distance_in_miles: bool = False
    operatorid: tuple[int, ...] = ()
    connectiontypeid: tuple[int, ...] = ()
    levelid: tuple[int, ...] = ()
    minpowerkw: float | None = None
    maxpowerkw: float | None = None
    usagetypeid: tuple[int, ...] = ()
    statustypeid: tuple[int, ...] = ()
    dataproviderid: tuple[int, ...] = ()
    modifiedsince: datetime | None = None
    opendata: bool | None = None
    includecomments: bool = False
    verbose: bool = False
    compact: bool = True
    camelcase: bool = False
    callback: str | None = None
    chargepointid: tuple[int, ...] = ()
    boundingbox: tuple[tuple[float, float], tuple[float, float]] | None = None
    polygon: tuple[tuple[float, float], ...] = ()
    polyline: tuple[tuple[float, float], ...] = ()
    sortby: SortBy | None = None
    greaterthanid: int | None = None
