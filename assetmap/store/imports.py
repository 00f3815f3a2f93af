"""Import runs: every SQL statement the import pipeline and its undo run.

An import is checked against a read snapshot (`session`), writing only to TEMP tables, which
belong to the connection and vanish with it: a preview stops there, changing nothing and
holding no lock. An apply then writes what it found in one short transaction (`writing`), so
a crash, a kill or a full disk part-way leaves the database as it was, and other writers wait
only for the writing, never for the checking (on PostgreSQL only for the last of the writing:
its rows are staged first, with no lock held).

The TEMP tables remember what the file has said so far, so that memory stays flat however long
the file: the identity keys of the rows seen (to catch the same asset twice in one file), and
the names and positions of rows with (word, place) keys (to find likely duplicates within the
file without comparing each row with every row near it).

Asset writes keep the same history as assetmap.store.assets (the version before and after,
who, when, why) and number each history entry explicitly, so that each row of a run can point
at the change it made and undo can bring back the version before it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from assetmap.record.fields import FIELD_NAMES
from assetmap.store import bulk as bulk_writes
from assetmap.store import dialect, schema
from assetmap.store.assets import (
    CHANGED,
    DELETE,
    INSERT,
    NEW,
    UNCHANGED,  # noqa: F401 (the import pipeline names all four outcomes through this module)
    UPDATE,
    Change,
    check_staged,
    from_row,
    get_asset,
    insert_staged_assets,
    make_staging_tables,
    now,
    stage_changes,
    transaction,
    write_changes,
    write_staged_changes,
)
from assetmap.store.connection import begin_immediate, connect

if TYPE_CHECKING:
    import sqlite_utils

REJECTED = "rejected"  # beside store.assets' NEW, CHANGED and UNCHANGED

_COLUMNS = ", ".join(FIELD_NAMES)
_RUN_ROW_COLUMNS = (
    "run_id", "row_no", "outcome", "asset_id", "version_id", "duplicate_of", "problems",
    "extra", "cells",
)  # fmt: skip
_TEMP_TABLES = (
    """CREATE TEMP TABLE import_keys (
        key TEXT PRIMARY KEY, row_no INTEGER NOT NULL, digest INTEGER NOT NULL) WITHOUT ROWID""",
    """CREATE TEMP TABLE import_name_keys (
        key INTEGER NOT NULL, row_no INTEGER NOT NULL, name TEXT NOT NULL, place TEXT NOT NULL,
        PRIMARY KEY (key, row_no)) WITHOUT ROWID""",
    "CREATE TEMP TABLE import_probes (row_no INTEGER NOT NULL, key INTEGER NOT NULL)",
)
_DROP_TEMP_TABLES = (
    "DROP TABLE IF EXISTS import_keys",
    "DROP TABLE IF EXISTS import_name_keys",
    "DROP TABLE IF EXISTS import_probes",
)
# The TEMP tables are named without their schema (SQLite's `temp.`, PostgreSQL's `pg_temp.`):
# both engines look in the connection's own temporary tables first.
# Page caches bigger than SQLite's 2 MB default: an import reads and writes the assets table,
# its indexes and its history in one long transaction, and its TEMP tables grow with the file.
# Both are bounded (beyond them SQLite pages to disk), so memory stays flat however long the file.
IMPORT_CACHE_KIB = 16 * 1024
TEMP_CACHE_KIB = 16 * 1024


class Writes:
    """An apply's writes, through one connection holding the write transaction: the run's
    record, its rows (those handed to `writing`), and (see `writing`) the index work at the end.
    """

    def __init__(
        self,
        db: sqlite_utils.Database,
        bulk: bulk_writes.Bulk | None,
        batches: Iterable[list[RowWrite]],
        *,
        staged: Staged | None = None,
    ):
        self.db = db
        self.bulk = bulk
        self.batches = batches
        self.staged = staged

    def create_run(self, **details) -> int:
        """Start recording the run (see create_run); returns its number."""
        return create_run(self.db, **details)

    def write_rows(self, run_id: int, *, who: str, why: str) -> None:
        """Write the run's rows: batch by batch (see write_rows), or on PostgreSQL all at once
        from where `writing` staged them (see write_staged_rows)."""
        if self.staged:
            write_staged_rows(self.db, run_id, self.staged, who=who, why=why)
            return
        for rows in self.batches:
            write_rows(self.db, run_id, rows, who=who, why=why)
            self.bulk.added(sum(row.outcome == NEW for row in rows))

    def finish_run(self, run_id: int, counts: dict, details: dict) -> None:
        """Store the run's counts and details (see finish_run)."""
        finish_run(self.db, run_id, counts, details)


@dataclass
class Session:
    """An import's reading: `reader` sees the database as it was when the import began and
    holds the TEMP tables; `seen_version` is the last change to any asset it can see, so that
    changes made after it can be found when the import is saved (`changed_since`)."""

    reader: sqlite_utils.Database
    seen_version: int


