"""The PostgreSQL connection under the store (assetmap/store/postgres.py): the SQL it hands
to psycopg, the rows it gives back, its write lock, time limit and messages.

The translation tests need no server. The others run on the run's private cluster
(tests/engines.py), and skip where PostgreSQL is not installed. All run in the PostgreSQL run
(`make test-postgres`) and are skipped in the SQLite run.
"""

from __future__ import annotations

import threading
import time

import pytest

from assetmap.store import Busy, postgres, schema
from assetmap.store.connection import (
    NotReady,
    begin_immediate,
    connect,
    connect_ready,
    initialise,
    time_limit,
)
from tests import engines

pytestmark = pytest.mark.postgresql_only("the PostgreSQL connection under the store")


@pytest.mark.parametrize(
    ("sqlite", "psycopg"),
    [
        ("SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = %s AND b = %s"),
        ("SELECT :name, :other_2", "SELECT %(name)s, %(other_2)s"),
        # Text, quoted names and comments are left alone, but a % in them is doubled.
        ("SELECT '?', 'it''s :x', \"a?b\" -- why? :y\n, ?", None),
        ("SELECT x::text, ?", "SELECT x::text, %s"),
        ("SELECT 'a%' || ?", "SELECT 'a%%' || %s"),
        ("SELECT 100 % ?", "SELECT 100 %% %s"),
    ],
)
def test_the_stores_sql_reaches_psycopg_with_its_parameters_in_psycopgs_style(sqlite, psycopg):
    expected = psycopg or "SELECT '?', 'it''s :x', \"a?b\" -- why? :y\n, %s"
    assert postgres.translate(sqlite) == expected


def test_a_url_is_postgresql_and_its_password_is_never_printed():
    assert postgres.is_url("postgresql://u:secret@h/d") and postgres.is_url("postgres://h/d")
    assert not postgres.is_url("instance/assetmap.db") and not postgres.is_url("sqlite:///x.db")
    assert postgres.without_password("postgresql://u:secret@h:5/d") == "postgresql://u@h:5/d"


@pytest.fixture
def pg(tmp_path):
    """A fresh, migrated PostgreSQL database of this test's own."""
    cluster = engines.cluster()
    name = f"pgstore{time.monotonic_ns()}"
    cluster.admin(f"CREATE DATABASE {name}")
    url = cluster.url(name)
    initialise(url)
    yield url
    postgres.close_pool(url)
    cluster.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_rows_read_as_sqlites_do(pg):
    db = connect(pg)
    try:
        row = db.conn.execute("SELECT 1 AS one, 'two' AS two, sum(x) AS total, avg(x) AS mean "
                              "FROM (VALUES (1), (2)) AS v(x)").fetchone()  # fmt: skip
        assert row["one"] == row[0] == 1 and row["two"] == "two"
        assert dict(row) == {"one": 1, "two": "two", "total": 3, "mean": 1.5}
        assert type(row["total"]) is int and type(row["mean"]) is float  # never Decimal
        assert db.conn.execute("SELECT 1 WHERE false").fetchone() is None
    finally:
        db.close()


def test_the_schema_is_this_assetmaps_and_init_is_idempotent(pg):
    assert initialise(pg) == []
    db = connect_ready(pg)
    try:
        assert schema.current_version(db.conn) == schema.SCHEMA_VERSION
        assert db.engine == "postgresql"
    finally:
        db.close()


def test_a_database_that_is_not_there_says_run_init_and_init_makes_it():
    url = engines.missing_database()
    with pytest.raises(NotReady, match=f"^there is no database at {url}: run `assetmap init`"):
        connect_ready(url)
    assert not engines.database_exists(url)  # nothing made
    assert initialise(url)  # the role may create databases: made, then brought up to date
    connect_ready(url).close()


def test_a_server_that_is_not_there_is_said_in_the_libraries_words():
    with pytest.raises(NotReady, match="^cannot open the PostgreSQL database .*127.0.0.1:9/"):
        connect_ready("postgresql://nobody@127.0.0.1:9/assetmap")


