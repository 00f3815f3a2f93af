"""One database connection per request, kept on `g` and closed when the request ends."""

from __future__ import annotations

import sqlite_utils
from flask import Flask, abort, current_app, g

from assetmap.store import connect, schema


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


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
