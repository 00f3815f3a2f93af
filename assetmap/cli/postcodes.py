"""Commands for the local postcode table: `assetmap postcodes load` and `postcodes find`.

Searches are placed from this table, so no postcode ever leaves the server for a lookup.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from assetmap.cli.db import database, initialise_database
from assetmap.search.postcodes import (
    LoadReport,
    PostcodeError,
    PostcodeFileError,
    locate_postcode,
    read_postcode_file,
)
from assetmap.store import postcodes as store
from assetmap.store.assets import transaction


@click.group("postcodes")
def postcodes_group():
    """The local postcode table that places searches (load it once, then rarely)."""


@postcodes_group.command("load")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@with_appcontext
def load_command(files: tuple[Path, ...]):
    """Load postcodes from FILES into the postcode table, adding new ones and updating moved ones.

    Reads the ONS Postcode Directory CSV (full: pcds, lat, long; or an extract with postcode,
    lat and lon) and OS Code-Point Open area files (no header; British National Grid, converted
    to WGS84). The layout is recognised from the first line. Each file is loaded in one
    transaction, so a file that fails part-way changes nothing; loading a file again gives the
    same table. Rows without a position are skipped and counted with the reason. The database
    is made, or brought up to date, first.

    Example: assetmap postcodes load data/postcodes/trafford_postcodes_onspd_2022-06_lsoa11.csv
    """
    initialise_database()
    with database() as db:
        for file in files:
            report = _load_file(db, file)
            click.echo(_summary(file, report))
        click.echo(f"the postcode table holds {store.count_postcodes(db):,} postcodes")


def _load_file(db, file: Path) -> LoadReport:
    report = LoadReport()
    size = file.stat().st_size
    bar = click.progressbar(
        length=size, label=f"loading {file.name}", file=sys.stderr, show_pos=False
    )
    try:
        with bar, transaction(db):
            done = 0
            for batch, position in read_postcode_file(file, report):
                store.save_postcodes(db, batch)
                bar.update(min(position, size) - done)
                done = min(position, size)
    except PostcodeFileError as e:
        raise click.ClickException(f"{file} {e}") from None
    except UnicodeDecodeError as e:
        raise click.ClickException(f"{file} is not UTF-8 text ({e.reason})") from None
    return report


def _summary(file: Path, report: LoadReport) -> str:
    skipped = sum(report.skipped.values())
    lines = [
        f"{file}: {report.layout}",
        f"  {report.read:,} rows read, {report.loaded:,} loaded, {skipped:,} skipped",
    ]
    for reason, count in report.skipped.most_common():
        lines.append(
            f"  skipped {count:,}: {reason} (such as {'; '.join(report.examples[reason])})"
        )
    return "\n".join(lines)


@postcodes_group.command("find")
@click.argument("postcode")
@with_appcontext
def find_command(postcode: str):
    """Show where a postcode, sector or district is placed, and how.

    Example: assetmap postcodes find "M33 7ZF"
    """
    with database() as db:
        try:
            location = locate_postcode(db, postcode)
        except PostcodeError as e:
            raise click.ClickException(e.message) from None
    click.echo(f"{location.lat:.6f}, {location.lon:.6f}: {location.words}")


COMMANDS = (postcodes_group,)
