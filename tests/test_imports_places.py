"""Honest places: an import puts an asset where its postcode is, or says plainly why it cannot.

The demo's postcode table is Trafford's extract of the ONS Postcode Directory: every postcode
in the borough, but only part of most districts (M33 and WA15 run into Cheshire East and
Manchester). A postcode missing from such a table is refused, not placed at a "centre" of the
few postcodes it holds; one missing from a table that holds its sector or district in full
(the national file) is placed at that centre, and says so. Every asset records how its
position was found.
"""

from __future__ import annotations

import csv
import math
import sqlite3
from pathlib import Path

import pytest

from assetmap import imports
from assetmap.imports import ImportOptions
from assetmap.record.fields import FIELD_NAMES
from assetmap.search.postcodes import digit_readings
from assetmap.store import assets as asset_store
from assetmap.store import connect, schema
from assetmap.store import postcodes as postcode_store
from assetmap.store.assets import transaction, with_position
from tests import engines
from tests.test_imports_support import POSTCODES, ROOT, write_text

SHARED = ROOT.parent / "shared" / "opendata" / "trafford" / "postcodes" / POSTCODES.name
TRUTH_FILE = SHARED if SHARED.is_file() else POSTCODES  # the same real file, copied into data/
WHO = "coordinator@example.org"
COVERS = (
    "The list covers postcodes in districts M15, M16, M17, M21, M23, M31, M32, M33, M41, WA13, "
    "WA14, WA15 (not known to be in full). Check the postcode, or give lat and lon; or ask an "
    "administrator to load the ONS Postcode Directory for postcode area {area} (or the whole "
    "country) with `assetmap postcodes load FILE`, then import this file again"
)


