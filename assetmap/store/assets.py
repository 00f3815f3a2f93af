"""Reading and writing assets, and keeping every change in their history.

Every write goes through `save_assets` or `delete_asset`, which record the version before and
after the change, who made it, when and why in `asset_history`, in the same transaction as the
change itself. So nothing a coordinator or an import changes is lost, and any change can be
undone with `restore_version`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from itertools import groupby
from typing import TYPE_CHECKING, NamedTuple

from assetmap.record.fields import BOOLEAN, FIELD_NAMES, FIELDS, GIVEN, JSON_TYPES
from assetmap.store import dialect
from assetmap.store.connection import begin_immediate
from assetmap.store.visibility import OPEN

if TYPE_CHECKING:
    import sqlite_utils

_JSON_FIELDS = frozenset(f.name for f in FIELDS if f.type in JSON_TYPES)
_BOOLEAN_FIELDS = frozenset(f.name for f in FIELDS if f.type == BOOLEAN)
_COLUMNS = ", ".join(FIELD_NAMES)

NEW, CHANGED, UNCHANGED = "new", "changed", "unchanged"


def now() -> str:
    """The current time as stored: UTC, ISO 8601, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@contextmanager
def transaction(db: sqlite_utils.Database):
    """Run the block in one write transaction: all of it is kept, or none of it.

    BEGIN IMMEDIATE takes the write lock at the start, so two writers queue (up to the busy
    timeout, then with backoff; connection.Busy after that) rather than both reading old data
    and one failing half-way.
    """
    begin_immediate(db.conn)
    try:
        yield db
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:  # a failed COMMIT (a full disk) leaves it open
            db.conn.execute("ROLLBACK")
        raise


_JSON_POSITIONS = tuple(i for i, name in enumerate(FIELD_NAMES) if name in _JSON_FIELDS)
_BOOLEAN_POSITIONS = tuple(i for i, name in enumerate(FIELD_NAMES) if name in _BOOLEAN_FIELDS)
_to_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode


def to_values(record: dict) -> list:
    """An asset record as database column values, in FIELD_NAMES order: lists and objects as
    JSON, booleans as 0/1. (Imports write many thousands of these, so it works by position.)"""
    values = [record.get(name) for name in FIELD_NAMES]
    for i in _JSON_POSITIONS:
        value = values[i]
        if value.__class__ is list and all(item.__class__ is str for item in value):
            values[i] = _list_json(tuple(value))  # slugs, from a few lists used again and again
        elif value is not None:
            values[i] = _to_json(value)
    for i in _BOOLEAN_POSITIONS:
        if values[i] is not None:
            values[i] = int(bool(values[i]))
    return values


@lru_cache(maxsize=4096)
def _list_json(items: tuple[str, ...]) -> str:
    return _to_json(list(items))


def to_row(record: dict) -> dict:
    """An asset record as database columns, by name (see `to_values`)."""
    return dict(zip(FIELD_NAMES, to_values(record), strict=True))


def from_row(row) -> dict:
    """A database row as an asset record (the inverse of `to_row`)."""
    record = {}
    for name in FIELD_NAMES:
        value = row[name]
        if name in _JSON_FIELDS and value is not None:
            value = json.loads(value)
        elif name in _BOOLEAN_FIELDS and value is not None:
            value = bool(value)
        record[name] = value
    return record


def get_asset(db: sqlite_utils.Database, asset_id: str) -> dict | None:
    """The asset with this id, or None."""
    row = db.conn.execute(f"SELECT {_COLUMNS} FROM assets WHERE id = ?", [asset_id]).fetchone()
    return from_row(row) if row else None


def get_assets(db: sqlite_utils.Database, ids: Iterable[str]) -> dict[str, dict]:
    """The assets with these ids, by id (absent ids are simply missing)."""
    ids = list(ids)
    found: dict[str, dict] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        sql = f"SELECT {_COLUMNS} FROM assets WHERE id IN ({marks})"
        for row in db.conn.execute(sql, chunk):
            found[row["id"]] = from_row(row)
    return found


