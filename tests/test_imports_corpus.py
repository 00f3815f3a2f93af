"""The bad-input corpus: every file in tests/data/bad_imports/ imported, with the exact words a
coordinator sees for it (tests/data/bad_imports is made by scripts/make_bad_imports.py).

A refused file says what it is and what to do; every other problem names the row as the
spreadsheet shows it, the column, the value and the fix.
"""

# ruff: noqa: E501  (the messages are asserted whole, as a coordinator reads them)

from __future__ import annotations

import openpyxl
import pytest

from assetmap import imports
from assetmap.imports import ImportFileError, ImportOptions, load_mapping
from assetmap.imports.columns import TARGETS
from assetmap.store import connect
from tests.test_imports_support import (
    BAD,
    asset_named,
    fingerprint,
)

CORPUS = {
    "bad_coordinates.csv": {
        "summary": "0 new, 0 changed, 0 unchanged, 5 rejected, 0 possible duplicates",
        "format": "CSV file, UTF-8, comma-separated",
        "notes": [],
        "problems": [
            "error: row 2, column F (Latitude): '53.4x' is not a number; enter a latitude in decimal degrees from -90 to 90",
            "error: row 3, column F (Latitude): 91 is out of range; enter a latitude in decimal degrees from -90 to 90",
            "error: row 4, column G (Longitude): lon is empty but lat is not; give both, or leave both empty to place the asset from its postcode",
            "error: row 5, column F (Latitude): 0, 0 is not a real position, and there is no postcode to place it from; give lat and lon, or a postcode",
            "error: row 6, column F (Latitude): 48.85 is outside the UK (latitude 49.8 to 60.95); check the latitude, in WGS84 decimal degrees",
            "error: row 6, column G (Longitude): 2.35 is outside the UK (longitude -8.75 to 1.8); check the longitude, in WGS84 decimal degrees (west of Greenwich is negative)",
        ],
    },
    "binary_junk.csv": {
        "refused": "binary_junk.csv is not a spreadsheet, CSV or GIS file we can read (it holds binary data). Export the data as CSV UTF-8, Excel Workbook (.xlsx), GeoJSON or GeoPackage",
    },
    "bng_crs.geojson": {
        "summary": "1 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "GeoJSON, 1 feature",
        "notes": [
            "Coordinates were converted from OSGB36 / British National Grid to longitude and latitude.",
        ],
        "problems": [],
    },
    "broken.geojson": {
        "refused": "broken.geojson is not valid JSON: Expecting property name enclosed in double quotes at line 3, column 1. Export the GeoJSON again from the GIS, or check that line in a text editor",
    },
    "damaged.xlsx": {
        "refused": "damaged.xlsx looks like a workbook or zip file but is damaged or incomplete. Open it in Excel (or unzip it) to check it, save it again, and import the new file",
    },
    "duplicated_names.csv": {
        "summary": "1 new, 0 changed, 0 unchanged, 1 rejected, 0 possible duplicates",
        "format": "CSV file, UTF-8, comma-separated",
        "notes": [
            "2 rows had no coordinates and were placed from their postcode.",
        ],
        "problems": [
            "error: row 3, column A (Name): has the same name and postcode as row 2. If they are different activities, give them different names (for example add the day); if not, delete the row that is out of date",
        ],
    },
    "duplicated_rows.csv": {
        "summary": "2 new, 0 changed, 0 unchanged, 2 rejected, 0 possible duplicates",
        "format": "CSV file, UTF-8, comma-separated",
        "notes": [
            "4 rows had no coordinates and were placed from their postcode.",
        ],
        "problems": [
            "error: row 4, column B (Name): is a copy of row 2; delete one of the two rows (only the first is imported)",
            "error: row 5, column A (Ref): has the same Ref as row 3 but different details; give each asset its own Ref, or delete the row that is out of date",
        ],
    },
    "eastings_northings.csv": {
        "summary": "1 new, 0 changed, 0 unchanged, 1 rejected, 0 possible duplicates",
        "format": "CSV file, UTF-8, comma-separated",
        "notes": [
            "1 row had British National Grid eastings and northings, converted to latitude and longitude.",
        ],
        "problems": [
            "error: row 3, column E (Easting): has an easting or a northing but not both; give both, or neither",
        ],
    },
    "empty.csv": {
        "refused": "empty.csv is empty (0 bytes). Check that the spreadsheet was saved before it was exported, and choose the file again",
    },
    "empty_markers_and_spaces.csv": {
        "summary": "1 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "CSV file, UTF-8, comma-separated",
        "notes": [
            "1 row had no coordinates and was placed from its postcode.",
        ],
        "problems": [],
    },
    "excel_unicode_text.txt": {
        "summary": "1 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "Tab-separated text file, UTF-16",
        "notes": [
            "1 row had no coordinates and was placed from its postcode.",
        ],
        "problems": [],
    },
    "formula_cells.csv": {
        "summary": "1 new, 0 changed, 0 unchanged, 2 rejected, 0 possible duplicates",
        "format": "CSV file, UTF-8, comma-separated",
        "notes": [
            "3 rows had no coordinates and were placed from their postcode.",
        ],
        "problems": [
            "error: row 2, column B (Name): '=HYPERLINK(\"http://evil.example\")' is a spreadsheet formula, not a value. In the spreadsheet, copy the column and paste it back with Paste Special > Values only, then save and import again",
            "warning: row 3, column F (Website): '=cmd|' /C calc'!A0' is a spreadsheet formula, not a value. In the spreadsheet, copy the column and paste it back with Paste Special > Values only, then save and import again. The row was imported without it, and the formula kept as extra information",
            "error: row 4, column B (Name): '@SUM(1+1)*cmd|' /C calc'!A0' is a spreadsheet formula, not a value. In the spreadsheet, copy the column and paste it back with Paste Special > Values only, then save and import again",
        ],
    },
    "formula_without_saved_result.xlsx": {
        "summary": "1 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "Excel workbook, sheet “Sheet”",
        "notes": [
            "1 row had no coordinates and was placed from its postcode.",
        ],
        "problems": [
            'warning: row 2, column F (Description): holds the formula =CONCAT(B2, " meet weekly"), whose result was not saved in the file. Open the workbook in Excel and save it again, or paste the column back as values only, then import it again. The row was imported without it, and the formula kept as extra information',
        ],
    },
    "free_text_type.csv": {
        "summary": "2 new, 0 changed, 0 unchanged, 1 rejected, 0 possible duplicates",
        "format": "CSV file, UTF-8, comma-separated",
        "notes": [
            "3 rows had no coordinates and were placed from their postcode.",
        ],
        "problems": [
            "error: row 4, column C (Type): kind is required; use one of group, activity, service, place, volunteering (the mapping file gives no kind for this value)",
            'warning: row 4, column C (Type): \'Knitting circle\' is not in the mapping file\'s [values."Type"]; add it there (or a "*" entry for any other value). The text is kept as extra information',
        ],
    },
    "headers_only.csv": {
        "refused": "headers_only.csv has column headings but no rows of assets under them; add the assets in the rows below the headings, one asset to a row",
    },
    "html_in_cells.csv": {
        "summary": "1 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "CSV file, UTF-8, comma-separated",
        "notes": [
            "1 row had no coordinates and was placed from its postcode.",
        ],
        "problems": [],
    },
    "huge_cell.csv": {
        "refused": "huge_cell.csv has 5,242,896 characters in one cell (row 2, column F); the "
        "most a cell may hold is 32,768 (the ASSETMAP_IMPORT_MAX_CELL_KB setting). Shorten that "
        "cell and import the file again",
    },
    "latin_1.csv": {
        "summary": "1 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "CSV file, Latin-1 (ISO 8859-1), comma-separated",
        "notes": [
            "1 row had no coordinates and was placed from its postcode.",
        ],
        "problems": [],
    },
    "lines_and_oddities.geojson": {
        "summary": "2 new, 0 changed, 0 unchanged, 1 rejected, 0 possible duplicates",
        "format": "GeoJSON, 3 features",
        "notes": [],
        "problems": [
            "warning: feature 1: is a line (such as a route); the asset is placed at its middle and the line itself is not kept",
            'error: feature 2: is not a GeoJSON Feature (an object with "type": "Feature"); export the layer again from the GIS',
        ],
    },
    "lonely_part.shp": {
        "refused": "lonely_part.shp is one part of a shapefile. Put the .shp, .shx, .dbf and .prj files together in one .zip file and import the .zip",
    },
    "missing_kind_and_strand.csv": {
        "refused": 'missing_kind_and_strand.csv has no column for the kind or the strand, which every asset needs. Rename the columns that hold them to kind and strand (the template\'s headings), or name them in a mapping file ([columns] "Your heading" = "kind"), where [defaults] can also set one kind or strand for every row. The file\'s columns are: A (Ref), B (Name), C (Type), D (Postcode).',
    },
    "missing_name_column.csv": {
        "refused": 'missing_name_column.csv has no column for the name, which every asset needs. Rename the column that holds it to name (the template\'s heading), or name it in a mapping file ([columns] "Your heading" = "name"). The file\'s columns are: A (Ref), B (Group), C (Kind), D (Strand), E (Postcode).',
    },
    "mixed_encoding.csv": {
        "summary": "1 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "CSV file, UTF-8, comma-separated",
        "notes": [
            "The file is UTF-8 except for 1 character saved in another encoding, read as Windows-1252. Check accented letters and symbols such as £ in the imported text, and save the file as CSV UTF-8 next time.",
            "1 row had no coordinates and was placed from its postcode.",
        ],
        "problems": [],
    },
    "multiline_crlf.csv": {
        "summary": "1 new, 0 changed, 0 unchanged, 1 rejected, 0 possible duplicates",
        "format": "CSV file, UTF-8, comma-separated, 2 records on 4 lines",
        "notes": [
            "2 rows had no coordinates and were placed from their postcode.",
        ],
        "problems": [
            "error: row 3, column C (Kind): 'grop' is not a kind; use one of group, activity, service, place, volunteering",
        ],
    },
    "near_duplicates.csv": {
        "summary": "3 new, 0 changed, 0 unchanged, 0 rejected, 2 possible duplicates",
        "format": "CSV file, UTF-8, comma-separated",
        "notes": [],
        "problems": [
            "duplicate: row 2, column B (Name): may be the same as “Sale Walking Group”, already listed 26 m away (id sale-walking-group). It is added as a new asset and flagged: check both, and archive one if they are the same",
            "duplicate: row 3, column B (Name): may be the same as “Partington Community Garden”, already listed 13 m away (id partington-community-garden). It is added as a new asset and flagged: check both, and archive one if they are the same",
        ],
    },
    "no_position_columns.csv": {
        "refused": "no_position_columns.csv has no column that places each asset: add lat and lon (latitude and longitude), easting and northing, or a postcode column. The file's columns are: A (Ref), B (Name), C (Kind), D (Strand), E (Venue).",
    },
    "numbers_as_numbers.xlsx": {
        "summary": "1 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "Excel workbook, sheet “Sheet”",
        "notes": [
            "1 row had no coordinates and was placed from its postcode.",
        ],
        "problems": [
            "warning: row 2, column F (Phone): the spreadsheet stored this number as a number and dropped its leading 0; it was read as 01619127000. Format the column as text to keep the 0",
        ],
    },
    "odd_contacts.csv": {
        "summary": "3 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "CSV file, UTF-8, comma-separated",
        "notes": [
            "3 rows had no coordinates and were placed from their postcode.",
        ],
        "problems": [
            "warning: row 2, column F (Phone): only the number 0161 912 3000 was kept from this text; the full text is kept as extra information. Put one number in this column, and notes elsewhere",
            "warning: row 2, column G (Email): only the address quilters@example.org was kept from this text; put one email address in this column",
            "warning: row 2, column H (Website): had no https:// in front; it was read as https://www.example.org/quilters. Check it opens",
            "warning: row 3, column F (Phone): 'ring reception' may only contain digits, spaces, a leading +, brackets and hyphens; enter a number such as 0161 912 2000. It was left out and kept as extra information; the rest of the row was imported",
            "warning: row 3, column G (Email): 'knitters at example dot org' is not an email address; enter one such as name@example.org. It was left out and kept as extra information; the rest of the row was imported",
            "warning: row 3, column H (Website): 'ftp://example.org' must start with http:// or https://. It was left out and kept as extra information; the rest of the row was imported",
            "warning: row 4, column F (Phone): this number had lost its leading 0; it was read as 01619124000. Check it",
        ],
    },
    "old_excel.xls": {
        "refused": "old_excel.xls is an old Excel 97-2003 workbook (.xls), which cannot be read. In Excel choose File > Save As, pick Excel Workbook (.xlsx) or CSV UTF-8, and import that file",
    },
    "only_blank_lines.csv": {
        "refused": "only_blank_lines.csv has nothing in it but blank lines. Check that the spreadsheet was saved before it was exported, and choose the file again",
    },
    "polygons.geojson": {
        "summary": "2 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "GeoJSON, 2 features",
        "notes": [],
        "problems": [
            "warning: feature 2: the Polygon's edges crossed, so it was repaired; check the service area on the map",
        ],
    },
    "postcodes_not_found.csv": {
        # The Trafford extract holds only part of each district, so a postcode missing from
        # it is not placed at a "centre" of the few postcodes it has (issue 14).
        "summary": "0 new, 0 changed, 0 unchanged, 5 rejected, 0 possible duplicates",
        "format": "CSV file, UTF-8, comma-separated",
        "notes": [],
        "problems": [
            "error: row 2, column E (Postcode): the asset has no lat and lon, and M33 7YY is not in our postcode list, and the list is not known to hold every postcode of district M33, so the centre of the ones it has would be a guess. The list covers postcodes in districts M15, M16, M17, M21, M23, M31, M32, M33, M41, WA13, WA14, WA15 (not known to be in full). Check the postcode, or give lat and lon; or ask an administrator to load the ONS Postcode Directory for postcode area M (or the whole country) with `assetmap postcodes load FILE`, then import this file again",
            "error: row 3, column E (Postcode): the asset has no lat and lon, and M33 8AA is not in our postcode list, and the list is not known to hold every postcode of district M33, so the centre of the ones it has would be a guess. The list covers postcodes in districts M15, M16, M17, M21, M23, M31, M32, M33, M41, WA13, WA14, WA15 (not known to be in full). Check the postcode, or give lat and lon; or ask an administrator to load the ONS Postcode Directory for postcode area M (or the whole country) with `assetmap postcodes load FILE`, then import this file again",
            "error: row 4, column E (Postcode): the asset has no lat and lon, and ZE1 0AA is not in our postcode list, which has none in district ZE1. The list covers postcodes in districts M15, M16, M17, M21, M23, M31, M32, M33, M41, WA13, WA14, WA15 (not known to be in full). Check the postcode, or give lat and lon; or ask an administrator to load the ONS Postcode Directory for postcode area ZE (or the whole country) with `assetmap postcodes load FILE`, then import this file again",
            "error: row 5, column E (Postcode): has no position; give lat and lon, or a postcode to place it from",
            "error: row 6, column E (Postcode): 'M33 7Z' is not a UK postcode; enter one such as M33 7ZF",
        ],
    },
    "ragged_rows.csv": {
        "summary": "1 new, 0 changed, 0 unchanged, 1 rejected, 0 possible duplicates",
        "format": "CSV file, UTF-8, comma-separated",
        "notes": [
            "1 row had no coordinates and was placed from its postcode.",
            "1 row had cells to the right of the last heading; they were kept as extra information (as “column F” and so on). Give those columns headings.",
        ],
        "problems": [
            "error: row 3: is out of line: it has 4 cells where the headings have 5, so its cells may be under the wrong headings (a line break in a cell that is not in quotes cuts a row in two). Put quotes around cells that hold line breaks or commas, or export the file again as CSV UTF-8, and import it again",
        ],
    },
    "report.pdf.csv": {
        "refused": "report.pdf.csv is a PDF, not a spreadsheet; import the spreadsheet the PDF was made from",
    },
    "semicolon_decimal_comma.csv": {
        "summary": "1 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "CSV file, UTF-8, semicolon-separated",
        "notes": [],
        "problems": [],
    },
    "several_sheets.xlsx": {
        "summary": "1 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "Excel workbook, sheet “Assets”",
        "notes": [
            "The workbook has 3 sheets (Assets, Notes, Lookups); only the first, “Assets”, was imported. To import another, give its name as the sheet to import.",
            "1 row had no coordinates and was placed from its postcode.",
        ],
        "problems": [],
    },
    "shapefile_without_prj.zip": {
        "summary": "2 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "Shapefile “food”, 2 features",
        "notes": [
            "The shapefile has no .prj file, so it does not say which coordinate system it uses. Its coordinates look like British National Grid eastings and northings, so they were read as that; if the assets appear in the wrong place, add its .prj file to the zip and import again.",
            "Coordinates were converted from OSGB36 / British National Grid to longitude and latitude.",
        ],
        "problems": [],
    },
    "swapped_coordinates.csv": {
        "summary": "1 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "CSV file, UTF-8, comma-separated",
        "notes": [],
        "problems": [
            "warning: row 2, column F (Latitude): latitude and longitude were the wrong way round (lat -2.4262, lon 53.4189); they were swapped. Check that the two columns are headed the right way",
        ],
    },
    "title_and_blank_rows.csv": {
        "summary": "2 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "CSV file, UTF-8, comma-separated",
        "notes": [
            "Rows 1, 2 (“Trafford asset audit 2024”) came above the column headings in row 3 and were not imported.",
            "2 rows had no coordinates and were placed from their postcode.",
            "1 blank row was skipped.",
        ],
        "problems": [],
    },
    "two_layers.gpkg": {
        "summary": "1 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "GeoPackage, layer “places”, 1 feature",
        "notes": [
            "The GeoPackage has 2 layers (places, wards); only the first, “places”, was imported. To import another, give its name as the layer.",
        ],
        "problems": [],
    },
    "unknown_strand.csv": {
        "summary": "0 new, 0 changed, 0 unchanged, 2 rejected, 0 possible duplicates",
        "format": "CSV file, UTF-8, comma-separated",
        "notes": [
            "2 rows had no coordinates and were placed from their postcode.",
        ],
        "problems": [
            "error: row 2, column D (Strand): 'health and wellbeing' is not a strand; use one of strengthening_communities, volunteer_peer_roles, collaborations_partnerships, access_community_resources",
            "error: row 3, column C (Kind): 'walking group' is not a kind; use one of group, activity, service, place, volunteering",
        ],
    },
    "unmapped_columns.csv": {
        "summary": "1 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "CSV file, UTF-8, comma-separated",
        "notes": [
            "Not imported into any field, kept as extra information with each row: F (Funding stream), G (Mobile). To import one into a field, rename its heading (see the template) or name it in a mapping file.",
            "1 row had no coordinates and was placed from its postcode.",
        ],
        "problems": [],
    },
    "windows_1252.csv": {
        "summary": "1 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "CSV file, Windows-1252, comma-separated",
        "notes": [
            "1 row had no coordinates and was placed from its postcode.",
        ],
        "problems": [],
    },
    "totals_and_notes_rows.csv": {
        "summary": "2 new, 0 changed, 0 unchanged, 2 rejected, 0 possible duplicates",
        "format": "CSV file, UTF-8, comma-separated",
        "notes": [
            "2 rows had no coordinates and were placed from their postcode.",
            "1 blank row was skipped.",
        ],
        "problems": [
            "error: row 5, column A (Name): looks like a totals or notes line under the table, not an asset; delete it from the table (or move it to another sheet) and import again",
            "error: row 6, column A (Name): looks like a totals or notes line under the table, not an asset; delete it from the table (or move it to another sheet) and import again",
        ],
    },
    "address_without_postcode.csv": {
        "summary": "1 new, 0 changed, 0 unchanged, 1 rejected, 0 possible duplicates",
        "format": "CSV file, UTF-8, comma-separated",
        "notes": [
            "1 row had no coordinates and was placed from its postcode.",
            "1 row had no postcode of its own; it was taken from the address.",
        ],
        "problems": [
            "error: row 2, column D (Address): has no postcode in it, and the file has no postcode or lat and lon columns, so the asset cannot be placed; add the postcode to the address, or give lat and lon",
        ],
    },
    "excel_times_and_prices.xlsx": {
        "summary": "2 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "Excel workbook, sheet “Sheet”",
        "notes": [
            "2 rows had no coordinates and were placed from their postcode.",
            "1 row gave days and times in words (“Tuesdays 10:00 till 12:00”); they were read as sessions, so that search finds it by day and time, and the words kept as notes. Check a few on their asset pages.",
        ],
        "problems": [
            # A time with no day is kept as words, and said (issue 14).
            'warning: row 2, column E (Times): could not read “18:30” as days and times (no day is given for these times), so no sessions were taken from this cell and search will not find it by day or time; the words are kept as the schedule\'s notes. Write each day with its times after it, such as "Tue 11am-2pm, Fri 11.30am-1.30pm; 1st Saturday of the month 10-12", and import again',
            "warning: row 3, column F (Cost (£)): is not free, low cost or paid, so it was kept as the cost details and the cost left empty. Enter free, low_cost or paid so people can filter by cost",
        ],
    },
    "merged_cells.xlsx": {
        "summary": "4 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "Excel workbook, sheet “Sheet”",
        "notes": [
            "Some cells are merged down over several rows (E2:E4); each of those rows was given the merged cell's value, as Excel shows it.",
            "4 rows had no coordinates and were placed from their postcode.",
        ],
        "problems": [],
    },
    "wrong_sheet_size.xlsx": {
        "summary": "4 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "Excel workbook, sheet “Sheet”",
        "notes": ["4 rows had no coordinates and were placed from their postcode."],
        "problems": [],
    },
    "swapped_point.geojson": {
        "summary": "1 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "GeoJSON, 1 feature",
        "notes": [],
        "problems": [
            "warning: feature 1: the point's latitude and longitude were the wrong way round (GeoJSON gives longitude first); they were swapped. Check how the file was made",
        ],
    },
}

