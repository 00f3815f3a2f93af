"""Moving a whole directory from one database to another (`assetmap copy FROM_DB TO_DB`):
SQLite to PostgreSQL and back, or between two of one kind.

What is copied is every table of the schema, read from the databases' own catalogues (SQLite's
table_list, PostgreSQL's pg_class), not from a list here that a new migration could leave
behind; a table or a column one side has and the other lacks stops the copy before anything is
written. Left out are what each engine makes for itself: SQLite's full-text and R*Tree indexes
(virtual tables, and their shadow tables), PostgreSQL's generated search columns (`geog`,
`doc`: store/postgres_search.py), its extensions' tables and its schema-version table (the
version is the schema's own, made by `store.initialise` on the target).

Every row keeps its ids: they are referenced across tables (history by asset id, plan items by
plan, import rows by run and history version). Tables go in an order where each comes after the
tables its foreign keys name, so both engines check the keys as rows arrive. The whole copy is
one write transaction on the target (all of it, or on any error nothing), read from one snapshot
of the source (a read transaction: the app may keep running on FROM_DB). Afterwards PostgreSQL's
identity sequences are moved past the copied ids, so the next asset or account does not take an
id that is already used.

Rows are read in batches (a server-side cursor on PostgreSQL) and written in batches: psycopg's
COPY on PostgreSQL (the assets in order of place, so that the table is stored by place, as
store/postgres_search.py's docstring asks; its generated columns are computed as rows arrive),
executemany on SQLite (in key order, its tables' own order), where store/bulk.py pauses the
full-text and R*Tree triggers and fills those indexes in one pass at the end, as an import does.
A table of bulk.BULK_ROWS rows or more is written with its secondary indexes dropped and built
again after it, inside the transaction, as a large import does on SQLite.

Measured on this machine class (2 cores, shared and busy: load 13 to 25): the Trafford demo as
`make run` builds it (24,221 rows) into a new PostgreSQL database in 5.4 s, its schema included,
and back into SQLite in 3.1 s; 100,000 synthetic assets into PostgreSQL in 116 to 192 s, nearly
all of it the server's (computing each asset's `doc` took 40 s of it, building the four search
indexes 30 s; this process reads and sends the rows in about 25 s), and back in 41 to 48 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from assetmap.store import bulk, connection, dialect, postgres, schema
from assetmap.store.backup import KEY_TABLES, Contents

# Rows a batch: large enough that a statement's overhead is nothing, small enough that a batch
# of history rows (each a JSON record) stays a few megabytes.
BATCH_ROWS = 5_000
# The schema-version table PostgreSQL keeps (store/schema.py); SQLite keeps the version in its
# header, so neither side copies it: the target's own is made by `initialise`.
VERSION_TABLE = "assetmap_schema"


class CopyError(Exception):
    """A copy that cannot be done or failed; the message says why and what to do. The target
    is as it was (a new one is left empty, with the schema made)."""


@dataclass
class Table:
    """One table of the schema as a database has it: its name, the columns a copy writes (in
    order, leaving out generated ones), its primary key, the tables its foreign keys name, and
    its identity column (PostgreSQL)."""

    name: str
    columns: list[str]
    key: list[str]
    references: set[str] = field(default_factory=set)
    identity: str | None = None


@dataclass
class Copied:
    """What a copy wrote: rows per table, in the order copied, how long it took, and what the
    target held before (removed, with --replace)."""

    rows: dict[str, int]
    seconds: float
    replaced: dict[str, int] = field(default_factory=dict)

    def words(self) -> str:
        """'374 assets, 374 history rows, 2 accounts and 1,204 other rows'."""
        return _words(self.rows)

    def replaced_words(self) -> str:
        return _words(self.replaced)


def name_of(target: str | Path) -> str:
    """A database to name in a message: its file, or its URL without the password."""
    if postgres.is_url(target):
        return postgres.without_password(str(target))
    return str(connection.sqlite_path(str(target)))


def copy(
    source: str | Path,
    target: str | Path,
    *,
    replace: bool = False,
    batch_rows: int = BATCH_ROWS,
    told: Callable[[str, int], None] | None = None,
) -> Copied:
    """Copy the whole directory at `source` into `target` (each an ASSETMAP_DB value).

    `source` must be at this assetmap's schema version; `target` is made or brought forward to
    it (`store.initialise`) and must hold nothing, unless `replace`, when what it holds is
    removed in the same transaction as the copy. `told(table, rows)` hears of each table as it
    is copied. CopyError, with the target as it was, when anything is wrong.
    """
    started = time.monotonic()
    if _same_database(source, target):
        raise CopyError(f"{name_of(source)} is both FROM_DB and TO_DB: name another database")
    reader = _open_source(source)
    try:
        writer = _open_target(target, replace)
        try:
            rows, replaced = _copy_all(reader, writer, replace, batch_rows, told)
        finally:
            writer.close()
    finally:
        reader.close()
    return Copied(rows, time.monotonic() - started, replaced)


def _same_database(source, target) -> bool:
    if postgres.is_url(source) or postgres.is_url(target):
        return name_of(source) == name_of(target)
    return Path(connection.sqlite_path(str(source))).resolve() == (
        Path(connection.sqlite_path(str(target))).resolve()
    )


def _open_source(source):
    """The directory to copy, opened when it exists and is at this assetmap's schema."""
    if postgres.is_url(source):
        _reachable(source, "copy from")
    elif not Path(connection.sqlite_path(str(source))).is_file():
        raise CopyError(
            f"there is no database at {name_of(source)} to copy from: name the file that "
            "ASSETMAP_DB names, or a postgresql:// URL"
        )
    try:
        return connection.connect_ready(source)
    except connection.NotReady as error:
        raise CopyError(
            f"cannot copy from {name_of(source)}: {error} (with ASSETMAP_DB set to it)"
        ) from None
    except Exception as error:  # a file that is not a database, a server that refuses
        raise CopyError(f"cannot copy from {name_of(source)}: {error}") from None