@dataclass(frozen=True)
class AssetFilter:
    """What a listing asks for. Every part is optional.

    bbox is (min_lon, min_lat, max_lon, max_lat), the order GeoJSON uses.
    """

    strands: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    bbox: tuple[float, float, float, float] | None = None
    include_closed: bool = False
    include_archived: bool = False
    name_contains: str | None = None
    categories: tuple[str, ...] = ()  # any of these
    accessibility: tuple[str, ...] = ()  # all of these
    days: tuple[str, ...] = ()  # a session on any of these days
    free: bool = False


def _marks(values) -> str:
    return ", ".join("?" for _ in values)


def _where(db, filter: AssetFilter) -> tuple[str, list]:
    clauses, params = [], []
    if filter.categories:
        clauses.append(
            f"EXISTS (SELECT 1 FROM {dialect.json_text_values(db, 'categories')} "
            f"WHERE value IN ({_marks(filter.categories)}))"
        )
        params.extend(filter.categories)
    for need in filter.accessibility:
        clauses.append(
            f"EXISTS (SELECT 1 FROM {dialect.json_text_values(db, 'accessibility')} "
            "WHERE value = ?)"
        )
        params.append(need)
    if filter.days:
        clauses.append(
            f"EXISTS (SELECT 1 FROM {dialect.json_values(db, 'schedule', 'sessions')} "
            f"WHERE {dialect.json_text(db, 'value', 'day')} IN ({_marks(filter.days)}))"
        )
        params.extend(filter.days)
    if filter.free:
        clauses.append("cost = 'free'")
    if filter.strands:
        clauses.append(f"strand IN ({', '.join('?' for _ in filter.strands)})")
        params.extend(filter.strands)
    if filter.kinds:
        clauses.append(f"kind IN ({', '.join('?' for _ in filter.kinds)})")
        params.extend(filter.kinds)
    if filter.bbox is not None:
        min_lon, min_lat, max_lon, max_lat = filter.bbox
        if dialect.is_postgresql(db):
            clauses.append("lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?")
        else:
            # The R*Tree finds the rows whose point lies in the box without scanning the table.
            clauses.append(
                "rid IN (SELECT rid FROM assets_rtree WHERE min_lon >= ? AND max_lon <= ? "
                "AND min_lat >= ? AND max_lat <= ?)"
            )
        params.extend([min_lon, max_lon, min_lat, max_lat])
    if not filter.include_closed and not filter.include_archived:
        clauses.append(OPEN)
    elif not filter.include_closed:
        clauses.append("status != 'closed'")
    elif not filter.include_archived:
        clauses.append("archived = 0")
    if filter.name_contains:
        clauses.append(dialect.contains(db, "lower(name)", "lower(?)"))
        params.append(filter.name_contains)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def list_assets(
    db: sqlite_utils.Database, filter: AssetFilter, *, limit: int, offset: int = 0
) -> tuple[list[dict], int]:
    """One page of assets matching the filter, ordered by name then id, and the total."""
    where, params = _where(db, filter)
    total = db.conn.execute(f"SELECT count(*) FROM assets{where}", params).fetchone()[0]
    order = f"ORDER BY {dialect.by_name(db)}, id"
    sql = f"SELECT {_COLUMNS} FROM assets{where} {order} LIMIT ? OFFSET ?"
    rows = db.conn.execute(sql, [*params, limit, offset]).fetchall()
    return [from_row(r) for r in rows], total


def iter_assets(db: sqlite_utils.Database) -> Iterator[dict]:
    """Every asset, closed ones included, in id order (for exports)."""
    for row in db.conn.execute(f"SELECT {_COLUMNS} FROM assets ORDER BY id"):
        yield from_row(row)


def count_by_strand(db: sqlite_utils.Database) -> dict[str, int]:
    """How many open assets (not closed, not archived) each strand has."""
    sql = f"SELECT strand, count(*) FROM assets WHERE {OPEN} GROUP BY strand"
    return {strand: n for strand, n in db.conn.execute(sql)}


