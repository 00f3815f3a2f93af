"""Writing many assets at once: an import of thousands of rows, in one transaction.

The insert triggers keep the full-text indexes and the R*Tree in step with each inserted
asset. Row by row they cost several times the insert itself, so a bulk write drops them for
its own transaction, indexes its new rows a statement an index at the end, and creates them
again. It does so for each trigger only when it is exactly the one the schema made; otherwise
(a later migration changed it) every row goes through that trigger as usual.

Everything here happens inside the caller's write transaction: a bulk write that fails leaves
the triggers, the indexes and the data as they were.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assetmap.store import dialect, schema

if TYPE_CHECKING:
    import sqlite_utils


def _schema_statement(prefix: str) -> str | None:
    """The latest statement of the migrations that starts with `prefix`."""
    found = [
        statement
        for _, statements in schema.MIGRATIONS
        for statement in statements
        if statement.startswith(prefix)
    ]
    return found[-1] if found else None


# trigger name -> the statements that do its work for every asset after a rid, in bulk
_DEFERRED_TRIGGERS: dict[str, tuple[str, ...]] = {
    "assets_after_insert": (
        f"INSERT INTO assets_fts (rowid, {schema.FTS_COLUMNS}) "
        f"SELECT rid, {schema.FTS_COLUMNS} FROM assets WHERE rid > ?",
        "INSERT INTO assets_rtree (rid, min_lon, max_lon, min_lat, max_lat) "
        "SELECT rid, lon, lon, lat, lat FROM assets WHERE rid > ?",
    ),
    "assets_nearby_fts_after_insert": (
        # In the order of its rowids, which is how FTS5 adds rows fastest.
        f"INSERT INTO assets_nearby_fts (rowid, {schema.FTS_COLUMNS}) "
        f"SELECT {schema.nearby_key('assets')}, {schema.nearby_words('assets')} FROM assets "
        "WHERE rid > ? ORDER BY 1",
    ),
}


# A large import adds rows faster with the secondary indexes of the tables it writes dropped
# and built again at the end, in one sorted pass each, than by updating every index row by row
# (measured at 100,000 new assets: 3.3 s of inserts became 1.3 s, plus 0.7 s to build the
# indexes). Rebuilding reads the whole table, so it is done only once an import has added
# more rows than the table held and at least BULK_ROWS. The drop and the rebuild are part of
# the import's transaction: a failed import leaves the indexes as they were.
BULK_ROWS = 5_000


def _merge_keyword_indexes(db: sqlite_utils.Database) -> None:
    """Merge each full-text index into one segment after a bulk import (0.15 s each at
    100,000 assets), so that a search looks each word up once, not once a segment."""
    for table in ("assets_fts", "assets_nearby_fts"):
        db.conn.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")


def _drop_secondary_indexes(db: sqlite_utils.Database, tables: tuple[str, ...]) -> list[str]:
    """Drop the indexes an import keeps up to date, returning the statements that rebuild them
    (the ones behind UNIQUE and PRIMARY KEY constraints stay, since they keep data right)."""
    marks = ", ".join("?" for _ in tables)
    found = db.conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({marks}) ORDER BY name",
        tables,
    ).fetchall()
    for name, _ in found:
        db.conn.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in found]


@dataclass
class _PausedTriggers:
    """Insert triggers dropped for an import: their statements, and the last rid before the
    import (its new assets, after it, are indexed in bulk at the end)."""

    after_rid: int
    triggers: dict[str, str]  # name -> the CREATE TRIGGER statement that restores it


def _pause_insert_triggers(db: sqlite_utils.Database) -> _PausedTriggers:
    """Drop the schema's own insert triggers that can be done in bulk, for this transaction."""
    paused = {}
    for name in _DEFERRED_TRIGGERS:
        found = db.conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", [name]
        ).fetchone()
        if found is not None and found[0] == _schema_statement(f"CREATE TRIGGER {name} "):
            paused[name] = found[0]
    last = db.conn.execute("SELECT coalesce(max(rid), 0) FROM assets").fetchone()[0]
    for name in paused:
        db.conn.execute(f"DROP TRIGGER {name}")
    return _PausedTriggers(last, paused)


def _index_new_assets(db: sqlite_utils.Database, paused: _PausedTriggers) -> None:
    """Do what the paused triggers would have done for every asset added, then restore them."""
    if paused.triggers:
        last = db.conn.execute("SELECT coalesce(max(rid), 0) FROM assets").fetchone()[0]
        if "assets_nearby_fts_after_insert" in paused.triggers and last > schema.NEARBY_MAX_RID:
            raise sqlite3.IntegrityError("asset rid out of range for assets_nearby_fts")
        for name in paused.triggers:
            for bulk in _DEFERRED_TRIGGERS[name]:
                db.conn.execute(bulk, [paused.after_rid])
    for statement in paused.triggers.values():
        db.conn.execute(statement)


@dataclass
class Bulk:
    """A bulk write under way: tell it how many assets each batch added (`added`)."""

    db: sqlite_utils.Database
    tables: tuple[str, ...]
    paused: _PausedTriggers
    assets_before: int
    new_assets: int = 0
    rebuild: list[str] = field(default_factory=list)  # CREATE INDEX statements for the end

    def added(self, count: int) -> None:
        """Count new assets; past BULK_ROWS, and more than the table held, drop the indexes
        of the tables written, to build them again at the end."""
        self.new_assets += count
        if (
            not dialect.is_postgresql(self.db)
            and not self.rebuild
            and self.new_assets >= BULK_ROWS
            and self.new_assets > self.assets_before
        ):
            self.rebuild = _drop_secondary_indexes(self.db, self.tables)


@contextmanager
def writing(db: sqlite_utils.Database, tables: tuple[str, ...] = ()) -> Iterator[Bulk]:
    """Bulk writes to assets (and their history, and `tables`) inside the caller's write
    transaction: the insert triggers paused for the block, then every new asset indexed, the
    triggers restored and any dropped index built again. On an exception nothing is redone:
    the caller's rollback puts everything back."""
    if dialect.is_postgresql(db):
        # No triggers to pause and no keyword index to fill: PostgreSQL's search columns are
        # generated as each row is written (store/postgres_search.py).
        # Nor are its indexes dropped and built again (`added` only does that on SQLite).
        yield Bulk(db, (), _PausedTriggers(0, {}), 0)
        return
    paused = _pause_insert_triggers(db)
    assets_before = db.conn.execute("SELECT count(*) FROM assets").fetchone()[0]
    bulk = Bulk(db, ("assets", "asset_history", *tables), paused, assets_before)
    yield bulk
    _index_new_assets(db, paused)
    for statement in bulk.rebuild:
        db.conn.execute(statement)
    if bulk.rebuild:
        _merge_keyword_indexes(db)
