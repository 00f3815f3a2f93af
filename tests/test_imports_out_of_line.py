"""CSV rows whose cells are out of line with the headings are rejected, with the likely cause.

A list of records converted to CSV by hand often leaves a line break in a cell without quotes:
csv (like Excel) ends the row there, and the rest of it becomes a row of its own with a web
address in the latitude column. The files in tests/data/real_shaped/ (c_*.csv) are shaped like
that; each is imported through imports.preview and imports.apply, with the exact words a
coordinator sees.
"""

# ruff: noqa: E501  (the messages are asserted whole, as a coordinator reads them)

from __future__ import annotations

import csv
import io

import pytest

from assetmap import imports
from assetmap.imports.readers import open_table
from assetmap.store import connect
from tests.test_imports_support import ROOT, asset_named, fingerprint

REAL = ROOT / "tests" / "data" / "real_shaped"
ACCESS = "access_community_resources"
HEADINGS = "Ref,Name,Description,Postcode,Latitude,Longitude,Website,Kind,Strand"
QUOTE_THEM = "Put quotes around cells that hold line breaks or commas, or export the file again as CSV UTF-8, and import it again"

PREVIEWS = {
    "c_unquoted_line_break.csv": {
        "summary": "4 new, 0 changed, 0 unchanged, 2 rejected, 0 possible duplicates",
        "format": "CSV file, UTF-8, comma-separated",
        "notes": [],
        "problems": [
            f"error: row 3: is out of line: it has 3 cells where the headings have 9. Row 4 may be the rest of it, cut off by a line break in a cell that is not in quotes. {QUOTE_THEM}",
            f"error: row 4: is out of line: it has 7 cells where the headings have 9. It may be the rest of row 3, cut off by a line break in a cell that is not in quotes. {QUOTE_THEM}",
        ],
    },
    "c_bare_return_in_cell.csv": {
        "summary": "3 new, 0 changed, 0 unchanged, 2 rejected, 0 possible duplicates",
        "format": "CSV file, UTF-8, comma-separated, 5 records on 4 lines",
        "notes": [
            "1 row ended at a carriage return alone (\\r) inside a line, which csv and Excel read as the end of a row, though text editors do not show a new line there. If the returns were inside cells, the rows around them are out of line: put quotes around cells that hold line breaks or commas, or export the file again as CSV UTF-8, and import it again.",
        ],
        "problems": [
            f"error: row 3: is out of line: it has 3 cells where the headings have 9. Row 4 may be the rest of it, cut off by a line break (a carriage return alone, \\r) in a cell that is not in quotes. {QUOTE_THEM}",
            f"error: row 4: is out of line: it has 7 cells where the headings have 9. It may be the rest of row 3, cut off by a line break (a carriage return alone, \\r) in a cell that is not in quotes. {QUOTE_THEM}",
        ],
    },
}


@pytest.fixture
def db_path(trafford_db_path):
    return trafford_db_path


@pytest.mark.parametrize("name", sorted(PREVIEWS))
def test_coordinator_is_told_which_rows_are_out_of_line_and_why(db_path, name):
    expected = PREVIEWS[name]
    before = fingerprint(db_path)
    db = connect(db_path)
    try:
        report = imports.preview(db, REAL / name)
    finally:
        db.close()
    assert report.summary() == expected["summary"]
    assert report.format == expected["format"]
    assert report.all_notes() == expected["notes"]
    assert [f"{p.level}: {p}" for p in report.problems] == expected["problems"]
    assert fingerprint(db_path) == before


@pytest.mark.parametrize("name", sorted(PREVIEWS))
def test_no_web_address_is_imported_as_a_position_and_both_halves_are_kept_to_fix(
    db_path, tmp_path, name
):
    rejected = io.StringIO()
    db = connect(db_path)
    try:
        report = imports.apply(
            db, REAL / name, who="tests", archive_dir=tmp_path, rejected=rejected
        )
        assert report.summary() == PREVIEWS[name]["summary"]
        assert asset_named(db, "Knit and Natter") is None
        assert asset_named(db, "Tea") is None  # the rest of its row made no asset either
        football = asset_named(db, "Urmston Walking Football")
        assert (football["lat"], football["lon"]) == (53.458069, -2.349631)
    finally:
        db.close()
    # Both halves are in the rejected rows, cells as read, to be joined and imported again.
    halves = [row[2:] for row in csv.reader(io.StringIO(rejected.getvalue()))][1:]
    assert [half[:3] for half in halves] == [
        ["B2" if "bare" in name else "V2", "Stretford Knit and Natter", "Bring your own wool."],
        ["Tea provided" if "bare" in name else "Tea and biscuits provided", "M32 9BD", "53.445677"],
    ]
    assert halves[1][4] == "https://knit.example.org"  # under Latitude: out of line


def test_a_carriage_return_inside_quotes_stays_in_its_cell(db_path, tmp_path):
    db = connect(db_path)
    try:
        imports.apply(db, REAL / "c_bare_return_in_cell.csv", who="tests", archive_dir=tmp_path)
        lunch = asset_named(db, "Sale Moor Lunch Club")
        assert lunch["description"].split() == ["Hot", "lunch", "Every", "Tuesday"]
        assert lunch["website"] == "https://lunch.example.org"
    finally:
        db.close()


def rows_of(tmp_path, data: bytes):
    path = tmp_path / "audit.csv"
    path.write_bytes(data)
    table = open_table(path)
    try:
        return table, [(r.number, r.problem) for r in table.rows]
    finally:
        table.close()


