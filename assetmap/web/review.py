"""The coordinators' review queue (/manage/review): listings due a check, recording checks
one at a time or for a selection, and how often each strand or kind is checked.

Thin: the rules are in assetmap/freshness (schedule, queue, checks); this reads the request,
calls them and answers.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from assetmap.freshness import checks, queue, schedule
from assetmap.record import describe, taxonomy
from assetmap.web.db import get_db
from assetmap.web.guard import can, requires
from assetmap.web.security import CsrfOnlyForm

bp = Blueprint("review", __name__, url_prefix="/manage/review")


def _schedule() -> schedule.Schedule:
    return schedule.load(get_db(), current_app.config[schedule.SETTING])


def _filter(values) -> queue.QueueFilter:
    """The queue's filter from query-string (or form) values; empty ones mean any."""
    return queue.QueueFilter(
        **{name: (values.get(name) or "").strip()[:200] or None for name in queue.FILTERS}
    )


def _page_number(text: str | None) -> int:
    try:
        return max(int(text or "1"), 1)
    except ValueError:
        return 1


def _versions(history: dict[str, list[dict]]) -> dict[str, int]:
    """Each listed asset's version (the number of its latest history entry, as
    `store.assets.asset_version` counts it, 0 with none), taken from the recent history the page
    shows. The "Close (archive)" button carries it, so that closing a listing someone changed
    after the queue was opened is refused with what they changed, not done over their change."""
    return {asset_id: (rows[0]["version_id"] if rows else 0) for asset_id, rows in history.items()}


@bp.get("")
@requires("edit_assets")
def review_queue():
    """The assets due a check, oldest due first, filtered and paged."""
    db = get_db()
    chosen = _filter(request.args)
    today = describe.today()
    result = queue.queue_page(
        db, _schedule(), today, chosen, _page_number(request.args.get("page"))
    )
    return render_template(
        "review/queue.html",
        result=result,
        versions=_versions(result.history),
        chosen=chosen,
        choices=queue.choices(db),
        today=today,
        how=checks.HOW,
        strands=taxonomy.STRANDS_BY_SLUG,
        kinds={term.slug: term.label for term in taxonomy.KINDS},
        form=CsrfOnlyForm(),
    )


@bp.post("/check")
@requires("edit_assets")
def record_check():
    """'Checked, no change' for one asset or a selection; back to the same place in the queue."""
    ids = [value for value in request.form.getlist("asset_id") if value]
    back = url_for(
        "review.review_queue",
        **_filter(request.form).args(),
        page=_page_number(request.form.get("page")),
    )
    if not ids:
        flash("Nothing was marked as checked: tick the listings you checked first.")
        return redirect(back)
    try:
        checks.record_checks(
            get_db(),
            ids,
            by=current_user.email,
            how=request.form.get("how", ""),
            note=request.form.get("note", ""),
        )
    except checks.CheckRefused as refused:
        abort(400, description=f"Nothing was recorded: {refused}.")
    except LookupError as missing:
        abort(404, description=f"Nothing was recorded: {missing}.")
    words = checks.how_label(request.form["how"])
    flash(
        f"Recorded a check ({words}) of {len(ids)} listings; they leave the queue until due again."
        if len(ids) > 1
        else f"Recorded a check ({words}); the listing leaves the queue until due again."
    )
    return redirect(back)


def _schedule_page(problems: dict, typed: dict, status: int = 200):
    every = current_app.config[schedule.SETTING]
    current = schedule.load(get_db(), every).overrides
    rows = {
        scope: [
            (slug, label, f"{scope}-{slug}", typed.get((scope, slug), current.get((scope, slug))))
            for slug, label in schedule.vocabulary(scope).items()
        ]
        for scope in schedule.SCOPES
    }
    return render_template(
        "review/schedule.html",
        rows=rows,
        problems={f"{scope}-{value}": message for (scope, value), message in problems.items()},
        every=every,
        setting=schedule.SETTING,
        form=CsrfOnlyForm(),
    ), status


@bp.route("/schedule", methods=["GET", "POST"])
@requires("edit_assets")
def checking_schedule():
    """How often each strand and kind is checked: shorter periods than the default."""
    if request.method == "GET":
        return _schedule_page({}, {})
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    wanted = {
        (scope, slug): request.form.get(f"{scope}-{slug}", "")
        for scope in schedule.SCOPES
        for slug in schedule.vocabulary(scope)
    }
    problems = schedule.set_overrides(
        get_db(),
        wanted,
        every_months=current_app.config[schedule.SETTING],
        who=current_user.email,
    )
    if problems:
        return _schedule_page(problems, wanted, status=400)
    flash("Saved how often each strand and kind is checked.")
    return redirect(url_for("review.checking_schedule"))


@bp.app_template_global("review_summary")
def review_summary() -> queue.Summary | None:
    """The queue's counts for the coordinators' home page (templates/review/summary.html)."""
    if not can("edit_assets"):
        return None
    return queue.summary(get_db(), _schedule(), describe.today())