@contextmanager
def session(db: sqlite_utils.Database) -> Iterator[Session]:
    """One import's checking: a read snapshot of the database, and no lock that stops others.

    Every lookup (assets a row may update, assets near it) reads the database as it was when
    the import began, in a preview and in an apply alike, so both give the same counts. An
    apply writes what it found afterwards, in one short transaction (`writing`), after
    checking with `changes_since` that nobody changed what it relied on in the meantime.
    """
    with _snapshot(db.target) as reader:
        seen = reader.conn.execute(
            "SELECT coalesce(max(version_id), 0) FROM asset_history"
        ).fetchone()[0]
        yield Session(reader, seen)


def database_folder(db: sqlite_utils.Database) -> Path | None:
    """The folder of the database's file, where an apply keeps its checked rows until it writes
    them (on the database's disk: a temporary folder may be in memory); None for a database in
    memory or on a server (PostgreSQL), which has no file here."""
    if dialect.is_postgresql(db):
        return None
    path = db.conn.execute("PRAGMA database_list").fetchone()[2]
    return Path(path).parent if path else None


class AssetChange(NamedTuple):
    """An asset changed by someone else while an import was being checked, as it is now
    (source, source_id and postcode None when it has since been deleted)."""

    asset_id: str
    source: str | None
    source_id: str | None
    postcode: str | None


def changes_since(db: sqlite_utils.Database, version_id: int) -> list[AssetChange]:
    """Every asset with a change in its history after `version_id`: each write to an asset
    records one, in the same transaction, so this is everything that changed since then."""
    sql = """
        SELECT c.asset_id, a.source, a.source_id, a.postcode
        FROM (SELECT DISTINCT asset_id FROM asset_history WHERE version_id > ?) AS c
        LEFT JOIN assets AS a ON a.id = c.asset_id
    """
    return [AssetChange(*row) for row in db.conn.execute(sql, [version_id])]


@contextmanager
def writing(db: sqlite_utils.Database, batches: Iterable[list[RowWrite]]) -> Iterator[Writes]:
    """The write transaction of an apply, to write the run's rows `batches` (in file order):
    committed, with the new assets indexed, when the block ends; rolled back if it raises.

    The pipeline enters it only once every row has been checked, to write what it found, so
    the write lock is held for the writing alone and other writers wait seconds, not the
    minutes an import may take to check. On SQLite the rows are written under the lock
    (about 10 s for 100,000 new assets). On PostgreSQL the transaction begins without it:
    the rows are copied into its staging tables (`stage_rows`) and its new assets added (seen
    by nobody until the commit: store.assets.insert_staged_assets), so other writers (an
    edit, a sign-in) carry on meanwhile; the lock is taken for the rest, written a statement a
    table (`write_staged_rows`). Measured on a 2-core machine (scripts/bench_import_lock.py):
    held 4 s for 100,000 new assets (128 s when every row was written under it), 55 s for
    100,000 changed ones (203 s), nearly all of that PostgreSQL computing each changed asset's
    generated search column `doc` again.
    """
    if dialect.is_postgresql(db):
        # The server has its own memory settings; nothing to change for the import.
        with _staged_writing(db, batches) as writes:
            yield writes
        return
    previous_cache = db.conn.execute("PRAGMA cache_size").fetchone()[0]
    previous_temp_store = db.conn.execute("PRAGMA temp_store").fetchone()[0]
    db.conn.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB:d}")
    # Building indexes again at the end sorts the whole table: in a file beyond the page
    # cache, not in memory, so memory stays flat however large the import.
    db.conn.execute("PRAGMA temp_store = FILE")
    try:
        begin_immediate(db.conn)
        try:
            with bulk_writes.writing(db, ("import_run_rows",)) as bulk:
                yield Writes(db, bulk, batches)
            db.conn.execute("COMMIT")
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise
    finally:
        db.conn.execute(f"PRAGMA cache_size = {int(previous_cache):d}")
        db.conn.execute(f"PRAGMA temp_store = {int(previous_temp_store):d}")


@contextmanager
def _staged_writing(db: sqlite_utils.Database, batches: Iterable[list[RowWrite]]):
    """`writing` on PostgreSQL: BEGIN without the lock, stage every row, then take the lock
    (waiting out another writer as BEGIN IMMEDIATE does) for the rest of the transaction."""
    db.conn.execute("BEGIN")
    try:
        begin_staging(db)
        numbered = 0  # the changes staged so far
        for rows in batches:
            numbered = stage_rows(db, rows, after=numbered)
        check_staged(db)
        when = now()
        staged = Staged(when, inserted=insert_staged_assets(db, when=when))
        db.conn.lock_for_writing()
        yield Writes(db, None, (), staged=staged)
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")  # the staging tables go with it
        raise


