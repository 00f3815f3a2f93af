"""The coordinators' feeds page: other publishers' Open Referral UK APIs, added and synced.

Thin: the work is assetmap.openreferral.sync, as for `assetmap feeds`. "Sync now" reads the
feed's services into a file kept as a pending upload under the feed's source, and shows the
import's own preview (web/imports.py), where the coordinator confirms or cancels; the run the
confirm makes counts as the feed's sync (openreferral.sync.settle finds it by the file).
"""

from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from assetmap.imports import ImportFileError, storage
from assetmap.imports.columns import ColumnsRefused
from assetmap.openreferral import sync
from assetmap.openreferral.feeds import FeedError
from assetmap.web import import_jobs, import_mapping
from assetmap.web import imports as import_page
from assetmap.web.db import get_db
from assetmap.web.guard import requires
from assetmap.web.security import CsrfOnlyForm

bp = Blueprint("feeds", __name__, url_prefix="/manage/feeds")

# A page is read while the coordinator waits: a shorter wait and fewer tries than the
# command's (a slow publisher is better synced from cron with `assetmap feeds sync`).
# A sync on the page reads within the request, so it is held to a minute in all; a bigger
# publisher is synced from the command line or cron.
WEB_FETCH = {"timeout": 10.0, "retries": 1, "backoff": 1.0, "max_seconds": 60.0}


def _index(errors: dict | None = None, status: int = 200):
    return render_template(
        "feeds/index.html",
        form=CsrfOnlyForm(),
        feeds=sync.list_feeds(get_db()),
        errors=errors or {},
        values=request.form if request.method == "POST" else {},
    ), status


@bp.get("/")
@requires("import_assets")
def index():
    """The feeds, when each was last synced and its last error, and the form to add one."""
    return _index()


@bp.post("/")
@requires("import_assets")
def add():
    """Add a feed after checking that its address answers as an ORUK API."""
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    url = request.form.get("url", "").strip()[:2000]
    name = request.form.get("name", "").strip()[:100]
    errors = {}
    if not url:
        errors["url"] = "Enter the address of the publisher's Open Referral UK API."
    if not name:
        errors["name"] = "Enter a name for the feed, such as salford-directory."
    if errors:
        return _index(errors, 400)
    try:
        feed, words = sync.add_feed(
            get_db(), url, name, who=current_user.email, timeout=WEB_FETCH["timeout"]
        )
    except FeedError as e:
        return _index({"name" if isinstance(e, sync.FeedNameError) else "url": f"{e}."}, 400)
    flash(f"Added the feed {feed['name']} ({words}). Sync it to preview its services.")
    return redirect(url_for("feeds.index"))


@bp.post("/sync")
@requires("import_assets")
def sync_now():
    """Read a feed's services and show the import's preview of them, to confirm or cancel."""
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    db = get_db()
    name = request.form.get("feed", "")
    try:
        feed = sync.get_feed(db, name)
        limits = current_app.config["ASSETMAP_IMPORT_LIMITS"]
        got = sync.read(db, feed, max_bytes=int(limits.max_uncompressed_mb * 1024**2), **WEB_FETCH)
    except FeedError as e:
        flash(f"{name} was not synced: {e}.")
        return redirect(url_for("feeds.index"))
    if not got.fetched.services:
        sync.nothing_changed(db, got)
        flash(f"{feed['name']}: nothing has changed since the last sync; nothing to import.")
        return redirect(url_for("feeds.index"))
    archive = import_page._archive_dir()
    try:
        storage.check_room(archive, len(got.data), import_page._quota_bytes())
    except storage.NoRoom as e:
        flash(f"{feed['name']} was not synced: {e}")
        return redirect(url_for("feeds.index"))
    uploads = import_page._pending()
    pending = uploads.save(
        io.BytesIO(got.data),
        got.file_name,
        uploaded_by=current_user.email,
        options={"source": feed["name"], "sheet": "", "mapping_name": ""},
    )
    sync.waiting_for_confirm(db, got)
    import_mapping.use_saved_mapping(db, pending)
    if (job := import_jobs.preview_in_background(pending)) is not None:
        return job
    try:
        import_page.preview_now(pending)
    except ColumnsRefused as e:
        return import_mapping.refused(pending, f"{pending.file_name} {e}.")
    except ImportFileError as e:
        uploads.discard(pending.token)
        flash(f"{feed['name']} was not synced: {sync.refused(db, got, e)}.")
        return redirect(url_for("feeds.index"))
    except storage.AnotherImport as e:
        uploads.discard(pending.token)
        flash(str(e))
        return redirect(url_for("feeds.index"))
    return redirect(url_for("imports.show_preview", token=pending.token))
