"""Helpers for the import tests (this module has no tests of its own).

How a database with the sample assets of tests/conftest.py and Trafford's postcode table is
built (conftest's `trafford_db_path` fixture builds it once a session and copies it for each
test), and a way to see that a database is exactly as it was.
"""

from __future__ import annotations

import hashlib
import sqlite3
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
        if db.engine == "sqlite":  # the file whole, for copying
            db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def fingerprint(path: Path) -> str:
    """A hash of the schema and of every row of every table (assets, history, indexes, import
    runs): what `iterdump` writes, read a table at a time (a tenth of the time, with Trafford's
    11,000 postcodes). As iterdump does, a virtual table's rows are its shadow tables' and
    SQLite's own tables other than sqlite_sequence are left out."""
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
            if name.startswith("sqlite_") and name != "sqlite_sequence":
                continue
            rows = conn.execute(f'SELECT * FROM "{name}"').fetchall()
            digest.update(repr((name, rows)).encode())
        return digest.hexdigest()
    finally:
        conn.close()


def asset_named(db, name: str) -> dict | None:
    """The one asset whose name contains `name` (archived and closed ones too)."""
    found, total = list_assets(
        db,
        AssetFilter(include_closed=True, include_archived=True, name_contains=name),
        limit=2,
    )
    assert total <= 1, f"{total} assets are named like {name!r}"
    return found[0] if found else None


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path
