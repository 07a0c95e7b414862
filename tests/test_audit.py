"""The offline dependency audit (./scripts/audit --offline DIR, tools/offline_audit.py) against advisory files
written here in the PyPA Advisory Database's format (OSV YAML, vulns/<package>/<ID>.yaml)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("offline_audit", ROOT / "tools" / "offline_audit.py")
assert _spec is not None and _spec.loader is not None
offline_audit = importlib.util.module_from_spec(_spec)
sys.modules["offline_audit"] = offline_audit
_spec.loader.exec_module(offline_audit)

# As the database writes them: versions unquoted where YAML would take them for numbers (1.10 is not 1.1),
# a GIT range next to the ECOSYSTEM one, an unquoted `modified` timestamp.
ADVISORIES = {
    "vulns/examplelib/PYSEC-2099-1.yaml": """\
id: PYSEC-2099-1
details: A range with a fix.
affected:
- package:
    name: examplelib
    ecosystem: PyPI
    purl: pkg:pypi/examplelib
  ranges:
  - type: GIT
    repo: https://example.org/examplelib
    events:
    - introduced: "0"
    - fixed: 0123456789abcdef0123456789abcdef01234567
  - type: ECOSYSTEM
    events:
    - introduced: 1.2.0
    - fixed: 1.10
aliases:
- CVE-2099-0001
- GHSA-aaaa-bbbb-cccc
modified: 2099-01-02T03:04:05.000000Z
published: "2099-01-01T00:00:00Z"
""",
    "vulns/lastlib/PYSEC-2099-2.yaml": """\
id: PYSEC-2099-2
details: No fix, only the last affected release.
affected:
- package:
    name: lastlib
    ecosystem: PyPI
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: "0"
    - last_affected: 2.4.0
modified: "2099-02-01T00:00:00Z"
""",
    "vulns/listedlib/PYSEC-2099-3.yaml": """\
id: PYSEC-2099-3
details: Only an explicit list of versions.
affected:
- package:
    name: listedlib
    ecosystem: PyPI
  versions:
  - 0.9.0
  - "1.2"
modified: "2099-03-01T00:00:00Z"
""",
    "vulns/gonelib/PYSEC-2099-4.yaml": """\
id: PYSEC-2099-4
details: Withdrawn.
withdrawn: "2099-04-02T00:00:00Z"
affected:
- package:
    name: gonelib
    ecosystem: PyPI
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: "0"
modified: "2099-04-02T00:00:00Z"
""",
    "vulns/python-dotenv/PYSEC-2099-5.yaml": """\
id: PYSEC-2099-5
details: Under its normalised name.
affected:
- package:
    name: python-dotenv
    ecosystem: PyPI
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: "0"
    - fixed: 0.19.0
aliases:
- CVE-2099-0005
modified: "2099-05-01T00:00:00Z"
""",
    "vulns/gitonlylib/PYSEC-2099-6.yaml": """\
id: PYSEC-2099-6
details: Only commits, no release range.
affected:
- package:
    name: gitonlylib
    ecosystem: PyPI
  ranges:
  - type: GIT
    repo: https://example.org/gitonlylib
    events:
    - introduced: "0"
    - fixed: 0123456789abcdef0123456789abcdef01234567
