"""The postcode table: canonical postcodes ("M33 7ZF") and their WGS84 positions.

A sector ("M33 7") or a district ("M33 ") is a prefix of the key, so every postcode in it sorts
after the prefix and before the prefix followed by "~" (which sorts after every letter and
digit). Its centre is then an AVG over one range of the primary key: fast, and always in step
with the postcodes themselves, with no derived table to rebuild after a load.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from assetmap.store import dialect

if TYPE_CHECKING:
    import sqlite_utils

_UPSERT = (
    "INSERT INTO postcodes (postcode, lat, lon) VALUES (?, ?, ?) "
    "ON CONFLICT (postcode) DO UPDATE SET lat = excluded.lat, lon = excluded.lon "
    # Loading the same file again writes nothing, so a reload is quick and changes no page.
    # (Qualified: PostgreSQL finds a bare `lat` ambiguous between the table and `excluded`.)
    "WHERE postcodes.lat IS DISTINCT FROM excluded.lat "
    "OR postcodes.lon IS DISTINCT FROM excluded.lon"
)


# PostgreSQL: the rows stream in with COPY (one command, not a statement each) into a
# temporary table of this connection, then go into `postcodes` in one INSERT ... SELECT with the
# same rule as _UPSERT. `n` keeps the file's order, so that of a postcode given twice the later
# row wins, as executemany's later statement does on SQLite.
_LOADING = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS postcodes_loading "
    "(n bigint GENERATED ALWAYS AS IDENTITY, postcode text, lat double precision, "
    "lon double precision)"
)
_FROM_LOADING = (
    "INSERT INTO postcodes (postcode, lat, lon) "
    "SELECT DISTINCT ON (postcode) postcode, lat, lon FROM postcodes_loading "
    "ORDER BY postcode, n DESC " + _UPSERT[_UPSERT.index("ON CONFLICT") :]
)


def save_postcodes(db: sqlite_utils.Database, rows: Iterable[tuple[str, float, float]]) -> None:
    """Insert or update (postcode, lat, lon) rows. Call inside `transaction` for speed and
    so that a failed load leaves the table as it was."""
    if not dialect.is_postgresql(db):
        db.conn.executemany(_UPSERT, rows)
        return
    db.conn.execute(_LOADING)
    db.conn.execute("TRUNCATE postcodes_loading")
    dialect.insert_rows(db, "postcodes_loading", ("postcode", "lat", "lon"), rows)
    db.conn.execute(_FROM_LOADING)
    db.conn.execute("TRUNCATE postcodes_loading")


def find_postcode(db: sqlite_utils.Database, postcode: str) -> tuple[float, float] | None:
    """(lat, lon) of a canonical postcode, or None when it is not in the table."""
    row = db.conn.execute(
        "SELECT lat, lon FROM postcodes WHERE postcode = ?", [postcode]
    ).fetchone()
    return (row[0], row[1]) if row else None


def area_centre(db: sqlite_utils.Database, area: str) -> tuple[float, float] | None:
    """The mean (lat, lon) of the postcodes in a sector ("M33 7") or district ("M33").

    A district's postcodes are "M33 " followed by the inward code; a sector's are "M33 7"
    followed by two letters. Either way they sort after the area and before the area plus "~".
    """
    prefix = area if " " in area else f"{area} "
    row = db.conn.execute(
        "SELECT avg(lat), avg(lon), count(*) FROM postcodes WHERE postcode > ? AND postcode < ?",
        [prefix, prefix + "~"],
    ).fetchone()
    return (row[0], row[1]) if row[2] else None


def count_postcodes(db: sqlite_utils.Database) -> int:
    """How many postcodes the table holds (a full scan: for reports, not for every search)."""
    return db.conn.execute("SELECT count(*) FROM postcodes").fetchone()[0]


def has_postcodes(db: sqlite_utils.Database) -> bool:
    """Whether any postcodes have been loaded."""
    return bool(db.conn.execute("SELECT EXISTS (SELECT 1 FROM postcodes)").fetchone()[0])


# ---------------------------------------------------------------------------------------------
# What the loaded files cover
# ---------------------------------------------------------------------------------------------
# A postcode missing from the table may be placed at its sector's or district's centre only
# when the table holds that sector or district in full: a centre worked out from the few
# postcodes of a district that a local extract happens to hold can be kilometres from the
# postcode. So each load records which areas its file holds completely (postcode areas such as
# "WA", districts such as "WA15" or sectors such as "WA15 0", as `assetmap postcodes load`
# decides), and the import asks before it falls back.


def record_file(
    db: sqlite_utils.Database,
    *,
    file_name: str,
    layout: str,
    postcodes: int,
    complete_areas: Iterable[str],
    loaded_at: str,
) -> None:
    """Remember a loaded postcode file and the areas it holds in full (loading the same file
    name again replaces what was remembered of it). Call in the load's transaction."""
    db.conn.execute("DELETE FROM postcode_files WHERE file_name = ?", [file_name])
    db.conn.execute(
        "INSERT INTO postcode_files (file_name, layout, postcodes, complete_areas, loaded_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [file_name, layout, postcodes, json.dumps(sorted(set(complete_areas))), loaded_at],
    )


def loaded_files(db: sqlite_utils.Database) -> list[dict]:
    """The postcode files loaded, oldest first: file_name, layout, postcodes, complete_areas
    (a list), loaded_at."""
    rows = db.conn.execute(
        "SELECT file_name, layout, postcodes, complete_areas, loaded_at FROM postcode_files "
        "ORDER BY id"
    ).fetchall()
    return [
        {
            "file_name": r[0],
            "layout": r[1],
            "postcodes": r[2],
            "complete_areas": json.loads(r[3]),
            "loaded_at": r[4],
        }
        for r in rows
    ]


def district_counts(db: sqlite_utils.Database) -> list[tuple[str, int]]:
    """(district, how many postcodes) for every district the table holds, in order (M1, M2,
    ..., M33): what `assetmap postcodes status` shows."""
    rows = db.conn.execute(
        f"SELECT substr(postcode, 1, {_space(db)} - 1) AS district, count(*) "
        "FROM postcodes GROUP BY district"
    ).fetchall()
    return sorted(((r[0], r[1]) for r in rows), key=lambda r: _district_order(r[0]))


def districts(db: sqlite_utils.Database) -> list[str]:
    """The districts ("M33", "WA15") the table holds any postcode of, in order (one pass over
    the key: milliseconds for a borough's postcodes, about a second for the whole country)."""
    rows = db.conn.execute(
        f"SELECT DISTINCT substr(postcode, 1, {_space(db)} - 1) FROM postcodes"
    ).fetchall()
    return sorted((r[0] for r in rows), key=_district_order)


def _space(db) -> str:
    """Where the space is in a canonical postcode ("M33 7ZF": 4)."""
    return dialect.position_of(db, "postcode", "' '")


def _district_order(district: str) -> tuple[str, int, str]:
    """M1, M2, ..., M33 rather than M1, M15, M2 (areas, then district numbers as numbers)."""
    found = re.match(r"([A-Z]+)([0-9]*)", district)
    if found is None:
        return (district, 0, district)
    return (found.group(1), int(found.group(2) or 0), district)
