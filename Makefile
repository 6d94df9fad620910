# flxhub: `make run` starts everything on the embedded default; `make test` runs the suite on PostgreSQL and Redis.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
export DJANGO_SETTINGS_MODULE ?= flxhub.settings.base

.PHONY: install run test lint demo clean-data

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# Embedded default: SQLite file and a serverless broker under ./var. Ctrl-C stops web, worker and beat.
run: install
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py migrate --noinput -v0
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py createcachetable
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py collectstatic --noinput -v0
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py directory_load
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py ensure_operator_group
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py load_demo
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py ensure_admin
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py runall

# The whole suite against PostgreSQL and Redis (pytest-django creates the test database itself).
test: install
	DJANGO_SETTINGS_MODULE=flxhub.settings.test $(PY) manage.py collectstatic --noinput -v0
	DJANGO_SETTINGS_MODULE=flxhub.settings.test $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
