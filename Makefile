# The two commands of the README: `make run` serves the demo, `make test` runs the suite.
# Both create .venv when absent and install the project into it (quick when nothing changed).

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DB := instance/assetmap.db

.PHONY: run test test-postgres setup lint clean-db

# Where `make run` serves: `make run PORT=8080`, or PORT and HOST in the environment
# (HOST=0.0.0.0 to be reached from other machines).
HOST ?= 127.0.0.1
PORT ?= 5000

run: setup $(DB)
	$(BIN)/assetmap users demo instance/demo-accounts.txt --host "$(HOST)" --port "$(PORT)"
	$(BIN)/assetmap serve --host "$(HOST)" --port "$(PORT)"

# Compiled modules are kept even where PYTHONDONTWRITEBYTECODE is set: without them each test
# process rewrites (for pytest's assertion messages) the tests and the whole of hypothesis and
# schemathesis again, half of the time it takes to collect the tests.
# --dist worksteal: a process that runs out of tests takes some from the other, so one slow
# test near the end does not leave a core idle. TEST_WORKERS: how many test processes (auto:
# a core each and one more, tests/conftest.py; `make test TEST_WORKERS=2` to compare).
# --durations=10 lists the slowest ten.
TEST_WORKERS ?= auto
test: setup
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal --durations=10

# The same suite on PostgreSQL + PostGIS: each test process starts a private cluster of its own
# (tests/engines.py), so nothing needs to be running; it needs Debian's postgresql and
# postgresql-postgis packages (.ci/run installs them), and skips every test saying so without.
test-postgres: setup
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal --durations=10 --engine postgresql

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

# The demo database, built from the real Trafford data when there is no database at $(DB). It
# is built under another name and renamed, so an interrupted build never leaves a half-loaded
# database behind. A database already there is served as it is, never replaced: only the
# commands that make a whole database on purpose (init, serve, postcodes load) create one;
# the others refuse a missing database, saying to run `assetmap init`, and leave no file. (So
# the stamp instance/.demo-built, kept when an empty file left by such a command made this
# step skip, is no longer needed; clean-db still removes an old one.)
$(DB): | $(STAMP)
	rm -f $(DB).building $(DB).building-wal $(DB).building-shm
	ASSETMAP_DB=$(DB).building $(BIN)/assetmap init
	ASSETMAP_DB=$(DB).building $(BIN)/assetmap load data/assets.geojson --who "make run (demo data)"
	ASSETMAP_DB=$(DB).building $(BIN)/assetmap postcodes load data/postcodes/trafford_postcodes_onspd_2022-06_lsoa11.csv
	ASSETMAP_DB=$(DB).building $(BIN)/assetmap areas load data/areas/lsoa_2011_trafford_lsoa_generalised.geojson --level lsoa
	ASSETMAP_DB=$(DB).building $(BIN)/assetmap areas load data/areas/ward_2023_trafford_ward_generalised.geojson --level ward
	ASSETMAP_DB=$(DB).building $(BIN)/assetmap areas need data/areas/imd2019_trafford_lsoa11.csv
	ASSETMAP_DB=$(DB).building $(BIN)/assetmap areas population data/areas/mid-year_population_estimates_all_geographies.csv
	rm -f $(DB)-wal $(DB)-shm
	mv $(DB).building $(DB)

clean-db:
	rm -f $(DB) $(DB)-wal $(DB)-shm instance/.demo-built