def truth() -> dict[str, tuple[float, float]]:
    """Every Trafford postcode's (lat, lon), read straight from the ONS extract."""
    with TRUTH_FILE.open(encoding="utf-8-sig", newline="") as f:
        return {
            row["postcode"]: (float(row["lat"]), float(row["lon"])) for row in csv.DictReader(f)
        }


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points."""
    (lat1, lon1), (lat2, lon2) = (tuple(map(math.radians, p)) for p in (a, b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


@pytest.fixture
def db_path(trafford_db_path):
    return trafford_db_path


@pytest.fixture
def db(db_path):
    database = connect(db_path)
    yield database
    database.close()


def preview(db, path: Path):
    return imports.preview(db, path, ImportOptions(source="places-audit"))


def apply(db, path: Path, tmp_path: Path):
    return imports.apply(
        db, path, ImportOptions(source="places-audit"), who=WHO, archive_dir=tmp_path / "a"
    )


def problems(report) -> list[str]:
    return [f"{p.level}: {p}" for p in report.problems]


def placed(db, ref: str) -> dict:
    row = db.conn.execute(
        "SELECT id FROM assets WHERE source = 'places-audit' AND source_id = ?", [ref]
    ).fetchone()
    return asset_store.get_asset(db, row[0])


PARTIAL_AUDIT = (
    "Ref,Name,Kind,Strand,Postcode,Latitude,Longitude\n"
    "P1,Sale Moor Walkers,group,access_community_resources,M33 7ZF,,\n"
    "P2,Hale Barns Bowls,group,access_community_resources,WA15 OHF,,\n"
    "P3,Urmston Singers,group,access_community_resources,M41 0TJ,NaN,nan\n"
    "P4,Stretford Gardeners,group,access_community_resources,M32 9BD,53.44567712,-2.30942098\n"
    "P5,Heaton Moor Readers,group,access_community_resources,SK4 4AA,,\n"
    "P6,Sale Newbuild Club,group,access_community_resources,M33 7YY,,\n"
    "P7,Typo Lunch Club,group,access_community_resources,M33 OZZ,,\n"
)


def test_with_the_boroughs_postcodes_rows_are_placed_at_their_postcode_or_refused(db, tmp_path):
    audit = write_text(tmp_path / "places.csv", PARTIAL_AUDIT)
    report = apply(db, audit, tmp_path)
    assert report.summary() == "4 new, 0 changed, 0 unchanged, 3 rejected, 0 possible duplicates"
    assert problems(report) == [
        "warning: row 3, column E (Postcode): has the letter O where a zero belongs; it was "
        "read as WA15 0HF, which is in our postcode list. Correct it in the file",
        "error: row 6, column E (Postcode): the asset has no lat and lon, and SK4 4AA is not "
        "in our postcode list, which has none in district SK4. " + COVERS.format(area="SK"),
        "error: row 7, column E (Postcode): the asset has no lat and lon, and M33 7YY is not "
        "in our postcode list, and the list is not known to hold every postcode of district "
        "M33, so the centre of the ones it has would be a guess. " + COVERS.format(area="M"),
        "error: row 8, column E (Postcode): is not a UK postcode: it has the letter O where a "
        "zero belongs. Did you mean M33 0ZZ? None of these is in our postcode list, so check "
        "the postcode; correct it in the file and import it again",
    ]
    points = truth()
    for ref, postcode, source in (
        ("P1", "M33 7ZF", "postcode"),
        ("P2", "WA15 0HF", "postcode"),
        ("P3", "M41 0TJ", "postcode"),
        ("P4", "M32 9BD", "given"),
    ):
        asset = placed(db, ref)
        assert asset["postcode"] == postcode
        assert asset["position_source"] == source, ref
        assert metres((asset["lat"], asset["lon"]), points[postcode]) < 100, ref
        assert (round(asset["lat"], 6), round(asset["lon"], 6)) == (asset["lat"], asset["lon"])
    assert (placed(db, "P4")["lat"], placed(db, "P4")["lon"]) == (53.445677, -2.309421)


def test_nan_coordinates_are_empty_not_not_a_number(db, tmp_path):
    audit = write_text(
        tmp_path / "nan.csv",
        "Name,Kind,Strand,Postcode,lat,lon\n"
        "Urmston Singers,group,access_community_resources,M41 0TJ,NaN,NaN\n"
        "Nowhere Singers,group,access_community_resources,,nan,nan\n",
    )
    report = preview(db, audit)
    assert report.summary() == "1 new, 0 changed, 0 unchanged, 1 rejected, 0 possible duplicates"
    assert problems(report) == [
        "error: row 3, column E (lat): has no position; give lat and lon, or a postcode to "
        "place it from",
    ]


@pytest.fixture
def sector_in_full(db):
    """The table as after loading the national file, with M33 7ZF newer than the file: the
    rest of sector M33 7 is held in full, and (in the district case) sector M33 9 is gone."""
    with transaction(db):
        db.conn.execute("DELETE FROM postcodes WHERE postcode = 'M33 7ZF'")
        postcode_store.record_file(
            db,
            file_name="ONSPD_test.csv",
            layout="test",
            postcodes=1,
            complete_areas=["M33 7"],
            loaded_at="2026-12-06T12:00:00Z",
        )
    return db


def test_a_postcode_missing_from_a_sector_held_in_full_is_placed_at_its_centre(
    sector_in_full, tmp_path
):
    db = sector_in_full
    audit = write_text(
        tmp_path / "new.csv",
        "Ref,Name,Kind,Strand,Postcode\n"
        "N1,Sale Moor Walkers,group,access_community_resources,M33 7ZF\n"
        "N2,Sale Readers,group,access_community_resources,M33 6AA\n",
    )
    report = apply(db, audit, tmp_path)
    assert report.summary() == "2 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates"
    assert problems(report) == [
        "warning: row 2, column E (Postcode): placed at the centre of postcode sector M33 7 "
        "(M33 7ZF itself is not in our postcode list, which holds that area in full, so it "
        "may be newer than the list); check the postcode, or give lat and lon",
    ]
    points = truth()
    others = [p for code, p in points.items() if code.startswith("M33 7") and code != "M33 7ZF"]
    centre = (
        round(sum(p[0] for p in others) / len(others), 6),
        round(sum(p[1] for p in others) / len(others), 6),
    )
    walkers = placed(db, "N1")
    assert (walkers["lat"], walkers["lon"]) == centre
    assert walkers["position_source"] == "sector"
    # Trafford's M33 7 is a small sector: its centre is within a kilometre of the postcode.
    assert metres(centre, points["M33 7ZF"]) < 1000
    assert placed(db, "N2")["position_source"] == "postcode"


def test_a_district_held_in_full_places_a_postcode_of_an_empty_sector_at_its_centre(db, tmp_path):
    with transaction(db):
        db.conn.execute("DELETE FROM postcodes WHERE postcode LIKE 'M33 9%'")
        postcode_store.record_file(
            db,
            file_name="ONSPD_M.csv",
            layout="test",
            postcodes=1,
            complete_areas=["M33"],
            loaded_at="2026-12-06T12:00:00Z",
        )
    audit = write_text(
        tmp_path / "d.csv",
        "Ref,Name,Kind,Strand,Postcode\nD1,Sale Library Club,group,access_community_resources,"
        "M33 9AA\n",
    )
    report = apply(db, audit, tmp_path)
    assert problems(report) == [
        "warning: row 2, column E (Postcode): placed at the centre of postcode district M33 "
        "(M33 9AA itself is not in our postcode list, which holds that area in full, so it "
        "may be newer than the list); check the postcode, or give lat and lon",
    ]
    assert placed(db, "D1")["position_source"] == "district"


def test_a_sector_held_in_full_says_nothing_about_the_rest_of_its_district(
    sector_in_full, tmp_path
):
    db = sector_in_full
    db.conn.execute("DELETE FROM postcodes WHERE postcode = 'M33 6AA'")
    report = preview(
        db,
        write_text(
            tmp_path / "s.csv",
            "Name,Kind,Strand,Postcode\nSale Readers,group,access_community_resources,M33 6AA\n",
        ),
    )
    assert report.summary() == "0 new, 0 changed, 0 unchanged, 1 rejected, 0 possible duplicates"
    assert problems(report)[0].endswith(
        "the list is not known to hold every postcode of district M33, so the centre of the "
        "ones it has would be a guess. The list covers postcodes in districts M15, M16, M17, "
        "M21, M23, M31, M32, M33, M41, WA13, WA14, WA15 (in full: M33 7), loaded from "
        "ONSPD_test.csv. Check the postcode, or give lat and lon; or ask an administrator to "
        "load the ONS Postcode Directory for postcode area M (or the whole country) with "
        "`assetmap postcodes load FILE`, then import this file again"
    )


def test_an_asset_already_listed_keeps_its_position_and_how_it_was_found(db, tmp_path):
    first = write_text(
        tmp_path / "p.csv",
        "Ref,Name,Kind,Strand,Postcode,lat,lon\n"
        "K1,Sale Knitters,group,access_community_resources,M33 7ZF,53.4252,-2.3201\n",
    )
    apply(db, first, tmp_path)
    again = write_text(
        tmp_path / "p.csv",
        "Ref,Name,Kind,Strand,Postcode,lat,lon\n"
        "K1,Sale Knitters,group,access_community_resources,M33 7ZF,,\n",
    )
    report = apply(db, again, tmp_path)
    assert report.summary() == "0 new, 0 changed, 1 unchanged, 0 rejected, 0 possible duplicates"
    knitters = placed(db, "K1")
    assert (knitters["lat"], knitters["lon"], knitters["position_source"]) == (
        53.4252,
        -2.3201,
        "given",
    )


@pytest.mark.parametrize(
    ("typed", "readings"),
    [
        ("WA15 OHF", ["WA15 0HF"]),
        ("wa15ohf", ["WA15 0HF"]),
        ("M4I 0TJ", ["M41 0TJ"]),
        ("M33 7ZF", []),  # already a postcode
        ("OL1 IAA", ["OL1 1AA", "O11 1AA"]),  # fewest changes first
        ("HELLO", []),
    ],
)
def test_letters_typed_for_digits_are_read_where_a_digit_belongs(typed, readings):
    assert digit_readings(typed) == readings


def test_the_form_and_loads_say_how_a_position_was_found():
    before = {"lat": 53.1, "lon": -2.1, "position_source": "postcode"}
    typed = {"lat": 53.123456789, "lon": -2.1, "position_source": None}
    assert with_position(typed, None)["position_source"] == "given"
    assert with_position(typed, None)["lat"] == 53.123457
    assert with_position({**before}, before, "by_hand")["position_source"] == "postcode"
    assert with_position({**before, "lat": 53.2}, before, "by_hand")["position_source"] == (
        "by_hand"
    )
    # A file that says how (an export loaded back) is believed.
    moved = {**before, "lat": 53.2, "position_source": "given"}
    assert with_position(moved, before, "by_hand")["position_source"] == "given"


def test_a_coordinator_moving_an_asset_on_the_form_records_it_as_by_hand(client, sign_in, db_path):
    from tests.test_manage import form_data

    sign_in(client, "coordinator")
    created = client.post("/manage/assets/new", data=form_data(client, "/manage/assets/new"))
    asset_id = created.headers["Location"].rsplit("/", 1)[1]
    db = connect(db_path)
    try:
        assert asset_store.get_asset(db, asset_id)["position_source"] == "given"
        url = f"/manage/assets/{asset_id}/edit"
        form = client.get(url).get_data(as_text=True)
        assert "Map position: given as coordinates (in the file, the form or the data" in form
        client.post(url, data=form_data(client, url, reason="same place"))
        assert asset_store.get_asset(db, asset_id)["position_source"] == "given"
        client.post(url, data=form_data(client, url, lat="53.4470001", reason="moved"))
        moved = asset_store.get_asset(db, asset_id)
        assert (moved["lat"], moved["position_source"]) == (53.447, "by_hand")
        page = client.get(f"/assets/{asset_id}").get_data(as_text=True)
        assert "Map position: moved by hand on the form" in page
        api = client.get(f"/api/v1/assets/{asset_id}").get_json()
        assert api["properties"]["position_source"] == "by_hand"
    finally:
        db.close()


def test_residents_see_only_that_an_approximate_pin_is_approximate(client, db_path, sign_in):
    db = connect(db_path)
    try:
        asset = asset_store.list_assets(db, asset_store.AssetFilter(), limit=1)[0][0]
        with transaction(db):
            db.conn.execute(
                "UPDATE assets SET position_source = 'sector' WHERE id = ?", [asset["id"]]
            )
    finally:
        db.close()
    page = client.get(f"/assets/{asset['id']}").get_data(as_text=True)
    assert "The map shows the centre of the postcode sector" in page
    assert "Map position:" not in page


@pytest.mark.sqlite_only("builds a SQLite file at the schema before the migration, by hand")
def test_the_migration_says_how_existing_positions_were_found(tmp_path):
    """Assets listed before the field existed: at their postcode's point means placed from
    it; anything else was given."""
    position = next(
        i for i, (words, _) in enumerate(schema.MIGRATIONS) if words.startswith("how each asset")
    )
    conn = sqlite3.connect(tmp_path / "old.db")
    for _, statements in schema.MIGRATIONS[:position]:
        for statement in statements:
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {position}")
    conn.execute("INSERT INTO postcodes VALUES ('M33 7ZF', 53.425111, -2.32)")
    columns = "id, name, kind, strand, lat, lon, postcode, created_at, updated_at"
    for asset_id, lat, lon in (("at-postcode", 53.425111, -2.32), ("own-point", 53.4261, -2.33)):
        conn.execute(
            f"INSERT INTO assets ({columns}) VALUES (?, 'x', 'group', 'access_community_"
            "resources', ?, ?, 'M33 7ZF', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            [asset_id, lat, lon],
        )
    conn.commit()
    schema.migrate(conn)
    found = dict(conn.execute("SELECT id, position_source FROM assets").fetchall())
    assert found == {"at-postcode": "postcode", "own-point": "given"}
    assert "position_source" in FIELD_NAMES
    conn.close()


@pytest.fixture
def cli(tmp_path):
    from assetmap import create_app

    target = engines.new_target(tmp_path, "cli.db")
    app = create_app(
        {"ASSETMAP_DB": str(target), "ASSETMAP_FILES_DIR": str(tmp_path), "SECRET_KEY": "test-only"}
    )
    runner = app.test_cli_runner()

    def run(*args):
        return runner.invoke(args=list(map(str, args)))

    run.target = target
    return run


ONSPD = (
    "pcd,pcd2,pcds,dointr,doterm,oseast1m,osnrth1m,ctry,lat,long\n"
    '"M33 7ZF","M33  7ZF","M33 7ZF","198001","","378213","0391802","E92000001",53.425111,-2.32\n'
    '"WA150HF","WA15 0HF","WA15 0HF","198001","","","","E92000001",53.36,-2.31\n'
)


def test_loading_a_postcode_file_records_which_areas_it_holds_in_full(cli, tmp_path):
    """The ONS Postcode Directory is published whole (nationally or per postcode area), a
    borough's extract is not; an administrator can say otherwise either way."""
    national = write_text(tmp_path / "ONSPD_M.csv", ONSPD)
    result = cli("postcodes", "load", national)
    assert result.exit_code == 0, result.output
    assert "  areas held in full: M, WA\n" in result.output
    extract = cli("postcodes", "load", TRUTH_FILE)
    assert "  areas held in full: none (an extract)\n" in extract.output
    marked = cli("postcodes", "load", "--partial", "--complete-for", "m33 7", national)
    assert "  areas held in full: M33 7\n" in marked.output
    db = connect(cli.target)
    try:
        files = {f["file_name"]: f["complete_areas"] for f in postcode_store.loaded_files(db)}
    finally:
        db.close()
    assert files == {"ONSPD_M.csv": ["M33 7"], TRUTH_FILE.name: []}
    wrong = cli("postcodes", "load", "--complete-for", "M33 7ZF", national)
    assert wrong.exit_code == 2
    assert "'M33 7ZF' is not a postcode area (WA), district (WA15) or sector (WA15 0)" in (
        wrong.output
    )
