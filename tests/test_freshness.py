"""Listings that say how fresh they are: the last check in words, stale listings after fresh
ones in search (and hidden when a setting asks), and the freshness report with its CSV."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from assetmap import create_app
from assetmap.freshness import report
from assetmap.freshness.stale import Freshness, add_months, last_checked
from assetmap.record.validation import validate_asset
from assetmap.search.nearby import SearchQuery, search
from assetmap.store import assets as store
from assetmap.store import connect, schema
from assetmap.store import freshness as freshness_store
from tests import engines
from tests.conftest import make_asset
from tests.test_demo_search import demo_app_at

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "data" / "assets.geojson"
POSTCODES = ROOT / "data" / "postcodes" / "trafford_postcodes_onspd_2022-06_lsoa11.csv"
TODAY = date(2026, 12, 6)


# ---------------------------------------------------------------------------------------------
# The last check in words
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("checked", "today", "words", "stale"),
    [
        ("2026-12-06", TODAY, "Last checked today", False),
        ("2026-12-05", TODAY, "Last checked yesterday", False),
        ("2026-12-01", TODAY, "Last checked 5 days ago", False),
        ("2026-11-29", TODAY, "Last checked last week", False),
        ("2026-11-20", TODAY, "Last checked 2 weeks ago", False),
        ("2026-11-07", TODAY, "Last checked 4 weeks ago", False),
        ("2026-11-06", TODAY, "Last checked a month ago", False),
        ("2026-09-01", TODAY, "Last checked 3 months ago", False),
        ("2026-01-06", TODAY, "Last checked 11 months ago", False),
        ("2025-12-06", TODAY, "Last checked a year ago", False),  # exactly 12 months: not stale
        ("2025-12-05", TODAY, "Last checked over a year ago", True),  # a day more: stale
        ("2025-11-06", TODAY, "Last checked over a year ago", True),  # 13 months
        ("2024-12-06", TODAY, "Last checked 2 years ago", True),
        ("2024-12-05", TODAY, "Last checked over 2 years ago", True),
        ("2027-01-01", TODAY, "Last checked today", False),  # a date in the future: a slip
        (None, TODAY, "Never checked", True),
        ("", TODAY, "Never checked", True),
        # Months counted back from today, clamped: on 31 March a month ago is 28 February.
        ("2026-02-28", date(2026, 3, 31), "Last checked a month ago", False),
        ("2025-03-31", date(2026, 3, 31), "Last checked a year ago", False),
        ("2025-03-30", date(2026, 3, 31), "Last checked over a year ago", True),
    ],
)
def test_the_last_check_in_words_at_its_boundaries(checked, today, words, stale):
    found = last_checked(checked, today)
    assert found.words == words
    assert found.stale is stale
    assert found.warning == (
        None if not stale else "Never checked" if not checked else ("Not checked for over a year")
    )


def test_the_warning_follows_the_setting():
    assert last_checked("2025-06-06", TODAY, 18).stale is False
    eighteen = last_checked("2025-06-05", date(2026, 12, 6), 18)
    assert eighteen.stale and eighteen.warning == "Not checked for over 18 months"
    assert last_checked("2024-01-01", TODAY, 24).warning == "Not checked for over 2 years"
    assert (
        Freshness(stale_after_months=6)
        .ranking_notice()
        .startswith(
            "Listings not checked for over 6 months are shown after others at a similar distance"
        )
    )


# ---------------------------------------------------------------------------------------------
# Search: stale listings after fresh ones in the same 500 m band
# ---------------------------------------------------------------------------------------------

CENTRE = (53.42, -2.32)
METRES_PER_DEGREE = 111_195  # of latitude, on the search's sphere
FRESH, STALE = "2026-10-01", "2024-05-01"

# (id, metres north of the centre, last checked)
PLACED = [
    ("b-stale-100m", 100, STALE),
    ("a-fresh-300m", 300, FRESH),
    ("e-fresh-450m", 450, FRESH),
    ("c-stale-600m", 600, STALE),
    ("f-never-700m", 700, None),
    ("d-fresh-900m", 900, FRESH),
    ("g-stale-1600m", 1600, STALE),
    ("h-fresh-1800m", 1800, "2025-12-06"),  # exactly 12 months before TODAY: fresh
]
# Band 0-500 m: fresh (300, 450), then stale (100); 500-1000 m: fresh (900), then stale or
# never checked (600, 700); 1500-2000 m: fresh (1800), then stale (1600).
EXPECTED = [
    "a-fresh-300m",
    "e-fresh-450m",
    "b-stale-100m",
    "d-fresh-900m",
    "c-stale-600m",
    "f-never-700m",
    "h-fresh-1800m",
    "g-stale-1600m",
]


@pytest.fixture(scope="module")
def placed_db():
    db = connect(":memory:")
    schema.migrate(db.conn)
    records = []
    for asset_id, metres, checked in PLACED:
        raw = make_asset(
            id=asset_id,
            name=f"Walking group {asset_id}",
            lat=round(CENTRE[0] + metres / METRES_PER_DEGREE, 6),
            lon=CENTRE[1],
            last_verified=checked,
            schedule=None,
        )
        result = validate_asset(raw)
        assert result.ok, result.errors
        records.append(result.record)
    store.save_assets(db, records, who="tests")
    yield db
    db.close()


def _ids(db, **asked) -> list[str]:
    freshness = asked.pop("freshness", Freshness())
    query = SearchQuery(lat=CENTRE[0], lon=CENTRE[1], radius_km=2.0, **asked)
    return [hit.record["id"] for hit in search(db, query, today=TODAY, freshness=freshness).hits]


def test_stale_listings_come_after_fresh_ones_in_the_same_band_and_never_past_it(placed_db):
    assert _ids(placed_db) == EXPECTED
    # The same order whichever way the search runs: by keyword, or by day (Python's filter).
    assert _ids(placed_db, q="walking") == EXPECTED


@pytest.mark.parametrize("q", ["", "walking"])  # by the place index, and by keyword
@pytest.mark.parametrize(("limit", "offset"), [(1, 0), (2, 1), (3, 2), (1, 4), (2, 6)])
def test_each_page_is_its_slice_of_the_fresh_first_order(placed_db, limit, offset, q):
    # The nearest listing (stale, 100 m) is not first: a fresh one in its band is fetched.
    assert _ids(placed_db, limit=limit, offset=offset, q=q) == EXPECTED[offset : offset + limit]


def test_best_match_first_is_not_reordered_by_freshness(placed_db):
    query = SearchQuery(lat=CENTRE[0], lon=CENTRE[1], radius_km=2.0, q="walking", order="relevance")
    results = search(placed_db, query, today=TODAY)
    assert results.ranking_notice is None
    nearest_first = search(placed_db, SearchQuery(lat=CENTRE[0], lon=CENTRE[1]), today=TODAY)
    assert "shown after others at a similar distance" in nearest_first.ranking_notice


def test_the_hide_setting_leaves_out_listings_unchecked_for_longer(placed_db):
    hide = Freshness(hide_after_months=12)
    query = SearchQuery(lat=CENTRE[0], lon=CENTRE[1], radius_km=2.0)
    results = search(placed_db, query, today=TODAY, freshness=hide)
    found = [hit.record["id"] for hit in results.hits]
    assert found == ["a-fresh-300m", "e-fresh-450m", "d-fresh-900m", "h-fresh-1800m"]
    assert results.total == 4  # counted without them, not just left off the page
    longer = search(placed_db, query, today=TODAY, freshness=Freshness(hide_after_months=36))
    assert longer.total == 7  # only the never-checked one is hidden
    assert search(placed_db, query, today=TODAY).total == len(PLACED)  # off by default


def test_the_hide_setting_reaches_the_api(db_path, sample_template):
    engines.copy_database(sample_template, db_path)
    db = connect(db_path)
    record = store.get_asset(db, "sale-walking-group")
    store.save_asset(db, {**record, "last_verified": date.today().isoformat()}, who="t")
    db.close()
    asked = "/api/v1/search?lat=53.42&lon=-2.32&radius_km=50&limit=200"
    settings = {"ASSETMAP_DB": str(db_path), "SECRET_KEY": "t", "TESTING": True}
    shown = create_app(settings).test_client().get(asked).get_json()
    hiding = create_app({**settings, "ASSETMAP_HIDE_UNCHECKED_AFTER_MONTHS": "12"})
    hidden = hiding.test_client().get(asked).get_json()
    assert [f["id"] for f in hidden["features"]] == ["sale-walking-group"]
    assert hidden["total"] == 1
    assert shown["total"] > 1 and any(f["properties"]["stale"] for f in shown["features"])


def test_search_results_say_when_each_was_checked_and_why_the_order(client):
    page = client.get("/search?lat=53.42&lon=-2.32&radius_km=20").get_data(as_text=True)
    assert "Listings not checked for over a year are shown after others at a similar" in page
    assert re.search(r"<strong>(Not checked for over a year|Never checked)</strong>", page)


def test_the_api_sends_the_last_check_in_words(client, db):
    record = store.get_asset(db, "sale-walking-group")
    store.save_asset(db, {**record, "last_verified": date.today().isoformat()}, who="t")
    one = client.get("/api/v1/assets/sale-walking-group").get_json()["properties"]
    assert one["last_checked_words"] == "Last checked today" and one["stale"] is False
    assert one["last_verified"] == date.today().isoformat()
    found = client.get("/api/v1/search?lat=53.42&lon=-2.32&radius_km=20&q=walking").get_json()[
        "features"
    ]
    walking = next(f for f in found if f["id"] == "sale-walking-group")["properties"]
    assert walking["last_checked_words"] == "Last checked today"


# ---------------------------------------------------------------------------------------------
# The freshness report
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    """The demo database, built with `make run`'s commands."""
    return demo_app_at(engines.new_target(tmp_path_factory.mktemp("demo"), keep=True))