def test_a_web_address_where_a_column_holds_numbers_is_out_of_line(tmp_path):
    table, rows = rows_of(
        tmp_path,
        b"Name,Postcode,Latitude,Longitude\n"
        b"A,M33 2JY,53.41,-2.29\n"
        b"B,M32 9BD,https://b.example.org,-2.30\n"
        b"C,M41 0TJ,53.45,-2.34\n"
        b"D,WA14 1AH,53.38,-2.35\n",
    )
    assert rows[1] == (
        3,
        "is out of line: column C (Latitude) holds a web address ('https://b.example.org') "
        "where its other rows hold numbers or postcodes, so the row's cells have probably moved "
        "under the wrong headings (a line break or comma in an earlier cell that is not in "
        f"quotes does that). {QUOTE_THEM}",
    )
    assert [problem for _, problem in rows if problem] == [rows[1][1]]


def test_long_text_in_a_postcode_column_is_out_of_line_but_a_short_word_is_left_to_cleaning(
    tmp_path,
):
    table, rows = rows_of(
        tmp_path,
        b"Name,Postcode\nA,M33 2JY\nB,Ring the office for the address\nC,M41 0TJ\nD,TBC\nE,WA14 1AH\n",
    )
    assert rows[1][1].startswith(
        "is out of line: column B (Postcode) holds text ('Ring the office for the address')"
    )
    assert rows[3] == (5, None)  # "TBC": cleaning reads it as empty


def test_a_row_split_by_an_unquoted_comma_is_out_of_line(tmp_path):
    table, rows = rows_of(
        tmp_path,
        f"{HEADINGS}\n"
        f"V1,Men's Shed,Woodwork, repairs,WA14 1AH,53.38,-2.35,https://shed.example.org,group,{ACCESS}\n"
        f"V2,Lunch Club,Hot lunch,M33 2JY,53.41,-2.29,https://lunch.example.org,group,{ACCESS}\n".encode(),
    )
    assert rows == [
        (
            2,
            "is out of line: it has 10 cells where the headings have 9 and the other rows 9, so "
            "its cells may be under the wrong headings (a comma in a cell that is not in quotes "
            f"splits it in two). {QUOTE_THEM}",
        ),
        (3, None),
    ]


def test_a_hand_written_file_with_returns_alone_in_cells_is_out_of_line_where_cut(tmp_path):
    table, rows = rows_of(
        tmp_path,
        b"Name,Description,Postcode,Website\nA,Lunch\rclub,M33 2JY\nB,Knit,M32 9BD\n",
    )
    assert [n for n, problem in rows if problem] == [2, 3]


def test_a_line_break_in_the_last_cell_makes_the_full_row_before_it_out_of_line_too(tmp_path):
    table, rows = rows_of(
        tmp_path,
        b"Name,Postcode,Description\nA,M33 2JY,Lunch\nB,M32 9BD,Knit\nand natter\nC,M41 0TJ,Football\n",
    )
    assert [n for n, problem in rows if problem] == [3, 4]
    assert rows[1][1].startswith("is out of line: it has 3 cells where the headings have 3. Row 4")


def test_cells_beyond_the_headings_on_every_row_are_unheaded_columns_not_out_of_line(tmp_path):
    table, rows = rows_of(
        tmp_path,
        b"Name,Postcode\nA,M33 2JY,note\nB,M32 9BD,note\nC,M41 0TJ,\n",
    )
    assert rows == [(2, None), (3, None), (4, None)]


def test_one_row_longer_than_all_the_others_is_out_of_line(tmp_path):
    table, rows = rows_of(
        tmp_path,
        b"Name,Postcode\nA,M33 2JY,note\nB,M32 9BD,note,more\nC,M41 0TJ,\n",
    )
    assert [n for n, problem in rows if problem] == [3]


def test_excel_padding_and_blank_rows_are_not_out_of_line(tmp_path):
    table, rows = rows_of(
        tmp_path,
        b"Name,Postcode,,\r\nA,M33 2JY,,\r\n,,,\r\n\r\nB,M32 9BD,,note\r\n",
    )
    assert table.description == "CSV file, UTF-8, comma-separated"
    assert rows == [(2, None), (3, None), (4, None), (5, None)]


def test_a_hand_written_file_without_padding_is_only_out_of_line_where_a_row_was_cut(tmp_path):
    # Most rows leave their empty last cells out, so one short row alone is not a cut.
    table, rows = rows_of(
        tmp_path,
        b"Name,Postcode,Website,Notes\nA,M33 2JY\nB,M32 9BD,https://b.example.org\nC,M41 0TJ\n",
    )
    assert rows == [(2, None), (3, None), (4, None)]


def test_old_mac_files_ending_lines_with_returns_alone_are_read_as_rows(tmp_path):
    table, rows = rows_of(tmp_path, b"Name,Postcode\rA,M33 2JY\rB,M32 9BD\r")
    assert table.description == "CSV file, UTF-8, comma-separated"
    assert table.notes == []
    assert rows == [(2, None), (3, None)]


def test_quoted_line_breaks_make_more_lines_than_records(tmp_path):
    table, rows = rows_of(
        tmp_path,
        b'Name,Description\r\nA,"one\r\ntwo\r\nthree"\r\nB,four',
    )
    assert table.description == "CSV file, UTF-8, comma-separated, 2 records on 4 lines"
    assert rows == [(2, None), (3, None)]
