"""docs/grafana-dashboard.json: a dashboard Grafana's own Foundation SDK reads back unchanged
(every field one its schema knows, every query a Prometheus query), written by
docs/grafana_dashboard.py, querying only metrics that webrtc/metrics.py exports."""

from __future__ import annotations

import json
import re
import runpy
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.metrics_core import Metric

from webrtc.metrics import Metrics

sdk = pytest.importorskip("grafana_foundation_sdk")
from grafana_foundation_sdk.cog.encoder import JSONEncoder  # noqa: E402
from grafana_foundation_sdk.cog.plugins import register_default_plugins  # noqa: E402
from grafana_foundation_sdk.models import prometheus  # noqa: E402
from grafana_foundation_sdk.models.dashboard import Dashboard, Panel, RowPanel  # noqa: E402

DOCS = Path(__file__).resolve().parent.parent / "docs"
JSON_PATH = DOCS / "grafana-dashboard.json"
SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(JSON_PATH.read_text())
    return data


def exported_series() -> set[str]:
    """Every series name the server's registry can export (families with no samples yet too)."""
    families: list[Metric] = list(Metrics().registry.collect())
    return {f.name + suffix for f in families for suffix in SUFFIXES[f.type]}


def test_the_sdk_reads_it_back_unchanged(doc: dict[str, Any]) -> None:
    register_default_plugins()
    model = Dashboard.from_json(doc)
    assert json.loads(json.dumps(model, cls=JSONEncoder)) == doc
    assert model.uid == "tryon-live"
    assert model.title
    panels = [p for p in model.panels or [] if isinstance(p, Panel)]
    assert len(panels) >= 10
    assert sum(isinstance(p, RowPanel) for p in model.panels or []) >= 3
    for panel in panels:
        assert panel.type_val in ("timeseries", "stat"), panel.title
        assert panel.targets, panel.title
        for target in panel.targets:
            assert isinstance(target, prometheus.Dataquery), panel.title
            assert target.expr, panel.title


def test_the_generator_writes_this_file(doc: dict[str, Any]) -> None:
    build = runpy.run_path(str(DOCS / "grafana_dashboard.py"))["build"]
    assert build() == doc, "docs/grafana-dashboard.json is stale: run docs/grafana_dashboard.py"


def test_every_queried_metric_is_exported(doc: dict[str, Any]) -> None:
    exported = exported_series()
    exprs = [t["expr"] for p in doc["panels"] for t in p.get("targets", [])]
    variables = [v["query"] for v in doc["templating"]["list"] if v["type"] == "query"]
    queried = {m for e in exprs + variables for m in re.findall(r"\btryon_[a-z_]+", e)}
    assert queried, "no tryon metric queried"
    assert queried <= exported, f"not exported by webrtc/metrics.py: {sorted(queried - exported)}"
    # The list: sessions, frame rate, latency histograms, per-stage times, drops, rejects.
    for needed in (
        "tryon_sessions_active",
        "tryon_frames_in_total",
        "tryon_frames_out_total",
        "tryon_frame_latency_seconds_bucket",
        "tryon_stage_seconds_bucket",
        "tryon_frames_dropped_total",
        "tryon_offers_rejected_total",
    ):
        assert needed in queried, needed
    assert any("histogram_quantile(" in e for e in exprs)
    for e in exprs:
        assert e.count("(") == e.count(")"), e
        assert e.count("{") == e.count("}"), e
