"""`assetmap copy FROM_DB TO_DB`: a council moves its whole directory from SQLite to PostgreSQL
(and back), and nothing is lost on the way: the exports, every table and the searches are the
same, and the app carries on adding assets and accounts on the copy.

The directory is the demo as `make run` builds it (the real Trafford assets, postcodes, areas,
need and population), plus what people add to it: accounts and their sessions, a link worker's
plan and referral, an edit in history, an import run with a rejected row, a resident's request
to join and its change of status, and assets named with hostile strings. These tests need
PostgreSQL (tests/engines.py `cluster()`): they run in the PostgreSQL run (`make
test-postgres`), are skipped in the SQLite run, and skip, saying why, where it is not
installed.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
from pathlib import Path

import pytest

from assetmap import create_app
from assetmap.store import bulk, connect, initialise, postgres, schema
from tests import engines
from tests.conftest import add_user, make_asset, save_raw
from tests.hostile import EXACT

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.postgresql_only("copies between SQLite and PostgreSQL")
DEMO_COMMANDS = (
    ("init",),
    ("load", ROOT / "data" / "assets.geojson", "--who", "make run (demo data)"),
    ("postcodes", "load", ROOT / "data/postcodes/trafford_postcodes_onspd_2022-06_lsoa11.csv"),
    ("areas", "load", ROOT / "data/areas/lsoa_2011_trafford_lsoa_generalised.geojson",
     "--level", "lsoa"),
    ("areas", "load", ROOT / "data/areas/ward_2023_trafford_ward_generalised.geojson",
     "--level", "ward"),
    ("areas", "need", ROOT / "data/areas/imd2019_trafford_lsoa11.csv"),
    ("areas", "population", ROOT / "data/areas/mid-year_population_estimates_all_geographies.csv"),
)  # fmt: skip
AUDIT = (
    "Ref,Name,Kind,Strand,Postcode\n"
    "C1,Sale Sewing Bee,group,access_community_resources,M33 7ZF\n"
    "C2,Sale Stitchers,grp,access_community_resources,M33 7ZF\n"
)
SEARCHES = (
    ("--postcode", "M33 7ZF"),
    ("--postcode", "M33 7ZF", "--q", "walking"),
    ("--lat", "53.4450", "--lon", "-2.3700", "--radius", "5", "--q", "art, music"),
    ("--postcode", "WA15", "--radius", "4", "--strand", "volunteer_peer_roles"),
)
# Tables the directory built here has rows in (every table is compared, these must not be empty).
WITH_ROWS = (
    "assets", "asset_history", "users", "sessions", "plans", "plan_items", "referrals",
    "self_referrals", "self_referral_events", "self_referral_attempts", "import_runs",
    "import_run_rows", "postcodes", "postcode_files", "areas", "area_need", "area_population",
    "audit_log",
)  # fmt: skip
_databases = itertools.count(1)


def run(target, *args, input=None):
    """`assetmap ARGS` with ASSETMAP_DB set to `target`: the result."""
    app = create_app({"ASSETMAP_DB": str(target), "SECRET_KEY": "test-only"})
    return app.test_cli_runner().invoke(args=[str(arg) for arg in args], input=input)


def ok(target, *args, input=None) -> str:
    result = run(target, *args, input=input)
    assert result.exit_code == 0, result.output
    return result.output


def new_postgresql_database() -> str:
    """An empty database in this process's cluster (dropped by the `pg` fixture)."""
    pg = engines.cluster()
    name = f"copy{os.getpid()}_{next(_databases)}"
    pg.admin(f"CREATE DATABASE {name}")
    return pg.url(name)


@pytest.fixture(scope="module")
def pg():
    """This process's PostgreSQL cluster; the databases the module made dropped at its end."""
    cluster = engines.cluster()
    yield cluster
    postgres.close_pools()
    for row in _admin_rows(cluster, "SELECT datname FROM pg_database"):
        if row[0].startswith(f"copy{os.getpid()}_"):
            cluster.admin(f"DROP DATABASE IF EXISTS {row[0]} WITH (FORCE)")