MAPPINGS = {"free_text_type.csv": "type_mapping.toml"}


@pytest.fixture
def db_path(trafford_db_path):
    return trafford_db_path


def options_for(name: str) -> ImportOptions:
    options = ImportOptions()
    if name in MAPPINGS:
        options.mapping = load_mapping(BAD / MAPPINGS[name])
    return options


def test_the_corpus_has_at_least_25_files_and_each_is_checked_here():
    files = {p.name for p in BAD.iterdir()} - set(MAPPINGS.values()) - {"bad_mapping.toml"}
    assert len(files) >= 25
    assert files == set(CORPUS)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_coordinator_sees_exactly_what_is_wrong_with_each_bad_file(db_path, name):
    expected = CORPUS[name]
    db = connect(db_path)
    try:
        if "refused" in expected:
            with pytest.raises(ImportFileError) as refused:
                imports.preview(db, BAD / name, options_for(name))
            assert f"{name} {refused.value}" == expected["refused"]
            return
        report = imports.preview(db, BAD / name, options_for(name))
    finally:
        db.close()
    assert report.summary() == expected["summary"]
    assert report.format == expected["format"]
    assert report.all_notes() == expected["notes"]
    assert [f"{p.level}: {p}" for p in report.problems] == expected["problems"]


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_previewing_any_bad_file_changes_nothing(db_path, name):
    before = fingerprint(db_path)
    db = connect(db_path)
    try:
        imports.preview(db, BAD / name, options_for(name))
    except ImportFileError:
        pass
    finally:
        db.close()
    assert fingerprint(db_path) == before


