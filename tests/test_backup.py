"""`assetmap backup` and `assetmap restore`: a coordinator saves the whole directory while the
app runs, and brings it back; bad input changes nothing.

The SQLite tests are about SQLite's database file (its backup API, a file beside OUT): they
make their own files, and are skipped in a `--engine postgresql` run. The PostgreSQL tests run
pg_dump and pg_restore on assetmap's own schema in a private cluster made here with initdb and
pg_ctl on a free loopback port, with a password (the run's shared cluster trusts every
connection, so could not show where the password goes); they run in the PostgreSQL run and are
skipped in the SQLite run, and skipped, saying why, where PostgreSQL is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from assetmap import create_app
from assetmap.store import backup as backups
from assetmap.store import backup_postgres, connect, connection, initialise, schema
from tests import engines
from tests.conftest import SAMPLE, add_user, load_sample, make_asset, save_raw

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "assets.geojson"


def run(target, *args):
    """`assetmap ARGS` on the directory at `target` (ASSETMAP_DB): the result."""
    app = create_app({"ASSETMAP_DB": str(target), "SECRET_KEY": "test-only"})
    return app.test_cli_runner().invoke(args=[str(arg) for arg in args])


def exported(target, tmp_path, name: str) -> str:
    """Every asset, as `assetmap export geojson` writes it."""
    out = tmp_path / f"{name}.geojson"
    result = run(target, "export", "geojson", out)
    assert result.exit_code == 0, result.output
    return out.read_text()


def everything(path) -> tuple[int, list[str]]:
    """The whole database as SQL (every table's rows) and its schema version: what "exactly
    as it was" is compared by."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return schema.current_version(conn), list(conn.iterdump())
    finally:
        conn.close()


def counts(path) -> tuple[int, int, int]:
    conn = sqlite3.connect(path)
    try:
        return tuple(
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("assets", "asset_history", "users")
        )
    finally:
        conn.close()


on_sqlite = pytest.mark.skipif(
    engines.on_postgresql(), reason="about SQLite's database file; run by the SQLite run"
)


@pytest.fixture(scope="module")
def sample_with_account(tmp_path_factory):
    """An SQLite directory of the sample assets and one account, made once."""
    path = tmp_path_factory.mktemp("sample") / "assetmap.db"
    load_sample(path)
    add_user(path, "coordinator")
    return path


@pytest.fixture
def live(sample_with_account, tmp_path):
    """The SQLite directory the app runs on: the sample assets and an account."""
    return shutil.copyfile(sample_with_account, tmp_path / "assetmap.db")


@pytest.fixture(scope="module")
def demo_backup(tmp_path_factory):
    """A backup of the demo directory (data/assets.geojson, 374 Trafford assets), made once."""
    from assetmap.record.loading import load_file

    folder = tmp_path_factory.mktemp("demo")
    path = folder / "demo.db"
    initialise(path)
    db = connect(path)
    load_file(db, DEMO, who="tests", bounds=None, dry_run=False)
    db.close()
    out = folder / "demo-backup.db"
    backups.backup(path, out)
    return out


# SQLite: backing up ----------------------------------------------------------------------


@on_sqlite
def test_a_coordinator_backs_up_the_directory_and_is_told_what_was_saved(live, tmp_path):
    out = tmp_path / "backups" / "assetmap-2026-12-06.db"
    result = run(live, "backup", out)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        f"saved {len(SAMPLE)} assets, {len(SAMPLE)} history rows, 1 account to {out} ("
    )
    assert f"schema version {schema.SCHEMA_VERSION})" in result.output
    assert everything(out) == everything(live)
    # One self-contained file, readable only by its owner (it holds password hashes), and
    # nothing left beside it.
    conn = sqlite3.connect(out)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert out.stat().st_mode & 0o077 == 0
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]


WRITER = """
import sys
from assetmap.record.validation import validate_asset
from assetmap.store import assets, connect
from tests.conftest import make_asset

db = connect(sys.argv[1])
n = 0
while True:
    n += 1
    raw = make_asset(id=f"writer-{n}", name=f"Writer group {n}", description="x" * 2000)
    assets.save_assets(db, [validate_asset(raw).record], who="writer")
"""


