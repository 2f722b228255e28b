"""The starter assets: ``assets/make_*.py`` (over :mod:`tryon.art.products`) regenerate the files
under ``assets/products/`` byte for byte, and :mod:`tryon.art` stays off the per-frame path (no
module of :mod:`tryon.render` imports it; its own imports form no cycle).

Regenerating every starter product takes over a minute (the nine garments alone ~65 s on two
cores, much of it PNG compression at level 9), so the byte-for-byte test draws a representative
subset (~17 s): every product of ``make_glasses.py``, ``make_nails.py`` and
``make_accessories.py``, and three of ``make_garments.py`` (the bomber: rib, zip, satin sheen; the
denim jacket: collar, placket, pockets, shank buttons; the child's pyjama top: a size factor, a
fair-isle chart and a second colourway). For all of them, run each script with ``--root DIR`` and
compare ``DIR/products`` with ``assets/products`` (or run the scripts in place and look at
``git status assets/products``).
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from tryon.art import products as art
from tryon.errors import UnknownProductError

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"
SUBSETS: dict[str, tuple[str, ...] | None] = {
    "glasses": None,
    "nails": None,
    "accessories": None,
    "wrist": None,
    "garments": ("classic-denim-jacket", "flight-bomber-jacket", "holiday-fair-isle-pyjama-top-child"),
}
"""Script → the product ids regenerated (None: all of them)."""


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"make_{name}", ASSETS / f"make_{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("script", list(SUBSETS))
def test_starter_products_regenerate_byte_for_byte(script: str, tmp_path: Path) -> None:
    module = load_script(script)
    ids = SUBSETS[script] or tuple(spec["id"] for spec in module.PRODUCTS)
    folders = art.make_products(module.PRODUCTS, module.draw_product, tmp_path, ids)
    assert [f.name for f in folders] == list(ids)
    for folder in folders:
        committed = ASSETS / "products" / folder.name
        made = {p.name: sha256(p) for p in folder.iterdir()}
        kept = {p.name: sha256(p) for p in committed.iterdir()}
        assert sorted(made) == sorted(kept), f"{folder.name}: other files than assets/products has"
        changed = [name for name in made if made[name] != kept[name]]
        assert not changed, (
            f"{folder.name}: {changed} differ from assets/products; run assets/make_{script}.py"
        )


def test_make_products_rejects_an_unknown_id(tmp_path: Path) -> None:
    module = load_script("nails")
    with pytest.raises(UnknownProductError, match="no-such-polish"):
        art.make_products(module.PRODUCTS, module.draw_product, tmp_path, ["no-such-polish"])
    assert not (tmp_path / "products").exists()


# -- the import graph -----------------------------------------------------------------------------


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports (``from a import b``: both ``a`` and ``a.b``), wherever the
    import statement is (``TYPE_CHECKING`` blocks and functions included)."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            out.add(module)
            out.update(f"{module}.{alias.name}" for alias in node.names)
    return out


def modules_of(package: str) -> dict[str, Path]:
    folder = ROOT.joinpath(*package.split("."))
    return {module_name(p): p for p in sorted(folder.rglob("*.py"))}


def is_art(module: str) -> bool:
    return module == "tryon.art" or module.startswith("tryon.art.")


def test_render_does_not_import_art() -> None:
    render = modules_of("tryon.render")
    assert len(render) > 5
    found = {name: sorted(filter(is_art, imports_of(path))) for name, path in render.items()}
    assert not {name: mods for name, mods in found.items() if mods}


def test_art_imports_form_no_cycle_and_need_no_type_checking() -> None:
    art_modules = modules_of("tryon.art")
    assert {"tryon.art.base", "tryon.art.garments", "tryon.art.products"} <= set(art_modules)
    graph = {
        name: {m for m in imports_of(path) if m in art_modules and m not in (name, "tryon.art")}
        for name, path in art_modules.items()
    }
    for name, path in art_modules.items():
        assert "TYPE_CHECKING" not in path.read_text(encoding="utf-8"), name
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for dep in sorted(graph[name]):
            assert state.get(dep) != 1, "import cycle: " + " → ".join([*trail, name, dep])
            if dep not in state:
                visit(dep, [*trail, name])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
    assert not graph["tryon.art.base"], "tryon.art.base imports no other art module"
