"""Feeds: other publishers' Open Referral UK APIs the directory syncs from. Their SQL only.

A feed's name is the source of everything its syncs import, so its runs are the import runs
of that source; what is kept here is what the runs cannot say: the address, when the last
imported sync began reading (the next asks only for what changed after it), the last error,
and a sync fetched on the page that waits for its preview to be confirmed.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from assetmap.store.assets import now, transaction

if TYPE_CHECKING:
    import sqlite_utils

_COLUMNS = (
    "name, url, added_by, added_at, last_tried_at, last_synced_at, last_run_id, last_error, "
    "pending_sha256, pending_fetched_at"
)


class FeedExists(Exception):
    """A feed of that name is already kept."""


def add(db: sqlite_utils.Database, *, name: str, url: str, added_by: str) -> dict:
    """Keep a new feed; FeedExists when the name is taken."""
    try:
        with transaction(db):
            db.conn.execute(
                "INSERT INTO feeds (name, url, added_by, added_at) VALUES (?, ?, ?, ?)",
                [name, url, added_by, now()],
            )
    except sqlite3.IntegrityError:
        raise FeedExists(name) from None
    return get(db, name)


def get(db: sqlite_utils.Database, name: str) -> dict | None:
    row = db.conn.execute(f"SELECT {_COLUMNS} FROM feeds WHERE name = ?", [name]).fetchone()
    return dict(row) if row else None


def list_all(db: sqlite_utils.Database) -> list[dict]:
    """Every feed, by name."""
    return [dict(r) for r in db.conn.execute(f"SELECT {_COLUMNS} FROM feeds ORDER BY name")]


def synced(db: sqlite_utils.Database, name: str, *, began_at: str, run_id: int | None) -> None:
    """A sync that began reading at `began_at` was imported as run `run_id` (None: it found
    nothing changed, so the last run stays the last)."""
    with transaction(db):
        db.conn.execute(
            "UPDATE feeds SET last_tried_at = ?, last_synced_at = ?, "
            "last_run_id = COALESCE(?, last_run_id), "
            "last_error = NULL, pending_sha256 = NULL, pending_fetched_at = NULL WHERE name = ?",
            [now(), began_at, run_id, name],
        )


def failed(db: sqlite_utils.Database, name: str, error: str) -> None:
    """A sync could not be read or imported: what went wrong, for the next look."""
    with transaction(db):
        db.conn.execute(
            "UPDATE feeds SET last_tried_at = ?, last_error = ? WHERE name = ?",
            [now(), error, name],
        )


def fetched_for_preview(db: sqlite_utils.Database, name: str, *, sha256: str, began_at: str):
    """A sync was read and waits for its preview to be confirmed on the import page."""
    with transaction(db):
        db.conn.execute(
            "UPDATE feeds SET last_tried_at = ?, last_error = NULL, pending_sha256 = ?, "
            "pending_fetched_at = ? WHERE name = ?",
            [now(), sha256, began_at, name],
        )


def run_of(db: sqlite_utils.Database, *, source: str, sha256: str) -> dict | None:
    """The newest import run of this file (by its SHA-256) under this source, or None."""
    row = db.conn.execute(
        "SELECT id, imported_at, undone_at FROM import_runs WHERE source = ? AND sha256 = ? "
        "ORDER BY id DESC LIMIT 1",
        [source, sha256],
    ).fetchone()
    return dict(row) if row else None


def run_undone(db: sqlite_utils.Database, run_id: int) -> bool:
    """Whether this import run was undone (or is gone)."""
    row = db.conn.execute("SELECT undone_at FROM import_runs WHERE id = ?", [run_id]).fetchone()
    return row is None or row[0] is not None
