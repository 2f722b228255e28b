"""``tryon doctor``: versions, execution providers and the state of every model; ``--bench``: each
model's latency and a typical look's frame rate on this machine (:mod:`tryon.bench`)."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import platform
import sys
from typing import TYPE_CHECKING, Any

import onnxruntime as ort
from rich.console import Console
from rich.table import Table

from tryon import __version__
from tryon.errors import TryOnError
from tryon.runtime.provider_options import default_trt_cache_dir
from tryon.runtime.providers import choose_providers, cuda_device_count, tensorrt_libraries_present
from tryon.runtime.specs import MODEL_SPECS
from tryon.runtime.store import ModelStore

if TYPE_CHECKING:
    from tryon.bench import Bench

PACKAGES = ("numpy", "onnxruntime-gpu", "onnx", "mediapipe", "opencv-contrib-python", "aiortc", "tflite")


def register(sub: Any) -> None:
    p = sub.add_parser("doctor", help="print versions, execution providers and model status")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--sfu",
        default=None,
        help="also check the live show's SFU: janus:http://127.0.0.1:8088/janus (or relay)",
    )
    p.add_argument(
        "--bench",
        action="store_true",
        help="also measure (~20 s): each model's latency, and the fps of a makeup and a garment look",
    )
    p.add_argument("--bench-seconds", type=float, default=20.0, help="time --bench takes (default 20)")
    p.add_argument("--provider", choices=("cpu", "cuda", "tensorrt"), help="--bench on this provider")
    p.add_argument("--threads", type=int, help="--bench with this many ONNX Runtime threads")
    p.set_defaults(func=cmd_doctor)


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def collect() -> dict[str, Any]:
    report: dict[str, Any] = {
        "tryon": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {d: _version(d) for d in PACKAGES},
        "onnxruntime": {"version": ort.__version__, "device": ort.get_device()},
        "available_providers": ort.get_available_providers(),
        "cuda_devices": cuda_device_count(),
        "tensorrt_libraries": tensorrt_libraries_present(),
        "tensorrt_cache": str(default_trt_cache_dir()),
    }
    try:
        report["chosen_providers"] = choose_providers()
    except TryOnError as exc:
        report["chosen_providers"] = f"error: {exc}"
    store = ModelStore(auto_build=False)
    report["models_dir"] = str(store.models_dir)
    models = {}
    try:
        for spec in MODEL_SPECS:
            st = store.status(spec.name)
            models[spec.name] = {"state": st.state, "path": str(st.path), "detail": st.detail}
    except TryOnError as exc:
        models["error"] = {"state": "error", "path": "", "detail": str(exc)}
    report["models"] = models
    return report


def check_sfu(spec: str) -> dict[str, Any]:
    """Whether the live show's SFU answers: ``{"sfu", "ok", "detail"}`` (never raises)."""
    import asyncio

    if spec == "relay":
        return {"sfu": spec, "ok": True, "detail": "embedded relay: nothing to reach"}
    if not spec.startswith("janus:http"):
        return {
            "sfu": spec,
            "ok": False,
            "detail": f"expected janus:http://host:port/janus or relay, got {spec!r}",
        }

    async def probe() -> str:
        from webrtc.sfu.janus import JanusSfu

        sfu = JanusSfu(spec.removeprefix("janus:"), request_timeout=5.0)
        try:
            return await sfu.check()
        finally:
            await sfu.close()

    try:
        return {"sfu": spec, "ok": True, "detail": asyncio.run(probe())}
    except TryOnError as exc:
        return {"sfu": spec, "ok": False, "detail": str(exc)}


def cmd_doctor(args: argparse.Namespace) -> int:
    report = collect()
    if args.sfu:
        report["sfu"] = check_sfu(args.sfu)
    ok = all(m["state"] == "ok" for m in report["models"].values()) and report.get("sfu", {}).get("ok", True)
    bench = run_bench(args) if getattr(args, "bench", False) else None
    if bench is not None:
        report["bench"] = bench.to_json()
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return 0 if ok else 1
    console = Console()
    info = Table(title="tryon doctor", show_header=False)
    info.add_column("item")
    info.add_column("value")
    info.add_row("tryon", report["tryon"])
    info.add_row("python", f"{report['python']} ({report['platform']})")
    for dist, version in report["packages"].items():
        info.add_row(dist, version)
    info.add_row("available providers", ", ".join(report["available_providers"]))
    info.add_row("CUDA devices", str(report["cuda_devices"]))
    info.add_row("TensorRT libraries", "yes" if report["tensorrt_libraries"] else "no")
    info.add_row("TensorRT engine cache", report["tensorrt_cache"] + " (a folder per model sha256)")
    chosen = report["chosen_providers"]
    info.add_row("chosen providers", ", ".join(chosen) if isinstance(chosen, list) else chosen)
    info.add_row("models dir", report["models_dir"])
    console.print(info)
    models = Table(title="models")
    for col in ("model", "state", "detail"):
        models.add_column(col)
    for name, m in report["models"].items():
        style = "green" if m["state"] == "ok" else "red"
        models.add_row(name, f"[{style}]{m['state']}[/{style}]", m["detail"])
    console.print(models)
    if "sfu" in report:
        sfu = report["sfu"]
        style = "green" if sfu["ok"] else "red"
        state = "reachable" if sfu["ok"] else "NOT reachable"
        console.print(f"SFU {sfu['sfu']}: [{style}]{state}[/{style}] ({sfu['detail']})")
    if bench is not None:
        for table in bench_tables(bench):
            console.print(table)
    return 0 if ok else 1


def run_bench(args: argparse.Namespace) -> Bench:
    from tryon.bench import bench
    from tryon.errors import InputError
    from tryon.profiling import runtime_for

    if not 1 <= args.bench_seconds <= 600:
        raise InputError(f"--bench-seconds: expected 1 to 600, got {args.bench_seconds:g}")
    runtime = runtime_for(args.provider, args.threads)
    with Console(stderr=True).status(f"measuring this machine (~{args.bench_seconds:g} s) ..."):
        return bench(runtime, args.bench_seconds)


def bench_tables(b: Bench) -> list[Table]:
    models = Table(title=f"model latency ({b.provider}, {b.threads} thread(s))")
    for col in ("model", "input", "median ms", "p95 ms", "runs"):
        models.add_column(col, justify="left" if col in ("model", "input") else "right")
    for m in b.models:
        if m.error:
            models.add_row(m.model, "", "[red]error[/red]", "", m.error)
        else:
            models.add_row(m.model, m.input, f"{m.median_ms:.2f}", f"{m.p95_ms:.2f}", str(m.runs))
    looks = Table(title="a typical look, one stream, 640×480 moving synthetic sequence")
    for col in ("look", "products", "fps", "median ms", "p95 ms", "frames"):
        looks.add_column(col, justify="left" if col in ("look", "products") else "right")
    for lk in b.looks:
        if lk.error:
            looks.add_row(lk.look, ", ".join(lk.products), "[red]error[/red]", "", "", lk.error)
        else:
            looks.add_row(
                lk.look,
                ", ".join(lk.products),
                f"[bold]{lk.fps:.1f}[/bold]",
                f"{lk.median_ms:.2f}",
                f"{lk.p95_ms:.2f}",
                str(lk.frames),
            )
    return [models, looks]
