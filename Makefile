# Two commands on a fresh machine:
#   make run   - create .venv, install, build the models if missing, start the main job
#   make test  - the same set-up, then lint, type checks and the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
TRYON  := $(VENV)/bin/tryon
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test models lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# Converts only what is missing or stale; checks every file against models/manifest.json.
models: $(STAMP)
	$(TRYON) models build

run: models
	$(TRYON) serve

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# pytest exits 5 when it collects no tests: that is a failure too.
test: models lint
	$(PY) -m pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

bench: models
	$(PY) benchmarks/models.py
	$(PY) benchmarks/perception.py
	$(PY) benchmarks/render.py
	$(PY) benchmarks/e2e.py

# A local Janus for `tryon serve --sfu janus:http://127.0.0.1:8088/janus`: the VideoRoom over HTTP on
# 127.0.0.1:8088, ICE on loopback only (webrtc/sfu/janus_local.py; apt-get install janus gcc). Ctrl-C stops it.
.PHONY: janus
janus: $(STAMP)
	$(PY) -m webrtc.sfu.janus_local

clean:
	rm -rf $(VENV) models/*.onnx .pytest_cache .mypy_cache .ruff_cache
