"""One database connection per request, kept on `g` and closed when the request ends.

Each statement of a request's SQL may run for ASSETMAP_SQL_TIME_LIMIT_MS at most (see
store.connection.StatementTimeLimit): one that runs longer is stopped and the request answered
503 "this took too long" (errors.too_slow), so no query holds a worker. Imports run from a page
have no limit, as imports elsewhere (the CLI, the background job thread) have none: they open
their connections without get_db.

A write that finds the database locked by another writer for longer than writes wait (see
store.connection.begin_immediate) is answered 503 "busy, nothing saved, try again": the
transaction was rolled back, so that is exactly what happened.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from flask import Flask, abort, current_app, g, has_request_context, request

from assetmap.store import Busy, is_busy, postgres
from assetmap.store.connection import NotReady, connect_ready, time_limit

# The blueprints whose pages run imports in the request (a small file's preview and import, an
# undo, a feed's sync): imports take as long as they take, so their SQL has no time limit. How
# big an import a request may run is ASSETMAP_IMPORT_BACKGROUND_ROWS's business instead.
UNLIMITED_BLUEPRINTS = frozenset({"imports", "import_mapping", "feeds"})

if TYPE_CHECKING:
    import sqlite_utils


def get_db() -> sqlite_utils.Database:
    """The request's database connection, opened on first use.

    A database that is missing, or that `assetmap init` has not brought up to date, gets a 503
    that says so, rather than errors deeper in (and no empty file is left where there was none).
    """
    if "db" not in g:
        try:
            g.db = connect_ready(current_app.config["ASSETMAP_DB"])
        except NotReady as e:
            message = str(e)
            abort(503, description=message[0].upper() + message[1:] + ".")
        _limit_time(g.db)
    return g.db


def _limit_time(db: sqlite_utils.Database) -> None:
    """Put ASSETMAP_SQL_TIME_LIMIT_MS on a request's connection (not on one opened outside a
    request, nor for an import's pages; 0 is no limit)."""
    limit_ms = current_app.config["ASSETMAP_SQL_TIME_LIMIT_MS"]
    if limit_ms and has_request_context() and request.blueprint not in UNLIMITED_BLUEPRINTS:
        g.sql_time_limit = time_limit(db, limit_ms)


def close_db(exception: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


BUSY_RETRY_AFTER_SECONDS = 30


def _busy(error: Exception):
    """503 with Retry-After, as JSON for the API and a page for people."""
    from assetmap.web.errors import error_page

    if not isinstance(error, Busy) and not is_busy(error):
        raise error  # another SQLite failure: the app's handler for the unexpected answers
    current_app.logger.warning("database busy on %s: %s", request.path, error)
    response = current_app.make_response(
        error_page(
            503,
            "The directory is busy saving other changes (an import, perhaps), so nothing was "
            "saved. Try again in a minute.",
        )
    )
    response.headers["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
    return response


def _database_error(error: Exception):
    """A statement stopped by the time limit: 503 "this took too long"; else as _busy."""
    limit = g.get("sql_time_limit")
    if limit is None or not limit.cut_off(error):
        return _busy(error)
    from assetmap.web.errors import too_slow

    current_app.logger.warning(
        "SQL stopped after %d ms (ASSETMAP_SQL_TIME_LIMIT_MS) on %s %s",
        limit.limit_ms,
        request.method,
        request.path,
    )
    return too_slow(limit.limit_ms)


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
    app.register_error_handler(Busy, _busy)
    app.register_error_handler(sqlite3.OperationalError, _database_error)
    if postgres.is_url(app.config["ASSETMAP_DB"]):
        import psycopg

        # A statement over the time limit (query_canceled) or a lock waited out
        # (lock_not_available) are operational errors there too.
        app.register_error_handler(psycopg.OperationalError, _database_error)
