# glance-catalog: developer entry points. Everything lands under .venv/ and .local/ (git-ignored).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
export GLANCE_RELEASE
STAMP := $(VENV)/.installed

.PHONY: venv demo test unit lint glance-up glance-down glance-status clean

venv: $(STAMP)

$(STAMP): pyproject.toml tests/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c tests/constraints.txt -e '.[dev]'
	touch $(STAMP)

# Plan and apply examples/catalog against a throwaway local Glance, then show the empty re-plan.
demo: venv
	$(PY) examples/run_demo.py

# The whole suite: lint, types, unit tests, and functional tests against a real local Glance.
test: venv lint
	$(PY) -m pytest

unit: venv
	$(PY) -m pytest tests/unit

lint: venv
	$(PY) -m ruff check catalog reconciler tests examples bench
	$(PY) -m ruff format --check catalog reconciler tests examples bench
	$(PY) -m mypy

# GLANCE_RELEASE=2024.1: the older release pair (Glance 28, Keystone 25) instead of the newest
# (Glance 33, Keystone 30), with its own service venv, files and ports (tests/localcloud/
# releases.py); also for `make test`, `make demo` and `make test-oldest`.
# GLANCE_DB=postgresql: Glance on a private PostgreSQL with 4 workers (default: sqlite).
# GLANCE_STORES=fast,archive: also a multi-store Glance (file stores) on GC_GLANCE_STORES_PORT.
# REGIONS=2: also RegionTwo's Glance (cloud local-r2) on GC_GLANCE_R2_PORT.
glance-up: venv
	$(PY) -m tests.localcloud up $(if $(GLANCE_DB),--db $(GLANCE_DB)) $(if $(GLANCE_STORES),--stores $(GLANCE_STORES)) $(if $(REGIONS),--regions $(REGIONS))

glance-down:
	$(PYTHON) -m tests.localcloud down --all

glance-status:
	$(PYTHON) -m tests.localcloud status

clean: glance-down
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache
