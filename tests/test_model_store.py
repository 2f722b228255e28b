"""The model store: deterministic builds that match the committed manifest, clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tryon.convert.converter import CONVERTER_VERSION
from tryon.errors import ModelError, ModelHashMismatchError, ModelNotFoundError, UnsupportedOpError
from tryon.runtime.manifest import Manifest, sha256_file
from tryon.runtime.specs import MODEL_SPECS
from tryon.runtime.store import ModelStore

REPO_MANIFEST = Path(__file__).resolve().parents[1] / "models" / "manifest.json"


def test_manifest_lists_every_model_with_hashes_and_io() -> None:
    doc = json.loads(REPO_MANIFEST.read_text())
    assert doc["converter_version"] == CONVERTER_VERSION
    assert set(doc["models"]) == {s.name for s in MODEL_SPECS}
    for spec in MODEL_SPECS:
        m = doc["models"][spec.name]
        assert m["source"] == spec.source
        assert len(m["source_sha256"]) == 64
        assert len(m["sha256"]) == 64
        assert m["inputs"][0]["layout"] == "NHWC"
        assert m["inputs"][0]["range"] == list(spec.input_range)
        assert all(o["name"] and o["shape"] and o["layout"] for o in m["outputs"])


def test_build_is_deterministic_and_matches_manifest(tmp_path: Path) -> None:
    """Two builds into two folders give byte-identical files with the manifest's hashes."""
    first, second = tmp_path / "a", tmp_path / "b"
    reports = {}
    for folder in (first, second):
        store = ModelStore(folder, manifest_path=REPO_MANIFEST, auto_build=False)
        reports[folder] = store.build()
    manifest = Manifest.load(REPO_MANIFEST)
    for spec in MODEL_SPECS:
        a, b = (first / spec.filename).read_bytes(), (second / spec.filename).read_bytes()
        assert a == b, f"{spec.name}: two builds differ"
        assert sha256_file(first / spec.filename) == manifest.models[spec.name].sha256
    assert all(r.built for r in reports[first])
    # A third build finds everything up to date and rewrites nothing.
    again = ModelStore(first, manifest_path=REPO_MANIFEST, auto_build=False).build()
    assert not any(r.built for r in again)


def _store_copy(tmp_path: Path, auto_build: bool) -> ModelStore:
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(REPO_MANIFEST, folder / "manifest.json")
    return ModelStore(folder, auto_build=auto_build)


def test_missing_model_without_auto_build_says_how_to_build(tmp_path: Path) -> None:
    store = _store_copy(tmp_path, auto_build=False)
    with pytest.raises(ModelNotFoundError, match=r"face_landmark.*tryon models build"):
        store.path("face_landmark")