modified: "2099-06-01T00:00:00Z"
""",
}


def write_database(directory: Path, advisories: dict[str, str]) -> Path:
    for name, text in advisories.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)
    return directory


def lines(installed: list[tuple[str, str]], directory: Path) -> list[str]:
    advisories, _files = offline_audit.read_advisories(directory)
    return [finding.line() for finding in offline_audit.audit(installed, advisories)]


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return write_database(tmp_path / "advisory-database", ADVISORIES)


def test_a_vulnerable_version_is_found_with_its_aliases_and_fix_and_the_fixed_one_is_not(database: Path):
    assert lines([("examplelib", "1.9.3")], database) == [
        "examplelib 1.9.3: PYSEC-2099-1 (CVE-2099-0001, GHSA-aaaa-bbbb-cccc), fixed in 1.10"
    ]
    # 1.10 is the fix (not the number 1.1), and before 1.2.0 the flaw was not there yet.
    assert lines([("examplelib", "1.10")], database) == []
    assert lines([("examplelib", "1.10.0"), ("examplelib", "1.1.5"), ("examplelib", "2.0")], database) == []


def test_a_range_with_last_affected_covers_that_release_and_not_the_next(database: Path):
    assert lines([("lastlib", "2.4.0"), ("lastlib", "1.0")], database) == [
        "lastlib 2.4.0: PYSEC-2099-2, no fixed release",
        "lastlib 1.0: PYSEC-2099-2, no fixed release",
    ]
    assert lines([("lastlib", "2.4.1")], database) == []


def test_an_explicit_versions_list_covers_exactly_those_versions(database: Path):
    assert lines([("listedlib", "1.2.0")], database) == ["listedlib 1.2.0: PYSEC-2099-3, no fixed release"]
    assert lines([("listedlib", "1.1.0"), ("listedlib", "1.0")], database) == []


def test_withdrawn_advisories_and_git_only_ranges_are_ignored(database: Path):
    assert lines([("gonelib", "1.0.0"), ("gitonlylib", "1.0.0")], database) == []


def test_names_are_compared_normalised(database: Path):
    assert lines([("Python_Dotenv", "0.10.1")], database) == [
        "Python_Dotenv 0.10.1: PYSEC-2099-5 (CVE-2099-0005), fixed in 0.19.0"
    ]


def audit_command(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "scripts" / "audit"), "--offline", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull},
    )


def test_the_command_fails_on_an_installed_vulnerable_package_and_names_the_database_date(tmp_path: Path):
    """./scripts/audit --offline over this environment: an advisory for the installed httpx is a finding."""
    installed = metadata.version("httpx")
    advisory = ADVISORIES["vulns/examplelib/PYSEC-2099-1.yaml"].replace("examplelib", "httpx")
    advisory = advisory.replace("introduced: 1.2.0", "introduced: '0'").replace("fixed: 1.10", "fixed: 9999")
    database = write_database(tmp_path, {**ADVISORIES, "vulns/httpx/PYSEC-2099-1.yaml": advisory})
    (database / "vulns" / "examplelib" / "PYSEC-2099-1.yaml").unlink()

    answer = audit_command(database)

    assert answer.returncode == 1, answer.stderr
    output = answer.stdout.splitlines()
    assert output[0] == f"httpx {installed}: PYSEC-2099-1 (CVE-2099-0001, GHSA-aaaa-bbbb-cccc), fixed in 9999"
    packages = sum(1 for _ in offline_audit.installed_distributions())
    assert output[-1] == (
        f"offline audit: 1 known vulnerability in {packages} installed packages, checked against 6 advisories"
        f" (1 withdrawn or not for PyPI) from {database}, database of 2099-06-01 (newest 'modified'):"
        " advisories published after that date are not known to it"
    )


def test_the_command_passes_a_clean_environment_and_dates_a_checkout_by_its_last_commit(database: Path):
    git = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_DATE": "2024-10-10T17:35:05+00:00"}
    git |= {"GIT_COMMITTER_DATE": "2024-10-10T17:35:05+00:00", "HOME": str(database)}
    for command in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
        subprocess.run(["git", "-C", str(database), *command], check=True, env={**os.environ, **git})

    answer = audit_command(database)

    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert answer.stdout.startswith("offline audit: 0 known vulnerabilities in ")
    assert "checked against 6 advisories (1 withdrawn or not for PyPI)" in answer.stdout
    assert "database of 2024-10-10 (last commit)" in answer.stdout


def test_a_directory_without_advisories_is_an_error_not_a_pass(tmp_path: Path):
    answer = audit_command(tmp_path)

    assert answer.returncode == 2
    assert answer.stdout == ""
    assert f"offline audit FAILED: no advisory (*.yaml) under {tmp_path}" in answer.stderr
