"""Coordinators keep listings true: checks, the checking schedule and the review queue."""

from __future__ import annotations

import calendar
import csv
import shutil
from datetime import date

import pytest

from assetmap.freshness import checks, queue, schedule, wards
from assetmap.store import assets as store
from assetmap.store import checks as store_checks
from assetmap.store import connect
from tests.conftest import make_asset, save_raw
from tests.test_imports_support import POSTCODES, build_import_db


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


# -- the queue on the real Trafford demo data ---------------------------------------------------

DEMO_TODAY = date(2025, 9, 1)  # some demo listings due, some not
OVERRIDES = {("kind", "service"): 3, ("strand", "volunteer_peer_roles"): 2}
EXTRA = [
    # never checked: due now, before every dated listing
    make_asset(
        id="never-checked-club", name="Never Checked Club", last_verified=None, postcode="M33 7ZF"
    ),
    # a postcode outside Trafford's table: its ward is unknown
    make_asset(
        id="manchester-choir",
        name="Manchester Choir",
        last_verified="2018-03-01",
        postcode="M1 1AE",
        lat=53.4794,
        lon=-2.2453,
    ),
    # never in the queue: closed, or archived
    make_asset(id="closed-club", name="Closed Club", status="closed", last_verified=None),
    make_asset(id="archived-club", name="Archived Club", archived=True, last_verified=None),
]


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory):
    """The demo's real Trafford assets and postcodes with their wards, and EXTRA, built once."""
    path = build_import_db(tmp_path_factory.mktemp("review") / "assetmap.db", demo=True)
    save_raw(path, EXTRA)
    database = connect(path)
    with store.transaction(database):
        assert wards.load_wards(database, POSTCODES) > 10_000
    database.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    return path


@pytest.fixture
def demo_path(demo_template, tmp_path):
    return shutil.copyfile(demo_template, tmp_path / "assetmap.db")


@pytest.fixture
def demo_db(demo_path):
    database = connect(demo_path)
    yield database
    database.close()


def _postcode_wards() -> dict[str, tuple[str, str]]:
    with open(POSTCODES, encoding="utf-8-sig", newline="") as f:
        return {row["postcode"]: (row["ward_code"], row["ward_name"]) for row in csv.DictReader(f)}


def _plus_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def brute_force(db, today, every, overrides, **wanted) -> list[str]:
    """The queue worked out the long way: every asset, its ward from the ONS file itself."""
    ward_of = _postcode_wards()
    found = []
    for asset in store.iter_assets(db):
        if asset["status"] == "closed" or asset["archived"]:
            continue
        code = ward_of.get(asset["postcode"], (wards.UNKNOWN, None))[0]
        facts = {**asset, "ward": code}
        if any(facts[name] != value for name, value in wanted.items()):
            continue
        months = min(
            [every] + [m for (scope, value), m in overrides.items() if asset[scope] == value]
        )
        due = (
            _plus_months(date.fromisoformat(asset["last_verified"]), months)
            if asset["last_verified"]
            else None
        )
        if due is None or due <= today:
            found.append((due is not None, due or date.min, asset["name"].casefold(), asset["id"]))
    return [row[-1] for row in sorted(found)]


def _queue_ids(db, today, plan, **wanted) -> list[str]:
    entries = queue.due_entries(db, plan, today, queue.QueueFilter(**wanted))
    return [entry.asset["id"] for entry in entries]


def test_the_queue_and_every_filter_match_a_brute_force_scan_of_the_demo_data(demo_db):
    plan = schedule.Schedule(6, OVERRIDES)
    everything = _queue_ids(demo_db, DEMO_TODAY, plan)
    assert everything == brute_force(demo_db, DEMO_TODAY, 6, OVERRIDES)
    assert everything[0] == "never-checked-club"
    assert "closed-club" not in everything and "archived-club" not in everything
    total = demo_db.conn.execute("SELECT count(*) FROM assets").fetchone()[0]
    assert 50 < len(everything) < total - 50  # the day splits the demo data: a real test
    choices = queue.choices(demo_db)
    assert len(choices["ward"]) > 10 and choices["ward"][-1][0] == wards.UNKNOWN
    for name in queue.FILTERS:
        for value, _ in choices[name]:
            got = _queue_ids(demo_db, DEMO_TODAY, plan, **{name: value})
            assert got == brute_force(demo_db, DEMO_TODAY, 6, OVERRIDES, **{name: value}), (
                name,
                value,
            )
    unknown = _queue_ids(demo_db, DEMO_TODAY, plan, ward=wards.UNKNOWN)
    assert "manchester-choir" in unknown
    combined = {"strand": "access_community_resources", "kind": "place"}
    assert _queue_ids(demo_db, DEMO_TODAY, plan, **combined) == brute_force(
        demo_db, DEMO_TODAY, 6, OVERRIDES, **combined
    )


def test_a_shorter_period_for_a_strand_or_kind_brings_its_listings_due_sooner(demo_db):
    service = {"strand": "access_community_resources", "kind": "service"}
    plan = schedule.Schedule(6, {("kind", "service"): 3, ("strand", service["strand"]): 4})
    assert plan.months_for(service) == 3  # the shortest that applies wins
    assert plan.months_for({"strand": service["strand"], "kind": "place"}) == 4
    assert plan.months_for({"strand": "volunteer_peer_roles", "kind": "place"}) == 6
    assert schedule.due_date({**service, "last_verified": "2025-08-31"}, plan) == date(2025, 11, 30)
    assert schedule.due_date({**service, "last_verified": None}, plan) is None
    before = _queue_ids(demo_db, DEMO_TODAY, schedule.load(demo_db, 6))
    problems = schedule.set_overrides(
        demo_db, {("kind", "place"): "3"}, every_months=6, who="coordinator@example.org"
    )
    assert problems == {}
    after = _queue_ids(demo_db, DEMO_TODAY, schedule.load(demo_db, 6))
    assert set(before) < set(after)  # places checked in March to May 2025 are due now
    assert after == brute_force(demo_db, DEMO_TODAY, 6, {("kind", "place"): 3})
    schedule.set_override(demo_db, "kind", "place", "", every_months=6, who="c@example.org")
    assert _queue_ids(demo_db, DEMO_TODAY, schedule.load(demo_db, 6)) == before


@pytest.mark.parametrize(
    ("wanted", "words"),
    [
        ({("kind", "service"): "6"}, "not shorter than the default of 6 months"),
        ({("kind", "service"): "three"}, "not a number of months"),
        ({("kind", "service"): "0"}, "give 1 to 5"),
        ({("strand", "gardening"): "3"}, "'gardening' is not a strand"),
        ({("kind", "service"): "3", ("kind", "place"): "12"}, "Place: 12 months"),
    ],
)
def test_a_refused_period_names_the_problem_and_saves_none(demo_db, wanted, words):
    before = [tuple(row) for row in demo_db.conn.execute("SELECT * FROM check_intervals")]
    problems = schedule.set_overrides(demo_db, wanted, every_months=6, who="c@example.org")
    assert any(words in message for message in problems.values()), problems
    assert [tuple(row) for row in demo_db.conn.execute("SELECT * FROM check_intervals")] == before
