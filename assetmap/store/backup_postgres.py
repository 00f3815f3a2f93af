"""Backups of a PostgreSQL directory: `pg_dump --format=custom` and `pg_restore
--single-transaction`, PostgreSQL's own tools, found on PATH or where Debian puts them.

The URL's password reaches them through a temporary password file (mode 0600, removed after),
never their command line, which any user of the machine can list, nor what they print. A
backup is read back through pg_restore (to a script, not a database) before it replaces OUT,
which counts its rows, reads the schema version it records, and shows the whole file can be
read; a restore reads the backup the same way before it touches the database, so a file cut
short or of another kind changes nothing. pg_restore then replaces the directory in one
transaction: the app's requests wait for it and see the old directory or the new one.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assetmap.store import schema
from assetmap.store.backup import (
    KEY_TABLES,
    PG_DUMP_MAGIC,
    SQLITE_MAGIC,
    BackupError,
    Contents,
    _flush,
    _flush_folder,
    _labelled,
    _remove,
    _scratch_file,
    _writing,
)
from assetmap.store.connection import connect

# Where Debian and Ubuntu put PostgreSQL's programs when they are not on PATH.
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
# The table in which a PostgreSQL directory records its schema version (store/schema.py).
SCHEMA_TABLE = "assetmap_schema"


def pg_program(name: str) -> str:
    """The path of PostgreSQL's `name` (pg_dump, pg_restore): on PATH, or the newest in
    PG_BIN_GLOB; BackupError saying how to install it when it is in neither."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(os.path.join(PG_BIN_GLOB, name)),
        key=lambda p: [int(part) for part in re.findall(r"\d+", p)],
    )
    if candidates:
        return candidates[-1]
    raise BackupError(
        f"{name} was not found (on PATH or in {PG_BIN_GLOB}): install PostgreSQL's client "
        "programs (Debian and Ubuntu: `apt-get install postgresql-client`), at least the "
        "server's version"
    )


@contextmanager
def _pg_login(url: str) -> Iterator[tuple[str, dict[str, str], str]]:
    """The URL as a connection string without its password, the environment that gives the
    password to libpq through a temporary password file (mode 0600, removed afterwards), and
    the password itself (to keep it out of anything printed)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        params = conninfo_to_dict(url)
    except Exception:  # its message may quote the URL, password and all
        raise BackupError(
            "ASSETMAP_DB is not a PostgreSQL URL libpq can read: write it as "
            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE (with %-escapes in the password)"
        ) from None
    password = str(params.pop("password", "") or "")
    environment = dict(os.environ)
    if not password:
        yield make_conninfo(**params), environment, ""
        return
    with tempfile.TemporaryDirectory(prefix="assetmap-pgpass-") as folder:
        passfile = Path(folder) / "pgpass"
        escaped = password.replace("\\", "\\\\").replace(":", "\\:")
        descriptor = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as f:
            f.write(f"*:*:*:*:{escaped}\n")
        environment["PGPASSFILE"] = str(passfile)
        environment.pop("PGPASSWORD", None)
        yield make_conninfo(**params), environment, password


def _run(args: list[str], environment: dict[str, str], password: str, **options):
    """Run a PostgreSQL program; what it printed, with the password (should libpq ever echo
    it) blotted out."""
    done = subprocess.run(args, env=environment, capture_output=True, **options)
    said = done.stderr.decode("utf-8", "replace").strip()
    if password:
        said = said.replace(password, "********")
    return done, said


def backup(url: str, out: Path) -> Contents:
    """pg_dump the directory at `url` to `out`, read back and checked before it replaces `out`;
    what it holds."""
    pg_dump = pg_program("pg_dump")
    if out.is_dir():
        raise BackupError(f"{out} is a folder: name a file for the backup")
    with _writing(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = _scratch_file(out.parent, out.name, ".partial")
    try:
        with _pg_login(url) as (conninfo, environment, password):
            done, said = _run(
                [pg_dump, "--format=custom", f"--file={partial}", f"--dbname={conninfo}"],
                environment,
                password,
            )
            if done.returncode:
                raise BackupError(f"pg_dump could not back up the database: {said}")
        tables, version = _read_dump(partial, f"the backup of {_pg_name(url)}")
        if version is None:
            raise BackupError(
                f"{_pg_name(url)} is not an assetmap database (no {SCHEMA_TABLE} table): "
                "run `assetmap init` first; nothing was saved"
            )
        with _writing(out):
            _flush(partial)
            partial.replace(out)
            _flush_folder(out.parent)
        return Contents(_labelled(tables), out.stat().st_size, version)
    finally:
        _remove(partial)


def _pg_name(url: str) -> str:
    """The database's name in a URL, for messages (never the whole URL: it may hold a
    password)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        return f"database {conninfo_to_dict(url).get('dbname') or '(default)'}"
    except Exception:
        return "the database"


# The line that starts a table's rows in pg_restore's script: COPY schema.table (columns) ...
_COPY = re.compile(r'^COPY (?:(?:"[^"]+"|[^ ."]+)\.)?("[^"]+"|[^ ("]+) \(([^)]*)\) FROM stdin;$')