def wait_for(condition, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)
    return value


@on_sqlite
def test_a_backup_taken_while_the_app_saves_assets_is_the_directory_at_one_moment(live, tmp_path):
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(live)], env=environment)
    try:
        wait_for(lambda: counts(live)[0] >= len(SAMPLE) + 20)
        before = counts(live)[0]
        # One page a step, with a pause: the copy takes many of the writer's commits to make.
        # (A copy that started again after each of them would never end while the app saves.)
        done: list = []
        copying = threading.Thread(
            target=lambda: done.append(
                backups.backup(live, tmp_path / "backup.db", pages=1, pause=0.003)
            ),
            daemon=True,
        )
        copying.start()
        copying.join(timeout=60)
        assert done, "the backup did not finish while the app was saving"
        saved = done[0]
        after = counts(live)[0]
        assert writer.poll() is None, "the writer stopped"
    finally:
        writer.terminate()
        writer.wait()
    out = tmp_path / "backup.db"
    conn = sqlite3.connect(out)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    ids = [row[0] for row in conn.execute("SELECT id FROM assets WHERE id LIKE 'writer-%'")]
    inserted = [
        row[0]
        for row in conn.execute(
            "SELECT asset_id FROM asset_history WHERE action = 'insert' AND asset_id LIKE "
            "'writer-%'"
        )
    ]
    conn.close()
    assert before <= saved.counts["assets"] < after, "the writer wrote while it was copied"
    assert saved.counts["assets"] == len(SAMPLE) + len(ids)
    # The writer saves one asset a transaction, each with its history: a moment of it holds
    # writer-1 to writer-k, each asset with its history row, and nothing else.
    assert sorted(ids) == sorted(inserted) == sorted(f"writer-{n}" for n in range(1, len(ids) + 1))
    assert saved.counts["history rows"] == len(SAMPLE) + len(ids)


@on_sqlite
def test_a_database_not_yet_brought_up_to_date_can_be_backed_up_first(tmp_path, monkeypatch):
    path = tmp_path / "assetmap.db"
    with monkeypatch.context() as patch:
        patch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION - 1)
        initialise(path)
    result = run(path, "backup", tmp_path / "before-init.db")
    assert result.exit_code == 0, result.output
    assert f"schema version {schema.SCHEMA_VERSION - 1})" in result.output


@on_sqlite
@pytest.mark.parametrize(
    "case, message",
    [
        ("missing", "there is no database at {db}: nothing to back up"),
        ("itself", "{db} is the database itself: name another file for the backup"),
        ("not assetmap", "{db} is an SQLite database but not an assetmap one (no assets)"),
        ("text", "{db} is not a database assetmap can read (file is not a database)"),
        (
            "unwritable",
            "could not write the backup to {db}/backup.db (File exists); nothing was saved",
        ),
    ],
)
def test_a_backup_that_cannot_be_made_says_why_and_leaves_the_last_one(case, message, tmp_path):
    db = tmp_path / "assetmap.db"
    out = tmp_path / "backup.db"
    out.write_bytes(b"yesterday's backup")
    if case == "not assetmap":
        sqlite3.connect(db).execute("CREATE TABLE notes (text TEXT)")
    elif case == "text":
        db.write_text("name,postcode\n" * 300)
    elif case in ("itself", "unwritable"):
        initialise(db)
    target = {"itself": db, "unwritable": db / "backup.db"}.get(case, out)
    result = run(db, "backup", target)
    assert result.exit_code == 1
    assert result.output == f"Error: {message.format(db=db)}\n"
    assert out.read_bytes() == b"yesterday's backup"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        {"backup.db", *(["assetmap.db"] if case != "missing" else [])}
    )


# SQLite: restoring -----------------------------------------------------------------------


