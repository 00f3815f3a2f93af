"""An import on PostgreSQL stages its rows before it takes the write lock (issue 20), so a long
import never makes an edit or a sign-in wait for more than the few seconds of its final writes.

store.imports.writing COPYs the checked rows into TEMP tables of its transaction with no lock
held, then takes the lock and writes them a statement a table. These tests show that the
database ends up exactly as the row-by-row writes (what SQLite still does, and PostgreSQL did
before) leave it, that other writers go ahead while the rows are staged, and that an apply
which fails, or finds its assets changed meanwhile, leaves nothing behind: not a row, not a
staging table.

They run in the PostgreSQL run (`make test-postgres`, on tests/engines.py's private cluster), and
skip where it is not installed. The data is the demo's real Trafford assets, imported again
with some changed, copies of them added as new assets and a row that is rejected.
"""

from __future__ import annotations

import io
import os
from contextlib import contextmanager
from itertools import count

import pytest

from assetmap import imports
from assetmap.imports import ImportFileError, ImportOptions
from assetmap.imports.undo import undo_run
from assetmap.people import accounts
from assetmap.record.formats import write_csv
from assetmap.store import Busy, connect, postgres
from assetmap.store import assets as asset_store
from assetmap.store import bulk as bulk_writes
from assetmap.store import imports as store
from assetmap.store import users as user_store
from tests import engines
from tests.hostile import EXACT as HOSTILE_STRINGS
from tests.test_imports_support import build_import_db, fingerprint

pytestmark = pytest.mark.postgresql_only("an import's staging on PostgreSQL")

WHO = "coordinator@example.org"
_names = count(1)


@pytest.fixture(scope="module")
def demo_pg():
    """The demo's assets and every Trafford postcode in a PostgreSQL database, built once."""
    cluster = engines.cluster()  # skips, saying why, where PostgreSQL is not installed
    name = f"staging_demo_{os.getpid()}"
    cluster.admin(f"DROP DATABASE IF EXISTS {name}")
    cluster.admin(f"CREATE DATABASE {name}")
    url = cluster.url(name)
    build_import_db(url, demo=True)
    postgres.close_pool(url)
    yield url
    cluster.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def fresh(demo_pg):
    """Copies of the demo database for one test: call it for each one wanted."""
    cluster = engines.cluster()
    made = []

    def copy() -> str:
        name = f"staging_{os.getpid()}_{next(_names)}"
        cluster.admin(f"CREATE DATABASE {name} TEMPLATE {demo_pg.rsplit('/', 1)[1]}")
        made.append(name)
        return cluster.url(name)

    yield copy
    for name in made:
        postgres.close_pool(cluster.url(name))
        cluster.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def audit(demo_pg, tmp_path):
    """The demo's assets as a coordinator's CSV: every third one changed (one with a hostile
    description), each copied as a new asset nearby, and one row with a strand that is not
    ours; about 750 rows, so two batches."""
    db = connect(demo_pg)
    try:
        demo = list(asset_store.iter_assets(db))
    finally:
        db.close()
        postgres.close_pool(demo_pg)  # a template is copied only with no connection open
    records = []
    for n, asset in enumerate(demo):
        if n % 3 == 0:
            hostile = HOSTILE_STRINGS[n % len(HOSTILE_STRINGS)]
            asset = {**asset, "description": f"{asset.get('description') or ''} {hostile}"}
        records.append(asset)
    for asset in demo:
        records.append({**asset, "id": f"{asset['id']}-annexe", "name": f"{asset['name']} annexe"})
    records.append({**demo[0], "id": "not-ours", "strand": "not_a_strand"})
    text = io.StringIO()
    write_csv(records, text)
    path = tmp_path / "trafford-audit.csv"
    path.write_text(text.getvalue(), encoding="utf-8")
    return path


def _apply(url, path):
    db = connect(url)
    try:
        return imports.apply(db, path, ImportOptions(), who=WHO)
    finally:
        db.close()


@contextmanager
def _row_by_row(db, batches):
    """store.imports.writing as it was before staging: the write lock from BEGIN, and each
    batch written by store.assets.write_changes (SQLite's path, kept)."""
    with asset_store.transaction(db), bulk_writes.writing(db) as bulk:
        yield store.Writes(db, bulk, batches)


