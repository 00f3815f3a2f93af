"""Every command opens the database in one place (assetmap/cli/db.py): a database that is
missing, or of another schema version, gets a message saying what to do, not a raw SQLite
error, and a missing one is not made as an empty file."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from assetmap import create_app
from assetmap.cli import main
from assetmap.store import connect, initialise, schema
from tests import engines
from tests.conftest import make_asset

# Each command that opens the database, with arguments it would run with.
OPENS_THE_DATABASE = {
    "load": ["load", "{geojson}"],
    "export": ["export", "geojson", "{out}"],
    "import": ["import", "{csv}", "--dry-run"],
    "imports list": ["imports", "list"],
    "imports show": ["imports", "show", "1"],
    "imports undo": ["imports", "undo", "1", "--yes"],
    "imports prune": ["imports", "prune"],
    "users create": ["users", "create", "sam@example.org", "--role", "admin"],
    "users list": ["users", "list"],
    "users disable": ["users", "disable", "sam@example.org"],
    "users set-password": ["users", "set-password", "sam@example.org"],
    "users demo": ["users", "demo", "{out}"],
    "join-requests purge": ["join-requests", "purge"],
    "join-requests export": ["join-requests", "export", "--email", "jo@example.org"],
    "postcodes find": ["postcodes", "find", "M33 7ZF"],
    "search": ["search", "--lat", "53.4239", "--lon", "-2.3232"],
    "postcodes status": ["postcodes", "status"],
    "areas load": ["areas", "load", "{lsoa}", "--level", "lsoa"],
    "areas need": ["areas", "need", "{imd}"],
    "areas population": ["areas", "population", "{population}"],
    "areas list": ["areas", "list"],
    "coverage": ["coverage"],
    "reminders send": ["reminders", "send", "--dry-run"],
    "feeds add": ["feeds", "add", "http://127.0.0.1:9/api/oruk/", "--source", "nowhere"],
    "feeds list": ["feeds", "list"],
    "feeds sync": ["feeds", "sync", "--preview"],
}
# The commands that make the database, or bring it up to date, on purpose.
MAKE_THE_DATABASE = {"init", "serve", "postcodes load"}
NEED_NO_DATABASE = {"settings", "imports template", "openreferral check"}
# Copy the database whole, at any schema version, each with its own messages for a missing
# or unreadable one (tests/test_backup.py); restore makes a missing one.
WHOLE_DATABASE = {"backup", "restore", "copy"}


def command_names(group: click.Group, prefix: str = "") -> set[str]:
    """Every command of the group, as typed ("imports list"), leaving out hidden old names."""
    names = set()
    for name, command in group.commands.items():
        if command.hidden:
            continue
        if isinstance(command, click.Group):
            names |= command_names(command, f"{prefix}{name} ")
        else:
            names.add(prefix + name)
    return names


@pytest.fixture
def files(tmp_path):
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-2.3034, 53.4263]},
        "properties": {k: v for k, v in make_asset().items() if k not in ("lat", "lon")},
    }
    geojson = tmp_path / "in.geojson"
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    csv = tmp_path / "audit.csv"
    csv.write_text("name,postcode\nSale Walking Group,M33 7ZF\n")
    areas = Path(__file__).resolve().parent.parent / "data" / "areas"
    return {
        "geojson": geojson,
        "csv": csv,
        "out": tmp_path / "out" / "written.txt",
        "lsoa": areas / "lsoa_2011_trafford_lsoa_generalised.geojson",
        "imd": areas / "imd2019_trafford_lsoa11.csv",
        "population": areas / "mid-year_population_estimates_all_geographies.csv",
    }


def run(db_path, args, files):
    app = create_app({"ASSETMAP_DB": str(db_path), "SECRET_KEY": "test-only"})
    return app.test_cli_runner().invoke(args=[arg.format(**files) for arg in args])


def older_database(db_path, monkeypatch):
    """A database brought to the schema version before this assetmap's, as an older
    assetmap left it."""
    with monkeypatch.context() as patch:
        patch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION - 1)
        initialise(db_path)


def test_every_command_is_either_opened_in_one_place_or_makes_the_database():
    app = create_app({"ASSETMAP_DB": "unused.db", "SECRET_KEY": "test-only"})
    known = set(OPENS_THE_DATABASE) | MAKE_THE_DATABASE | NEED_NO_DATABASE
    known |= WHOLE_DATABASE
    assert command_names(app.cli) == known
    assert command_names(main) == known  # the console script has the same commands


@pytest.mark.parametrize("command", OPENS_THE_DATABASE)
def test_a_command_on_a_missing_database_says_run_init_and_makes_no_file(command, tmp_path, files):
    target = engines.missing_target(tmp_path)
    result = run(target, OPENS_THE_DATABASE[command], files)
    assert result.exit_code == 1, result.output
    demo = "" if engines.on_postgresql() else " (or `make run` for the demo)"  # SQLite's demo
    assert result.output == (
        f"Error: there is no database at {target}: run `assetmap init` first{demo}\n"
    )
    assert not engines.exists(target)  # not even the folder for it, on SQLite


@pytest.mark.parametrize("command", OPENS_THE_DATABASE)
def test_a_command_on_an_older_database_says_run_init_and_changes_nothing(
    command, tmp_path, files, monkeypatch
):
    db_path = tmp_path / "assetmap.db"
    older_database(db_path, monkeypatch)
    result = run(db_path, OPENS_THE_DATABASE[command], files)
    assert result.exit_code == 1, result.output
    assert result.output == (
        f"Error: the database is at schema version {schema.SCHEMA_VERSION - 1} and this "
        f"assetmap needs {schema.SCHEMA_VERSION}: run `assetmap init` to bring it up to date\n"
    )
    db = connect(db_path)
    assert schema.current_version(db.conn) == schema.SCHEMA_VERSION - 1
    db.close()


def test_init_brings_an_older_database_up_to_date_and_the_commands_then_work(
    tmp_path, files, monkeypatch
):
    db_path = tmp_path / "assetmap.db"
    older_database(db_path, monkeypatch)
    assert "applied:" in run(db_path, ["init"], files).output
    result = run(db_path, ["load", "{geojson}"], files)
    assert result.exit_code == 0, result.output
    assert "1 new" in result.output


def test_an_empty_file_is_not_taken_for_a_database(tmp_path, files):
    db_path = tmp_path / "assetmap.db"
    db_path.write_bytes(b"")
    result = run(db_path, ["users", "list"], files)
    assert result.exit_code == 1
    assert result.output == "Error: the database is not set up yet: run `assetmap init` first\n"


def test_a_database_newer_than_this_assetmap_asks_for_an_upgrade(tmp_path, files):
    db_path = tmp_path / "assetmap.db"
    initialise(db_path)
    db = connect(db_path)
    db.conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    db.close()
    for args in (["users", "list"], ["init"], ["postcodes", "load", "{csv}"]):
        result = run(db_path, args, files)
        assert result.exit_code == 1, args
        assert "newer than this assetmap" in result.output
        assert "upgrade assetmap" in result.output
        assert "Traceback" not in result.output


def test_a_file_that_is_not_a_database_is_named(tmp_path, files):
    db_path = tmp_path / "assetmap.db"
    db_path.write_text("name,postcode\n" * 200)
    result = run(db_path, ["export", "geojson", "-"], files)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {db_path} is not a database assetmap can open")


@pytest.mark.parametrize("command", sorted(MAKE_THE_DATABASE - {"serve"}))
def test_the_commands_that_make_the_database_still_make_it(command, tmp_path, files):
    db_path = engines.missing_target(tmp_path)
    postcodes = tmp_path / "postcodes.csv"
    postcodes.write_text("postcode,lon,lat\nM33 7ZF,-2.32,53.425111\n")
    args = {"init": ["init"], "postcodes load": ["postcodes", "load", str(postcodes)]}[command]
    result = run(db_path, args, files)
    assert result.exit_code == 0, result.output
    db = connect(db_path)
    assert schema.current_version(db.conn) == schema.SCHEMA_VERSION
    db.close()


def test_init_where_the_role_may_not_create_databases_says_whom_to_ask(tmp_path, files):
    if not engines.on_postgresql():
        pytest.skip("PostgreSQL only: on SQLite, init makes the file")
    target = engines.missing_target(tmp_path)
    cluster = engines.cluster()
    cluster.admin("DROP ROLE IF EXISTS no_createdb")
    cluster.admin("CREATE ROLE no_createdb LOGIN NOCREATEDB")
    try:
        as_role = target.replace("postgres@", "no_createdb@")
        result = run(as_role, ["init"], files)
        assert result.exit_code == 1
        assert result.output.startswith(
            f"Error: there is no database at {as_role} and PostgreSQL refused to create it ("
        )
        assert "ask an administrator to create it (`createdb -O ROLE" in result.output
        assert "Traceback" not in result.output
        assert not engines.exists(target)
    finally:
        cluster.admin("DROP ROLE no_createdb")
