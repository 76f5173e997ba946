# Two commands for a newcomer: `make run` and `make test`. Everything else is a convenience.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

# The first Python >= 3.12 found: on PATH, then pyenv's versions (whose shims refuse to run inactive versions).
find_python = for candidate in python3.14 python3.13 python3.12 python3 \
	  $$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 /usr/local/bin/python3.1[2-9] 2>/dev/null | sort -rV); do \
	  if command -v $$candidate >/dev/null 2>&1 && \
	     $$candidate -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	    echo $$candidate; break; fi; done

.PHONY: install lock run test lint format check migrate demo db-stop clean

install: $(STAMP)

# Installs exactly what requirements-dev.lock pins, each file checked against its hash; pyproject.toml keeps the
# ranges, and `make lock` resolves them again.
$(STAMP): pyproject.toml requirements-dev.lock
	@python=$$($(find_python)); \
	if [ -z "$$python" ]; then echo "TrainerHub needs Python 3.12 or newer; none was found." >&2; exit 1; fi; \
	if [ ! -x $(PY) ]; then echo "Creating $(VENV) with $$python"; $$python -m venv $(VENV); fi
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# Resolves pyproject.toml's ranges again (for every supported Python) into the two hashed lock files:
# requirements.lock (what production runs; the Dockerfile) and requirements-dev.lock (the same pins plus the tools).
UV := $(VENV)/bin/uv
LOCK_FLAGS := --universal --python-version 3.12 --generate-hashes --quiet
lock:
	@[ -x $(PY) ] || { echo "Run make install first." >&2; exit 1; }
	$(PY) -m pip install --quiet uv==0.13.9
	printf 'setuptools>=75\n' | $(UV) pip compile pyproject.toml - $(LOCK_FLAGS) -o requirements.lock
	printf 'setuptools>=75\n' | $(UV) pip compile pyproject.toml - --extra dev -c requirements.lock $(LOCK_FLAGS) \
	  -o requirements-dev.lock

# gunicorn (threaded workers; WEB_CONCURRENCY, WEB_THREADS) and whitenoise, beside the Celery worker and beat.
run: install
	$(PY) -m config.devserver

# The same, with Django's autoreloading development server instead of gunicorn: for one person editing code.
.PHONY: dev
dev: install
	$(PY) -m config.devserver --reload

# Two processes (TEST_WORKERS=1 for one), each with its own test database; a module's tests stay in one process.
# The API fuzzing runs after, in one process: under pytest-xdist schemathesis doesn't hand out its cases one by one
# (2 tests instead of 89).
TEST_WORKERS ?= 2
test: install
ifeq ($(strip $(PYTEST_ARGS)),)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --ignore=tests/fuzz
	$(PY) -m pytest tests/fuzz
else
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)
endif

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

check: lint
	$(PY) manage.py makemigrations --check --dry-run

migrate: install
	$(PY) manage.py migrate

demo: install
	$(PY) manage.py demo_setup

db-stop: install
	$(PY) -c "from config.embedded_db import project_cluster; project_cluster().stop()"

clean: db-stop
	rm -rf var
