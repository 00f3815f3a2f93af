"""A backup of the whole directory, and restoring one, on either engine.

SQLite: Python's sqlite3 online backup API, not a file copy. A copy of the file while the app
writes can catch half a transaction (and misses what is still in the -wal file); the backup
API copies pages through SQLite's own locking. The copy reads inside one read transaction on
the source, so it is a snapshot of one moment: in WAL mode that never holds a writer up, and
without it SQLite would start the copy again after every write by another connection, which
on a busy directory could never finish. The copy is made beside OUT and renamed into place
only once it has passed `PRAGMA integrity_check` and its counts match the moment it was taken.

Restoring copies the backup into the live database with the same API in the other direction,
in one write transaction: a reader (a running app) sees the old directory or the new one,
never a mixture. The backup is checked first in a scratch copy beside the database (that it is
an assetmap database, whole, at a schema version this assetmap can run; an older one is
brought forward there, as `assetmap init` would), so bad input leaves the database as it was.

PostgreSQL (a postgresql:// ASSETMAP_DB): pg_dump and pg_restore, in store/backup_postgres.py.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assetmap.store import connection, postgres, schema
from assetmap.store.connection import BUSY_TIMEOUT_MS, Busy, connect, is_busy

if TYPE_CHECKING:
    from assetmap.store.backup_postgres import PgRestore

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"

# The tables a person would count the directory by, in their words; tables absent from a
# database (an old schema, a PostgreSQL database without assetmap's) are left out.
KEY_TABLES = (("assets", "assets"), ("asset_history", "history rows"), ("users", "accounts"))

# The copy goes in steps of this many pages (4 KB each), with a short pause between steps, so
# that a large directory is not read in one burst that starves the app's own reads and writes
# of the disk. (In WAL mode the copy's read transaction does not block writers at all.)
STEP_PAGES = 256
STEP_PAUSE = 0.005
# How long a restore waits for the app's writers to let it in before giving up (the same
# as any other write: connection.BUSY_RETRY_PAUSES after the busy timeout).
RESTORE_WAIT_SECONDS = 20.0


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do. Nothing
    was changed."""


@dataclass(frozen=True)
class Contents:
    """What a database or a backup holds, counted by its KEY_TABLES (or by its tables, for a
    PostgreSQL database without assetmap's schema)."""

    counts: dict[str, int] = field(default_factory=dict)
    size: int = 0  # bytes
    version: int | None = None  # the schema version, where it can be read

    @property
    def empty(self) -> bool:
        return not any(self.counts.values())

    def words(self) -> str:
        """'12 assets, 30 history rows, 3 accounts'."""
        if not self.counts:
            return "nothing"
        return ", ".join(f"{n:,} {_singular(label, n)}" for label, n in self.counts.items())


def _singular(label: str, n: int) -> str:
    if n == 1 and label.endswith("s") and label in dict(KEY_TABLES).values():
        return label[:-1]
    return label


def size_words(size: int) -> str:
    """A file size in words: '812 KB', '12.3 MB'."""
    if size < 1000_000:
        return f"{max(1, round(size / 1000)):,} KB"
    return f"{size / 1000_000:,.1f} MB"


def is_postgresql(target: str | os.PathLike) -> bool:
    """Whether ASSETMAP_DB names a PostgreSQL database (a postgresql:// URL)."""
    return postgres.is_url(str(target))


def sqlite_path(target: str | os.PathLike) -> Path:
    """The file of an SQLite ASSETMAP_DB: a path, or a sqlite:/// URL."""
    return Path(connection.sqlite_path(str(target)))


def backup(target: str | os.PathLike, out: Path, **steps) -> Contents:
    """Save the whole directory at `target` (ASSETMAP_DB) to `out`; what the backup holds."""
    out = Path(out)
    if is_postgresql(target):
        from assetmap.store import backup_postgres

        return backup_postgres.backup(str(target), out)
    return backup_sqlite(sqlite_path(target), out, **steps)


@contextmanager
def restoring(target: str | os.PathLike, source: Path) -> Iterator[_SqliteRestore | PgRestore]:
    """A checked backup at `source`, ready to replace the directory at `target`.

    `.incoming` is what the backup holds and `.current` what the directory holds now, so that
    the caller can say what would be replaced before calling `.apply()`. Nothing changes unless
    `.apply()` is called; the scratch copy is removed when the block ends.
    """
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"there is no backup file at {source}")
    start = _first_bytes(source)
    if is_postgresql(target):
        from assetmap.store import backup_postgres

        yield backup_postgres.restoring(str(target), source, start)
        return
    path = sqlite_path(target)
    if start.startswith(PG_DUMP_MAGIC):
        raise BackupError(
            f"{source} is a PostgreSQL backup (made by pg_dump) and this directory is on "
            "SQLite: restore it into a postgresql:// ASSETMAP_DB, then move it with "
            "`assetmap copy` if you want it on SQLite"
        )
    if not start.startswith(SQLITE_MAGIC):
        raise BackupError(
            f"{source} is not an assetmap backup: it is not an SQLite database (an "
            "`assetmap backup` of an SQLite directory is one)"
        )
    if path.exists() and path.resolve() == source.resolve():
        raise BackupError(f"{source} is the directory's own database, not a backup of it")
    restore = _SqliteRestore(path, source)
    try:
        yield restore
    finally:
        restore.discard()


