# Two commands for a fresh machine with Python 3.11, 3.12 or 3.13: `make run` and `make test`.
# The newest of python3.13, python3.12, python3.11 and python3 that runs and is >= 3.11.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
  $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { command -v $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Hashed lock files (make lock): everything for development, and the runtime alone (Docker).
DEV_LOCK := requirements/dev.txt
RUNTIME_LOCK := requirements/runtime.txt
HOST ?= 127.0.0.1
PORT ?= 8000
# Interpreters that `make test-pythons` runs the domain suite on, besides the venv's.
PYTHONS ?= 3.12 3.13

.PHONY: run test test-pythons lint lock openapi bench clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is needed (looked for" \
	  "python3.13, python3.12, python3.11, python3); or run make PYTHON=/path/to/python" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Exactly the locked versions, checked against their hashes, then the project itself;
# reinstalled whenever the lock or pyproject.toml changes. pip check fails when pyproject.toml
# gained a dependency that the lock lacks: run `make lock`.
$(STAMP): $(DEV_LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

# Regenerate both locks from pyproject.toml (after adding or changing a dependency): newest
# versions allowed, one file valid on every supported Python and platform. uv comes from the
# dev lock; without a venv yet, from the index.
lock: | $(BIN)/python
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile --quiet pyproject.toml --universal --python-version 3.11 \
	  --generate-hashes --extra dev --extra embedded -o $(DEV_LOCK)
	$(BIN)/uv pip compile --quiet pyproject.toml --universal --python-version 3.11 \
	  --generate-hashes -o $(RUNTIME_LOCK)

run: export LOYALTY_LOG_FORMAT ?= text
run: $(STAMP)
	$(BIN)/loyalty migrate
	$(BIN)/loyalty seed-demo
	$(BIN)/loyalty serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# The domain suite on the other Pythons first, so the whole suite's summary ends the output.
test: lint test-pythons
	$(BIN)/pytest

# The install and the domain suite on each of PYTHONS (found on PATH, else in pyenv), each in a
# venv of its own under .venvs/. An interpreter not found is reported; under CI it fails.
test-pythons:
	@for v in $(PYTHONS); do \
	  py=$$(sh scripts/find-python $$v) || { echo "Python $$v: not found" >&2; \
	    if [ -n "$$CI" ]; then exit 1; else continue; fi; }; \
	  venv=.venvs/$$v; echo "Python $$v: $$py -> $$venv"; \
	  if [ ! -f $$venv/.installed ] || [ $(DEV_LOCK) -nt $$venv/.installed ] \
	      || [ pyproject.toml -nt $$venv/.installed ]; then \
	    $$py -m venv $$venv && \
	    $$venv/bin/python -m pip install --quiet --upgrade pip && \
	    $$venv/bin/python -m pip install --quiet --require-hashes -r $(DEV_LOCK) && \
	    $$venv/bin/python -m pip install --quiet --no-deps -e . && \
	    $$venv/bin/python -m pip check && touch $$venv/.installed || exit 1; \
	  fi; \
	  $$venv/bin/python -m pytest -q -p no:cacheprovider tests/domain || exit 1; \
	done

openapi: $(STAMP)
	$(BIN)/loyalty openapi

bench: $(STAMP)
	bash bench/run.sh

clean:
	rm -rf $(VENV) .venvs .pytest_cache .ruff_cache .hypothesis .import_linter_cache
