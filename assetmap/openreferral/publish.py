"""Which assets the ORUK API publishes, and finding one by its service UUID.

A service id is a uuid5 of the asset id (assetmap.openreferral.mapping), which cannot be
turned back into the asset id; so the lookup hashes the published ids (only the id column is
read, no record is parsed) until one matches. That is a few milliseconds for thousands of
assets; a stored column of service ids would make it an index lookup if directories grow.
"""

from __future__ import annotations

import uuid

import sqlite_utils

from assetmap.openreferral import mapping
from assetmap.store import assets as store

# Closed assets are published as "defunct" so a neighbour learns they stopped; archived ones
# have left the directory and are not published at all.
PUBLISHED = store.AssetFilter(include_closed=True)


def find_asset(db: sqlite_utils.Database, service_id: str) -> dict | None:
    """The published asset whose service id this is, or None (also for text not a UUID)."""
    try:
        wanted = str(uuid.UUID(service_id))
    except ValueError:
        return None
    for (asset_id,) in db.conn.execute("SELECT id FROM assets WHERE archived = 0"):
        if mapping.service_id(asset_id) == wanted:
            return store.get_asset(db, asset_id)
    return None
