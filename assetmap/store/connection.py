"""Opening the SQLite database with the settings every connection needs."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from assetmap.store import schema

if TYPE_CHECKING:
    import sqlite_utils

BUSY_TIMEOUT_MS = 5000
# After a busy timeout, a write tries again after each of these pauses before giving up. With
# the timeout that is about 20 s in all: longer than the longest write anybody makes here (an
# import saving 100,000 rows holds the lock for about 10 s), short enough for a web request.
BUSY_RETRY_PAUSES = (0.5, 1.0, 2.0)


class Busy(Exception):
    """The database stayed locked by another writer longer than a write may wait.

    Nothing was written; the person can try again. The web app answers it with a 503.
    """

    def __init__(self):
        super().__init__(
            "the directory is busy saving other changes (an import, perhaps), so nothing was "
            "saved; try again in a minute"
        )


def is_busy(error: BaseException) -> bool:
    """Whether a database error means another connection holds the lock (not a real fault):
    SQLite's "database is locked"; PostgreSQL's lock_not_available (lock_timeout ran out) or
    deadlock_detected (two writers each waiting for the other, as when someone adds by hand an
    asset with an id a staged import is adding: PostgreSQL ends one, whose work is rolled back,
    so it too may simply be tried again)."""
    if getattr(error, "sqlstate", None) in ("55P03", "40P01"):
        return True
    return isinstance(error, sqlite3.OperationalError) and str(error).startswith(
        ("database is locked", "database table is locked")
    )


def begin_immediate(conn: sqlite3.Connection) -> None:
    """Take the write lock, waiting out a busy database with backoff; Busy if it stays busy.

    Each attempt waits up to the busy timeout (SQLite's own handler retries within it).
    """
    waiting_out_busy(lambda: conn.execute("BEGIN IMMEDIATE"))


def waiting_out_busy(attempt: Callable[[], object]) -> None:
    """`attempt()` (taking a lock), again after each of BUSY_RETRY_PAUSES while the database is
    busy; Busy if it still is after the last. The one backoff of every wait for a write lock."""
    for pause in (*BUSY_RETRY_PAUSES, None):
        try:
            attempt()
            return
        except Exception as error:
            if not is_busy(error):
                raise
            if pause is None:
                raise Busy() from error
            time.sleep(pause)


# How often SQLite asks whether the running statement is over its time (set_progress_handler),
# in virtual-machine instructions: about every millisecond of work on this machine class.
# Checking every 1,000 (Datasette's choice) slowed a query that only counts (all VM, no
# B-tree) by about 40% here; every 10,000 slowed it by about 10%, and still stops a statement
# within a millisecond or two of its limit.
TIME_CHECK_EVERY = 10_000

# The message SQLite's statement fails with when a progress handler stops it.
_INTERRUPTED = "interrupted"


class StatementTimeLimit:
    """Stops any one SQL statement on `conn` that runs longer than `limit_ms`.

    A web request's connection gets one (web/db.py), so that a runaway query (a huge search, a
    bad plan) cannot hold a worker: the statement fails with sqlite3.OperationalError
    "interrupted", and `cut_off(error)` says it was this limit. A write stopped this way is
    undone: SQLite rolls back the interrupted statement, and `assets.transaction` the rest.

    The clock is per statement, as Datasette's sql_time_limit_ms is, not per request: the time
    between a request's statements is Python's (drawing a map, scoring coverage), which this
    limit is not about and the progress handler could not stop anyway, since it runs only while
    SQLite does. A statement's clock starts when SQLite starts running it (the trace callback)
    and runs to its last row, so a caller reading rows slowly would count its own time too (the
    web layer reads them all at once). SQLite reports each trigger's start too, with the text of
    the statement that fired it (Python 3.11; should another version give it as "-- TRIGGER
    name", that is passed over too), so a trigger does not restart the clock: an UPDATE whose
    trigger fires on each of a million rows is one statement, timed as one.
    """

    def __init__(self, conn: sqlite3.Connection, limit_ms: int):
        self.limit_ms = limit_ms
        self._limit = limit_ms / 1000
        self._statement: str | None = None
        self._started = time.monotonic()
        self.stopped = False  # whether a statement has been stopped
        conn.set_trace_callback(self._statement_starts)
        conn.set_progress_handler(self._over_time, TIME_CHECK_EVERY)

    def _statement_starts(self, sql: str) -> None:
        if sql != self._statement and not sql.startswith("-- TRIGGER "):
            self._statement = sql
            self._started = time.monotonic()

    def _over_time(self) -> int:
        if time.monotonic() - self._started < self._limit:
            return 0
        self.stopped = True
        return 1  # SQLite stops the statement: "interrupted"

    def cut_off(self, error: BaseException) -> bool:
        """Whether `error` is a statement this limit stopped (not another SQLite failure)."""
        return (
            self.stopped
            and isinstance(error, sqlite3.OperationalError)
            and str(error) == _INTERRUPTED
        )


def time_limit(db, limit_ms: int):
    """Stop any one SQL statement of `db` that runs longer than `limit_ms` (a web request's
    connection: web/db.py). SQLite: StatementTimeLimit; PostgreSQL: the server's own
    statement_timeout, until the handle is closed. Either has `limit_ms` and `cut_off(error)`."""
    if getattr(db, "engine", "sqlite") == "postgresql":
        return db.limit_statements(limit_ms)
    return StatementTimeLimit(db.conn, limit_ms)


def sqlite_path(target: str | Path) -> str | Path:
    """The file of a SQLite ASSETMAP_DB: a path, or `sqlite:///path` as in a URL."""
    if isinstance(target, str) and target.startswith("sqlite:///"):
        return target.removeprefix("sqlite:///") or ":memory:"
    return target


def connect(target: str | Path) -> sqlite_utils.Database:
    """Open the directory's database: a PostgreSQL one when `target` is a `postgresql://` URL
    (store/postgres.py), else the SQLite file at `target`.

    Every handle has `conn`, `engine` ("sqlite" or "postgresql"), `target` and `close()`.
    """
    from assetmap.store import postgres

    if postgres.is_url(target):
        return postgres.Database(target)
    return _connect_sqlite(sqlite_path(target))


def _connect_sqlite(path: str | Path) -> sqlite_utils.Database:
    """Open the database at `path` in WAL mode, creating its folder if needed.

    WAL lets readers carry on while one writer writes; the busy timeout makes a second
    writer wait instead of failing at once; synchronous=FULL means a committed change
    survives a power cut, which matters more here than write speed. Transactions are
    managed explicitly (isolation_level=None) so that a write either happens whole or not.
    """
    # Here, not above: a command that never opens the database skips it (issue 19).
    from assetmap.store.sqlite_utils_without_pandas import sqlite_utils

    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA temp_store = MEMORY")  # sorts and keyword matches stay off the disk
    db = sqlite_utils.Database(conn)
    db.engine = "sqlite"
    db.target = path
    return db


def initialise(path: str | Path) -> list[str]:
    """Create or bring forward the schema of the database at `path`; idempotent.

    RuntimeError with what to do when PostgreSQL refuses a migration (most often an extension
    only an administrator may create: PostGIS on a managed service).
    """
    from assetmap.store import postgres

    if not postgres.is_url(path):
        db = connect(path)
        try:
            return schema.migrate(db.conn)
        finally:
            db.close()
    import psycopg

    try:
        db = connect(path)
    except (psycopg.Error, OSError) as error:
        where = postgres.without_password(path)
        if not _postgresql_database_missing(path):
            raise RuntimeError(f"cannot open the PostgreSQL database {where} ({error})") from None
        _create_postgresql_database(path)
        db = connect(path)
    try:
        return schema.migrate(db.conn)
    except psycopg.Error as error:
        hint = ""
        if "extension" in str(error):
            hint = (
                " An administrator must install it (Debian: postgresql-postgis) and run "
                "CREATE EXTENSION for postgis, btree_gist and citext in this database "
                "(docs/deploying.md)."
            )
        raise RuntimeError(f"PostgreSQL refused the schema: {error}.{hint}") from None
    finally:
        db.close()


class NotReady(Exception):
    """The database is missing, or not at this assetmap's schema version; the message says
    what to do about it (run `assetmap init`, or upgrade assetmap)."""


def connect_ready(target: str | Path) -> sqlite_utils.Database:
    """Open the database at `target` when it exists and its schema is this assetmap's.

    NotReady when not. Nothing is made where there was nothing (`connect` would leave an empty
    file, which every later command, and `make run`, would take for a database), and a database
    of another schema version is not used (its tables would fail deeper in, as raw SQLite
    errors). `initialise` is what makes a database or brings it forward.
    """
    from assetmap.store import postgres

    if postgres.is_url(target):
        return _ready(_connect_postgresql(target), target)
    path = Path(sqlite_path(target))
    if not path.exists():
        raise NotReady(
            f"there is no database at {path}: run `assetmap init` first (or `make run` for the "
            "demo)"
        )
    db = None
    try:
        db = connect(path)
        schema.current_version(db.conn)
    except sqlite3.DatabaseError as error:
        if db is not None:
            db.close()
        if is_busy(error):
            raise
        raise NotReady(f"{path} is not a database assetmap can open ({error})") from None
    return _ready(db, path)


def _connect_postgresql(url: str):
    """A handle on the PostgreSQL database at `url`; NotReady naming the server's reason (the
    URL's password left out) when it cannot be reached."""
    import psycopg

    from assetmap.store import postgres

    try:
        return postgres.Database(url)
    except (psycopg.Error, OSError) as error:
        where = postgres.without_password(url)
        if _postgresql_database_missing(url):  # as a missing SQLite file: nothing is made
            raise NotReady(f"there is no database at {where}: run `assetmap init` first") from None
        raise NotReady(f"cannot open the PostgreSQL database {where} ({error})") from None


def _postgresql_database_missing(url: str) -> bool:
    """Whether the server at `url` answers but holds no database of its name. Asked of the
    server's `postgres` database, as createdb does: the refusal's words are in the server's
    language, and a server that is down or refuses the password is not a missing database."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from assetmap.store import postgres

    name = conninfo_to_dict(url).get("dbname")
    try:
        with psycopg.connect(
            make_conninfo(url, dbname="postgres"), connect_timeout=postgres.CONNECT_TIMEOUT_S
        ) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return name is not None and found.fetchone() is None
    except (psycopg.Error, OSError):
        return False


def _create_postgresql_database(url: str) -> None:
    """Create the database `url` names (`assetmap init` on a server without it), as the URL's
    role; RuntimeError saying what to ask for when the role may not create databases."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from assetmap.store import postgres

    name = conninfo_to_dict(url)["dbname"]
    try:
        with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.errors.DuplicateDatabase:
        pass  # another server's `assetmap init` made it meanwhile
    except psycopg.Error as error:
        raise RuntimeError(
            f"there is no database at {postgres.without_password(url)} and PostgreSQL refused "
            f"to create it ({str(error).strip()}): ask an administrator to create it "
            f"(`createdb -O ROLE {name}`, ROLE being the one in ASSETMAP_DB), then run "
            "`assetmap init` again"
        ) from None


def _ready(db, where) -> sqlite_utils.Database:
    """`db` when its schema is this assetmap's; else closed, and NotReady saying what to do."""
    version = schema.current_version(db.conn)
    if version == schema.SCHEMA_VERSION:
        return db
    db.close()
    if version == 0:
        raise NotReady("the database is not set up yet: run `assetmap init` first")
    if version < schema.SCHEMA_VERSION:
        raise NotReady(
            f"the database is at schema version {version} and this assetmap needs "
            f"{schema.SCHEMA_VERSION}: run `assetmap init` to bring it up to date"
        )
    raise NotReady(
        f"the database is at schema version {version}, newer than this assetmap "
        f"({schema.SCHEMA_VERSION}); upgrade assetmap before using it"
    )
