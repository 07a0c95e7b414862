"""docs/grafana-dashboard.json graphs the metrics the bot really exposes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import REGISTRY

from ocm_bot import metrics

DASHBOARD = Path(__file__).resolve().parent.parent / "docs" / "grafana-dashboard.json"


def exposed_names() -> set[str]:
    """Every series name the bot's metrics write on /metrics (a histogram's _bucket, _sum, _count too)."""
    names = set()
    for family in REGISTRY.collect():
        if not family.name.startswith("ocm_bot_"):
            continue
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
        names.update(family.name + suffix for suffix in suffixes.get(family.type, ("",)))
    return names


def test_every_metric_the_dashboard_queries_is_exposed_by_the_bot():
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    queried = {name for query in queries for name in re.findall(r"\bocm_bot_\w+", query)}
    assert queried, "the dashboard queries no ocm-bot metric"
    assert queried <= exposed_names(), f"not exposed: {queried - exposed_names()}"


def test_the_dashboard_shows_every_metric_family():
    dashboard = DASHBOARD.read_text()
    for name in metrics.NAMES:
        assert name in dashboard, name