@contextmanager
def _snapshot(path: str) -> Iterator[sqlite_utils.Database]:
    """A second connection reading the database as it is now, with the import's TEMP tables."""
    reader = connect(path)
    if dialect.is_postgresql(reader):
        try:
            # One snapshot for the whole reading, from its first statement on.
            reader.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ WRITE")
            reader.conn.execute("SELECT 1").fetchone()
            for statement in _DROP_TEMP_TABLES + _TEMP_TABLES:
                reader.conn.execute(schema.for_postgresql(statement))
            yield reader
        finally:
            reader.close()  # rolls back: the TEMP tables go with the transaction
        return
    try:
        reader.conn.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB:d}")
        # Said outright: on a connection whose schema has been read (as connect() does),
        # SQLite otherwise keeps the TEMP tables in memory, however large they grow.
        reader.conn.execute("PRAGMA temp_store = FILE")
        reader.conn.execute(f"PRAGMA temp.cache_size = -{TEMP_CACHE_KIB:d}")
        reader.conn.execute("BEGIN")
        reader.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # snapshot now
        for statement in _DROP_TEMP_TABLES + _TEMP_TABLES:
            reader.conn.execute(statement)
        yield reader
    finally:
        if reader.conn.in_transaction:
            reader.conn.execute("ROLLBACK")
        reader.close()


# ---------------------------------------------------------------------------------------------
# What the file has said so far (TEMP tables)
# ---------------------------------------------------------------------------------------------


def claimed_keys(db: sqlite_utils.Database, keys: list[str]) -> dict[str, tuple[int, str]]:
    """Which of these identity keys earlier rows of the file hold: key -> (row, cell digest)."""
    found: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(keys):
        marks = ", ".join("?" for _ in chunk)
        sql = f"SELECT key, row_no, digest FROM import_keys WHERE key IN ({marks})"
        for key, row_no, digest in db.conn.execute(sql, chunk):
            found[key] = (row_no, digest)
    return found


class NearbyRows(NamedTuple):
    """Earlier rows sharing a key with a row, as SQL joined them: their names separated by
    U+001F (cleaned text never holds it), and "row,lat,lon" for each separated by ";"."""

    names: str
    places: str


def earlier_rows_sharing(
    db: sqlite_utils.Database, probes: list[tuple[int, int]]
) -> dict[int, NearbyRows]:
    """Earlier rows of the file holding any of a batch's (word, cell) keys, by row asking.

    `probes` are (row, key). A batch asks thousands of these questions, and in a dense file
    each finds a dozen earlier rows, so one statement asks them all and joins the answers
    for each row into two strings: Python then handles one tuple a row, not one an earlier
    row, and looks closer only at names that compare as similar.
    """
    found: dict[int, NearbyRows] = {}
    if not probes:
        return found
    db.conn.execute("DELETE FROM import_probes")
    db.conn.executemany("INSERT INTO import_probes (row_no, key) VALUES (?, ?)", probes)
    unit = "chr(31)" if dialect.is_postgresql(db) else "char(31)"
    sql = f"""
        SELECT p.row_no, {dialect.aggregate_text(db, "n.name", unit)},
            {dialect.aggregate_text(db, "n.place", "';'")}
        FROM import_probes AS p
        CROSS JOIN import_name_keys AS n
        WHERE n.key = p.key
        GROUP BY p.row_no
    """
    cursor = db.conn.cursor()
    cursor.row_factory = None
    for row_no, names, places in cursor.execute(sql):
        found[row_no] = NearbyRows(names, places)
    return found


def remember_batch(
    db: sqlite_utils.Database,
    claims: list[tuple[str, int, str]],
    named: list[tuple[int, int, str, float, float, str]],
) -> None:
    """Record a batch's identity keys and its rows by (word, cell), for later batches.

    `named` holds (key, row, name, lat, lon, place), the place being the text "row,lat,lon"
    with Python's shortest exact form of each number, so that it reads back as the very same
    numbers.
    """
    db.conn.executemany(
        "INSERT INTO import_keys (key, row_no, digest) VALUES (?, ?, ?) "
        "ON CONFLICT (key) DO NOTHING",
        claims,
    )
    db.conn.executemany(
        "INSERT INTO import_name_keys (key, row_no, name, place) VALUES (?, ?, ?, ?)",
        [(key, row, name, place) for key, row, name, _, _, place in named],
    )


def unclaimed(db: sqlite_utils.Database, asset_ids: list[str]) -> set[str]:
    """The assets among these that no earlier batch of this file has matched."""
    if not asset_ids:
        return set()
    claimed = claimed_keys(db, [f"asset:{a}" for a in asset_ids])
    return {a for a in asset_ids if f"asset:{a}" not in claimed}


_NEARBY_ASSETS = """
SELECT a.id, a.name, a.lat, a.lon
FROM assets_rtree AS r JOIN assets AS a ON a.rid = r.rid
WHERE r.min_lon >= :west AND r.max_lon <= :east AND r.min_lat >= :south AND r.max_lat <= :north
  AND NOT EXISTS (SELECT 1 FROM import_keys AS k WHERE k.key = 'asset:' || a.id)
"""
# PostgreSQL has no R*Tree: its assets_place index (lat, lon) answers the same box.
_NEARBY_ASSETS_POSTGRESQL = """
SELECT a.id, a.name, a.lat, a.lon
FROM assets AS a
WHERE a.lat BETWEEN :south AND :north AND a.lon BETWEEN :west AND :east
  AND NOT EXISTS (SELECT 1 FROM import_keys AS k WHERE k.key = 'asset:' || a.id)
"""


