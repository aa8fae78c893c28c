# make demo: set up, then run the pipeline on the bundled sample data.
# make test: set up, then lint and run the test suite (what CI runs).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# torch goes in first and on its own: asked for by ctgan, pip would pick a multi-GB
# CUDA build. Override for another machine, e.g. make setup TORCH="torch==2.13.0 --index-url <CPU wheel index>"
TORCH ?= torch==2.13.0

.PHONY: setup demo test lint format clean poppler bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# pdf2image (report previews, tests) needs poppler's pdftoppm
poppler:
	@command -v pdftoppm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && apt-get install -y -qq poppler-utils; \
	  else \
	    echo "pdf2image needs poppler (pdftoppm). Install it: sudo apt-get install poppler-utils (Debian/Ubuntu)," \
	         "brew install poppler (macOS) or conda install -c conda-forge poppler" >&2; exit 1; \
	  fi; }

setup: $(STAMP) poppler

demo: setup
	$(BIN)/python orchestrator.py

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf outputs .pytest_cache .ruff_cache

# make bench: synthlake vs SDV's CTGANSynthesizer vs raw ctgan on real public tables (about 50 min
# on 2 cores; make bench BENCH_ARGS=--quick for a few minutes). SDV and the datasets go into their
# own venv, benchmarks/.venv, so they never enter the package's dependencies.
BENCH_VENV := benchmarks/.venv
BENCH_STAMP := $(BENCH_VENV)/.installed
BENCH_ARGS ?=

$(BENCH_STAMP): pyproject.toml benchmarks/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet $(TORCH)
	$(BENCH_VENV)/bin/python -m pip install --quiet -e . -r benchmarks/requirements.txt
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python benchmarks/run.py $(BENCH_ARGS)
