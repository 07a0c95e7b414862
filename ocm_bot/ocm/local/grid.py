"""The spatial grid: index entries in cells of ``cell_degrees``, and the walks that find them.

Points sit in a grid of ``cell_degrees`` cells (row 0 at the South Pole, column 0 at 180° W; a
cell's key is ``row * cols + col``; longitude wraps, rows stop at the poles). A nearest query walks
rings of cells outwards and stops when no unvisited cell can hold anything nearer than what it has
(a bound from the haversine formula); a box, a polygon or a route visits the cells that overlap it,
and the caller checks each point exactly.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Iterable, Iterator

from ocm_bot.geometry import KM_PER_DEGREE, hav, hav_of_km, segment_distance_km
from ocm_bot.ocm.local.rows import Entry

# A nearest query whose cell holds more entries than this is answered from a finer grid: in a dense
# city (50,000 chargers within 50 km) the 0.1° cells around the query hold thousands of chargers,
# each measured (about 13 ms at the 99th percentile); cells 12 times smaller hold a few dozen
# (bench/bench_local_source.py: about 0.5 ms).
DENSE_CELL = 64
FINE_FACTOR = 12


class Grid:
    """Entries by cell, for queries by place.

    Example::

        grid = Grid(entries, cell_degrees=0.1)
        grid.nearest(51.52, -0.03, radius_km=5, limit=20, matches=lambda entry: True)
    """

    def __init__(self, entries: Iterable[Entry], cell_degrees: float, *, fine_factor: int = FINE_FACTOR) -> None:
        self.cell_degrees = cell_degrees
        self.rows = math.ceil(180 / cell_degrees)
        self.cols = math.ceil(360 / cell_degrees)
        self.cells: dict[int, list[Entry]] = {}
        entries = entries if isinstance(entries, list) else list(entries)
        cells, cell_of = self.cells, self.cell_of
        for entry in entries:
            cells.setdefault(cell_of(entry.lat, entry.lon), []).append(entry)
        # Only data with a dense place gets the finer grid (the same entries, smaller cells).
        self.fine: Grid | None = None
        if fine_factor > 1 and any(len(cell) > DENSE_CELL for cell in cells.values()):
            self.fine = Grid(entries, cell_degrees / fine_factor, fine_factor=1)

    def row_col(self, lat: float, lon: float) -> tuple[int, int]:
        row = min(int((lat + 90) / self.cell_degrees), self.rows - 1)
        col = int((lon + 180) / self.cell_degrees) % self.cols
        return row, col

    def cell_of(self, lat: float, lon: float) -> int:
        row, col = self.row_col(lat, lon)
        return row * self.cols + col

    def nearest(
        self, lat: float, lon: float, radius_km: float, limit: int, matches: Callable[[Entry], bool]
    ) -> list[Entry]:
        """The ``limit`` nearest matching entries within ``radius_km``, nearest first (ties by ID)."""
        if self.fine is not None and len(self.cells.get(self.cell_of(lat, lon), ())) > DENSE_CELL:
            return self.fine.nearest(lat, lon, radius_km, limit, matches)
        qlat, qlon = math.radians(lat), math.radians(lon)
        qcos = math.cos(qlat)
        sin = math.sin
        radius_hav = hav_of_km(radius_km)
        best: list[tuple[float, int, Entry]] = []  # a max-heap on distance: (-hav, -id, entry)
        rows, cols, cells, size = self.rows, self.cols, self.cells, self.cell_degrees
        row0, col0 = self.row_col(lat, lon)

        def consider(cell: list[Entry]) -> None:
            for entry in cell:
                h = sin((entry.rlat - qlat) * 0.5) ** 2 + qcos * entry.coslat * sin((entry.rlon - qlon) * 0.5) ** 2
                if h > radius_hav:
                    continue
                if len(best) < limit:
                    if matches(entry):
                        heapq.heappush(best, (-h, -entry.id, entry))
                elif (h < -best[0][0] or (h == -best[0][0] and entry.id < -best[0][1])) and matches(entry):
                    heapq.heapreplace(best, (-h, -entry.id, entry))

        ring_limit = (cols - 1) // 2
        ring = 0
        while ring <= ring_limit:
            bound = _ring_bound(lat, lon, qcos, row0, col0, ring, size, rows, cols)
            if bound > radius_hav or (len(best) >= limit and bound > -best[0][0]):
                break
            if (2 * ring + 1) ** 2 > 4 * len(cells):
                self._consider_far_cells(row0, col0, ring, consider)  # cheaper than walking empty rings
                break
            for key in _ring_cells(row0, col0, ring, rows, cols):
                cell = cells.get(key)
                if cell is not None:
                    consider(cell)
            ring += 1
        return [entry for _, _, entry in sorted(best, key=lambda item: (-item[0], -item[1]))]

    def _consider_far_cells(self, row0: int, col0: int, ring: int, consider: Callable[[list[Entry]], None]) -> None:
        cols = self.cols
        for key, cell in self.cells.items():
            row, col = divmod(key, cols)
            dcol = abs(col - col0)
            if max(abs(row - row0), min(dcol, cols - dcol)) >= ring:
                consider(cell)

    def in_box(self, north: float, west: float, south: float, east: float) -> Iterator[Entry]:
        """Entries in the cells that overlap a box (the caller checks each point exactly)."""
        row_south, col_west = self.row_col(max(south, -90), max(west, -180))
        row_north, col_east = self.row_col(min(north, 90), min(east, 180 - 1e-9))
        cols = self.cols
        if col_east < col_west:
            col_east += cols
        count = (row_north - row_south + 1) * (col_east - col_west + 1)
        if count > len(self.cells):
            for key, cell in self.cells.items():
                row, col = divmod(key, cols)
                if row_south <= row <= row_north and (
                    col_west <= col <= col_east or col_west <= col + cols <= col_east
                ):
                    yield from cell
            return
        for row in range(row_south, row_north + 1):
            for col in range(col_west, col_east + 1):
                found = self.cells.get(row * cols + col % cols)
                if found is not None:
                    yield from found

    def near_polyline(self, points: tuple[tuple[float, float], ...], distance_km: float) -> Iterator[Entry]:
        """Entries within ``distance_km`` of a route, each once."""
        seen: set[int] = set()
        lat_margin = distance_km / KM_PER_DEGREE
        for start, end in itertools.pairwise(points):
            north = min(90.0, max(start[0], end[0]) + lat_margin)
            south = max(-90.0, min(start[0], end[0]) - lat_margin)
            widest = max(abs(north), abs(south))
            lon_margin = 180.0 if widest >= 89.9 else lat_margin / math.cos(math.radians(widest))
            west, east = min(start[1], end[1]) - lon_margin, max(start[1], end[1]) + lon_margin
            for entry in self.in_box(north, max(west, -180), south, min(east, 180)):
                if entry.id not in seen and segment_distance_km(entry.lat, entry.lon, start, end) <= distance_km:
                    seen.add(entry.id)
                    yield entry


def _ring_cells(row0: int, col0: int, ring: int, rows: int, cols: int) -> Iterator[int]:
    """Keys of the cells at Chebyshev distance ``ring`` (longitude wraps; rows stop at the poles)."""
    if ring == 0:
        yield row0 * cols + col0
        return
    for row in (row0 - ring, row0 + ring):
        if 0 <= row < rows:
            base = row * cols
            for col in range(col0 - ring, col0 + ring + 1):
                yield base + col % cols
    left, right = (col0 - ring) % cols, (col0 + ring) % cols
    for row in range(max(row0 - ring + 1, 0), min(row0 + ring, rows)):
        yield row * cols + left
        yield row * cols + right


def _ring_bound(
    lat: float, lon: float, qcos: float, row0: int, col0: int, ring: int, size: float, rows: int, cols: int
) -> float:
    """A lower bound (in haversine units) on the distance to any point in rings ``ring`` and beyond.

    A point outside the block of inner rings is beyond its north or south edge (at least that
    latitude gap away), or beside it within its latitudes, where hav(d) >= cos(lat) cos(L) hav(dlon)
    for L the block's latitude farthest from the equator.
    """
    if ring == 0:
        return 0.0
    south = (row0 - ring + 1) * size - 90
    north = (row0 + ring) * size - 90
    gaps = []
    if south > -90:
        gaps.append(hav(math.radians(lat - south)))
    if north < 90:
        gaps.append(hav(math.radians(north - lat)))
    if 2 * ring - 1 < cols:
        west = (col0 - ring + 1) * size - 180
        east = (col0 + ring) * size - 180
        dlon = math.radians(min(lon - west, east - lon))
        farthest = min(90.0, max(abs(max(south, -90)), abs(min(north, 90))))
        gaps.append(qcos * math.cos(math.radians(farthest)) * hav(min(dlon, math.pi)))
    return min(gaps) if gaps else math.inf