def _brute_force(day: date) -> dict:
    """The report's figures counted straight from the demo file and the postcode file."""
    with ASSETS.open() as f:
        listings = [feature["properties"] for feature in json.load(f)["features"]]
    with POSTCODES.open(newline="") as f:
        wards = {row["postcode"]: row["ward_name"] for row in csv.DictReader(f)}
    since = {
        6: f"{day.year - (day.month <= 6)}-{(day.month - 7) % 12 + 1:02d}-{day.day:02d}",
        12: f"{day.year - 1}-{day.month:02d}-{day.day:02d}",
    }
    counts: dict = {}
    for listing in listings:
        checked = listing.get("last_verified") or ""
        keys = [
            ("all", "All listings"),
            ("source", listing.get("source") or "Source not recorded"),
            ("ward", wards.get(listing.get("postcode"), "ward unknown")),
            ("strand_slug", listing["strand"]),
            ("kind_slug", listing["kind"]),
        ]
        for key in keys:
            row = counts.setdefault(key, [0, 0, 0])
            row[0] += 1
            row[1] += checked >= since[6]
            row[2] += checked >= since[12]
    return counts


def test_report_figures_match_a_brute_force_count_of_the_demo_data(demo_app):
    day = date(2025, 10, 1)  # when the demo's newest checks were recent
    db = connect(demo_app.config["ASSETMAP_DB"])
    try:
        found = report.freshness_report(db, day)
    finally:
        db.close()
    expected = _brute_force(day)
    overall = found.overall
    assert [overall.listings, overall.checked_6, overall.checked_12] == expected[
        ("all", "All listings")
    ]
    assert 0 < overall.checked_6 < overall.checked_12 < overall.listings  # the test can fail
    for by in ("source", "ward"):
        got = {s.group: [s.listings, s.checked_6, s.checked_12] for s in found.groups[by]}
        assert got == {group: row for (key, group), row in expected.items() if key == by}
    assert len(found.groups["ward"]) > 5
    from assetmap.record import taxonomy

    for by, vocabulary in (("strand", taxonomy.STRANDS), ("kind", taxonomy.KINDS)):
        got = {s.group: [s.listings, s.checked_6, s.checked_12] for s in found.groups[by]}
        want = {
            taxonomy.label(vocabulary, slug): row
            for (key, slug), row in expected.items()
            if key == f"{by}_slug"
        }
        assert got == want


