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

# Needs `make run` serving in another terminal: puts FILE's messages (an SQS event such as
# events/sync-provenance-linked.json, or a bare message body) on the local sync queue.
enqueue: install
	$(if $(FILE),,$(error usage: make enqueue FILE=events/sync-provenance-linked.json))
	$(BIN)/wellapi enqueue $(FILE)

# Not part of `make test`: seeds its own databases (cached in .local/bench-pg), measures every
# goal, prints a table and writes .local/bench.json; 2-3 minutes, more when the build is stale
# (wellapi/local/bench.py; `python -m wellapi.local.bench --help` for --quick, --only...).
bench: install
	$(BIN)/python -m wellapi.local.bench

.PHONY: fuzz load

# Not part of `make test`, which runs a bounded, deterministic pass of the same test (a few
# examples per operation, the same requests every run): Schemathesis against openapi.json and
# the local server, WELLAPI_FUZZ_EXAMPLES (300) examples per operation, with a fresh random
# seed each run; `WELLAPI_FUZZ_SEED=<the printed seed> make fuzz` replays one. About 3 minutes;
# the requests sent, by status, are written to .local/fuzz.json.
fuzz: install
	@seed=$${WELLAPI_FUZZ_SEED:-$$($(BIN)/python -c 'import random; print(random.randrange(2**32))')}; \
	echo "==> schemathesis seed $$seed (WELLAPI_FUZZ_SEED=$$seed make fuzz replays it)"; \
	WELLAPI_FUZZ_SEED=$$seed WELLAPI_FUZZ_EXAMPLES=$${WELLAPI_FUZZ_EXAMPLES:-300} \
		$(BIN)/pytest tests/test_fuzz_openapi.py -p no:cacheprovider -q; \
	status=$$?; cat .local/fuzz.json 2>/dev/null; exit $$status

# Not part of `make test`: 20 s of mixed reads and writes by 8 workers in two workspaces against
# the local server (in this process, DB_POOL_SIZE=8) on a fresh database `wellapi_load`; prints
# throughput and p50/p90/p99/max latency, writes .local/load.json, fails on any error
# (wellapi/local/load.py; `python -m wellapi.local.load --help` for --duration, --workers...).
load: install
	$(BIN)/python -m wellapi.local.load

openapi: install
	$(BIN)/python -m wellapi.openapi openapi.json

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .coverage
