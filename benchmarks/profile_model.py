"""Where a converted model spends its time in ONNX Runtime: per-operator totals and the ops the
graph optimizer left outside the blocked (NCHWc) layout.

    python benchmarks/profile_model.py pose_landmark_full [--threads 2] [--runs 200]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from rich.console import Console
from rich.table import Table

from tryon.runtime.session import RuntimeConfig, session_options
from tryon.runtime.store import ModelStore


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--top", type=int, default=12, help="slowest individual nodes to list")
    args = parser.parse_args()

    path = ModelStore().path(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        so = session_options(RuntimeConfig(providers=("cpu",), threads=args.threads, allow_spinning=True))
        so.enable_profiling = True
        so.profile_file_prefix = str(Path(tmp) / "profile")
        so.optimized_model_filepath = str(Path(tmp) / "optimized.onnx")
        sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        inp = sess.get_inputs()[0]
        shape = [d if isinstance(d, int) else 1 for d in inp.shape]  # a dynamic batch: 1
        x = np.random.default_rng(0).random(shape, dtype=np.float32)
        for _ in range(args.runs):
            sess.run(None, {inp.name: x})
        events = json.loads(Path(sess.end_profiling()).read_text())
        optimized = collections.Counter(
            f"{n.domain + ':' if n.domain else ''}{n.op_type}"
            for n in onnx.load(so.optimized_model_filepath).graph.node
        )

    per_op: dict[str, float] = collections.defaultdict(float)
    count: collections.Counter[str] = collections.Counter()
    per_node: dict[tuple[str, str], float] = collections.defaultdict(float)
    total = 0.0
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            op = e["args"]["op_name"]
            per_op[op] += e["dur"]
            count[op] += 1
            per_node[(op, e["name"].removesuffix("_kernel_time"))] += e["dur"]
        elif e.get("cat") == "Session" and e["name"] == "model_run":
            total += e["dur"]
    console = Console()
    console.print(
        f"{args.model}: {total / args.runs:.0f} µs per run with profiling on ({args.threads} threads)"
    )
    table = Table(title="time per operator type")
    for col in ("op", "µs per run", "share", "nodes"):
        table.add_column(col, justify="left" if col == "op" else "right")
    kernel_total = sum(per_op.values()) or 1.0
    for op, us in sorted(per_op.items(), key=lambda kv: -kv[1]):
        table.add_row(
            op, f"{us / args.runs:.1f}", f"{100 * us / kernel_total:.1f}%", str(count[op] // args.runs)
        )
    console.print(table)
    nodes = Table(title=f"{args.top} slowest nodes")
    nodes.add_column("op")
    nodes.add_column("node")
    nodes.add_column("µs per run", justify="right")
    for (op, name), us in sorted(per_node.items(), key=lambda kv: -kv[1])[: args.top]:
        nodes.add_row(op, name[:70], f"{us / args.runs:.1f}")
    console.print(nodes)
    console.print("optimized graph:", dict(optimized))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