@pytest.mark.parametrize("name", sorted(n for n, e in CORPUS.items() if "refused" in e))
def test_a_refused_file_leaves_the_database_exactly_as_it_was(db_path, tmp_path, name):
    before = fingerprint(db_path)
    db = connect(db_path)
    try:
        with pytest.raises(ImportFileError):
            imports.apply(db, BAD / name, who="tests", archive_dir=tmp_path / "imports")
    finally:
        db.close()
    assert fingerprint(db_path) == before
    assert not (tmp_path / "imports").exists() or not any((tmp_path / "imports").iterdir())


def test_a_mapping_file_with_a_typo_is_one_message_with_the_fix():
    with pytest.raises(ImportFileError) as refused:
        load_mapping(BAD / "bad_mapping.toml")
    targets = ", ".join(sorted(TARGETS))  # every field, and the column kinds an import knows
    assert str(refused.value) == (
        f"[columns] \"Type\" = 'kinds': that is not a field. Use one of {targets}"
    )


def imported(db_path, name: str, tmp_path) -> connect:
    db = connect(db_path)
    imports.apply(db, BAD / name, options_for(name), who="tests", archive_dir=tmp_path)
    return db


def test_windows_1252_and_latin_1_files_keep_their_accents_and_symbols(db_path, tmp_path):
    db = imported(db_path, "windows_1252.csv", tmp_path)
    assert asset_named(db, "Sociable")["name"] == "Café Sociable"
    assert asset_named(db, "Sociable")["cost_details"] == "“Pay as you feel” – £2"
    imports.apply(db, BAD / "latin_1.csv", who="tests", archive_dir=tmp_path)
    assert asset_named(db, "Rendezvous")["name"] == "Café Rendezvous"
    assert asset_named(db, "Rendezvous")["description"] == "Señora Ana's group"
    imports.apply(db, BAD / "mixed_encoding.csv", who="tests", archive_dir=tmp_path)
    assert asset_named(db, "Choir")["name"] == "Crème de la Crème Choir"
    assert asset_named(db, "Choir")["cost_details"] == "£3 a week"
    imports.apply(db, BAD / "excel_unicode_text.txt", who="tests", archive_dir=tmp_path)
    assert asset_named(db, "Knitting Circle")["name"] == "Zoë's Knitting Circle"
    db.close()


