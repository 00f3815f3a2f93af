"""Bounded imports: a file built to exhaust a worker is refused in seconds, in little memory.

Issue 12 found a 1.15 MB workbook whose shared strings unpack to 1.1 GiB driving a worker past
8 GiB, 4.5 million rows holding one for 300 s, and a 1.1 MB zip whose `mimetype` unpacks to
1.1 GiB. The hostile files here are built in the test, small on disk: a zip member's deflated
data is one compressed block repeated (a full flush makes each copy stand alone), so a
gigabyte member takes a moment to make. Most tests use small limits, for speed; the ones that
measure memory and time use the real defaults, in a process of their own.
"""

from __future__ import annotations

import csv
import io
import json
import struct
import subprocess
import sys
import zipfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from assetmap.imports.export import RejectedRowsWriter
from assetmap.imports.limits import MAX_ZIP_MEMBERS, SETTING_OF_FIELD, ImportLimits
from assetmap.imports.problems import ImportFileError
from assetmap.imports.readers import open_table
from assetmap.settings import SETTINGS_BY_NAME
from tests.test_imports_support import (
    ROOT,
    files_dir,
    fingerprint,
)

# ---------------------------------------------------------------------------------------------
# Building hostile files
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Packed:
    """A zip member's deflated data, its CRC, and the size it declares unpacked."""

    data: bytes
    crc: int
    size: int


def packed(content: bytes) -> Packed:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return Packed(
        compressor.compress(content) + compressor.flush(), zlib.crc32(content), len(content)
    )