def _nearby_assets_sql(db) -> str:
    return _NEARBY_ASSETS_POSTGRESQL if dialect.is_postgresql(db) else _NEARBY_ASSETS


def assets_in_box(
    db: sqlite_utils.Database,
    south_west: tuple[float, float],
    north_east: tuple[float, float],
    *,
    at_most: int,
) -> list[tuple[str, str, float, float]] | None:
    """(id, name, lat, lon) of the assets in a box (corners as (lon, lat)) that this file has
    not matched (as `nearby_assets`), or None when there are more than `at_most`."""
    bounds = {
        "west": south_west[0],
        "south": south_west[1],
        "east": north_east[0],
        "north": north_east[1],
    }
    found = db.conn.execute(_nearby_assets_sql(db) + f" LIMIT {at_most + 1:d}", bounds).fetchall()
    return None if len(found) > at_most else [tuple(r) for r in found]


def nearby_assets(
    db: sqlite_utils.Database, lat: float, lon: float, half_lat: float, half_lon: float
) -> list[tuple[str, str, float, float]]:
    """(id, name, lat, lon) of assets in a box around a point.

    Assets this file has already matched are left out (their row stands for them), so a
    preview, which writes nothing, and an apply, which has written them, find the same things.
    """
    bounds = {
        "west": lon - half_lon,
        "east": lon + half_lon,
        "south": lat - half_lat,
        "north": lat + half_lat,
    }
    return db.conn.execute(_nearby_assets_sql(db), bounds).fetchall()


# ---------------------------------------------------------------------------------------------
# Finding the assets rows may update
# ---------------------------------------------------------------------------------------------


def _chunks(values: list, size: int = 500) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def assets_by_id(db: sqlite_utils.Database, ids: Iterable[str]) -> dict[str, dict]:
    """Assets by id (absent ids are missing)."""
    found: dict[str, dict] = {}
    for chunk in _chunks(sorted(set(ids))):
        marks = ", ".join("?" for _ in chunk)
        for row in db.conn.execute(f"SELECT {_COLUMNS} FROM assets WHERE id IN ({marks})", chunk):
            found[row["id"]] = from_row(row)
    return found


def assets_by_source_id(
    db: sqlite_utils.Database, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[dict]]:
    """Assets by (source, source_id); a list, since nothing stops two sharing a pair."""
    by_source: dict[str, set[str]] = {}
    for source, source_id in pairs:
        by_source.setdefault(source, set()).add(source_id)
    found: dict[tuple[str, str], list[dict]] = {}
    for source, source_ids in by_source.items():
        for chunk in _chunks(sorted(source_ids)):
            marks = ", ".join("?" for _ in chunk)
            sql = f"SELECT {_COLUMNS} FROM assets WHERE source = ? AND source_id IN ({marks})"
            for row in db.conn.execute(sql, [source, *chunk]):
                found.setdefault((source, row["source_id"]), []).append(from_row(row))
    return found


def assets_by_number_id(
    db: sqlite_utils.Database, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[dict]]:
    """Assets whose source_id is the same number as a pair's with 0s in front or without
    ("007" and "7": a spreadsheet drops them), by the pair as given. Both ways use the
    (source, source_id) index: an id starting with 0 is a range of it, the bare number a key."""
    by_source: dict[str, dict[str, list[str]]] = {}
    for source, source_id in pairs:
        bare = source_id.lstrip("0") or "0"
        by_source.setdefault(source, {}).setdefault(bare, []).append(source_id)
    found: dict[tuple[str, str], list[dict]] = {}
    for source, bare_ids in by_source.items():
        for chunk in _chunks(sorted(bare_ids)):
            marks = ", ".join("?" for _ in chunk)
            sql = (
                f"SELECT {_COLUMNS} FROM assets WHERE source = ? AND ("
                f"(source_id LIKE '0%' AND ltrim(source_id, '0') IN ({marks})) "
                f"OR source_id IN ({marks}))"
            )
            for row in db.conn.execute(sql, [source, *chunk, *chunk]):
                bare = row["source_id"].lstrip("0") or "0"
                for given in bare_ids.get(bare, ()):
                    if row["source_id"] != given:
                        found.setdefault((source, given), []).append(from_row(row))
    return found


def assets_by_postcode(db: sqlite_utils.Database, postcodes: Iterable[str]) -> dict[str, list]:
    """Assets by canonical postcode, for matching rows by name and postcode."""
    found: dict[str, list[dict]] = {}
    for chunk in _chunks(sorted(set(postcodes))):
        marks = ", ".join("?" for _ in chunk)
        sql = f"SELECT {_COLUMNS} FROM assets WHERE postcode IN ({marks})"
        for row in db.conn.execute(sql, chunk):
            found.setdefault(row["postcode"], []).append(from_row(row))
    return found


