"""Requests to join: residents ask to join an activity, and coordinators work through the inbox."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from assetmap.people import join_requests, mail
from assetmap.record.without_contact import what_to_do_instead
from assetmap.store import assets as asset_store
from assetmap.store import join_requests as store
from assetmap.web.db import get_db
from assetmap.web.guard import requires
from assetmap.web.public_forms import screen_sender
from assetmap.web.security import CsrfOnlyForm

bp = Blueprint("join_requests", __name__)
# An asset's page tells a resident how to join it, or what to do when there is no way to.
bp.add_app_template_global(what_to_do_instead, "what_to_do_instead")


def _joinable(asset_id: str) -> dict:
    record = asset_store.get_asset(get_db(), asset_id)
    if record is None or record["archived"]:
        abort(404, description="There is no activity at this address. It may have been removed.")
    if not record["self_referral"] or record["status"] != "active":
        abort(
            404,
            description="This activity does not take requests to join through this site. "
            "Its page says how to join.",
        )
    return record


@bp.route("/assets/<asset_id>/join", methods=["GET", "POST"])
@requires("ask_to_join")
def join(asset_id: str):
    """Ask to join: a short form; the organiser or a coordinator gets back in touch."""
    asset = _joinable(asset_id)
    form = CsrfOnlyForm()
    if request.method == "GET":
        return _form(asset, {}, {})
    if not form.validate_on_submit():
        abort(400)
    db, now = get_db(), datetime.now(UTC)
    key, instead = screen_sender(
        db,
        now,
        too_many="join_requests/too_many.html",
        asset=asset,
        sent=url_for("join_requests.sent", asset_id=asset_id),
    )
    if instead is not None:
        return instead
    checked = join_requests.check_request(request.form)
    if not checked.ok:
        return _form(asset, checked.values | {"raw": request.form}, checked.errors, 400)
    request_id = join_requests.submit(db, asset_id, checked, key, now)
    _tell_organiser(asset, checked.values, request_id)
    return redirect(url_for("join_requests.sent", asset_id=asset_id))


def _form(asset, values, errors, status=200):
    return render_template(
        "join_requests/join.html",
        asset=asset,
        values=values,
        errors=errors,
        best_times=join_requests.BEST_TIMES,
        form=CsrfOnlyForm(),
    ), status


def _tell_organiser(asset: dict, values: dict, request_id: int) -> None:
    """E-mail the organiser when mail is set up and the asset has an address; a failure is
    logged and the request stays in the coordinators' inbox, so nothing is lost."""
    config = current_app.config
    if not (mail.smtp_configured(config) and asset.get("email")):
        return
    body = mail.join_request_body(asset, values, "A coordinator can also see this request.")
    try:
        mail.send(config, asset["email"], f"Request to join {asset['name']}", body)
    except (OSError, smtplib.SMTPException):
        current_app.logger.exception("could not e-mail the organiser of %s", asset["id"])
        return
    store.mark_organiser_emailed(get_db(), request_id, asset_store.now())


@bp.get("/assets/<asset_id>/join/sent")
@requires("ask_to_join")
def sent(asset_id: str):
    """What happens next, in plain words."""
    asset = _joinable(asset_id)
    return render_template("join_requests/sent.html", asset=asset)


@bp.get("/manage/requests-to-join")
@requires("see_join_requests")
def inbox():
    """Requests to join, newest first, by status."""
    status = request.args.get("status") or None
    if status not in {None, *(s.slug for s in join_requests.STATUSES)}:
        status = None
    db = get_db()
    return render_template(
        "join_requests/inbox.html",
        requests=store.inbox(db, status),
        counts=store.counts_by_status(db),
        status=status,
        statuses=join_requests.STATUSES,
        label=join_requests.status_label,
    )


# The argument keeps its first name, referral_id, which tests/test_permissions.py fills in.
@bp.route("/manage/requests-to-join/<int:referral_id>", methods=["GET", "POST"])
@requires("see_join_requests")
def detail(referral_id: int):
    """One request: the person's details, its status and notes; change the status."""
    request_id = referral_id
    db = get_db()
    found = store.get(db, request_id)
    if found is None:
        abort(404, description="There is no such request.")
    form = CsrfOnlyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        status = request.form.get("status", "")
        if status not in {s.slug for s in join_requests.STATUSES}:
            abort(400, description="Choose one of the statuses listed.")
        note = (request.form.get("note") or "").strip()[:2000] or None
        store.update_status(db, request_id, status, note, current_user.email, asset_store.now())
        flash(f"Marked as {join_requests.status_label(status).lower()}.")
        return redirect(url_for("join_requests.detail", referral_id=request_id))
    return render_template(
        "join_requests/detail.html",
        join_request=found,
        events=store.events(db, request_id),
        statuses=join_requests.STATUSES,
        label=join_requests.status_label,
        form=form,
        best_times=dict((t.slug, t.label) for t in join_requests.BEST_TIMES),
    )
