"""The one import pipeline: read, clean, validate, place, match, then preview or apply.

`preview` and `apply` run the same steps over the file, row by row in batches, against a
snapshot of the database that holds no lock (see assetmap.store.imports.session). A preview
writes nothing; an apply keeps what each row will write in a temporary file, then writes
everything in one short transaction and records the run, with the original file archived
beside the database, so it can be undone. Because the preview is the same code, its counts
are the apply's counts, and importing the same file again reports every row unchanged and
changes nothing.

Rows stream from the file through cleaning and validation to the database a batch at a time,
so memory stays flat however long the file; what later rows need to know about earlier ones
lives in the store's TEMP tables.
"""

from __future__ import annotations

import hashlib
import pickle
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing, nullcontext
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import IO

from assetmap.imports import columns as cols
from assetmap.imports import storage
from assetmap.imports.cleaning import PreparedRow, RowCleaner
from assetmap.imports.export import RejectedRowsWriter
from assetmap.imports.geocoding import Geocoder
from assetmap.imports.identity import Resolver
from assetmap.imports.limits import ImportLimits
from assetmap.imports.mapping import Mapping
from assetmap.imports.problems import DUPLICATE, ERROR, WARNING, ImportFileError
from assetmap.imports.readers import Table, batched, open_table
from assetmap.imports.report import DETAIL_LIMIT, ImportReport, RowChange
from assetmap.record.ids import plain_slug
from assetmap.record.validation import UK_BOUNDS
from assetmap.store import imports as store

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
    # How big a file may be (rows, columns, cells, unpacked size): see imports.limits.
    limits: ImportLimits = field(default_factory=ImportLimits)


@dataclass
class Progress:
    """How far an import has gone, for a progress bar: rows read from the file, checked
    (cleaned, validated, placed), matched to assets, and written; `stage` is one of STAGES.

    With worker processes reading runs ahead of checking; in one process they move together.
    `written` stays 0 until the one transaction at the end commits, when it becomes
    `to_write` (the rows are written all at once, so nothing in between is true).
    """

    stage: str = "reading"
    read: int = 0
    checked: int = 0
    matched: int = 0
    written: int = 0
    to_write: int | None = None


# reading and checking the rows; saving them in one transaction; finished.
STAGES = ("reading", "saving", "saved")


class Cancelled(Exception):
    """Raised by a progress callback to stop an import: nothing is written."""


ProgressCallback = Callable[[Progress], None]


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
    return plain_slug(PureWindowsPath(file_name).stem) or "import"


def preview(
    db,
    path: str | Path,
    options: ImportOptions | None = None,
    *,
    file_name: str | None = None,
    rejected: IO[str] | None = None,
    progress: ProgressCallback | None = None,
    on_stage: ProgressCallback | None = None,
) -> ImportReport:
    """What importing the file would do, changing nothing. ImportFileError if it cannot be read.

    `progress` is called after each batch of rows is checked (it may raise Cancelled to stop);
    `on_stage` when a stage of STAGES begins (it may raise Cancelled, except at "saved").
    Both receive a Progress.
    """
    return run(
        db,
        Path(path),
        options or ImportOptions(),
        apply=False,
        who="",
        file_name=file_name,
        rejected=rejected,
        progress=progress,
        on_stage=on_stage,
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
    progress: ProgressCallback | None = None,
    on_stage: ProgressCallback | None = None,
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
        on_stage=on_stage,
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
    progress: ProgressCallback | None = None,
    on_stage: ProgressCallback | None = None,
) -> ImportReport:
    """Preview or apply an import (see `preview` and `apply`).

    Both check every row against a snapshot of the database, holding no lock. An apply keeps
    what it found in a temporary file as it goes and writes it all at the end, in one short
    transaction: other writers wait only for that. If someone changed an asset the import
    relied on while it was being checked, it is checked again against the database as it now
    is (see `Checked.affected_by`).
    """
    file_name = file_name or path.name
    sha256 = file_sha256(path)
    if expected_sha256 and sha256 != expected_sha256:
        raise ImportFileError(
            "is not the file that was previewed (it has changed since); preview it again"
        )
    for attempt in range(1, CHECK_ATTEMPTS + 1):
        with _Spool(_spool_dir(db, archive_dir)) if apply else nullcontext() as spool:
            counts = Progress()
            if on_stage:
                on_stage(counts)
            report, checked = _check(
                db,
                path,
                options,
                sha256=sha256,
                file_name=file_name,
                rejected=rejected,
                progress=progress,
                spool=spool,
                counts=counts,
            )
            if not apply:
                return report
            counts.stage, counts.to_write = "saving", report.to_write
            if on_stage:
                on_stage(counts)  # a last chance to cancel before the write lock is taken
            try:
                report.run_id = _save(
                    db, path, report, checked, spool, who=who, archive_dir=archive_dir
                )
            except _ChangedMeanwhile as changed:
                if attempt == CHECK_ATTEMPTS or not _start_again(rejected):
                    raise ImportFileError(
                        f"could not be saved: {changed} changed the same assets each time it "
                        "was checked. Nothing was imported; import it again in a few minutes"
                    ) from None
                continue
            counts.stage, counts.written = "saved", report.to_write
            if on_stage:
                on_stage(counts)  # saved: too late to cancel, and it must not raise
            return report
    raise AssertionError("unreachable")  # pragma: no cover


