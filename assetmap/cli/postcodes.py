"""Commands for the local postcode table: `assetmap postcodes load` and `postcodes find`.

Searches are placed from this table, so no postcode ever leaves the server for a lookup.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from assetmap.cli.db import database, initialise_database

if TYPE_CHECKING:
    from assetmap.search.postcodes import LoadReport


@click.group("postcodes")
def postcodes_group():
    """The local postcode table that places searches (load it once, then rarely)."""


@postcodes_group.command("load")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--complete-for",
    "complete_for",
    multiple=True,
    metavar="AREA",
    help="A postcode area (WA), district (WA15) or sector (WA15 0) the files hold every "
    "postcode of. Repeat for more.",
)
@click.option(
    "--partial",
    is_flag=True,
    help="The files are extracts: hold no area in full, whatever their layout.",
)
def load_command(files: tuple[Path, ...], complete_for: tuple[str, ...], partial: bool):
    """Load postcodes from FILES into the postcode table, adding new ones and updating moved ones.

    Reads the ONS Postcode Directory CSV (full: pcds, lat, long; or an extract with postcode,
    lat and lon) and OS Code-Point Open area files (no header; British National Grid, converted
    to WGS84). The layout is recognised from the first line. Each file is loaded in one
    transaction, so a file that fails part-way changes nothing; loading a file again gives the
    same table. Rows without a position are skipped and counted with the reason. The database
    is made, or brought up to date, first.

    An import places a postcode missing from the table at its sector's or district's centre
    only when the table holds that area in full. The ONS Postcode Directory (national, or its
    file per postcode area) and Code-Point Open (a file per area) are published whole, so
    each postcode area they hold is recorded as held in full; any other CSV (such as a
    borough's extract) holds nothing in full unless --complete-for says so. --partial says an
    ONSPD or Code-Point file is an extract.

    Example: assetmap postcodes load data/postcodes/trafford_postcodes_onspd_2022-06_lsoa11.csv
    """
    from assetmap.freshness.wards import load_wards, wards_from_boundaries
    from assetmap.store import postcodes as store
    from assetmap.store.assets import transaction

    areas = [_area(text) for text in complete_for]
    initialise_database()
    with database() as db:
        for file in files:
            report, complete = _load_file(db, file, areas, partial=partial)
            click.echo(_summary(file, report))
            held = ", ".join(complete) if complete else "none (an extract)"
            click.echo(f"  areas held in full: {held}")
            with transaction(db):  # the ward of each postcode, for the review queue
                if (placed := wards_from_boundaries(db)) is not None:
                    click.echo(f"  wards: {placed:,} postcodes in the loaded ward boundaries")
                elif wards := load_wards(db, file):
                    click.echo(f"  wards: {wards:,} postcodes' wards kept")
        click.echo(f"the postcode table holds {store.count_postcodes(db):,} postcodes")


def _area(text: str) -> str:
    """A postcode area, district or sector as --complete-for gives it, in canonical form."""
    from assetmap.search.postcodes import PostcodeError, parse_postcode_query

    cleaned = " ".join(text.upper().split())
    if re.fullmatch(r"[A-Z]{1,2}", cleaned):
        return cleaned
    try:
        query = parse_postcode_query(cleaned)
    except PostcodeError:
        query = None
    if query is None or query.postcode is not None:
        raise click.BadParameter(
            f"{text!r} is not a postcode area (WA), district (WA15) or sector (WA15 0)",
            param_hint="--complete-for",
        )
    return query.sector or query.district


def _load_file(db, file: Path, areas: list[str], *, partial: bool) -> tuple[LoadReport, list]:
    """Load one file in one transaction, recording which areas it holds in full."""
    from assetmap.search.postcodes import (
        CODE_POINT,
        ONSPD,
        LoadReport,
        PostcodeFileError,
        postcode_area,
        read_postcode_file,
    )
    from assetmap.store import postcodes as store
    from assetmap.store.assets import now, transaction

    report = LoadReport()
    size = file.stat().st_size
    bar = click.progressbar(
        length=size, label=f"loading {file.name}", file=sys.stderr, show_pos=False
    )
    found_areas: set[str] = set()
    try:
        with bar, transaction(db):
            done = 0
            for batch, position in read_postcode_file(file, report):
                store.save_postcodes(db, batch)
                found_areas.update(postcode_area(row[0]) for row in batch)
                bar.update(min(position, size) - done)
                done = min(position, size)
            complete = set(areas)
            # Layouts published only whole: the national file or one file per postcode area.
            if report.layout in (ONSPD, CODE_POINT) and not partial:
                complete |= found_areas
            store.record_file(
                db,
                file_name=file.name,
                layout=report.layout,
                postcodes=report.loaded,
                complete_areas=complete,
                loaded_at=now(),
            )
    except PostcodeFileError as e:
        raise click.ClickException(f"{file} {e}") from None
    except UnicodeDecodeError as e:
        raise click.ClickException(f"{file} is not UTF-8 text ({e.reason})") from None
    return report, sorted(complete)


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


@postcodes_group.command("status")
def status_command():
    """Show what the postcode table holds: the files loaded, how many postcodes, each district
    with its count, and which areas are held in full (where a postcode missing from the table
    may be placed at its sector's or district's centre; elsewhere it is refused).

    Example: assetmap postcodes status
    """
    from assetmap.search.postcodes import postcode_coverage
    from assetmap.store import postcodes as store

    with database() as db:
        files = store.loaded_files(db)
        counts = store.district_counts(db)
        coverage = postcode_coverage(db)
    total = sum(count for _, count in counts)
    if not total:
        click.echo(
            "the postcode table is empty: load a file with `assetmap postcodes load FILE` "
            "(the ONS Postcode Directory, or data/postcodes/ for Trafford)"
        )
        return
    click.echo(f"the postcode table holds {total:,} postcodes in {len(counts):,} districts")
    click.echo("files loaded:")
    for file in files:
        held = ", ".join(file["complete_areas"]) or "none (an extract)"
        click.echo(
            f"  {file['file_name']}: {file['postcodes']:,} postcodes, {file['layout']}, "
            f"loaded {file['loaded_at']}; held in full: {held}"
        )
    if not files:
        click.echo("  none recorded (loaded before files were recorded; load them again)")
    click.echo("districts (postcodes; * held in full):")
    for district, count in counts:
        mark = " *" if coverage.holds_district_in_full(district) else ""
        click.echo(f"  {district}: {count:,}{mark}")
    if not coverage.complete:
        click.echo(
            "no area is held in full, so a postcode missing from the table cannot be placed at "
            "its district's centre; load the national ONS Postcode Directory to cover the "
            "whole country"
        )


@postcodes_group.command("find")
@click.argument("postcode")
def find_command(postcode: str):
    """Show where a postcode, sector or district is placed, and how.

    Example: assetmap postcodes find "M33 7ZF"
    """
    from assetmap.search.postcodes import PostcodeError, locate_postcode

    with database() as db:
        try:
            location = locate_postcode(db, postcode)
        except PostcodeError as e:
            raise click.ClickException(e.message) from None
    click.echo(f"{location.lat:.6f}, {location.lon:.6f}: {location.words}")


COMMANDS = (postcodes_group,)
