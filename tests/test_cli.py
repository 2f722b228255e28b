"""The ``tryon`` command line: doctor, models build/list, errors and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tryon.cli.main import main
from tryon.runtime.specs import MODEL_SPECS
from tryon.runtime.store import ModelStore

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tryon", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_doctor_reports_versions_providers_and_models(store: ModelStore) -> None:
    for spec in MODEL_SPECS:
        store.path(spec.name)  # all built and verified
    proc = run_cli("doctor", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["packages"]["mediapipe"] == "0.10.14"
    assert "CPUExecutionProvider" in report["available_providers"]
    assert report["chosen_providers"][-1] == "CPUExecutionProvider"
    assert {name: m["state"] for name, m in report["models"].items()} == {s.name: "ok" for s in MODEL_SPECS}


def test_doctor_table_and_missing_models(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text((REPO / "models" / "manifest.json").read_text())
    proc = run_cli("doctor", env={"TRYON_MODELS_DIR": str(tmp_path), "COLUMNS": "200"})
    assert proc.returncode == 1  # models missing: not healthy
    assert "chosen providers" in proc.stdout
    assert "missing" in proc.stdout
    assert "face_landmark" in proc.stdout


def test_models_build_writes_files_and_table(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_cli("models", "build", "iris_landmark", "--models-dir", str(out), env={"COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert (out / "iris_landmark.onnx").exists()
    assert "building models" in proc.stderr  # the progress bar goes to stderr
    assert "iris_landmark" in proc.stdout
    assert "built" in proc.stdout


def test_models_list_json(store: ModelStore, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == [s.name for s in MODEL_SPECS]
    assert all(r["state"] == "ok" for r in rows)


def test_error_exit_code_and_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "build", "no_such_model"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tryon: error: unknown model 'no_such_model'")


def test_serve_prints_its_address_and_serves(store: ModelStore, tmp_path: Path) -> None:
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tryon", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={
            **{k: v for k, v in os.environ.items() if k != "TRYON_HOST_KEY"},
            "XDG_DATA_HOME": str(tmp_path),
        },
    )
    try:
        assert proc.stdout is not None
        # No host key set: one is made and shown once, before the address.
        key_line = proc.stdout.readline()
        assert "host key" in key_line, (key_line, proc.stderr.read() if proc.poll() else "")
        key = key_line.rsplit(": ", 1)[1].strip()
        assert len(key) >= 40
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line, (line, proc.stderr.read() if proc.poll() else "")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
            assert json.loads(r.read())["status"] == "ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
            assert b"<html" in r.read().lower()
        # The key shown starts a live show.
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/shows",
            data=b"{}",
            method="POST",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            assert r.status == 201
            assert json.loads(r.read())["viewer_url"].startswith("/show/")
        # Engagement events go to the embedded SQLite store by default, in the user's data folder.
        assert (tmp_path / "tryon" / "events.db").is_file()
    finally:
        proc.terminate()
        proc.wait(10)


def test_serve_takes_the_host_key_from_the_environment_or_a_file(tmp_path: Path) -> None:
    import argparse

    from tryon.cli.serve import build_config, register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    key_file = tmp_path / "host.key"
    key_file.write_text("file-key-0123456789abcdef\n")
    key_file.chmod(0o600)
    args = parser.parse_args(
        ["serve", "--host-key-file", str(key_file), "--sfu", "janus:http://127.0.0.1:1/janus"]
    )
    config = build_config(args)
    assert config.host_key == "file-key-0123456789abcdef"
    assert config.sfu == "janus:http://127.0.0.1:1/janus"
    assert "file-key" not in repr(config)
    os.environ["TRYON_HOST_KEY"] = "env-key-0123456789abcdef"
    try:
        assert build_config(parser.parse_args(["serve"])).host_key == "env-key-0123456789abcdef"
    finally:
        del os.environ["TRYON_HOST_KEY"]
    proc = run_cli("serve", "--sfu", "mediasoup://x")
    assert proc.returncode == 2
    assert "janus:http" in proc.stderr


def test_serve_rejects_bad_settings() -> None:
    proc = run_cli("serve", "--output", "641x480")
    assert proc.returncode == 2
    assert "even sides" in proc.stderr
    proc = run_cli("serve", "--ice-server", "turn:127.0.0.1:3478")
    assert proc.returncode == 2
    assert "username" in proc.stderr
