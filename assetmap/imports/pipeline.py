"""The one import pipeline: read, clean, validate, place, match, then preview or apply.

`preview` and `apply` run the same steps over the file, row by row in batches. A preview
writes nothing (see assetmap.store.imports.session); an apply writes everything in one
transaction and records the run, with the original file archived beside the database, so it
can be undone. Because the preview is the same code, its counts are the apply's counts, and
importing the same file again reports every row unchanged and changes nothing.

Rows stream from the file through cleaning and validation to the database a batch at a time,
so memory stays flat however long the file; what later rows need to know about earlier ones
lives in the store's TEMP tables.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PureWindowsPath
from typing import IO

from assetmap.imports import columns as cols
from assetmap.imports.cleaning import PreparedRow, RowCleaner
from assetmap.imports.export import RejectedRowsWriter
from assetmap.imports.geocoding import Geocoder
from assetmap.imports.identity import Resolver
from assetmap.imports.mapping import Mapping
from assetmap.imports.problems import DUPLICATE, ERROR, WARNING, ImportFileError
from assetmap.imports.readers import Table, batched, open_table
from assetmap.imports.report import DETAIL_LIMIT, ImportReport, RowChange
from assetmap.store import imports as store
from assetmap.store.assets import slugify
from assetmap.validation import UK_BOUNDS

BATCH_ROWS = 500
# Below this size a file is prepared in this process: starting workers costs about a second.
PARALLEL_MIN_BYTES = 4 * 1024 * 1024


@dataclass
class ImportOptions:
    """How to read a file. Every part is optional; the mapping file may also set source and
    sheet, and what is given here wins."""

    source: str | None = None
    mapping: Mapping = field(default_factory=Mapping)
    sheet: str | None = None
    bounds: tuple[float, float, float, float] | None = UK_BOUNDS
    detail_limit: int = DETAIL_LIMIT
    # Processes besides this one that clean and validate rows; with any, one more writes them
    # (see parallel). Only for files of parallel_min_bytes and more.
    workers: int = 0
    parallel_min_bytes: int = PARALLEL_MIN_BYTES


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def default_source(file_name: str) -> str:
    """The source recorded on assets when none is given: the file's name without extension."""
    # PureWindowsPath splits at either slash: some browsers send C:\Users\jo\audit.csv.
    return slugify(PureWindowsPath(file_name).stem) or "import"