def test_writers_take_turns_and_a_writer_that_waits_too_long_is_told_busy(pg, monkeypatch):
    from assetmap.store import connection

    monkeypatch.setattr(connection, "BUSY_TIMEOUT_MS", 100)
    monkeypatch.setattr(connection, "BUSY_RETRY_PAUSES", (0.05,))
    holder, other = connect(pg), connect(pg)
    try:
        begin_immediate(holder.conn)
        started = time.monotonic()
        with pytest.raises(Busy):
            begin_immediate(other.conn)
        assert time.monotonic() - started < 5
        assert not other.conn.in_transaction  # nothing begun, as on SQLite
        # Released meanwhile: the second writer gets the lock.
        threading.Timer(0.05, lambda: holder.conn.execute("COMMIT")).start()
        monkeypatch.setattr(connection, "BUSY_TIMEOUT_MS", 3000)
        begin_immediate(other.conn)
        other.conn.execute("COMMIT")
    finally:
        holder.close()
        other.close()


def test_a_writer_ended_by_a_deadlock_is_told_busy_not_a_fault(pg):
    """Two writers each waiting for what the other holds (an import that added an asset
    before taking the write lock, and an edit adding the same id under it): PostgreSQL ends
    one, which is a busy database (503, nothing saved, try again), not a server error."""
    import psycopg

    from assetmap.store import is_busy

    first, second = psycopg.connect(pg, autocommit=True), psycopg.connect(pg, autocommit=True)
    try:
        first.execute("BEGIN")
        second.execute("BEGIN")
        first.execute("SELECT pg_advisory_xact_lock(1)")
        second.execute("SELECT pg_advisory_xact_lock(2)")
        errors: list[BaseException] = []

        def wait_for_two():
            try:
                first.execute("SELECT pg_advisory_xact_lock(2)")
            except psycopg.Error as error:
                errors.append(error)
                first.execute("ROLLBACK")

        waiting = threading.Thread(target=wait_for_two)
        waiting.start()
        try:
            second.execute("SELECT pg_advisory_xact_lock(1)")
        except psycopg.Error as error:
            errors.append(error)
            second.execute("ROLLBACK")
        waiting.join(30)
        assert len(errors) == 1 and errors[0].sqlstate == "40P01"
        assert is_busy(errors[0])
    finally:
        first.close()
        second.close()


def test_a_statement_over_the_requests_time_limit_is_stopped_and_said_so(pg):
    db = connect(pg)
    try:
        limit = time_limit(db, 100)
        with pytest.raises(Exception) as stopped:
            db.conn.execute("SELECT pg_sleep(2)").fetchone()
        assert limit.cut_off(stopped.value)
    finally:
        db.close()
    # The connection goes back to the pool without the limit.
    again = connect(pg)
    try:
        assert again.conn.execute("SHOW statement_timeout").fetchone()[0] == "0"
    finally:
        again.close()


def test_a_handle_dropped_without_close_gives_its_connection_back(pg):
    for _ in range(postgres.POOL_MAX * 2):
        db = connect(pg)
        db.conn.execute("SELECT 1").fetchone()
        del db  # as a forgotten close would
    last = connect(pg)
    assert last.conn.execute("SELECT 2").fetchone()[0] == 2
    last.close()


def test_text_sorts_by_its_bytes_as_on_sqlite_whatever_the_databases_locale():
    """A database made with a locale that sorts "apple" before "Banana" (ICU English) still
    lists them as SQLite does, capitals first: the columns compare by bytes (COLLATE "C")."""
    cluster = engines.cluster()
    name = f"pgicu{time.monotonic_ns()}"
    try:
        cluster.admin(
            f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en' "
            "LOCALE 'C.UTF-8'"
        )
    except Exception as error:  # a PostgreSQL built without ICU
        pytest.skip(f"no ICU locale here to sort by: {error}")
    url = cluster.url(name)
    try:
        initialise(url)
        db = connect(url)
        try:
            for code in ("apple", "Banana"):
                db.conn.execute(
                    "INSERT INTO areas (level, code, name, geometry, loaded_at) "
                    "VALUES ('ward', ?, ?, '{}', '2026-01-01')",
                    [code, code],
                )
            by_locale = [
                r[0] for r in db.conn.execute("SELECT 'apple' UNION SELECT 'Banana' ORDER BY 1")
            ]
            assert by_locale == ["apple", "Banana"], "the database's locale should sort a before B"
            listed = [r[0] for r in db.conn.execute("SELECT name FROM areas ORDER BY name")]
            assert listed == ["Banana", "apple"]
        finally:
            db.close()
    finally:
        postgres.close_pool(url)
        cluster.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
