"""Commands for coordinator imports: `assetmap import FILE` and `assetmap imports list|show|undo`.

The command runs the same pipeline as the coordinators' import page (assetmap.imports): it
previews the file, prints every problem with its row, column, value and fix, asks, and then
imports the valid rows in one transaction.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from assetmap.cli import context
from assetmap.cli.db import database

if TYPE_CHECKING:
    from assetmap.imports import ImportReport
    from assetmap.imports.pipeline import Progress

CLI_DETAIL_LIMIT = 10_000
CHANGES_SHOWN = 50


def default_workers() -> int:
    """Worker processes for large files: only on a machine with cores to spare (see
    assetmap.imports.parallel.default_workers, which says what was measured)."""
    from assetmap.imports import parallel

    return parallel.default_workers()


def _who(who: str | None) -> str:
    return who or f"cli:{getpass.getuser()}"


def archive_dir() -> Path:
    """Where imported files are kept: imports/ in the files folder (ASSETMAP_FILES_DIR)."""
    from assetmap.settings import files_folder

    return files_folder(context.settings()) / "imports"


def _progress():
    """One updating line on the terminal, as the import page's progress shows: rows read,
    checked, matched and written. Nothing when standard error is not a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(counts: Progress) -> None:
        click.echo(f"\r{progress_line(counts)}\x1b[K", err=True, nl=False)

    return show


def progress_line(counts: Progress) -> str:
    """The progress line's words."""
    if counts.stage == "saving":
        return f"{counts.matched:,} rows checked; saving {counts.to_write or 0:,} in one go"
    if counts.stage == "saved":
        return f"{counts.matched:,} rows checked; {counts.written:,} saved"
    return f"{counts.read:,} rows read, {counts.checked:,} checked, {counts.matched:,} matched"


@click.command("import")
@click.argument("file", type=click.Path(exists=True, path_type=Path))
@click.option("--source", help="Source recorded on the assets (default: the file's name).")
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A mapping file naming columns and translating values (see docs/importing.md).",
)
@click.option(
    "--default",
    "defaults",
    multiple=True,
    metavar="FIELD=VALUE",
    help="A value for every row that does not give its own, such as --default kind=service "
    "--default strand=access_community_resources (repeatable; list fields take values "
    "separated by commas; wins over the mapping file's [defaults]).",
)
@click.option("--sheet", help="Workbook sheet, or GeoPackage or zipped-shapefile layer, to read.")
@click.option("--dry-run", is_flag=True, help="Show what would happen, and change nothing.")
@click.option("--yes", is_flag=True, help="Import without asking first.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the summary as JSON (imports only with --yes)."
)
@click.option(
    "--rejected",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the rejected rows to this CSV, with an error column, to fix and import again.",
)
@click.option("--who", help="Name recorded in history (default: cli:<your user name>).")
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    help="Processes besides this one that clean and validate the rows of large files, which "
    "this process then matches and writes (default: one a core but two, up to 4, so none on "
    "a 2-core machine, where they were measured to slow the import; 0 does everything in "
    "this process).",
)
def import_command(
    file: Path,
    source: str | None,
    mapping: Path | None,
    defaults: tuple[str, ...],
    sheet: str | None,
    dry_run: bool,
    yes: bool,
    as_json: bool,
    rejected: Path | None,
    who: str | None,
    workers: int | None,
):
    """Import assets from a spreadsheet or GIS file, after showing what would change.

    Reads CSV (any common encoding and delimiter), Excel .xlsx, GeoJSON, GeoPackage, zipped
    shapefiles, and Open Referral UK services: JSON (services, organizations or
    service_at_locations: one, a list, or saved pages) or an HSDS package (a .zip or folder
    of its CSVs). Headings are matched to fields by the aliases in docs/importing.md, or by a
    mapping file. Rows are matched to assets by the
    file's id column (with the source), or by name and postcode, so importing a file again
    changes nothing. Every problem is listed with its row, column, value and fix; rows with
    errors are rejected one by one and the rest can be imported in one transaction. Possible
    duplicates are imported and flagged for review. Each import is recorded and can be undone
    with `assetmap imports undo RUN`.

    Exits with status 1 when the file is refused or any row is rejected.

    Example: assetmap import audit.xlsx --source trafford-audit-2024 --rejected fix-these.csv

    Example: assetmap import food-banks.csv --default kind=service --default categories=food_support

    Example: assetmap import hsds/ --default kind=service --default strand=volunteer_peer_roles
    """
    import tempfile

    from assetmap.imports import ImportFileError, ImportOptions, load_mapping
    from assetmap.imports.mapping import parse_defaults
    from assetmap.imports.openreferral import folder_as_zip

    options = ImportOptions(
        source=source,
        sheet=sheet,
        bounds=context.settings()["ASSETMAP_BOUNDS"],
        detail_limit=CLI_DETAIL_LIMIT,
        workers=default_workers() if workers is None else workers,
        limits=context.settings()["ASSETMAP_IMPORT_LIMITS"],
    )
    if mapping is not None:
        try:
            options.mapping = load_mapping(mapping)
        except ImportFileError as e:
            _refuse(f"the mapping file {mapping.name} {e}", file, as_json)
    if defaults:
        try:
            options.mapping.defaults = {**options.mapping.defaults, **parse_defaults(defaults)}
        except ImportFileError as e:
            message = str(e).removeprefix("--default: ")
            raise click.BadParameter(message, param_hint="--default") from None
    with database() as db, tempfile.TemporaryDirectory() as folder:
        try:
            if file.is_dir():  # an HSDS package's folder: imported (and kept) as one .zip
                file = folder_as_zip(file, Path(folder))
            report = _run(db, file, options, dry_run, yes, as_json, rejected, _who(who))
        except ImportFileError as e:
            _refuse(f"{file.name} {e}", file, as_json)
    if report.rejected:
        sys.exit(1)


