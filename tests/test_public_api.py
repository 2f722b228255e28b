"""The public API: ``tryon.__all__`` holds every type its main classes' methods return, and the
server, the docs scripts and the benchmarks import only public names from the library."""

from __future__ import annotations

import ast
import importlib
import inspect
import typing
from pathlib import Path

import tryon

ROOT = Path(__file__).resolve().parents[1]


def _tryon_classes(hint: object) -> set[type]:
    found: set[type] = set()
    if isinstance(hint, type) and hint.__module__.startswith("tryon"):
        found.add(hint)
    for arg in typing.get_args(hint):
        found |= _tryon_classes(arg)
    return found


def test_every_public_name_exists_and_the_returned_types_are_public() -> None:
    for name in tryon.__all__:
        assert hasattr(tryon, name), name
    returned: set[type] = set()
    for cls in (tryon.TryOnPipeline, tryon.Perception, tryon.Catalog):
        for name, member in inspect.getmembers(cls):
            if name.startswith("_"):
                continue
            func = member.fget if isinstance(member, property) else member
            if callable(func):
                hints = typing.get_type_hints(func)
                returned |= _tryon_classes(hints.get("return"))
    assert returned, "no return types found: the check itself is broken"
    missing = sorted(c.__name__ for c in returned if c.__name__ not in tryon.__all__)
    assert not missing, f"returned by the public classes but not in tryon.__all__: {missing}"
    assert {"LookItem", "PipelineStats", "FrameResult"} <= set(tryon.__all__)


def test_server_docs_and_benchmarks_import_only_public_names() -> None:
    bad = []
    for folder in ("webrtc", "docs", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if not (isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tryon")):
                    continue
                public = getattr(importlib.import_module(node.module), "__all__", None)
                for alias in node.names:
                    if alias.name.startswith("_") or (public is not None and alias.name not in public):
                        bad.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.module}.{alias.name}")
    assert not bad, "private names imported: " + ", ".join(bad)