# An apply whose assets someone changed while it was being checked is checked again, up to
# this many times in all; each time it checks only what it must against the new changes.
CHECK_ATTEMPTS = 3


@dataclass
class Checked:
    """What an apply relied on, to tell whether changes made while it was being checked (see
    store.changes_since) touch it: the assets it matched or adds, the (source, source_id)
    pairs and the postcodes of the assets it adds (a new asset there might have matched)."""

    seen_version: int
    source: str
    format: str
    asset_ids: set[str] = field(default_factory=set)
    new_keys: set[tuple[str, str]] = field(default_factory=set)
    new_postcodes: set[str] = field(default_factory=set)

    def remember(self, rows: list[store.RowWrite]) -> None:
        for row in rows:
            if row.asset_id is None or row.outcome == store.REJECTED:
                continue
            self.asset_ids.add(row.asset_id)
            if row.outcome == store.NEW:
                record = row.record
                if record.get("source_id"):
                    self.new_keys.add((record.get("source"), record["source_id"]))
                if record.get("postcode"):
                    self.new_postcodes.add(record["postcode"])

    def affected_by(self, changes: list[store.AssetChange]) -> list[str]:
        """The changed assets this import relied on, or could have matched."""
        return [
            change.asset_id
            for change in changes
            if change.asset_id in self.asset_ids
            or (change.source_id and (change.source, change.source_id) in self.new_keys)
            or (change.postcode and change.postcode in self.new_postcodes)
        ]


class _ChangedMeanwhile(Exception):
    def __init__(self, asset_ids: list[str]):
        shown = ", ".join(asset_ids[:5]) + (" and others" if len(asset_ids) > 5 else "")
        super().__init__(f"someone else ({shown})")


def _check(
    db,
    path: Path,
    options: ImportOptions,
    *,
    sha256: str,
    file_name: str,
    rejected: IO[str] | None,
    progress: ProgressCallback | None,
    spool: _Spool | None,
    counts: Progress,
) -> tuple[ImportReport, Checked]:
    """Read, clean, place and match every row against a snapshot, changing nothing; the
    rows' writes go to `spool` when applying."""
    mapping = options.mapping
    source = options.source or mapping.source or default_source(file_name)
    table = open_table(
        path,
        sheet=options.sheet or mapping.sheet,
        headings=mapping.headings(),
        limits=options.limits,
    )
    try:
        plan = cols.plan_columns(table.headers, mapping, gis=table.has_geometry)
        try:
            cols.check_required(plan, mapping, has_geometry=table.has_geometry)
        except ImportFileError as refused:
            if not table.notes:
                raise
            # "The workbook has 3 sheets ...": the table may be on one that was not read.
            message = f"{refused} {' '.join(table.notes)}"
            if isinstance(refused, cols.ColumnsRefused):  # still kept, to choose its columns
                raise cols.ColumnsRefused(
                    message, missing=refused.missing, places=refused.places
                ) from None
            raise ImportFileError(message) from None
        _check_postcodes_loaded(plan, table, Geocoder(db))
        report = ImportReport(
            file_name,
            sha256,
            format=table.description,
            source=source,
            unit=table.unit,
            applied=spool is not None,
            headers=list(table.headers),
            columns=_column_words(plan, table.unit),
            notes=table.notes + plan.notes,
            detail_limit=options.detail_limit,
        )
        rejects = None
        if rejected is not None:
            has_source = "source" in plan.targets()
            rejects = RejectedRowsWriter(
                rejected,
                table.headers,
                None if has_source else source,
                max_rows=options.limits.max_rows,
            )
        parallel = options.workers > 0 and path.stat().st_size >= options.parallel_min_bytes
        with store.session(db) as session:
            checked = Checked(session.seen_version, source, table.description)
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
            source_rows = _counted(table.rows, counts)
            if parallel:
                from assetmap.imports.parallel import prepared_in_workers

                prepared = prepared_in_workers(source_rows, cleaner, db.target, options.workers)
            else:
                prepared = (cleaner.clean(row) for row in source_rows)
            with closing(prepared):  # on any failure, worker processes stop at once
                for batch in batched(prepared, BATCH_ROWS):
                    counts.checked += len(batch)
                    rows = _resolve_batch(batch, resolver, report, rejects)
                    counts.matched += len(batch)
                    if spool is not None:
                        checked.remember(rows)
                        spool.add(rows)
                    if progress:
                        progress(counts)
            if not report.rows:
                raise ImportFileError(
                    "has column headings but no rows of assets under them; add the assets in "
                    "the rows below the headings, one asset to a row"
                )
            if hint := resolver.other_source_hint(report.rows):
                report.notes.append(hint)
    finally:
        table.close()
    return report, checked