def bomb(prefix: bytes, fill: bytes, repeats: int, suffix: bytes = b"") -> Packed:
    """`prefix`, `fill` `repeats` times, then `suffix`, deflated from one compressed `fill`."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    body = compressor.compress(fill) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.compress(suffix) + compressor.flush()
    crc = zlib.crc32(prefix)
    for _ in range(repeats):
        crc = zlib.crc32(fill, crc)
    crc = zlib.crc32(suffix, crc)
    return Packed(
        head + body * repeats + tail, crc, len(prefix) + len(fill) * repeats + len(suffix)
    )


def write_zip(path: Path, members: dict[str, bytes | Packed]) -> Path:
    """A zip written by hand, so that a member can be a ready-made bomb or lie about its size."""
    out, directory = bytearray(), bytearray()
    for name, member in members.items():
        member = member if isinstance(member, Packed) else packed(member)
        encoded, offset = name.encode(), len(out)
        sizes = (member.crc, len(member.data), member.size, len(encoded))
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 33, *sizes, 0)
        out += encoded + member.data
        directory += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 33, *sizes, 0, 0, 0, 0, 0, offset
        )
        directory += encoded
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), len(out), 0
    )
    path.write_bytes(bytes(out + directory + end))
    return path


MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SPREADSHEETML = b"application/vnd.openxmlformats-officedocument.spreadsheetml"


def _openpyxl_styles() -> bytes:
    import openpyxl

    saved = io.BytesIO()
    openpyxl.Workbook().save(saved)
    return zipfile.ZipFile(saved).read("xl/styles.xml")


STYLES = _openpyxl_styles()


def workbook_parts(sheet: bytes | Packed, strings: bytes | Packed) -> dict[str, bytes | Packed]:
    """The parts of a workbook as Excel writes it, with its sheet and shared strings given."""
    return {
        "[Content_Types].xml": b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        b'relationships+xml"/>'
        b'<Default Extension="xml" ContentType="application/xml"/>'
        b'<Override PartName="/xl/workbook.xml" ContentType="'
        + SPREADSHEETML
        + b'.sheet.main+xml"/>'
        b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="'
        + SPREADSHEETML
        + b'.worksheet+xml"/>'
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="'
        + SPREADSHEETML
        + b'.sharedStrings+xml"/>'
        b'<Override PartName="/xl/styles.xml" ContentType="' + SPREADSHEETML + b'.styles+xml"/>'
        b"</Types>",
        "_rels/.rels": b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="'
        + RELATIONSHIPS
        + b'/officeDocument" Target="xl/workbook.xml"/>'
        b"</Relationships>",
        "xl/workbook.xml": b'<workbook xmlns="' + MAIN + b'" xmlns:r="' + RELATIONSHIPS + b'">'
        b'<sheets><sheet name="Assets" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="'
        + RELATIONSHIPS
        + b'/worksheet" Target="worksheets/sheet1.xml"/>'
        b'<Relationship Id="rId2" Type="'
        + RELATIONSHIPS
        + b'/sharedStrings" Target="sharedStrings.xml"/>'
        b'<Relationship Id="rId3" Type="' + RELATIONSHIPS + b'/styles" Target="styles.xml"/>'
        b"</Relationships>",
        "xl/styles.xml": STYLES,
        "xl/worksheets/sheet1.xml": sheet,
        "xl/sharedStrings.xml": strings,
    }


def sheet_xml(rows: int, *, dimension: str = "A1:B2", extra: bytes = b"") -> bytes:
    """A sheet of a heading row and `rows` - 1 rows of one asset, its cells shared strings 0-3,
    saying it is `dimension` big (which a sheet may say wrong)."""
    body = [b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>']
    body += [
        b'<row r="%d"><c r="A%d" t="s"><v>2</v></c><c r="B%d" t="s"><v>3</v></c></row>' % (n, n, n)
        for n in range(2, rows + 1)
    ]
    return (
        b'<worksheet xmlns="'
        + MAIN
        + b'"><dimension ref="'
        + dimension.encode()
        + b'"/><sheetData>'
        + b"".join(body)
        + extra
        + b"</sheetData></worksheet>"
    )


def strings_xml(*texts: str) -> bytes:
    items = b"".join(b"<si><t>%s</t></si>" % t.encode() for t in texts)
    return b'<sst xmlns="' + MAIN + b'">' + items + b"</sst>"


STRINGS = strings_xml("name", "kind", "Sale Film Club", "group")


def xlsx(
    path: Path,
    sheet: bytes | Packed | None = None,
    strings: bytes | Packed = STRINGS,
    parts: dict[str, bytes | Packed] | None = None,
) -> Path:
    members = workbook_parts(sheet_xml(3) if sheet is None else sheet, strings)
    return write_zip(path, members | (parts or {}))


def strings_bomb(megabytes: int) -> Packed:
    """Shared strings of one text of `megabytes` MB of "a", deflated to about a thousandth."""
    start = b'<sst xmlns="' + MAIN + b'"><si><t>name</t></si><si><t>kind</t></si><si><t>'
    return bomb(start, b"a" * (1 << 20), megabytes, b"</t></si><si><t>group</t></si></sst>")


def opened(path: Path, **limits) -> tuple[list[str], list[list]]:
    """The headings and the rows' cells of a file read within `limits`."""
    table = open_table(path, limits=ImportLimits(**limits))
    try:
        return table.headers, [row.cells for row in table.rows]
    finally:
        table.close()


def refusal(path: Path, **limits) -> str:
    """Why a file is refused, when it is opened or as its rows are read."""
    with pytest.raises(ImportFileError) as refused:
        opened(path, **limits)
    return str(refused.value)


# ---------------------------------------------------------------------------------------------
# The limits themselves
# ---------------------------------------------------------------------------------------------


def test_the_limits_default_to_the_settings_and_can_be_configured():
    defaults = ImportLimits()
    assert defaults.max_rows == int(SETTINGS_BY_NAME["ASSETMAP_IMPORT_MAX_ROWS"].default) == 200_000
    assert defaults.max_columns == 300
    assert defaults.cell_chars == 32 * 1024  # Excel's own limit is 32,767 characters
    assert defaults.uncompressed_bytes == 200 * 1024 * 1024
    assert defaults.max_ratio == 100
    assert ImportLimits.from_settings({}) == defaults
    configured = ImportLimits.from_settings(
        {"ASSETMAP_IMPORT_MAX_ROWS": "5000", "ASSETMAP_IMPORT_MAX_UNCOMPRESSED_MB": "2.5"}
    )
    assert (configured.max_rows, configured.uncompressed_bytes) == (5000, int(2.5 * 1024 * 1024))


def test_the_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("ASSETMAP_IMPORT_MAX_COLUMNS", "40")
    assert ImportLimits.from_settings().max_columns == 40


