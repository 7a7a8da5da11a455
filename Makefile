# The two commands a user needs: `make run` (local stack) and `make test` (every gate).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export SAM_CLI_TELEMETRY := 0
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install run test lint format typecheck template build pytest invoke enqueue bench clean openapi

$(STAMP): pyproject.toml layers/shared/requirements.txt
	@echo "==> creating the virtual environment in $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==0.13.8
	@echo "==> installing the project and its pinned development tools"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/wellapi run --port $${PORT:-3000}

test: install lint typecheck template build pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install
	$(BIN)/mypy

template: install
	$(BIN)/sam validate --lint --template template.yaml

build: install
	$(BIN)/sam build --template template.yaml --parallel

pytest: install
	$(BIN)/pytest --cov --cov-report=term-missing $(PYTEST_ARGS)

invoke: install
	$(BIN)/wellapi invoke $(FUNCTION) $(EVENT)

# Not part of `make test`: seeds its own databases (cached in .local/bench-pg), measures every
# goal, prints a table and writes .local/bench.json; 2-3 minutes, more when the build is stale
# (wellapi/local/bench.py; `python -m wellapi.local.bench --help` for --quick, --only...).
bench: install
	$(BIN)/python -m wellapi.local.bench

openapi: install
	$(BIN)/python -m wellapi.openapi openapi.json

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .coverage
