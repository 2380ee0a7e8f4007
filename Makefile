# Task recipes. `make run` serves the API, `make test` runs lint and the suite; both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= config.settings.local

.DEFAULT_GOAL := help
.PHONY: help run test lint fmt audit migrate seed shell bench profile stress fuzz db-start db-stop db-status up down clean

help: ## List the recipes
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.base-installed: requirements/base.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/base.txt
	touch $@

$(VENV)/.dev-installed: requirements/base.txt requirements/dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/dev.txt
	touch $@ $(VENV)/.base-installed

run: $(VENV)/.base-installed migrate ## Serve the API with gunicorn on 127.0.0.1:$PORT (JSON logs on stdout)
	PORT=$(PORT) $(BIN)/gunicorn -c config/gunicorn.conf.py config.wsgi

test: $(VENV)/.dev-installed ## Lint, check formatting and layers, run the whole suite on PostgreSQL
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/pytest

lint: $(VENV)/.dev-installed ## ruff check, format check and the app layers (import-linter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

fmt: $(VENV)/.dev-installed ## Fix lint and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

$(VENV)/.audit-installed: requirements/base.txt requirements/dev.txt requirements/audit.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/audit.txt
	touch $@ $(VENV)/.dev-installed $(VENV)/.base-installed

audit: $(VENV)/.audit-installed ## pip-audit requirements/ for known vulnerabilities (needs the network; not in CI)
	$(BIN)/python -m config.audit

migrate: $(VENV)/.base-installed ## Apply migrations and create the cache table
	$(MANAGE) migrate --noinput
	$(MANAGE) createcachetable

seed: migrate ## Load demo data
	$(MANAGE) seed_demo

shell: $(VENV)/.base-installed ## Django shell
	$(MANAGE) shell

bench: $(VENV)/.dev-installed ## Benchmark POST /orders (wrk) against the raw-SQL ceiling (pgbench)
	$(BIN)/python bench/run.py

profile: $(VENV)/.dev-installed ## Sample a gunicorn worker with py-spy under the spread workload
	$(BIN)/python bench/profile.py

stress: $(VENV)/.dev-installed ## Races on orders, carts, payments and shipments against a server of its own
	$(BIN)/python bench/stress.py

fuzz: $(VENV)/.dev-installed ## schemathesis against /schema as a customer and an admin (FUZZ_EXAMPLES=25)
	$(BIN)/python bench/fuzz.py

db-start: $(VENV)/.base-installed ## Start the embedded PostgreSQL (done automatically when needed)
	$(BIN)/python -m config.embedded_postgres start

db-stop: $(VENV)/.base-installed ## Stop the embedded PostgreSQL (it outlives the processes that use it)
	$(BIN)/python -m config.embedded_postgres stop

db-status: $(VENV)/.base-installed ## Is the embedded PostgreSQL running?
	$(BIN)/python -m config.embedded_postgres status

up: ## docker compose: PostgreSQL 16 and the API on :8000
	docker compose up --build -d

down: ## docker compose: stop and remove the containers
	docker compose down

clean: db-stop ## Stop the embedded database and delete .venv and .data
	rm -rf $(VENV) .data
