"""The local postcode table: loading the ONSPD and Code-Point Open, and placing a postcode."""

from __future__ import annotations

from pathlib import Path

import pytest

from assetmap import create_app
from assetmap.search.postcodes import (
    CODE_POINT,
    DISTRICT,
    LAT_LON_CSV,
    NO_GRID_REFERENCE,
    ONSPD,
    POSTCODE,
    SECTOR,
    LoadReport,
    PostcodeError,
    PostcodeFileError,
    locate_postcode,
    parse_postcode_query,
    read_postcode_file,
)
from assetmap.store import connect, initialise
from assetmap.store import postcodes as store
from assetmap.store.assets import transaction
from tests import engines

TRAFFORD = Path(__file__).resolve().parent.parent / (
    "data/postcodes/trafford_postcodes_onspd_2022-06_lsoa11.csv"
)

# A few rows in the full ONSPD layout: strings quoted, numbers not, the fixed-width pcd first,
# and ONSPD's 99.999999 for a postcode without a grid reference.
ONSPD_HEADER = "pcd,pcd2,pcds,dointr,doterm,oseast1m,osnrth1m,ctry,lat,long,imd\n"
ONSPD_ROWS = (
    '"M1  1AD","M1   1AD","M1 1AD","198001","","384260","0397981",'
    '"E92000001",53.480800,-2.237600,100\n'
    '"AB101AA","AB10 1AA","AB10 1AA","199001","","394251","0806376",'
    '"S92000003",57.148000,-2.097000,200\n'
    '"M33 7ZF","M33  7ZF","M33 7ZF","198001","","378213","0391802",'
    '"E92000001",53.425111,-2.320000,300\n'
    '"GY1 1AA","GY1  1AA","GY1 1AA","199001","","","","L93000001",99.999999,0.000000,0\n'
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def load(db, path) -> LoadReport:
    report = LoadReport()
    with transaction(db):
        for batch, _ in read_postcode_file(path, report):
            store.save_postcodes(db, batch)
    return report


@pytest.fixture
def fresh_db(tmp_path):
    path = engines.new_target(tmp_path, "postcodes.db")
    initialise(path)
    database = connect(path)
    yield database
    database.close()


@pytest.fixture
def sale_db(fresh_db, tmp_path):
    """Three postcodes in sector M33 7, one in M33 6, and one in WA14: nothing else."""
    rows = (
        "postcode,lon,lat\n"
        "M33 7ZF,-2.32,53.42\n"
        "M33 7ZG,-2.31,53.43\n"
        "M33 7AA,-2.30,53.44\n"
        "M33 6AA,-2.40,53.50\n"
        "WA14 1AH,-2.35,53.39\n"
    )
    load(fresh_db, write(tmp_path / "sale.csv", rows))
    return fresh_db


def test_the_trafford_extract_loads_every_postcode_and_again_changes_nothing(fresh_db):
    report = load(fresh_db, TRAFFORD)
    assert report.layout == LAT_LON_CSV
    assert report.read == report.loaded == 11127 and not report.skipped
    before = fresh_db.conn.execute("SELECT * FROM postcodes ORDER BY postcode").fetchall()
    assert load(fresh_db, TRAFFORD).loaded == 11127
    after = fresh_db.conn.execute("SELECT * FROM postcodes ORDER BY postcode").fetchall()
    assert [tuple(r) for r in before] == [tuple(r) for r in after]
    assert store.find_postcode(fresh_db, "M33 7ZF") == pytest.approx((53.425111, -2.32))


def test_the_full_onspd_layout_is_recognised_and_rows_without_a_grid_reference_are_counted(
    fresh_db, tmp_path
):
    report = load(fresh_db, write(tmp_path / "onspd.csv", ONSPD_HEADER + ONSPD_ROWS))
    assert report.layout == ONSPD
    assert (report.read, report.loaded) == (4, 3)
    assert report.skipped == {NO_GRID_REFERENCE: 1}
    assert report.examples[NO_GRID_REFERENCE] == ["line 5: 'GY1 1AA'"]
    assert store.find_postcode(fresh_db, "AB10 1AA") == (57.148, -2.097)  # four-character district
    assert store.find_postcode(fresh_db, "GY1 1AA") is None


def test_the_fixed_width_pcd_column_is_enough_when_pcds_is_missing(fresh_db, tmp_path):
    text = 'pcd,lat,long\n"M1  1AD",53.4808,-2.2376\n"m337zf",53.425111,-2.32\n'
    report = load(fresh_db, write(tmp_path / "pcd.csv", text))
    assert report.loaded == 2
    assert store.find_postcode(fresh_db, "M1 1AD") == (53.4808, -2.2376)
    assert store.find_postcode(fresh_db, "M33 7ZF") == (53.425111, -2.32)


def test_rows_that_cannot_be_used_are_skipped_with_the_reason(fresh_db, tmp_path):
    text = (
        "postcode,lon,lat\nNOT A POSTCODE,-2.3,53.4\nM33 7ZF,west,53.4\nM33 7ZG,-2.3\n"
        "M33 7AA,-2.3,53.4\n"
    )
    report = load(fresh_db, write(tmp_path / "bad.csv", text))
    assert report.loaded == 1
    assert dict(report.skipped) == {
        "not a valid postcode": 1,
        "coordinates missing or not numbers": 1,
        "too few columns": 1,
    }


def test_code_point_open_grid_references_become_latitude_and_longitude(fresh_db, tmp_path):
    # AB1 0AA: ONSPD gives 57.101474, -2.242851 for these eastings and northings.
    text = (
        '"AB1 0AA",10,385386,801193,"S92000003","","S08000020","","S12000033","S13002843"\n'
        '"AB1 0AB",90,0,0,"S92000003","","S08000020","","S12000033","S13002843"\n'
        '"M1  1AD",10,384260,397981,"E92000001","E19000001","E18000002","","E08000003",""\n'
    )
    report = load(fresh_db, write(tmp_path / "ab.csv", text))
    assert report.layout == CODE_POINT
    assert report.loaded == 2 and report.skipped == {NO_GRID_REFERENCE: 1}
    lat, lon = store.find_postcode(fresh_db, "AB1 0AA")
    assert lat == pytest.approx(57.101474, abs=2e-5) and lon == pytest.approx(-2.242851, abs=2e-5)
    assert store.find_postcode(fresh_db, "M1 1AD") is not None


def test_a_file_in_no_known_layout_is_refused_saying_which_layouts_are_read(fresh_db, tmp_path):
    with pytest.raises(PostcodeFileError, match="ONS Postcode Directory.*Code-Point Open"):
        load(fresh_db, write(tmp_path / "other.csv", "name,town\nSale Library,Sale\n"))
    assert store.count_postcodes(fresh_db) == 0


def test_a_large_file_is_read_in_batches(tmp_path):
    rows = "".join(f"M33 7{a}{b},-2.3,53.4\n" for a in "ABD" for b in "ABDEF")
    batches = list(
        read_postcode_file(
            write(tmp_path / "p.csv", "postcode,lon,lat\n" + rows), LoadReport(), batch_rows=4
        )
    )
    assert [len(batch) for batch, _ in batches] == [4, 4, 4, 3]
    positions = [position for _, position in batches]
    assert positions == sorted(positions)  # for the progress bar


@pytest.mark.parametrize(
    ("typed", "postcode", "sector", "district"),
    [
        ("m33 7zf", "M33 7ZF", "M33 7", "M33"),
        ("M1  1AD", "M1 1AD", "M1 1", "M1"),
        ("AB101AA", "AB10 1AA", "AB10 1", "AB10"),
        ("M33 7", None, "M33 7", "M33"),
        ("m337", None, "M33 7", "M33"),
        ("WA14 1", None, "WA14 1", "WA14"),
        ("M33", None, None, "M33"),
        (" ab10 ", None, None, "AB10"),
    ],
)
def test_a_postcode_sector_or_district_is_read_in_any_spacing(typed, postcode, sector, district):
    query = parse_postcode_query(typed)
    assert (query.postcode, query.sector, query.district) == (postcode, sector, district)


@pytest.mark.parametrize("typed", ["", "hello", "M3 37", "M33 7Z", "12345", "M33-7ZF", "Q1 1AA"])
def test_text_that_is_not_a_postcode_is_refused_as_invalid(typed):
    with pytest.raises(PostcodeError) as caught:
        parse_postcode_query(typed)
    assert caught.value.reason == PostcodeError.INVALID
    assert caught.value.parameter == "postcode"
    assert "such as M33 7ZF" in caught.value.message


def test_a_known_postcode_is_placed_at_its_own_point(sale_db):
    place = locate_postcode(sale_db, " m33 7zf ")
    assert (place.lat, place.lon, place.match, place.area) == (53.42, -2.32, POSTCODE, "M33 7ZF")


def held_in_full(db, *areas: str) -> None:
    """Record, as `assetmap postcodes load --complete-for` does, that a file holds `areas`."""
    with transaction(db):
        store.record_file(
            db,
            file_name="sale.csv",
            layout=LAT_LON_CSV,
            postcodes=5,
            complete_areas=areas,
            loaded_at="2026-12-06T12:00:00Z",
        )


def test_a_new_postcode_in_a_sector_held_in_full_falls_back_to_its_centre_and_says_so(sale_db):
    held_in_full(sale_db, "M33 7")
    place = locate_postcode(sale_db, "M33 7XY")
    assert place.match == SECTOR and place.area == "M33 7"
    assert (place.lat, place.lon) == pytest.approx((53.43, -2.31))  # the mean of M33 7's three
    assert place.words.startswith(
        "the centre of postcode sector M33 7 (M33 7XY itself is not in our postcode list, "
        "which holds that area in full"
    )


def test_a_postcode_in_an_unknown_sector_of_a_district_held_in_full_falls_back_to_it(sale_db):
    held_in_full(sale_db, "M")
    place = locate_postcode(sale_db, "M33 9AB")
    assert place.match == DISTRICT and place.area == "M33"
    assert (place.lat, place.lon) == pytest.approx((53.4475, -2.3325))  # all four in M33
    assert "district M33" in place.words


def test_a_sector_held_in_full_does_not_stand_for_the_rest_of_its_district(sale_db):
    held_in_full(sale_db, "M33 7")
    with pytest.raises(PostcodeError) as caught:
        locate_postcode(sale_db, "M33 9AB")
    assert caught.value.reason == PostcodeError.NOT_FOUND


def test_a_postcode_missing_from_an_extract_is_not_placed_at_a_guessed_centre(sale_db):
    """The extract holds some of M33, recorded as holding nothing in full: the centre of the
    four it has would be a guess, so the person is told why and what to do instead."""
    with pytest.raises(PostcodeError) as caught:
        locate_postcode(sale_db, "M33 7XY")
    assert caught.value.reason == PostcodeError.NOT_FOUND
    message = str(caught.value)
    assert "M33 7XY is not in this directory's postcode table" in message
    assert "not known to hold every postcode of district M33" in message
    assert "load the national ONS Postcode Directory" in message
    assert "check it" not in message


def test_a_postcode_outside_the_table_says_what_the_table_covers_not_that_it_is_wrong(
    fresh_db,
):
    """Central Manchester's M1 1AD against the Trafford table the demo loads."""
    load(fresh_db, TRAFFORD)
    with pytest.raises(PostcodeError) as caught:
        locate_postcode(fresh_db, "M1 1AD")
    assert caught.value.reason == PostcodeError.NOT_FOUND
    assert caught.value.message == (
        "M1 1AD may well be right, but this directory's postcode table does not reach it: it "
        "covers districts M15, M16, M17, M21, M23, M31, M32, M33, M41, WA13, WA14 and WA15. "
        "Search from a postcode there, or ask an administrator to load the national ONS "
        "Postcode Directory to search from anywhere."
    )


def test_a_resident_may_give_only_the_first_half_of_their_postcode(sale_db):
    assert locate_postcode(sale_db, "M33").match == DISTRICT
    assert locate_postcode(sale_db, "M33 6").area == "M33 6"


def test_district_m3_is_not_mistaken_for_m33(sale_db):
    held_in_full(sale_db, "M")
    with pytest.raises(PostcodeError) as caught:
        locate_postcode(sale_db, "M3 4AB")
    assert caught.value.reason == PostcodeError.NOT_FOUND
    with pytest.raises(PostcodeError, match="has no postcodes in M3: it covers districts M33"):
        locate_postcode(sale_db, "M3")


def test_with_no_postcodes_loaded_the_error_says_so(fresh_db):
    with pytest.raises(PostcodeError, match="no postcodes have been loaded") as caught:
        locate_postcode(fresh_db, "M33 7ZF")
    assert caught.value.reason == PostcodeError.NOT_FOUND


# ---------------------------------------------------------------------------------------------
# The commands
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path):
    target = engines.new_target(tmp_path, "cli.db")
    app = create_app({"ASSETMAP_DB": str(target), "SECRET_KEY": "test-only"})
    runner = app.test_cli_runner()

    def run(*args):
        return runner.invoke(args=list(map(str, args)))

    return run


