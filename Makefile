# FlexPool: `make run` starts everything on the embedded default; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := flexpool.settings

.PHONY: run test install assets migrate seed lint typecheck check bench chaos clean

$(VENV)/.installed: requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.txt
	touch $@

install: $(VENV)/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/vendor/htmx.min.js: node_modules/.installed scripts/copy_assets.mjs
	npm run --silent build

assets: static/vendor/htmx.min.js

migrate: install
	mkdir -p "$${FLEXPOOL_VAR_DIR:-var}"
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: install assets seed
	$(PY) scripts/run_all.py --port $(PORT)

test: install assets
	@chromium=$$(PY=$(PY) scripts/ensure_chromium.sh) || true; \
	CHROMIUM_PATH="$${chromium:-$${CHROMIUM_PATH:-}}" $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy .

check: lint typecheck
	$(PY) manage.py makemigrations --check --dry-run

bench: install assets
	$(PY) bench/run.py $(BENCH)

# The production shape on loopback with faults injected (docs/reliability.md); CHAOS_ARGS=--short
chaos: install
	$(PY) scripts/chaos.py $(CHAOS_ARGS)

clean:
	rm -rf $(VENV) node_modules static/vendor staticfiles var
