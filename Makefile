# The two commands: `make run` (the embedded demo on SQLite) and `make test` (the whole suite on
# real PostgreSQL, Redis and Chromium). Everything they need is installed by the targets below.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install messages run services test lint bench worker beat clean

$(BIN)/.installed: pyproject.toml requirements.lock scripts/system_packages.sh
	@# WeasyPrint's Pango/HarfBuzz libraries and the Noto CJK fonts (PDF reports, demo included).
	bash scripts/system_packages.sh
	@# Debian's Python lacks ensurepip until python3-venv is installed.
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { [ "$$(id -u)" = 0 ] && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock ".[dev]"
	touch $@

install: $(BIN)/.installed

# Compiled catalogs are build output, never committed.
messages: install
	$(PY) scripts/compile_messages.py

run: install messages
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver $(HOST):$(PORT)

# Starts PostgreSQL and Redis (installing them when missing) and writes their URLs to .services.env.
services:
	bash scripts/services.sh > .services.env.tmp && mv .services.env.tmp .services.env && cat .services.env

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install messages services
	bash scripts/test_tools.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	set -a && . ./.services.env && set +a && \
	  DJANGO_SETTINGS_MODULE=agency.settings.test $(PY) manage.py makemigrations --check --dry-run && \
	  DJANGO_SETTINGS_MODULE=agency.settings.test $(PY) manage.py migrate --noinput -v 0 && \
	  DJANGO_SETTINGS_MODULE=agency.settings.test $(PY) manage.py check_rls && \
	  $(BIN)/pytest $(PYTEST_ARGS)

bench: install messages services
	set -a && . ./.services.env && set +a && $(PY) bench/run.py

# A worker and beat against the broker in REDIS_URL (see README: "Worker and beat").
worker: install
	$(BIN)/celery -A agency worker --loglevel=info --concurrency=2

beat: install
	$(BIN)/celery -A agency beat --loglevel=info

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .services.env