def _admin_rows(cluster, sql: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
        return conn.execute(sql).fetchall()


def build_directory(path: Path, folder: Path) -> Path:
    """The demo (as `make run` makes it) with what its people have added since."""
    from assetmap.people import accounts
    from assetmap.store import join_requests, plans, referrals

    for command in DEMO_COMMANDS:
        ok(path, *command)
    save_raw(
        path,
        [
            make_asset(id=f"hostile-{n}", name=text[:120], description=" ".join(EXACT))
            for n, text in enumerate(EXACT[:5])
        ],
    )
    audit = folder / "sewing.csv"
    audit.write_text(AUDIT)
    imported = run(path, "import", audit, "--yes", "--source", "sewing-audit")
    assert "Imported as run 1: 1 new, 0 changed, 0 unchanged, 1 rejected" in imported.output
    worker = add_user(path, "link_worker")
    add_user(path, "coordinator")
    ok(path, "users", "disable", "coordinator@example.org")
    db = connect(path)
    try:
        accounts.start_session(db, worker["id"])
        walking = db.conn.execute("SELECT id FROM assets ORDER BY rid LIMIT 1").fetchone()[0]
        plan = plans.create_plan(db, worker["id"], "TR-0042", "Jo")
        plans.add_item(db, plan, walking, "Tuesdays suit Jo best")
        plans.add_item(db, plan, "hostile-0", EXACT[3])
        referrals.add(
            db, asset_id=walking, client_ref="TR-0042", route="referred",
            referred_on="2026-12-01", recorded_by=worker["id"], plan_id=plan,
        )  # fmt: skip
        request = {
            "name": "Sam", "phone": "07700 900123", "email": "sam@example.org",
            "best_time": "mornings", "message": EXACT[0], "consent": True,
        }  # fmt: skip
        joining = join_requests.add(db, walking, request, "key-1", "2026-12-02T10:00:00Z")
        join_requests.update_status(
            db, joining, "contacted", "rang back", "coordinator@example.org",
            "2026-12-03T09:00:00Z",
        )  # fmt: skip
    finally:
        db.close()
    return path


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    """The SQLite directory to move, built once."""
    folder = tmp_path_factory.mktemp("directory")
    return build_directory(folder / "assetmap.db", folder)


@pytest.fixture(scope="module")
def moved(directory, pg, tmp_path_factory):
    """The directory copied SQLite -> PostgreSQL -> SQLite: the three targets and the copies'
    output."""
    on_postgresql = new_postgresql_database()
    there = ok(directory, "copy", directory, on_postgresql)
    back_again = tmp_path_factory.mktemp("back") / "assetmap.db"
    back = ok(directory, "copy", on_postgresql, back_again)
    return {"sqlite": directory, "postgresql": on_postgresql, "back": back_again}, (there, back)


# What is compared -------------------------------------------------------------------------


def every_table(target) -> dict[str, list[tuple]]:
    """Every table of the schema with all its rows, sorted: read here on its own terms (the
    catalogue, SELECT *), not by the copy's code, so a column the copy left out shows."""
    if postgres.is_url(target):
        import psycopg

        with psycopg.connect(target) as conn:
            names = [
                row[0]
                for row in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                    "'public' AND table_type = 'BASE TABLE' AND table_name NOT IN "
                    "('spatial_ref_sys', 'assetmap_schema')"
                )
            ]
            tables = {}
            for name in names:
                columns = [
                    row[0]
                    for row in conn.execute(
                        "SELECT column_name FROM information_schema.columns WHERE "
                        "table_name = %s AND is_generated = 'NEVER' ORDER BY ordinal_position",
                        [name],
                    )
                ]
                listed = ", ".join(f'"{c}"' for c in columns)
                rows = conn.execute(f'SELECT {listed} FROM "{name}"').fetchall()
                tables[name] = (columns, sorted(rows, key=repr))
            return tables
    conn = sqlite3.connect(str(target))
    try:
        virtual = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'"
            )
        ]
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                "'sqlite%' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%'"
            )
            if not any(row[0].startswith(f"{v}_") for v in virtual)
        ]
        tables = {}
        for name in names:
            cursor = conn.execute(f'SELECT * FROM "{name}"')
            columns = [d[0] for d in cursor.description]
            tables[name] = (columns, sorted(cursor.fetchall(), key=repr))
        return tables
    finally:
        conn.close()