def test_loading_postcodes_prints_the_counts_and_the_reasons(cli, tmp_path):
    result = cli("postcodes", "load", write(tmp_path / "onspd.csv", ONSPD_HEADER + ONSPD_ROWS))
    assert result.exit_code == 0, result.output
    assert "ONS Postcode Directory (pcds, lat, long)" in result.output
    assert "4 rows read, 3 loaded, 1 skipped" in result.output
    assert "skipped 1: no grid reference (such as line 5: 'GY1 1AA')" in result.output
    assert "the postcode table holds 3 postcodes" in result.output


def test_the_progress_bar_goes_to_standard_error(tmp_path):
    target = engines.new_target(tmp_path, "cli.db")
    app = create_app({"ASSETMAP_DB": str(target), "SECRET_KEY": "test-only"})
    file = write(tmp_path / "p.csv", ONSPD_HEADER + ONSPD_ROWS)
    result = app.test_cli_runner().invoke(args=["postcodes", "load", str(file)])
    assert result.exit_code == 0, result.output
    assert "loading p.csv" in result.stderr
    assert "loading" not in result.stdout


def test_loading_a_file_in_no_known_layout_fails_and_names_the_file(cli, tmp_path):
    result = cli("postcodes", "load", write(tmp_path / "other.csv", "a,b\n1,2\n"))
    assert result.exit_code == 1
    assert "other.csv is not a postcode file I can read" in result.output