def _save(
    db,
    path: Path,
    report: ImportReport,
    checked: Checked,
    spool: _Spool,
    *,
    who: str,
    archive_dir: Path | None,
) -> int:
    """Write a checked import in one transaction, with its archived file; the run's number.

    Raises _ChangedMeanwhile, writing nothing, when someone changed what the import relied on
    since it began checking. The archived copy is made inside the transaction, and old copies
    that no run refers to (left by an import killed before it committed) are removed there.
    """
    archived: Path | None = None  # set only when this import made the archived copy
    try:
        with store.writing(db, spool) as writes:
            affected = checked.affected_by(store.changes_since(db, checked.seen_version))
            if affected:
                raise _ChangedMeanwhile(affected)
            kept = None
            if archive_dir is not None:
                storage.remove_unclaimed(archive_dir, store.archived_names(db))
                kept, made = storage.archive(path, report.sha256, report.file_name, archive_dir)
                archived = kept if made else None
            run_id = writes.create_run(
                file_name=report.file_name,
                sha256=report.sha256,
                source=checked.source,
                format=checked.format,
                who=who,
                archived_as=kept.name if kept else None,
            )
            why = f"import run {run_id}: {report.file_name}"
            writes.write_rows(run_id, who=who, why=why)
            writes.finish_run(run_id, report.counts(), _details(report))
    except BaseException:
        if archived is not None:
            archived.unlink(missing_ok=True)  # the import failed, so nothing refers to it
        raise
    return run_id


def _start_again(rejected: IO[str] | None) -> bool:
    """Empty the rejected rows written so far, for checking again; False if that cannot be."""
    if rejected is None:
        return True
    try:
        rejected.seek(0)
        rejected.truncate()
    except (OSError, ValueError):
        return False
    return True


class _Spool:
    """The writes of an apply's checked rows, kept batch by batch in a temporary file with no
    name (so a killed import leaves nothing behind) until they are written, in file order."""

    def __init__(self, directory: Path | None):
        self.file = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 (closed on __exit__)
        self.batches = 0

    def add(self, rows: list[store.RowWrite]) -> None:
        pickle.dump(rows, self.file, protocol=pickle.HIGHEST_PROTOCOL)
        self.batches += 1

    def __iter__(self) -> Iterator[list[store.RowWrite]]:
        self.file.seek(0)
        for _ in range(self.batches):
            yield pickle.load(self.file)

    def __enter__(self) -> _Spool:
        return self

    def __exit__(self, *exc) -> None:
        self.file.close()


def _spool_dir(db, archive_dir: Path | None) -> Path | None:
    """Beside the database, on its disk (a temporary folder may be in memory); with a database
    that is not a file of ours (PostgreSQL), beside the kept import files, else the system's."""
    folder = store.database_folder(db)
    if folder is None and archive_dir is not None and archive_dir.is_dir():
        folder = archive_dir
    return folder


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


def _counted(rows, counts: Progress):
    """The file's rows, counted into `counts.read` as they are read."""
    for row in rows:
        counts.read += 1
        yield row


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