# One statement for each kind of write to an asset, used by every writer (the form, `load`,
# restore, imports, undo), so that the columns and their encoding are said once.
INSERT, UPDATE, DELETE = "insert", "update", "delete"
_INSERT = (
    f"INSERT INTO assets ({_COLUMNS}, created_at, updated_at) VALUES ("
    + ", ".join("?" for _ in range(len(FIELD_NAMES) + 2))
    + ")"
)
_UPDATE = (
    "UPDATE assets SET "
    + ", ".join(f"{name} = ?" for name in FIELD_NAMES[1:])
    + ", updated_at = ? WHERE id = ?"
)
_DELETE = "DELETE FROM assets WHERE id = ?"
_HISTORY_COLUMNS = (
    "version_id", "asset_id", "action", "previous", "record", "changed_by", "changed_at",
    "reason",
)  # fmt: skip
_HISTORY = (
    f"INSERT INTO asset_history ({', '.join(_HISTORY_COLUMNS)}) VALUES "
    f"({', '.join('?' for _ in _HISTORY_COLUMNS)})"
)
assert FIELD_NAMES[0] == "id"  # _UPDATE sets every other field and finds the row by id
_history_json = json.JSONEncoder(ensure_ascii=False, default=str).encode


class Change(NamedTuple):
    """One write to an asset: insert, update or delete, with the record before and after
    (None where there is none)."""

    asset_id: str
    action: str
    previous: dict | None
    record: dict | None


def write_changes(
    db: sqlite_utils.Database, changes: list[Change], *, who: str, why: str | None, when: str
) -> list[int]:
    """Write changes to assets, each with its history entry (the version before and after,
    who, when, why); returns each change's history number, in order.

    The one way assets are written. Call it inside a write transaction (`transaction`, or an
    import's): holding the write lock is what makes numbering history from its current
    maximum safe. Consecutive changes of one kind go to SQLite as one statement.
    """
    version = db.conn.execute("SELECT coalesce(max(version_id), 0) FROM asset_history").fetchone()[
        0
    ]
    versions, history = [], []
    for action, group in groupby(changes, key=lambda change: change.action):
        rows = []
        for change in group:
            if action == INSERT:
                rows.append((*to_values(change.record), when, when))
            elif action == UPDATE:
                values = to_values(change.record)
                rows.append((*values[1:], when, values[0]))
            else:
                rows.append((change.asset_id,))
            version += 1
            versions.append(version)
            history.append(
                (
                    version,
                    change.asset_id,
                    action,
                    None if change.previous is None else _history_json(change.previous),
                    None if change.record is None else _history_json(change.record),
                    who,
                    when,
                    why,
                )
            )
        if action == INSERT and dialect.is_postgresql(db):  # COPY: an import's many new rows
            dialect.insert_rows(db, "assets", (*FIELD_NAMES, "created_at", "updated_at"), rows)
        else:
            db.conn.executemany({INSERT: _INSERT, UPDATE: _UPDATE, DELETE: _DELETE}[action], rows)
    if dialect.is_postgresql(db):
        dialect.insert_rows(db, "asset_history", _HISTORY_COLUMNS, history)
    else:
        db.conn.executemany(_HISTORY, history)
    return versions


# The same writes for a large import on PostgreSQL (issue 20), in two steps, so that the write
# lock is held for seconds however many rows: `stage_changes` COPYs the changes, encoded exactly
# as `write_changes` encodes them, into TEMP tables of the writing transaction before it takes
# the lock (other writers carry on meanwhile); `write_staged_changes` then writes them all,
# under the lock, with one statement a table. History is numbered relative to the import while
# staging, and from its maximum once the lock is held. The TEMP tables go with the
# transaction (ON COMMIT DROP; a rollback removes them too), so nothing is left behind.
_STAGED_ASSETS = "staged_assets"
_STAGED_HISTORY = "staged_history"
_STAGING_TABLES = (
    f"CREATE TEMP TABLE {_STAGED_ASSETS} ON COMMIT DROP AS "
    f"SELECT 0::bigint AS n, ''::text AS action, {_COLUMNS} FROM assets WITH NO DATA",
    f"CREATE TEMP TABLE {_STAGED_HISTORY} ON COMMIT DROP AS "
    "SELECT version_id AS n, asset_id, action, previous, record FROM asset_history WITH NO DATA",
)


def make_staging_tables(db: sqlite_utils.Database) -> None:
    """Make the staging tables, inside the caller's transaction (PostgreSQL: begun with BEGIN,
    the write lock not yet taken)."""
    for statement in _STAGING_TABLES:
        db.conn.execute(statement)