def _contents(url) -> dict[str, list[tuple]]:
    """Everything an import writes, but the times of day it wrote it: assets (with their
    search columns), history, runs and the runs' rows."""
    import psycopg

    queries = {
        "assets": "SELECT a.*, doc::text, ST_AsText(geog) FROM assets AS a ORDER BY rid",
        "asset_history": "SELECT * FROM asset_history ORDER BY version_id",
        "import_runs": "SELECT * FROM import_runs ORDER BY id",
        "import_run_rows": "SELECT * FROM import_run_rows ORDER BY id",
    }
    times = {"created_at", "updated_at", "changed_at", "imported_at", "undone_at"}
    found = {}
    with psycopg.connect(url) as conn:
        for table, sql in queries.items():
            cursor = conn.execute(sql)
            names = [column.name for column in cursor.description]
            found[table] = [
                tuple(v for name, v in zip(names, row, strict=True) if name not in times)
                for row in cursor
            ]
    return found


def _staging_tables(url) -> int:
    """TEMP tables in the database, any session's: a staging table left behind would be one."""
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM pg_class WHERE relpersistence = 't'").fetchone()[
            0
        ]


def test_a_staged_import_writes_exactly_what_row_by_row_writes_did_and_undoes_alike(
    fresh, audit, monkeypatch
):
    staged, row_by_row = fresh(), fresh()
    report = _apply(staged, audit)
    # New, changed, unchanged and rejected rows all go through the staged writes.
    assert report.new > 300 and report.changed > 100 and report.unchanged > 100
    assert report.rejected >= 1
    with monkeypatch.context() as patch:
        patch.setattr(store, "writing", _row_by_row)
        patch.setattr(store, "stage_rows", None)  # never called on this path
        assert _apply(row_by_row, audit).counts() == report.counts()
    assert _contents(staged) == _contents(row_by_row)
    assert _staging_tables(staged) == 0

    for url in (staged, row_by_row):
        db = connect(url)
        try:
            undo_run(db, report.run_id, who=WHO)
        finally:
            db.close()
    assert _contents(staged) == _contents(row_by_row)


def test_other_writers_go_ahead_while_an_import_stages_its_rows(fresh, audit, monkeypatch):
    url = fresh()
    other = connect(url)
    stage_rows = store.stage_rows
    seen = []

    def staged_while_others_write(db, rows, *, after):
        done = stage_rows(db, rows, after=after)
        if not seen:
            # Nobody holds the write lock: a sign-in writes now, while the import waits.
            user_store.create_user(other, "linkworker@example.org", "x", "link_worker", actor=WHO)
            assert other.conn.begin_immediate_now()  # and keeps the lock, for the next batch
        else:
            # The import staged this batch while another writer held the lock.
            assert other.conn.in_transaction
            other.conn.execute("ROLLBACK")
        seen.append(len(rows))
        return done

    monkeypatch.setattr(store, "stage_rows", staged_while_others_write)
    try:
        report = _apply(url, audit)
    finally:
        other.close()
    assert len(seen) == 2 and sum(seen) == report.rows
    db = connect(url)
    try:
        assert user_store.get_user_by_email(db, "linkworker@example.org") is not None
        assert store.count_run_rows(db, report.run_id) == report.rows
    finally:
        db.close()


def test_an_apply_that_fails_while_writing_its_staged_rows_leaves_nothing(
    fresh, audit, monkeypatch
):
    url = fresh()
    before = fingerprint(url)
    write_staged_changes = store.write_staged_changes

    def written_then_full(db, **kwargs):
        write_staged_changes(db, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "write_staged_changes", written_then_full)
    with pytest.raises(OSError):
        _apply(url, audit)
    assert fingerprint(url) == before
    assert _staging_tables(url) == 0


def _first_asset(url) -> dict:
    """The first asset of the database at `url`, read on a connection of its own."""
    db = connect(url)
    try:
        return next(asset_store.iter_assets(db))
    finally:
        db.close()


