"""A load balancer asks each app server `GET /healthz` and sends people only to those that
answer 200 "ok": it is public, sets no cookie, is never cached, and says 503 "unavailable"
(the reason in the server's log, not in the answer) whenever the database does not answer."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from assetmap import create_app
from assetmap.store import initialise, postgres, schema
from tests import engines


def app_on(target):
    return create_app({"TESTING": True, "ASSETMAP_DB": str(target), "SECRET_KEY": "test-only"})


def assert_plain_answer(response, status: int, text: str) -> None:
    assert response.status_code == status
    assert response.get_data(as_text=True) == text
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers  # no session for a balancer's every few seconds


def test_a_server_whose_database_answers_is_healthy(client):
    assert_plain_answer(client.get("/healthz"), 200, "ok\n")
    head = client.head("/healthz")
    assert (head.status_code, head.get_data()) == (200, b"")


def test_a_missing_database_is_unavailable_and_nothing_is_made(tmp_path, caplog):
    target = engines.missing_target(tmp_path)
    with caplog.at_level(logging.WARNING):
        response = app_on(target).test_client().get("/healthz")
    assert_plain_answer(response, 503, "unavailable\n")
    assert "run `assetmap init` first" in caplog.text  # the reason, for whoever runs it
    assert not engines.exists(target)


def test_a_database_not_brought_up_to_date_is_unavailable(tmp_path, monkeypatch):
    target = engines.new_target(tmp_path)
    with monkeypatch.context() as older:  # as an older assetmap left it, before `init`
        older.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION - 1)
        initialise(target)
    client = app_on(target).test_client()
    assert_plain_answer(client.get("/healthz"), 503, "unavailable\n")
    initialise(target)  # the release step's `assetmap init`: healthy again
    assert_plain_answer(client.get("/healthz"), 200, "ok\n")


def test_a_database_gone_while_the_server_runs_is_unavailable_not_an_error(app, db_path, caplog):
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    if engines.on_postgresql():
        engines.cluster().admin(f"DROP DATABASE {db_path.rsplit('/', 1)[1]} WITH (FORCE)")
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    with caplog.at_level(logging.WARNING):
        response = client.get("/healthz")
    assert_plain_answer(response, 503, "unavailable\n")
    assert "health check: the database does not answer" in caplog.text
    assert str(db_path) not in response.get_data(as_text=True)


def test_a_postgresql_server_that_does_not_answer_is_unavailable(caplog):
    pytest.importorskip("psycopg")
    url = "postgresql://nobody@127.0.0.1:9/assetmap"  # port 9 (discard): nothing listens
    try:
        with caplog.at_level(logging.WARNING):
            response = app_on(url).test_client().get("/healthz")
    finally:
        postgres.close_pool(url)
    assert_plain_answer(response, 503, "unavailable\n")
    assert "127.0.0.1:9" not in response.get_data(as_text=True)
