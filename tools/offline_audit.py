"""Audits the installed distributions against a local copy of the PyPA Advisory Database (OSV YAML), offline.

pip-audit asks PyPI (or api.osv.dev) for every installed version; where neither can be reached this reads
the same advisories from a directory instead — a checkout of https://github.com/pypa/advisory-database, or
its ``vulns/`` tree (``vulns/<package>/<ID>.yaml``) — and checks every distribution installed in the
running interpreter's environment::

    .venv/bin/python tools/offline_audit.py DIR     # or: ./scripts/audit --offline DIR

Each advisory's ``affected`` entries for the PyPI ecosystem count: the explicit ``versions`` list and the
``ECOSYSTEM`` ranges (``introduced`` / ``fixed`` / ``last_affected`` events, read as the OSV schema says).
``GIT`` ranges (commits, not releases) and withdrawn advisories are ignored. Names are compared after PEP 503
normalisation, versions as ``packaging`` versions (so ``1.10`` is not ``1.1``). Prints one line per finding
and a summary; exit status 1 on a finding, 2 when DIR holds no advisory.

The database only knows what was published before its date: the summary says which date that is.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

# Every scalar stays a string: YAML would read an unquoted 1.10 as the float 1.1 and a date as a datetime.
try:
    _Loader: Any = yaml.CBaseLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.BaseLoader

# Our own project is not a dependency (pip-audit's --skip-editable leaves it out too).
OWN_PROJECT = "ocm-bot"


@dataclass(frozen=True)
class Range:
    """One ECOSYSTEM range: its events in the order the advisory gives them, e.g. (("introduced", "0"), ...)."""

    events: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Affected:
    package: str  # normalised per PEP 503
    versions: tuple[str, ...]
    ranges: tuple[Range, ...]


@dataclass(frozen=True)
class Advisory:
    id: str
    aliases: tuple[str, ...]
    modified: str
    affected: tuple[Affected, ...]


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    advisory: Advisory
    fixed: str | None  # the first fixed release above the installed version, None when there is none

    def line(self) -> str:
        aliases = f" ({', '.join(self.advisory.aliases)})" if self.advisory.aliases else ""
        fix = f"fixed in {self.fixed}" if self.fixed else "no fixed release"
        return f"{self.package} {self.version}: {self.advisory.id}{aliases}, {fix}"


def _parse(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None


def advisory_files(directory: Path) -> list[Path]:
    """The advisories under ``directory``: its ``vulns/`` tree when it is a checkout, else the directory itself."""
    root = directory / "vulns" if (directory / "vulns").is_dir() else directory
    return sorted(path for path in root.rglob("*.yaml") if path.is_file())


def read_advisory(text: str) -> Advisory | None:
    """The advisory in one OSV YAML document; None when it is withdrawn or names no PyPI package."""
    data = yaml.load(text, Loader=_Loader)
    if not isinstance(data, dict) or data.get("withdrawn"):
        return None
    affected = []
    for entry in data.get("affected") or ():
        package = entry.get("package") or {}
        if package.get("ecosystem") != "PyPI" or not package.get("name"):
            continue
        ranges = tuple(
            Range(tuple((kind, value) for event in r.get("events") or () for kind, value in event.items()))
            for r in entry.get("ranges") or ()
            if r.get("type") == "ECOSYSTEM"
        )
        affected.append(Affected(canonicalize_name(package["name"]), tuple(entry.get("versions") or ()), ranges))
    if not affected:
        return None
    return Advisory(
        id=str(data.get("id", "?")),
        aliases=tuple(data.get("aliases") or ()),
        modified=str(data.get("modified", "")),
        affected=tuple(affected),
    )


def read_advisories(directory: Path) -> tuple[list[Advisory], int]:
    """(the advisories in force, the number of advisory files read, withdrawn ones included)."""
    files = advisory_files(directory)
    advisories = [a for a in (read_advisory(path.read_text(encoding="utf-8")) for path in files) if a is not None]
    return advisories, len(files)


def _in_range(version: Version, events: tuple[tuple[str, str], ...]) -> tuple[bool, str | None]:
    """(whether ``version`` lies in the range, the first ``fixed`` release above it), per the OSV schema."""
    parsed: list[tuple[str, str, Version]] = []
    for kind, value in events:
        if kind == "introduced" and value == "0":
            parsed.append((kind, value, Version("0")))
        elif kind in ("introduced", "fixed", "last_affected") and (bound := _parse(value)) is not None:
            parsed.append((kind, value, bound))
    # Sorted by version; at the same version an introduction comes before the fix that ends it.
    parsed.sort(key=lambda event: (event[2], event[0] != "introduced"))
    affected = False
    for kind, _value, bound in parsed:
        if kind == "introduced" and version >= bound:
            affected = True
        elif (kind == "fixed" and version >= bound) or (kind == "last_affected" and version > bound):
            affected = False
    fixed = next((value for kind, value, bound in parsed if kind == "fixed" and bound > version), None)
    return affected, fixed


def affects(entry: Affected, version: str) -> tuple[bool, str | None]:
    """(whether ``entry`` covers ``version``, the release that fixes it when the advisory names one)."""
    installed = _parse(version)
    ranges = [_in_range(installed, r.events) for r in entry.ranges] if installed is not None else []
    listed = any(v == version or (installed is not None and _parse(v) == installed) for v in entry.versions)
    if not listed and not any(in_range for in_range, _fixed in ranges):
        return False, None
    # The fix of the range the version lies in; for a version only listed, any fix above it.
    fixes = [fixed for in_range, fixed in ranges if in_range and fixed] or [fixed for _, fixed in ranges if fixed]
    return True, min(fixes, key=Version) if fixes else None


def audit(installed: Iterable[tuple[str, str]], advisories: Iterable[Advisory]) -> list[Finding]:
    """Every (package, version) pair that an advisory covers, in package order."""
    by_package: dict[str, list[tuple[Advisory, Affected]]] = {}
    for advisory in advisories:
        for entry in advisory.affected:
            by_package.setdefault(entry.package, []).append((advisory, entry))
    findings = []
    for name, version in sorted(installed, key=lambda pair: canonicalize_name(pair[0])):
        seen = set()
        for advisory, entry in by_package.get(canonicalize_name(name), ()):
            hit, fixed = affects(entry, version)
            if hit and advisory.id not in seen:
                seen.add(advisory.id)
                findings.append(Finding(name, version, advisory, fixed))
    return findings


def installed_distributions() -> Iterator[tuple[str, str]]:
    """(name, version) of every distribution of this interpreter's environment, once each, not ocm-bot."""
    seen = set()
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"]
        if not name or canonicalize_name(name) in seen or canonicalize_name(name) == OWN_PROJECT:
            continue
        seen.add(canonicalize_name(name))
        yield name, distribution.version