def preview(
    db,
    path: str | Path,
    options: ImportOptions | None = None,
    *,
    file_name: str | None = None,
    rejected: IO[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """What importing the file would do, changing nothing. ImportFileError if it cannot be read."""
    return run(
        db,
        Path(path),
        options or ImportOptions(),
        apply=False,
        who="",
        file_name=file_name,
        rejected=rejected,
        progress=progress,
    )


def apply(
    db,
    path: str | Path,
    options: ImportOptions | None = None,
    *,
    who: str,
    archive_dir: str | Path | None = None,
    file_name: str | None = None,
    expected_sha256: str | None = None,
    rejected: IO[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import the file's valid rows in one transaction and record the run.

    `archive_dir` is where the original file is kept (instance/imports beside the database).
    `expected_sha256` refuses a file that is not the one previewed.
    """
    return run(
        db,
        Path(path),
        options or ImportOptions(),
        apply=True,
        who=who,
        archive_dir=Path(archive_dir) if archive_dir else None,
        file_name=file_name,
        expected_sha256=expected_sha256,
        rejected=rejected,
        progress=progress,
    )


def run(
    db,
    path: Path,
    options: ImportOptions,
    *,
    apply: bool,
    who: str,
    archive_dir: Path | None = None,
    file_name: str | None = None,
    expected_sha256: str | None = None,
    rejected: IO[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Preview or apply an import (see `preview` and `apply`)."""
    file_name = file_name or path.name
    sha256 = file_sha256(path)
    if expected_sha256 and sha256 != expected_sha256:
        raise ImportFileError(
            "is not the file that was previewed (it has changed since); preview it again"
        )
    mapping = options.mapping
    source = options.source or mapping.source or default_source(file_name)
    table = open_table(path, sheet=options.sheet or mapping.sheet, headings=mapping.headings())
    archived: Path | None = None  # set only when this import made the archived copy
    try:
        plan = cols.plan_columns(table.headers, mapping, gis=table.has_geometry)
        try:
            cols.check_required(plan, mapping, has_geometry=table.has_geometry)
        except ImportFileError as refused:
            if not table.notes:
                raise
            # "The workbook has 3 sheets ...": the table may be on one that was not read.
            raise ImportFileError(f"{refused} {' '.join(table.notes)}") from None
        _check_postcodes_loaded(plan, table, Geocoder(db))
        report = ImportReport(
            file_name,
            sha256,
            format=table.description,
            source=source,
            unit=table.unit,
            applied=apply,
            headers=list(table.headers),
            columns=_column_words(plan, table.unit),
            notes=table.notes + plan.notes,
            detail_limit=options.detail_limit,
        )
        rejects = None
        if rejected is not None:
            has_source = "source" in plan.targets()
            rejects = RejectedRowsWriter(rejected, table.headers, None if has_source else source)
        parallel = options.workers > 0 and path.stat().st_size >= options.parallel_min_bytes
        remote_writes = None
        if parallel:
            from assetmap.imports.parallel import prepared_in_workers, writes_in_process

            db_path = db.conn.execute("PRAGMA database_list").fetchone()[2]
            remote_writes = partial(writes_in_process, db_path)
        with store.session(db, apply=apply, writes=remote_writes) as session:
            cleaner = RowCleaner(
                plan,
                mapping,
                source=source,
                unit=table.unit,
                bounds=options.bounds,
                geocoder=Geocoder(session.reader),
            )
            resolver = Resolver(
                session.reader,
                bounds=options.bounds,
                unit=table.unit,
                id_column=plan.column_for("id") or plan.column_for("source_id"),
                name_column=plan.column_for("name"),
                has_source_column="source" in plan.targets(),
            )
            writes = session.writes
            run_id = None
            if writes is not None:
                kept, made = _archive(path, sha256, file_name, archive_dir)
                archived = kept if made else None
                run_id = writes.create_run(
                    file_name=file_name,
                    sha256=sha256,
                    source=source,
                    format=table.description,
                    who=who,
                    archived_as=kept.name if kept else None,
                )
            why = f"import run {run_id}: {file_name}"
            if parallel:
                prepared = prepared_in_workers(table.rows, cleaner, db_path, options.workers)
            else:
                prepared = _prepared(table, cleaner)
            with closing(prepared):  # on any failure, worker processes stop at once
                for batch in batched(prepared, BATCH_ROWS):
                    rows = _resolve_batch(batch, resolver, report, rejects)
                    if writes is not None:
                        writes.write_rows(run_id, rows, who=who, why=why)
                    if progress:
                        progress(report.rows)
            if not report.rows:
                raise ImportFileError(
                    "has column headings but no rows of assets under them; add the assets in "
                    "the rows below the headings, one asset to a row"
                )
            if hint := resolver.other_source_hint(report.rows):
                report.notes.append(hint)
            if writes is not None:
                writes.finish_run(run_id, report.counts(), _details(report))
            report.run_id = run_id
    except BaseException:
        if archived is not None:
            archived.unlink(missing_ok=True)  # the import failed, so nothing refers to it
        raise
    finally:
        table.close()
    return report


def _check_postcodes_loaded(plan: cols.ColumnPlan, table: Table, geocoder: Geocoder) -> None:
    targets = plan.targets()
    has_coordinates = (
        table.has_geometry
        or {"lat", "lon"} <= targets
        or {cols.EASTING, cols.NORTHING} <= targets
        or cols.COORDINATES in targets
    )
    if not has_coordinates and not geocoder.has_postcodes():
        raise ImportFileError(
            "has no coordinates (no lat and lon, or easting and northing, columns), so each "
            "asset would be placed from its postcode, but no postcodes have been loaded yet. "
            "An administrator can load them with `assetmap postcodes load FILE`; or add lat and "
            "lon columns to the file"
        )


def _column_words(plan: cols.ColumnPlan, unit: str) -> list[dict]:
    """Each column and what it feeds, for the preview's table of columns."""
    words = []
    for column in plan.columns:
        if column.target == cols.EXTRA:
            feeds = "kept as extra information"
        elif column.target == cols.IGNORE:
            feeds = "ignored"
        elif column.target == cols.VALUES:
            feeds = "translated by the mapping file"
        elif column.target in cols.PSEUDO_FIELDS:
            feeds = cols.PSEUDO_FIELDS[column.target]
        else:
            feeds = column.target
        words.append(
            {
                "letter": column.letter if unit == "row" else "",
                "heading": column.label,
                "feeds": feeds,
                "how": column.how,
            }
        )
    return words


def _prepared(table: Table, cleaner: RowCleaner) -> Iterator[PreparedRow]:
    for source_row in table.rows:
        yield cleaner.clean(source_row)


def _resolve_batch(
    batch: list[PreparedRow],
    resolver: Resolver,
    report: ImportReport,
    writer: RejectedRowsWriter | None,
) -> list[store.RowWrite]:
    """Match a batch's rows, count and report them, and say what each writes."""
    writes = []
    for row, resolution in zip(batch, resolver.resolve_batch(batch), strict=True):
        if row.blank:
            report.blank += 1
            continue
        report.rows += 1
        report.facts.update(row.facts)
        outcome = resolution.outcome if resolution else store.REJECTED
        if outcome == store.REJECTED:
            report.rejected += 1
            if writer is not None:
                writer.write(row.cells, row.problems)
        elif outcome == store.NEW:
            report.new += 1
        elif outcome == store.CHANGED:
            report.changed += 1
            report.add_change(
                RowChange(
                    row.number,
                    resolution.asset_id,
                    resolution.record["name"],
                    [(c.label, c.before, c.after) for c in resolution.changes],
                )
            )
        else:
            report.unchanged += 1
        if resolution is not None and resolution.duplicate_of:
            report.possible_duplicates += 1
        if outcome != store.REJECTED and any(p.level == WARNING for p in row.problems):
            report.with_warnings += 1
        report.add_problems(sorted(row.problems, key=_level_order))
        writes.append(
            store.RowWrite(
                row.number,
                outcome,
                asset_id=resolution.asset_id if resolution else None,
                record=resolution.record if resolution else None,
                existing=resolution.existing if resolution else None,
                duplicate_of=resolution.duplicate_of if resolution else None,
                problems=[p.to_json() for p in row.problems] or None,
                extra=row.extra or None,
                cells=_json_cells(row.cells) if outcome == store.REJECTED else None,
            )
        )
    return writes


def _level_order(problem) -> int:
    return {ERROR: 0, DUPLICATE: 1, WARNING: 2}.get(problem.level, 3)


def _json_cells(cells: list) -> list:
    from assetmap.imports.export import cell_text

    return [None if c is None else cell_text(c) for c in cells]


def _details(report: ImportReport) -> dict:
    """What a run's page shows besides its counts."""
    return {
        "headers": report.headers,
        "columns": report.columns,
        "notes": report.all_notes(),
        "unit": report.unit,
        "with_warnings": report.with_warnings,
        "blank": report.blank,
        "changes": [c.to_json() for c in report.changes],
        "changes_not_listed": report.changes_not_listed,
    }


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _archive(
    path: Path, sha256: str, file_name: str, archive_dir: Path | None
) -> tuple[Path | None, bool]:
    """Keep the original file, named by its hash; returns it and whether this call made it."""
    if archive_dir is None:
        return None, False
    archive_dir.mkdir(parents=True, exist_ok=True)
    safe = _UNSAFE_NAME.sub("-", Path(file_name).name).strip("-.")[:80] or "import"
    target = archive_dir / f"{sha256[:16]}-{safe}"
    if target.exists():
        return target, False
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(path, partial)
    partial.replace(target)
    return target, True