def _first_bytes(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(len(SQLITE_MAGIC))


# SQLite ------------------------------------------------------------------------------------


def backup_sqlite(
    path: Path, out: Path, *, pages: int = STEP_PAGES, pause: float = STEP_PAUSE
) -> Contents:
    """Copy the SQLite database at `path` to `out` with the online backup API (see the module
    docstring), checked before it is renamed into place; what it holds.

    A database at any schema version can be backed up: a backup before `assetmap init`
    brings a database forward is a good one to have.
    """
    path, out = Path(path), Path(out)
    if not path.is_file():
        raise BackupError(f"there is no database at {path}: nothing to back up")
    if out.exists() and out.resolve() == path.resolve():
        raise BackupError(f"{out} is the database itself: name another file for the backup")
    if out.is_dir():
        raise BackupError(f"{out} is a folder: name a file for the backup")
    with _writing(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = _scratch_file(out.parent, out.name, ".partial")
    source = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        source.execute("BEGIN")  # the read transaction: the backup is of this moment
        try:
            version = _assetmap_version(source, path)
            counted = _counts(source)
            copy = sqlite3.connect(str(partial), isolation_level=None)
            try:
                source.backup(copy, pages=pages, progress=_pausing(pause))
            finally:
                copy.close()
        finally:
            source.execute("COMMIT")
        saved = _check_copy(partial, f"the backup of {path}")
        if saved.counts != counted or saved.version != version:
            raise BackupError(
                f"the backup of {path} does not match the database ({saved.words()} against "
                f"{Contents(counted).words()}); nothing was saved: try again"
            )
        with _writing(out):
            _flush(partial)
            partial.replace(out)
            _flush_folder(out.parent)
        return saved
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} could not be backed up ({error}); nothing was saved") from None
    finally:
        source.close()
        _remove(partial)


def _assetmap_version(conn: sqlite3.Connection, path: Path) -> int:
    """The schema version of an assetmap database; BackupError for another kind of file."""
    try:
        version = schema.current_version(conn)
        has_assets = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'assets'"
        ).fetchone()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a database assetmap can read ({error})") from None
    if version == 0 or not has_assets:
        raise BackupError(f"{path} is an SQLite database but not an assetmap one (no assets)")
    return version


def _counts(conn) -> dict[str, int]:
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return {
        label: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table, label in KEY_TABLES
        if table in names
    }


def _pausing(pause: float) -> Callable[[int, int, int], None]:
    def progress(status: int, remaining: int, total: int) -> None:
        if remaining and pause:
            time.sleep(pause)

    return progress


