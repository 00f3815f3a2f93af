"""Commands for Open Referral UK packages (HSDS tables): writing one, and checking one.

`assetmap export hsds OUT` (the export command, in cli/assets.py, hands its hsds format to
`export_hsds` here) writes the directory as a package; `assetmap openreferral check PACKAGE`
reads one and says what of it a service uses, row by row, without touching the database.
"""

from __future__ import annotations

from pathlib import Path

import click

from assetmap.cli import context
from assetmap.cli.db import database


def export_hsds(out: str) -> None:
    """Write the published assets (closed ones as defunct services, archived ones not at all),
    public fields only, as an Open Referral UK package: OUT a .zip or a new folder."""
    from assetmap.openreferral import taxonomy
    from assetmap.openreferral.package import published_services, write_package

    if out == "-":
        raise click.UsageError(
            "hsds writes several files: give OUT as a .zip file or a new folder, not -"
        )
    base_url = context.settings()["ASSETMAP_SITE_URL"].rstrip("/")
    with database() as db:
        services = list(published_services(db, base_url=base_url))
    try:
        rows = write_package(services, out, taxonomy.every_taxonomy(base_url))
    except FileExistsError as error:
        raise click.ClickException(f"Nothing was written: {error}.") from None
    except OSError as error:
        raise click.ClickException(
            f"Nothing was written: {error.strerror or error} ({error.filename or out})."
        ) from None
    tables = sum(1 for name, count in rows.items() if count and name.endswith(".csv"))
    click.echo(
        f"exported {len(services)} services (published assets, public fields) in {tables} "
        f"tables with rows to {out}"
    )


@click.group("openreferral")
def openreferral_group():
    """Open Referral UK 3.0 packages (HSDS tables). `assetmap export hsds OUT` writes one."""


@openreferral_group.command("check")
@click.argument("package", type=click.Path(exists=True, path_type=Path))
@click.option("--all-rows", is_flag=True, help="List every row, used ones too.")
def check_command(package: Path, all_rows: bool):
    """Read an HSDS package (a folder or .zip of the standard's CSVs) and say what of it makes
    a service: each file's rows, and every row no service uses, with why. Nothing is saved.

    Exits with status 1 when the package cannot be read at all.

    Example: assetmap openreferral check neighbours-hsds.zip
    """
    from assetmap.imports.problems import ImportFileError
    from assetmap.openreferral.package import read_package

    try:
        services, accounting = read_package(package, context.settings()["ASSETMAP_IMPORT_LIMITS"])
    except ImportFileError as error:
        raise click.ClickException(f"{package.name} {error}") from None
    click.echo(f"{package.name}: {len(services)} services; {accounting.summary()}")
    for name in sorted({r.file for r in accounting.rows}):
        rows = accounting.in_file(name)
        used = sum(1 for r in rows if r.used)
        click.echo(f"  {name}: {len(rows)} rows, {used} used")
    for row in accounting.rows:
        if all_rows or not row.used:
            state = f"used by {len(row.services)} services" if row.used else "not used"
            note = f": {row.reason}" if row.reason else ""
            click.echo(f"{row.file} row {row.number} ({state}){note}")
    for problem in accounting.problems:
        click.echo(f"problem: {problem}")
    for name in accounting.files_not_read:
        click.echo(f"not read (not a table): {name}")


COMMANDS = (openreferral_group,)