def exports(target, folder: Path) -> list[tuple[str, bytes]]:
    """Every asset as `assetmap export` writes it, in each format (HSDS: a folder of CSVs)."""
    written = []
    folder.mkdir()
    for format in ("geojson", "csv", "hsds"):
        out = folder / f"export.{format}"
        ok(target, "export", format, out)
        files = sorted(out.rglob("*")) if out.is_dir() else [out]
        written += [(str(f.relative_to(folder)), f.read_bytes()) for f in files if f.is_file()]
    return written


# The copy there and back ------------------------------------------------------------------


def test_the_copy_says_what_it_copied_table_by_table_and_how_long_it_took(moved):
    targets, (there, back) = moved
    assert there.startswith(f"copying {targets['sqlite']} into postgresql://")
    assert "  assets: 380 rows\n" in there  # 374 demo, 5 hostile, 1 imported
    assert "  users: 2 rows\n" in there
    assert "  self_referral_events: 1 row\n" in there
    assert "  postcodes: " in there and "  areas: " in there
    assert there.splitlines()[-1].startswith("copied 380 assets, ")
    assert there.splitlines()[-1].endswith(" s")
    # The same tables, the same counts, on the way back.
    assert there.splitlines()[1:-1] == back.splitlines()[1:-1]


def test_every_table_of_the_directory_arrives_whole_on_postgresql_and_back(moved):
    targets, _ = moved
    before = every_table(targets["sqlite"])
    assert set(WITH_ROWS) <= set(before)
    for name in WITH_ROWS:
        assert before[name][1], f"the directory should have rows in {name}"
    on_postgresql = every_table(targets["postgresql"])
    assert set(on_postgresql) == set(before)
    for name, (columns, rows) in before.items():
        assert on_postgresql[name][0] == columns, name
        assert on_postgresql[name][1] == rows, name
    assert every_table(targets["back"]) == before


def test_the_exports_are_identical_at_each_step(moved, tmp_path):
    targets, _ = moved
    first = exports(targets["sqlite"], tmp_path / "sqlite")
    assert b"Sale Sewing Bee" in first[0][1] and json.dumps(EXACT[0]).encode() in first[0][1]
    assert len(first) > 3
    assert exports(targets["postgresql"], tmp_path / "postgresql") == first
    assert exports(targets["back"], tmp_path / "back") == first


def test_searches_give_the_same_answers_on_each_copy(moved):
    targets, _ = moved
    for search in SEARCHES:
        answers = [ok(target, "search", *search) for target in targets.values()]
        assert " found within " in answers[0] and not answers[0].startswith("0 found"), search
        assert answers[1] == answers[0], search
        assert answers[2] == answers[0], search
    walking = ok(targets["back"], "search", *SEARCHES[1])
    assert "Walk" in walking  # the keyword index was filled on the way back


def test_the_app_adds_assets_and_accounts_on_the_postgresql_copy(moved, tmp_path):
    targets, _ = moved
    target = targets["postgresql"]
    before = every_table(target)
    largest = {
        name: max(row[0] for row in before[name][1])
        for name in ("assets", "asset_history", "users", "audit_log")
    }
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-2.3034, 53.4263]},
        "properties": {
            k: v for k, v in make_asset(id="sale-new-choir", name="Sale New Choir").items()
            if k not in ("lat", "lon")
        },
    }  # fmt: skip
    new = tmp_path / "new.geojson"
    new.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    assert "1 new" in ok(target, "load", new)
    ok(target, "users", "create", "new.worker@example.org", "--role", "link_worker")
    after = every_table(target)
    for name, rows in after.items():
        had = set(before[name][1])
        added = [row for row in rows[1] if row not in had]
        if name in largest:  # each new row took the next id after the copied ones
            assert [row[0] for row in added] == [largest[name] + 1], name
    assert "Sale New Choir" in ok(target, "search", "--postcode", "M33 7ZF", "--q", "choir")


# Refused, and failures --------------------------------------------------------------------


def indexes(target) -> list[tuple]:
    """The database's indexes (and, on SQLite, the triggers that keep its search indexes)."""
    if postgres.is_url(target):
        import psycopg

        with psycopg.connect(target) as conn:
            return conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
            ).fetchall()
    conn = sqlite3.connect(str(target))
    try:
        return conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
            "ORDER BY 1, 2"
        ).fetchall()
    finally:
        conn.close()


