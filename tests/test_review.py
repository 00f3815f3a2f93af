"""Coordinators keep listings true: checks, the checking schedule and the review queue."""

from __future__ import annotations

import calendar
import csv
import functools
import html
import re
from datetime import date

import pytest

from assetmap import create_app
from assetmap.freshness import checks, queue, schedule, wards
from assetmap.record import describe
from assetmap.store import assets as store
from assetmap.store import checks as store_checks
from assetmap.store import connect
from tests import engines
from tests.conftest import HOSTILE_NAME, add_user, csrf_token, give_session, make_asset, save_raw
from tests.test_imports_support import POSTCODES


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


def test_a_check_typed_in_late_never_moves_last_checked_back(db):
    checks.record_check(db, "altrincham-library", by="Jo", how="visit", when="2024-03-01")
    asset = store.get_asset(db, "altrincham-library")
    assert (asset["last_verified"], asset["verified_by"]) == ("2025-06-01", None)
    assert store.history(db, "altrincham-library")[0]["reason"] == "checked, no change, by a visit"
    [check] = store_checks.checks_of(db, "altrincham-library")
    assert (check["checked_at"], check["checked_by"]) == ("2024-03-01", "Jo")


@pytest.mark.parametrize(
    ("asset_id", "kwargs", "error", "words"),
    [
        ("sale-walking-group", {"how": "carrier pigeon"}, ValueError, "phone, email, visit"),
        ("sale-walking-group", {"how": "phone", "when": "last Tuesday"}, ValueError, "YYYY"),
        ("sale-walking-group", {"how": "phone", "when": "2999-01-01"}, ValueError, "future"),
        ("sale-walking-group", {"how": "phone", "by": "  "}, ValueError, "who checked"),
        ("sale-walking-group", {"how": "phone", "note": "x" * 1001}, ValueError, "up to 1000"),
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
def demo_template(demo_template, tmp_path_factory):
    """The demo's real Trafford assets and postcodes (conftest's, copied) with their wards, and
    EXTRA, built once."""
    folder = tmp_path_factory.mktemp("review")
    path = engines.copy_database(demo_template, engines.new_target(folder, keep=True))
    save_raw(path, EXTRA)
    database = connect(path)
    with store.transaction(database):
        assert wards.load_wards(database, POSTCODES) > 10_000
    if not engines.on_postgresql():  # the file whole, for copying
        database.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    return path


@pytest.fixture
def demo_path(demo_template, tmp_path):
    return engines.copy_database(demo_template, engines.new_target(tmp_path))


@pytest.fixture
def demo_db(demo_path):
    database = connect(demo_path)
    yield database
    database.close()


@functools.cache
def _postcode_wards() -> dict[str, tuple[str, str]]:
    """Each Trafford postcode's ward, read from the ONS file itself (not from our table)."""
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


# -- the pages -----------------------------------------------------------------------------------

QUEUE = "/manage/review"
TICKED = re.compile(r'name="asset_id" value="([^"]+)" form="bulk-check"')


@pytest.fixture
def demo_app(demo_path):
    return create_app({"TESTING": True, "ASSETMAP_DB": str(demo_path), "SECRET_KEY": "test-only"})


def _client(app, db_path, role):
    client = app.test_client()
    if role:
        give_session(client, db_path, add_user(db_path, role))
    return client


@pytest.fixture
def coordinator(demo_app, demo_path):
    return _client(demo_app, demo_path, "coordinator")


def _everything(db_path):
    database = connect(db_path)
    try:
        return (
            [tuple(row) for row in database.conn.execute("SELECT * FROM assets ORDER BY id")],
            [tuple(r) for r in database.conn.execute("SELECT * FROM asset_history")],
            [tuple(r) for r in database.conn.execute("SELECT * FROM asset_checks")],
        )
    finally:
        database.close()


def _expected(db_path, **wanted):
    database = connect(db_path)
    try:
        return brute_force(database, describe.today(), 6, {}, **wanted)
    finally:
        database.close()


def test_the_queue_pages_fifty_at_a_time_in_queue_order_with_filters_kept(coordinator, demo_path):
    expected = _expected(demo_path)
    assert len(expected) > 100
    first = coordinator.get(QUEUE).get_data(as_text=True)
    assert TICKED.findall(first) == expected[:50]
    assert f"{len(expected)} listings due a check" in first
    second = coordinator.get(f"{QUEUE}?page=2").get_data(as_text=True)
    assert TICKED.findall(second) == expected[50:100]
    ward_code = _postcode_wards()["M33 7ZF"][0]
    filtered = coordinator.get(f"{QUEUE}?ward={ward_code}&kind=place").get_data(as_text=True)
    assert TICKED.findall(filtered) == _expected(demo_path, ward=ward_code, kind="place")[:50]
    assert f'<input type="hidden" name="ward" value="{ward_code}">' in filtered
    unknown = coordinator.get(f"{QUEUE}?ward=unknown").get_data(as_text=True)
    assert "manchester-choir" in TICKED.findall(unknown) and "ward unknown (M1 1AE)" in unknown


def test_checked_no_change_in_one_click_records_it_and_the_listing_leaves_the_queue(
    coordinator, demo_path
):
    first = _expected(demo_path)[0]
    response = coordinator.post(
        "/manage/review/check",
        data={
            "csrf_token": csrf_token(coordinator, QUEUE),
            "asset_id": first,
            "how": "visit",
            "kind": "group",
            "page": "1",
        },
    )
    assert response.status_code == 302
    assert response.location == "/manage/review?kind=group&page=1"
    page = coordinator.get(response.location).get_data(as_text=True)
    assert "Recorded a check (by a visit)" in page
    assert first not in TICKED.findall(coordinator.get(QUEUE).get_data(as_text=True))
    database = connect(demo_path)
    latest = store.history(database, first)[0]
    assert (latest["changed_by"], latest["reason"]) == (
        "coordinator@example.org",
        "checked, no change, by a visit",
    )
    assert store.get_asset(database, first)["last_verified"] == store.now()[:10]
    database.close()


def test_a_bulk_check_records_every_ticked_listing_in_one_go(coordinator, demo_path):
    chosen = _expected(demo_path, kind="group")[:3]
    response = coordinator.post(
        "/manage/review/check",
        data={
            "csrf_token": csrf_token(coordinator, QUEUE),
            "asset_id": chosen,
            "how": "email",
            "note": "replied to the autumn round-up",
        },
    )
    assert response.status_code == 302
    left = TICKED.findall(coordinator.get(f"{QUEUE}?kind=group").get_data(as_text=True))
    assert not set(chosen) & set(left)
    database = connect(demo_path)
    for asset_id in chosen:
        [check] = store_checks.checks_of(database, asset_id)
        assert (check["how"], check["note"]) == ("email", "replied to the autumn round-up")
        reason = store.history(database, asset_id)[0]["reason"]
        assert reason == "checked, no change, by e-mail: replied to the autumn round-up"
    database.close()


@pytest.mark.parametrize(
    ("role", "fields", "status", "words"),
    [
        ("coordinator", {"how": "pigeon"}, 400, "phone, email, visit, organiser_confirmed"),
        ("coordinator", {"asset_id": ["never-checked-club", "no-such-asset"]}, 404, "no-such"),
        ("coordinator", {"csrf_token": None}, 400, "nothing was saved"),
        ("coordinator", {"note": "x" * 1001}, 400, "up to 1000 characters"),
        ("link_worker", {}, 403, "role does not allow"),
        (None, {}, 401, "Sign in"),
    ],
)
def test_a_rejected_check_changes_nothing(demo_app, demo_path, role, fields, status, words):
    client = _client(demo_app, demo_path, role)
    data = {
        "csrf_token": csrf_token(client, "/login" if role is None else "/"),
        "asset_id": "never-checked-club",
        "how": "phone",
        **fields,
    }
    before = _everything(demo_path)
    response = client.post(
        "/manage/review/check", data={k: v for k, v in data.items() if v is not None}
    )
    assert response.status_code == status
    assert words in response.get_data(as_text=True)
    assert _everything(demo_path) == before


def test_the_schedule_form_saves_shorter_periods_and_refuses_a_longer_one(coordinator, demo_path):
    url = "/manage/review/schedule"
    token = csrf_token(coordinator, url)
    response = coordinator.post(url, data={"csrf_token": token, "kind-place": "3"})
    assert response.status_code == 302
    assert 'name="kind-place" type="text" inputmode="numeric" size="4" value="3"' in (
        coordinator.get(url).get_data(as_text=True)
    )
    refused = coordinator.post(
        url, data={"csrf_token": token, "kind-place": "", "kind-service": "9"}
    )
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Service: 9 months is not shorter than the default of 6 months" in page
    assert (
        'id="kind-service" name="kind-service" type="text" inputmode="numeric" size="4" value="9"'
        in page
    )
    database = connect(demo_path)
    assert store_checks.intervals(database) == {("kind", "place"): 3}  # nothing of it saved
    database.close()


def test_the_coordinators_home_page_counts_the_queue_by_strand_and_ward(coordinator, demo_path):
    page = coordinator.get("/manage/assets").get_data(as_text=True)
    expected = _expected(demo_path)
    assert f"Due a check: {len(expected)}" in page
    in_strand = len(_expected(demo_path, strand="access_community_resources"))
    assert (
        f'href="/manage/review?strand=access_community_resources">Access to community '
        f"resources: {in_strand}</a>" in page
    )
    code, name = _postcode_wards()["M33 7ZF"]
    assert (
        f'href="/manage/review?ward={code}">{name}: {len(_expected(demo_path, ward=code))}' in page
    )
    assert f">ward unknown: {len(_expected(demo_path, ward=wards.UNKNOWN))}</a>" in page


def test_names_in_the_queue_are_shown_as_text(client, sign_in):
    sign_in(client, "coordinator")
    page = client.get(QUEUE).get_data(as_text=True)
    assert HOSTILE_NAME not in page
    assert html.escape(HOSTILE_NAME, quote=False) in page


def test_loading_a_postcode_file_keeps_its_wards_for_the_queue(runner, client, sign_in, tmp_path):
    lines = POSTCODES.read_text(encoding="utf-8-sig").splitlines()
    rows = [line for line in lines if line.startswith(("M33 7ZF,", "M32 9BD,"))]
    extract = tmp_path / "extract.csv"
    extract.write_text("\n".join([lines[0], *rows]) + "\n", encoding="utf-8")
    result = runner.invoke(args=["postcodes", "load", str(extract)])
    assert result.exit_code == 0, result.output
    assert "wards: 2 postcodes' wards kept" in result.output
    sign_in(client, "coordinator")
    page = client.get(f"{QUEUE}?ward=E05000833").get_data(as_text=True)  # Priory, Sale
    assert TICKED.findall(page) == ["sale-walking-group"]
    assert "Priory (M33 7ZF)" in page


def test_residents_open_reports_show_beside_the_listing_in_the_queue(coordinator, demo_path):
    """The queue reads the residents' reports table (issue 17's third part) when it exists."""
    database = connect(demo_path)
    with store.transaction(database):
        database.conn.execute(
            "CREATE TABLE IF NOT EXISTS problem_reports (id INTEGER PRIMARY KEY, asset_id TEXT "
            "NOT NULL, kind TEXT NOT NULL, note TEXT, status TEXT NOT NULL DEFAULT 'open', "
            "created_at TEXT NOT NULL)"
        )
        database.conn.executemany(
            "INSERT INTO problem_reports (asset_id, kind, note, status, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                ("never-checked-club", "closed", HOSTILE_NAME, "open", "2026-11-02T10:00:00Z"),
                ("never-checked-club", "times", None, "resolved", "2026-10-02T10:00:00Z"),
            ],
        )
    database.close()
    page = coordinator.get(QUEUE).get_data(as_text=True)
    entry = page[page.index('value="never-checked-club"') :][:3000]
    assert "1 open report:</strong>" in entry
    assert "It has closed or stopped running on 2026-11-02" in entry  # the kind in words
    assert html.escape(HOSTILE_NAME, quote=False) in entry
    assert "The days or times are wrong" not in entry  # resolved


def test_the_queue_says_when_each_listing_was_checked_in_words_as_every_page_does(coordinator):
    """Months and years, as the asset page and search results say it, not a count of days."""
    page = coordinator.get(QUEUE).get_data(as_text=True)
    ago = r"(today|yesterday|\d+ days ago|last week|\d+ weeks ago|a month ago|\d+ months ago"
    ago += r"|a year ago|\d+ years ago|over a year ago|over \d+ years ago)"
    assert re.search(rf"Last checked {ago} \(\d{{1,2}} \w+ \d{{4}}\)", page)
    assert not re.search(r"\d{3,} days overdue", page)