def _run(db, file, options, dry_run, yes, as_json, rejected_path, who) -> ImportReport:
    from assetmap.imports import apply, preview

    progress = _progress()
    rejected = rejected_path.open("w", encoding="utf-8", newline="") if rejected_path else None
    try:
        if yes and not dry_run:
            report = apply(
                db,
                file,
                options,
                who=who,
                archive_dir=archive_dir(),
                rejected=rejected,
                progress=progress,
                on_stage=progress,
            )
            _print(report, as_json)
            return report
        report = preview(db, file, options, rejected=rejected, progress=progress, on_stage=progress)
        if rejected is not None:
            rejected.close()
            rejected = None
        _print(report, as_json)
        if dry_run or as_json or not report.to_write:
            if not dry_run and not as_json:
                click.echo("Nothing to import.")
            return report
        question = f"Import {report.new} new and {report.changed} changed assets?"
        if not click.confirm(question, default=False):
            click.echo("Nothing was changed.")
            return report
        applied = apply(
            db,
            file,
            options,
            who=who,
            archive_dir=archive_dir(),
            expected_sha256=report.sha256,
            progress=progress,
            on_stage=progress,
        )
        click.echo(_done(applied))
        return applied
    finally:
        if rejected is not None:
            rejected.close()
        if progress:
            click.echo("\r\x1b[K", err=True, nl=False)


def _refuse(message: str, file: Path, as_json: bool):
    if as_json:
        click.echo(json.dumps({"file": file.name, "refused": message}, ensure_ascii=False))
        sys.exit(1)
    raise click.ClickException(message)


def _done(report: ImportReport) -> str:
    return (
        f"Imported as run {report.run_id}: {report.summary()}. "
        f"To undo it: assetmap imports undo {report.run_id}"
    )