@pytest.mark.parametrize("value", ["0", "-3", "lots", "1.5"])
def test_a_limit_that_is_not_a_positive_whole_number_is_explained(value):
    with pytest.raises(ValueError, match="ASSETMAP_IMPORT_MAX_ROWS"):
        ImportLimits.from_settings({"ASSETMAP_IMPORT_MAX_ROWS": value})


def test_the_guide_explains_every_limit():
    guide = (ROOT / "docs" / "importing.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in guide for name in SETTING_OF_FIELD.values())


# ---------------------------------------------------------------------------------------------
# CSV and tab-separated text: every row is checked before the table is returned
# ---------------------------------------------------------------------------------------------


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def test_a_csv_with_too_many_rows_is_refused_with_the_limit_and_how_to_split_it(tmp_path):
    path = write_csv(tmp_path / "long.csv", [["name", "kind"]] + [["Club", "group"]] * 60)
    message = refusal(path, max_rows=50)
    assert message.startswith("has more than 50 rows; the most an import reads is 50")
    assert "ASSETMAP_IMPORT_MAX_ROWS" in message and "Split it into files" in message


def test_a_csv_with_too_many_columns_is_refused_but_empty_cells_at_the_ends_do_not_count(tmp_path):
    ragged = write_csv(
        tmp_path / "ok.csv", [["name", "kind", *[""] * 40], ["Club", "group", *[""] * 40]]
    )
    assert opened(ragged, max_columns=5)[0] == ["name", "kind"]
    wide = write_csv(tmp_path / "wide.csv", [["name", "kind"], ["Club", "group"], [*"abcdefgh"]])
    message = refusal(wide, max_columns=5)
    assert message.startswith("has 8 columns (row 3); the most an import reads is 5")
    assert "ASSETMAP_IMPORT_MAX_COLUMNS" in message


def test_a_csv_with_a_huge_cell_is_refused_naming_the_cell(tmp_path):
    path = write_csv(tmp_path / "cell.csv", [["name", "description"], ["Club", "x" * 5000]])
    message = refusal(path, max_cell_kb=1)
    assert message.startswith("has 5,000 characters in one cell (row 2, column B); the most a cell")
    assert "ASSETMAP_IMPORT_MAX_CELL_KB" in message and "Shorten that cell" in message


def test_a_quote_never_closed_cannot_make_the_rest_of_a_csv_one_cell_in_memory(tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text(
        'name,description\nClub,"starts here\n' + ("more text\n" * 20_000), encoding="utf-8"
    )
    message = refusal(path, max_cell_kb=1, max_columns=5)
    assert message.startswith("has more than 5,120 characters in row 2")
    assert "quote mark" in message


def test_a_csv_larger_than_the_limit_is_refused_before_it_is_read(tmp_path):
    path = write_csv(tmp_path / "big.csv", [["name", "kind"]] + [["Club", "group"]] * 20_000)
    message = refusal(path, max_uncompressed_mb=0.1)
    assert message.startswith("holds 0.2 MB of data; the most an import reads is 0.1 MB")
    assert "ASSETMAP_IMPORT_MAX_UNCOMPRESSED_MB" in message


def test_a_csv_over_a_limit_is_refused_when_it_is_opened_not_rows_later(tmp_path):
    rows = [["name", "kind"]] + [["Club", "group"]] * 100 + [["Club", "x" * 3000]]
    with pytest.raises(ImportFileError, match="row 102, column B"):
        open_table(write_csv(tmp_path / "late.csv", rows), limits=ImportLimits(max_cell_kb=1))


# ---------------------------------------------------------------------------------------------
# Excel workbooks
# ---------------------------------------------------------------------------------------------


def test_a_workbook_made_by_hand_here_is_read(tmp_path):
    assert opened(xlsx(tmp_path / "fine.xlsx")) == (
        ["name", "kind"],
        [["Sale Film Club", "group"]] * 2,
    )


def test_shared_strings_unpacking_past_the_limit_are_refused_from_the_zips_directory(tmp_path):
    path = xlsx(tmp_path / "bomb.xlsx", strings=strings_bomb(3))
    message = refusal(path, max_uncompressed_mb=2)
    assert message.startswith(
        "holds 3.0 MB of data (unpacked; its largest part, xl/sharedStrings.xml"
    )
    assert "the most an import reads is 2.0 MB" in message
    assert "ASSETMAP_IMPORT_MAX_UNCOMPRESSED_MB" in message


def test_a_part_that_unpacks_to_a_thousand_times_its_size_is_refused(tmp_path):
    message = refusal(xlsx(tmp_path / "bomb.xlsx", strings=strings_bomb(3)))
    assert message.startswith("holds xl/sharedStrings.xml, which unpacks to ")
    assert "the most an import accepts is 100 times" in message
    assert "ASSETMAP_IMPORT_MAX_RATIO" in message


def test_a_workbook_listing_more_texts_than_five_a_row_is_refused(tmp_path):
    strings = strings_xml("name", "kind", "Sale Film Club", "group", *map(str, range(60)))
    message = refusal(xlsx(tmp_path / "texts.xlsx", strings=strings), max_rows=10)
    assert message.startswith("lists more than 50 different texts for its cells")
    assert "ASSETMAP_IMPORT_MAX_ROWS" in message


def test_a_workbook_that_understates_its_size_is_still_refused_for_too_many_rows(tmp_path):
    path = xlsx(tmp_path / "rows.xlsx", sheet_xml(30, dimension="A1:B2"))
    message = refusal(path, max_rows=20)
    assert message.startswith("has more than 20 rows")
    assert "delete any under the table" in message
    assert len(opened(path, max_rows=30)[1]) == 29


def test_a_workbook_with_a_value_beyond_the_column_limit_is_refused_but_formatting_is_not(tmp_path):
    formatted = xlsx(
        tmp_path / "formatted.xlsx", sheet_xml(3, extra=b'<row r="4"><c r="AB4" s="1"/></row>')
    )
    assert opened(formatted, max_columns=5)[0] == ["name", "kind"]
    wide = xlsx(
        tmp_path / "wide.xlsx",
        sheet_xml(3, extra=b'<row r="4"><c r="AB4" t="s"><v>2</v></c></row>'),
    )
    message = refusal(wide, max_columns=5)
    assert message.startswith("has 28 columns (a value in cell AB4); the most an import reads is 5")


def test_a_workbook_with_a_text_over_the_cell_limit_is_refused(tmp_path):
    strings = strings_xml("name", "kind", "Sale Film Club", "x" * 2000)
    message = refusal(xlsx(tmp_path / "cell.xlsx", strings=strings), max_cell_kb=1)
    assert message.startswith("has 2,000 characters in one cell (in the workbook's list of texts)")
    inline = b'<row r="4"><c r="B4" t="inlineStr"><is><t>' + b"y" * 3000 + b"</t></is></c></row>"
    path = xlsx(tmp_path / "inline.xlsx", sheet_xml(3, extra=inline))
    with pytest.raises(ImportFileError) as refused:  # when it is opened, before any row is read
        open_table(path, limits=ImportLimits(max_cell_kb=1))
    assert str(refused.value).startswith("has 3,000 characters in one cell (cell B4)")
    # In two runs of formatting: the scan sees each run, and the row's own check the cell.
    runs = b"<r><t>" + b"y" * 600 + b"</t></r>"
    inline = inline.replace(b"<t>" + b"y" * 3000 + b"</t>", runs * 2)
    message = refusal(xlsx(tmp_path / "runs.xlsx", sheet_xml(3, extra=inline)), max_cell_kb=1)
    assert message.startswith("has 1,200 characters in one cell (row 4, column B)")


PADDED_STYLES = STYLES.replace(
    b"</styleSheet>", b"<!-- " + b"padding " * 20_000 + b"--></styleSheet>"
)


def test_a_workbook_part_that_openpyxl_reads_whole_gets_a_tenth_of_the_limit(tmp_path):
    path = xlsx(tmp_path / "styles.xlsx", parts={"xl/styles.xml": PADDED_STYLES})
    message = refusal(path, max_uncompressed_mb=1)
    assert message.startswith(
        "holds a part, xl/styles.xml, that unpacks to 0.2 MB and is read whole"
    )


def test_a_worksheet_that_is_also_read_whole_gets_the_tighter_limit(tmp_path):
    # The sheet's relationship points at the styles, which openpyxl reads whole by their name.
    members = workbook_parts(sheet_xml(3), STRINGS)
    members["xl/_rels/workbook.xml.rels"] = members["xl/_rels/workbook.xml.rels"].replace(
        b"worksheets/sheet1.xml", b"styles.xml"
    )
    members["xl/styles.xml"] = PADDED_STYLES
    message = refusal(write_zip(tmp_path / "sly.xlsx", members), max_uncompressed_mb=1)
    assert message.startswith("holds a part, xl/styles.xml")


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    + b"]>"
)


@pytest.mark.parametrize("part", ["strings", "sheet"])
def test_a_workbook_with_an_entity_expansion_is_refused_not_expanded(tmp_path, part):
    laughing = {
        "strings": {"strings": BILLION_LAUGHS + STRINGS.replace(b"group", b"&lol9;")},
        "sheet": {
            "sheet": BILLION_LAUGHS + sheet_xml(3).replace(b"</sheetData>", b"&lol9;</sheetData>")
        },
    }[part]
    path = xlsx(tmp_path / "laughs.xlsx", **laughing)
    message = refusal(path)
    assert message.startswith("holds XML with a document type declaration")


def test_openpyxl_itself_parses_workbooks_with_defusedxml(tmp_path):
    import openpyxl
    from defusedxml import DefusedXmlException

    assert openpyxl.xml.DEFUSEDXML
    path = xlsx(
        tmp_path / "laughs.xlsx", strings=BILLION_LAUGHS + STRINGS.replace(b"group", b"&lol9;")
    )
    with pytest.raises(Exception) as refused:  # noqa: B017 (openpyxl wraps it in a ValueError)
        openpyxl.load_workbook(path, read_only=True)
    causes = [refused.value, refused.value.__cause__, refused.value.__context__]
    assert any(isinstance(e, DefusedXmlException) for e in causes)


def test_a_workbook_whose_zip_understates_a_parts_size_is_refused_as_damaged(tmp_path):
    sheet = packed(sheet_xml(3))
    path = xlsx(tmp_path / "lies.xlsx", replace(sheet, size=sheet.size - 100))
    assert refusal(path).startswith(
        "looks like a workbook or zip file but is damaged or incomplete"
    )


def test_a_workbook_whose_zip_overstates_a_parts_size_is_read_as_it_is(tmp_path):
    # zipfile stops at the end of the data, and the CRC matches: the sizes checked were larger.
    sheet = packed(sheet_xml(3))
    path = xlsx(tmp_path / "lies.xlsx", replace(sheet, size=sheet.size + 100))
    assert opened(path)[0] == ["name", "kind"]


# ---------------------------------------------------------------------------------------------
# Any zip, and zipped shapefiles
# ---------------------------------------------------------------------------------------------


def test_a_zip_whose_mimetype_is_a_bomb_is_refused_without_reading_it(tmp_path):
    path = write_zip(tmp_path / "odd.zip", {"mimetype": bomb(b"", b"\0" * (1 << 20), 50)})
    message = refusal(path)
    assert message.startswith("holds mimetype, which unpacks to ")
    assert "ASSETMAP_IMPORT_MAX_RATIO" in message


def test_a_zip_whose_mimetype_lies_about_its_size_is_refused_as_damaged(tmp_path):
    mimetype = packed(b"application/vnd.oasis.opendocument.spreadsheet" * 10)
    path = write_zip(tmp_path / "odd.zip", {"mimetype": replace(mimetype, size=40)})
    assert refusal(path).startswith("looks like a workbook or zip file but is damaged")


def test_a_zip_of_more_files_than_any_workbook_has_is_refused_before_its_directory_is_read(
    tmp_path,
):
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for n in range(MAX_ZIP_MEMBERS + 1):
            archive.writestr(str(n), b"")
    assert refusal(path).startswith(f"is a zip of {MAX_ZIP_MEMBERS + 1:,} files")


def shapefile_parts(tmp_path: Path) -> dict[str, bytes]:
    import geopandas
    from shapely.geometry import Point

    folder = tmp_path / "shapefile"
    folder.mkdir()
    frame = geopandas.GeoDataFrame(
        {"NAME": ["Sale Film Club", "Walking group"], "KIND": ["group", "group"]},
        geometry=[Point(378000, 392000), Point(379000, 393000)],
        crs="EPSG:27700",
    )
    frame.to_file(folder / "clubs.shp")
    return {p.suffix: p.read_bytes() for p in folder.iterdir()}


def test_a_zipped_shapefile_is_unpacked_for_gdal_from_any_folder_and_the_unpacking_removed(
    tmp_path, monkeypatch
):
    import tempfile

    parts = shapefile_parts(tmp_path)
    path = write_zip(
        tmp_path / "clubs.zip", {f"Export/Clubs{ext.upper()}": data for ext, data in parts.items()}
    )
    unpacked = tmp_path / "temporary"
    unpacked.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(unpacked))
    table = open_table(path)
    assert table.description == "Shapefile “Clubs”, 2 features"
    assert [r.cells[table.headers.index("NAME")] for r in table.rows] == [
        "Sale Film Club",
        "Walking group",
    ]
    assert list(unpacked.iterdir()) == []


