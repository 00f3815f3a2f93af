"""Coordinators keep listings true: checks, the checking schedule and the review queue."""

from __future__ import annotations

import pytest

from assetmap.freshness import checks
from assetmap.store import assets as store
from assetmap.store import checks as store_checks


def _snapshot(db):
    """Everything a check may write, to show a refused one wrote nothing."""
    return (
        [tuple(row) for row in db.conn.execute("SELECT * FROM assets ORDER BY id")],
        [tuple(row) for row in db.conn.execute("SELECT * FROM asset_history ORDER BY version_id")],
        [tuple(row) for row in db.conn.execute("SELECT * FROM asset_checks ORDER BY id")],
    )


def test_a_phone_check_sets_last_checked_and_says_so_in_the_history(db):
    version = checks.record_check(
        db, "sale-walking-group", by="coordinator@example.org", how="phone", note="rang Sam"
    )
    asset = store.get_asset(db, "sale-walking-group")
    assert asset["last_verified"] == store.now()[:10]
    assert asset["verified_by"] == "coordinator@example.org"
    latest = store.history(db, "sale-walking-group")[0]
    assert latest["version_id"] == version
    assert latest["changed_by"] == "coordinator@example.org"
    assert latest["reason"] == "checked, no change, by phone: rang Sam"
    assert latest["previous"]["last_verified"] == "2025-06-01"
    [check] = store_checks.checks_of(db, "sale-walking-group")
    assert (check["how"], check["note"], check["version_id"]) == ("phone", "rang Sam", version)


def test_a_check_can_be_dated_when_it_was_made(db):
    checks.record_check(
        db, "altrincham-library", by="Org", how="organiser_confirmed", when="2025-11-02"
    )
    assert store.get_asset(db, "altrincham-library")["last_verified"] == "2025-11-02"
    reason = store.history(db, "altrincham-library")[0]["reason"]
    assert reason == "checked, no change, organiser confirmed"


@pytest.mark.parametrize(
    ("asset_id", "kwargs", "error", "words"),
    [
        ("sale-walking-group", {"how": "carrier pigeon"}, ValueError, "phone, email, visit"),
        ("sale-walking-group", {"how": "phone", "when": "last Tuesday"}, ValueError, "YYYY"),
        ("sale-walking-group", {"how": "phone", "when": "2999-01-01"}, ValueError, "future"),
        ("sale-walking-group", {"how": "phone", "by": "  "}, ValueError, "who checked"),
        ("no-such-asset", {"how": "phone"}, LookupError, "no-such-asset"),
    ],
)
def test_a_refused_check_names_the_problem_and_writes_nothing(db, asset_id, kwargs, error, words):
    before = _snapshot(db)
    with pytest.raises(error, match=words):
        checks.record_check(db, asset_id, **{"by": "coordinator@example.org", **kwargs})
    assert _snapshot(db) == before


def test_a_bulk_check_with_one_unknown_asset_writes_none_of_them(db):
    before = _snapshot(db)
    with pytest.raises(LookupError, match="gone-away"):
        checks.record_checks(
            db, ["sale-walking-group", "gone-away"], by="coordinator@example.org", how="visit"
        )
    assert _snapshot(db) == before