@on_sqlite
def test_restore_brings_back_the_directory_as_its_export_was(live, tmp_path):
    before = exported(live, tmp_path, "before")
    backup = tmp_path / "backup.db"
    assert run(live, "backup", backup).exit_code == 0
    # A day's work after the backup: a new asset, an edit, a removal, a new account.
    save_raw(live, [make_asset(id="new-choir", name="New Choir")])
    save_raw(live, [{**SAMPLE[1], "name": "Altrincham Library (renamed)"}])
    assert run(live, "load", DEMO).exit_code == 0
    add_user(live, "link_worker")
    assert exported(live, tmp_path, "changed") != before

    result = run(live, "restore", backup, "--yes")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"the backup (schema version {schema.SCHEMA_VERSION}) holds 7 assets, 7 history "
        "rows, 1 account",
        f"the directory now holds {7 + 1 + 374} assets, {7 + 2 + 374} history rows, 2 accounts",
        f"restored {backup}: the directory now holds 7 assets, 7 history rows, 1 account",
    ]
    assert exported(live, tmp_path, "after") == before
    assert everything(live) == everything(backup)
    # The app goes on with the restored directory: search and saving work.
    save_raw(live, [make_asset(id="after-restore", name="After Restore")])
    assert counts(live) == (8, 8, 1)


@on_sqlite
def test_restore_will_not_replace_a_directory_that_is_not_empty_without_yes(live, tmp_path):
    backup = tmp_path / "backup.db"
    assert run(live, "backup", backup).exit_code == 0
    save_raw(live, [make_asset(id="new-choir", name="New Choir")])
    was = everything(live)
    result = run(live, "restore", backup)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"the backup (schema version {schema.SCHEMA_VERSION}) holds 7 assets, 7 history "
        "rows, 1 account",
        "the directory now holds 8 assets, 8 history rows, 1 account",
        "Error: the directory is not empty and nothing was changed: run again with --yes to "
        "replace it with the backup",
    ]
    assert everything(live) == was
    assert sorted(p.name for p in live.parent.iterdir() if p.name.startswith(".")) == []


@on_sqlite
@pytest.mark.parametrize("target", ["missing", "initialised"])
def test_restore_into_a_new_directory_needs_no_yes(target, demo_backup, tmp_path):
    path = tmp_path / "instance" / "assetmap.db"
    if target == "initialised":
        initialise(path)
    result = run(f"sqlite:///{path}", "restore", demo_backup)
    assert result.exit_code == 0, result.output
    now = "nothing" if target == "missing" else "0 assets, 0 history rows, 0 accounts"
    assert result.output.splitlines()[1:] == [
        f"the directory now holds {now}",
        f"restored {demo_backup}: the directory now holds 374 assets, 374 history rows, 0 accounts",
    ]
    assert everything(path) == everything(demo_backup)
    assert exported(path, tmp_path, "restored") == exported(demo_backup, tmp_path, "backup")


@on_sqlite
def test_a_damaged_database_is_replaced_whole_only_with_yes(demo_backup, tmp_path):
    path = tmp_path / "assetmap.db"
    path.write_text("name,postcode\n" * 300)  # whatever happened to it, it is not a database
    Path(f"{path}-wal").write_bytes(b"left from before")
    refused = run(path, "restore", demo_backup)
    assert refused.exit_code == 1
    assert refused.output.splitlines()[1:] == [
        "the directory now cannot be read as an assetmap database",
        "Error: the directory is not empty and nothing was changed: run again with --yes to "
        "replace it with the backup",
    ]
    assert path.read_text() == "name,postcode\n" * 300
    result = run(path, "restore", demo_backup, "--yes")
    assert result.exit_code == 0, result.output
    assert not Path(f"{path}-wal").exists()
    assert everything(path) == everything(demo_backup)


@on_sqlite
def test_people_using_the_app_during_a_restore_see_the_old_directory_or_the_new_one(
    live, demo_backup
):
    """A reader reads the assets and their history in one transaction, over and over, while
    the demo directory is restored over the sample one: each read is all one or all the
    other."""

    def state(conn):
        conn.execute("BEGIN")
        try:
            assets = conn.execute("SELECT group_concat(id, ',') FROM assets").fetchone()[0]
            history = conn.execute("SELECT count(*) FROM asset_history").fetchone()[0]
            return assets, history
        finally:
            conn.execute("COMMIT")

    old = state(sqlite3.connect(live, isolation_level=None))
    new = state(sqlite3.connect(demo_backup, isolation_level=None))
    seen: list = []
    stop = threading.Event()

    def reader():
        conn = sqlite3.connect(live, isolation_level=None, timeout=5)
        while not stop.is_set():
            seen.append(state(conn))
        conn.close()

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        wait_for(lambda: len(seen) >= 3)
        result = run(live, "restore", demo_backup, "--yes")
        assert result.exit_code == 0, result.output
        wait_for(lambda: seen[-1] == new)
    finally:
        stop.set()
        thread.join()
    assert set(seen) == {old, new}
    assert seen.index(new) > 0 and set(seen[seen.index(new) :]) == {new}