def test_a_zipped_shapefile_whose_dbf_is_a_bomb_never_reaches_gdal(tmp_path, monkeypatch):
    import pyogrio

    def never(*args, **kwargs):
        raise AssertionError("GDAL was given the file")

    monkeypatch.setattr(pyogrio, "read_dataframe", never)
    monkeypatch.setattr(pyogrio, "list_layers", never)
    parts = shapefile_parts(tmp_path)
    dbf = bomb(parts[".dbf"], b" " * (1 << 20), 20)
    members = {f"clubs{ext}": data for ext, data in parts.items()} | {"clubs.dbf": dbf}
    message = refusal(write_zip(tmp_path / "clubs.zip", members))
    assert message.startswith("holds clubs.dbf, which unpacks to ")
    message = refusal(write_zip(tmp_path / "clubs.zip", members), max_uncompressed_mb=10)
    assert message.startswith("holds 20.0 MB of data (unpacked; its largest part, clubs.dbf")


def test_a_zipped_shapefile_whose_dbf_lies_about_its_size_is_refused_as_damaged(tmp_path):
    parts = shapefile_parts(tmp_path)
    dbf = packed(parts[".dbf"])
    members = {f"clubs{ext}": data for ext, data in parts.items()} | {
        "clubs.dbf": replace(dbf, size=dbf.size - 10)
    }
    assert refusal(write_zip(tmp_path / "clubs.zip", members)).startswith(
        "looks like a workbook or zip file"
    )