ROW = re.compile(
    r'<tr><th scope="row">([^<]*)</th><td>(\d+)</td><td>(\d+) \((\d+)%\)</td>'
    r"<td>(\d+) \((\d+)%\)</td></tr>"
)


def test_the_csv_holds_exactly_the_figures_of_the_page(demo_app, tmp_path):
    from tests.conftest import add_user, give_session

    path = engines.new_target(tmp_path)
    if engines.on_postgresql():
        engines.copy_database(demo_app.config["ASSETMAP_DB"], path)
    else:  # the demo's file may still have writes in its WAL: SQLite's backup copies them
        demo = sqlite3.connect(demo_app.config["ASSETMAP_DB"])
        with sqlite3.connect(path) as copy:
            demo.backup(copy)
        demo.close()
    db = connect(path)
    # Checked this month and eight months ago, so that the 6- and 12-month figures differ.
    first, second = [r[0] for r in db.conn.execute("SELECT id FROM assets ORDER BY id LIMIT 2")]
    today = date.today()
    for asset_id, checked in ((first, today), (second, add_months(today, -8))):
        record = store.get_asset(db, asset_id)
        store.save_asset(db, {**record, "last_verified": checked.isoformat()}, who="t")
    db.close()
    app = create_app({"TESTING": True, "ASSETMAP_DB": str(path), "SECRET_KEY": "test-only"})
    client = app.test_client()
    give_session(client, path, add_user(path, "coordinator"))
    page = client.get("/manage/freshness")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    sections = re.split(r'<table class="data-table" id="', html)[1:]
    on_page = []
    for section in sections:
        name = section.split('"', 1)[0]
        by = {"by-month": "month"}.get(name, name.removeprefix("table-"))
        for match in ROW.finditer(section.split("</table>", 1)[0]):
            group, listings, c6, p6, c12, p12 = match.groups()
            group = group.replace("&#39;", "'").replace("&amp;", "&")
            on_page.append([by, group, listings, c6, p6, c12, p12])
    download = client.get("/manage/freshness.csv")
    assert download.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert rows[0] == list(report.CSV_COLUMNS)
    overall = rows[1]
    assert (
        overall[0] == "all" and f"<strong>{overall[4]}%</strong> of {overall[2]} listings" in html
    )
    assert sorted(rows[2:]) == sorted(on_page)
    overall_page = [row for row in on_page if row[0] == "strand"]
    assert sum(int(row[3]) for row in overall_page) == 1  # checked this month
    assert sum(int(row[5]) for row in overall_page) == 2  # and eight months ago
    assert {row[0] for row in on_page} == {"strand", "kind", "ward", "source", "month"}