def _print(report: ImportReport, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    heading = f"Imported as run {report.run_id}" if report.applied else "Preview, nothing changed"
    click.echo(f"{report.file_name}: {report.format}; source {report.source!r}")
    for note in report.all_notes():
        click.echo(f"note: {note}")
    for problem in report.problems:
        words = {"error": "rejected", "duplicate": "possible duplicate", "warning": "check"}
        click.echo(f"{words[problem.level]}: {problem}", err=problem.level == "error")
    if report.problems_not_listed:
        click.echo(
            f"... and {report.problems_not_listed:,} more problems; --rejected FILE writes every "
            "rejected row with its errors"
        )
    for change in report.changes[:CHANGES_SHOWN]:
        fields = "; ".join(
            f"{label}: {before} -> {after}" for label, before, after in change.fields
        )
        click.echo(
            f"changed: {report.unit} {change.row} ({change.name}, {change.asset_id}): {fields}"
        )
    more = len(report.changes) - CHANGES_SHOWN + report.changes_not_listed
    if more > 0:
        click.echo(f"... and {more:,} more changed assets")
    click.echo(f"{heading}: {report.summary()}")
    if report.applied and report.run_id is not None:
        click.echo(f"To undo it: assetmap imports undo {report.run_id}")


@click.group("imports")
def imports_group():
    """Import runs: list them, show one, undo one, prune their files, or write the template."""


@imports_group.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
def list_command(limit: int):
    """The most recent import runs, newest first.

    Example: assetmap imports list
    """
    from assetmap.store import imports as store

    with database() as db:
        runs = store.list_runs(db, limit=limit)
    if not runs:
        click.echo("No imports yet.")
    for run in runs:
        undone = f"; undone by {run['undone_by']} at {run['undone_at']}" if run["undone_at"] else ""
        click.echo(
            f"{run['id']}: {run['imported_at']} {run['imported_by']} {run['file_name']} "
            f"(source {run['source']}): {run['new_count']} new, {run['changed_count']} changed, "
            f"{run['unchanged_count']} unchanged, {run['rejected_count']} rejected, "
            f"{run['duplicate_count']} possible duplicates{undone}"
        )


@imports_group.command("show")
@click.argument("run_id", type=int)
@click.option(
    "--rejected",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the run's rejected rows to this CSV, with an error column.",
)
def show_command(run_id: int, rejected: Path | None):
    """One import run: its file, counts, notes and problems.

    Example: assetmap imports show 3 --rejected fix-these.csv
    """
    from assetmap.imports.export import RejectedRowsWriter, source_to_write
    from assetmap.imports.problems import Problem
    from assetmap.store import imports as store

    with database() as db:
        run = store.get_run(db, run_id)
        if run is None:
            raise click.ClickException(f"there is no import run {run_id}")
        click.echo(
            f"run {run['id']}: {run['file_name']} (sha256 {run['sha256']}), {run['format']}, "
            f"imported by {run['imported_by']} at {run['imported_at']}, source {run['source']}"
        )
        click.echo(
            f"{run['new_count']} new, {run['changed_count']} changed, {run['unchanged_count']} "
            f"unchanged, {run['rejected_count']} rejected, {run['duplicate_count']} possible "
            "duplicates"
        )
        if run["undone_at"]:
            click.echo(f"undone by {run['undone_by']} at {run['undone_at']}")
        for note in run["details"].get("notes", []):
            click.echo(f"note: {note}")
        for row in store.run_rows(db, run_id, with_problems=True):
            for problem in row["problems"]:
                shown = Problem.from_json(problem)
                click.echo(f"{shown.level}: {shown}")
        _echo_extra(db, run)
        if rejected is not None:
            with rejected.open("w", encoding="utf-8", newline="") as f:
                writer = RejectedRowsWriter(
                    f, run["details"].get("headers", []), source_to_write(run)
                )
                for row in store.run_rows(db, run_id, outcomes=(store.REJECTED,)):
                    writer.write(row["cells"] or [], row["problems"] or [])
            click.echo(f"wrote {writer.count} rejected rows to {rejected}")


@imports_group.command("undo")
@click.argument("run_id", type=int)
@click.option("--yes", is_flag=True, help="Undo without asking first.")
@click.option(
    "--force", is_flag=True, help="Undo even assets someone has changed since the import."
)
@click.option("--who", help="Name recorded in history (default: cli:<your user name>).")
def undo_command(run_id: int, yes: bool, force: bool, who: str | None):
    """Undo an import run: remove the assets it added and restore the ones it changed.

    Each asset gets back its version from just before the import, from its history; the undo
    is itself kept in history. It is refused if someone has changed those assets since, unless
    --force. Everything happens in one transaction.

    Example: assetmap imports undo 3
    """
    from assetmap.imports.undo import UndoRefused, undo_run
    from assetmap.store import imports as store

    with database() as db:
        run = store.get_run(db, run_id)
        if run is None:
            raise click.ClickException(f"there is no import run {run_id}")
        if not yes and not click.confirm(
            f"Undo run {run_id} ({run['file_name']}: {run['new_count']} new and "
            f"{run['changed_count']} changed assets)?",
            default=False,
        ):
            click.echo("Nothing was changed.")
            return
        try:
            result = undo_run(db, run_id, who=_who(who), force=force)
        except UndoRefused as e:
            hint = " (add --force to undo anyway)" if e.conflicts else ""
            raise click.ClickException(f"{e}{hint}") from None
    click.echo(f"Undid run {run_id}: {result.summary()}.")


@imports_group.command("prune")
@click.option(
    "--keep-days",
    default=365,
    show_default=True,
    type=click.IntRange(0, 100_000),
    help="Keep the archived files of runs imported within this many days.",
)
def prune_command(keep_days: int):
    """Remove the archived copies of files imported more than --keep-days ago.

    The runs themselves stay (their counts, problems, rejected rows and undo, which works from
    the assets' history); only the copy of the file goes. Copies no run refers to, and uploads
    nobody confirmed within a day, go too. Import files count against ASSETMAP_IMPORT_FILES_MB.

    Example: assetmap imports prune --keep-days 90
    """
    from assetmap.imports import storage
    from assetmap.imports.pending import PendingUploads

    with database() as db:
        pruned = storage.prune(db, archive_dir(), keep_days=keep_days)
    PendingUploads(archive_dir() / "pending").discard_old()
    click.echo(f"Pruned import files: {pruned.summary()}.")


@imports_group.command("template")
@click.argument("out", type=click.Path(dir_okay=False, allow_dash=True), default="-")
def template_command(out: str):
    """Write the import template (a CSV with the headings the import knows) to OUT.

    Example: assetmap imports template audit-template.csv
    """
    import csv

    from assetmap.imports.columns import TEMPLATE_FIELDS

    stream = sys.stdout if out == "-" else open(out, "w", encoding="utf-8", newline="")  # noqa: SIM115
    try:
        csv.writer(stream, lineterminator="\r\n").writerow(TEMPLATE_FIELDS)
    finally:
        if stream is not sys.stdout:
            stream.close()


COMMANDS = (import_command, imports_group)


EXTRA_SHOWN = 20


def _echo_extra(db, run: dict) -> None:
    """The first rows' extra information (columns that feed no field), which the run keeps."""
    from assetmap.store import imports as store

    unit = run["details"].get("unit", "row")
    kept = [
        row
        for row in store.run_rows(
            db, run["id"], outcomes=(store.NEW, store.CHANGED, store.UNCHANGED)
        )
        if row["extra"]
    ]
    for row in kept[:EXTRA_SHOWN]:
        words = "; ".join(f"{heading}: {value}" for heading, value in row["extra"].items())
        click.echo(f"{unit} {row['row_no']}, extra information: {words}")
    if len(kept) > EXTRA_SHOWN:
        click.echo(
            f"(and {len(kept) - EXTRA_SHOWN:,} more {unit}s with extra information, all kept with "
            "the run)"
        )