# ---------------------------------------------------------------------------------------------
# GeoJSON and GeoPackage
# ---------------------------------------------------------------------------------------------


def geojson(path: Path, features: int, **properties) -> Path:
    feature = {
        "type": "Feature",
        "properties": {"name": "Club", "kind": "group", **properties},
        "geometry": {"type": "Point", "coordinates": [-2.32, 53.42]},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature] * features}))
    return path


def test_a_geojson_larger_than_the_limit_is_refused_before_it_is_parsed(tmp_path):
    message = refusal(geojson(tmp_path / "big.geojson", 2000), max_uncompressed_mb=0.1)
    assert message.startswith("holds 0.3 MB of data; the most an import reads is 0.1 MB")


def test_a_geojson_is_read_whole_so_it_gets_a_tenth_of_the_data_limit(tmp_path):
    message = refusal(geojson(tmp_path / "big.geojson", 2000), max_uncompressed_mb=1)
    assert message.startswith("is GeoJSON of 0.3 MB, which is read whole; the most such a file")
    assert "Export the layer as a GeoPackage" in message


def line(points: int) -> dict:
    """A route of `points` points, each 20 bytes of JSON."""
    return {"type": "LineString", "coordinates": [[-2.31234, 53.41234]] * points}


def test_a_shape_of_more_points_than_a_service_area_needs_is_refused(tmp_path):
    import geopandas
    from shapely.geometry import shape

    path = tmp_path / "route.geojson"
    feature = {"type": "Feature", "properties": {"name": "Walk"}, "geometry": line(250_001)}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    message = refusal(path)
    assert message.startswith("has a shape of 250,001 points (feature 1); the most an import reads")
    gpkg = tmp_path / "route.gpkg"
    frame = geopandas.GeoDataFrame(
        {"name": ["Short", "Walk"]},
        geometry=[shape(line(2)), shape(line(250_001))],
        crs="EPSG:4326",
    )
    frame.to_file(gpkg, layer="routes")
    assert refusal(gpkg).startswith("has a shape of 250,001 points (feature 2)")


