# thresher: `make run` and `make test` work on a fresh clone with Python 3.11.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RAW ?= raw
CURATED ?= curated

# Offline and quiet: no telemetry, and Prefect state kept inside the project.
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_HOME ?= $(CURDIR)/.prefect

.PHONY: run test lint eval install clean serve stop status

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,train]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/thresher ingest $(RAW) $(CURATED)

# Two test processes (pytest-xdist; a test file stays in one process, so its fixtures are
# made once): most of the suite's time is spent waiting on Prefect runs, servers and
# subprocesses. TEST_WORKERS=0 runs it in this process alone.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

# A local Prefect server (127.0.0.1:$${PREFECT_SERVER_API_PORT:-4200}, SQLite in .prefect/)
# serving the deployments of prefect.yaml, detached; `make stop` stops both by PID.
serve: $(STAMP)
	$(BIN)/python -m flows.serve start

stop:
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m flows.serve stop; else echo "nothing to stop"; fi

status: $(STAMP)
	$(BIN)/python -m flows.serve status

lint: $(STAMP)
	$(BIN)/ruff check .

eval: $(STAMP)
	$(BIN)/python benchmarks/eval_aeb.py

clean:
	rm -rf $(VENV) .prefect .pytest_cache
