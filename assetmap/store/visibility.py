"""Which assets are shown where: "open" and "running", each written once in SQL.

An asset's `status` is active, paused or closed (assetmap.record.taxonomy.STATUSES); a coordinator
archives one to take it out of the directory without losing it (`archived`).

- An *open* asset is in the directory: not closed and not archived. The map, the listing API
  (/api/v1/assets) and the home page's counts show the open assets. A paused one is among
  them, because it is coming back: its page says it is not running at the moment.
- A *running* asset is open and not paused. Search finds only these, since someone searching
  wants something to go to now (assetmap.search.nearby; tests/test_search.py
  test_paused_closed_and_archived_assets_are_never_found).

The fragments name bare columns of `assets`, so they fit any query in which no other table
has a `status` or `archived` column, aliased or not. RUNNING is also, word for word, the
WHERE of the partial index `assets_nearby` (migration 3 in assetmap/store/schema.py): SQLite
uses a partial index only for a query whose WHERE holds the index's own terms.
"""

from __future__ import annotations

OPEN = "status != 'closed' AND archived = 0"
RUNNING = "status = 'active' AND archived = 0"