@on_sqlite
def test_a_restore_kept_out_by_a_long_write_gives_up_and_changes_nothing(
    live, tmp_path, monkeypatch
):
    backup = tmp_path / "backup.db"
    backups.backup(live, backup)
    save_raw(live, [make_asset(id="new-choir", name="New Choir")])
    was = everything(live)
    monkeypatch.setattr(connection, "BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr(backups, "RESTORE_WAIT_SECONDS", 0.3)
    importing = sqlite3.connect(live, isolation_level=None)
    importing.execute("BEGIN IMMEDIATE")  # as an import holds the write lock while it saves
    try:
        result = run(live, "restore", backup, "--yes")
    finally:
        importing.execute("ROLLBACK")
        importing.close()
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[-1] == (
        "Error: nothing was changed: the directory is busy saving other changes (an import, "
        "perhaps), so nothing was saved; try again in a minute"
    )
    assert everything(live) == was


@on_sqlite
def test_an_older_backup_is_brought_up_to_date_as_init_would(live, tmp_path, monkeypatch):
    older = tmp_path / "older.db"
    with monkeypatch.context() as patch:
        patch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION - 1)
        initialise(older)
    kept = older.read_bytes()
    result = run(live, "restore", older, "--yes")
    assert result.exit_code == 0, result.output
    description = schema.MIGRATIONS[-1][0]
    assert f"the backup (schema version {schema.SCHEMA_VERSION - 1}) holds" in result.output
    assert f"applied: {description}\n" in result.output
    assert everything(live)[0] == schema.SCHEMA_VERSION
    assert counts(live) == (0, 0, 0)
    assert older.read_bytes() == kept, "the backup itself is only read"
    assert run(live, "users", "list").exit_code == 0


@on_sqlite
def test_a_backup_from_a_newer_assetmap_is_refused(live, tmp_path):
    newer = tmp_path / "newer.db"
    backups.backup(live, newer)
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    conn.close()
    was = everything(live)
    result = run(live, "restore", newer, "--yes")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {newer} is at schema version {schema.SCHEMA_VERSION + 1}, newer than this "
        f"assetmap ({schema.SCHEMA_VERSION}): upgrade assetmap, then restore it\n"
    )
    assert everything(live) == was


BAD_BACKUPS = (
    "missing",
    "empty",
    "a CSV",
    "cut at a tenth",
    "cut in half",
    "cut short by a page",
    "another SQLite database",
    "a PostgreSQL backup",
)