def stage_changes(db: sqlite_utils.Database, changes: list[Change], *, after: int) -> list[int]:
    """Stage changes for `write_staged_changes` (see above), numbered after `after` (0 for the
    first batch); returns their numbers, in order: history number = start + number."""
    if any(change.action == DELETE for change in changes):
        raise ValueError("a staged write inserts and updates assets; delete through write_changes")
    numbers = list(range(after + 1, after + 1 + len(changes)))
    dialect.insert_rows(
        db,
        _STAGED_ASSETS,
        ("n", "action", *FIELD_NAMES),
        (
            (n, change.action, *to_values(change.record))
            for n, change in zip(numbers, changes, strict=True)
            if change.action != DELETE
        ),
    )
    dialect.insert_rows(
        db,
        _STAGED_HISTORY,
        ("n", "asset_id", "action", "previous", "record"),
        (
            (
                n,
                change.asset_id,
                change.action,
                None if change.previous is None else _history_json(change.previous),
                None if change.record is None else _history_json(change.record),
            )
            for n, change in zip(numbers, changes, strict=True)
        ),
    )
    return numbers


def check_staged(db: sqlite_utils.Database) -> None:
    """Before the lock is taken: refuse (ValueError) an asset staged twice, since staged
    changes are written together, one to an asset (an import refuses a file that names an
    asset twice); and give the planner the staging tables' sizes (ANALYZE), so that it joins
    their rows to the assets by hash, not one at a time."""
    row = db.conn.execute(
        f"SELECT id FROM {_STAGED_ASSETS} GROUP BY id HAVING count(*) > 1 LIMIT 1"
    ).fetchone()
    if row is not None:
        raise ValueError(f"asset {row[0]!r} is staged twice")
    for table in (_STAGED_ASSETS, _STAGED_HISTORY):
        db.conn.execute(f"ANALYZE {table}")


_INSERT_STAGED = (
    f"INSERT INTO assets ({_COLUMNS}, created_at, updated_at) "
    f"SELECT {_COLUMNS}, ?, ? FROM {_STAGED_ASSETS} WHERE action = '{INSERT}' ORDER BY n"
)


def insert_staged_assets(db: sqlite_utils.Database, *, when: str) -> bool:
    """Add the staged new assets before the write lock is taken (then True), unless one of
    their ids has been taken since the import was checked: then nothing is added, False, and
    `write_staged_changes` adds them under the lock, after the apply's check of what changed
    meanwhile (which finds that asset, so the import is checked again).

    Most of a large import's writing is PostgreSQL computing each new asset's search columns
    (`doc`: about 0.4 ms an asset) and indexing them. That needs no lock: rows added in a
    transaction are seen by nobody else until it commits, and adding an asset numbers nothing
    (history is numbered under the lock). (Someone adding an asset of one of these ids by
    hand meanwhile waits for the import, and the database ends one of the two as a deadlock:
    nothing half-written either way.)"""
    db.conn.execute("SAVEPOINT assetmap_new_assets")
    try:
        db.conn.execute(_INSERT_STAGED, [when, when])
    except Exception as error:
        db.conn.execute("ROLLBACK TO SAVEPOINT assetmap_new_assets")
        if getattr(error, "sqlstate", None) != "23505":  # not unique_violation
            raise
        return False
    db.conn.execute("RELEASE SAVEPOINT assetmap_new_assets")
    return True


def write_staged_changes(
    db: sqlite_utils.Database, *, who: str, why: str | None, when: str, inserted: bool = False
) -> int:
    """Write the staged changes as `write_changes` writes them, a statement a table (the new
    assets too, unless `inserted` already: see `insert_staged_assets`); returns the start of
    their history numbers (a staged change numbered n is history entry start + n).

    Call it inside the write transaction that staged them, holding the write lock (which
    makes numbering history from its current maximum safe, as for `write_changes`).
    """
    start = db.conn.execute("SELECT coalesce(max(version_id), 0) FROM asset_history").fetchone()[0]
    if not inserted:
        db.conn.execute(_INSERT_STAGED, [when, when])
    db.conn.execute(
        "UPDATE assets AS a SET "
        + ", ".join(f"{name} = s.{name}" for name in FIELD_NAMES[1:])
        + f", updated_at = ? FROM {_STAGED_ASSETS} AS s WHERE s.action = ? AND a.id = s.id",
        [when, UPDATE],
    )
    db.conn.execute(
        f"INSERT INTO asset_history ({', '.join(_HISTORY_COLUMNS)}) "
        f"SELECT ? + n, asset_id, action, previous, record, ?, ?, ? FROM {_STAGED_HISTORY} "
        "ORDER BY n",
        [start, who, when, why],
    )
    return start


