"""Problem reports: residents report a problem with a listing, and coordinators resolve them."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from assetmap.freshness import reports
from assetmap.store import assets as asset_store
from assetmap.store import problem_reports as store
from assetmap.web.db import get_db
from assetmap.web.guard import can, requires
from assetmap.web.public_forms import screen_sender
from assetmap.web.security import CsrfOnlyForm

bp = Blueprint("problem_reports", __name__)
# The most open reports the queue shows at once; resolving them brings up the older ones.
QUEUE_PAGE = 200


@bp.app_template_global()
def may_have_closed(asset_id: str) -> bool:
    """Whether residents have told us this listing may have closed (for asset.html)."""
    return asset_id in reports.may_have_closed(get_db(), [asset_id])


@bp.app_template_global()
def reported_closed(asset_ids) -> set[str]:
    """Of a page of results, the listings residents have told us may have closed (one query)."""
    return reports.may_have_closed(get_db(), list(asset_ids))


@bp.app_template_global()
def open_report_count(asset_id: str) -> int:
    """How many open reports an asset has (shown to coordinators on its page)."""
    if not can("see_problem_reports"):
        return 0
    return len(reports.open_reports_for(get_db(), [asset_id]).get(asset_id, []))


def _reportable(asset_id: str) -> dict:
    record = asset_store.get_asset(get_db(), asset_id)
    if record is None or record["archived"]:
        abort(404, description="There is no listing at this address. It may have been removed.")
    return record


@bp.route("/assets/<asset_id>/report", methods=["GET", "POST"])
@requires("report_problems")
def report(asset_id: str):
    """Report a problem with this listing: no account needed; a coordinator checks it."""
    asset = _reportable(asset_id)
    form = CsrfOnlyForm()
    if request.method == "GET":
        return _form(asset, {}, {})
    if not form.validate_on_submit():
        abort(400)
    db, now = get_db(), datetime.now(UTC)
    key, instead = screen_sender(
        db,
        now,
        too_many="problem_reports/too_many.html",
        asset=asset,
        sent=url_for("problem_reports.sent", asset_id=asset_id),
    )
    if instead is not None:
        return instead
    checked = reports.check_report(request.form)
    if not checked.ok:
        return _form(asset, request.form, checked.errors, 400)
    reports.submit(db, asset_id, checked, key, now)
    return redirect(url_for("problem_reports.sent", asset_id=asset_id))


def _form(asset, raw, errors, status=200):
    return render_template(
        "problem_reports/report.html",
        asset=asset,
        raw=raw,
        errors=errors,
        kinds=reports.KINDS,
        form=CsrfOnlyForm(),
    ), status


@bp.get("/assets/<asset_id>/report/sent")
@requires("report_problems")
def sent(asset_id: str):
    """Thanks, and what happens next."""
    return render_template(
        "problem_reports/sent.html",
        asset=_reportable(asset_id),
        threshold=reports.MAY_HAVE_CLOSED_AFTER,
    )


@bp.get("/manage/reports")
@requires("see_problem_reports")
def queue():
    """Open reports, newest first, optionally of one kind, each with a Resolve form."""
    return _queue({}, {})


def _queue(errors: dict, typed: dict, status: int = 200):
    kind = request.args.get("kind") or None
    if kind not in {None, *(t.slug for t in reports.KINDS)}:
        kind = None
    db = get_db()
    found = store.open_reports(db, kind, limit=QUEUE_PAGE)
    return render_template(
        "problem_reports/queue.html",
        reports=found,
        flagged=reports.may_have_closed(db, [r["asset_id"] for r in found]),
        shown_at_most=QUEUE_PAGE,
        counts=store.open_counts_by_kind(db),
        kind=kind,
        kinds=reports.KINDS,
        label=reports.kind_label,
        errors=errors,
        typed=typed,
        form=CsrfOnlyForm(),
    ), status


@bp.post("/manage/reports/resolve")
@requires("see_problem_reports")
def resolve():
    """Resolve one report with an outcome note, which goes into the asset's history."""
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    report_id = request.form.get("report_id", "")
    if not (report_id.isdigit() and len(report_id) <= 18):  # a number SQLite can hold
        abort(400, description="Choose a report to resolve from the list.")
    report_id = int(report_id)
    outcome, error = reports.check_outcome(request.form.get("outcome"))
    if error:
        return _queue({report_id: error}, {report_id: request.form.get("outcome", "")}, 400)
    try:
        reports.resolve(get_db(), report_id, outcome, current_user.email)
    except LookupError:
        abort(404, description="That report has already been resolved, or does not exist.")
    flash(f"Report {report_id} resolved; the outcome is in the listing's history.")
    return redirect(url_for("problem_reports.queue", kind=request.args.get("kind") or None))
