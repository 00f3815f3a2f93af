"""One database connection per request, kept on `g` and closed when the request ends.

A write that finds the database locked by another writer for longer than writes wait (see
store.connection.begin_immediate) is answered 503 "busy, nothing saved, try again": the
transaction was rolled back, so that is exactly what happened.
"""

from __future__ import annotations

import sqlite3

import sqlite_utils
from flask import Flask, abort, current_app, g, request

from assetmap.store import Busy, connect, is_busy, schema


def get_db() -> sqlite_utils.Database:
    """The request's database connection, opened on first use.

    A database that `assetmap init` has not brought up to date gets a 503 that says so,
    rather than errors deeper in.
    """
    if "db" not in g:
        db = connect(current_app.config["ASSETMAP_DB"])
        if schema.current_version(db.conn) != schema.SCHEMA_VERSION:
            db.close()
            abort(503, description="The database is not set up yet: run `assetmap init`.")
        g.db = db
    return g.db


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


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
    app.register_error_handler(Busy, _busy)
    app.register_error_handler(sqlite3.OperationalError, _busy)
