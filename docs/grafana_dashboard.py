"""Writes docs/grafana-dashboard.json: a Grafana dashboard for ``tryon serve``'s ``/metrics``
(:mod:`webrtc.metrics`), built with Grafana's own Foundation SDK (``grafana-foundation-sdk``, the
``test`` extra). Import the JSON in Grafana (Dashboards → New → Import) and pick the Prometheus
data source that scrapes the servers.

    .venv/bin/python docs/grafana_dashboard.py   # rewrites docs/grafana-dashboard.json
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import DataSourceRef

OUT = Path(__file__).with_name("grafana-dashboard.json")
DS = DataSourceRef(type_val="prometheus", uid="${datasource}")
INSTANCE = 'instance=~"$instance"'
TOP_STAGES = INSTANCE + ', stage=~"(faces|poses|hands)[.][a-z_]+|segmentation|render"'
"""Stages that do not overlap and together make the frame: each perception stage's steps (the
faces' ``detect``, ``landmarks``, ``smooth`` ...), segmentation, and rendering (all layers)."""
NOT_OK = INSTANCE + ', result!="ok"'


def query(expr: str, legend: str = "", ref: str = "A") -> prometheus.Dataquery:
    q = prometheus.Dataquery().expr(expr).ref_id(ref).datasource(DS).range()
    return q.legend_format(legend) if legend else q


def series(title: str, unit: str, *queries: prometheus.Dataquery, stacked: bool = False) -> timeseries.Panel:
    legend = (
        common_builders.VizLegendOptions()
        .display_mode(common.LegendDisplayMode.LIST)
        .placement(common.LegendPlacement.BOTTOM)
        .show_legend(True)
    )
    tooltip = (
        common_builders.VizTooltipOptions()
        .mode(common.TooltipDisplayMode.MULTI)
        .sort(common.SortOrder.DESCENDING)
    )
    p = (
        timeseries.Panel()
        .title(title)
        .datasource(DS)
        .unit(unit)
        .height(8)
        .span(12)
        .min(0)
        .legend(legend)
        .tooltip(tooltip)
        .line_width(1)
        .fill_opacity(40 if stacked else 10)
    )
    for q in queries:
        p = p.with_target(q)
    if stacked:
        p = p.stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL))
    return p


def single(title: str, expr: str, unit: str = "none") -> stat.Panel:
    return (
        stat.Panel()
        .title(title)
        .datasource(DS)
        .unit(unit)
        .height(4)
        .span(6)
        .with_target(query(expr))
        .graph_mode(common.BigValueGraphMode.AREA)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]))
    )


