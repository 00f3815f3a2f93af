"""The database for a command, opened in one place.

Every command that reads or writes the directory opens it with `database()`, which refuses a
database that is missing or not at this assetmap's schema version with a message that says
what to do ("run `assetmap init`"), rather than a raw SQLite error, and never leaves an empty
file where there was none (see store.connection.connect_ready). Only the commands that make
the database or bring it forward, `init`, `serve` and `postcodes load`, open it otherwise,
through store.initialise. As web/db.py's get_db does for a request, this is flaskr's get_db for
a command.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from assetmap.cli import context
from assetmap.store.connection import NotReady, connect_ready, initialise

if TYPE_CHECKING:
    import sqlite_utils


@contextmanager
def database() -> Iterator[sqlite_utils.Database]:
    """The app's database (ASSETMAP_DB), closed when the block ends; a ClickException saying
    what to do when it is missing or not up to date.

    Example: `with database() as db: rows = store.list_users(db)`
    """
    try:
        db = connect_ready(context.settings()["ASSETMAP_DB"])
    except NotReady as error:
        raise click.ClickException(str(error)) from None
    try:
        yield db
    finally:
        db.close()


def initialise_database() -> list[str]:
    """Make the app's database, or bring its schema up to date, for the commands that may
    (`init`, `serve`, `postcodes load`); the descriptions of the migrations applied.

    A database newer than this assetmap is a ClickException saying so, not a traceback.
    """
    try:
        return initialise(context.settings()["ASSETMAP_DB"])
    except RuntimeError as error:  # schema.migrate: newer than this assetmap
        raise click.ClickException(str(error)) from None
