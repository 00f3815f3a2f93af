"""Freshness on the web: the last check in words for every template, and the freshness
report (/manage/freshness) with its CSV.

`last_checked(value)` is a template global, so the asset page, search results, plans and the
printed plan all show a last check through assetmap.freshness.stale.last_checked with the
deployment's settings, without each view passing it along.
"""

from __future__ import annotations

import io

from flask import Blueprint, current_app, render_template

from assetmap.freshness import report
from assetmap.freshness.stale import Freshness, LastChecked, period_in_words
from assetmap.freshness.stale import last_checked as checked_in_words
from assetmap.record import describe
from assetmap.web.db import get_db
from assetmap.web.guard import requires

bp = Blueprint("freshness", __name__)


def rules() -> Freshness:
    """The freshness rules from this app's settings."""
    return Freshness.from_settings(current_app.config)


@bp.app_template_global()
def last_checked(last_verified) -> LastChecked:
    """When an asset was last checked, in words, by this app's rule for stale listings."""
    return checked_in_words(last_verified, describe.today(), rules().stale_after_months)


@bp.get("/manage/freshness")
@requires("see_demand")
def report_page():
    """How much of the directory was checked in the last 6 and 12 months, by strand, kind,
    ward and source, and month by month: for coordinators and the commissioners they report
    to (the same people who see demand)."""
    found = report.freshness_report(get_db(), describe.today())
    return render_template(
        "freshness/report.html",
        report=found,
        dimensions=report.DIMENSIONS,
        stale_period=period_in_words(rules().stale_after_months),
    )


@bp.get("/manage/freshness.csv")
@requires("see_demand")
def report_csv():
    """The freshness report as CSV: the same figures as the page, one row per group."""
    found = report.freshness_report(get_db(), describe.today())
    buffer = io.StringIO()
    report.write_csv(found, buffer)
    return current_app.response_class(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="freshness-{found.today}.csv"'},
    )
