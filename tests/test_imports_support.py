"""Helpers for the import tests (this module has no tests of its own).

How a database with the sample assets of tests/conftest.py and Trafford's postcode table is
built (conftest's `trafford_db_path` fixture builds it once a session and copies it for each
test), and a way to see that a database is exactly as it was.
"""

from __future__ import annotations

import atexit
import hashlib
import shutil
import sqlite3
import tempfile
from pathlib import Path

from assetmap.search.postcodes import LoadReport, read_postcode_file
from assetmap.store import connect
from assetmap.store import postcodes as postcode_store
from assetmap.store.assets import AssetFilter, list_assets, transaction
from tests.conftest import load_sample

ROOT = Path(__file__).resolve().parent.parent
POSTCODES = ROOT / "data" / "postcodes" / "trafford_postcodes_onspd_2022-06_lsoa11.csv"
BAD = ROOT / "tests" / "data" / "bad_imports"


def build_import_db(path: Path, *, demo: bool = False) -> Path:
    """The sample assets (or with `demo`, the demo's real Trafford assets) and every Trafford
    postcode, checkpointed into one file."""
    if demo:
        from assetmap.record.loading import load_file
        from assetmap.store import initialise

        initialise(path)
        db = connect(path)
        load_file(db, ROOT / "data" / "assets.geojson", who="tests")
        db.close()
    else:
        load_sample(path)
    load_trafford_postcodes(path)
    return path


def load_trafford_postcodes(path: Path) -> None:
    """Every Trafford postcode into the database's table, in one transaction, checkpointed."""
    db = connect(path)
    try:
        with transaction(db):
            for batch, _ in read_postcode_file(POSTCODES, LoadReport()):
                postcode_store.save_postcodes(db, batch)
        if db.engine == "sqlite":  # one file to copy for each test, with no WAL beside it
            db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def fingerprint(path: Path, leave_out: frozenset[str] = frozenset()) -> str:
    """A hash of the schema and of every row of every table (assets, history, indexes, import
    runs): what `iterdump` writes, read a table at a time (a tenth of the time, with Trafford's
    11,000 postcodes). As iterdump does, a virtual table's rows are its shadow tables' and
    SQLite's own tables other than sqlite_sequence are left out. On PostgreSQL, see
    `_postgresql_fingerprint`. The rows of the tables in `leave_out` are left out too."""
    if str(path).startswith("postgresql://"):
        return _postgresql_fingerprint(str(path), leave_out)
    conn = sqlite3.connect(path)
    try:
        digest = hashlib.sha256()
        schema = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL"
            " ORDER BY type, name"
        ).fetchall()
        for kind, name, _, sql in schema:
            digest.update(repr((kind, name, sql)).encode())
            if kind != "table" or sql.upper().startswith("CREATE VIRTUAL"):
                continue
            if name.startswith("sqlite_") and name != "sqlite_sequence" or name in leave_out:
                continue
            rows = conn.execute(f'SELECT * FROM "{name}"').fetchall()
            digest.update(repr((name, rows)).encode())
        return digest.hexdigest()
    finally:
        conn.close()


def _postgresql_fingerprint(url: str, leave_out: frozenset[str]) -> str:
    """The same on PostgreSQL: every table's columns, every index and trigger, and every row
    (sorted: a rolled-back write may leave the rows in another physical order). Sequences are
    left out: PostgreSQL never gives a number back, even when the write that took it is
    rolled back, so a failed import moves them without changing anything a user can see."""
    import psycopg

    with psycopg.connect(url) as conn:
        digest = hashlib.sha256()
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default"
            " FROM information_schema.columns WHERE table_schema = 'public'"
            " ORDER BY table_name, ordinal_position"
        ).fetchall()
        digest.update(repr([c for c in columns if "nextval(" not in str(c[4])]).encode())
        for query in (
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
            " ORDER BY indexname",
            "SELECT tgname, tgrelid::regclass::text, tgenabled FROM pg_trigger"
            " WHERE NOT tgisinternal ORDER BY tgname",
        ):
            digest.update(repr(conn.execute(query).fetchall()).encode())
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        ).fetchall()
        for (name,) in tables:
            if name in leave_out:
                continue
            rows = sorted(repr(row) for row in conn.execute(f'SELECT * FROM "{name}"'))
            digest.update(repr((name, rows)).encode())
        return digest.hexdigest()


def asset_named(db, name: str) -> dict | None:
    """The one asset whose name contains `name` (archived and closed ones too)."""
    found, total = list_assets(
        db,
        AssetFilter(include_closed=True, include_archived=True, name_contains=name),
        limit=2,
    )
    assert total <= 1, f"{total} assets are named like {name!r}"
    return found[0] if found else None


_files_dirs: dict[str, Path] = {}


def files_dir(target) -> Path:
    """The folder an app on database `target` keeps its files in (imports/, pending uploads),
    as `make_app` gives it as ASSETMAP_FILES_DIR: beside the file on SQLite (the default); a
    temporary folder of the database's own on PostgreSQL, whose default (./instance) every
    test would share."""
    if not str(target).startswith("postgresql://"):
        return Path(target).parent
    if str(target) not in _files_dirs:
        folder = Path(tempfile.mkdtemp(prefix=f"assetmap-files-{str(target).rsplit('/', 1)[1]}-"))
        atexit.register(shutil.rmtree, folder, True)
        _files_dirs[str(target)] = folder
    return _files_dirs[str(target)]


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path
