"""ASSETMAP_SQL_TIME_LIMIT_MS: a web request's runaway SQL is stopped, answered 503 "this took
too long" (a page, or JSON under /api/), and a write it stops leaves the database as it was;
imports, commands and a limit of 0 are not stopped.

The slow statements are test-only routes on the test app: a recursive CTE counting far further
than any limit here allows. If the limit did not work, each would run for a minute or more (and
the test would fail on its timing), not for ever.
"""

from __future__ import annotations

import sqlite3
import time

import pytest
from flask import g, jsonify

from assetmap.cli.db import database
from assetmap.store import assets as store
from assetmap.web.db import get_db
from assetmap.web.guard import requires
from tests import engines


def counting(to: int) -> str:
    """A statement that counts from 1 to `to`: up to a second a million on a busy machine."""
    return (
        f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {to:d}) "
        "SELECT count(*) FROM n"
    )


RUNAWAY_TO = 10**8
RUNAWAY = counting(RUNAWAY_TO)  # a minute or more, unstopped
SHORT = counting(200_000)  # a tenth of a second or more: over a 20 ms limit
LIMIT_MS = 200
# How much later than the limit the answer may come: the check runs every millisecond or so
# of SQLite's work, and this machine is shared (two cores, several test runs at once).
MARGIN_S = 2.0


@requires("view_public")
def count_page(to: int):
    """A page whose one query counts to `to` (test-only)."""
    return f"counted {get_db().execute(counting(to)).fetchone()[0]}"


@requires("view_public")
def count_api(to: int):
    return jsonify({"counted": get_db().execute(counting(to)).fetchone()[0]})


@requires("view_public")
def rename_then_count():
    """A write in progress when the limit stops it (test-only; a GET, to need no form): one
    asset renamed through the one write path, with its history, then the runaway statement,
    all in one transaction."""
    db = get_db()
    before = store.get_asset(db, "sale-walking-group")
    after = {**before, "name": "Renamed Before The Slow Part"}
    with store.transaction(db):
        change = store.Change(before["id"], store.UPDATE, before, after)
        store.write_changes(db, [change], who="tests", why="time limit", when=store.now())
        db.execute(RUNAWAY)
    return "finished"


@requires("view_public")
def update_with_trigger():
    """One UPDATE whose trigger fires on each row of `counted` (test-only): SQLite reports
    every trigger's start, which must not restart the statement's clock."""
    get_db().execute("UPDATE counted SET i = i + 1")
    return "updated"


@pytest.fixture
def slow_app(app):
    app.config["ASSETMAP_SQL_TIME_LIMIT_MS"] = LIMIT_MS
    app.add_url_rule("/test/count/<int:to>", "test_count", count_page)
    app.add_url_rule("/api/test/count/<int:to>", "test_count_api", count_api)
    app.add_url_rule("/test/rename-then-count", "test_rename", rename_then_count)
    app.add_url_rule("/test/update", "test_update", update_with_trigger)
    return app


def timed_get(client, url: str):
    started = time.monotonic()
    response = client.get(url)
    return response, time.monotonic() - started


def test_a_runaway_query_is_stopped_and_the_page_says_it_took_too_long(slow_app):
    response, took = timed_get(slow_app.test_client(), f"/test/count/{RUNAWAY_TO}")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "This took too long" in page
    assert "ASSETMAP_SQL_TIME_LIMIT_MS" in page
    assert "nothing was saved" in page
    assert LIMIT_MS / 1000 <= took < LIMIT_MS / 1000 + MARGIN_S


def test_the_api_answers_a_runaway_query_with_json_naming_the_limit_and_setting(slow_app):
    response, took = timed_get(slow_app.test_client(), f"/api/test/count/{RUNAWAY_TO}")
    assert response.status_code == 503
    assert response.is_json
    body = response.get_json()
    assert body["details"] == {"limit_ms": LIMIT_MS, "setting": "ASSETMAP_SQL_TIME_LIMIT_MS"}
    assert "took too long" in body["error"] and "0.2 s" in body["error"]
    assert took < LIMIT_MS / 1000 + MARGIN_S


def test_a_query_within_the_limit_is_answered(slow_app):
    response = slow_app.test_client().get("/api/test/count/1000")
    assert response.status_code == 200
    assert response.get_json() == {"counted": 1000}