def test_a_directory_is_not_copied_over_another_without_replace(moved, tmp_path, monkeypatch):
    targets, _ = moved
    target = new_postgresql_database()
    save = tmp_path / "small.db"
    initialise(save)
    save_raw(save, [make_asset()])
    ok(save, "copy", save, target)
    before = every_table(target)
    made = (indexes(target), indexes(save))
    refused = run(save, "copy", targets["sqlite"], target)
    assert refused.exit_code == 1
    assert refused.output.endswith(
        f"Error: {target} is not empty (it holds 1 asset, 1 history row, 0 accounts and 0 "
        "other rows) and nothing was changed: run again with --replace to clear it and copy "
        "into it\n"
    )
    assert every_table(target) == before
    # Tables of 100 rows or more copied as large ones are: their indexes built after.
    monkeypatch.setattr(bulk, "BULK_ROWS", 100)
    replaced = ok(save, "copy", targets["back"], target, "--replace")
    assert f"replaced what {target} held: 1 asset, 1 history row, 0 accounts and 0 " in replaced
    assert "copied 380 assets" in replaced
    assert every_table(target) == every_table(targets["sqlite"])
    assert indexes(target) == made[0]
    # And into SQLite, over the small directory.
    ok(save, "copy", targets["postgresql"], save, "--replace")
    assert every_table(save) == every_table(targets["postgresql"])
    assert indexes(save) == made[1]
    for search in SEARCHES:
        assert ok(save, "search", *search) == ok(targets["postgresql"], "search", *search)


def test_a_failure_midway_leaves_the_target_empty(directory, pg, tmp_path):
    # PostgreSQL's text cannot hold a NUL character, which SQLite keeps: a row the copy only
    # meets in one of its last tables, after thousands of rows are written.
    broken = tmp_path / "broken.db"
    broken.write_bytes(directory.read_bytes())
    conn = sqlite3.connect(broken)
    conn.execute("UPDATE referrals SET client_ref = ?", ["TR-\x00042"])
    conn.commit()
    conn.close()
    nowhere = pg.url("no_such_database")
    result = run(broken, "copy", broken, nowhere)
    assert result.exit_code == 1
    assert f"Error: cannot open {nowhere} to copy into: " in result.output
    assert 'database "no_such_database" does not exist' in result.output
    target = new_postgresql_database()
    result = run(broken, "copy", broken, target)
    assert result.exit_code == 1
    assert "  postcodes: " in result.output  # written, then undone
    assert (
        f"Error: the copy into {target} failed at the table referrals, so nothing was copied: "
    ) in result.output
    assert every_table(target) and not any(rows for _, rows in every_table(target).values())
    # The database is ready for another try, which works once the row is put right.
    conn = sqlite3.connect(broken)
    conn.execute("UPDATE referrals SET client_ref = 'TR-0042'")
    conn.commit()
    conn.close()
    ok(broken, "copy", broken, target)
    assert every_table(target) == every_table(directory)


def test_a_directory_is_not_copied_onto_itself_nor_from_an_older_one(tmp_path, monkeypatch):
    path = tmp_path / "assetmap.db"
    initialise(path)
    result = run(path, "copy", path, f"sqlite:///{path}")
    assert result.exit_code == 1
    assert f"{path} is both FROM_DB and TO_DB" in result.output
    older = tmp_path / "older.db"
    with monkeypatch.context() as patch:
        patch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION - 1)
        initialise(older)
    result = run(path, "copy", older, tmp_path / "new.db")
    assert result.exit_code == 1
    assert result.output == (
        f"copying {older} into {tmp_path / 'new.db'}\n"
        f"Error: cannot copy from {older}: the database is at schema version "
        f"{schema.SCHEMA_VERSION - 1} and this assetmap needs {schema.SCHEMA_VERSION}: run "
        "`assetmap init` to bring it up to date (with ASSETMAP_DB set to it)\n"
    )
    assert not (tmp_path / "new.db").exists()
    missing = tmp_path / "nothing-here.db"
    result = run(path, "copy", missing, tmp_path / "new.db")
    assert result.exit_code == 1
    assert f"Error: there is no database at {missing} to copy from: name the file" in result.output
    assert not missing.exists() and not (tmp_path / "new.db").exists()
