"""The postcode table: canonical postcodes ("M33 7ZF") and their WGS84 positions.

A sector ("M33 7") or a district ("M33 ") is a prefix of the key, so every postcode in it sorts
after the prefix and before the prefix followed by "~" (which sorts after every letter and
digit). Its centre is then an AVG over one range of the primary key: fast, and always in step
with the postcodes themselves, with no derived table to rebuild after a load.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlite_utils

_UPSERT = (
    "INSERT INTO postcodes (postcode, lat, lon) VALUES (?, ?, ?) "
    "ON CONFLICT (postcode) DO UPDATE SET lat = excluded.lat, lon = excluded.lon "
    # Loading the same file again writes nothing, so a reload is quick and changes no page.
    "WHERE lat IS NOT excluded.lat OR lon IS NOT excluded.lon"
)


def save_postcodes(db: sqlite_utils.Database, rows: Iterable[tuple[str, float, float]]) -> None:
    """Insert or update (postcode, lat, lon) rows. Call inside `transaction` for speed and
    so that a failed load leaves the table as it was."""
    db.conn.executemany(_UPSERT, rows)


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