def _write(db, changes, when: str) -> None:
    with store.transaction(db):
        store.write_changes(db, changes, who="tests", why=None, when=when)


def test_the_chart_replays_each_month_end_from_history():
    """An asset checked in March counts from March; one archived stops counting."""
    db = connect(":memory:")
    schema.migrate(db.conn)
    try:
        first = validate_asset(make_asset(id="first", last_verified=None)).record
        second = validate_asset(make_asset(id="second", last_verified="2025-08-20")).record
        _write(db, [store.Change("first", store.INSERT, None, first)], "2026-01-15T10:00:00Z")
        _write(db, [store.Change("second", store.INSERT, None, second)], "2026-01-20T10:00:00Z")
        checked = {**first, "last_verified": "2026-03-10"}
        _write(db, [store.Change("first", store.UPDATE, first, checked)], "2026-03-10T09:00:00Z")
        archived = {**second, "archived": True}
        _write(db, [store.Change("second", store.UPDATE, second, archived)], "2026-05-31T23:00:00Z")
        months = report.by_month(
            freshness_store.check_history(db),
            date(2026, 6, 15),
        )
    finally:
        db.close()
    table = [(m.group, m.listings, m.checked_6, m.checked_12) for m in months]
    assert table == [
        ("2026-01", 2, 1, 1),  # second, checked 20 August, is within 6 months of 31 January
        ("2026-02", 2, 0, 1),  # ...but not of 28 February (28 August onwards)
        ("2026-03", 2, 1, 2),  # first counts from March, the month it was checked
        ("2026-04", 2, 1, 2),
        ("2026-05", 1, 1, 1),  # second archived on the last day of May
        ("2026-06", 1, 1, 1),  # this month: as of today
    ]


def test_the_report_is_for_coordinators(client, sign_in):
    assert client.get("/manage/freshness").status_code in (302, 401, 403)
    sign_in(client, "link_worker")
    assert client.get("/manage/freshness.csv").status_code == 403
    sign_in(client, "coordinator")
    assert client.get("/manage/freshness").status_code == 200


def test_hostile_sources_come_out_as_text_on_the_report_and_in_the_csv(
    client, db_path, db, sign_in
):
    from markupsafe import escape

    from tests.hostile import EXACT

    record = store.get_asset(db, "sale-walking-group")
    hostile = EXACT[0]  # <script>alert(1)</script>
    formula = '=HYPERLINK("http://x")'
    store.save_asset(db, {**record, "source": hostile}, who="t")
    other = store.get_asset(db, "altrincham-library")
    store.save_asset(db, {**other, "source": formula}, who="t")
    sign_in(client, "coordinator")
    page = client.get("/manage/freshness").get_data(as_text=True)
    assert hostile not in page and str(escape(hostile)) in page
    rows = list(csv.reader(io.StringIO(client.get("/manage/freshness.csv").get_data(as_text=True))))
    sources = {row[1] for row in rows if row[0] == "source"}
    assert hostile in sources and "'" + formula in sources
