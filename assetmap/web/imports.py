"""The coordinators' import page: upload, preview, confirm, download rejected rows, undo.

Thin: the work is assetmap.imports, the same pipeline as `assetmap import`. An upload is kept
under instance/imports/pending/<token> (assetmap.imports.pending) so the preview and the
confirm can be separate requests; the confirm runs the pipeline again on the same file and
refuses it if its SHA-256 has changed. The request size limit (ASSETMAP_MAX_UPLOAD_MB) is
Flask's MAX_CONTENT_LENGTH, answered by the 413 page.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user

from assetmap.imports import ImportFileError, ImportOptions, apply, load_mapping, preview, storage
from assetmap.imports.columns import TEMPLATE_FIELDS, ColumnsRefused
from assetmap.imports.export import RejectedRowsWriter, source_to_write
from assetmap.imports.mapping import Mapping
from assetmap.imports.pending import Pending, PendingUploads
from assetmap.imports.problems import Problem
from assetmap.imports.undo import UndoRefused, changed_since, undo_run
from assetmap.settings import files_folder
from assetmap.store import imports as store
from assetmap.web import import_jobs, import_mapping
from assetmap.web.db import get_db
from assetmap.web.guard import requires
from assetmap.web.security import CsrfOnlyForm

bp = Blueprint("imports", __name__, url_prefix="/manage/imports")

ROWS_SHOWN = 1000
ACCEPTED = ".csv,.tsv,.txt,.xlsx,.geojson,.json,.gpkg,.zip"


def _instance_dir() -> Path:
    return files_folder(current_app.config)


def _archive_dir() -> Path:
    return _instance_dir() / "imports"


def _quota_bytes() -> int:
    return int(current_app.config["ASSETMAP_IMPORT_FILES_MB"] * 1024**2)


def _pending() -> PendingUploads:
    return PendingUploads(_archive_dir() / "pending")


def _pending_or_404(token: str) -> Pending:
    pending = _pending().get(token, uploaded_by=current_user.email)
    if pending is None:
        abort(
            404,
            description="This preview has expired or was not started by you. Upload the file "
            "again to see a new preview.",
        )
    return pending


def _options(pending: Pending) -> ImportOptions:
    """The options chosen at upload, with the mapping: a file sent with it, one chosen on the
    page, or one saved for the source (assetmap.web.import_mapping)."""
    mapping = Mapping()
    if pending.mapping_path.exists():
        mapping = load_mapping(pending.mapping_path)
        mapping.file_name = pending.options.get("mapping_name") or None
    return ImportOptions(
        source=pending.options.get("source") or None,
        sheet=pending.options.get("sheet") or None,
        mapping=mapping,
        bounds=current_app.config["ASSETMAP_BOUNDS"],
        limits=current_app.config["ASSETMAP_IMPORT_LIMITS"],
    )


def _index(errors: dict | None = None, status: int = 200):
    return render_template(
        "imports/index.html",
        form=CsrfOnlyForm(),
        runs=store.list_runs(get_db(), limit=50),
        saved_mappings=import_mapping.saved_mappings.newest_of_each(get_db()),
        errors=errors or {},
        values=request.form if request.method == "POST" else {},
        accepted=ACCEPTED,
        max_mb=current_app.config["ASSETMAP_MAX_UPLOAD_MB"],
    ), status


@bp.get("/")
@requires("import_assets")
def index():
    """The upload form and the recent import runs."""
    return _index()


@bp.post("/")
@requires("import_assets")
def upload():
    """Keep the uploaded file, preview its import, and show the preview."""
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _index({"file": "Choose a file to import."}, 400)
    try:  # before the upload is kept, by the size the browser says it is
        storage.check_room(_archive_dir(), request.content_length or 0, _quota_bytes())
    except storage.NoRoom as e:
        return _index({"file": str(e)}, 413)
    options = {
        "source": request.form.get("source", "").strip()[:100],
        "sheet": request.form.get("sheet", "").strip()[:100],
        "mapping_name": "",
    }
    uploads = _pending()
    pending = uploads.save(
        upload.stream, upload.filename, uploaded_by=current_user.email, options=options
    )
    try:  # and after, by what it was (a request need not say its size)
        storage.check_room(_archive_dir(), 0, _quota_bytes())
    except storage.NoRoom as e:
        uploads.discard(pending.token)
        return _index({"file": str(e)}, 413)
    mapping_upload = request.files.get("mapping")
    if mapping_upload is not None and mapping_upload.filename:
        uploads.save_mapping(pending, mapping_upload.stream)
        pending.options["mapping_name"] = Path(mapping_upload.filename).name
    else:  # the mapping chosen on the page for this source before, if any
        import_mapping.use_saved_mapping(get_db(), pending)
    try:
        _options(pending)  # a mapping that does not read is said before the file is read
    except ImportFileError as e:  # the file is kept: choose the columns on the page instead
        named = pending.options["mapping_name"] or f"saved for {import_mapping.source_of(pending)}"
        return import_mapping.refused(pending, f"The mapping file {named} {e}.", bad_mapping=True)
    if (job := import_jobs.preview_in_background(pending)) is not None:
        return job  # a large file: previewed by a background job (web/import_jobs.py)
    try:
        preview_now(pending)
    except ColumnsRefused as e:  # the file is kept: choose what its columns hold on the page
        return import_mapping.refused(pending, f"{pending.file_name} {e}.")
    except ImportFileError as e:
        uploads.discard(pending.token)
        return _index({"file": f"{pending.file_name} {e}."}, 400)
    except storage.AnotherImport as e:
        uploads.discard(pending.token)
        page, status = _index({"file": str(e)}, 503)
        return page, status, {"Retry-After": "60"}
    return redirect(url_for("imports.show_preview", token=pending.token))


def preview_now(pending: Pending) -> None:
    """Preview an upload small enough to check within the request (larger ones go to a
    background job), keeping its report and rejected rows beside it. Raises what the preview
    raises: ImportFileError (ColumnsRefused among them) or storage.AnotherImport."""
    with (
        storage.one_at_a_time(_archive_dir()),
        pending.rejected_path.open("w", encoding="utf-8", newline="") as rejected,
    ):
        report = preview(
            get_db(),
            pending.path,
            _options(pending),
            file_name=pending.file_name,
            rejected=rejected,
        )
    pending.report = report.to_json()
    pending.save()


@bp.get("/preview/<token>")
@requires("import_assets")
def show_preview(token: str):
    """What the import would do, with every problem, before anything changes."""
    pending = _pending_or_404(token)
    if (job := import_jobs.still_previewing(pending)) is not None:
        return job  # a large file whose preview is still being made in the background
    report = pending.report or {}
    return render_template(
        "imports/preview.html",
        form=CsrfOnlyForm(),
        pending=pending,
        report=report,
        problems=[Problem.from_json(p) for p in report.get("problems", [])],
    )


@bp.post("/preview/<token>/confirm")
@requires("import_assets")
def confirm(token: str):
    """Import the previewed file's valid rows in one transaction."""
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    pending = _pending_or_404(token)
    if (job := import_jobs.apply_in_background(pending)) is not None:
        return job  # a large file: imported by a background job (web/import_jobs.py)
    try:
        with storage.one_at_a_time(_archive_dir()):
            report = apply(
                get_db(),
                pending.path,
                _options(pending),
                who=current_user.email,
                archive_dir=_archive_dir(),
                file_name=pending.file_name,
                expected_sha256=pending.sha256,
            )
    except storage.AnotherImport as e:
        flash(str(e))  # the preview is kept, to confirm again
        return redirect(url_for("imports.show_preview", token=token))
    except ImportFileError as e:
        _pending().discard(token)
        flash(f"Nothing was imported: {pending.file_name} {e}.")
        return redirect(url_for("imports.index"))
    saved = import_mapping.remember_mapping(
        get_db(), pending, report.source, who=current_user.email
    )
    _pending().discard(token)
    flash(f"Imported {pending.file_name}: {report.summary()}.{saved}")
    return redirect(url_for("imports.show_run", run_id=report.run_id))


