"""Freshness on the web: the last check in words for every template, and the freshness
report (/manage/freshness) with its CSV.

`last_checked(value)` is a template global, so the asset page, search results, plans and the
printed plan all show a last check through assetmap.freshness.stale.last_checked with the
deployment's settings, without each view passing it along.
"""

from __future__ import annotations

from flask import Blueprint, current_app

from assetmap.freshness.stale import Freshness, LastChecked
from assetmap.freshness.stale import last_checked as checked_in_words
from assetmap.record import describe

bp = Blueprint("freshness", __name__)


def rules() -> Freshness:
    """The freshness rules from this app's settings."""
    return Freshness.from_settings(current_app.config)


@bp.app_template_global()
def last_checked(last_verified) -> LastChecked:
    """When an asset was last checked, in words, by this app's rule for stale listings."""
    return checked_in_words(last_verified, describe.today(), rules().stale_after_months)
