# Two entry points: `make serve` (redis + worker + api on embedded defaults) and `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: serve test lint bench mutation clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml clients/python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m pip install --quiet --no-deps -e clients/python  # the official client (tests/clients)
	touch $(STAMP)

serve: $(STAMP)
	$(PY) -m scripts.serve

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy engine store api worker scripts
	$(VENV)/bin/lint-imports
	bash scripts/install_test_tools.sh
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/mypy engine store api worker scripts && $(VENV)/bin/lint-imports

# mutmut over engine/'s numerical modules with tests/engine only ([tool.mutmut] in pyproject.toml);
# CPU-heavy, so niced; one module: make mutation MUTANTS='engine.losses*'. Scores: TESTING.md
MUTANTS ?=
mutation: $(STAMP)
	$(PY) -m pip install --quiet -r requirements-mutation.txt
	nice -n 19 $(VENV)/bin/mutmut run --max-children 2 $(MUTANTS)
	$(VENV)/bin/mutmut results

bench: $(STAMP)
	$(PY) -m bench.engine
	$(PY) -m bench.service

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache mutants
