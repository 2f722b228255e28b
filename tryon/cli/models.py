"""``tryon models build | list``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tryon.runtime.specs import MODEL_SPECS
from tryon.runtime.store import ModelStore, resolve_specs


def register(sub: Any) -> None:
    p = sub.add_parser("models", help="build and inspect the ONNX models")
    msub = p.add_subparsers(dest="models_command", required=True, metavar="ACTION")

    b = msub.add_parser("build", help="convert mediapipe's TFLite models into models/*.onnx")
    b.add_argument("names", nargs="*", help="models to build (default: all)")
    b.add_argument("--force", action="store_true", help="rebuild even when the file is up to date")
    b.add_argument(
        "--update-manifest",
        action="store_true",
        help="write the new hashes into models/manifest.json (after a deliberate converter change)",
    )
    b.add_argument("--models-dir", type=Path, default=None, help="output folder (default: models/)")
    b.set_defaults(func=cmd_build)

    ls = msub.add_parser("list", help="list the models and their status against the manifest")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.add_argument("--models-dir", type=Path, default=None)
    ls.set_defaults(func=cmd_list)


def cmd_build(args: argparse.Namespace) -> int:
    store = ModelStore(args.models_dir, auto_build=False)
    if args.models_dir is not None and not (args.models_dir / "manifest.json").exists():
        store.manifest_path = ModelStore().manifest_path
    names = [s.name for s in resolve_specs(args.names or None)]
    total = len(names)
    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]building models"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("", total=total)
        done: list[str] = []

        def step(name: str) -> None:
            if done:
                progress.advance(task)
            done.append(name)
            progress.update(task, description=name)

        reports = store.build(names, force=args.force, update_manifest=args.update_manifest, on_progress=step)
        progress.advance(task)
        progress.update(task, description="done")
    table = Table(title=f"models in {store.models_dir}")
    for col in ("model", "status", "Transpose nodes", "sha256"):
        table.add_column(col)
    for r in reports:
        table.add_row(r.name, "built" if r.built else "up to date", str(r.transposes), r.sha256[:16])
    Console().print(table)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    store = ModelStore(args.models_dir, auto_build=False)
    rows = []
    for spec in MODEL_SPECS:
        st = store.status(spec.name)
        rows.append({"name": spec.name, "state": st.state, "path": str(st.path), "detail": st.detail})
    if args.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    table = Table()
    for col in ("model", "state", "path"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["name"], r["state"], r["path"])
    Console().print(table)
    return 0 if all(r["state"] == "ok" for r in rows) else 1