def _reachable(url: str, to: str) -> None:
    """CopyError with the server's reason when the database at `url` cannot be opened (asked
    once, directly: the pool would try again and again for its whole timeout)."""
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=postgres.CONNECT_TIMEOUT_S).close()
    except psycopg.Error as error:
        said = " ".join(line.strip() for line in str(error).strip().splitlines())
        raise CopyError(f"cannot open {name_of(url)} to {to}: {said}") from None


def _open_target(target, replace: bool):
    """The database to copy into, at this assetmap's schema; CopyError, with nothing changed,
    when it already holds a directory and `replace` was not asked for (checked before its
    schema is brought forward, and again inside the copy's transaction)."""
    if not postgres.is_url(target) and Path(connection.sqlite_path(str(target))).is_dir():
        raise CopyError(f"{name_of(target)} is a folder: name a database file to copy into")
    if postgres.is_url(target):
        _reachable(target, "copy into")
    try:
        db = connection.connect(target)
    except Exception as error:
        raise CopyError(f"cannot open {name_of(target)} to copy into: {error}") from None
    try:
        version = schema.current_version(db.conn)
        if version > schema.SCHEMA_VERSION:
            raise CopyError(
                f"{name_of(target)} is at schema version {version}, newer than this assetmap "
                f"({schema.SCHEMA_VERSION}): nothing was changed"
            )
        if version and not replace:
            _refuse_unless_empty(db, target)
        schema.migrate(db.conn)
    except CopyError:
        db.close()
        raise
    except Exception as error:
        db.close()
        if connection.is_busy(error):
            raise CopyError(f"{name_of(target)} is busy: {error}; try again") from None
        raise CopyError(f"cannot copy into {name_of(target)}: {error}") from None
    return db


