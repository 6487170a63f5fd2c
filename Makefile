# The two commands: `make run` starts the whole product, `make test` runs the suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
export DJANGO_SETTINGS_MODULE ?= config.settings.main

.PHONY: run test eval-gate lint typecheck bench install install-dev services env seed migrate db-stop clean

install:
	@scripts/bootstrap.sh runtime

install-dev:
	@scripts/bootstrap.sh dev

services:
	@scripts/ensure_redis.sh

env:
	@scripts/ensure_env.sh

migrate: install services env
	@DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput -v 0

seed: migrate
	@DEBUG=$${DEBUG:-true} $(PY) manage.py seed_demo

run: seed
	@DEBUG=$${DEBUG:-true} $(PY) manage.py collectstatic --noinput -v 0
	@DEBUG=$${DEBUG:-true} $(PY) -m config.supervisor

test: install-dev services
	@scripts/test.sh

# The eval gate of the demo agent against the scripted demo model (a CI step; see docs/evals.md).
eval-gate: migrate
	@scripts/eval_gate_ci.sh

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install-dev
	$(VENV)/bin/mypy .

# The recall-at-scale part of bench/memory.py needs its vector table built first (many minutes):
#   nohup .venv/bin/python bench/memory_vectors.py setup > var/bench_vectors.log 2>&1 &
# Without it, run `BENCH_SKIP_VECTORS=1 make bench`.
bench: install-dev migrate
	$(PY) bench/agent_turn.py
	$(PY) bench/approval.py
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) bench/streaming.py
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) bench/memory.py
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) bench/forks.py
	$(PY) bench/evals.py
	$(PY) bench/workflows.py

db-stop:
	@$(PY) -c "from config.embedded_postgres import embedded_stop; print('PostgreSQL stopped.' if embedded_stop() else 'PostgreSQL was not running.')"

clean:
	rm -rf $(VENV) var/staticfiles .pytest_cache .mypy_cache .ruff_cache