# ---------------------------------------------------------------------------------------------
# Runs and their rows
# ---------------------------------------------------------------------------------------------


def create_run(
    db: sqlite_utils.Database,
    *,
    file_name: str,
    sha256: str,
    source: str,
    format: str,
    who: str,
    archived_as: str | None = None,
) -> int:
    """Start recording a run (inside the import's transaction); returns its number."""
    new_id = db.conn.execute(
        "INSERT INTO import_runs (file_name, sha256, archived_as, source, format, imported_by, "
        "imported_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [file_name, sha256, archived_as, source, format, who, now()],
    ).fetchone()[0]
    return int(new_id)


def finish_run(db: sqlite_utils.Database, run_id: int, counts: dict, details: dict) -> None:
    """Store a run's counts and the details its page shows."""
    db.conn.execute(
        "UPDATE import_runs SET row_count = ?, new_count = ?, changed_count = ?, "
        "unchanged_count = ?, rejected_count = ?, duplicate_count = ?, details = ? WHERE id = ?",
        [
            counts["rows"],
            counts["new"],
            counts["changed"],
            counts["unchanged"],
            counts["rejected"],
            counts["possible_duplicates"],
            json.dumps(details, ensure_ascii=False),
            run_id,
        ],
    )


@dataclass
class RowWrite:
    """What one row of a run does: its outcome, the asset before and after, and its report."""

    row_no: int
    outcome: str
    asset_id: str | None = None
    record: dict | None = None
    existing: dict | None = None
    duplicate_of: str | None = None
    problems: list[dict] | None = None
    extra: dict | None = None
    cells: list | None = None

    def __reduce__(self):
        # An apply spools these to a file until it writes them (see
        # assetmap.imports.pipeline): a record goes as its values, its keys as one tuple that
        # pickle writes once a batch.
        return (
            _unpacked_row_write,
            (
                self.row_no,
                self.outcome,
                self.asset_id,
                _packed(self.record),
                _packed(self.existing),
                self.duplicate_of,
                self.problems,
                self.extra,
                self.cells,
            ),
        )


_record_keys: dict[tuple, tuple] = {}


def _packed(record: dict | None) -> tuple | None:
    if record is None:
        return None
    keys = tuple(record)
    return _record_keys.setdefault(keys, keys), tuple(record.values())


def _unpacked_row_write(row_no, outcome, asset_id, record, existing, *rest) -> RowWrite:
    return RowWrite(
        row_no,
        outcome,
        asset_id,
        None if record is None else dict(zip(*record, strict=True)),
        None if existing is None else dict(zip(*existing, strict=True)),
        *rest,
    )


def _changes(rows: list[RowWrite]) -> list[Change]:
    """The asset writes of a batch of a run's rows, in order: one for each new or changed row."""
    return [
        Change(row.asset_id, INSERT, None, row.record)
        if row.outcome == NEW
        else Change(row.asset_id, UPDATE, row.existing, row.record)
        for row in rows
        if row.outcome in (NEW, CHANGED)
    ]


def _run_row_values(rows: list[RowWrite], versions: Iterator[int], *head) -> Iterator[tuple]:
    """The import_run_rows values of a batch (after `head`), each new or changed row taking
    the next of `versions`, the number of the history entry its change made."""
    for row in rows:
        yield (
            *head,
            row.row_no,
            row.outcome,
            row.asset_id,
            next(versions) if row.outcome in (NEW, CHANGED) else None,
            row.duplicate_of,
            _json(row.problems) if row.problems else None,
            _json(row.extra) if row.extra else None,
            _json(row.cells),
        )


def write_rows(
    db: sqlite_utils.Database, run_id: int, rows: list[RowWrite], *, who: str, why: str
) -> None:
    """Write a batch of a run's rows: the assets they add or change, with their history
    (store.assets.write_changes), and the run's rows, each pointing at its history entry."""
    versions = iter(write_changes(db, _changes(rows), who=who, why=why, when=now()))
    dialect.insert_rows(
        db, "import_run_rows", _RUN_ROW_COLUMNS, _run_row_values(rows, versions, run_id)
    )


# PostgreSQL's staged apply (see `writing`): the run's rows wait here, numbered relative to the
# import as their changes are (store.assets.stage_changes), until the run has its number.
_STAGED_RUN_ROWS = "staged_run_rows"
_STAGED_RUN_ROW_COLUMNS = _RUN_ROW_COLUMNS[1:]


def begin_staging(db: sqlite_utils.Database) -> None:
    """Make the staging tables of an apply's rows and their changes, in its transaction."""
    make_staging_tables(db)
    db.conn.execute(
        f"CREATE TEMP TABLE {_STAGED_RUN_ROWS} ON COMMIT DROP AS "
        f"SELECT {', '.join(_STAGED_RUN_ROW_COLUMNS)} FROM import_run_rows WITH NO DATA"
    )


