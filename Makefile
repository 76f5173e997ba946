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

.PHONY: install run test lint format check migrate demo db-stop clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@python=$$($(find_python)); \
	if [ -z "$$python" ]; then echo "TrainerHub needs Python 3.12 or newer; none was found." >&2; exit 1; fi; \
	if [ ! -x $(PY) ]; then echo "Creating $(VENV) with $$python"; $$python -m venv $(VENV); fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

run: install
	$(PY) -m config.devserver

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

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