def test_a_geojson_with_too_many_features_properties_or_too_big_a_property_is_refused(tmp_path):
    many = refusal(geojson(tmp_path / "many.geojson", 30), max_rows=20)
    assert many.startswith("has 30 features; the most an import reads is 20")
    wide = refusal(
        geojson(tmp_path / "wide.geojson", 1, **{f"p{n}": n for n in range(10)}), max_columns=5
    )
    assert wide.startswith("has 12 columns (feature 1)")
    big = refusal(geojson(tmp_path / "big.geojson", 1, description="x" * 2000), max_cell_kb=1)
    assert big.startswith("has 2,000 characters in one cell (feature 1, property description)")


def test_a_geopackage_over_a_limit_is_refused(tmp_path):
    import geopandas
    from shapely.geometry import Point

    gpkg = tmp_path / "clubs.gpkg"
    geopandas.GeoDataFrame(
        {
            "name": ["Film club", "Walking group", "Choir"],
            "kind": ["group"] * 3,
            "notes": ["x" * 2000] * 3,
        },
        geometry=[Point(-2.32, 53.42)] * 3,
        crs="EPSG:4326",
    ).to_file(gpkg, layer="clubs")
    assert opened(gpkg)[0] == ["name", "kind", "notes"]
    assert refusal(gpkg, max_uncompressed_mb=0.05).startswith("holds 0.1 MB of data")
    assert refusal(gpkg, max_rows=2).startswith(
        "has more than 2 features; the most an import reads"
    )
    message = refusal(gpkg, max_columns=2)
    assert message.startswith(
        "has 3 columns (fields of the layer “clubs”); the most an import reads is 2"
    )
    message = refusal(gpkg, max_cell_kb=1)
    assert message.startswith("has 2,000 characters in one cell (feature 1, property notes)")


