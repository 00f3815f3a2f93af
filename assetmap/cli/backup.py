"""`assetmap backup` and `assetmap restore`: the whole directory to a file and back, on either
engine, safely while the app is running (store/backup.py says how)."""

from __future__ import annotations

from pathlib import Path

import click

from assetmap.cli import context
from assetmap.store.backup import BackupError, backup, restoring, size_words
from assetmap.store.connection import Busy


@click.command("backup")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(out: Path):
    """Save the whole directory (assets, history, accounts, plans, imports) to OUT.

    Safe while the app is running and saving: the backup is the directory at one moment.
    SQLite: a copy of the database made with SQLite's backup API, checked before it replaces
    OUT. PostgreSQL (a postgresql:// ASSETMAP_DB): pg_dump's custom format. Restore it with
    `assetmap restore OUT`. Uploaded import files in instance/imports are not included.

    Example: assetmap backup backups/assetmap-$(date +%F).db
    """
    try:
        saved = backup(context.settings()["ASSETMAP_DB"], out)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    version = "" if saved.version is None else f", schema version {saved.version}"
    click.echo(f"saved {saved.words()} to {out} ({size_words(saved.size)}{version})")


@click.command("restore")
@click.argument("backup_file", metavar="IN", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace a directory that is not empty.")
def restore_command(backup_file: Path, yes: bool):
    """Replace the whole directory with the backup IN (made by `assetmap backup`).

    Says what it would replace, and refuses to replace a directory that is not empty without
    --yes. The backup is checked first (that it is whole, and an assetmap backup this version
    can run; an older one is brought up to date as `assetmap init` would); anything wrong
    leaves the directory exactly as it was. Safe while the app is running: it sees the old
    directory or the new one, never a mixture. People signed in may need to sign in again.

    Example: assetmap restore backups/assetmap-2026-12-01.db --yes
    """
    try:
        with restoring(context.settings()["ASSETMAP_DB"], backup_file) as restore:
            version = restore.incoming.version
            of = "" if version is None else f" (schema version {version})"
            click.echo(f"the backup{of} holds {restore.incoming.words()}")
            if restore.current is None:
                click.echo("the directory now cannot be read as an assetmap database")
            else:
                click.echo(f"the directory now holds {restore.current.words()}")
            if not yes and (restore.current is None or not restore.current.empty):
                raise click.ClickException(
                    "the directory is not empty and nothing was changed: run again with "
                    "--yes to replace it with the backup"
                )
            for description in restore.apply():
                click.echo(f"applied: {description}")
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    except Busy as error:
        raise click.ClickException(f"nothing was changed: {error}") from None
    click.echo(f"restored {backup_file}: the directory now holds {restore.incoming.words()}")


COMMANDS = (backup_command, restore_command)