def _read_dump(path: Path, what: str) -> tuple[dict[str, int], int | None]:
    """The rows of each table in a pg_dump custom-format file, and the assetmap schema version
    it records, read back with pg_restore (to a script, not a database): which also shows that
    the whole file can be read."""
    pg_restore = pg_program("pg_restore")
    tables: dict[str, int] = {}
    version = None
    with subprocess.Popen(
        [pg_restore, "--data-only", "--file=-", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        table = version_at = None
        for line in process.stdout:
            if table is not None:
                if line == b"\\.\n":
                    table = None
                    continue
                tables[table] += 1
                if version_at is not None and version is None:
                    version = int(line.rstrip(b"\n").split(b"\t")[version_at])
            elif line.startswith(b"COPY "):
                match = _COPY.match(line.decode("utf-8", "replace").rstrip("\n"))
                if match:
                    table = match.group(1).strip('"')
                    tables.setdefault(table, 0)
                    columns = [c.strip().strip('"') for c in match.group(2).split(",")]
                    is_schema = table == SCHEMA_TABLE and "version" in columns
                    version_at = columns.index("version") if is_schema else None
        said = process.stderr.read().decode("utf-8", "replace").strip()
    if process.returncode:
        raise BackupError(f"{what} is damaged or incomplete (a backup cut short?): {said}")
    return tables, version


def _pg_counts(url: str) -> dict[str, int]:
    """The rows of each table of the database now (leaving out extensions' own tables)."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict

    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            names = conn.execute(
                """SELECT n.nspname, c.relname FROM pg_class c
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE c.relkind IN ('r', 'p')
                     AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                     AND n.nspname NOT LIKE 'pg\\_%'
                     AND NOT EXISTS (SELECT 1 FROM pg_depend d
                                     WHERE d.classid = 'pg_class'::regclass
                                       AND d.objid = c.oid AND d.deptype = 'e')"""
            ).fetchall()
            key = [(n, t) for n, t in names if t in dict(KEY_TABLES)]
            tables = {}
            for schema_name, table in key or names:  # an assetmap one by its KEY_TABLES
                query = sql.SQL("SELECT count(*) FROM {}.{}").format(
                    sql.Identifier(schema_name), sql.Identifier(table)
                )
                tables[table] = tables.get(table, 0) + conn.execute(query).fetchone()[0]
    except psycopg.Error as error:
        message = str(error).strip()
        password = conninfo_to_dict(url).get("password")
        if password:
            message = message.replace(str(password), "********")
        raise BackupError(f"could not read {_pg_name(url)}: {message}") from None
    return _labelled(tables)


class PgRestore:
    """A pg_dump file read through (whole, an assetmap directory this assetmap can run),
    ready to restore."""

    def __init__(self, url: str, source: Path):
        self.url = url
        self.source = source
        tables, version = _read_dump(source, str(source))
        if version is None:
            raise BackupError(
                f"{source} is a PostgreSQL backup but not of an assetmap directory (it has no "
                f"{SCHEMA_TABLE} table)"
            )
        if version > schema.SCHEMA_VERSION:
            raise BackupError(
                f"{source} is at schema version {version}, newer than this assetmap "
                f"({schema.SCHEMA_VERSION}): upgrade assetmap, then restore it"
            )
        self.incoming = Contents(_labelled(tables), source.stat().st_size, version)
        self.current: Contents | None = Contents(_pg_counts(url))

    def apply(self) -> list[str]:
        """pg_restore in one transaction: the whole backup, or (on any error) nothing; then the
        migrations an older backup needs, as `assetmap init` would (each in its own
        transaction: should one fail, `assetmap init` finishes the job). The migrations
        applied."""
        pg_restore = pg_program("pg_restore")
        with _pg_login(self.url) as (conninfo, environment, password):
            done, said = _run(
                [
                    pg_restore,
                    "--clean",
                    "--if-exists",
                    "--single-transaction",
                    "--exit-on-error",
                    "--no-owner",
                    f"--dbname={conninfo}",
                    str(self.source),
                ],
                environment,
                password,
            )
        if done.returncode:
            raise BackupError(f"pg_restore failed, so nothing was changed: {said}")
        if self.incoming.version == schema.SCHEMA_VERSION:
            return []
        db = connect(self.url)
        try:
            return schema.migrate(db.conn)
        finally:
            db.close()

    def discard(self) -> None:
        pass


def restoring(url: str, source: Path, start: bytes) -> PgRestore:
    """The backup at `source` (whose first bytes are `start`) read through and checked, ready
    to restore into the directory at `url`."""
    if start.startswith(SQLITE_MAGIC):
        raise BackupError(
            f"{source} is an SQLite backup and this directory is on PostgreSQL: restore it "
            "into an SQLite ASSETMAP_DB, then move it with `assetmap copy`"
        )
    if not start.startswith(PG_DUMP_MAGIC):
        raise BackupError(
            f"{source} is not an assetmap backup of a PostgreSQL directory (a pg_dump "
            "custom-format file, as `assetmap backup` makes)"
        )
    return PgRestore(url, source)