def test_spaces_markers_and_html_are_cleaned_from_cells(db_path, tmp_path):
    db = imported(db_path, "empty_markers_and_spaces.csv", tmp_path)
    bowls = asset_named(db, "Bowls")
    assert bowls["name"] == "Sale Bowls Club"
    assert bowls["postcode"] == "M33 7ZF"
    assert (bowls["phone"], bowls["email"], bowls["website"], bowls["cost"]) == (None,) * 4
    imports.apply(db, BAD / "html_in_cells.csv", who="tests", archive_dir=tmp_path)
    chips = asset_named(db, "Chips")
    assert chips["name"] == "Fish & Chips Club"
    assert chips["description"] == "Fun & games\n\nEvery Friday"
    db.close()


def test_polygons_are_placed_inside_and_kept_as_service_areas(db_path, tmp_path):
    db = imported(db_path, "polygons.geojson", tmp_path)
    befriending = asset_named(db, "Befriending")
    assert befriending["service_area"]["type"] == "Polygon"
    assert -2.33 < befriending["lon"] < -2.31 and 53.42 < befriending["lat"] < 53.43
    assert asset_named(db, "Neighbourhood Watch")["service_area"]["type"] in (
        "Polygon",
        "MultiPolygon",
    )
    db.close()


def test_british_national_grid_files_land_in_trafford(db_path, tmp_path):
    db = imported(db_path, "shapefile_without_prj.zip", tmp_path)
    food_bank = asset_named(db, "Food Bank")
    assert 53.44 < food_bank["lat"] < 53.47 and -2.33 < food_bank["lon"] < -2.30
    imports.apply(db, BAD / "bng_crs.geojson", who="tests", archive_dir=tmp_path)
    rangers = asset_named(db, "Rangers")
    assert 53.40 < rangers["lat"] < 53.45 and -2.36 < rangers["lon"] < -2.32
    imports.apply(db, BAD / "eastings_northings.csv", who="tests", archive_dir=tmp_path)
    cricket = asset_named(db, "Cricket")
    assert 53.45 < cricket["lat"] < 53.47 and -2.30 < cricket["lon"] < -2.28
    db.close()