def _check_copy(path: Path, what: str) -> Contents:
    """Open a copy on its own (no -wal beside it), check it whole, and count it."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check(5)")]
        if problems != ["ok"]:
            raise BackupError(f"{what} is damaged: {'; '.join(problems)}")
        version = _assetmap_version(conn, path)
        return Contents(_counts(conn), path.stat().st_size, version)
    finally:
        conn.close()


@contextmanager
def _writing(out: Path) -> Iterator[None]:
    """A folder that cannot be written to, or a full disk, as a BackupError."""
    try:
        yield
    except OSError as error:
        raise BackupError(
            f"could not write the backup to {out} ({error.strerror or error}); nothing was saved"
        ) from None


def _scratch_file(folder: Path, name: str, suffix: str) -> Path:
    """A new empty file in `folder` (beside its target, so a rename is atomic), hidden."""
    descriptor, scratch = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=suffix)
    os.close(descriptor)
    return Path(scratch)


def _remove(path: Path) -> None:
    for leftover in (path, *(Path(f"{path}{end}") for end in ("-wal", "-shm", "-journal"))):
        with suppress(FileNotFoundError):
            leftover.unlink()


def _flush(path: Path) -> None:
    with path.open("rb") as f:
        os.fsync(f.fileno())


def _flush_folder(folder: Path) -> None:
    """Make a rename in `folder` survive a power cut."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class _SqliteRestore:
    """A backup checked in a scratch copy beside the database, ready to copy in."""

    def __init__(self, path: Path, source: Path):
        self.path = path
        room = f"could not copy the backup beside {path} to check it"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.scratch = _scratch_file(path.parent, path.name, ".restore")
        except OSError as error:
            raise BackupError(f"{room} ({error.strerror or error}); nothing was changed") from None
        try:
            try:
                shutil.copyfile(source, self.scratch)  # the backup itself is only read
            except OSError as error:
                raise BackupError(f"{room} ({error.strerror}); nothing was changed") from None
            self._check(source)
            self.current = self._now()
        except BaseException:
            self.discard()
            raise

    def _check(self, source: Path) -> None:
        """That the scratch copy is a whole assetmap database this assetmap can run; brought
        forward when older. Sets `incoming` and `migrations`."""
        damaged = f"{source} is damaged or incomplete (a backup cut short?)"
        missing = _missing_bytes(self.scratch)
        if missing:
            raise BackupError(
                f"{damaged}: {missing:,} bytes are missing from its end; use another backup"
            )
        try:
            conn = sqlite3.connect(str(self.scratch), isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode = DELETE")
                problems = [row[0] for row in conn.execute("PRAGMA integrity_check(5)")]
                if problems != ["ok"]:
                    raise BackupError(f"{damaged}: {'; '.join(problems)}; use another backup")
                version = _assetmap_version(conn, source)
                if version > schema.SCHEMA_VERSION:
                    raise BackupError(
                        f"{source} is at schema version {version}, newer than this assetmap "
                        f"({schema.SCHEMA_VERSION}): upgrade assetmap, then restore it"
                    )
                self.migrations = schema.migrate(conn) if version < schema.SCHEMA_VERSION else []
                self.incoming = Contents(_counts(conn), source.stat().st_size, version)
            finally:
                conn.close()
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{damaged} ({error}); use another backup") from None

    def _now(self) -> Contents | None:
        """What the directory holds now; None when it cannot be read as an assetmap one."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return Contents()
        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
            try:
                return Contents(_counts(conn), self.path.stat().st_size, _version(conn))
            finally:
                conn.close()
        except sqlite3.DatabaseError as error:
            if is_busy(error):
                raise
            # Only a file that is not (or no longer) a database is taken for a damaged one;
            # one that cannot be opened (its permissions, say) is not replaced.
            if getattr(error, "sqlite_errorcode", None) in (
                sqlite3.SQLITE_NOTADB,
                sqlite3.SQLITE_CORRUPT,
            ):
                return None
            raise BackupError(
                f"the directory's database {self.path} cannot be opened ({error}); nothing "
                "was changed"
            ) from None

    def apply(self) -> list[str]:
        """Copy the backup into the database in one write transaction; the migrations applied
        to bring the backup forward. Busy when the app's writers kept it out too long.

        A database that cannot be read at all (`current` is None: a damaged file) is replaced
        by the checked copy whole instead, as the backup API cannot write into it.
        """
        if self.current is None:
            for sidecar in ("-wal", "-shm"):
                with suppress(FileNotFoundError):
                    Path(f"{self.path}{sidecar}").unlink()
            self.scratch.replace(self.path)
            _flush_folder(self.path.parent)
            return self.migrations
        scratch = sqlite3.connect(str(self.scratch), isolation_level=None)
        live = connect(self.path)  # WAL and the busy timeout, as the app opens it
        started = time.monotonic()

        def waiting(status: int, remaining: int, total: int) -> None:
            busy = status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
            if busy and time.monotonic() - started > RESTORE_WAIT_SECONDS:
                raise Busy()  # sqlite3_backup_finish rolls the copy back

        try:
            # All pages in one step: one write transaction on the live database.
            scratch.backup(live.conn, pages=-1, progress=waiting)
        except sqlite3.DatabaseError as error:
            raise BackupError(f"the backup could not be copied in ({error})") from None
        finally:
            scratch.close()
            live.close()
        return self.migrations

    def discard(self) -> None:
        _remove(self.scratch)


def _missing_bytes(path: Path) -> int:
    """How much shorter the file is than its header says (0 when whole, or when the header's
    size is not valid and SQLite goes by the file's size). SQLite reads a missing page as
    empty, so a file cut at a page that held nothing would otherwise pass integrity_check."""
    with path.open("rb") as f:
        header = f.read(100)
    if len(header) < 100:
        return 0  # SQLite itself calls it "not a database"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    valid = header[24:28] == header[92:96] and pages > 0
    return max(0, pages * page_size - path.stat().st_size) if valid else 0


def _version(conn: sqlite3.Connection) -> int:
    return schema.current_version(conn)


def _labelled(tables: dict[str, int]) -> dict[str, int]:
    """Counts by KEY_TABLES where the database has assetmap's tables, else by every table."""
    if any(table in tables for table, _ in KEY_TABLES):
        return {label: tables[table] for table, label in KEY_TABLES if table in tables}
    return dict(sorted(tables.items()))