@bp.post("/preview/<token>/cancel")
@requires("import_assets")
def cancel(token: str):
    """Throw the uploaded file away without importing it."""
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    pending = _pending_or_404(token)
    _pending().discard(token)
    flash(f"Cancelled: nothing was imported from {pending.file_name}.")
    return redirect(url_for("imports.index"))


def _csv_download(path_or_text, file_name: str) -> Response:
    # Only plain characters: the name goes into a header, and came from someone's upload.
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(file_name).stem).strip("-.")[:60] or "import"
    name = f"{stem}-rejected-rows.csv"
    if isinstance(path_or_text, Path):
        return send_file(path_or_text, mimetype="text/csv", as_attachment=True, download_name=name)
    response = Response(path_or_text, content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/preview/<token>/rejected.csv")
@requires("import_assets")
def pending_rejected(token: str):
    """The rows the preview would reject, with an error column, to fix and upload again."""
    pending = _pending_or_404(token)
    if not pending.rejected_path.exists():
        abort(404, description="There are no rejected rows for this preview.")
    return _csv_download(pending.rejected_path, pending.file_name)


def _run_or_404(run_id: int) -> dict:
    run = store.get_run(get_db(), run_id)
    if run is None:
        abort(404, description=f"There is no import run {run_id}.")
    return run


@bp.get("/runs/<int:run_id>")
@requires("import_assets")
def show_run(run_id: int):
    """One import run: what it did, every problem, the assets it touched, and undo."""
    run = _run_or_404(run_id)
    db = get_db()
    rows = list(store.run_rows(db, run_id, with_problems=True, limit=ROWS_SHOWN))
    problems = [Problem.from_json(p) for row in rows for p in row["problems"]]
    touched = list(store.run_rows(db, run_id, outcomes=(store.NEW, store.CHANGED), limit=500))
    conflicts = [] if run["undone_at"] else changed_since(db, run_id)
    return render_template(
        "imports/run.html",
        form=CsrfOnlyForm(),
        run=run,
        problems=problems,
        touched=touched,
        conflicts=conflicts,
        rows_shown=ROWS_SHOWN,
    )


@bp.get("/runs/<int:run_id>/rejected.csv")
@requires("import_assets")
def run_rejected(run_id: int):
    """A run's rejected rows, with an error column, to fix and import again."""
    run = _run_or_404(run_id)
    out = io.StringIO()
    writer = RejectedRowsWriter(out, run["details"].get("headers", []), source_to_write(run))
    for row in store.run_rows(get_db(), run_id, outcomes=(store.REJECTED,)):
        writer.write(row["cells"] or [], row["problems"] or [])
    return _csv_download(out.getvalue(), run["file_name"])


@bp.post("/runs/<int:run_id>/undo")
@requires("import_assets")
def undo(run_id: int):
    """Remove the assets a run added and restore the ones it changed, in one transaction."""
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    _run_or_404(run_id)
    force = request.form.get("force") == "yes"
    try:
        result = undo_run(get_db(), run_id, who=current_user.email, force=force)
    except UndoRefused as e:
        flash(f"Not undone: {e}.")
        return redirect(url_for("imports.show_run", run_id=run_id))
    flash(
        f"Undid import run {run_id}: {result.summary()}. The undo is kept in each asset's history."
    )
    return redirect(url_for("imports.show_run", run_id=run_id))


@bp.get("/template.csv")
@requires("import_assets")
def template():
    """The import template: a CSV with the headings the import knows (docs/importing.md)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(TEMPLATE_FIELDS)
    # content_type, not mimetype: Flask adds "; charset=utf-8" to a text mimetype a second time.
    response = Response(out.getvalue(), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="assetmap-import-template.csv"'
    return response