def test_semicolons_decimal_commas_and_quoted_line_breaks_are_read(db_path, tmp_path):
    db = imported(db_path, "semicolon_decimal_comma.csv", tmp_path)
    dominoes = asset_named(db, "Dominoes")
    assert (dominoes["lat"], dominoes["lon"]) == (53.4516, -2.3676)
    assert dominoes["description"] == "Dominoes, cards; and tea"
    imports.apply(db, BAD / "multiline_crlf.csv", who="tests", archive_dir=tmp_path)
    assert asset_named(db, "Memory")["description"] == "Line one\nLine two\nLine three"
    db.close()


def test_swapped_coordinates_are_put_back(db_path, tmp_path):
    db = imported(db_path, "swapped_coordinates.csv", tmp_path)
    gardeners = asset_named(db, "Gardeners")
    assert (gardeners["lat"], gardeners["lon"]) == (53.4189, -2.4262)
    db.close()


def test_workbook_numbers_and_dates_become_text_and_dates(db_path, tmp_path):
    db = imported(db_path, "numbers_as_numbers.xlsx", tmp_path)
    bridge = asset_named(db, "Bridge Club")
    assert (bridge["source_id"], bridge["phone"], bridge["last_verified"]) == (
        "101",
        "01619127000",
        "2024-03-31",
    )
    db.close()