def build() -> dict[str, Any]:
    rate = "[$__rate_interval]"
    d = (
        db.Dashboard("tryon live server")
        .uid("tryon-live")
        .description(
            "tryon serve's /metrics: sessions, frame rate, latency, per-stage times, drops, refusals"
        )
        .tags(["tryon"])
        .time("now-1h", "now")
        .refresh("10s")
        .with_variable(db.DatasourceVariable("datasource").label("Prometheus").type("prometheus"))
        .with_variable(
            db.QueryVariable("instance")
            .label("Server")
            .datasource(DS)
            .query("label_values(tryon_sessions_active, instance)")
            .multi(True)
            .include_all(True)
        )
        .with_row(db.Row("Sessions and frames"))
        .with_panel(single("Live sessions", f"sum(tryon_sessions_active{{{INSTANCE}}})"))
        .with_panel(single("Frames out / s", f"sum(rate(tryon_frames_out_total{{{INSTANCE}}}{rate}))", "fps"))
        .with_panel(
            single(
                "Dropped share",
                f"sum(rate(tryon_frames_dropped_total{{{INSTANCE}}}{rate})) / "
                f"clamp_min(sum(rate(tryon_frames_in_total{{{INSTANCE}}}{rate})), 1e-9)",
                "percentunit",
            )
        )
        .with_panel(single("Live shows", f"sum(tryon_shows_live{{{INSTANCE}}})"))
        .with_panel(
            series(
                "Sessions",
                "none",
                query(f"sum by (instance) (tryon_sessions_active{{{INSTANCE}}})", "{{instance}} live"),
                query(
                    f"sum by (instance) (rate(tryon_sessions_started_total{{{INSTANCE}}}[5m])) * 60",
                    "{{instance}} started / min",
                    "B",
                ),
            )
        )
        .with_panel(
            series(
                "Frame rate (all sessions)",
                "fps",
                query(f"sum(rate(tryon_frames_in_total{{{INSTANCE}}}{rate}))", "in"),
                query(f"sum(rate(tryon_frames_out_total{{{INSTANCE}}}{rate}))", "out", "B"),
                query(f"sum(rate(tryon_frames_dropped_total{{{INSTANCE}}}{rate}))", "dropped", "C"),
            )
        )
        .with_row(db.Row("Latency and stages"))
        .with_panel(
            series(
                "Frame latency (camera frame in → processed frame to the encoder)",
                "s",
                *(
                    query(
                        f"histogram_quantile({q}, sum by (le) "
                        f"(rate(tryon_frame_latency_seconds_bucket{{{INSTANCE}}}{rate})))",
                        f"p{round(q * 100)}",
                        ref,
                    )
                    for q, ref in ((0.5, "A"), (0.95, "B"), (0.99, "C"))
                ),
            )
        )
        .with_panel(
            series(
                "Mean time per stage, stacked (≈ the frame)",
                "s",
                query(
                    f"sum by (stage) (rate(tryon_stage_seconds_sum{{{TOP_STAGES}}}{rate}))"
                    f" / sum by (stage) (rate(tryon_stage_seconds_count{{{TOP_STAGES}}}{rate}))",
                    "{{stage}}",
                ),
                stacked=True,
            )
        )
        .with_panel(
            series(
                "p95 time per stage and sub-stage",
                "s",
                query(
                    f"histogram_quantile(0.95, sum by (le, stage) "
                    f"(rate(tryon_stage_seconds_bucket{{{INSTANCE}}}{rate})))",
                    "{{stage}}",
                ),
            )
        )
        .with_panel(
            series(
                "Stage runs / s (detectors run on some frames only)",
                "ops",
                query(f"sum by (stage) (rate(tryon_stage_seconds_count{{{INSTANCE}}}{rate}))", "{{stage}}"),
            )
        )
        .with_row(db.Row("Failures and refusals"))
        .with_panel(
            series(
                "Frames failed, by stage / s",
                "ops",
                query(f"sum by (stage) (rate(tryon_frames_failed_total{{{INSTANCE}}}{rate}))", "{{stage}}"),
                query(
                    f"sum by (reason) (rate(tryon_poses_rejected_total{{{INSTANCE}}}{rate}))",
                    "pose {{reason}}",
                    "B",
                ),
            )
        )
        .with_panel(
            series(
                "Refused, by reason / min",
                "none",
                query(
                    f"sum by (reason) (increase(tryon_offers_rejected_total{{{INSTANCE}}}[1m]))",
                    "offer {{reason}}",
                ),
                query(
                    f"sum by (reason) (increase(tryon_show_refusals_total{{{INSTANCE}}}[1m]))",
                    "show {{reason}}",
                    "B",
                ),
                query(
                    f"sum by (reason) (increase(tryon_events_rejected_total{{{INSTANCE}}}[1m]))",
                    "event {{reason}}",
                    "C",
                ),
                query(
                    f"sum by (type, result) (increase(tryon_control_messages_total{{{NOT_OK}}}[1m]))",
                    "control {{type}} {{result}}",
                    "D",
                ),
            )
        )
        .with_row(db.Row("Shows"))
        .with_panel(
            series(
                "Viewers and shows",
                "none",
                query(f"sum(tryon_show_viewers{{{INSTANCE}}})", "viewers"),
                query(f"sum(tryon_shows_live{{{INSTANCE}}})", "shows", "B"),
            )
        )
        .with_panel(
            series(
                "Engagement events / min",
                "none",
                query(f"sum by (type) (increase(tryon_events_total{{{INSTANCE}}}[1m]))", "{{type}}"),
            )
        )
    )
    doc: dict[str, Any] = json.loads(json.dumps(d.build(), cls=JSONEncoder))
    return doc


def main() -> int:
    OUT.write_text(json.dumps(build(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
