"""One copy of each small thing (issue 11, item 5), checked on the source.

The Earth's radius, the kilometres in a degree and the removed OCM statuses are each written once:
the sphere in :mod:`ocm_bot.geometry`, the status type IDs in :mod:`ocm_bot.ocm.reference`.
A second copy would drift from the first (another radius, a status added in one place only).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "ocm_bot"

# the numbers that make a sphere: the radius in km, and a degree of latitude in km
SPHERE_NUMBERS = (6371.0, 111.19)
REMOVED_STATUS_IDS = {200, 210}


def _modules(package: Path) -> dict[str, ast.Module]:
    return {str(path.relative_to(package.parent)): ast.parse(path.read_text()) for path in package.rglob("*.py")}


def sphere_constants(package: Path) -> set[str]:
    """The modules that write a number of the sphere (or a name for it) themselves."""
    found = set()
    for name, tree in _modules(package).items():
        for node in ast.walk(tree):
            number = node.value if isinstance(node, ast.Constant) else None
            if isinstance(number, float | int) and any(abs(number - sphere) < 0.01 for sphere in SPHERE_NUMBERS):
                found.add(name)
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and "EARTH_RADIUS" in t.id for t in targets):
                    found.add(name)
    return found


def removed_status_sets(package: Path) -> set[str]:
    """The modules that spell the removed statuses as a set of numbers."""
    found = set()
    for name, tree in _modules(package).items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Set):
                numbers = {e.value for e in node.elts if isinstance(e, ast.Constant)}
                if numbers >= REMOVED_STATUS_IDS:
                    found.add(name)
    return found


def test_the_sphere_is_written_once_in_the_geometry_module():
    assert sphere_constants(PACKAGE) == {"ocm_bot/geometry.py"}


def test_the_removed_statuses_are_written_once_in_the_ocm_reference_module():
    assert removed_status_sets(PACKAGE) == {"ocm_bot/ocm/reference.py"}


def test_the_scans_see_a_second_copy(tmp_path):
    package = tmp_path / "ocm_bot"
    package.mkdir()
    (package / "geometry.py").write_text("EARTH_RADIUS_KM = 6371.0\n")
    (package / "copy.py").write_text("R = 6371\nKM = 111.19\n")
    (package / "named.py").write_text("EARTH_RADIUS = R\n")
    (package / "statuses.py").write_text("GONE = frozenset({200, 210})\n")
    assert sphere_constants(package) == {"ocm_bot/geometry.py", "ocm_bot/copy.py", "ocm_bot/named.py"}
    assert removed_status_sets(package) == {"ocm_bot/statuses.py"}
