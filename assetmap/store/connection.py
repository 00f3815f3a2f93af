"""Opening the SQLite database with the settings every connection needs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from assetmap.store import schema

BUSY_TIMEOUT_MS = 5000


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open the database at `path` in WAL mode, creating its folder if needed.

    WAL lets readers carry on while one writer writes; the busy timeout makes a second
    writer wait instead of failing at once; synchronous=FULL means a committed change
    survives a power cut, which matters more here than write speed. Transactions are
    managed explicitly (isolation_level=None) so that a write either happens whole or not.
    """
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA temp_store = MEMORY")  # sorts and keyword matches stay off the disk
    return sqlite_utils.Database(conn)


def initialise(path: str | Path) -> list[str]:
    """Create or bring forward the schema of the database at `path`; idempotent."""
    db = connect(path)
    try:
        return schema.migrate(db.conn)
    finally:
        db.close()
