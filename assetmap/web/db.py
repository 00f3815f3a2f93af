"""One database connection per request, kept on `g` and closed when the request ends.

A write that finds the database locked by another writer for longer than writes wait (see
store.connection.begin_immediate) is answered 503 "busy, nothing saved, try again": the
transaction was rolled back, so that is exactly what happened.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from flask import Flask, abort, current_app, g, request

from assetmap.store import Busy, is_busy
from assetmap.store.connection import NotReady, connect_ready

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