def test_excel_times_prices_and_ages_are_read_as_people_mean_them(db_path, tmp_path):
    db = imported(db_path, "excel_times_and_prices.xlsx", tmp_path)
    football = asset_named(db, "Football")
    assert football["schedule"]["notes"] == "18:30"
    assert (football["cost"], football["min_age"]) == ("free", 18)
    knitters = asset_named(db, "Knit Club")
    assert (knitters["cost"], knitters["cost_details"], knitters["min_age"]) == (None, "£2.50", 50)
    db.close()


@pytest.mark.parametrize("name", ["merged_cells.xlsx", "wrong_sheet_size.xlsx"])
def test_every_row_of_a_workbook_is_read_with_merged_cells_given_to_each(db_path, tmp_path, name):
    db = imported(db_path, name, tmp_path)
    organisations = {
        asset_named(db, group)["organisation"]
        for group in ("Sale Moor Lunch Club", "Sale Moor Chair Yoga", "Sale Moor Coffee Morning")
    }
    expected = (
        {"Sale Moor Partnership"}
        if name == "merged_cells.xlsx"
        else {"Sale Moor Partnership", None}
    )
    assert organisations == expected
    assert asset_named(db, "Urmston Walking Football")["organisation"] == "Urmston Town FC"
    db.close()


