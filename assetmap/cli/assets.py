"""Commands for the database and its assets: init, load, export, and serve the app.

Like every command module, it imports what a command uses inside the command, so that
`assetmap --help` and the other commands do not wait for it (issue 19).
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

import click

from assetmap.cli import context
from assetmap.cli.db import database, initialise_database


def _who(who: str | None) -> str:
    return who or f"cli:{getpass.getuser()}"


@click.command("init")
def init_command():
    """Create the database, or bring its schema up to date. Safe to run any number of times.

    Example: assetmap init
    """
    from assetmap.store import schema

    path = context.settings()["ASSETMAP_DB"]
    applied = initialise_database()
    for description in applied:
        click.echo(f"applied: {description}")
    click.echo(f"{path} is at schema version {schema.SCHEMA_VERSION}")


@click.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and count, but change nothing.")
@click.option("--who", help="Name recorded in history (default: cli:<your user name>).")
def load_command(file: Path, dry_run: bool, who: str | None):
    """Load assets from a GeoJSON file (or a CSV made by `export csv`), upserting by id.

    Every record is checked first. Valid ones are written in one transaction; rejected ones are
    listed with every reason. Loading the same file again reports everything unchanged.
    Exits with status 1 when any record was rejected. The database must exist (`assetmap init`).

    Example: assetmap load data/assets.geojson
    """
    from assetmap.record.formats import FormatError
    from assetmap.record.loading import load_file

    with database() as db:
        try:
            report = load_file(
                db,
                file,
                who=_who(who),
                bounds=context.settings()["ASSETMAP_BOUNDS"],
                dry_run=dry_run,
            )
        except FormatError as e:
            raise click.ClickException(f"{file} {e}") from None
        except UnicodeDecodeError as e:
            raise click.ClickException(
                f"{file} is not UTF-8 text ({e.reason}); save it as UTF-8"
            ) from None
    prefix = "dry run, nothing changed: " if dry_run else ""
    click.echo(f"{prefix}{report.summary()}")
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    for rejection in report.rejected:
        click.echo(f"rejected: {rejection}", err=True)
    if report.rejected:
        sys.exit(1)


@click.command("export")
@click.argument("format", type=click.Choice(["geojson", "csv", "hsds"]))
@click.argument("out", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--public", is_flag=True, help="Leave out professional-only fields.")
def export_command(format: str, out: str, public: bool):
    """Write every asset (closed ones included) to OUT ("-" for standard output).

    What `assetmap load` reads back from the export gives the same database.
    hsds: the published assets' public fields as an Open Referral UK package (HSDS tables),
    OUT a .zip or a new folder (see `assetmap openreferral --help`).

    Example: assetmap export geojson assets-backup.geojson
    """
    from assetmap.record.formats import write_csv, write_geojson
    from assetmap.store import assets as store

    if format == "hsds":
        from assetmap.cli.openreferral import export_hsds

        return export_hsds(out)
    writer = write_geojson if format == "geojson" else write_csv
    with database() as db:
        if out == "-":
            count = writer(store.iter_assets(db), sys.stdout, public=public)
        else:
            # Written beside the target and renamed, so a failed export never leaves half a file.
            target = Path(out)
            partial = target.with_name(target.name + ".partial")
            newline = "" if format == "csv" else None
            with partial.open("w", encoding="utf-8", newline=newline) as f:
                count = writer(store.iter_assets(db), f, public=public)
            partial.replace(target)
    if out != "-":
        click.echo(f"exported {count} assets to {out}")


# gunicorn answers over-long request lines and header fields itself, with a plain HTML page,
# before the app sees them (by default, lines over 4,094 bytes and fields over 8,190). These let
# every request within the app's own limits (web/security.py: 8 KB of address, 16 KB of
# headers) through, so that the refusal of a bigger one is the app's: JSON under /api/.
GUNICORN_LIMITS = (
    "--limit-request-line",
    "0",  # none of gunicorn's own: its largest, 8,190 bytes, is short of 8 KB plus the method
    "--limit-request-field_size",  # sic: gunicorn spells the option so
    "32768",
    "--limit-request-fields",
    "1000",
)


def gunicorn_arguments(
    host: str, port: int, workers: int, timeout: int, threads: int = 4
) -> list[str]:
    """gunicorn's command-line arguments for serving the app (after the program's name).

    Each worker process answers several requests at once in threads, so a long request (an
    import being checked) holds one thread, not a whole worker. No control socket: it is one
    per user by default, and two servers on one machine would fight over it.
    """
    return [
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--timeout",
        str(timeout),
        "--no-control-socket",
        *GUNICORN_LIMITS,
        "--access-logfile",
        "-",
        "assetmap:create_app()",
    ]


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Gunicorn worker processes.",
)
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Threads in each worker: requests each worker answers at once.",
)
@click.option(
    "--timeout",
    default=300,
    show_default=True,
    type=click.IntRange(30, 3600),
    help="Seconds a request may take before gunicorn restarts its worker. Large imports run "
    "in the background (ASSETMAP_IMPORT_BACKGROUND_ROWS), so requests stay short; the limit "
    "is a backstop, kept generous for a slow disk.",
)
def serve_command(host: str, port: int, workers: int, threads: int, timeout: int):
    """Serve the app with gunicorn (bringing the database schema up to date first).

    Example: assetmap serve --host 0.0.0.0 --port 8000 --workers 4
    """
    import shutil

    initialise_database()
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or "gunicorn"
    args = [gunicorn, *gunicorn_arguments(host, port, workers, timeout, threads)]
    click.echo(f"serving on http://{host}:{port}")
    os.execv(gunicorn, args) if os.path.isabs(gunicorn) else os.execvp(gunicorn, args)


COMMANDS = (init_command, load_command, export_command, serve_command)
