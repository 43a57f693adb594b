# glance-catalog: developer entry points. Everything lands under .venv*/ and .local/ (git-ignored).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# Another interpreter gets its own venv: make unit PYTHON=/path/to/python3.12 VENV=.venv-3.12
VENV ?= .venv
PY := $(VENV)/bin/python
export GLANCE_RELEASE
STAMP := $(VENV)/.installed
# Extra pytest arguments for unit, unit-oldest, test-oldest and unit-py313:
#   make test-oldest PYTEST_ARGS='-x -k apply'
PYTEST_ARGS ?=
# What needs no Glance: the unit tests (pure, fast: `make unit`), and the tests that run bash,
# subprocesses and stand-in servers on 127.0.0.1 (the examples', the harness's own, and the
# product's against loopback servers). unit-oldest and unit-py313 run all of it, so that the
# oldest dependencies and Python 3.13 see them too.
OFFLINE_TESTS := tests/unit tests/examples tests/harness tests/loopback

# The oldest declared dependencies (tests/constraints-oldest.txt), on $(PYTHON).
OLDEST_VENV := .venv-oldest
OLDEST_PY := $(OLDEST_VENV)/bin/python
OLDEST_STAMP := $(OLDEST_VENV)/.installed

# The newest Python the package supports; CI may point it elsewhere: make unit-py313 PYTHON313=...
PYTHON313 ?= $(firstword $(wildcard /root/.pyenv/versions/3.13.*/bin/python) $(shell command -v python3.13))
VENV313 := .venv-3.13

.PHONY: venv venv-oldest demo test unit unit-oldest test-oldest unit-py313 lint \
	glance-up glance-down glance-status clean

venv: $(STAMP)

$(STAMP): pyproject.toml tests/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c tests/constraints.txt -e '.[dev,docs]'
	touch $(STAMP)

venv-oldest: $(OLDEST_STAMP)

$(OLDEST_STAMP): pyproject.toml tests/constraints-oldest.txt
	$(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_PY) -m pip install --quiet --upgrade pip
	$(OLDEST_PY) -m pip install --quiet -c tests/constraints-oldest.txt -e '.[dev]'
	touch $(OLDEST_STAMP)

# Plan and apply examples/catalog against a throwaway local Glance, then show the empty re-plan.
demo: venv
	$(PY) examples/run_demo.py

# The whole suite: lint, types, unit tests, and functional tests against a real local Glance.
test: venv lint
	$(PY) -m pytest

unit: venv
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

# The offline and functional tests with the oldest declared dependencies.
unit-oldest: venv-oldest
	$(OLDEST_PY) -m pytest $(OFFLINE_TESTS) $(PYTEST_ARGS)

test-oldest: venv-oldest
	$(OLDEST_PY) -m pytest tests/functional $(PYTEST_ARGS)

# The offline tests (OFFLINE_TESTS) on Python 3.13, in their own venv.
unit-py313:
	@test -n "$(PYTHON313)" || { echo "no Python 3.13 found: set PYTHON313=/path/to/python3.13" >&2; exit 2; }
	$(MAKE) venv PYTHON=$(PYTHON313) VENV=$(VENV313)
	$(VENV313)/bin/python -m pytest $(OFFLINE_TESTS) $(PYTEST_ARGS)

# The docs build is not --quiet: that hides the warnings --strict turns into a failure.
lint: venv
	$(PY) -m ruff check catalog reconciler tests examples bench
	$(PY) -m ruff format --check catalog reconciler tests examples bench
	$(PY) -m mypy
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict
	$(VENV)/bin/lint-imports

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
	rm -rf $(VENV) .venv $(OLDEST_VENV) .venv-3.* .local .pytest_cache .mypy_cache .ruff_cache
