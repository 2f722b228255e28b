"""Prometheus metrics of one server (``GET /metrics``): a registry per app, no globals."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry(auto_describe=True)
        self.sessions = Gauge("tryon_sessions_active", "Live sessions now", registry=r)
        self.sessions_total = Counter("tryon_sessions_started", "Sessions started", registry=r)
        self.offers_rejected = Counter(
            "tryon_offers_rejected", "Offers refused, by reason", ["reason"], registry=r
        )
        self.frames_in = Counter("tryon_frames_in", "Camera frames received", registry=r)
        self.frames_out = Counter("tryon_frames_out", "Frames sent back", registry=r)
        self.frames_dropped = Counter(
            "tryon_frames_dropped", "Camera frames skipped because a newer one was waiting", registry=r
        )
        self.frames_failed = Counter(
            "tryon_frames_failed", "Frames passed through unprocessed, by stage", ["stage"], registry=r
        )
        self.poses_rejected = Counter(
            "tryon_poses_rejected",
            "Poses found but not dressed (implausible), by reason",
            ["reason"],
            registry=r,
        )
        self.control_messages = Counter(
            "tryon_control_messages", "Control messages, by type and result", ["type", "result"], registry=r
        )
        self.ice_candidates_dropped = Counter(
            "tryon_ice_candidates_dropped", "Remote ICE candidates dropped by the ICE policy", registry=r
        )
        self.task_failures = Counter(
            "tryon_session_task_failures",
            "Session tasks that failed unexpectedly (the session was closed), by task",
            ["task"],
            registry=r,
        )
        self.control_send_dropped = Counter(
            "tryon_control_send_dropped",
            "Control-channel messages not sent (peer's size limit, backlog), by cause",
            ["cause"],
            registry=r,
        )
        self.photos = Counter("tryon_photos", "Photo-mode requests, by result", ["result"], registry=r)
        self.shows = Gauge("tryon_shows_live", "Live shows now", registry=r)
        self.show_viewers = Gauge("tryon_show_viewers", "Viewer pages connected to shows now", registry=r)
        self.show_refusals = Counter(
            "tryon_show_refusals", "Show requests refused, by reason", ["reason"], registry=r
        )
        self.events = Counter("tryon_events", "Engagement events recorded, by type", ["type"], registry=r)
        self.events_rejected = Counter(
            "tryon_events_rejected", "Engagement events refused, by reason", ["reason"], registry=r
        )
        self.promotions = Counter("tryon_promotions_sent", "Promotions shown, by rule", ["rule"], registry=r)
        self.show_push_dropped = Counter(
            "tryon_show_push_dropped", "Push channels closed because their page fell behind", registry=r
        )
        self.stage_seconds = Histogram(
            "tryon_stage_seconds",
            "Per-frame time of each pipeline stage",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.frame_seconds = Histogram(
            "tryon_frame_latency_seconds",
            "From a camera frame's arrival to its processed frame leaving for the encoder",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )

    def observe_stages(self, timings: Mapping[str, float]) -> None:
        for stage, ms in timings.items():
            self.stage_seconds.labels(stage).observe(ms / 1e3)

    def render(self) -> bytes:
        return generate_latest(self.registry)