class _DryRun(Exception):
    """Raised inside a transaction to roll back what a dry run wrote."""


def save_assets(
    db: sqlite_utils.Database,
    records: Iterable[dict],
    *,
    who: str,
    why: str | None = None,
    dry_run: bool = False,
    moved: str = GIVEN,
) -> list[str]:
    """Insert or update validated records by id, in one transaction, keeping history.

    Returns, for each record in order, whether it was new, changed or unchanged. A record
    equal to the stored one is not written at all, so loading the same file twice changes
    nothing, not even the history. A dry run does the same work and then rolls it back, so
    its counts are exactly what a real run would report.

    Coordinates are kept to 6 decimal places, and each record says how its position was
    found (see `with_position`): `moved` is what a position that moves without the record
    saying otherwise counts as (BY_HAND from the coordinator's form; GIVEN from a file).
    """
    records = list(records)
    when = now()
    outcomes: list[str] = []
    try:
        with transaction(db):
            existing = get_assets(db, (r["id"] for r in records))
            changes = []
            for record in records:
                before = existing.get(record["id"])
                record = with_position(record, before, moved)
                if before == record:
                    outcomes.append(UNCHANGED)
                    continue
                outcomes.append(NEW if before is None else CHANGED)
                changes.append(
                    Change(record["id"], INSERT if before is None else UPDATE, before, record)
                )
                existing[record["id"]] = record
            write_changes(db, changes, who=who, why=why, when=when)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return outcomes


def save_asset(
    db: sqlite_utils.Database,
    record: dict,
    *,
    who: str,
    why: str | None = None,
    moved: str = GIVEN,
) -> str:
    """Insert or update one validated record; see `save_assets`."""
    return save_assets(db, [record], who=who, why=why, moved=moved)[0]


def with_position(record: dict, before: dict | None, moved: str = GIVEN) -> dict:
    """The record with its coordinates to 6 decimal places (about 10 cm: finer is no truer,
    and the same point typed twice stays the same) and `position_source` saying how they
    were found: kept while the asset stays where it was; what the record says when that
    differs from what the asset had (a file that carries it); otherwise GIVEN for a new
    asset and `moved` for one that moved (a form copies the old value, so it says nothing).
    """
    record = dict(record)
    for name in ("lat", "lon"):
        if isinstance(record.get(name), float):
            record[name] = round(record[name], 6)
    said = record.get("position_source")
    if before is None:
        record["position_source"] = said or GIVEN
    elif (before["lat"], before["lon"]) == (record.get("lat"), record.get("lon")):
        record["position_source"] = said or before.get("position_source")
    elif not said or said == before.get("position_source"):
        record["position_source"] = moved
    return record


def delete_asset(
    db: sqlite_utils.Database, asset_id: str, *, who: str, why: str | None = None
) -> bool:
    """Delete an asset, keeping its last version in history. False when there was none."""
    with transaction(db):
        existing = get_asset(db, asset_id)
        if existing is None:
            return False
        write_changes(db, [Change(asset_id, DELETE, existing, None)], who=who, why=why, when=now())
    return True


def history(db: sqlite_utils.Database, asset_id: str) -> list[dict]:
    """Every recorded change to an asset, newest first."""
    sql = (
        "SELECT version_id, asset_id, action, previous, record, changed_by, changed_at, reason "
        "FROM asset_history WHERE asset_id = ? ORDER BY version_id DESC"
    )
    changes = []
    for row in db.conn.execute(sql, [asset_id]):
        change = dict(row)
        for key in ("previous", "record"):
            change[key] = json.loads(change[key]) if change[key] is not None else None
        changes.append(change)
    return changes


def _change(db: sqlite_utils.Database, version_id: int):
    row = db.conn.execute(
        "SELECT asset_id, action, previous, record FROM asset_history WHERE version_id = ?",
        [version_id],
    ).fetchone()
    if row is None:
        raise LookupError(f"there is no change numbered {version_id}")
    return row


