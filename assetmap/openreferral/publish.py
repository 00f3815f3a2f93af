"""Which assets the ORUK API publishes, and finding one by its service UUID.

A service id is a uuid5 of the asset id (assetmap.openreferral.mapping), which cannot be
turned back into the asset id; so the lookup hashes the published ids (only the id column is
read, no record is parsed) until one matches. That is a few milliseconds for thousands of
assets; a stored column of service ids would make it an index lookup if directories grow.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from assetmap.openreferral import mapping
from assetmap.store import assets as store
from assetmap.store import published

if TYPE_CHECKING:
    import sqlite_utils

# Closed assets are published as "defunct" so a neighbour learns they stopped; archived ones
# have left the directory and are not published at all.
PUBLISHED = store.AssetFilter(include_closed=True)


def find_asset(
    db: sqlite_utils.Database,
    service_id: str,
    id_of: Callable[[str], str] = mapping.service_id,
) -> dict | None:
    """The published asset whose service id this is, or None (also for text not a UUID).

    `id_of` finds it by another of its ids instead (mapping.service_at_location_id)."""
    try:
        wanted = str(uuid.UUID(service_id))
    except ValueError:
        return None
    for asset_id in published.published_ids(db):
        if id_of(asset_id) == wanted:
            return store.get_asset(db, asset_id)
    return None


def modified_time(db: sqlite_utils.Database, asset_id: str) -> str | None:
    """When the asset last changed (ISO 8601 UTC), for its service's last_modified."""
    return published.modified_times(db, [asset_id]).get(asset_id)