def test_a_point_given_latitude_first_is_put_back(db_path, tmp_path):
    db = imported(db_path, "swapped_point.geojson", tmp_path)
    walkers = asset_named(db, "Mall Walkers")
    assert (walkers["lat"], walkers["lon"]) == (53.4457, -2.3057)
    db.close()


def test_odd_but_usable_contacts_are_repaired_and_the_originals_kept(db_path, tmp_path):
    from assetmap.store import imports as store

    db = imported(db_path, "odd_contacts.csv", tmp_path)
    quilters = asset_named(db, "Quilters")
    assert quilters["phone"] == "0161 912 3000"
    assert quilters["email"] == "quilters@example.org"
    assert quilters["website"] == "https://www.example.org/quilters"
    assert store.extra_for_asset(db, quilters["id"]) == {
        "Phone (as written)": "0161 912 3000 ext 12",
        "Email (as written)": "Email: quilters@example.org",
    }
    db.close()


def test_unrecognised_columns_and_unheaded_cells_are_kept_as_extra(db_path, tmp_path):
    from assetmap.store import imports as store

    db = imported(db_path, "unmapped_columns.csv", tmp_path)
    tai_chi = asset_named(db, "Tai Chi")
    assert store.extra_for_asset(db, tai_chi["id"]) == {
        "Funding stream": "Lottery",
        "Mobile": "07700 900123",
    }
    imports.apply(db, BAD / "ragged_rows.csv", who="tests", archive_dir=tmp_path)
    archers = asset_named(db, "Archers")
    assert store.extra_for_asset(db, archers["id"]) == {
        "column F": "left over",
        "column G": "and more",
    }
    db.close()


