"""`assetmap copy FROM_DB TO_DB`: the whole directory moved to another database, SQLite to
PostgreSQL or back (store/copying.py says how)."""

from __future__ import annotations

import click


@click.command("copy")
@click.argument("from_db", metavar="FROM_DB")
@click.argument("to_db", metavar="TO_DB")
@click.option(
    "--replace", is_flag=True, help="Clear TO_DB first when it already holds a directory."
)
def copy_command(from_db: str, to_db: str, replace: bool):
    """Copy the whole directory at FROM_DB into TO_DB: from SQLite to PostgreSQL, or back.

    FROM_DB and TO_DB are what ASSETMAP_DB takes: a file's path, sqlite:///path or a
    postgresql:// URL. Every table is copied (assets, history, accounts and sessions, plans,
    referrals, requests to join, import runs, postcodes, areas, checks, feeds, the audit log)
    with every id kept, in one transaction: TO_DB gets all of it or, on any error, nothing.
    FROM_DB must be at this assetmap's schema version (run `assetmap init` on it first). TO_DB
    gets assetmap's tables first, as `assetmap init` makes them (an SQLite file is made; a
    PostgreSQL database must exist, made with createdb), and must be empty unless --replace
    is given. The app may keep running on FROM_DB: the copy is of one moment. Uploaded import
    files in instance/imports are not in the database: copy that folder too. Then point
    ASSETMAP_DB at TO_DB.

    \b
    Example: assetmap copy instance/assetmap.db postgresql://assetmap@localhost/assetmap
    """
    from assetmap.store.copying import CopyError, copy, name_of

    empty = []

    def told(table: str, rows: int) -> None:
        if rows:
            click.echo(f"  {table}: {rows:,} row{'' if rows == 1 else 's'}")
        else:
            empty.append(table)

    click.echo(f"copying {name_of(from_db)} into {name_of(to_db)}")
    try:
        copied = copy(from_db, to_db, replace=replace, told=told)
    except CopyError as error:
        raise click.ClickException(str(error)) from None
    if empty:
        click.echo(f"  empty, and copied as such: {', '.join(empty)}")
    if any(copied.replaced.values()):
        click.echo(f"replaced what {name_of(to_db)} held: {copied.replaced_words()}")
    click.echo(
        f"copied {copied.words()} ({sum(copied.rows.values()):,} rows in "
        f"{len(copied.rows)} tables) in {copied.seconds:.1f} s"
    )


COMMANDS = (copy_command,)
