"""The model store: ONNX files under ``models/``, checked against the manifest, built on first use."""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import onnx

from tryon.convert.converter import CONVERTER_VERSION, OPSET, convert_tflite
from tryon.convert.graph import ConversionOptions
from tryon.errors import ModelError, ModelHashMismatchError, ModelNotFoundError
from tryon.runtime.manifest import (
    Manifest,
    ModelEntry,
    TensorInfo,
    layout_of,
    sha256_bytes,
    sha256_file,
)
from tryon.runtime.specs import MEDIAPIPE_VERSION, MODEL_SPECS, SPECS_BY_NAME, ModelSpec

logger = logging.getLogger(__name__)

REBUILD_HINT = "rebuild with `tryon models build --force` (or `make models`)"


def default_models_dir() -> Path:
    """``$TRYON_MODELS_DIR``, else the ``models/`` folder of the source tree."""
    env = os.environ.get("TRYON_MODELS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "models"


def mediapipe_root() -> Path:
    """Folder that contains the installed ``mediapipe`` package (without importing it)."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the mediapipe package is not installed; "
            f"the models are built from mediapipe=={MEDIAPIPE_VERSION}"
        )
    return Path(next(iter(spec.submodule_search_locations))).parent


@dataclass(frozen=True)
class ModelStatus:
    name: str
    state: str
    """``ok``, ``missing``, ``hash-mismatch`` or ``not-in-manifest``."""
    path: Path
    detail: str = ""


@dataclass(frozen=True)
class BuildReport:
    name: str
    path: Path
    sha256: str
    transposes: int
    nodes: int
    built: bool
    """False when an up-to-date file was already there."""


class ModelStore:
    """Resolves model names to verified ONNX files, building missing ones when allowed."""

    def __init__(
        self,
        models_dir: Path | None = None,
        manifest_path: Path | None = None,
        auto_build: bool = True,
    ) -> None:
        self.models_dir = Path(models_dir) if models_dir is not None else default_models_dir()
        self.manifest_path = manifest_path or self.models_dir / "manifest.json"
        self.auto_build = auto_build
        self._manifest: Manifest | None = None
        self._verified: set[str] = set()
        self._lock = threading.Lock()

    @property
    def manifest(self) -> Manifest:
        if self._manifest is None:
            self._manifest = Manifest.load(self.manifest_path)
        return self._manifest

    def entry(self, name: str) -> ModelEntry:
        if name not in self.manifest.models:
            known = ", ".join(sorted(self.manifest.models))
            raise ModelError(f"unknown model {name!r}; the manifest lists: {known}")
        return self.manifest.models[name]

    def file_path(self, name: str) -> Path:
        return self.models_dir / self.entry(name).file

    def status(self, name: str) -> ModelStatus:
        if name not in self.manifest.models:
            return ModelStatus(name, "not-in-manifest", self.models_dir / f"{name}.onnx")
        path = self.file_path(name)
        if not path.exists():
            return ModelStatus(name, "missing", path)
        actual = sha256_file(path)
        if actual != self.entry(name).sha256:
            return ModelStatus(name, "hash-mismatch", path, f"sha256 {actual[:12]}…")
        return ModelStatus(name, "ok", path)

    def path(self, name: str) -> Path:
        """Path of the verified ONNX file of ``name``; builds it first if missing and allowed."""
        with self._lock:
            if name in self._verified:
                return self.file_path(name)
            entry = self.entry(name)
            path = self.models_dir / entry.file
            if not path.exists():
                if not self.auto_build:
                    raise ModelNotFoundError(
                        f"model {name!r}: {path} does not exist; build it with `tryon models build`"
                    )
                logger.info("model %s is missing at %s: building it now (first use)", name, path)
                self.build([name])
            actual = sha256_file(path)
            if actual != entry.sha256:
                raise ModelHashMismatchError(
                    f"model {name!r}: {path} has sha256 {actual}, the manifest expects {entry.sha256}; "
                    + REBUILD_HINT
                )
            self._verified.add(name)
            return path

    # ------------------------------------------------------------------------------- build
    def build(
        self,
        names: Iterable[str] | None = None,
        force: bool = False,
        update_manifest: bool = False,
        on_progress: Callable[[str], None] | None = None,
    ) -> list[BuildReport]:
        """Convert the TFLite sources into ``models_dir``.

        Without ``update_manifest`` every output must hash to the manifest's value (the build is
        deterministic, so a difference means the converter or the mediapipe wheel changed).
        """
        specs = resolve_specs(names)
        self.models_dir.mkdir(parents=True, exist_ok=True)
        if update_manifest:
            try:
                manifest = self.manifest
            except ModelError:
                manifest = Manifest(CONVERTER_VERSION, MEDIAPIPE_VERSION, OPSET)
            manifest.converter_version, manifest.mediapipe_version, manifest.opset = (
                CONVERTER_VERSION,
                MEDIAPIPE_VERSION,
                OPSET,
            )
        else:
            manifest = self.manifest
        reports = []
        root = mediapipe_root()
        for spec in specs:
            if on_progress is not None:
                on_progress(spec.name)
            reports.append(self._build_one(spec, root, manifest, force, update_manifest))
        if update_manifest:
            manifest.save(self.manifest_path)
            self._manifest = manifest
        self._verified.clear()
        return reports

    def _build_one(
        self, spec: ModelSpec, root: Path, manifest: Manifest, force: bool, update_manifest: bool
    ) -> BuildReport:
        source = root / spec.source
        if not source.exists():
            raise ModelError(
                f"model {spec.name!r}: source {source} not found; install mediapipe=={MEDIAPIPE_VERSION}"
            )
        expected = manifest.models.get(spec.name)
        target = self.models_dir / spec.filename
        if expected is None and not update_manifest:
            raise ModelError(
                f"model {spec.name!r} is not in {self.manifest_path}; "
                "run `tryon models build --update-manifest`"
            )
        if (
            expected is not None
            and not force
            and not update_manifest
            and target.exists()
            and sha256_file(target) == expected.sha256
        ):
            return BuildReport(spec.name, target, expected.sha256, expected.transposes, -1, built=False)

        data = source.read_bytes()
        source_sha = sha256_bytes(data)
        if expected is not None and not update_manifest and source_sha != expected.source_sha256:
            raise ModelHashMismatchError(
                f"model {spec.name!r}: source {source} has sha256 {source_sha}, the manifest expects "
                f"{expected.source_sha256}; install mediapipe=={MEDIAPIPE_VERSION}"
            )
        result = convert_tflite(data, spec.name, ConversionOptions(dynamic_batch=spec.batch))
        blob = result.model.SerializeToString()
        digest = sha256_bytes(blob)
        if expected is not None and not update_manifest and digest != expected.sha256:
            raise ModelHashMismatchError(
                f"model {spec.name!r}: converted output has sha256 {digest}, the manifest expects "
                f"{expected.sha256}; if the converter changed on purpose, run "
                "`tryon models build --update-manifest` and commit models/manifest.json"
            )
        tmp = target.with_suffix(".onnx.tmp")
        tmp.write_bytes(blob)
        tmp.replace(target)
        if update_manifest:
            manifest.models[spec.name] = _entry_for(
                spec, result.model, source_sha, digest, result.transpose_count
            )
        logger.info(
            "built %s (%d nodes, %d Transpose)", target, len(result.model.graph.node), result.transpose_count
        )
        return BuildReport(
            spec.name, target, digest, result.transpose_count, len(result.model.graph.node), built=True
        )


def resolve_specs(names: Iterable[str] | None) -> list[ModelSpec]:
    if names is None:
        return list(MODEL_SPECS)
    specs = []
    for name in names:
        if name not in SPECS_BY_NAME:
            known = ", ".join(s.name for s in MODEL_SPECS)
            raise ModelError(f"unknown model {name!r}; known models: {known}")
        specs.append(SPECS_BY_NAME[name])
    return specs


def _entry_for(
    spec: ModelSpec, model: onnx.ModelProto, source_sha: str, digest: str, transposes: int
) -> ModelEntry:
    def infos(values: Iterable[onnx.ValueInfoProto], is_input: bool) -> tuple[TensorInfo, ...]:
        out = []
        for v in values:
            shape = tuple(
                d.dim_param if d.HasField("dim_param") else int(d.dim_value)
                for d in v.type.tensor_type.shape.dim
            )
            dtype = onnx.helper.tensor_dtype_to_np_dtype(v.type.tensor_type.elem_type).name
            out.append(
                TensorInfo(v.name, shape, dtype, layout_of(shape), spec.input_range if is_input else None)
            )
        return tuple(out)

    return ModelEntry(
        name=spec.name,
        source=spec.source,
        source_sha256=source_sha,
        file=spec.filename,
        sha256=digest,
        transposes=transposes,
        inputs=infos(model.graph.input, True),
        outputs=infos(model.graph.output, False),
        description=spec.description,
    )
