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

.PHONY: install train run shell test test-unit test-e2e validate bench bench-load report lint format clean callbacks \
	system-deps

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || "$$(scripts/find_python.sh)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==24.2"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $@

$(SPACY): $(STAMP) scripts/setup_spacy.py
	$(PY) scripts/setup_spacy.py
	@touch $@

install: $(STAMP) $(SPACY)

system-deps:
	scripts/system_deps.sh

train: install
	$(PY) scripts/train.py

run: train
	scripts/run.sh

shell: train
	@ACTION_PORT=$${ACTION_PORT:-5056}; \
	$(RASA) run actions --actions actions --port $$ACTION_PORT >/dev/null 2>&1 & pid=$$!; \
	trap "kill $$pid" EXIT INT TERM HUP; mkdir -p var; \
	export ACTION_SERVER_URL=http://localhost:$$ACTION_PORT/webhook TRACKER_STORE_URL=sqlite:///var/shell.db; \
	source scripts/env.sh; $(PY) -m bot.server shell -m models/assistant.tar.gz --endpoints endpoints.yml

validate: install
	$(RASA) data validate --config bot/config.yml --domain bot/domain --data data --fail-on-warnings

test-unit: install
	$(PY) -m pytest -m "not e2e and not model" -q

test-e2e: train
	$(PY) -m pytest -m e2e -q

test: system-deps validate train
	$(PY) -m pytest -q

bench: train
	$(PY) -m tests.bench

bench-load: train
	$(PY) -m tests.load --write

report: install
	$(PY) -m reports $(REPORT_ARGS)

callbacks: install
	@$(PY) -m callbacks.cli list --status open --format jsonl

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf models .spacy var .pytest_cache