def _refuse_unless_empty(db, target) -> None:
    held = {table.name: _count(db, table.name) for table in tables(db)}
    if any(held.values()):
        raise CopyError(
            f"{name_of(target)} is not empty (it holds {_words(held)}) and nothing was "
            "changed: run again with --replace to clear it and copy into it"
        )


def _words(rows: dict[str, int]) -> str:
    key = dict(KEY_TABLES)
    named = Contents({label: rows.get(table, 0) for table, label in KEY_TABLES}).words()
    others = sum(n for table, n in rows.items() if table not in key)
    return f"{named} and {others:,} other row{'' if others == 1 else 's'}"


def _count(db, table: str) -> int:
    return db.conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


# The tables of a database ---------------------------------------------------------------


def tables(db) -> list[Table]:
    """The schema's tables in `db` (see the module docstring for what is left out), in an
    order where each comes after the tables it references."""
    found = _postgresql_tables(db) if dialect.is_postgresql(db) else _sqlite_tables(db)
    return _in_reference_order(found)


def _sqlite_tables(db) -> list[Table]:
    conn = db.conn
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        )
    ]
    found = []
    for name in names:
        # hidden: 0 a column, 1 a virtual table's hidden one, 2 and 3 generated.
        info = conn.execute(
            "SELECT name, pk FROM pragma_table_xinfo(?) WHERE hidden = 0 ORDER BY cid", [name]
        ).fetchall()
        key = [row[0] for row in sorted((r for r in info if r[1]), key=lambda r: r[1])]
        references = {
            row[0] for row in conn.execute('SELECT "table" FROM pragma_foreign_key_list(?)', [name])
        }
        found.append(Table(name, [row[0] for row in info], key, references - {name}))
    return found


def _postgresql_tables(db) -> list[Table]:
    conn = db.conn
    names = [
        row[0]
        for row in conn.execute(
            """SELECT c.relname FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema()
                 AND c.relname <> ?
                 AND NOT EXISTS (SELECT 1 FROM pg_depend d
                                 WHERE d.classid = 'pg_class'::regclass
                                   AND d.objid = c.oid AND d.deptype = 'e')
               ORDER BY c.relname""",
            [VERSION_TABLE],
        )
    ]
    found = []
    for name in names:
        relation = f'"{name}"'
        columns = conn.execute(
            """SELECT attname, attidentity FROM pg_attribute
               WHERE attrelid = ?::regclass AND attnum > 0 AND NOT attisdropped
                 AND attgenerated = ''
               ORDER BY attnum""",
            [relation],
        ).fetchall()
        key = [
            row[0]
            for row in conn.execute(
                """SELECT a.attname FROM pg_index i
                   JOIN pg_attribute a ON a.attrelid = i.indrelid
                    AND a.attnum = ANY (i.indkey::int2[])
                   WHERE i.indrelid = ?::regclass AND i.indisprimary
                   ORDER BY array_position(i.indkey::int2[], a.attnum)""",
                [relation],
            )
        ]
        references = {
            row[0].strip('"')
            for row in conn.execute(
                "SELECT confrelid::regclass::text FROM pg_constraint "
                "WHERE conrelid = ?::regclass AND contype = 'f'",
                [relation],
            )
        }
        identity = next((row[0] for row in columns if row[1]), None)
        found.append(Table(name, [row[0] for row in columns], key, references - {name}, identity))
    return found


def _in_reference_order(found: list[Table]) -> list[Table]:
    """`found` with each table after those it references (by name where that leaves a
    choice, so that both engines copy in one order)."""
    left = {table.name: table for table in found}
    ordered: list[Table] = []
    while left:
        ready = sorted(name for name, t in left.items() if not (t.references & left.keys()))
        if not ready:  # a cycle, which the schema does not have: keep the rest by name
            ready = sorted(left)
        for name in ready:
            ordered.append(left.pop(name))
    return ordered


