"""Crash safety (issue 16, item 3), the suite's small version: check-in conversations with
``ocm-bot run`` killed by SIGKILL at seeded random points (tests/e2e/crash_runs.py). The 100-run
version on both databases is ``.venv/bin/python bench/crash_runs.py --runs 100`` (docs/reliability.md)."""

from __future__ import annotations

import pytest

from tests.e2e.crash_runs import ACTIONS, run_crash_conversations


def assert_safe(report, runs: int) -> None:
    assert report.kills == runs
    assert [(r.run, r.killed_after, r.problems) for r in report.failures] == []
    for run in report.runs:
        assert run.checkin_accepted and run.posts == 1  # confirmed, and on OCM exactly once
        assert run.favourite_confirmed and run.favourite_kept
        assert run.setting_confirmed and run.setting_kept


@pytest.mark.timeout(180)
async def test_check_ins_survive_sigkill_at_random_points_on_sqlite(tmp_path):
    report = await run_crash_conversations(3, seed=11, workdir=tmp_path)
    assert_safe(report, 3)
    assert {run.killed_after for run in report.runs} <= set(ACTIONS)


@pytest.mark.timeout(180)
async def test_check_ins_survive_sigkill_at_random_points_on_postgresql(tmp_path, postgres_url):
    report = await run_crash_conversations(3, seed=12, workdir=tmp_path, database_url=postgres_url)
    assert_safe(report, 3)