# ---------------------------------------------------------------------------------------------
# The rejected rows a preview keeps
# ---------------------------------------------------------------------------------------------


def test_the_rejected_rows_file_stops_growing_and_says_so():
    out = io.StringIO()
    writer = RejectedRowsWriter(out, ["name", "kind"], "audit", max_rows=3)
    for n in range(10):
        writer.write([f"Club {n}", "club"], [])
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert (writer.count, writer.left_out, len(rows)) == (3, 7, 5)
    assert rows[-1] == [writer.stop_note()]
    assert rows[-1][0].startswith("The rejected rows after these 3 were left out")
    out = io.StringIO()
    writer = RejectedRowsWriter(out, ["name"], max_chars=1000)
    for _ in range(100):
        writer.write(["x" * 100], [])
    assert writer.count < 11 and len(out.getvalue()) < 1300


# ---------------------------------------------------------------------------------------------
# Memory and time, with the real default limits, in a process of their own
# ---------------------------------------------------------------------------------------------

CHILD = """
import json, sys, time
from assetmap.imports import ImportFileError, preview
from assetmap.store import connect, initialise

initialise(sys.argv[2])
db = connect(sys.argv[2])
start = time.process_time()
try:
    preview(db, sys.argv[1], file_name="upload")
    outcome = "previewed"
except ImportFileError as e:
    outcome = str(e)
seconds = time.process_time() - start  # the CPU's time: the same on a busy machine
# The peak of this process's own memory since it started (ru_maxrss would include the test's
# process, from which this one was forked before it ran Python).
status = open("/proc/self/status").read()
peak_mb = int(status.split("VmHWM:")[1].split()[0]) / 1024
print(json.dumps({"outcome": outcome, "seconds": seconds, "peak_mb": peak_mb}))
"""

PEAK_MB = 400
SECONDS = 5  # of CPU time