def test_first_use_builds_the_missing_model(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = _store_copy(tmp_path, auto_build=True)
    with caplog.at_level("INFO", logger="tryon"):
        path = store.path("iris_landmark")
    assert path.exists()
    assert sha256_file(path) == store.entry("iris_landmark").sha256
    assert any("first use" in r.getMessage() for r in caplog.records)
    assert not (store.models_dir / "face_landmark.onnx").exists()  # only what was asked for


def test_corrupted_model_is_rejected_with_rebuild_hint(tmp_path: Path) -> None:
    store = _store_copy(tmp_path, auto_build=True)
    path = store.path("iris_landmark")
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    fresh = ModelStore(store.models_dir, auto_build=True)
    with pytest.raises(ModelHashMismatchError, match=r"iris_landmark.*tryon models build --force"):
        fresh.path("iris_landmark")
    assert fresh.status("iris_landmark").state == "hash-mismatch"
    fresh.build(["iris_landmark"], force=True)
    assert fresh.path("iris_landmark") == path


def test_stale_manifest_is_reported_not_overwritten(tmp_path: Path) -> None:
    store = _store_copy(tmp_path, auto_build=False)
    doc = json.loads(store.manifest_path.read_text())
    doc["models"]["iris_landmark"]["sha256"] = "0" * 64
    store.manifest_path.write_text(json.dumps(doc))
    with pytest.raises(ModelHashMismatchError, match="--update-manifest"):
        ModelStore(store.models_dir, auto_build=False).build(["iris_landmark"])
    assert not (store.models_dir / "iris_landmark.onnx").exists()


def test_unknown_model_names_the_known_ones(tmp_path: Path) -> None:
    store = _store_copy(tmp_path, auto_build=False)
    with pytest.raises(ModelError, match=r"unknown model 'nose'.*face_landmark"):
        store.path("nose")
    with pytest.raises(ModelError, match=r"unknown model 'nose'"):
        store.build(["nose"])


def test_malformed_manifest_names_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(
        json.dumps({"format": 1, "converter_version": "1", "mediapipe_version": "x", "models": {}})
    )
    with pytest.raises(ModelError, match=r"manifest.json: missing field 'opset'"):
        Manifest.load(path)
    path.write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        Manifest.load(path)


def test_unsupported_operator_names_op_and_model() -> None:
    from tflite_builder import TFLiteBuilder

    from tryon.convert import convert_tflite

    b = TFLiteBuilder()
    x = b.tensor([1, 4])
    y = b.tensor([1, 4])
    b.op("FLOOR", [x], [y])
    with pytest.raises(UnsupportedOpError, match=r"'FLOOR'.*'my_model'"):
        convert_tflite(b.build([x], [y]), "my_model")


def test_garbage_is_not_a_tflite_model() -> None:
    from tryon.convert import convert_tflite
    from tryon.errors import ConversionError

    with pytest.raises(ConversionError, match="junk"):
        convert_tflite(b"\x00\x01 definitely not a flatbuffer", "junk")


def test_manifest_records_the_dynamic_batch_of_the_batched_models(tmp_path: Path) -> None:
    """Format 2: a batched model's tensors start with the symbolic ``"batch"``; the detectors keep
    1; ``"batch"`` anywhere else is refused, and a format-1 manifest (all integers) still reads."""
    manifest = Manifest.load(REPO_MANIFEST)
    for spec in MODEL_SPECS:
        entry = manifest.models[spec.name]
        assert entry.dynamic_batch == spec.batch, spec.name
        first = {t.shape[0] for t in entry.inputs + entry.outputs}
        assert first == ({"batch"} if spec.batch else {1}), spec.name
    assert {s.name for s in MODEL_SPECS if s.batch} == {
        "face_landmark",
        "iris_landmark",
        "pose_landmark_full",
        "hand_landmark_full",
        "selfie_segmentation",
        "selfie_segmentation_landscape",
    }
    doc = json.loads(REPO_MANIFEST.read_text())
    path = tmp_path / "manifest.json"
    doc["models"]["iris_landmark"]["inputs"][0]["shape"] = [1, "batch", 64, 3]
    path.write_text(json.dumps(doc))
    with pytest.raises(ModelError, match=r"malformed manifest.*dimension 1"):
        Manifest.load(path)
    doc = json.loads(REPO_MANIFEST.read_text())
    doc["format"] = 1
    for m in doc["models"].values():
        for t in m["inputs"] + m["outputs"]:
            t["shape"] = [1 if d == "batch" else d for d in t["shape"]]
    path.write_text(json.dumps(doc))
    assert not Manifest.load(path).models["iris_landmark"].dynamic_batch


def test_a_model_built_by_an_older_converter_is_rebuilt(tmp_path: Path) -> None:
    """``make models`` (``tryon models build``) converts what is stale: a file whose hash is not
    the manifest's (a batch-1 model from before the dynamic batch) is converted again."""
    store = _store_copy(tmp_path, auto_build=False)
    from tryon.convert import ConversionOptions, convert_tflite
    from tryon.runtime.store import mediapipe_root

    spec = next(s for s in MODEL_SPECS if s.name == "iris_landmark")
    old = convert_tflite((mediapipe_root() / spec.source).read_bytes(), spec.name, ConversionOptions())
    target = store.models_dir / spec.filename
    target.write_bytes(old.model.SerializeToString())
    assert store.status(spec.name).state == "hash-mismatch"
    (report,) = store.build([spec.name])
    assert report.built
    assert store.status(spec.name).state == "ok"
