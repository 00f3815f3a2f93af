"""Reading files as their authors saved them: encodings, separators, headings, row numbers; and
the one list of headings, checked against the documentation."""

from __future__ import annotations

import codecs
import csv

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assetmap.imports import columns
from assetmap.imports.cleaning import RowCleaner
from assetmap.imports.export import neutralise
from assetmap.imports.mapping import Mapping
from assetmap.imports.problems import ImportFileError, column_letter
from assetmap.imports.readers import SourceRow, open_table
from assetmap.imports.text import detect_encoding, sniff_delimiter
from tests.test_imports_support import ROOT


def test_the_guide_lists_every_heading_the_import_recognises():
    guide = (ROOT / "docs" / "importing.md").read_text(encoding="utf-8").casefold()
    missing = [
        f"{target}: {name}"
        for target, names in columns.ALIASES.items()
        for name in names
        if name.casefold() not in guide
    ]
    assert missing == []
    assert all(f"`{target}`" in guide for target in columns.ALIASES)


def test_the_template_in_docs_has_the_headings_the_import_knows():
    with (ROOT / "docs" / "import-template.csv").open(encoding="utf-8", newline="") as f:
        assert next(csv.reader(f)) == list(columns.TEMPLATE_FIELDS)


@pytest.mark.parametrize(
    ("heading", "target"),
    [
        ("Post Code", "postcode"),
        ("post_code", "postcode"),
        ("Postcode (required)", "postcode"),
        ("LONGITUDE", "lon"),
        ("x", "lon"),
        ("E-mail", "email"),
        ("Who is it for?", "audiences"),
        ("Address line 2", columns.ADDRESS_PART),
        ("Funding stream", columns.EXTRA),
    ],
)
def test_headings_are_recognised_however_they_are_written(heading, target):
    plan = columns.plan_columns(["Name", heading], Mapping())
    assert plan.columns[1].target == target


@pytest.mark.parametrize(
    ("heading", "in_gis", "elsewhere"),
    [
        ("ORGANISATI", "organisation", columns.EXTRA),
        ("DESCRIPTIO", "description", columns.EXTRA),
        ("CONTACT_NA", "contact_name", columns.EXTRA),
        ("POSTCODE_X", columns.EXTRA, columns.EXTRA),
        ("Accessible", "accessibility", columns.EXTRA),  # a yes/no column of a spreadsheet
    ],
)
def test_a_gis_files_names_cut_to_10_letters_are_recognised_there_only(heading, in_gis, elsewhere):
    assert columns.plan_columns(["Name", heading], Mapping(), gis=True).columns[1].target == in_gis
    assert columns.plan_columns(["Name", heading], Mapping()).columns[1].target == elsewhere


@pytest.mark.parametrize(
    ("index", "letter"), [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (701, "ZZ"), (702, "AAA")]
)
def test_column_letters_are_the_spreadsheets(index, letter):
    assert column_letter(index) == letter


@pytest.mark.parametrize(
    ("raw", "codec", "label"),
    [
        (codecs.BOM_UTF8 + "name\nCafé\n".encode(), "utf-8-sig", "UTF-8"),
        ("name\nCafé\n".encode(), "utf-8", "UTF-8"),
        ("name\n“Café” £2\n".encode("cp1252"), "cp1252", "Windows-1252"),
        (b"name\nCaf\xe9\x8d\n", "latin-1", "Latin-1 (ISO 8859-1)"),
        ("name\nZoë\n".encode("utf-16"), "utf-16", "UTF-16"),
        ("name\nCafé ".encode() + "£".encode("cp1252"), "utf-8", "UTF-8"),
    ],
)
def test_the_encoding_is_found_from_the_bytes(tmp_path, raw, codec, label):
    path = tmp_path / "file.csv"
    path.write_bytes(raw)
    found = detect_encoding(path)
    assert (found.codec, found.label) == (codec, label)


@pytest.mark.parametrize(
    ("sample", "delimiter"),
    [
        ('name,description\n"Tea; cake",x\nA,b\n', ","),
        ('name;description\n"Tea, cake";x\nA;b\n', ";"),
        ("name\tdescription\nA\tb\n", "\t"),
        ("name|description\nA|b\n", "|"),
        ("name\nA\n", ","),
    ],
)
def test_the_separator_is_the_one_that_splits_rows_alike(sample, delimiter):
    assert sniff_delimiter(sample) == delimiter


def test_row_numbers_are_the_spreadsheets_even_across_quoted_line_breaks(tmp_path):
    path = tmp_path / "audit.csv"
    path.write_bytes(
        b'Our audit,,\r\n\r\nname,kind,description\r\nA,group,"one\r\ntwo"\r\n\r\nB,group,three\r\n'
    )
    table = open_table(path)
    assert table.headers == ["name", "kind", "description"]
    assert [(r.number, r.cells) for r in table.rows] == [
        (4, ["A", "group", "one\r\ntwo"]),
        (5, []),
        (6, ["B", "group", "three"]),
    ]
    table.close()
    assert table.notes == [
        "Row 1 (“Our audit”) came above the column headings in row 3 and was not imported."
    ]