def undo_change(
    db: sqlite_utils.Database, version_id: int, *, who: str, why: str | None = None
) -> str:
    """Undo one change by bringing back the version it replaced.

    Undoing an insert deletes the asset; undoing an update or a delete writes the previous
    version back. The undo is itself a change, recorded in history, so it can be undone too.
    """
    row = _change(db, version_id)
    why = why or f"undo change {version_id}"
    if row["previous"] is None:
        delete_asset(db, row["asset_id"], who=who, why=why)
        return "deleted"
    return save_asset(db, json.loads(row["previous"]), who=who, why=why)


def restore_version(
    db: sqlite_utils.Database, version_id: int, *, who: str, why: str | None = None
) -> str:
    """Make the asset as it was just after a change ("restore this version")."""
    row = _change(db, version_id)
    if row["record"] is None:
        raise LookupError(f"change {version_id} deleted the asset; there is no version to restore")
    why = why or f"restored the version of change {version_id}"
    return save_asset(db, json.loads(row["record"]), who=who, why=why)


def set_archived(
    db: sqlite_utils.Database, asset_id: str, archived: bool, *, who: str, why: str | None = None
) -> str:
    """Archive an asset (it leaves public pages and search) or bring it back; kept in history."""
    record = get_asset(db, asset_id)
    if record is None:
        raise LookupError(f"there is no asset with id {asset_id!r}")
    return save_asset(db, {**record, "archived": archived}, who=who, why=why)


# Edits that do not overwrite each other (issue 20). An asset's version is the number of its
# latest history entry: every write to an asset goes through `write_changes`, which numbers
# its history entries from one counter that only goes up, so two saves in the same second
# still get different versions (an `updated_at` to the second would not tell them apart).
_VERSION = "SELECT coalesce(max(version_id), 0) FROM asset_history WHERE asset_id = ?"


class EditConflict(Exception):
    """The asset is no longer at the version the person started from; nothing was written.

    `changes` are the history entries made since, oldest first (as `history` gives them), and
    `version` is the asset's version now: a form that carries it saves over them on purpose.
    """

    def __init__(self, asset_id: str, expected: int, version: int, changes: list[dict]):
        super().__init__(
            f"asset {asset_id!r} is at version {version}, not {expected}: "
            f"{len(changes)} change(s) since"
        )
        self.asset_id = asset_id
        self.expected = expected
        self.version = version
        self.changes = changes


def get_asset_and_version(db: sqlite_utils.Database, asset_id: str) -> tuple[dict | None, int]:
    """The asset (or None) and its version, read in one statement so that they agree: a form
    opened with them saves only over the very record it showed."""
    row = db.conn.execute(
        f"SELECT {_COLUMNS}, ({_VERSION}) AS history_version FROM assets WHERE id = ?",
        [asset_id, asset_id],
    ).fetchone()
    if row is None:
        return None, asset_version(db, asset_id)
    return from_row(row), row["history_version"]


def asset_version(db: sqlite_utils.Database, asset_id: str) -> int:
    """The asset's version: its latest history entry's number (0 when it has none)."""
    return db.conn.execute(_VERSION, [asset_id]).fetchone()[0]


def changes_since(db: sqlite_utils.Database, asset_id: str, version: int) -> list[dict]:
    """The asset's history entries after `version`, oldest first."""
    return [c for c in reversed(history(db, asset_id)) if c["version_id"] > version]


def save_asset_at_version(
    db: sqlite_utils.Database,
    record: dict,
    version: int,
    *,
    who: str,
    why: str | None = None,
    moved: str = GIVEN,
) -> str:
    """Save one validated record only if its asset is still at `version` (compare-and-set).

    The check and the write happen in one write transaction, so no other save can come in
    between: when the asset has changed since, EditConflict is raised and nothing is written.
    Otherwise as `save_asset` (new, changed or unchanged). The coordinator's form, archive and
    "restore this version" use it; imports and undo keep their own rules.
    """
    asset_id = record["id"]
    with transaction(db):
        now_at = asset_version(db, asset_id)
        if now_at != version:
            raise EditConflict(asset_id, version, now_at, changes_since(db, asset_id, version))
        before = get_asset(db, asset_id)
        record = with_position(record, before, moved)
        if before == record:
            return UNCHANGED
        action = INSERT if before is None else UPDATE
        write_changes(db, [Change(asset_id, action, before, record)], who=who, why=why, when=now())
    return NEW if before is None else CHANGED
