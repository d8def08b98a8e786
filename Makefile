# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export OPENBLAS_NUM_THREADS ?= 1
export MPLBACKEND ?= Agg

.PHONY: install dev demo test typecheck data bench docs example clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

dev: $(VENV)/.installed-dev

## Run a whole evaluation on the bundled synthetic data and write reports/demo/report.html
demo: install
	$(BIN)/impact demo --out reports/demo

## Install what the tests need, check the types (mypy, zero errors) and run the suite
test: dev
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -q

## Regenerate data/synthetic/ byte for byte
data: install
	$(BIN)/impact simulate --registers --seed 2022 --n-persons 20000 --out data/synthetic

## API reference from the docstrings (pdoc) into docs/_build/
docs: install
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	$(BIN)/python docs/build.py docs/_build

## A synthetic register extract and monitoring records, then the evaluation examples/evaluation.toml describes
example: install
	$(BIN)/impact simulate --registers --seed 2022 --n-persons 20000 --monitoring --out examples/data
	$(BIN)/impact run examples/evaluation.toml

## Types only
typecheck: dev
	$(BIN)/python -m mypy

bench: install
	$(BIN)/python benchmarks/bench_matching.py

clean:
	rm -rf $(VENV) reports .pytest_cache docs/_build examples/data
