"""requirements.txt (what Procfile platforms and the Docker image install) agrees with pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)(?:\[(?P<extras>[^\]]*)\])?==(?P<version>\S+)\s+# via (?P<via>.+)$")


def disagreements(pyproject: str, requirements: str) -> list[str]:
    """Every way requirements.txt fails pyproject.toml's runtime dependencies (empty when they agree)."""
    direct = {
        canonicalize_name(r.name): r for r in map(Requirement, tomllib.loads(pyproject)["project"]["dependencies"])
    }
    pins: dict[str, re.Match[str]] = {}
    problems = []
    lines = [line for line in requirements.splitlines() if line.strip() and not line.startswith("#")]
    if not lines or lines[-1] != ".":
        problems.append("the last line is not '.': the platform would not install the ocm-bot command itself")
    for line in lines[:-1]:
        match = PIN.match(line)
        if match is None:
            problems.append(f"not pinned as name==version  # via ...: {line}")
            continue
        pins[canonicalize_name(match["name"])] = match
    for name, requirement in direct.items():
        pin = pins.get(name)
        if pin is None:
            problems.append(f"{requirement} is in pyproject.toml but not in requirements.txt")
            continue
        if pin["version"] not in requirement.specifier:
            problems.append(f"{name}=={pin['version']} does not satisfy pyproject.toml's {requirement}")
        extras = set(filter(None, (pin["extras"] or "").split(",")))
        if extras != set(requirement.extras):
            problems.append(
                f"{name} has extras {sorted(extras)} in requirements.txt,"
                f" {sorted(requirement.extras)} in pyproject.toml"
            )
    for name, pin in pins.items():
        parents = {canonicalize_name(parent.strip()) for parent in pin["via"].split(",")}
        if name in direct and "pyproject-toml" not in parents:
            problems.append(f"{name} is a direct dependency but not marked 'via pyproject.toml'")
        if name not in direct and not parents & set(pins):
            problems.append(f"{name} is required by nothing in requirements.txt ({pin['via']}): a leftover")
    return problems


def test_requirements_txt_pins_every_dependency_of_pyproject_within_its_bounds():
    problems = disagreements((ROOT / "pyproject.toml").read_text(), (ROOT / "requirements.txt").read_text())
    assert problems == [], "\n".join([*problems, "run: .venv/bin/python scripts/pin-requirements"])


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda deps: [*deps, "shapely>=2"], "shapely>=2 is in pyproject.toml but not"),
        (lambda deps: [d.replace("httpx>=0.27,<1", "httpx>=0.29,<1") for d in deps], "does not satisfy"),
        (lambda deps: [d for d in deps if not d.startswith("polyline")], "polyline is required by nothing"),
        (
            lambda deps: [d.replace("[job-queue,webhooks,rate-limiter]", "[job-queue]") for d in deps],
            "python-telegram-bot has extras",
        ),
    ],
    ids=["a-new-dependency", "a-raised-lower-bound", "a-removed-dependency", "fewer-extras"],
)
def test_a_change_to_pyproject_without_a_new_requirements_txt_is_caught(change, expected):
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    dependencies = change(pyproject["project"]["dependencies"])
    changed = "[project]\ndependencies = [" + ", ".join(f'"{d}"' for d in dependencies) + "]\n"
    problems = disagreements(changed, (ROOT / "requirements.txt").read_text())
    assert any(expected in problem for problem in problems), problems