def _matched(source_tables: list[Table], target_tables: list[Table], source, target):
    """Each source table with its target's, when both databases hold the same tables and
    columns (they are at one schema version, so they should); otherwise CopyError."""
    theirs = {table.name: table for table in target_tables}
    ours = {table.name for table in source_tables}
    missing = sorted(ours - theirs.keys())
    extra = sorted(theirs.keys() - ours)
    if missing or extra:
        raise CopyError(
            f"{name_of(source)} and {name_of(target)} do not hold the same tables "
            f"(only in FROM_DB: {', '.join(missing) or 'none'}; only in TO_DB: "
            f"{', '.join(extra) or 'none'}): nothing was copied"
        )
    pairs = []
    for table in source_tables:
        other = theirs[table.name]
        if set(table.columns) != set(other.columns):
            only_ours = sorted(set(table.columns) - set(other.columns))
            only_theirs = sorted(set(other.columns) - set(table.columns))
            raise CopyError(
                f"the table {table.name} has other columns in {name_of(target)} (only in "
                f"FROM_DB: {', '.join(only_ours) or 'none'}; only in TO_DB: "
                f"{', '.join(only_theirs) or 'none'}): nothing was copied"
            )
        pairs.append((table, other))
    return pairs


# The copy ----------------------------------------------------------------------------------


def _copy_all(reader, writer, replace, batch_rows, told) -> tuple[dict, dict]:
    """Read every table from one snapshot of `reader`, write it in one transaction on
    `writer`; the rows of each table, and the rows each held before (when `replace`)."""
    _begin_snapshot(reader)
    try:
        pairs = _matched(tables(reader), tables(writer), reader.target, writer.target)
        connection.begin_immediate(writer.conn)  # Busy when the app's writers keep it
        try:
            replaced = {}
            if replace:
                replaced = {other.name: _count(writer, other.name) for _, other in pairs}
                _clear(writer, [other for _, other in pairs])
            else:
                _refuse_unless_empty(writer, writer.target)
            rows = {}
            at = "the start"
            with bulk.writing(writer):
                for table, _ in pairs:
                    at = f"the table {table.name}"
                    rows[table.name] = _copy_table(reader, writer, table, batch_rows)
                    if told is not None:
                        told(table.name, rows[table.name])
            if not dialect.is_postgresql(writer) and rows.get("assets", 0) >= bulk.BULK_ROWS:
                bulk._merge_keyword_indexes(
                    writer
                )  # one segment each, as a large import leaves them
            for table, _ in pairs:
                written = _count(writer, table.name)
                if written != rows[table.name]:
                    raise CopyError(
                        f"{table.name}: {rows[table.name]:,} rows read but {written:,} in "
                        f"{name_of(writer.target)}; nothing was copied"
                    )
            at = "the end"
            if dialect.is_postgresql(writer):
                _move_sequences(writer, [other for _, other in pairs])
            writer.conn.execute("COMMIT")
        except BaseException as error:
            writer.conn.execute("ROLLBACK")
            if isinstance(error, (CopyError, connection.Busy)) or not isinstance(error, Exception):
                raise
            raise CopyError(
                f"the copy into {name_of(writer.target)} failed at {at}, so nothing was "
                f"copied: {_first_line(error)}"
            ) from error
    finally:
        _end_snapshot(reader)
    if dialect.is_postgresql(writer):
        # The planner's figures for tables that were empty a moment ago.
        for _, other in pairs:
            writer.conn.execute(f'ANALYZE "{other.name}"')
    return rows, replaced


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _begin_snapshot(db) -> None:
    """One read transaction on the source: every table as it was at one moment, while the app
    may go on writing to it."""
    if dialect.is_postgresql(db):
        db.conn.raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    else:
        db.conn.execute("BEGIN")
        db.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot begins


def _end_snapshot(db) -> None:
    if db.conn.in_transaction:
        db.conn.execute("ROLLBACK")