def hostile(kind: str, tmp_path: Path) -> tuple[Path, str]:
    """A hostile file as the security test found it, and the start of its refusal."""
    if kind == "shared strings of 1.1 GiB":
        return xlsx(tmp_path / "bomb.xlsx", strings=strings_bomb(1100)), "holds 1,100.0 MB of data"
    if kind == "zip member of 1.1 GiB":
        path = write_zip(tmp_path / "bomb.zip", {"mimetype": bomb(b"", b"\0" * (1 << 20), 1100)})
        return path, "holds 1,100.0 MB of data"
    if kind == "150 MB shared strings under the size limit":
        return xlsx(tmp_path / "bomb.xlsx", strings=strings_bomb(150)), "holds xl/sharedStrings.xml"
    if kind == "workbook of 300,000 rows that says it has 2":
        return xlsx(tmp_path / "rows.xlsx", sheet_xml(300_000)), "has more than 200,000 rows"
    if kind == "csv of 300,000 rows":
        path = tmp_path / "rows.csv"
        path.write_bytes(b"name,kind\n" + b"Club,group\n" * 300_000)
        return path, "has more than 200,000 rows"
    if kind == "GeoJSON of one line of 1,000,000 points (20 MB)":
        feature = {"type": "Feature", "properties": {"name": "Walk"}, "geometry": line(1_000_000)}
        path = tmp_path / "route.geojson"
        document = {"type": "FeatureCollection", "features": [feature]}
        path.write_text(json.dumps(document, separators=(",", ":")))
        return path, "has a shape of 1,000,000 points"
    if kind == "zipped shapefile whose dbf is 1.1 GiB":
        parts = shapefile_parts(tmp_path)
        dbf = bomb(parts[".dbf"], b" " * (1 << 20), 1100)
        members = {f"clubs{ext}": data for ext, data in parts.items()} | {"clubs.dbf": dbf}
        return write_zip(tmp_path / "clubs.zip", members), "holds 1,100.0 MB of data"
    raise AssertionError(kind)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="measures memory in /proc")
@pytest.mark.parametrize(
    "kind",
    [
        "shared strings of 1.1 GiB",
        "zip member of 1.1 GiB",
        "150 MB shared strings under the size limit",
        "workbook of 300,000 rows that says it has 2",
        "csv of 300,000 rows",
        "zipped shapefile whose dbf is 1.1 GiB",
        "GeoJSON of one line of 1,000,000 points (20 MB)",
    ],
)
def test_a_hostile_file_is_refused_within_seconds_in_little_memory(tmp_path, kind):
    path, refusal_starts = hostile(kind, tmp_path)
    assert path.stat().st_size <= 20 * 1024 * 1024  # the largest upload
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(tmp_path / "assetmap.db")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout)
    print(f"{kind}: {result['seconds']:.2f} s, peak {result['peak_mb']:.0f} MB")
    assert result["outcome"].startswith(refusal_starts)
    assert result["seconds"] < SECONDS
    assert result["peak_mb"] < PEAK_MB


# ---------------------------------------------------------------------------------------------
# On the import page
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def web_db(trafford_db_path):
    return trafford_db_path


@pytest.mark.parametrize(
    ("name", "build", "says"),
    [
        (
            "audit.xlsx",
            lambda tmp_path: xlsx(tmp_path / "bomb.xlsx", strings=strings_bomb(300)),
            "audit.xlsx holds 300.0 MB of data (unpacked; its largest part, "
            "xl/sharedStrings.xml, is 300.0 MB); the most an import reads is 200.0 MB (the "
            "ASSETMAP_IMPORT_MAX_UNCOMPRESSED_MB setting). Split it into smaller files and "
            "import them one by one.",
        ),
        (
            "odd.zip",
            lambda tmp_path: write_zip(tmp_path / "odd.zip", {"mimetype": strings_bomb(20)}),
            "odd.zip holds mimetype, which unpacks to ",
        ),
    ],
)
def test_an_uploaded_bomb_gets_a_400_page_naming_the_limit(web_db, tmp_path, name, build, says):
    from tests.test_imports_web import make_app, signed_in, text_of, upload

    app = make_app(web_db, WTF_CSRF_ENABLED=False)
    client = signed_in(app)
    before = fingerprint(web_db)
    response = upload(client, name, build(tmp_path).read_bytes())
    assert response.status_code == 400
    assert f"There is a problem; nothing has been imported {says}" in text_of(response)
    assert fingerprint(web_db) == before
    assert list((files_dir(web_db) / "imports" / "pending").iterdir()) == []