def stage_rows(db: sqlite_utils.Database, rows: list[RowWrite], *, after: int) -> int:
    """Stage a batch of a run's rows, their changes numbered after `after`; the last number."""
    numbers = stage_changes(db, _changes(rows), after=after)
    dialect.insert_rows(
        db, _STAGED_RUN_ROWS, _STAGED_RUN_ROW_COLUMNS, _run_row_values(rows, iter(numbers))
    )
    return numbers[-1] if numbers else after


class Staged(NamedTuple):
    """An apply's staged rows: the time they are written at, and whether their new assets have
    been added already (store.assets.insert_staged_assets)."""

    when: str
    inserted: bool


def write_staged_rows(
    db: sqlite_utils.Database, run_id: int, staged: Staged, *, who: str, why: str
) -> None:
    """Write the staged rows as `write_rows` writes them (under the write lock): their changes
    (store.assets.write_staged_changes), then the run's rows, pointing at those entries."""
    start = write_staged_changes(db, who=who, why=why, when=staged.when, inserted=staged.inserted)
    columns = list(_STAGED_RUN_ROW_COLUMNS)
    columns[columns.index("version_id")] = "? + version_id"
    db.conn.execute(
        f"INSERT INTO import_run_rows ({', '.join(_RUN_ROW_COLUMNS)}) "
        f"SELECT ?, {', '.join(columns)} FROM {_STAGED_RUN_ROWS} ORDER BY row_no",
        [run_id, start],
    )


_to_json = json.JSONEncoder(ensure_ascii=False, default=str).encode


def _json(value: object) -> str | None:
    return None if value is None else _to_json(value)


def _run(row) -> dict:
    run = dict(row)
    run["details"] = json.loads(run["details"] or "{}")
    return run


_RUN_COLUMNS = (
    "id, file_name, sha256, archived_as, source, format, imported_by, imported_at, row_count, "
    "new_count, changed_count, unchanged_count, rejected_count, duplicate_count, details, "
    "undone_by, undone_at"
)


def archived_names(db: sqlite_utils.Database) -> set[str]:
    """The names of the archived files that runs refer to."""
    sql = "SELECT DISTINCT archived_as FROM import_runs WHERE archived_as IS NOT NULL"
    return {row[0] for row in db.conn.execute(sql)}


def forget_archives(db: sqlite_utils.Database, before: str) -> set[str]:
    """Clear the archived file of runs imported before a time; the names they referred to.
    (Call it in a transaction, and remove only the files no run still refers to.)"""
    where = "WHERE imported_at < ? AND archived_as IS NOT NULL"
    names = {
        row[0] for row in db.conn.execute(f"SELECT archived_as FROM import_runs {where}", [before])
    }
    db.conn.execute(f"UPDATE import_runs SET archived_as = NULL {where}", [before])
    return names


def get_run(db: sqlite_utils.Database, run_id: int) -> dict | None:
    """One run with its counts and details, or None."""
    row = db.conn.execute(
        f"SELECT {_RUN_COLUMNS} FROM import_runs WHERE id = ?", [run_id]
    ).fetchone()
    return _run(row) if row else None


def list_runs(db: sqlite_utils.Database, *, limit: int = 50) -> list[dict]:
    """The most recent runs, newest first."""
    sql = f"SELECT {_RUN_COLUMNS} FROM import_runs ORDER BY id DESC LIMIT ?"
    return [_run(row) for row in db.conn.execute(sql, [limit])]


def _run_rows_where(
    run_id: int, outcomes: tuple[str, ...] | None, with_problems: bool, with_extra: bool
) -> tuple[str, list]:
    clauses, params = ["run_id = ?"], [run_id]
    if outcomes:
        clauses.append(f"outcome IN ({', '.join('?' for _ in outcomes)})")
        params.extend(outcomes)
    if with_problems:
        clauses.append("problems IS NOT NULL")
    if with_extra:
        clauses.append("extra IS NOT NULL")
    return " AND ".join(clauses), params


def count_run_rows(
    db: sqlite_utils.Database,
    run_id: int,
    *,
    outcomes: tuple[str, ...] | None = None,
    with_problems: bool = False,
    with_extra: bool = False,
) -> int:
    """How many of a run's rows `run_rows` would give."""
    where, params = _run_rows_where(run_id, outcomes, with_problems, with_extra)
    sql = f"SELECT count(*) FROM import_run_rows WHERE {where}"
    return db.conn.execute(sql, params).fetchone()[0]


def run_rows(
    db: sqlite_utils.Database,
    run_id: int,
    *,
    outcomes: tuple[str, ...] | None = None,
    with_problems: bool = False,
    with_extra: bool = False,
    limit: int | None = None,
) -> Iterator[dict]:
    """A run's rows in file order, optionally only some outcomes, only those with problems or
    only those with extra information."""
    where, params = _run_rows_where(run_id, outcomes, with_problems, with_extra)
    sql = (
        "SELECT row_no, outcome, asset_id, version_id, duplicate_of, problems, extra, cells "
        f"FROM import_run_rows WHERE {where} ORDER BY row_no"
    )
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    for row in db.conn.execute(sql, params):
        found = dict(row)
        for key in ("problems", "extra", "cells"):
            found[key] = json.loads(found[key]) if found[key] is not None else None
        yield found


