"""The warnings about a dump's broken parts: what reading skipped or guessed, named by file and line.

A dump is whatever an operator had at hand, so reading it is lenient and says what it did; the
readers, the loader and the worker processes report here, and the loader logs it once.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__package__)  # the package's name, as when the local source was one module


Origin = tuple[str, int | str]
"""The file and the line (or "byte N") a POI was read from, to name it in a warning."""


class Problems:
    """What reading a dump skipped or guessed: the first few named (file and line), the rest counted.

    A dump of OCM's whole world may hold thousands of odd records; the operator needs to know
    that and where to look, not thousands of log lines.
    """

    SHOWN = 20

    def __init__(self) -> None:
        self.shown: list[str] = []
        self.count = 0

    def add(self, message: str) -> None:
        self.count += 1
        if len(self.shown) < self.SHOWN:
            self.shown.append(message)

    def not_a_poi(self, origin: Origin) -> None:
        self.add(f"{label(origin)}: not an OCM POI with an ID and usable coordinates; skipped")

    def merge(self, shown: list[str], count: int) -> None:
        for message in shown:
            self.add(message)
        self.count += count - len(shown)

    def log(self) -> None:
        for message in self.shown:
            log.warning("local OCM data: %s", message)
        if self.count > len(self.shown):
            log.warning("local OCM data: %d more problems like these", self.count - len(self.shown))


def label(origin: Origin) -> str:
    path, position = origin
    return f"{path} line {position}" if isinstance(position, int) else f"{path} {position}"
