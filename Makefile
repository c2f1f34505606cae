# Two commands for a fresh clone: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
STAMP := $(VENV)/.installed
SPACY := .spacy/de_pipeline/meta.json
export TF_CPP_MIN_LOG_LEVEL ?= 2
export RASA_TELEMETRY_ENABLED ?= false
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1
export PYTHONWARNINGS ?= ignore::DeprecationWarning

.PHONY: help install train run shell test test-unit test-e2e validate bench bench-load report lint format clean callbacks \
	system-deps catalogue

help: ## this list
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || "$$(scripts/find_python.sh)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==24.2"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $@

$(SPACY): $(STAMP) scripts/setup_spacy.py
	$(PY) scripts/setup_spacy.py
	@touch $@

install: $(STAMP) $(SPACY) ## virtualenv in .venv with the pinned packages and the German spaCy pipeline

system-deps: ## the Debian packages the tests need (PostgreSQL, Redis, Chromium), when root
	scripts/system_deps.sh

catalogue: install ## rewrite the Rasa files that follow from knowledge/data/topics.yml and the cards
	$(PY) -m bot.catalogue

train: install ## train models/assistant.tar.gz when config, domain or data changed
	$(PY) scripts/train.py

run: train ## start the assistant on embedded defaults (http://localhost:5005)
	scripts/run.sh

shell: train ## chat with the assistant in the terminal
	@ACTION_PORT=$${ACTION_PORT:-5056}; \
	$(RASA) run actions --actions actions --port $$ACTION_PORT >/dev/null 2>&1 & pid=$$!; \
	trap "kill $$pid" EXIT INT TERM HUP; mkdir -p var; \
	export ACTION_SERVER_URL=http://localhost:$$ACTION_PORT/webhook TRACKER_STORE_URL=sqlite:///var/shell.db; \
	source scripts/env.sh; $(PY) -m bot.server shell -m models/assistant.tar.gz --endpoints endpoints.yml

validate: install ## rasa data validate
	$(RASA) data validate --config bot/config.yml --domain bot/domain --data data --fail-on-warnings

test-unit: install ## the fast tests, without the trained model
	$(PY) -m pytest -m "not e2e and not model" -q

test-e2e: train ## only the tests against the running servers
	$(PY) -m pytest -m e2e -q

test: system-deps validate train ## everything: validate, train, every test
	$(PY) -m pytest -q

bench: train ## blind sets, dev set, resolver and latency (docs/benchmarks.md)
	$(PY) -m tests.bench

bench-load: train ## load: ours on one and two servers next to `rasa init`
	$(PY) -m tests.load --write

report: install ## deflection report per day and office
	$(PY) -m reports $(REPORT_ARGS)

callbacks: install ## the open callback requests as JSON lines
	@$(PY) -m callbacks.cli list --status open --format jsonl

lint: install ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install ## ruff fix and format
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean: ## remove models, spaCy pipeline and local data
	rm -rf models .spacy var .pytest_cache
