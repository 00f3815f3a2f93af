"""PostgreSQL (with PostGIS) under the same store functions as SQLite (issue 20).

The store's functions are written once, in SQLite's dialect with `?` or `:name` parameters, and
call `db.conn.execute(sql, params)`. On PostgreSQL `db.conn` is a `Connection` here: it hands
each statement to psycopg 3 with the parameters in psycopg's style (`%s`, `%(name)s`; a literal
`%` doubled) and gives rows that behave as sqlite3.Row does (by name, by position, `dict(row)`),
so most statements need nothing more. Where the two dialects really differ (full-text search,
geography, JSON functions, upserts that SQLite spells `INSERT OR ...`), the store function
branches on `db.engine` and the SQL stays in store/.

Connections come from one psycopg_pool.ConnectionPool per database URL and process, opened on
first use: a web request or a command borrows one and `close()` gives it back. Every connection
is in autocommit mode, as SQLite's are here (isolation_level=None): a store function that
writes says BEGIN and COMMIT itself. `BEGIN IMMEDIATE`, SQLite's "take the write lock now",
becomes BEGIN plus a transaction-level advisory lock, so writers take turns exactly as they do
on SQLite (an asset's new id, an import's counts, undo's checks all rely on no other writer
coming in between), while readers never wait.

SQLite's tuning pragmas (busy timeout, synchronous, cache size, temp store, foreign keys) and
its WAL checkpoint have no meaning here and are accepted and ignored, so that the code that sets
them around a bulk write need not branch; `PRAGMA user_version` is kept in a one-row table
(store/schema.py).
"""

from __future__ import annotations

import contextlib
import re
import threading
from functools import lru_cache
from typing import Any

# Every writer holds this advisory lock from BEGIN IMMEDIATE to its COMMIT or ROLLBACK: one
# number for the whole directory, as SQLite has one lock for the whole file.
WRITE_LOCK = 0x61737365  # "asse"
# Writers that touch only accounts, sign-ins, sessions and their audit log (store/users.py)
# take this one instead, so that a sign-in never waits for an import's writes; they take turns
# among themselves (the sign-in throttle's check and count rely on it). See users.transaction.
ACCOUNTS_LOCK = 0x61636374  # "acct"

# How many connections one process may hold at once. A gunicorn worker uses one a thread (4)
# and its import worker one or two; the rest is room for bursts, such as many sign-ins at once,
# where SQLite would simply open more. Connections beyond POOL_MIN close after a while idle.
# docs/deploying.md sizes the server's max_connections by it (processes x POOL_MAX).
POOL_MIN = 1
POOL_MAX = 20
# How long a request or command waits for a connection (the server down, the pool exhausted).
CONNECT_TIMEOUT_S = 10

_IGNORED_PRAGMAS = re.compile(
    r"\s*PRAGMA\s+(?:temp\.)?(busy_timeout|synchronous|cache_size|temp_store|foreign_keys|"
    r"journal_mode|wal_checkpoint)\b",
    re.IGNORECASE,
)


def is_url(target: Any) -> bool:
    """Whether `target` (ASSETMAP_DB) names a PostgreSQL database rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def without_password(url: str) -> str:
    """`url` fit to print: its password, if any, left out."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1@", url)


@lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """`sql` with SQLite's parameters in psycopg's style: `?` -> `%s`, `:name` -> `%(name)s`,
    and a literal `%` doubled; quoted text, quoted names and comments are left as they are, and
    so is PostgreSQL's `::` cast."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        char = sql[i]
        if char in "'\"":
            end = i + 1
            while end < n:
                if sql[end] == char:
                    if end + 1 < n and sql[end + 1] == char:  # a doubled quote inside
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1].replace("%", "%%"))
            i = end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif char == "?":
            out.append("%s")
            i += 1
        elif char == "%":
            out.append("%%")
            i += 1
        elif char == ":" and sql.startswith("::", i):
            out.append("::")
            i += 2
        elif char == ":" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_"):
            end = i + 1
            while end < n and (sql[end].isalnum() or sql[end] == "_"):
                end += 1
            out.append(f"%({sql[i + 1 : end]})s")
            i = end
        else:
            out.append(char)
            i += 1
    return "".join(out)


class Row(tuple):
    """A row as sqlite3.Row gives it: by position, by column name, and `dict(row)`."""

    __slots__ = ()
    _names: tuple[str, ...] = ()
    _index: dict[str, int] = {}

    def __getitem__(self, key):
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


@lru_cache(maxsize=1024)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"_names": names, "_index": {n: i for i, n in enumerate(names)}})


def _sqlite_rows(cursor):
    """psycopg row factory: sqlite3.Row-like rows."""
    if cursor.description is None:
        return tuple
    cls = _row_class(tuple(column.name for column in cursor.description))
    return lambda values: cls(values)


def _tuple_rows(cursor):
    return tuple


class Cursor:
    """What a store function gets back from `execute`: sqlite3.Cursor's reading methods."""

    def __init__(self, cursor, *, empty: bool = False):
        self._cursor = cursor
        self._empty = empty
        self.row_factory = None

    @property
    def rowcount(self) -> int:
        return -1 if self._empty else self._cursor.rowcount

    @property
    def description(self):
        return None if self._empty else self._cursor.description

    @property
    def lastrowid(self):
        raise NotImplementedError(
            "PostgreSQL has no lastrowid: the statement should say RETURNING id (SQLite 3.35+ "
            "takes it too)"
        )

    def fetchone(self):
        if self._empty or self._cursor.description is None:
            return None
        return self._cursor.fetchone()

    def fetchall(self) -> list:
        if self._empty or self._cursor.description is None:
            return []
        return self._cursor.fetchall()

    def fetchmany(self, size: int = 1) -> list:
        if self._empty or self._cursor.description is None:
            return []
        return self._cursor.fetchmany(size)

    def __iter__(self):
        if self._empty or self._cursor.description is None:
            return iter(())
        return iter(self._cursor)

    def close(self) -> None:
        self._cursor.close()