def database_date(directory: Path, advisories: Iterable[Advisory]) -> str:
    """The date of the database: its last commit when ``directory`` is a git checkout, else the newest ``modified``."""
    try:
        answer = subprocess.run(
            ["git", "-C", str(directory), "log", "-1", "--format=%cI", "--", "."],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        answer = None
    if answer is not None and answer.returncode == 0 and answer.stdout.strip():
        return f"{answer.stdout.strip()[:10]} (last commit)"
    newest = max((a.modified for a in advisories if a.modified), default="")
    return f"{newest[:10]} (newest 'modified')" if newest else "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("directory", type=Path, help="a PyPA Advisory Database checkout, or its vulns/ tree")
    args = parser.parse_args(argv)
    advisories, files = read_advisories(args.directory)
    if files == 0:
        print(f"offline audit FAILED: no advisory (*.yaml) under {args.directory}", file=sys.stderr)
        return 2
    installed = list(installed_distributions())
    findings = audit(installed, advisories)
    for finding in findings:
        print(finding.line())
    print(
        f"offline audit: {len(findings)} known vulnerabilit{'y' if len(findings) == 1 else 'ies'} in"
        f" {len(installed)} installed packages, checked against {files} advisories"
        f" ({files - len(advisories)} withdrawn or not for PyPI) from {args.directory},"
        f" database of {database_date(args.directory, advisories)}:"
        " advisories published after that date are not known to it"
    )
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
