"""``models/manifest.json``: what each ONNX model is built from and what it must hash to."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tryon.errors import ModelError

MANIFEST_FORMAT = 2
"""2: a tensor's first dimension may be the symbolic ``"batch"`` (models converted with a dynamic
batch); format 1 manifests (every dimension an integer) are still read."""
READABLE_FORMATS = (1, 2)
BATCH_DIM = "batch"


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int | str, ...]
    """Dimensions; a dynamic batch is the string ``"batch"`` (first dimension only)."""
    dtype: str
    layout: str
    range: tuple[float, float] | None = None


@dataclass(frozen=True)
class ModelEntry:
    name: str
    source: str
    source_sha256: str
    file: str
    sha256: str
    transposes: int
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    description: str = ""

    @property
    def dynamic_batch(self) -> bool:
        """Every input and output takes any batch (first dimension ``"batch"``)."""
        tensors = self.inputs + self.outputs
        return bool(tensors) and all(t.shape[:1] == (BATCH_DIM,) for t in tensors)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("name")
        for key in ("inputs", "outputs"):
            for t in d[key]:
                t["shape"] = list(t["shape"])
                if t["range"] is None:
                    del t["range"]
                else:
                    t["range"] = list(t["range"])
        return d


@dataclass
class Manifest:
    converter_version: str
    mediapipe_version: str
    opset: int
    models: dict[str, ModelEntry] = field(default_factory=dict)

    def to_json(self) -> str:
        doc = {
            "format": MANIFEST_FORMAT,
            "converter_version": self.converter_version,
            "mediapipe_version": self.mediapipe_version,
            "opset": self.opset,
            "models": {name: self.models[name].to_json() for name in sorted(self.models)},
        }
        return json.dumps(doc, indent=2) + "\n"

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ModelError(f"model manifest not found at {path}") from exc
        except json.JSONDecodeError as exc:
            raise ModelError(f"{path}: not valid JSON ({exc})") from exc
        try:
            if doc.get("format") not in READABLE_FORMATS:
                raise ModelError(
                    f"{path}: field 'format': expected one of {READABLE_FORMATS}, got {doc.get('format')!r}"
                )
            models = {name: _entry(name, m) for name, m in doc["models"].items()}
            return cls(
                converter_version=str(doc["converter_version"]),
                mediapipe_version=str(doc["mediapipe_version"]),
                opset=int(doc["opset"]),
                models=models,
            )
        except KeyError as exc:
            raise ModelError(f"{path}: missing field {exc}") from exc
        except (TypeError, ValueError) as exc:
            raise ModelError(f"{path}: malformed manifest ({exc})") from exc


def _tensor(d: dict[str, Any]) -> TensorInfo:
    rng = d.get("range")
    return TensorInfo(
        name=str(d["name"]),
        shape=tuple(_dim(s, i) for i, s in enumerate(d["shape"])),
        dtype=str(d["dtype"]),
        layout=str(d["layout"]),
        range=(float(rng[0]), float(rng[1])) if rng is not None else None,
    )


def _dim(value: Any, axis: int) -> int | str:
    if value == BATCH_DIM and axis == 0:
        return BATCH_DIM
    if isinstance(value, str):
        raise ValueError(
            f"dimension {axis}: expected an integer or (first only) {BATCH_DIM!r}, got {value!r}"
        )
    return int(value)


def _entry(name: str, m: dict[str, Any]) -> ModelEntry:
    return ModelEntry(
        name=name,
        source=str(m["source"]),
        source_sha256=str(m["source_sha256"]),
        file=str(m["file"]),
        sha256=str(m["sha256"]),
        transposes=int(m["transposes"]),
        inputs=tuple(_tensor(t) for t in m["inputs"]),
        outputs=tuple(_tensor(t) for t in m["outputs"]),
        description=str(m.get("description", "")),
    )


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def layout_of(shape: tuple[int | str, ...]) -> str:
    """Layout name of a TFLite tensor (channels-last images; batch-first vectors)."""
    return {4: "NHWC", 3: "NAC", 2: "NC", 1: "C"}.get(len(shape), "scalar")