class Connection:
    """A psycopg connection speaking the store's SQLite-style SQL (see the module's docstring)."""

    engine = "postgresql"

    def __init__(self, raw):
        self.raw = raw

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, params=(), *, tuples: bool = False) -> Cursor:
        statement = sql.strip()
        head = statement[:20].upper()
        if head.startswith("BEGIN"):
            cursor = self.raw.cursor()
            cursor.execute("BEGIN")
            if head.startswith("BEGIN IMMEDIATE") or head.startswith("BEGIN EXCLUSIVE"):
                try:
                    # Wait for another writer as long as SQLite's busy timeout would.
                    cursor.execute(f"SET LOCAL lock_timeout = {_busy_timeout_ms():d}")
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                except BaseException:
                    # Not begun, as SQLite's BEGIN IMMEDIATE is not when the lock is busy
                    # (lock_timeout: connection.is_busy), so the caller may try again.
                    self.raw.execute("ROLLBACK")
                    raise
            return Cursor(cursor, empty=True)
        if head.startswith("PRAGMA") and _IGNORED_PRAGMAS.match(statement):
            return Cursor(self.raw.cursor(), empty=True)
        cursor = self.raw.cursor(row_factory=_tuple_rows if tuples else _sqlite_rows)
        if params:
            cursor.execute(translate(sql), params)
        else:
            # Without parameters psycopg takes the text as it is: no % to double.
            cursor.execute(sql)
        return Cursor(cursor)

    def begin_immediate_now(self, lock: int = WRITE_LOCK) -> bool:
        """BEGIN IMMEDIATE if the write lock (or `lock`) is free this moment (then True); else
        nothing begun and False, at once (store.users.write_now: SQLite's busy_timeout 0)."""
        self.raw.execute("BEGIN")
        got = self.raw.execute("SELECT pg_try_advisory_xact_lock(%s)", (lock,)).fetchone()
        if got[0]:
            return True
        self.raw.execute("ROLLBACK")
        return False

    def lock_for_writing(self, lock: int = WRITE_LOCK) -> None:
        """Take the write lock (as BEGIN IMMEDIATE does; or `lock`) inside a transaction begun
        without it, waiting out another writer as connection.begin_immediate does; Busy if it
        stays busy.

        An import on PostgreSQL stages its rows in its transaction first, with no lock held,
        and takes the lock only to write them (store.imports.writing). Each wait is in a
        savepoint, so a lock_timeout undoes only the wait, not what was staged."""
        from assetmap.store.connection import waiting_out_busy

        self.raw.execute(f"SET LOCAL lock_timeout = {_busy_timeout_ms():d}")  # as BEGIN IMMEDIATE

        def attempt() -> None:
            self.raw.execute("SAVEPOINT assetmap_write_lock")
            try:
                self.raw.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
            except Exception:
                self.raw.execute("ROLLBACK TO SAVEPOINT assetmap_write_lock")
                raise
            self.raw.execute("RELEASE SAVEPOINT assetmap_write_lock")  # the lock stays held

        waiting_out_busy(attempt)

    def executemany(self, sql: str, rows) -> Cursor:
        cursor = self.raw.cursor()
        cursor.executemany(translate(sql), list(rows))
        return Cursor(cursor, empty=True)

    def cursor(self) -> PlainCursor:
        return PlainCursor(self)

    def commit(self) -> None:
        if self.in_transaction:
            self.raw.execute("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self.raw.execute("ROLLBACK")

    def close(self) -> None:
        self.raw.close()


def _busy_timeout_ms() -> int:
    from assetmap.store import connection

    return int(connection.BUSY_TIMEOUT_MS)


class PlainCursor:
    """`conn.cursor()`: a cursor whose rows are plain tuples when its row_factory is None, as the
    search code sets it for speed (a sqlite3.Row looks every column up by name)."""

    def __init__(self, connection: Connection):
        self._connection = connection
        self.row_factory = None
        self._last: Cursor | None = None

    def execute(self, sql: str, params=()) -> PlainCursor:
        self._last = self._connection.execute(sql, params, tuples=self.row_factory is None)
        return self

    def fetchone(self):
        return self._last.fetchone()

    def fetchall(self):
        return self._last.fetchall()

    def __iter__(self):
        return iter(self._last)

    @property
    def rowcount(self) -> int:
        return self._last.rowcount

    def close(self) -> None:
        pass


class Database:
    """The store's handle on a PostgreSQL database: `conn`, `engine`, `target` and `close()`,
    as the SQLite handle (a sqlite_utils.Database) has them."""

    engine = "postgresql"

    def __init__(self, url: str):
        self.target = url
        self._pool = _pool(url)
        self._limited = False
        self._raw = None
        self._raw = self._pool.getconn(timeout=CONNECT_TIMEOUT_S)
        self.conn = Connection(self._raw)

    def execute(self, sql: str, params=()) -> Cursor:
        return self.conn.execute(sql, params)

    def limit_statements(self, limit_ms: int) -> StatementTimeout:
        """Stop any one statement that runs longer than `limit_ms` until this handle is closed
        (connection.time_limit: a web request's SQL)."""
        self._raw.execute(f"SET statement_timeout = {int(limit_ms):d}")
        self._limited = True
        return StatementTimeout(limit_ms)

    def close(self) -> None:
        """Give the connection back to the pool, rolling back anything left open."""
        if self._raw is None:
            return
        raw, self._raw = self._raw, None
        if self.conn.in_transaction:
            raw.execute("ROLLBACK")
        if self._limited:
            raw.execute("RESET statement_timeout")
        self._pool.putconn(raw)

    def __del__(self) -> None:
        # A handle dropped without close() (SQLite's connections forgive that) gives its
        # connection back as soon as it is garbage, so a forgotten close cannot drain the pool.
        with contextlib.suppress(Exception):  # at exit, or the server gone: nothing to give
            self.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class StatementTimeout:
    """A request's statement_timeout: `cut_off(error)` says whether `error` is a statement it
    stopped (query_canceled), as store.connection.StatementTimeLimit does for SQLite."""

    def __init__(self, limit_ms: int):
        self.limit_ms = limit_ms

    def cut_off(self, error: BaseException) -> bool:
        return getattr(error, "sqlstate", None) == "57014"


_pools: dict[str, Any] = {}
_pools_lock = threading.Lock()


@lru_cache(maxsize=1)
def _numeric_loader():
    """A psycopg loader giving `numeric` values as SQLite gives numbers: an int for a whole
    number (a sum), a float for one with a fraction (an average). PostgreSQL's sum() of a
    bigint column and avg() are numeric, which psycopg would give as Decimal, a type nothing
    above the store expects (JSON cannot even encode it)."""
    from psycopg.adapt import Loader

    class NumberLoader(Loader):
        def load(self, data):
            text = bytes(data).decode()
            if "." in text or not text.lstrip("-").isdigit():  # 2.5, NaN, Infinity
                return float(text)
            return int(text)

    return NumberLoader


def _configure(raw) -> None:
    """Each new connection: autocommit (the store says BEGIN itself), and no JIT or parallel
    workers for the short statements a directory runs (issue 19's tuned PostGIS: JIT compiled a
    2 ms query for 50 ms, and starting workers costs more than they save)."""
    raw.autocommit = True
    raw.adapters.register_loader("numeric", _numeric_loader())
    # A writer waits this long for another's write lock, as SQLite's busy timeout, then
    # connection.begin_immediate tries again a few times before answering Busy.
    raw.execute(f"SET lock_timeout = {_busy_timeout_ms():d}")
    raw.execute("SET jit = off")
    raw.execute("SET max_parallel_workers_per_gather = 0")


def _pool(url: str):
    with _pools_lock:
        pool = _pools.get(url)
        if pool is None:
            import psycopg
            from psycopg_pool import ConnectionPool

            # Once, before the pool: a server that is down or refuses (no such database, a
            # wrong password) is said at once in its own words, not after the pool's timeout.
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S).close()

            pool = ConnectionPool(
                url,
                min_size=POOL_MIN,
                max_size=POOL_MAX,
                configure=_configure,
                open=True,
                name="assetmap",
            )
            _pools[url] = pool
        return pool


def close_pool(url: str) -> None:
    """Close this process's pool for `url`, if it has one (a database about to be copied or
    dropped may have no connections open)."""
    with _pools_lock:
        pool = _pools.pop(url, None)
    if pool is not None:
        pool.close()


def close_pools() -> None:
    """Close every pool this process opened (the tests, between clusters; a command at exit)."""
    with _pools_lock:
        for pool in _pools.values():
            pool.close()
        _pools.clear()
