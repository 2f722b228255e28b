"""``tryon doctor --bench``: each model's latency and two typical looks' frame rate (shortened)."""

from __future__ import annotations

import json

import pytest

from tryon.bench import LOOKS
from tryon.cli.main import main
from tryon.runtime.specs import MODEL_SPECS


def test_doctor_bench_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--json", "--bench", "--bench-seconds", "2", "--threads", "2"]) == 0
    report = json.loads(capsys.readouterr().out)
    b = report["bench"]
    assert b["provider"] == report["chosen_providers"][0]
    assert b["threads"] == 2
    assert [m["model"] for m in b["models"]] == [s.name for s in MODEL_SPECS]
    for m in b["models"]:
        assert m["error"] is None, m
        assert m["runs"] >= 3
        assert 0 < m["median_ms"] <= m["p95_ms"]
        assert m["provider"] == b["provider"]
    assert [lk["look"] for lk in b["looks"]] == list(LOOKS)
    for lk in b["looks"]:
        assert lk["error"] is None, lk
        assert lk["frames"] >= 3
        assert lk["fps"] > 0
        assert 0 < lk["median_ms"] <= lk["p95_ms"]


def test_doctor_bench_table_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--bench", "--bench-seconds", "0"]) == 2
    assert "--bench-seconds: expected 1 to 600" in capsys.readouterr().err
    assert main(["doctor", "--bench", "--bench-seconds", "1"]) == 0
    out = capsys.readouterr().out
    assert "model latency" in out
    assert "face_landmark" in out
    assert "a typical look" in out