def _clear(db, targets: list[Table]) -> None:
    """Remove every row of the target's tables (inside the copy's transaction)."""
    if dialect.is_postgresql(db):
        names = ", ".join(f'"{table.name}"' for table in targets)
        db.conn.execute(f"TRUNCATE {names} RESTART IDENTITY")
        return
    for table in reversed(targets):  # those that reference others first
        db.conn.execute(f'DELETE FROM "{table.name}"')


def _order(table: Table, writer) -> str:
    """The order rows are read in: assets by place for PostgreSQL (its table is then stored by
    place: a search near a point reads few pages), every other table by its key."""
    if table.name == "assets" and dialect.is_postgresql(writer):
        return 'CAST((lat + 90) * 100 AS INTEGER), lon, "rid"'
    return ", ".join(f'"{column}"' for column in table.key or table.columns)


def _read(reader, table: Table, order: str, batch_rows: int) -> Iterator[list[tuple]]:
    """The rows of `table` in `order`, in batches of plain tuples."""
    columns = ", ".join(f'"{column}"' for column in table.columns)
    query = f'SELECT {columns} FROM "{table.name}" ORDER BY {order}'
    if dialect.is_postgresql(reader):
        # A server-side cursor: the rows come as they are read, not all at once.
        cursor = reader.conn.raw.cursor(name=f"copy_{table.name}")
        cursor.itersize = batch_rows
    else:
        cursor = reader.conn.cursor()
        cursor.row_factory = None
    try:
        cursor.execute(query)
        while True:
            rows = cursor.fetchmany(batch_rows)
            if not rows:
                return
            yield rows
    finally:
        cursor.close()


def _copy_table(reader, writer, table: Table, batch_rows: int) -> int:
    """Copy one table's rows; how many. A large table is written with its secondary indexes
    dropped and built again after, in one sorted pass each (part of the transaction)."""
    large = _count(reader, table.name) >= bulk.BULK_ROWS
    rebuild = _drop_secondary_indexes(writer, table.name) if large else []
    with closing(_read(reader, table, _order(table, writer), batch_rows)) as batches:
        count = _write(writer, table, batches)
    for statement in rebuild:
        writer.conn.execute(statement)
    return count


def _write(writer, table: Table, batches: Iterator[list[tuple]]) -> int:
    count = 0
    columns = ", ".join(f'"{column}"' for column in table.columns)
    if dialect.is_postgresql(writer):
        cursor = writer.conn.raw.cursor()
        with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copying:
            for rows in batches:
                for row in rows:
                    copying.write_row(row)
                count += len(rows)
        return count
    marks = ", ".join("?" for _ in table.columns)
    insert = f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})'
    for rows in batches:
        writer.conn.executemany(insert, rows)
        count += len(rows)
    return count


def _drop_secondary_indexes(db, table: str) -> list[str]:
    """Drop `table`'s indexes that only speed reads up (not those behind a primary key or a
    unique constraint, which keep the data right); the statements that build them again.
    Updating an index row by row as 100,000 rows arrive costs several times building it once
    from the finished table (PostgreSQL's GiST and GIN search indexes most of all)."""
    if dialect.is_postgresql(db):
        found = db.conn.execute(
            """SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
               JOIN pg_class c ON c.oid = i.indexrelid
               WHERE i.indrelid = ?::regclass AND NOT i.indisprimary AND NOT i.indisunique
               ORDER BY c.relname""",
            [f'"{table}"'],
        ).fetchall()
    else:
        found = db.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name",
            [table],
        ).fetchall()
    for name, _ in found:
        db.conn.execute(f'DROP INDEX "{name}"')
    return [statement for _, statement in found]


def _move_sequences(db, targets: list[Table]) -> None:
    """Each identity column's sequence past its largest copied id (explicit ids do not move
    it), so that the next row the app adds gets a new one."""
    for table in targets:
        if table.identity is None:
            continue
        db.conn.execute(
            f"SELECT setval(pg_get_serial_sequence(?, ?), "
            f'coalesce(max("{table.identity}"), 0) + 1, false) FROM "{table.name}"',
            [f'"{table.name}"', table.identity],
        )