def extra_for_asset(db: sqlite_utils.Database, asset_id: str) -> dict | None:
    """The extra information the latest import that touched an asset kept for it."""
    row = db.conn.execute(
        "SELECT extra FROM import_run_rows WHERE asset_id = ? AND outcome != 'rejected' "
        "ORDER BY run_id DESC LIMIT 1",
        [asset_id],
    ).fetchone()
    return json.loads(row[0]) if row and row[0] else None


# ---------------------------------------------------------------------------------------------
# Undo
# ---------------------------------------------------------------------------------------------


class UndoBlocked(Exception):
    """Why a run was not undone, as facts: `reason` is NO_RUN, ALREADY_UNDONE or
    CHANGED_SINCE (with the `conflicts`). The words for people are assetmap.imports.undo's."""

    def __init__(self, reason: str, run: dict | None = None, conflicts: list[dict] | None = None):
        super().__init__(reason)
        self.reason = reason
        self.run = run
        self.conflicts = conflicts or []


NO_RUN, ALREADY_UNDONE, CHANGED_SINCE = "no run", "already undone", "changed since"


UNDO_WHY = "undo of import run {}"  # the history reason of an undo's changes; read back below


@dataclass
class UndoReport:
    removed: int = 0
    restored: int = 0
    overwritten: int = 0  # assets changed since the import whose later changes were undone too
    # Assets a later undo of an earlier run had already put back to before this run (or
    # deleted): left as they are, each with `asset_id`, `action`, `changed_by`, `changed_at`
    # and `undo_of` (the run whose undo it was).
    left_alone: list[dict] = field(default_factory=list)

    def summary(self) -> str:
        """ "2 assets removed, 1 restored"."""
        words = [
            f"{self.removed} {'asset' if self.removed == 1 else 'assets'} removed",
            f"{self.restored} restored",
        ]
        if self.overwritten:
            words.append(f"{self.overwritten} with later changes undone too")
        deleted = [a for a in self.left_alone if a["action"] == DELETE]
        kept = len(self.left_alone) - len(deleted)
        if deleted:
            runs = _runs_words(deleted)
            words.append(f"{len(deleted)} left deleted (undoing {runs} had deleted them)")
        if kept:
            runs = _runs_words([a for a in self.left_alone if a["action"] != DELETE])
            words.append(f"{kept} left as undoing {runs} had put them back")
        return ", ".join(words)


def _runs_words(changes: list[dict]) -> str:
    runs = sorted({c["undo_of"] for c in changes})
    return ("run " if len(runs) == 1 else "runs ") + ", ".join(str(r) for r in runs)


# Each asset a run wrote, with the change it made and, when someone has changed it since, the
# latest change: who, when, whether an import run made it (by_run, with its file) and whether
# it was the undo of a run (undo_of).
_RUN_ASSETS = """
    SELECT r.asset_id, r.version_id, written.previous, written.record AS written,
           h.version_id AS latest, h.action, h.changed_by, h.changed_at,
           by_row.run_id AS by_run, by_run.file_name AS by_file, undo.id AS undo_of
    FROM import_run_rows AS r
    JOIN asset_history AS written ON written.version_id = r.version_id
    JOIN asset_history AS h ON h.version_id = (
        SELECT max(version_id) FROM asset_history WHERE asset_id = r.asset_id)
    LEFT JOIN import_run_rows AS by_row
        ON by_row.asset_id = r.asset_id AND by_row.version_id = h.version_id
    LEFT JOIN import_runs AS by_run ON by_run.id = by_row.run_id
    LEFT JOIN import_runs AS undo ON h.reason = '{undo_why}' || undo.id
    WHERE r.run_id = ? AND r.version_id IS NOT NULL {later}
    ORDER BY r.row_no {order}
"""

# The latest undo of an EARLIER run (one that wrote this asset before this run did) that
# changed the asset after this run: that undo put the asset back to before the earlier run,
# so to before this run too, and this run's change to it is already gone.
_ROLLED_BACK_PAST = """
    SELECT h.version_id, h.action, h.changed_by, h.changed_at, undo.id AS undo_of
    FROM asset_history AS h
    JOIN import_runs AS undo ON h.reason = '{undo_why}' || undo.id
    JOIN import_run_rows AS earlier ON earlier.run_id = undo.id AND earlier.asset_id = h.asset_id
    WHERE h.asset_id = ? AND h.version_id > ? AND earlier.version_id < ?
    ORDER BY h.version_id DESC LIMIT 1
""".format(undo_why=UNDO_WHY.format(""))


