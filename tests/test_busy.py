"""A database busy with another writer: writes wait, then say so; nothing is half-saved."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from assetmap.store import Busy, connect, connection
from assetmap.store import assets as asset_store
from tests import engines
from tests.conftest import csrf_token


@pytest.fixture
def quick_retries(monkeypatch):
    """Writes that give up after a fraction of a second rather than twenty."""
    monkeypatch.setattr(connection, "BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr(connection, "BUSY_RETRY_PAUSES", (0.05, 0.1))


def _hold_write_lock(path, seconds: float, until: threading.Event | None = None):
    """Another writer holding the database's write lock for `seconds`, from another thread;
    with `until`, let go as soon as that is set (once the write under test has given up,
    rather than a second later). A write that kept waiting for longer would still find the
    lock gone after `seconds`, and be saved, as it would without `until`."""
    started = threading.Event()

    def hold():
        if engines.on_postgresql():
            import psycopg

            from assetmap.store.postgres import ACCOUNTS_LOCK, WRITE_LOCK

            other = psycopg.connect(str(path), autocommit=True)
            other.execute("BEGIN")
            # The writers' lock that BEGIN IMMEDIATE takes there, and the one that accounts
            # and sessions take instead (store.users.transaction).
            other.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
            other.execute("SELECT pg_advisory_xact_lock(%s)", [ACCOUNTS_LOCK])
        else:
            other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            other.execute("BEGIN IMMEDIATE")
        started.set()
        if until is None:
            time.sleep(seconds)
        else:
            until.wait(seconds)
        other.execute("ROLLBACK")
        other.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    started.wait(5)
    return thread


def test_a_write_waits_for_a_short_lock_and_then_is_saved(app, db_path, quick_retries):
    holder = _hold_write_lock(db_path, 0.12)
    db = connect(db_path)
    library = db.conn.execute("SELECT id FROM assets LIMIT 1").fetchone()[0]
    record = asset_store.get_asset(db, library)
    assert asset_store.save_asset(db, {**record, "description": "Saved."}, who="t") == "changed"
    holder.join()
    assert asset_store.get_asset(db, library)["description"] == "Saved."


def test_a_write_that_meets_a_long_lock_is_refused_and_nothing_is_saved(
    app, db_path, quick_retries
):
    db = connect(db_path)
    library = db.conn.execute("SELECT id FROM assets LIMIT 1").fetchone()[0]
    record = asset_store.get_asset(db, library)
    given_up = threading.Event()
    holder = _hold_write_lock(db_path, 1.5, until=given_up)
    with pytest.raises(Busy, match="nothing was saved; try again"):
        asset_store.save_asset(db, {**record, "description": "Lost?"}, who="t")
    given_up.set()
    holder.join()
    assert asset_store.get_asset(db, library) == record
    assert not db.conn.in_transaction


def test_a_coordinators_edit_during_a_long_lock_gets_a_503_saying_nothing_was_saved(
    app, db_path, sign_in, quick_retries
):
    client = app.test_client()
    sign_in(client, "coordinator")
    db = connect(db_path)
    asset_id = db.conn.execute("SELECT id FROM assets LIMIT 1").fetchone()[0]
    before = asset_store.get_asset(db, asset_id)
    token = csrf_token(client, f"/manage/assets/{asset_id}/edit")
    given_up = threading.Event()
    holder = _hold_write_lock(db_path, 1.5, until=given_up)
    answer = client.post(f"/manage/assets/{asset_id}/archive", data={"csrf_token": token})
    given_up.set()
    holder.join()
    assert answer.status_code == 503
    assert answer.headers["Retry-After"]
    assert "nothing was saved" in answer.get_data(as_text=True)
    assert asset_store.get_asset(db, asset_id) == before
    # Once the lock is gone, the same request goes through.
    again = client.post(f"/manage/assets/{asset_id}/archive", data={"csrf_token": token})
    assert again.status_code == 302
    assert asset_store.get_asset(db, asset_id)["archived"] is True


def test_a_command_that_meets_a_long_lock_says_nothing_was_saved(
    app, db_path, quick_retries, monkeypatch
):
    from click.testing import CliRunner

    from assetmap.cli import main

    monkeypatch.setenv("ASSETMAP_DB", str(db_path))
    given_up = threading.Event()
    holder = _hold_write_lock(db_path, 1.5, until=given_up)
    result = CliRunner().invoke(
        main, ["users", "create", "new@example.org", "--role", "coordinator"]
    )
    given_up.set()
    holder.join()
    assert result.exit_code == 1
    assert "Nothing was saved: the directory is busy" in result.output


def test_a_missing_database_gets_a_503_that_says_what_to_do_and_makes_no_file(tmp_path):
    from assetmap import create_app

    target = engines.missing_target(tmp_path)  # on the engine the run is on
    app = create_app({"TESTING": True, "ASSETMAP_DB": str(target), "SECRET_KEY": "test-only"})
    answer = app.test_client().get("/api/v1/assets")
    assert answer.status_code == 503
    assert "run `assetmap init`" in answer.get_json()["error"]
    assert not engines.exists(target)