def test_finding_a_postcode_says_where_and_how(cli, tmp_path):
    cli("postcodes", "load", write(tmp_path / "onspd.csv", ONSPD_HEADER + ONSPD_ROWS))
    assert cli("postcodes", "find", "m33 7zf").output == "53.425111, -2.320000: M33 7ZF\n"
    sector = cli("postcodes", "find", "M33 7AB").output  # the ONSPD holds area M in full
    assert sector.startswith("53.425111, -2.320000: the centre of postcode sector M33 7")
    missing = cli("postcodes", "find", "SW1A 1AA")
    assert missing.exit_code == 1
    assert "does not reach it: it covers districts AB10, M1 and M33" in missing.output


def test_status_shows_the_files_the_districts_and_what_is_held_in_full(cli, tmp_path):
    cli("init")
    assert "the postcode table is empty" in cli("postcodes", "status").output
    cli("postcodes", "load", write(tmp_path / "onspd.csv", ONSPD_HEADER + ONSPD_ROWS))
    cli("postcodes", "load", TRAFFORD)
    status = cli("postcodes", "status")
    assert status.exit_code == 0, status.output
    lines = status.output.splitlines()
    # M33 7ZF is in both files.
    assert lines[0] == "the postcode table holds 11,129 postcodes in 14 districts"
    assert lines[2].startswith("  onspd.csv: 3 postcodes, ONS Postcode Directory")
    assert lines[2].endswith("held in full: AB, M")
    assert lines[3].startswith("  trafford_postcodes_onspd_2022-06_lsoa11.csv: 11,127 postcodes")
    assert lines[3].endswith("held in full: none (an extract)")
    assert "  M1: 1 *" in lines  # area M is held in full, by the ONSPD file
    assert "  WA15: 1,868" in lines  # the extract's districts are not
    assert lines.index("  M1: 1 *") < lines.index("  M15: 170 *") < lines.index("  WA15: 1,868")


