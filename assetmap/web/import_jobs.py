"""Pages of background imports: a job's progress, its progress as JSON for polling, cancel.

Thin: the work is assetmap.imports.jobs. The import page (web/imports.py) hands a file over
ASSETMAP_IMPORT_BACKGROUND_ROWS rows to a job with `preview_in_background` and, on confirm,
`apply_in_background`, and sends the coordinator here. The page works without JavaScript (it
refreshes itself); with it, a small script polls the JSON and moves the bar. A job is the
coordinator's own, as the upload it works on is: another coordinator gets a 404, as for
someone else's preview. Finished imports are runs, which every coordinator sees.
"""

from __future__ import annotations

import time
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from assetmap.imports import jobs, parallel
from assetmap.imports.pending import Pending
from assetmap.settings import files_folder
from assetmap.store import jobs as store
from assetmap.store import postgres
from assetmap.store.connection import sqlite_path
from assetmap.web.db import get_db
from assetmap.web.guard import requires
from assetmap.web.security import CsrfOnlyForm

bp = Blueprint("import_jobs", __name__, url_prefix="/manage/imports/jobs")

# How often the page without JavaScript reloads, and the script polls, while a job runs.
REFRESH_SECONDS = 2


def job_settings() -> jobs.JobSettings:
    """What a worker needs, from the app's settings."""
    target = current_app.config["ASSETMAP_DB"]
    if not postgres.is_url(target):
        target = str(Path(sqlite_path(target)).resolve())
    return jobs.JobSettings(
        db_path=target,
        archive_dir=files_folder(current_app.config) / "imports",
        bounds=current_app.config["ASSETMAP_BOUNDS"],
        limits=current_app.config["ASSETMAP_IMPORT_LIMITS"],
        workers=parallel.default_workers(),
    )


def _large(pending: Pending) -> bool:
    threshold = current_app.config["ASSETMAP_IMPORT_BACKGROUND_ROWS"]
    return jobs.in_background(pending.path, pending.file_name, threshold)


def preview_in_background(pending: Pending):
    """For the upload view: a redirect to the job previewing a large upload, else None (the
    upload is small enough to preview within the request)."""
    if not _large(pending):
        return None
    job_id = jobs.queue_preview(get_db(), pending, job_settings())
    return redirect(url_for("import_jobs.show", job_id=job_id))


def still_previewing(pending: Pending):
    """For the preview and confirm views: a redirect to the job still previewing this upload
    (there is nothing to show or confirm until it is done), else None."""
    for job in store.for_upload(get_db(), pending.token):
        if job["kind"] == store.PREVIEW and job["state"] in (store.QUEUED, store.RUNNING):
            return redirect(url_for("import_jobs.show", job_id=job["id"]))
    return None


def apply_in_background(pending: Pending):
    """For the confirm view: a redirect to the job importing a large upload, else None."""
    if (previewing := still_previewing(pending)) is not None:
        return previewing
    if not _large(pending):
        return None
    job_id = jobs.queue_apply(get_db(), pending, job_settings())
    return redirect(url_for("import_jobs.show", job_id=job_id))


def _job_or_404(job_id: int) -> dict:
    db = get_db()
    jobs.fail_stale(db)
    job = store.get(db, job_id)
    if job is None or job["who"] != current_user.email:
        abort(404, description=f"There is no import {job_id} of yours to show.")
    return job


def _result_url(job: dict) -> str | None:
    if job["state"] == store.FAILED and job["stage"] == store.CHOOSE_COLUMNS:
        return url_for("import_mapping.columns", token=job["upload"])
    if job["state"] != store.DONE:
        return None
    if job["kind"] == store.APPLY and job["run_id"]:
        return url_for("imports.show_run", run_id=job["run_id"])
    if job["kind"] == store.PREVIEW and job["upload"]:
        return url_for("imports.show_preview", token=job["upload"])
    return None


def _as_json(job: dict) -> dict:
    counters = {name: job[name] for name in store.COUNTERS}
    return {
        "id": job["id"],
        "kind": job["kind"],
        "state": job["state"],
        "finished": job["state"] in store.FINISHED,
        "stage": job["stage"],
        **counters,
        "rows_total": job["rows_total"],
        "rows_to_write": job["rows_to_write"],
        "bar": jobs.bar(job),
        "status": jobs.describe(job),
        "message": job["message"],
        "result_url": _result_url(job),
    }


@bp.get("/<int:job_id>")
@requires("import_assets")
def show(job_id: int):
    """A background import: its progress, cancel, and where its result is when done."""
    job = _job_or_404(job_id)
    return render_template(
        "imports/job.html",
        form=CsrfOnlyForm(),
        job=job,
        bar=jobs.bar(job),
        status=jobs.describe(job),
        result_url=_result_url(job),
        choose_columns=job["stage"] == store.CHOOSE_COLUMNS,
        refresh_seconds=REFRESH_SECONDS,
    )


@bp.get("/<int:job_id>/progress.json")
@requires("import_assets")
def progress(job_id: int):
    """The job's progress, for the page's script to poll."""
    response = jsonify(_as_json(_job_or_404(job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<int:job_id>/cancel")
@requires("import_assets")
def cancel(job_id: int):
    """Stop the job at its next check; nothing is imported."""
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    job = _job_or_404(job_id)
    if job["stage"] in ("saving", "saved"):
        flash(
            f"The import of {job['file_name']} is already saving its rows, in one go that "
            "takes seconds, so it cannot be stopped now. Undo the run afterwards if need be."
        )
        return redirect(url_for("import_jobs.show", job_id=job_id))
    state = jobs.cancel(get_db(), job_id)
    if state is None:
        flash(f"The import of {job['file_name']} had already finished, so it was not cancelled.")
    elif state == store.CANCELLED:
        flash(f"Cancelled: nothing was imported from {job['file_name']}.")
    else:
        flash(
            f"Stopping the import of {job['file_name']}: it stops at its next check, within a "
            "second or two, and nothing is imported."
        )
    return redirect(url_for("import_jobs.show", job_id=job_id))


def your_import_jobs() -> list[dict]:
    """The signed-in coordinator's imports in the background (for the import page)."""
    db = get_db()
    jobs.fail_stale(db)
    found = store.list_for(db, current_user.email)
    for job in found:
        job["status"] = jobs.describe(job)
        job["result_url"] = _result_url(job)
    return found


_looked_at = {"when": 0.0}


def _start_worker_for_waiting_jobs() -> None:
    """On an import page, start this process's worker if jobs wait with no worker to run
    them (the server restarted since they were queued). Looked at every few seconds at most."""
    if request.blueprint not in ("imports", "import_jobs"):
        return
    if time.monotonic() - _looked_at["when"] < jobs.POLL_SECONDS:
        return
    _looked_at["when"] = time.monotonic()
    if store.has_queued(get_db()):
        jobs.ensure_worker(job_settings())


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_global(your_import_jobs)
    app.before_request(_start_worker_for_waiting_jobs)