def test_a_write_stopped_by_the_limit_leaves_the_database_as_it_was(slow_app, db):
    def contents():
        return (
            [tuple(r) for r in db.execute("SELECT * FROM assets ORDER BY id")],
            [tuple(r) for r in db.execute("SELECT * FROM asset_history ORDER BY version_id")],
        )

    before = contents()
    client = slow_app.test_client()
    response, took = timed_get(client, "/test/rename-then-count")
    assert response.status_code == 503
    assert took < LIMIT_MS / 1000 + MARGIN_S
    assert contents() == before
    # ...and the write lock was let go: the next write goes through at once.
    record = store.get_asset(db, "sale-walking-group")
    assert store.save_asset(db, {**record, "name": "Renamed Later"}, who="tests") == store.CHANGED


def test_a_trigger_firing_on_every_row_does_not_restart_the_clock(slow_app, db):
    # Each row's trigger counts to 300 (a fraction of a millisecond); 10,000 rows of it take
    # seconds in all, unstopped. (A cheap trigger on many rows would not test this: SQLite first
    # gathers the rows to update, and that alone would run over the limit.)
    db.execute("CREATE TABLE counted (i INTEGER)")
    db.execute("CREATE TABLE echoed (i INTEGER)")
    echo = (
        "INSERT INTO echoed "
        "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 300) "
        "SELECT new.i + count(*) FROM n;"
    )
    if engines.on_postgresql():  # the same trigger in PL/pgSQL
        db.execute(
            "CREATE FUNCTION echo() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{echo} RETURN NULL; END $$"
        )
        db.execute(
            "CREATE TRIGGER echo AFTER UPDATE ON counted FOR EACH ROW EXECUTE FUNCTION echo()"
        )
    else:
        db.execute(f"CREATE TRIGGER echo AFTER UPDATE ON counted BEGIN {echo} END")
    with store.transaction(db):
        db.conn.executemany("INSERT INTO counted VALUES (?)", ((i,) for i in range(10_000)))
    response, took = timed_get(slow_app.test_client(), "/test/update")
    assert response.status_code == 503
    assert took < LIMIT_MS / 1000 + MARGIN_S
    assert db.execute("SELECT count(*) FROM echoed").fetchone()[0] == 0


def test_a_limit_of_0_means_no_limit(slow_app):
    client = slow_app.test_client()
    slow_app.config["ASSETMAP_SQL_TIME_LIMIT_MS"] = 20
    assert client.get("/test/count/200000").status_code == 503  # it does take over 20 ms
    slow_app.config["ASSETMAP_SQL_TIME_LIMIT_MS"] = "0"  # as the environment would give it
    response = client.get("/test/count/200000")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "counted 200000"


def test_commands_have_no_limit(slow_app):
    """The CLI's connection (cli.db.database, as every command opens it) is not limited."""
    slow_app.config["ASSETMAP_SQL_TIME_LIMIT_MS"] = 20
    with slow_app.app_context(), database() as db:
        assert db.execute(SHORT).fetchone()[0] == 200_000


def test_import_pages_have_no_limit_and_other_pages_do(slow_app):
    """An import run in a request (a small file, an undo, a feed's sync) is an import: its
    connection has no limit, while a search page's has."""
    slow_app.config["ASSETMAP_SQL_TIME_LIMIT_MS"] = 20
    for path in ("/manage/imports/", "/manage/imports/template.csv", "/manage/feeds/"):
        with slow_app.test_request_context(path):
            assert db_counts(SHORT) == 200_000, path
            assert "sql_time_limit" not in g
    with slow_app.test_request_context("/search"), pytest.raises(_stopped_by_the_limit()):
        db_counts(SHORT)


def test_the_database_opened_outside_a_request_has_no_limit(slow_app):
    """The background import thread and `assetmap serve`'s start-up open their own connections
    (store.connect, store.initialise); code run in the app outside a request is not limited."""
    slow_app.config["ASSETMAP_SQL_TIME_LIMIT_MS"] = 20
    with slow_app.app_context():
        assert db_counts(SHORT) == 200_000


def _stopped_by_the_limit() -> type[Exception]:
    """What a statement stopped by the limit raises: SQLite's "interrupted", PostgreSQL's
    query_canceled."""
    if engines.on_postgresql():
        import psycopg

        return psycopg.errors.QueryCanceled
    return sqlite3.OperationalError


def db_counts(sql: str) -> int:
    return get_db().execute(sql).fetchone()[0]