def bad_backup(case: str, backup: Path, folder: Path) -> Path:
    """A file offered as a backup that is not one (or not whole)."""
    path = folder / "offered.db"
    data = backup.read_bytes()
    if case == "empty":
        path.write_bytes(b"")
    elif case == "a CSV":
        path.write_text("name,postcode\n" * 300)
    elif case == "cut at a tenth":
        path.write_bytes(data[: len(data) // 10])
    elif case == "cut in half":
        path.write_bytes(data[: len(data) // 2])
    elif case == "cut short by a page":
        path.write_bytes(data[:-4096])
    elif case == "another SQLite database":
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("CREATE TABLE notes (text TEXT)")
        conn.execute("INSERT INTO notes VALUES ('x')")
        conn.close()
    elif case == "a PostgreSQL backup":  # its first bytes: the PostgreSQL tests use a real one
        path.write_bytes(b"PGDMP\x01\x0e\x00\x04\x08\x01\x01\x01")
    return path


@on_sqlite
@pytest.mark.parametrize("case", BAD_BACKUPS)
def test_a_bad_backup_is_named_and_changes_nothing(case, live, demo_backup, tmp_path):
    bad = bad_backup(case, demo_backup, tmp_path)
    was = everything(live)
    result = run(live, "restore", bad, "--yes")
    assert result.exit_code == 1, result.output
    expected = {
        "missing": f"there is no backup file at {bad}",
        "empty": f"{bad} is not an assetmap backup: it is not an SQLite database",
        "a CSV": f"{bad} is not an assetmap backup: it is not an SQLite database",
        "another SQLite database": f"{bad} is an SQLite database but not an assetmap one",
        "a PostgreSQL backup": f"{bad} is a PostgreSQL backup (made by pg_dump) and this "
        "directory is on SQLite",
    }.get(case, f"{bad} is damaged or incomplete (a backup cut short?)")
    assert result.output.startswith(f"Error: {expected}"), result.output
    if case.startswith("cut"):
        assert "bytes are missing from its end; use another backup" in result.output
    assert "Traceback" not in result.output
    assert everything(live) == was
    assert not [p for p in live.parent.iterdir() if ".restore" in p.name]


# PostgreSQL --------------------------------------------------------------------------------

# A password with the characters a password file and a URL must escape.
PASSWORD = "s3cret:pass\\word@x"


class PasswordCluster(engines.Cluster):
    """The test run's kind of private cluster (tests/engines.py), asking for a password over
    TCP, as a managed PostgreSQL does."""

    def start(self) -> None:
        password = self.folder / "password"
        password.write_text(PASSWORD + "\n")
        password.chmod(0o644)  # for initdb, run as the postgres user
        data = self.folder / "data"
        self._run(
            str(self.programs / "initdb"), "-D", str(data), "-U", "postgres",
            f"--pwfile={password}", "--auth-local=trust", "--auth-host=scram-sha-256",
            "--encoding=UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        password.unlink()
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.programs / "pg_ctl"), "-D", str(data), "-l", str(self.folder / "log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip

    def url(self, database: str) -> str:
        return f"postgresql://postgres:{quote(PASSWORD, safe='')}@127.0.0.1:{self.port}/{database}"


# Run by the PostgreSQL run (`make test-postgres`), skipped in the SQLite run (tests/engines.py).
on_postgresql = pytest.mark.postgresql_only("pg_dump and pg_restore")


@pytest.fixture(scope="module")
def cluster():
    programs = engines.postgres_programs()
    if programs is None:
        pytest.skip(
            "PostgreSQL is not installed (Debian's postgresql; .ci/run installs it): the "
            "PostgreSQL backup tests need its initdb, pg_ctl, pg_dump and pg_restore"
        )
    started = PasswordCluster(programs)
    started.start()
    try:
        yield started
    finally:
        from assetmap.store import postgres

        postgres.close_pools()
        started.stop()


def new_directory(cluster, name: str, *, sample: bool = True) -> str:
    """A new database `name` in the cluster: with assetmap's schema, the sample assets and an
    account, or (sample=False) empty."""
    cluster.admin(f'CREATE DATABASE "{name}"')
    url = cluster.url(name)
    if sample:
        initialise(url)
        save_raw(url, SAMPLE)
        add_user(url, "coordinator")
    return url


def pg_everything(url: str) -> dict[str, list[tuple]]:
    """Every row of the directory's own tables: what "exactly as it was" is compared by."""
    import psycopg

    with psycopg.connect(url) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        return {
            table: conn.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall()
            for table in tables
        }


def pg_sql(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(statement)


@pytest.fixture
def spy_on_programs(monkeypatch):
    """Every PostgreSQL program store/backup_postgres.py starts: its arguments and environment, and
    the password file it was given (looked at while it existed)."""
    started: list[dict] = []
    real_run, real_popen = subprocess.run, subprocess.Popen

    def note(args, env):
        passfile = (env or {}).get("PGPASSFILE")
        started.append(
            {
                "args": [str(a) for a in args],
                "PGPASSWORD": (env or {}).get("PGPASSWORD"),
                "passfile": passfile,
                "passfile mode": os.stat(passfile).st_mode & 0o777 if passfile else None,
            }
        )

    def run(args, *a, **k):
        note(args, k.get("env"))
        return real_run(args, *a, **k)

    def popen(args, *a, **k):
        note(args, k.get("env"))
        return real_popen(args, *a, **k)

    monkeypatch.setattr(backup_postgres.subprocess, "run", run)
    monkeypatch.setattr(backup_postgres.subprocess, "Popen", popen)
    return started


@on_postgresql
def test_postgresql_backup_and_restore_round_trip(cluster, tmp_path, spy_on_programs):
    url = new_directory(cluster, "directory")
    before = exported(url, tmp_path, "before")
    out = tmp_path / "directory.dump"
    result = run(url, "backup", out)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"saved 7 assets, 7 history rows, 1 account to {out} ("), (
        result.output
    )
    assert result.output.endswith(f", schema version {schema.SCHEMA_VERSION})\n")
    assert out.read_bytes().startswith(b"PGDMP")

    # A day's work after the backup: a new asset, an edit, a new account.
    save_raw(url, [make_asset(id="new-choir", name="New Choir")])
    save_raw(url, [{**SAMPLE[1], "name": "Altrincham Library (renamed)"}])
    add_user(url, "link_worker")
    changed = pg_everything(url)
    refused = run(url, "restore", out)
    assert refused.exit_code == 1
    assert refused.output.splitlines() == [
        f"the backup (schema version {schema.SCHEMA_VERSION}) holds 7 assets, 7 history "
        "rows, 1 account",
        "the directory now holds 8 assets, 9 history rows, 2 accounts",
        "Error: the directory is not empty and nothing was changed: run again with --yes to "
        "replace it with the backup",
    ]
    assert pg_everything(url) == changed

    result = run(url, "restore", out, "--yes")
    assert result.exit_code == 0, result.output
    assert result.output.endswith(
        f"restored {out}: the directory now holds 7 assets, 7 history rows, 1 account\n"
    )
    assert exported(url, tmp_path, "after") == before
    # The app goes on with the restored directory: its counters came back with it.
    save_raw(url, [make_asset(id="after-restore", name="After Restore")])
    assert len(pg_everything(url)["assets"]) == 8

    # The password went to pg_dump and pg_restore in a private file, never on their command
    # line (which every user of the machine can list) or in what was printed.
    assert {Path(s["args"][0]).name for s in spy_on_programs} == {"pg_dump", "pg_restore"}
    for started in spy_on_programs:
        assert not any("s3cret" in arg for arg in started["args"]), started["args"]
        assert started["PGPASSWORD"] is None
        if started["passfile"]:
            assert started["passfile mode"] == 0o600
            assert not Path(started["passfile"]).exists()
    assert any(s["passfile"] for s in spy_on_programs)
    for said in (result.output, refused.output):
        assert "s3cret" not in said


@on_postgresql
def test_postgresql_restore_into_an_empty_database_needs_no_yes(cluster, tmp_path):
    source = new_directory(cluster, "old_server")
    out = tmp_path / "old.dump"
    assert run(source, "backup", out).exit_code == 0
    target = new_directory(cluster, "new_server", sample=False)
    result = run(target, "restore", out)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == [
        "the directory now holds nothing",
        f"restored {out}: the directory now holds 7 assets, 7 history rows, 1 account",
    ]
    assert pg_everything(target) == pg_everything(source)
    assert exported(target, tmp_path, "new") == exported(source, tmp_path, "old")


@on_postgresql
def test_postgresql_an_older_backup_is_brought_up_to_date(cluster, tmp_path, monkeypatch):
    older = cluster.url("older")
    cluster.admin('CREATE DATABASE "older"')
    with monkeypatch.context() as patch:
        patch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION - 1)
        initialise(older)
    out = tmp_path / "older.dump"
    result = run(older, "backup", out)
    assert result.exit_code == 0, result.output
    assert f"schema version {schema.SCHEMA_VERSION - 1})" in result.output
    target = new_directory(cluster, "brought_forward", sample=False)
    result = run(target, "restore", out)
    assert result.exit_code == 0, result.output
    assert f"applied: {schema.MIGRATIONS[-1][0]}\n" in result.output
    db = connect(target)
    try:
        assert schema.current_version(db.conn) == schema.SCHEMA_VERSION
    finally:
        db.close()
    assert run(target, "users", "list").exit_code == 0


@on_postgresql
def test_postgresql_bad_backups_are_named_and_change_nothing(cluster, tmp_path, live):
    url = new_directory(cluster, "kept")
    out = tmp_path / "kept.dump"
    assert run(url, "backup", out).exit_code == 0
    newer = new_directory(cluster, "newer")
    pg_sql(newer, f"UPDATE assetmap_schema SET version = {schema.SCHEMA_VERSION + 1}")
    newer_backup = tmp_path / "newer.dump"
    assert run(newer, "backup", newer_backup).exit_code == 0
    other = new_directory(cluster, "not_assetmap", sample=False)
    pg_sql(other, "CREATE TABLE places (id SERIAL PRIMARY KEY, name TEXT)")
    refused = run(other, "backup", tmp_path / "other.dump")
    assert refused.output == (
        "Error: database not_assetmap is not an assetmap database (no assetmap_schema table): "
        "run `assetmap init` first; nothing was saved\n"
    )
    assert not (tmp_path / "other.dump").exists()
    other_backup = tmp_path / "other-by-hand.dump"
    with backup_postgres._pg_login(other) as (conninfo, environment, _password):
        subprocess.run(
            [backup_postgres.pg_program("pg_dump"), "-Fc", f"--file={other_backup}", conninfo],
            env=environment,
            check=True,
        )
    cut = tmp_path / "cut.dump"
    cut.write_bytes(out.read_bytes()[: out.stat().st_size * 2 // 3])
    sqlite_backup = tmp_path / "sqlite.db"
    assert run(live, "backup", sqlite_backup).exit_code == 0
    cases = {
        cut: f"{cut} is damaged or incomplete (a backup cut short?): pg_restore: error:",
        sqlite_backup: f"{sqlite_backup} is an SQLite backup and this directory is on PostgreSQL",
        DEMO: f"{DEMO} is not an assetmap backup of a PostgreSQL directory",
        other_backup: f"{other_backup} is a PostgreSQL backup but not of an assetmap directory",
        newer_backup: f"{newer_backup} is at schema version {schema.SCHEMA_VERSION + 1}, "
        f"newer than this assetmap ({schema.SCHEMA_VERSION}): upgrade assetmap, then restore",
    }
    was = pg_everything(url)
    for bad, message in cases.items():
        result = run(url, "restore", bad, "--yes")
        assert result.exit_code == 1, result.output
        assert result.output.startswith(f"Error: {message}"), result.output
        assert pg_everything(url) == was
    # And the other way: a PostgreSQL backup offered to an SQLite directory.
    sqlite_was = everything(live)
    result = run(live, "restore", out, "--yes")
    assert result.exit_code == 1
    assert "is a PostgreSQL backup (made by pg_dump) and this directory is on SQLite" in (
        result.output
    )
    assert everything(live) == sqlite_was


@on_postgresql
def test_postgresql_wrong_password_is_reported_without_the_password(cluster, tmp_path):
    new_directory(cluster, "guarded")
    wrong = cluster.url("guarded").replace(quote(PASSWORD, safe=""), "not-the-Pa55word")
    result = run(wrong, "backup", tmp_path / "guarded.dump")
    assert result.exit_code == 1
    assert result.output.startswith("Error: pg_dump could not back up the database:")
    assert "password authentication failed" in result.output
    assert "not-the-Pa55word" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_without_pg_dump_the_message_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(backup_postgres, "PG_BIN_GLOB", str(tmp_path / "no-postgresql" / "bin"))
    result = run("postgresql://someone@127.0.0.1:9/directory", "backup", tmp_path / "x.dump")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: pg_dump was not found (on PATH or in {tmp_path}/no-postgresql/bin): install "
        "PostgreSQL's client programs (Debian and Ubuntu: `apt-get install "
        "postgresql-client`), at least the server's version\n"
    )


def test_the_backup_summary_reads_as_words():
    contents = backups.Contents({"assets": 1234, "history rows": 1, "accounts": 0}, 12_345_678)
    assert contents.words() == "1,234 assets, 1 history row, 0 accounts"
    assert backups.size_words(contents.size) == "12.3 MB"
    assert backups.size_words(812_000) == "812 KB"
    assert json.dumps(backups.Contents().counts) == "{}"