def test_a_workbook_saved_as_csv_by_its_name_is_still_read_as_a_workbook(tmp_path):
    import shutil

    shutil.copy(ROOT / "tests" / "data" / "bad_imports" / "several_sheets.xlsx", tmp_path / "x.csv")
    table = open_table(tmp_path / "x.csv")
    assert table.description == "Excel workbook, sheet “Assets”"
    table.close()


def test_a_zip_of_something_else_is_refused_with_what_to_send(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "photos.zip", "w") as archive:
        archive.writestr("photo.jpg", b"\xff\xd8\xff")
    with pytest.raises(ImportFileError) as refused:
        open_table(tmp_path / "photos.zip")
    assert str(refused.value) == (
        "is a zip file without a workbook or a shapefile in it. Import the spreadsheet itself, "
        "or zip the .shp, .shx, .dbf and .prj files of one shapefile together"
    )


@given(st.text(max_size=30))
def test_exported_cells_never_start_a_formula_and_read_back_unchanged(text):
    safe = neutralise(text)
    assert not safe.startswith(("=", "+", "@", "\t", "\r")) or safe == text
    if safe.startswith("-"):
        float(safe)  # only a plain number may start with a minus
    plan = columns.plan_columns(["name"], Mapping())
    cleaner = RowCleaner(plan, Mapping(), source="t")
    assert cleaner._cell(safe) == cleaner._cell(text)


@pytest.mark.parametrize(
    ("ages", "low", "high"),
    [("18+", 18, None), ("5-11", 5, 11), ("5 to 11", 5, 11), ("under 16", None, 15),
     ("over 50s", 50, None), ("Over 18s", 18, None), ("over 16", 16, None),
     ("older than 50", 51, None), ("all ages", None, None)],
)  # fmt: skip
def test_age_ranges_become_minimum_and_maximum_ages(ages, low, high):
    plan = columns.plan_columns(["Name", "Kind", "Strand", "Lat", "Lon", "Ages"], Mapping())
    cleaner = RowCleaner(plan, Mapping(), source="t")
    row = cleaner.clean(
        SourceRow(2, ["Club", "group", "access_community_resources", "53.4", "-2.3", ages])
    )
    assert (row.record["min_age"], row.record["max_age"]) == (low, high)


def test_address_lines_and_town_are_joined_into_the_address():
    plan = columns.plan_columns(
        ["Name", "Kind", "Strand", "Address line 1", "Town", "Postcode", "Lat", "Lon"], Mapping()
    )
    cleaner = RowCleaner(plan, Mapping(), source="t")
    row = cleaner.clean(
        SourceRow(
            2,
            [
                "Club",
                "group",
                "access_community_resources",
                "2 Pott Street",
                "Altrincham",
                "WA14 1AH",
                "53.38",
                "-2.35",
            ],
        )  # fmt: skip
    )
    assert row.record["address"] == "2 Pott Street, Altrincham"


def test_tab_separated_unicode_text_from_excel_is_read(tmp_path):
    path = tmp_path / "unicode.txt"
    path.write_bytes("name\tkind\r\nZoë\tgroup\r\n".encode("utf-16"))
    table = open_table(path)
    assert table.description == "Tab-separated text file, UTF-16"
    assert [r.cells for r in table.rows] == [["Zoë", "group"]]
    table.close()


def test_reading_never_holds_the_whole_csv(tmp_path):
    """Rows are read lazily: the reader has not reached the end after the first row."""
    path = tmp_path / "long.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["name", "kind"])
        writer.writerows([f"Club {n}", "group"] for n in range(50_000))
    table = open_table(path)
    first = next(iter(table.rows))
    assert first.number == 2
    table.close()


def test_every_field_is_recognised_by_its_own_name():
    from assetmap.record.fields import FIELD_NAMES

    names = [n for n in FIELD_NAMES if n != "id"]
    plan = columns.plan_columns(names, Mapping())
    assert [c.target for c in plan.columns] == names


def test_hidden_rows_of_a_workbook_are_read_and_named(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Name", "Kind", "Strand", "Postcode"])
    for n in range(4):
        sheet.append([f"Sale Club {n}", "group", "access_community_resources", "M33 7ZF"])
    sheet.row_dimensions[3].hidden = True
    sheet.row_dimensions[5].hidden = True
    book.save(tmp_path / "hidden.xlsx")
    table = open_table(tmp_path / "hidden.xlsx")
    assert len(list(table.rows)) == 4
    table.close()
    assert table.notes == [
        "Rows 3, 5 are hidden in the workbook (or filtered out), and were read like the others. "
        "If they should not be imported, delete them from the sheet."
    ]