def _later_change(row) -> dict:
    keys = ("asset_id", "action", "changed_by", "changed_at", "by_run", "by_file", "undo_of")
    return {key: row[key] for key in keys}


def _already_put_back(db: sqlite_utils.Database, row) -> dict | None:
    """The undo that has already taken this run's change to the asset away, or None.

    Either a later undo of an earlier run changed it after this run (see _ROLLED_BACK_PAST),
    or the asset is deleted now and an undo deleted it: bringing it back would undo an undo.
    """
    if row["latest"] == row["version_id"]:
        return None
    found = db.conn.execute(
        _ROLLED_BACK_PAST, [row["asset_id"], row["version_id"], row["version_id"]]
    ).fetchone()
    if found:
        return {"asset_id": row["asset_id"], **dict(found)}
    if row["action"] == DELETE and row["undo_of"] is not None:
        return _later_change(row)
    return None


def _as_left(current: dict | None, written: dict | None) -> bool:
    """Whether an asset is as a run left it. Only the fields the run wrote are compared: one
    added to assets since (position_source) was not the run's to write."""
    if current is None or written is None:
        return current is written
    return all(current.get(name) == value for name, value in written.items())


def changed_since(db: sqlite_utils.Database, run_id: int) -> list[dict]:
    """Assets the run added or changed that someone has changed again since, and that are not
    now as the run left them (a later run imported and then undone changes them twice, and
    leaves them as they were: undoing this run then undoes nobody's work). Each is the latest
    change: `asset_id`, `action`, `changed_by`, `changed_at`, and `by_run` and `by_file` when
    an import run made it, `undo_of` when it was the undo of a run.

    Assets that an undo of an earlier run has already put back to before this run are not
    among them: undoing this run leaves those alone (see undo_run)."""
    conflicts = []
    sql = _RUN_ASSETS.format(
        later="AND h.version_id > r.version_id", order="", undo_why=UNDO_WHY.format("")
    )
    for row in db.conn.execute(sql, [run_id]).fetchall():
        written = json.loads(row["written"]) if row["written"] else None
        if _as_left(get_asset(db, row["asset_id"]), written) or _already_put_back(db, row):
            continue
        conflicts.append(_later_change(row))
    return conflicts


def undo_run(
    db: sqlite_utils.Database, run_id: int, *, who: str, force: bool = False
) -> UndoReport:
    """Undo a run in one transaction: remove the assets it added, restore those it changed.

    Each asset gets back the version from just before the import, taken from its history.
    If someone has changed one of them since, UndoBlocked (listing them) unless `force`,
    which undoes their later changes too; every step is itself kept in history, so nothing is
    lost either way. (Call it through assetmap.imports.undo, which says why in words.)

    Runs can be undone in any order. An asset that the undo of an earlier run has already
    put back to before that run (or deleted, when that run added it) no longer carries this
    run's change, so it is left as it is: undoing this run never brings back what an undo
    took away. Such assets are listed in the report's `left_alone`.
    """
    why = UNDO_WHY.format(run_id)
    report = UndoReport()
    with transaction(db):
        run = get_run(db, run_id)
        if run is None:
            raise UndoBlocked(NO_RUN)
        if run["undone_at"]:
            raise UndoBlocked(ALREADY_UNDONE, run)
        conflicts = changed_since(db, run_id)
        if conflicts and not force:
            raise UndoBlocked(CHANGED_SINCE, run, conflicts)
        report.overwritten = len(conflicts)
        when = now()
        rows = db.conn.execute(
            _RUN_ASSETS.format(later="", order="DESC", undo_why=UNDO_WHY.format("")), [run_id]
        ).fetchall()
        for row in rows:
            asset_id = row["asset_id"]
            put_back = _already_put_back(db, row)
            if put_back is not None:
                report.left_alone.append(put_back)
                continue
            current = get_asset(db, asset_id)
            previous = json.loads(row["previous"]) if row["previous"] else None
            _restore(db, asset_id, current, previous, who=who, why=why, when=when)
            if previous is None:
                report.removed += current is not None
            else:
                report.restored += current != previous
        db.conn.execute(
            "UPDATE import_runs SET undone_by = ?, undone_at = ? WHERE id = ?",
            [who, when, run_id],
        )
    return report


def _restore(db, asset_id, current, previous, *, who, why, when) -> None:
    """Make an asset what `previous` says (None: absent), recording the change in history."""
    if previous is not None and current is not None and "position_source" not in previous:
        # A version from before positions said how they were found: where the asset stays
        # put, how its position was found still holds.
        same_place = (previous.get("lat"), previous.get("lon")) == (current["lat"], current["lon"])
        previous = {
            **previous,
            "position_source": current["position_source"] if same_place else None,
        }
    if previous is None:
        if current is None:
            return
        change = Change(asset_id, DELETE, current, None)
    elif current is None:
        change = Change(asset_id, INSERT, None, previous)
    elif current == previous:
        return
    else:
        change = Change(asset_id, UPDATE, current, previous)
    write_changes(db, [change], who=who, why=why, when=when)
