"""Import mappings chosen on the import page, kept under the source's name: their SQL only.

The next copy of the same audit (imported under the same source) is read with the newest
mapping saved for it, so the coordinator does not choose the columns again.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from assetmap.store.assets import now, transaction

if TYPE_CHECKING:
    import sqlite_utils


def save(db: sqlite_utils.Database, source: str, mapping: dict, *, saved_by: str) -> dict:
    """Keep a mapping (the sections of a mapping file) as the newest for `source`."""
    when = now()
    with transaction(db):
        db.conn.execute(
            "INSERT INTO import_mappings (source, mapping, saved_by, saved_at) VALUES (?, ?, ?, ?)",
            [source, json.dumps(mapping, ensure_ascii=False), saved_by, when],
        )
    return {"source": source, "mapping": mapping, "saved_by": saved_by, "saved_at": when}


def newest(db: sqlite_utils.Database, source: str) -> dict | None:
    """The mapping saved most recently for `source`, with who saved it and when, or None."""
    row = db.conn.execute(
        "SELECT source, mapping, saved_by, saved_at FROM import_mappings WHERE source = ? "
        "ORDER BY id DESC LIMIT 1",
        [source],
    ).fetchone()
    if row is None:
        return None
    found = dict(row)
    found["mapping"] = json.loads(found["mapping"])
    return found


def newest_of_each(db: sqlite_utils.Database, limit: int = 100) -> list[dict]:
    """The newest mapping of each source, most recently saved first (without the mapping)."""
    rows = db.conn.execute(
        "SELECT source, saved_by, saved_at FROM import_mappings WHERE id IN "
        "(SELECT max(id) FROM import_mappings GROUP BY source) ORDER BY id DESC LIMIT ?",
        [limit],
    )
    return [dict(row) for row in rows]
