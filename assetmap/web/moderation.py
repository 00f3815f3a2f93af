"""The coordinators' moderation queue: changes organisers proposed, each with a field-by-field
diff, to approve, edit then approve, or reject with a reason e-mailed back; and the listings
whose organisers did not answer their reminders."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from assetmap.freshness import moderation, organisers
from assetmap.people import mail
from assetmap.record import form as asset_form
from assetmap.record.validation import validate_asset
from assetmap.store import assets as asset_store
from assetmap.store import proposals as store
from assetmap.web.db import get_db
from assetmap.web.guard import requires
from assetmap.web.security import CsrfOnlyForm

bp = Blueprint("moderation", __name__, url_prefix="/manage/moderation")

REASON_LIMIT = 2000


@bp.get("/")
@requires("moderate_changes")
def queue():
    """Changes waiting, oldest first; listings whose organisers have not answered; the last
    decisions."""
    db = get_db()
    waiting = store.proposals(db, store.PENDING)
    return render_template(
        "moderation/queue.html",
        waiting=[(p, moderation.diff(p)) for p in waiting],
        unanswered=organisers.unanswered(db),
        decided=sorted(
            store.proposals(db, store.APPROVED, limit=20)
            + store.proposals(db, store.REJECTED, limit=20),
            key=lambda p: (p["decided_at"], p["id"]),
            reverse=True,
        )[:20],
    )


def _proposal_or_404(proposal_id: int) -> dict:
    found = store.get_proposal(get_db(), proposal_id)
    if found is None:
        abort(404, description="There is no such proposed change.")
    return found


@bp.get("/<int:proposal_id>")
@requires("moderate_changes")
def proposal(proposal_id: int):
    """One proposed change: the diff, what changed meanwhile, and the three decisions."""
    found = _proposal_or_404(proposal_id)
    current = asset_store.get_asset(get_db(), found["asset_id"])
    return render_template(
        "moderation/proposal.html",
        proposal=found,
        current=current,
        changes=moderation.diff(found),
        changed_since=moderation.changed_since(found, current),
        form=CsrfOnlyForm(),
        reason=request.args.get("reason", ""),
        error=None,
    )


def _decided_already():
    flash("This change had already been decided; nothing more was done.")
    return redirect(url_for("moderation.queue"))


@bp.post("/<int:proposal_id>/approve")
@requires("moderate_changes")
def approve(proposal_id: int):
    """Apply the change as the organiser proposed it."""
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    found = _proposal_or_404(proposal_id)
    try:
        moderation.approve(
            get_db(), proposal_id, coordinator=current_user.email, now=datetime.now(UTC)
        )
    except moderation.NotPending:
        return _decided_already()
    except LookupError as error:
        abort(404, description=f"The change cannot be applied: {error}.")
    flash("Approved: the listing now shows the organiser's changes.")
    return redirect(url_for("public.asset_page", asset_id=found["asset_id"]))


@bp.post("/<int:proposal_id>/reject")
@requires("moderate_changes")
def reject(proposal_id: int):
    """Turn the change down; the reason is e-mailed to the organiser."""
    form = CsrfOnlyForm()
    if not form.validate_on_submit():
        abort(400)
    found = _proposal_or_404(proposal_id)
    reason = (request.form.get("reason") or "").strip()
    if not reason or len(reason) > REASON_LIMIT:
        error = (
            "Give the reason: the organiser reads it in the e-mail we send back."
            if not reason
            else f"Keep the reason under {REASON_LIMIT:,} characters (it has {len(reason):,})."
        )
        current = asset_store.get_asset(get_db(), found["asset_id"])
        page = render_template(
            "moderation/proposal.html",
            proposal=found,
            current=current,
            changes=moderation.diff(found),
            changed_since=moderation.changed_since(found, current),
            form=form,
            reason=reason,
            error=error,
        )
        return page, 400
    try:
        decided = moderation.reject(
            get_db(),
            proposal_id,
            coordinator=current_user.email,
            reason=reason,
            now=datetime.now(UTC),
        )
    except moderation.NotPending:
        return _decided_already()
    flash("Rejected; the listing stays as it was. " + _tell_organiser(decided))
    return redirect(url_for("moderation.queue"))


def _tell_organiser(decided: dict) -> str:
    """E-mail the reason back; says in words whether that worked."""
    config = current_app.config
    if not mail.smtp_configured(config):
        return "E-mail is not set up, so please tell the organiser yourself."
    url = url_for("public.asset_page", asset_id=decided["asset_id"], _external=True)
    subject, body = moderation.rejection_email(decided, url)
    try:
        mail.send(config, decided["organiser_email"], subject, body)
    except (OSError, smtplib.SMTPException):
        current_app.logger.exception("could not e-mail the organiser of %s", decided["asset_id"])
        return "The e-mail to the organiser could not be sent: please tell them yourself."
    return "The organiser has been e-mailed the reason."


@bp.route("/<int:proposal_id>/edit", methods=["GET", "POST"])
@requires("moderate_changes")
def edit(proposal_id: int):
    """The asset form holding the listing with the organiser's changes, to correct and then
    approve; errors are shown beside each field, as on the asset form."""
    found = _proposal_or_404(proposal_id)
    if found["status"] != store.PENDING:
        return _decided_already()
    current = asset_store.get_asset(get_db(), found["asset_id"])
    if current is None:
        abort(404, description="The listing this change was for no longer exists.")
    form = CsrfOnlyForm()
    if request.method == "GET":
        return _edit_form(found, moderation.merged(found, current), {})
    if not form.validate_on_submit():
        abort(400)
    raw = asset_form.form_to_raw(request.form)
    result = validate_asset(raw, bounds=current_app.config["ASSETMAP_BOUNDS"])
    if result.errors:
        return _edit_form(found, result.record, result.errors, raw=raw, status=400)
    try:
        moderation.approve(
            get_db(),
            proposal_id,
            coordinator=current_user.email,
            now=datetime.now(UTC),
            edited=result.record,
        )
    except moderation.NotPending:
        return _decided_already()
    flash("Approved with your edits.")
    return redirect(url_for("public.asset_page", asset_id=found["asset_id"]))


def _edit_form(found, record, errors, *, raw=None, status=200):
    refused = {name: raw.get(name) for name in errors} if raw else None
    schedule = raw["schedule"] if raw and "schedule" in errors else record.get("schedule")
    return render_template(
        "moderation/edit.html",
        proposal=found,
        form=CsrfOnlyForm(),
        form_fields=asset_form.FORM_FIELDS,
        values=asset_form.form_values(record, refused),
        schedule_rows=asset_form.schedule_rows(schedule),
        errors=errors,
    ), status
