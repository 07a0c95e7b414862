"""Writes a measured section into docs/reliability.md (used by fault_matrix, crash_runs and load).

A section runs from its ``## heading`` to the next ``## `` heading; it is replaced in place, or
appended at the end when the file has none yet.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "reliability.md"


def machine() -> str:
    """The machine a figure was measured on, in one line."""
    cores = os.cpu_count() or 0
    memory = ""
    with contextlib.suppress(OSError, StopIteration, ValueError, IndexError):
        lines = Path("/proc/meminfo").read_text().splitlines()
        kib = int(next(line for line in lines if line.startswith("MemTotal")).split()[1])
        memory = f", {round(kib / 1024 / 1024)} GiB"
    load = ""
    with contextlib.suppress(OSError):
        load = f", load average {os.getloadavg()[0]:.1f} at the start"
    return f"{cores} cores{memory}; {platform.system()} {platform.release()}, Python {platform.python_version()}{load}"


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True, cwd=DOC.parent
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write_section(heading: str, body: str, doc: Path = DOC) -> None:
    """Replace (or append) ``## heading`` with ``body``."""
    text = doc.read_text(encoding="utf-8")
    section = f"## {heading}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    doc.write_text(text, encoding="utf-8")
