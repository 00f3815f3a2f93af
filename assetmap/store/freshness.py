"""The SQL of the freshness report: the open listings as they are, and the history of their
last checks (assetmap/freshness/report.py works out the shares)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from assetmap.store import dialect
from assetmap.store.visibility import OPEN

if TYPE_CHECKING:
    import sqlite_utils


def listings(db: sqlite_utils.Database) -> list[dict]:
    """Every open listing (not closed, not archived) with what the report groups it by: the
    ward is its postcode's (postcode_wards, kept by `assetmap postcodes load`), or None."""
    rows = db.conn.execute(
        "SELECT id, strand, kind, w.ward_name, source, last_verified FROM assets"
        " LEFT JOIN postcode_wards AS w ON w.postcode = assets.postcode"
        f" WHERE {OPEN} ORDER BY id"
    )
    names = ("id", "strand", "kind", "ward", "source", "last_verified")
    return [dict(zip(names, row, strict=True)) for row in rows]


def check_history(db: sqlite_utils.Database) -> Iterator[tuple]:
    """Every change to every asset, oldest first, as (asset_id, changed_at, open,
    last_verified): `open` is whether the asset was open after the change (a deletion, a
    closure and archiving all make it not open). Read from asset_history, where each change
    keeps the whole record as it became."""
    rows = db.conn.execute(
        "SELECT asset_id, changed_at, action,"
        f" {dialect.json_field(db, 'record', 'status')},"
        f" {dialect.json_field(db, 'record', 'archived')},"
        f" {dialect.json_field(db, 'record', 'last_verified')}"
        " FROM asset_history ORDER BY version_id"
    )
    for asset_id, changed_at, action, status, archived, last_verified in rows:
        is_open = action != "delete" and status != "closed" and not archived
        yield asset_id, changed_at, is_open, last_verified
