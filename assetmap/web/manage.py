"""Coordinators' pages: the list of every asset, creating and editing one, archiving it,
and its history with a field-level diff and "restore this version"."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from assetmap.record import form as asset_form
from assetmap.record import history, taxonomy
from assetmap.record import ids as asset_ids
from assetmap.record.fields import BY_HAND, POSITION_SOURCES
from assetmap.record.validation import validate_asset
from assetmap.store import assets as store
from assetmap.web.db import get_db
from assetmap.web.guard import requires
from assetmap.web.security import CsrfOnlyForm

bp = Blueprint("manage", __name__, url_prefix="/manage")

PAGE_SIZE = 100


def _asset_or_404(asset_id: str) -> dict:
    record = store.get_asset(get_db(), asset_id)
    if record is None:
        abort(404, description=f"There is no asset with id {asset_id!r}.")
    return record


@bp.get("/assets")
@requires("edit_assets")
def asset_list():
    """Every asset, archived and closed ones too, with a name search."""
    text = request.args.get("q", "").strip()[:200] or None
    show_archived = request.args.get("archived") == "yes"
    try:
        page = max(int(request.args.get("page", "1")), 1)
    except ValueError:
        page = 1
    listing = store.AssetFilter(
        include_closed=True, include_archived=show_archived, name_contains=text
    )
    records, total = store.list_assets(
        get_db(), listing, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render_template(
        "manage/list.html",
        assets=records,
        total=total,
        q=text or "",
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        show_archived=show_archived,
        strands=taxonomy.STRANDS_BY_SLUG,
    )


def _render_form(
    record: dict,
    errors: dict,
    *,
    asset_id: str | None,
    status: int = 200,
    raw: dict | None = None,
):
    refused = {name: raw.get(name) for name in errors} if raw else None
    schedule = raw["schedule"] if raw and "schedule" in errors else record.get("schedule")
    return render_template(
        "manage/edit.html",
        form=CsrfOnlyForm(),
        form_fields=asset_form.FORM_FIELDS,
        values=asset_form.form_values(record, refused),
        schedule_rows=asset_form.schedule_rows(schedule),
        errors=errors,
        asset_id=asset_id,
        reason=request.form.get("reason", ""),
        position=taxonomy.label(POSITION_SOURCES, record.get("position_source")),
    ), status


def _submitted(existing: dict | None):
    """Validate the submitted form; returns (record, errors, raw), raw being what was typed."""
    raw = asset_form.form_to_raw(request.form)
    result = validate_asset(raw, bounds=current_app.config["ASSETMAP_BOUNDS"])
    record = result.record
    if existing is not None:
        for name in asset_form.NOT_ON_FORM:
            record[name] = existing[name]
    return record, result.errors, raw


@bp.route("/assets/new", methods=["GET", "POST"])
@requires("edit_assets")
def create_asset():
    """A new asset; it gets an id made from its name and postcode."""
    form = CsrfOnlyForm()
    if request.method == "GET":
        return _render_form(validate_asset({}).record, {}, asset_id=None)
    if not form.validate_on_submit():
        abort(400)
    record, errors, raw = _submitted(None)
    if errors:
        return _render_form(record, errors, asset_id=None, status=400, raw=raw)
    record["source"] = "manual"
    db = get_db()
    record["id"] = asset_ids.unused_id(
        asset_ids.asset_id(record), lambda taken: store.get_asset(db, taken) is not None
    )
    store.save_asset(
        get_db(), record, who=current_user.email, why=request.form.get("reason") or "created"
    )
    flash(f"Added {record['name']}.")
    return redirect(url_for("public.asset_page", asset_id=record["id"]))


@bp.route("/assets/<asset_id>/edit", methods=["GET", "POST"])
@requires("edit_assets")
def edit_asset(asset_id: str):
    """Change an asset; errors are shown beside each field and nothing typed is lost."""
    existing = _asset_or_404(asset_id)
    form = CsrfOnlyForm()
    if request.method == "GET":
        return _render_form(existing, {}, asset_id=asset_id)
    if not form.validate_on_submit():
        abort(400)
    record, errors, raw = _submitted(existing)
    if errors:
        return _render_form(record, errors, asset_id=asset_id, status=400, raw=raw)
    outcome = store.save_asset(
        get_db(),
        record,
        who=current_user.email,
        why=request.form.get("reason") or None,
        moved=BY_HAND,
    )
    flash("No changes to save." if outcome == store.UNCHANGED else f"Saved {record['name']}.")
    return redirect(url_for("public.asset_page", asset_id=asset_id))


@bp.post("/assets/<asset_id>/archive")
@requires("edit_assets")
def archive_asset(asset_id: str):
    """Archive (or, with archived=no, bring back) an asset."""
    _asset_or_404(asset_id)
    archived = request.form.get("archived", "yes") != "no"
    store.set_archived(
        get_db(),
        asset_id,
        archived,
        who=current_user.email,
        why=request.form.get("reason") or ("archived" if archived else "unarchived"),
    )
    flash(
        "Archived: it no longer shows on public pages or in search."
        if archived
        else "Brought back from the archive."
    )
    return redirect(url_for("public.asset_page", asset_id=asset_id))


@bp.get("/assets/<asset_id>/history")
@requires("edit_assets")
def asset_history(asset_id: str):
    """Who changed what and when, newest first, with each change field by field."""
    changes = store.history(get_db(), asset_id)
    if not changes:
        abort(404, description=f"There is no history for an asset with id {asset_id!r}.")
    entries = [
        {**change, "fields": history.changes(change["previous"], change["record"])}
        for change in changes
    ]
    current = store.get_asset(get_db(), asset_id)
    return render_template(
        "manage/history.html",
        asset_id=asset_id,
        entries=entries,
        current=current,
        form=CsrfOnlyForm(),
    )


@bp.post("/assets/<asset_id>/history/<int:version_id>/restore")
@requires("edit_assets")
def restore_version(asset_id: str, version_id: int):
    """Make the asset as it was just after the chosen change."""
    change = next(
        (c for c in store.history(get_db(), asset_id) if c["version_id"] == version_id), None
    )
    if change is None or change["record"] is None:
        abort(404, description="There is no such version of this asset to restore.")
    outcome = store.restore_version(get_db(), version_id, who=current_user.email)
    flash(
        "That version is already the current one."
        if outcome == store.UNCHANGED
        else "Restored that version. The change is in the history, so it can be undone."
    )
    return redirect(url_for("manage.asset_history", asset_id=asset_id))