def test_a_postcode_given_twice_takes_its_later_position_and_a_moved_one_is_updated(fresh_db):
    load(fresh_db, TRAFFORD)
    with transaction(fresh_db):
        store.save_postcodes(fresh_db, [("M33 7ZF", 53.0, -2.0), ("M33 7ZF", 53.5, -2.5)])
        store.save_postcodes(fresh_db, [("M33 7ZG", 53.42, -2.31), ("M33 9ZZ", 53.41, -2.3)])
    assert store.find_postcode(fresh_db, "M33 7ZF") == (53.5, -2.5)  # the later row, as read
    assert store.find_postcode(fresh_db, "M33 7ZG") == (53.42, -2.31)
    assert store.find_postcode(fresh_db, "M33 9ZZ") == (53.41, -2.3)
    assert store.find_postcode(fresh_db, "M15 4AB") == (53.465578, -2.26046)  # as loaded
    assert store.count_postcodes(fresh_db) == 11127 + 2


def test_a_load_that_fails_midway_leaves_the_table_as_it_was_and_the_next_load_works(fresh_db):
    load(fresh_db, TRAFFORD)
    before = [tuple(r) for r in fresh_db.conn.execute("SELECT * FROM postcodes ORDER BY 1")]
    with pytest.raises(Exception), transaction(fresh_db):  # noqa: B017 (either engine's error)
        store.save_postcodes(fresh_db, [("M33 7ZF", 1.0, 1.0), ("M33 9ZZ", 53.4, -2.3)])
        store.save_postcodes(fresh_db, [("M33 9ZY", None, -2.3)])  # no latitude: refused
    after = [tuple(r) for r in fresh_db.conn.execute("SELECT * FROM postcodes ORDER BY 1")]
    assert after == before
    with transaction(fresh_db):
        store.save_postcodes(fresh_db, [("M33 9ZZ", 53.4, -2.3)])
    assert store.find_postcode(fresh_db, "M33 9ZZ") == (53.4, -2.3)
    assert store.find_postcode(fresh_db, "M33 7ZF") == pytest.approx((53.425111, -2.32))
