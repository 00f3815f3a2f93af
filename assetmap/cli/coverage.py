"""Commands for coverage: `assetmap areas load|need|population|list` and `assetmap coverage`.

Boundaries, deprivation and population are open data published for every English area; a
coordinator loads their borough's once, and `assetmap coverage` then says, area by area and
strand by strand, how many assets are within a walk of where people live.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from assetmap.cli import context
from assetmap.cli.db import database
from assetmap.record.taxonomy import STRANDS, STRANDS_BY_SLUG


class _Levels(click.Choice):
    """The levels of areas (assetmap.coverage.areas.LEVELS) as a choice, read when an option
    is parsed or its help shown rather than when this module is imported: the areas' module
    loads the import limits and readers, which `assetmap --help` and the other commands need
    not wait for (issue 19)."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        from assetmap.coverage.areas import LEVELS

        return tuple(LEVELS)

    @choices.setter
    def choices(self, value) -> None:
        pass  # always LEVELS'


_FILE = click.Path(exists=True, path_type=Path)
_LEVEL = _Levels()


@click.group("areas")
def areas_group():
    """Areas (LSOA, MSOA, ward), their deprivation and population, for the coverage figures."""


@areas_group.command("load")
@click.argument("file", type=_FILE)
@click.option("--level", type=_LEVEL, required=True, help="The level of the file's areas.")
@click.option("--code-column", help="The column of ONS area codes, if not recognised.")
@click.option("--name-column", help="The column of area names, if not recognised.")
def load_areas_command(file: Path, level: str, code_column: str | None, name_column: str | None):
    """Load the boundaries in FILE (GeoJSON, GeoPackage or zipped shapefile) as the areas of
    LEVEL, replacing that level's areas. Loading the same file again changes nothing.

    Example: assetmap areas load lsoa_2011_trafford.geojson --level lsoa
    """
    from assetmap.coverage.areas import AreaFileError, read_areas
    from assetmap.store import areas as store
    from assetmap.store.assets import now, transaction

    try:
        read = read_areas(file, level, code_column=code_column, name_column=name_column)
    except AreaFileError as error:
        raise click.ClickException(f"{file} {error}; nothing was loaded") from None
    for note in read.notes:
        click.echo(f"note: {note}")
    with database() as db, transaction(db):
        before, after = store.replace_areas(
            db, level, ((a.code, a.name, a.geometry) for a in read.areas), now()
        )
        # The review queue and the freshness report then use these wards too.
        from assetmap.freshness.wards import wards_from_boundaries

        placed = wards_from_boundaries(db) if level == "ward" else None
    click.echo(f"{file.name}: {after:,} {level} areas loaded (there were {before:,})")
    if placed is not None:
        click.echo(f"  {placed:,} postcodes placed in these wards (for the review queue)")


@areas_group.command("need")
@click.argument("file", type=_FILE)
@click.option("--sheet", help="The workbook's sheet, if not the first (IMD2019 in File 1).")
def load_need_command(file: Path, sheet: str | None):
    """Load the Index of Multiple Deprivation 2019 (rank and decile by LSOA) from FILE: File 1
    or File 7 as CSV or workbook, or the long layout of the Open Data Communities download.

    Example: assetmap areas need File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv
    """
    from assetmap.coverage.figures import read_need
    from assetmap.store import areas as store

    _load_figures(file, sheet, read_need, store.save_need, "deprivation", "LSOAs")


@areas_group.command("population")
@click.argument("file", type=_FILE)
@click.option("--sheet", help="The workbook's sheet of persons, if not the first.")
def load_population_command(file: Path, sheet: str | None):
    """Load the ONS mid-year population estimates (persons of all ages by area code) from
    FILE, for every level the file holds.

    Example: assetmap areas population mid-year_population_estimates_all_geographies.csv
    """
    from assetmap.coverage.figures import read_population
    from assetmap.store import areas as store

    _load_figures(file, sheet, read_population, store.save_population, "population", "areas")


def _load_figures(file: Path, sheet: str | None, read, save, what: str, unit: str) -> None:
    """Read figures by area code from FILE and save them in one transaction, or nothing."""
    from assetmap.coverage.areas import AreaFileError
    from assetmap.store.assets import transaction

    try:
        figures = read(file, sheet=sheet)
    except AreaFileError as error:
        raise click.ClickException(f"{file} {error}; nothing was loaded") from None
    with database() as db, transaction(db):
        new, changed = save(db, figures.values)
    click.echo(
        f"{file.name}: {what} for {len(figures.values):,} {unit} ({new:,} new, {changed:,} changed)"
    )


@areas_group.command("list")
def list_areas_command():
    """Say which levels of areas are loaded and how many areas each has.

    Example: assetmap areas list
    """
    from assetmap.store import areas as store

    with database() as db:
        loaded = store.levels(db)
    if not loaded:
        click.echo("no areas loaded: assetmap areas load FILE --level lsoa")
    for level, count in loaded.items():
        click.echo(f"{level}: {count:,} areas")


@click.command("coverage")
@click.option("--level", type=_LEVEL, default="lsoa", show_default=True)
@click.option(
    "--strand",
    type=click.Choice([s.slug for s in STRANDS]),
    help="Rank by this strand's gap (default: the first strand).",
)
@click.option("--kind", "kinds", multiple=True, help="Count only assets of this kind. Repeat.")
@click.option("--minutes", type=click.IntRange(1, 120), help="The walk, in minutes.")
@click.option("--out", type=click.Path(dir_okay=False, allow_dash=True), default="-")
def coverage_command(level, strand, kinds, minutes, out):
    """Write each area's reach by strand, highest gap first, as CSV (to OUT, or the screen).

    For each area: its postcodes, population, IMD rank and decile, the assets inside it per
    1,000 residents, and for each strand the share of its postcodes with an asset within the
    walk, the mean number within the walk, and the gap score (need x (1 - share)).

    Example: assetmap coverage --level lsoa --strand volunteer_peer_roles --out gaps.csv
    """
    from assetmap.coverage.report import compute_coverage, write_coverage_csv

    strand = strand or STRANDS[0].slug
    minutes = minutes or context.settings()["ASSETMAP_COVERAGE_WALK_MINUTES"]
    with database() as db:
        coverage = compute_coverage(db, level, kinds, minutes)
    if coverage is None:
        raise click.ClickException(
            f"no {level} areas are loaded: run assetmap areas load FILE --level {level}"
        )
    if coverage.estimated:
        click.echo(
            f"note: {coverage.estimated:,} {level} areas have no published population; theirs "
            "is estimated from their LSOAs' (each LSOA's persons shared among its postcodes)",
            err=True,
        )
    results = coverage.ranked(strand)
    if out == "-":
        write_coverage_csv(results, sys.stdout, coverage.wards)
    else:
        target = Path(out)
        partial = target.with_name(target.name + ".partial")
        with partial.open("w", encoding="utf-8", newline="") as f:
            write_coverage_csv(results, f, coverage.wards)
        partial.replace(target)
        click.echo(
            f"{len(results):,} {level} areas, ranked by the gap for "
            f"{STRANDS_BY_SLUG[strand].label}, written to {target}",
            err=True,
        )


COMMANDS = (areas_group, coverage_command)
