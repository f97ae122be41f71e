# Causerie — the two commands are `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
BASE := $(VENV)/.installed-base
TEST := $(VENV)/.installed-test

.PHONY: demo html serve test lint typecheck pytest check translations browser-tools clean help

help:
	@echo "make demo           set up, build the demo site and serve it at http://$(HOST):$(PORT)/ (comments: :8081, /admin password: demo)"
	@echo "make test           set up and run the whole test suite (ruff, mypy, pytest)"
	@echo "make html           build the site into output/"
	@echo "make serve          serve output/ as it is (no rebuild)"
	@echo "make check          lint the content (publish check)"
	@echo "make translations   re-extract the theme's and /admin's UI strings and update the .po files"
	@echo "make browser-tools  install axe-core and vnu-jar (npm) for the browser tests"

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Causerie needs Python 3.11 or newer; set PYTHON=python3.x"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "Cannot create a virtual environment: on Debian/Ubuntu run 'apt-get install python3-venv'"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip

$(BASE): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(TEST): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(BASE)

# The demo also runs the comment receiver; its moderation page takes the
# password "demo" unless CAUSERIE_ADMIN_SECRET is set (a local demo only).
demo: $(BASE)
	CAUSERIE_ADMIN_SECRET="$${CAUSERIE_ADMIN_SECRET:-demo}" \
	  $(BIN)/publish serve --mentions --host $(HOST) --port $(PORT)

html: $(BASE)
	$(BIN)/publish build

serve: $(BASE)
	$(BIN)/publish serve --no-build --host $(HOST) --port $(PORT)

check: $(BASE)
	$(BIN)/publish check

lint: $(TEST)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(TEST)
	$(BIN)/mypy

pytest: $(TEST)
	$(BIN)/python -m pytest

test: lint typecheck pytest

translations: $(TEST)
	$(BIN)/pybabel extract -F babel.cfg -o theme/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i theme/translations/messages.pot -d theme/translations --no-fuzzy-matching
	$(BIN)/pybabel extract -F babel-admin.cfg -k N_ -o plugins/causerie/webmentions/receiver/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i plugins/causerie/webmentions/receiver/translations/messages.pot -d plugins/causerie/webmentions/receiver/translations --no-fuzzy-matching
	$(BIN)/pybabel extract -F babel-messages.cfg --no-default-keywords -k N_ -k tr:2 -o plugins/causerie/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i plugins/causerie/translations/messages.pot -d plugins/causerie/translations --no-fuzzy-matching

browser-tools:
	npm install --prefix .tools --no-audit --no-fund axe-core vnu-jar

clean:
	rm -rf output test-artifacts .pytest_cache .mypy_cache .ruff_cache