def _runs(url) -> int:
    """How many import runs the database at `url` records."""
    db = connect(url)
    try:
        return len(store.list_runs(db))
    finally:
        db.close()


def test_an_apply_whose_assets_change_while_it_stages_writes_none_of_its_rows(
    fresh, audit, monkeypatch
):
    url = fresh()
    first, runs_before = _first_asset(url), _runs(url)
    other = connect(url)
    stage_rows = store.stage_rows
    edits = count(1)

    def someone_edits_meanwhile(db, rows, *, after):
        if after == 0:  # each time the import is checked and staged again
            edited = {**first, "description": f"edited while importing ({next(edits)})"}
            asset_store.save_asset(other, edited, who="editor@example.org")
        return stage_rows(db, rows, after=after)

    monkeypatch.setattr(store, "stage_rows", someone_edits_meanwhile)
    try:
        with pytest.raises(ImportFileError, match="Nothing was imported"):
            _apply(url, audit)
    finally:
        other.close()
    db = connect(url)
    try:
        assert len(store.list_runs(db)) == runs_before
        assert [c["changed_by"] for c in asset_store.history(db, first["id"])][:3] == [
            "editor@example.org"
        ] * 3
        assert asset_store.get_asset(db, f"{first['id']}-annexe") is None
    finally:
        db.close()
    assert _staging_tables(url) == 0


def test_a_link_worker_signs_in_while_an_import_holds_the_write_lock(fresh):
    url = fresh()
    importing, signing_in, other = connect(url), connect(url), connect(url)
    try:
        # The import's final writes hold the assets' write lock, as long as they take.
        assert importing.conn.begin_immediate_now()
        account = accounts.create_account(
            signing_in, "linkworker@example.org", "link_worker", "a long pass phrase", actor=WHO
        )
        signed = accounts.authenticate(
            signing_in, "linkworker@example.org", "a long pass phrase", "127.0.0.1",
            accounts.ThrottlePolicy(),
        )  # fmt: skip
        assert isinstance(signed, accounts.SignIn) and signed.recorded
        assert accounts.session_user(signing_in, signed.session_token)["id"] == account
        # Asset writers still take turns with the import; account writers among themselves.
        assert not other.conn.begin_immediate_now()
        assert other.conn.begin_immediate_now(postgres.ACCOUNTS_LOCK)
        with pytest.raises(Busy):
            user_store.write_now(signing_in, lambda db: None)
        other.conn.execute("ROLLBACK")
        importing.conn.execute("ROLLBACK")
    finally:
        for db in (importing, signing_in, other):
            db.close()


def test_an_asset_added_by_hand_while_an_import_stages_it_is_matched_when_checked_again(
    fresh, audit, monkeypatch
):
    url = fresh()
    first = _first_asset(url)
    other = connect(url)
    annexe = f"{first['id']}-annexe"  # a new asset of the file
    stage_rows, insert_staged_assets = store.stage_rows, store.insert_staged_assets
    added_early = []

    def added_by_hand_meanwhile(db, rows, *, after):
        if not added_early and after == 0:
            by_hand = {**first, "id": annexe, "name": f"{first['name']} annexe"}
            asset_store.save_asset(other, by_hand, who="editor@example.org")
        return stage_rows(db, rows, after=after)

    def noted(db, **kwargs):
        added_early.append(insert_staged_assets(db, **kwargs))
        return added_early[-1]

    monkeypatch.setattr(store, "stage_rows", added_by_hand_meanwhile)
    monkeypatch.setattr(store, "insert_staged_assets", noted)
    try:
        report = _apply(url, audit)
    finally:
        other.close()
    # The id was taken, so nothing was added early; the import saw the change and was checked
    # again, finding the asset added by hand, and then added its other assets early.
    assert added_early == [False, True]
    db = connect(url)
    try:
        changes = asset_store.history(db, annexe)
        assert changes[-1]["changed_by"] == "editor@example.org"
        assert all(c["action"] != "insert" for c in changes[:-1])
        assert store.count_run_rows(db, report.run_id) == report.rows
    finally:
        db.close()
    assert _staging_tables(url) == 0
