#!/usr/bin/env bash
# The GPU check of issue 22, in one prepared run (an NVIDIA GPU, e.g. a lent H200):
#   1. install: the project into a venv (network), or wheels carried in .whl/ (no network);
#   2. say what the GPU offers: nvidia-smi, ONNX Runtime's providers (stops if CUDA is missing);
#   3. build the models (`tryon models build`: only what is missing or stale);
#   4. parity against LiteRT at batch 1 and 4, per sample, on CUDA, then TensorRT (fp32);
#   5. the GPU path's parity (tests/test_gpu_path.py): the fused crop graph (gpu_preprocess)
#      against OpenCV's crop on CPU, and the landmark models against fp32 on CPU; on TensorRT
#      again with fp16 engines (RuntimeConfig.fp16): the measured differences to
#      $OUT/gpu_path_<provider>_<fp32|fp16>.json; then benchmarks/preprocess.py (fused vs OpenCV);
#   6. per-model latency by provider and batch (1, 4, 16, 64) with the batched models;
#   7. benchmarks/density.py, batching off and on, 1, 8 and 32 sessions (SESSIONS=...);
#   steps 4-7 on CUDA, then again on TensorRT, each step under its own timeout. TensorRT's
#   engines go to .cache/trt (a folder per model sha256 and precision), reused by later runs.
# Everything it prints and writes goes to $OUT (the device tool's folder) or benchmarks/results/.
#
#   bash benchmarks/gpu_check.sh            # the whole check (CUDA, then TensorRT): under 10 minutes
#   QUICK=1 bash benchmarks/gpu_check.sh    # CUDA only (~4 min); SESSIONS=1,8,32,64 for more
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-benchmarks/results}"
mkdir -p "$OUT"
LOG="$OUT/gpu_check.log"
exec > >(tee "$LOG") 2>&1
export PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2
export TRYON_TRT_CACHE="${TRYON_TRT_CACHE:-$PWD/.cache/trt}"
step() { printf '\n=== %s (%ss)\n' "$1" "$SECONDS"; }

step "install"
if [ -x .venv/bin/python ] && .venv/bin/python -c 'import tryon' 2>/dev/null; then
    PY=.venv/bin/python
elif [ -d .whl ]; then
    # No network (the device tool's machines): wheels carried in .whl/, onto the image's python3.
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 2
    export PYTHONPATH="/tmp/site:$PWD"
    PY=python3
else
    python3 -m venv .venv && .venv/bin/python -m pip install -q -e ".[test]" || exit 2
    PY=.venv/bin/python
fi
export PYTHONPATH="${PYTHONPATH:-}:$PWD"

step "the GPU and ONNX Runtime's providers"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
"$PY" - <<'EOF' || exit 3
import onnxruntime as ort
from tryon.runtime.providers import cuda_device_count, tensorrt_libraries_present
print("onnxruntime", ort.__version__, ort.get_device(), ort.get_available_providers())
print("CUDA devices:", cuda_device_count(), " TensorRT libraries:", tensorrt_libraries_present())
if "CUDAExecutionProvider" not in ort.get_available_providers() or cuda_device_count() == 0:
    raise SystemExit("no CUDA provider here: install onnxruntime-gpu (with CUDA and cuDNN libraries) first")
EOF
PROVIDERS=cuda
if "$PY" -c 'import sys, onnxruntime as o; from tryon.runtime.providers import tensorrt_libraries_present as t; sys.exit(not ("TensorrtExecutionProvider" in o.get_available_providers() and t()))'; then
    PROVIDERS=cuda,tensorrt
else
    echo "TensorRT: not available here (no provider or no libnvinfer); CUDA only"
fi

step "models"
"$PY" -m tryon models build || exit 4

SESSIONS="${SESSIONS:-1,8,32}"
[ -n "${QUICK:-}" ] && PROVIDERS=cuda
# CUDA first, whole; TensorRT after (its engines are built on first use, cached in .cache/trt).
for p in ${PROVIDERS//,/ }; do
    step "parity on $p (batch 1 and 4, per sample, the tolerances of tests/test_models_parity.py)"
    want=$p; [ "$p" = tensorrt ] && want=tensorrt,cuda
    TRYON_PARITY_PROVIDERS=$want timeout 240 "$PY" -m pytest -q -p no:cacheprovider \
        tests/test_models_parity.py -k matches_litert --junitxml="$OUT/parity_$p.xml"

    step "the GPU path on $p: fused crop and precision against CPU (tests/test_gpu_path.py)"
    TRYON_GPU_PATH_PROVIDERS=$want TRYON_GPU_PATH_REPORT="$OUT/gpu_path_${p}_fp32.json" timeout 240 \
        "$PY" -m pytest -q -p no:cacheprovider tests/test_gpu_path.py -k "fused or precision or binding" \
        --junitxml="$OUT/gpu_path_${p}_fp32.xml"
    if [ "$p" = tensorrt ]; then
        TRYON_GPU_PATH_PROVIDERS=$want TRYON_GPU_PATH_FP16=1 TRYON_GPU_PATH_REPORT="$OUT/gpu_path_${p}_fp16.json" \
            timeout 240 "$PY" -m pytest -q -p no:cacheprovider tests/test_gpu_path.py -k precision \
            --junitxml="$OUT/gpu_path_${p}_fp16.xml"
    fi
    timeout 120 "$PY" benchmarks/preprocess.py --provider "$p" --iterations 100 --out "$OUT/preprocess_$p.json"
    timeout 120 "$PY" benchmarks/preprocess.py --provider "$p" --iterations 100 --rois 4 \
        --out "$OUT/preprocess_${p}_4rois.json"

    step "per-model latency on $p by batch"
    timeout 120 "$PY" - "$p" "$OUT/model_latency_$p.json" <<'EOF'
import json, sys, time
import numpy as np
from tryon.runtime.session import OnnxModel, RuntimeConfig
from tryon.runtime.specs import MODEL_SPECS
from tryon.runtime.store import ModelStore
from pathlib import Path
store, rows = ModelStore(), []
for provider in sys.argv[1].split(","):
    cfg = RuntimeConfig(providers=(provider,), trt_cache_dir=Path(".cache/trt"))
    for spec in (s for s in MODEL_SPECS if s.batch):
        m = OnnxModel(store.path(spec.name), spec.name, cfg)
        (name, (shape, _)), = m.inputs.items()
        for batch in (1, 4, 16, 64):
            x = np.random.default_rng(0).random((batch, *shape[1:]), dtype=np.float32)
            for _ in range(5):
                m.run({name: x})
            ms = []
            for _ in range(50):
                t = time.perf_counter(); m.run({name: x}); ms.append((time.perf_counter() - t) * 1e3)
            r = {"provider": m.provider, "model": spec.name, "batch": batch, "median_ms": float(np.median(ms)),
                 "p95_ms": float(np.percentile(ms, 95)), "per_sample_ms": float(np.median(ms)) / batch}
            rows.append(r)
            print(f"{r['provider']:<28} {spec.name:<30} batch {batch:>3}: {r['median_ms']:7.2f} ms "
                  f"(p95 {r['p95_ms']:.2f}), {r['per_sample_ms']:.3f} ms/sample")
Path(sys.argv[2]).write_text(json.dumps(rows, indent=2))
EOF

    step "density on $p"
    timeout 300 "$PY" benchmarks/density.py --providers "$p" --sessions "$SESSIONS" --seconds 5 \
        --out "$OUT/density_$p.json"
done
step "done"
