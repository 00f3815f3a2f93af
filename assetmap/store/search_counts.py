"""Searches counted by month, by the LSOA of their centre, and by whether they found little.

This is all that is kept of a search for coverage's unmet demand (assetmap/coverage/demand.py):
a count in a (month, LSOA, found little) cell. No query text, no postcode, no time finer than
the month, nothing about who searched. Cells older than the months kept are deleted whenever a
search is counted, so the table never holds more than a year.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from assetmap.store import dialect
from assetmap.store.connection import BUSY_TIMEOUT_MS, is_busy

if TYPE_CHECKING:
    import sqlite_utils

# How long a count waits for another writer (an import) before it is skipped: a search must
# not wait on a count.
COUNT_WAIT_MS = 50


def lsoa_version(db: sqlite_utils.Database) -> tuple:
    """(how many, loaded when) for the LSOAs: a change means the shapes must be read again."""
    return tuple(
        db.conn.execute(
            "SELECT count(*), coalesce(max(loaded_at), '') FROM areas WHERE level = 'lsoa'"
        ).fetchone()
    )


def lsoa_shapes(db: sqlite_utils.Database) -> list[tuple[str, dict]]:
    """(code, GeoJSON geometry) of every LSOA loaded, by code."""
    rows = db.conn.execute("SELECT code, geometry FROM areas WHERE level = 'lsoa' ORDER BY code")
    return [(code, json.loads(geometry)) for code, geometry in rows]


def count_search(
    db: sqlite_utils.Database, month: str, lsoa: str, found_little: bool, oldest_kept: str
) -> bool:
    """Add one search to its cell and delete cells older than `oldest_kept` ('YYYY-MM'), in
    one short transaction. False (nothing written) when another writer holds the database:
    a count is worth a try, not a wait."""
    if dialect.is_postgresql(db):
        return _count_on_postgresql(db, month, lsoa, found_little, oldest_kept)
    conn = db.conn
    conn.execute(f"PRAGMA busy_timeout = {COUNT_WAIT_MS:d}")
    # Without waiting for the disk (synchronous=NORMAL, safe in WAL mode): a power cut may lose
    # the last counts, never corrupt the database; the next FULL commit makes them durable.
    # Waiting for the disk was 4 to 8 ms a search, more than the search itself.
    conn.execute("PRAGMA synchronous = NORMAL")
    try:
        conn.execute("BEGIN IMMEDIATE")
    except Exception as error:
        _restore(conn)
        if is_busy(error):
            return False
        raise
    try:
        _write(conn, month, lsoa, found_little, oldest_kept)
    except BaseException as error:
        if isinstance(error, Exception) and is_busy(error):
            return False
        raise
    finally:
        _restore(conn)
    return True


def _count_on_postgresql(db, month: str, lsoa: str, found_little: bool, oldest_kept: str) -> bool:
    """count_search on PostgreSQL: the write lock taken only if it is free this moment, and
    the commit not waiting for the disk (synchronous_commit off for this transaction alone:
    as SQLite's NORMAL, a crash may lose the last counts, never corrupt anything)."""
    conn = db.conn
    if not conn.begin_immediate_now():
        return False
    conn.execute("SET LOCAL synchronous_commit = off")
    _write(conn, month, lsoa, found_little, oldest_kept)
    return True


def _write(conn, month: str, lsoa: str, found_little: bool, oldest_kept: str) -> None:
    """The count and the deletion of old cells, committed; rolled back on any failure."""
    try:
        conn.execute("DELETE FROM search_counts WHERE month < ?", [oldest_kept])
        conn.execute(
            "INSERT INTO search_counts (month, lsoa, found_little, searches) VALUES (?, ?, ?, 1) "
            "ON CONFLICT (month, lsoa, found_little) "
            "DO UPDATE SET searches = search_counts.searches + 1",
            [month, lsoa, int(bool(found_little))],
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _restore(conn) -> None:
    """The connection's own settings again (store/connection.py `connect`)."""
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
    conn.execute("PRAGMA synchronous = FULL")


def counts_by_lsoa(db: sqlite_utils.Database, oldest_kept: str) -> dict[str, tuple[int, int]]:
    """{LSOA code: (searches, searches that found little)} over the months kept."""
    rows = db.conn.execute(
        """SELECT lsoa, sum(searches), sum(CASE WHEN found_little = 1 THEN searches ELSE 0 END)
        FROM search_counts WHERE month >= ? GROUP BY lsoa""",
        [oldest_kept],
    )
    return {lsoa: (int(total), int(little)) for lsoa, total, little in rows}


def all_counts(db: sqlite_utils.Database) -> list[dict]:
    """Every row of the table as it is stored (for tests and checks of what is kept)."""
    cursor = db.conn.execute("SELECT * FROM search_counts ORDER BY month, lsoa, found_little")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]
