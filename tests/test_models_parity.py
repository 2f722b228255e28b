"""Whole-model parity: every converted model against the TFLite original in LiteRT.

Inputs: seeded uniform noise over the model's input range, and crops of skimage's astronaut
portrait resized to the input size and scaled to that range.

Tolerance: for every output, max |onnx − tflite| ≤ 1e-4 × max(1, max |tflite|). One stated
exception, ``pose_landmark_full``'s segmentation logits (``Identity_2``): its 256×256 decoder
amplifies float32 rounding so much that LiteRT's own XNNPACK and reference kernels disagree by
1e-4 to 6e-4 relative on these inputs (asserted below, so the exception stays justified). For it
the bound is 2e-3 relative, and after the sigmoid the mask differs by at most 5e-3.

Models converted with a dynamic batch (``ModelSpec.batch``) run the same inputs as one batch of 4
and as batches of 1; every sample of both must meet the same bounds against LiteRT, which runs
each sample alone (its models have batch 1).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort
import pytest
from numpy.typing import NDArray
from tflite_builder import assert_parity

from tryon.runtime.providers import CPU, normalize
from tryon.runtime.specs import MODEL_SPECS, SPECS_BY_NAME, ModelSpec
from tryon.runtime.store import ModelStore

NOISY_OUTPUTS = {("pose_landmark_full", "Identity_2"): 2e-3}
PROVIDERS = [normalize(p) for p in os.environ.get("TRYON_PARITY_PROVIDERS", "cpu").split(",")]
"""Execution providers the converted models run on here (``TRYON_PARITY_PROVIDERS=cuda``, or
``tensorrt,cuda``, on a GPU machine: ``benchmarks/gpu_check.sh``); CPU by default."""


def sigmoid(v: NDArray[Any]) -> NDArray[np.float64]:
    return np.exp(-np.logaddexp(0.0, -v.astype(np.float64)))


def crops(img: NDArray[np.uint8]) -> list[NDArray[np.uint8]]:
    return [img, img[20:420, 60:460], img[100:400, 150:450], cv2.flip(img, 1)[0:300, 100:400]]


def model_inputs(
    spec: ModelSpec, shape: tuple[int, ...], img: NDArray[np.uint8]
) -> list[NDArray[np.float32]]:
    _, h, w, _ = shape
    lo, hi = spec.input_range
    feeds = [
        (np.random.default_rng(seed).random(shape, dtype=np.float32) * (hi - lo) + lo).astype(np.float32)
        for seed in range(2)
    ]
    for c in crops(img):
        x = cv2.resize(c, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        feeds.append((x * (hi - lo) + lo)[None].astype(np.float32))
    return feeds


def litert(path: Path, resolver: Any = None) -> Any:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(
        model_path=str(path), num_threads=2, experimental_op_resolver_type=resolver or OpResolverType.AUTO
    )
    it.allocate_tensors()
    return it


def invoke(it: Any, x: NDArray[np.float32]) -> dict[str, NDArray[Any]]:
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return {d["name"]: it.get_tensor(d["index"]).copy() for d in it.get_output_details()}


@pytest.mark.parametrize("spec", MODEL_SPECS, ids=lambda s: s.name)
def test_model_matches_litert(
    spec: ModelSpec, store: ModelStore, mp_root: Path, astronaut: NDArray[np.uint8]
) -> None:
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(
        str(store.path(spec.name)), so, providers=list(dict.fromkeys([*PROVIDERS, CPU]))
    )
    assert sess.get_providers()[0] == PROVIDERS[0], f"{PROVIDERS[0]} is not available here"
    entry = store.entry(spec.name)
    assert [i.name for i in sess.get_inputs()] == [t.name for t in entry.inputs]
    assert [o.name for o in sess.get_outputs()] == [t.name for t in entry.outputs]
    assert entry.dynamic_batch == spec.batch
    assert sess.get_inputs()[0].shape[0] == ("batch" if spec.batch else 1)
    it = litert(mp_root / spec.source)
    input_name = sess.get_inputs()[0].name
    names = [o.name for o in sess.get_outputs()]
    shape = (1, *(int(d) for d in entry.inputs[0].shape[1:]))
    feeds = model_inputs(spec, shape, astronaut)
    wants = [invoke(it, x) for x in feeds]
    for x, want in zip(feeds, wants, strict=True):
        got = dict(zip(names, sess.run(None, {input_name: x}), strict=True))
        assert set(got) == set(want)
        for name in want:
            rtol = NOISY_OUTPUTS.get((spec.name, name), 1e-4)
            assert_parity([got[name]], [want[name]], rtol=rtol)
    if not spec.batch:
        return
    for start in sorted({0, len(feeds) - 4}):
        batch = np.concatenate(feeds[start : start + 4])
        outs = dict(zip(names, sess.run(None, {input_name: batch}), strict=True))
        for k in range(4):
            want = wants[start + k]
            for name in want:
                assert outs[name].shape[0] == 4
                rtol = NOISY_OUTPUTS.get((spec.name, name), 1e-4)
                assert_parity([outs[name][k : k + 1]], [want[name]], rtol=rtol)


def test_pose_segmentation_logits_noise_floor(
    store: ModelStore, mp_root: Path, astronaut: NDArray[np.uint8]
) -> None:
    """Why the exception above is fair: LiteRT's two CPU kernels disagree as much as we do."""
    from ai_edge_litert.interpreter import OpResolverType

    spec = SPECS_BY_NAME["pose_landmark_full"]
    path = mp_root / spec.source
    xnn, ref = litert(path), litert(path, OpResolverType.BUILTIN_REF)
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(str(store.path(spec.name)), so, providers=["CPUExecutionProvider"])
    worst_litert = worst_onnx = 0.0
    for x in model_inputs(spec, (1, 256, 256, 3), astronaut):
        r = invoke(ref, x)["Identity_2"]
        scale = max(1.0, float(np.abs(r).max()))
        worst_litert = max(worst_litert, float(np.abs(invoke(xnn, x)["Identity_2"] - r).max()) / scale)
        got = sess.run(["Identity_2"], {"input_1": x})[0]
        worst_onnx = max(worst_onnx, float(np.abs(got - r).max()) / scale)
        mask_diff = np.abs(sigmoid(got) - sigmoid(r))
        assert float(mask_diff.max()) <= 5e-3
    assert worst_litert > 1e-4, "LiteRT's kernels now agree: drop the exception for Identity_2"
    assert worst_onnx <= 2e-3