def test_free_text_types_become_kinds_and_categories_through_the_mapping(db_path, tmp_path):
    db = imported(db_path, "free_text_type.csv", tmp_path)
    striders = asset_named(db, "Striders")
    assert (striders["kind"], striders["strand"], striders["source"]) == (
        "group",
        "access_community_resources",
        "type-audit",
    )
    assert striders["categories"] == ["walking", "physical_activity"]
    assert asset_named(db, "Urmston Lunch Club")["categories"] == [
        "lunch_clubs_food",
        "walking",
        "physical_activity",
    ]
    assert asset_named(db, "Crafters") is None
    db.close()


def test_only_the_first_sheet_is_read_unless_another_is_named(db_path, tmp_path):
    db = connect(db_path)
    try:
        with pytest.raises(ImportFileError) as refused:
            imports.preview(db, BAD / "several_sheets.xlsx", ImportOptions(sheet="Notes"))
        assert str(refused.value) == (
            "has no column for the name, kind or the strand, which every asset needs. Rename the "
            "columns that hold them to name, kind and strand (the template's headings), or name "
            'them in a mapping file ([columns] "Your heading" = "name"), where [defaults] can also '
            "set one kind or strand for every row. It also has no column that places each asset: "
            "add lat and lon (latitude and longitude), easting and northing, or a postcode column. "
            "The file's columns are: A (This sheet explains the audit; it is not a list of assets.)."
        )
        with pytest.raises(ImportFileError) as refused:
            imports.preview(db, BAD / "several_sheets.xlsx", ImportOptions(sheet="Summary"))
        assert str(refused.value) == (
            "has no sheet called “Summary”; its sheets are Assets, Notes, Lookups"
        )
        with pytest.raises(ImportFileError) as refused:
            imports.preview(db, BAD / "two_layers.gpkg", ImportOptions(sheet="wards"))
        assert str(refused.value) == (
            "has no column for the kind or the strand, which every asset needs. Rename the "
            "columns that hold them to kind and strand (the template's headings), or name them "
            'in a mapping file ([columns] "Your heading" = "kind"), where [defaults] can also set '
            "one kind or strand for every row. The file's columns are: A (name)."
        )
        # A guide sheet first: the refusal says where else the table may be.
        book = openpyxl.Workbook()
        book.active.title = "Read me"
        book.active.append(["How to use this directory"])
        book.create_sheet("Directory").append(["Name", "Kind", "Strand", "Postcode"])
        book.save(tmp_path / "guide_first.xlsx")
        with pytest.raises(ImportFileError) as refused:
            imports.preview(db, tmp_path / "guide_first.xlsx")
        assert str(refused.value).endswith(
            "The file's columns are: A (How to use this directory). The workbook has 2 sheets "
            "(Read me, Directory); only the first, “Read me”, was imported. To import another, "
            "give its name as the sheet to import."
        )
    finally:
        db.close()


@pytest.mark.parametrize("name", ["near_duplicates.csv", "duplicated_names.csv"])
def test_assets_near_a_busy_batch_are_found_row_by_row_just_the_same(db_path, name, monkeypatch):
    """A batch whose surroundings hold many listed assets asks the R*Tree row by row."""
    from assetmap.imports import identity

    monkeypatch.setattr(identity, "_BATCH_BOX_AT_MOST", 0)
    db = connect(db_path)
    try:
        report = imports.preview(db, BAD / name, options_for(name))
    finally:
        db.close()
    assert report.summary() == CORPUS[name]["summary"]
    assert [f"{p.level}: {p}" for p in report.problems] == CORPUS[name]["problems"]
