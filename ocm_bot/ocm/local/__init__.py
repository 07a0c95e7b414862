"""A :class:`~ocm_bot.ocm.source.ChargerSource` over a local copy of Open Charge Map's data.

OCM asks heavy users to host their own copy rather than query the API hard; ``OCM_DATA_FILE``
selects this source instead of the API client, and the offline demo runs on the copy bundled with
the bot. It reads a JSON array of POIs (what ``GET /poi`` answers), JSON lines, or a folder of such
files (the layout of OCM's public export, https://github.com/openchargemap/ocm-export), any of them
gzip-compressed, and answers :class:`~ocm_bot.ocm.query.PoiQuery` with OCM's own semantics. The
data is reloaded when the files change. Check-ins are not part of this source: they still go to the
OCM API (``OCM_API_URL``) or to the outbox when it is unreachable.

The modules, from the file to the answer:

- :mod:`.readers`: every POI-like JSON value of a dump file (arrays, JSON lines, one-POI files,
  GeoJSON, ``{"data": [...]}`` wrappers, gzip, byte-order marks, Latin-1), and where its text is;
  :mod:`.problems`: the warnings about what reading skipped, named by file and line;
- :mod:`.rows`: the few fields of a POI that queries filter on (an index row, an :class:`Entry`);
- :mod:`.index`: the immutable snapshot (by ID, date, country; chargers parsed on first use),
  :mod:`.grid`: the spatial grid inside it (distances from :mod:`ocm_bot.geometry`);
- :mod:`.loader`: from a path to an index (reference data, signature), :mod:`.parallel`: the same
  on several cores for large dumps;
- :mod:`.filters`: which entries answer a query, in OCM's order;
- :mod:`.reload`: the hot reload with its atomic swap;
- :mod:`.source`: :class:`LocalSource`, the façade the bot uses.

Example::

    source = await LocalSource.open(Path("ocm-export/data"))
    chargers = await source.search(PoiQuery(latitude=51.52, longitude=-0.03, distance=2, maxresults=20))
    await source.aclose()
"""

from __future__ import annotations

from ocm_bot.ocm.local.readers import LocalDataError
from ocm_bot.ocm.local.source import LocalSource

__all__ = ["LocalDataError", "LocalSource"]
