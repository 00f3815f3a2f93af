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
    version: int | None = None,
    conflict: dict | None = None,
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
        version=version,
        conflict=conflict,
        reason=request.form.get("reason", ""),
        position=taxonomy.label(POSITION_SOURCES, record.get("position_source")),
    ), status


def _opened_version() -> int | None:
    """The version of the asset the page was opened at (its hidden `version` field), or None
    for a request that does not carry one (a page from before versions, or a script), which
    saves as before."""
    text = request.form.get("version")
    if text is None:
        return None
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 18):  # a 64-bit number
        abort(
            400,
            description="The form's version is not a number. Open the page again, then save.",
        )
    return int(text)


def _conflict(conflict: store.EditConflict) -> dict:
    """What the person is told about the changes made since they opened the page: who made
    them, when the last was made, and each field that differs (as it was -> as it is now)."""
    changes = conflict.changes
    people = list(dict.fromkeys(change["changed_by"] for change in changes))
    last = changes[-1] if changes else None
    return {
        "people": people,
        "when": last["changed_at"] if last else None,
        "deleted": last is not None and last["record"] is None,
        "count": len(changes),
        "fields": []
        if last is None or last["record"] is None
        else history.changes(changes[0]["previous"], last["record"]),
    }


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


def _deleted_since_opened(asset_id: str, opened_at: int | None) -> dict:
    """The asset's last version when it was deleted while its form was open (an import
    undone meanwhile): the save then shows the conflict (the version differs), and saving
    again brings it back with the values typed, rather than losing them to a 404."""
    changes = store.history(get_db(), asset_id)
    if opened_at is None or not changes or changes[0]["action"] != store.DELETE:
        abort(404, description=f"There is no asset with id {asset_id!r}.")
    return changes[0]["previous"]


@bp.route("/assets/<asset_id>/edit", methods=["GET", "POST"])
@requires("edit_assets")
def edit_asset(asset_id: str):
    """Change an asset; errors are shown beside each field and nothing typed is lost.

    The form carries the version it was opened at. If someone else saved the asset since,
    nothing is saved: the form comes back (409) with what was typed, who changed what and when,
    and the new version, so that saving again applies these values over theirs on purpose.
    """
    existing, version = store.get_asset_and_version(get_db(), asset_id)
    form = CsrfOnlyForm()
    if request.method == "GET":
        if existing is None:
            abort(404, description=f"There is no asset with id {asset_id!r}.")
        return _render_form(existing, {}, asset_id=asset_id, version=version)
    if not form.validate_on_submit():
        abort(400)
    opened_at = _opened_version()
    if existing is None:
        existing = _deleted_since_opened(asset_id, opened_at)
    record, errors, raw = _submitted(existing)
    if errors:  # still the version it was opened at: fixing a typo does not skip the check
        return _render_form(
            record, errors, asset_id=asset_id, status=400, raw=raw, version=opened_at
        )
    who, why = current_user.email, request.form.get("reason") or None
    try:
        if opened_at is None:
            outcome = store.save_asset(get_db(), record, who=who, why=why, moved=BY_HAND)
        else:
            outcome = store.save_asset_at_version(
                get_db(), record, opened_at, who=who, why=why, moved=BY_HAND
            )
    except store.EditConflict as conflict:
        return _render_form(
            record,
            {},
            asset_id=asset_id,
            status=409,
            version=conflict.version,
            conflict=_conflict(conflict),
        )
    flash("No changes to save." if outcome == store.UNCHANGED else f"Saved {record['name']}.")
    return redirect(url_for("public.asset_page", asset_id=asset_id))


@bp.post("/assets/<asset_id>/archive")
@requires("edit_assets")
def archive_asset(asset_id: str):
    """Archive (or, with archived=no, bring back) an asset.

    With the page's `version`, nothing is done when the asset changed since the page was
    opened: the history page says who changed what (409), and the person decides again."""
    existing = _asset_or_404(asset_id)
    archived = request.form.get("archived", "yes") != "no"
    why = request.form.get("reason") or ("archived" if archived else "unarchived")
    opened_at = _opened_version()
    if opened_at is None:
        store.set_archived(get_db(), asset_id, archived, who=current_user.email, why=why)
    else:
        try:
            store.save_asset_at_version(
                get_db(),
                {**existing, "archived": archived},
                opened_at,
                who=current_user.email,
                why=why,
            )
        except store.EditConflict as conflict:
            refused = "Not archived" if archived else "Not brought back from the archive"
            return _history_page(asset_id, conflict=_conflict(conflict), refused=refused)
    flash(
        "Archived: it no longer shows on public pages or in search."
        if archived
        else "Brought back from the archive."
    )
    return redirect(url_for("public.asset_page", asset_id=asset_id))


def _history_page(asset_id: str, *, conflict: dict | None = None, refused: str | None = None):
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
        version=changes[0]["version_id"],
        conflict=conflict,
        refused=refused,
        form=CsrfOnlyForm(),
    ), 409 if conflict else 200


@bp.get("/assets/<asset_id>/history")
@requires("edit_assets")
def asset_history(asset_id: str):
    """Who changed what and when, newest first, with each change field by field."""
    return _history_page(asset_id)


@bp.post("/assets/<asset_id>/history/<int:version_id>/restore")
@requires("edit_assets")
def restore_version(asset_id: str, version_id: int):
    """Make the asset as it was just after the chosen change.

    With the page's `version`, nothing is done when the asset changed since the page was
    opened: the page comes back (409) saying who changed what, to choose again."""
    change = next(
        (c for c in store.history(get_db(), asset_id) if c["version_id"] == version_id), None
    )
    if change is None or change["record"] is None:
        abort(404, description="There is no such version of this asset to restore.")
    opened_at = _opened_version()
    who, why = current_user.email, f"restored the version of change {version_id}"
    if opened_at is None:
        outcome = store.restore_version(get_db(), version_id, who=who)
    else:
        try:
            outcome = store.save_asset_at_version(
                get_db(), change["record"], opened_at, who=who, why=why
            )
        except store.EditConflict as conflict:
            return _history_page(asset_id, conflict=_conflict(conflict), refused="Not restored")
    flash(
        "That version is already the current one."
        if outcome == store.UNCHANGED
        else "Restored that version. The change is in the history, so it can be undone."
    )
    return redirect(url_for("manage.asset_history", asset_id=asset_id))
