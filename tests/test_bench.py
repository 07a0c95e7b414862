"""The benchmark command's pieces import, and a mini-run writes a report with its figures (not timed)."""

from __future__ import annotations

from pathlib import Path

import bench.bench_actions
import bench.bench_announcements
import bench.bench_economy
import bench.bench_memory
import bench.botproc
import bench.harness
import bench.plots  # noqa: F401  (imports are the check)
from bench.__main__ import main


def test_a_mini_run_writes_the_report_with_the_measured_sections(tmp_path: Path) -> None:
    report = tmp_path / "benchmarks.md"
    assert main(["--quick", "--only", "watches", "local", "--out", str(report)]) == 0
    text = report.read_text(encoding="utf-8")
    assert "## Goals" in text and "| the whole command runs in under 10 minutes |" in text
    assert "| JSON lines |" in text and "| folder of per-POI files |" in text  # every form was loaded
    assert "| nearest-20 p99 in a dense city under 2 ms |" in text
    assert "OCM requests per poll independent of the number of watches" in text
    assert "{" not in text.replace("{ ", "")  # every placeholder of the template was filled
    assert "*Not measured in this run.*" in text  # the sections left out say so
