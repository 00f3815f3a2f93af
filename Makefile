# The two commands of the README: `make run` serves the demo, `make test` runs the suite.
# Both create .venv when absent and install the project into it (quick when nothing changed).

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DB := instance/assetmap.db
# Made when the demo database has been built whole: a database file without it (an empty one
# left by a command run before `make run`, say) is built again.
DEMO_BUILT := instance/.demo-built

.PHONY: run test setup lint clean-db

run: setup $(DEMO_BUILT)
	$(BIN)/assetmap users demo instance/demo-accounts.txt
	$(BIN)/assetmap serve --host 127.0.0.1 --port 5000

test: setup
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check assetmap tests scripts

setup: $(STAMP)

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed (python3.11, python3.12, ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Reinstalled only when pyproject.toml changes; the install is editable, so code changes
# need nothing.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The demo database, built once from the real Trafford data. It is built under another
# name and renamed, so an interrupted build never leaves a half-loaded database behind.
$(DEMO_BUILT): | $(STAMP)
	rm -f $(DB).building $(DB).building-wal $(DB).building-shm
	ASSETMAP_DB=$(DB).building $(BIN)/assetmap init
	ASSETMAP_DB=$(DB).building $(BIN)/assetmap load data/assets.geojson --who "make run (demo data)"
	ASSETMAP_DB=$(DB).building $(BIN)/assetmap postcodes load data/postcodes/trafford_postcodes_onspd_2022-06_lsoa11.csv
	rm -f $(DB)-wal $(DB)-shm
	mv $(DB).building $(DB)
	touch $(DEMO_BUILT)

clean-db:
	rm -f $(DB) $(DB)-wal $(DB)-shm $(DEMO_BUILT)
