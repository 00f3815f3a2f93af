"""Write the bad-input corpus for the import tests into tests/data/bad_imports/.

Each file is one way a real asset audit goes wrong (an odd encoding, a missing column, swapped
coordinates, formula cells, a shapefile without its .prj, ...). tests/test_imports_corpus.py
imports every one and asserts the exact words a coordinator is shown. The files are committed;
run this again after changing one:

    .venv/bin/python scripts/make_bad_imports.py

All the data is made up. Places are real Trafford postcodes so that geocoding can be tested.
"""

from __future__ import annotations

import codecs
import json
import random
import re
import shutil
import tempfile
import zipfile
from datetime import datetime, time
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "bad_imports"
FIXED_TIME = datetime(2024, 5, 1, 9, 0, 0)

HEADER = "Ref,Name,Kind,Strand,Postcode,Latitude,Longitude"
ACCESS = "access_community_resources"


def write_text(name: str, text: str, encoding: str = "utf-8", newline: str = "\n") -> None:
    (OUT / name).write_bytes(text.replace("\n", newline).encode(encoding))


def csv_files() -> None:
    write_text(
        "windows_1252.csv",
        "Ref,Name,Kind,Strand,Postcode,Cost details\n"
        f"W1,Café Sociable,group,{ACCESS},M33 7ZF,“Pay as you feel” – £2\n",
        encoding="cp1252",
    )
    # Latin-1 differs from Windows-1252 only in bytes 0x80-0x9F; a stray 0x8D (from an old
    # database export) is what marks this file as Latin-1.
    (OUT / "latin_1.csv").write_bytes(
        b"Ref,Name,Kind,Strand,Postcode,Description\n"
        b"L1,Caf\xe9 Rendezvous,group," + ACCESS.encode() + b",M33 7ZF,Se\xf1ora Ana\x8d's group\n"
    )
    (OUT / "mixed_encoding.csv").write_bytes(
        b"Ref,Name,Kind,Strand,Postcode,Cost details\n"
        + f"X1,Crème de la Crème Choir,group,{ACCESS},M33 7ZF,".encode()
        + "£3 a week\n".encode("cp1252")
    )
    write_text(
        "excel_unicode_text.txt",
        f"Ref\tName\tKind\tStrand\tPostcode\nU1\tZoë's Knitting Circle\tgroup\t{ACCESS}\tM33 7ZF\n",
        encoding="utf-16",
        newline="\r\n",
    )
    write_text(
        "missing_name_column.csv",
        f"Ref,Group,Kind,Strand,Postcode\nN1,Sale Singers,group,{ACCESS},M33 7ZF\n",
    )
    write_text(
        "missing_kind_and_strand.csv",
        "Ref,Name,Type,Postcode\nK1,Sale Singers,Choir,M33 7ZF\n",
    )
    write_text(
        "no_position_columns.csv",
        f"Ref,Name,Kind,Strand,Venue\nP1,Sale Singers,group,{ACCESS},Sale Town Hall\n",
    )
    write_text(
        "bad_coordinates.csv",
        HEADER + "\n"
        f"C1,Not A Number,group,{ACCESS},,53.4x,-2.32\n"
        f"C2,Off The Map,group,{ACCESS},,91,-2.32\n"
        f"C3,Half A Position,group,{ACCESS},,53.42,\n"
        f"C4,Null Island,group,{ACCESS},,0,0\n"
        f"C5,In France,group,{ACCESS},,48.85,2.35\n",
    )
    write_text(
        "swapped_coordinates.csv",
        HEADER + f"\nS1,Partington Gardeners,group,{ACCESS},,-2.4262,53.4189\n",
    )
    write_text(
        "unknown_strand.csv",
        "Ref,Name,Kind,Strand,Postcode\n"
        "T1,Sale Singers,group,health and wellbeing,M33 7ZF\n"
        "T2,Urmston Walkers,walking group,Access to community resources,M41 0TJ\n",
    )
    write_text(
        "formula_cells.csv",
        "Ref,Name,Kind,Strand,Postcode,Website\n"
        f'F1,=HYPERLINK("http://evil.example"),group,{ACCESS},M33 7ZF,\n'
        f"F2,Stretford Scrabble,group,{ACCESS},M32 9BD,=cmd|' /C calc'!A0\n"
        f"F3,@SUM(1+1)*cmd|' /C calc'!A0,group,{ACCESS},M32 9BD,\n",
    )
    write_text(
        "huge_cell.csv",
        "Ref,Name,Kind,Strand,Postcode,Description\n"
        f"H1,Sale Storytellers,group,{ACCESS},M33 7ZF," + "Once upon a time. " * 291_272 + "\n"
        f"H2,Sale Poets,group,{ACCESS},M33 7ZF,A short description\n",
    )
    write_text("empty.csv", "")
    write_text("headers_only.csv", "Ref,Name,Kind,Strand,Postcode\r\n", newline="\n")
    write_text("only_blank_lines.csv", "\n\n  \n,,,\n")
    rng = random.Random(5)
    (OUT / "binary_junk.csv").write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    (OUT / "old_excel.xls").write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(rng.randrange(256) for _ in range(2048))
    )
    (OUT / "report.pdf.csv").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    (OUT / "damaged.xlsx").write_bytes(
        b"PK\x03\x04" + bytes(rng.randrange(256) for _ in range(512))
    )
    write_text(
        "duplicated_rows.csv",
        "Ref,Name,Kind,Strand,Postcode,Phone\n"
        f"D1,Timperley Tea Dance,group,{ACCESS},WA15 6LQ,0161 912 1111\n"
        f"D2,Hale Film Club,group,{ACCESS},WA15 9NF,0161 912 2222\n"
        f"D1,Timperley Tea Dance,group,{ACCESS},WA15 6LQ,0161 912 1111\n"
        f"D2,Hale Film Club,group,{ACCESS},WA15 9NF,0161 912 3333\n",
    )
    write_text(
        "duplicated_names.csv",
        "Name,Kind,Strand,Postcode\n"
        f"Timperley Tea Dance,group,{ACCESS},WA15 6LQ\n"
        f"Timperley tea dance.,group,{ACCESS},WA15 6LQ\n",
    )
    write_text(
        "title_and_blank_rows.csv",
        "Trafford asset audit 2024,,,,\n"
        "Compiled by the community team,,,,\n"
        "Ref,Name,Kind,Strand,Postcode\n"
        f"B1,Flixton Friendship Club,group,{ACCESS},M41 6JN\n"
        ",,,,\n"
        f"B2,Urmston Book Club,group,{ACCESS},M41 0TJ\n",
    )
    write_text(
        "semicolon_decimal_comma.csv",
        "Ref;Name;Kind;Strand;Latitude;Longitude;Description\n"
        f'E1;Davyhulme Dominoes;group;{ACCESS};53,4516;-2,3676;"Dominoes, cards; and tea"\n',
    )
    write_text(
        "multiline_crlf.csv",
        "Ref,Name,Kind,Strand,Postcode,Description\n"
        f'M1,Sale Memory Café,group,{ACCESS},M33 7ZF,"Line one\nLine two\nLine three"\n'
        f"M2,Sale Chess,grop,{ACCESS},M33 7ZF,One line\n",
        newline="\r\n",
    )
    write_text(
        "empty_markers_and_spaces.csv",
        "Ref,Name,Kind,Strand,Postcode,Phone,Email,Website,Cost\n"
        f"Z1,\u00a0Sale Bowls Club\u00a0,group,{ACCESS}, m33 7zf ,N/A,NA,-,Not relevant\n",
    )
    write_text(
        "html_in_cells.csv",
        "Ref,Name,Kind,Strand,Postcode,Description\n"
        f"H1,Fish &amp; Chips Club,group,{ACCESS},M33 7ZF,"
        '"<p>Fun &amp; games</p><p>Every <b>Friday</b></p>"\n',
    )
    write_text(
        "odd_contacts.csv",
        "Ref,Name,Kind,Strand,Postcode,Phone,Email,Website\n"
        f"O1,Sale Quilters,group,{ACCESS},M33 7ZF,0161 912 3000 ext 12,"
        "Email: quilters@example.org,www.example.org/quilters\n"
        f"O2,Sale Knitters,group,{ACCESS},M33 7ZF,ring reception,knitters at example dot org,"
        "ftp://example.org\n"
        f"O3,Sale Spinners,group,{ACCESS},M33 7ZF,1619124000,,\n",
    )
    write_text(
        "postcodes_not_found.csv",
        "Ref,Name,Kind,Strand,Postcode\n"
        f"G1,Sector Fallback Club,group,{ACCESS},M33 7YY\n"
        f"G2,District Fallback Club,group,{ACCESS},M33 8AA\n"
        f"G3,Faraway Club,group,{ACCESS},ZE1 0AA\n"
        f"G4,Nowhere Club,group,{ACCESS},\n"
        f"G5,Typo Club,group,{ACCESS},M33 7Z\n",
    )
    write_text(
        "ragged_rows.csv",
        "Ref,Name,Kind,Strand,Postcode\n"
        f"R1,Altrincham Archers,group,{ACCESS},WA14 1AH,left over,and more\n"
        f"R2,Altrincham Anglers,group,{ACCESS}\n",
    )
    write_text(
        "eastings_northings.csv",
        "Ref,Name,Kind,Strand,Easting,Northing\n"
        f"EN1,Old Trafford Cricket Club,group,{ACCESS},380400,395700\n"
        f"EN2,Lost Club,group,{ACCESS},380400,\n",
    )
    write_text(
        "unmapped_columns.csv",
        "Ref,Name,Kind,Strand,Postcode,Funding stream,Mobile,\n"
        f"UM1,Sale Tai Chi,group,{ACCESS},M33 7ZF,Lottery,07700 900123,\n",
    )
    write_text(
        "free_text_type.csv",
        "Ref,Name,Type,Postcode\n"
        "V1,Sale Striders,Walking group,M33 7ZF\n"
        "V2,Urmston Lunch Club,Lunch club; walking group,M41 0TJ\n"
        "V3,Stretford Crafters,Knitting circle,M32 9BD\n",
    )
    write_text(
        "type_mapping.toml",
        '# A mapping file for free_text_type.csv\nsource = "type-audit"\n\n'
        "[values.Type]\n"
        '"Walking group" = { kind = "group", categories = ["walking", "physical_activity"] }\n'
        '"Lunch club" = { kind = "group", categories = ["lunch_clubs_food"] }\n\n'
        "[defaults]\n"
        f'strand = "{ACCESS}"\n',
    )
    write_text(
        "bad_mapping.toml",
        '[columns]\n"Group" = "name"\n"Type" = "kinds"\n',
    )
    write_text(
        "near_duplicates.csv",
        HEADER + "\n"
        f"ND1,Sale Walking Group (Tuesdays),group,{ACCESS},,53.4265,-2.3036\n"
        f"ND2,Partington Community Gardens,activity,strengthening_communities,,53.4190,-2.4263\n"
        f"ND3,Urmston Model Railway,group,{ACCESS},,53.4489,-2.3549\n",
    )
    (OUT / "lonely_part.shp").write_bytes(b"\x00\x00\x27\x0a" + bytes(96))
    write_text(
        "totals_and_notes_rows.csv",
        "Name,Kind,Strand,Postcode\n"
        f"Sale Moor Lunch Club,group,{ACCESS},M33 2TN\n"
        f"Sale Moor Chair Yoga,activity,{ACCESS},M33 2TN\n"
        ",,,\n"
        "Total,2,,\n"
        "Source: Sale Moor ward audit team,,,\n",
    )
    write_text(
        "address_without_postcode.csv",
        "Name,Kind,Strand,Address\n"
        f'Flixton Lunch Club,group,{ACCESS},"St Michael\'s Church Hall, Church Road, Flixton"\n'
        f'Urmston Knit and Natter,group,{ACCESS},"Urmston Library, Golden Way, Urmston M41 0NA"\n',
    )


def geojson_files() -> None:
    square = [[-2.33, 53.42], [-2.31, 53.42], [-2.31, 53.43], [-2.33, 53.43], [-2.33, 53.42]]
    bow_tie = [[-2.33, 53.42], [-2.31, 53.43], [-2.31, 53.42], [-2.33, 53.43], [-2.33, 53.42]]
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [square]},
            "properties": {"name": "Sale Befriending Service", "kind": "service",
                           "strand": ACCESS, "categories": ["befriending_social"]},
        },
        {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [bow_tie]},
            "properties": {"name": "Ashton Neighbourhood Watch", "kind": "group",
                           "strand": "strengthening_communities"},
        },
    ]  # fmt: skip
    (OUT / "swapped_point.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [53.4457, -2.3057]},
                        "properties": {
                            "name": "Stretford Mall Walkers",
                            "kind": "group",
                            "strand": ACCESS,
                        },
                    }
                ],
            }  # fmt: skip
        )
    )
    (OUT / "polygons.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, indent=1)
    )
    (OUT / "broken.geojson").write_text(
        '{"type": "FeatureCollection", "features": [\n'
        '  {"type": "Feature", "properties": {"name": "Half a file"},\n'
    )
    (OUT / "bng_crs.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}},
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [377300, 392100]},
                        "properties": {
                            "name": "Sale Water Park Rangers",
                            "kind": "volunteering",
                            "strand": "volunteer_peer_roles",
                        },
                    }
                ],
            }  # fmt: skip
        )
    )
    (OUT / "lines_and_oddities.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {
                            "type": "LineString",
                            "coordinates": [[-2.32, 53.42], [-2.30, 53.43]],
                        },
                        "properties": {
                            "name": "Mersey Valley Walk",
                            "kind": "activity",
                            "strand": ACCESS,
                        },
                    },
                    {"type": "Point", "coordinates": [-2.3, 53.4]},
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [-2.35, 53.45]},
                        "properties": {
                            "name": "Urmston Allotments",
                            "kind": "place",
                            "strand": ACCESS,
                        },
                    },
                ],
            }  # fmt: skip
        )
    )


def workbook_files() -> None:
    import openpyxl

    def save(workbook, name: str) -> None:
        workbook.properties.created = workbook.properties.modified = FIXED_TIME
        workbook.save(OUT / name)

    book = openpyxl.Workbook()
    first = book.active
    first.title = "Assets"
    first.append(["Ref", "Name", "Kind", "Strand", "Postcode"])
    first.append(["A1", "Sale Line Dancing", "activity", ACCESS, "M33 7ZF"])
    notes = book.create_sheet("Notes")
    notes.append(["This sheet explains the audit; it is not a list of assets."])
    lookups = book.create_sheet("Lookups")
    lookups.append(["Kind", "group"])
    save(book, "several_sheets.xlsx")

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Ref", "Name", "Kind", "Strand", "Postcode", "Description"])
    sheet.append(["FX1", "Sale Readers", "group", ACCESS, "M33 7ZF", '=CONCAT(B2, " meet weekly")'])
    save(book, "formula_without_saved_result.xlsx")

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Ref", "Name", "Kind", "Strand", "Postcode", "Phone", "Last checked"])
    sheet.append([101, "Timperley Bridge Club", "group", ACCESS, "WA15 6LQ", 1619127000,
                  datetime(2024, 3, 31)])  # fmt: skip
    save(book, "numbers_as_numbers.xlsx")

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Name", "Kind", "Strand", "Postcode", "Times", "Cost (£)", "Age group"])
    sheet.append(["Stretford Over 18s Football", "group", ACCESS, "M32 0XL", time(18, 30), 0,
                  "Over 18s"])  # fmt: skip
    sheet.append(["Stretford Knit Club", "group", ACCESS, "M32 0XL", "Tuesdays 10:00 till 12:00",
                  2.5, "over 50s"])  # fmt: skip
    save(book, "excel_times_and_prices.xlsx")

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Name", "Kind", "Strand", "Postcode", "Organisation"])
    sheet.append(["Sale Moor Lunch Club", "group", ACCESS, "M33 2TN", "Sale Moor Partnership"])
    sheet.append(["Sale Moor Chair Yoga", "activity", ACCESS, "M33 2TN"])
    sheet.append(["Sale Moor Coffee Morning", "group", ACCESS, "M33 2TN"])
    sheet.append(["Urmston Walking Football", "group", ACCESS, "M41 9PD", "Urmston Town FC"])
    sheet.merge_cells("E2:E4")  # one organisation runs the three Sale Moor groups
    save(book, "merged_cells.xlsx")
    # The same table, saying it is one row long (as some reporting tools write it): the sheet's
    # own size must not be believed.
    with zipfile.ZipFile(OUT / "merged_cells.xlsx") as whole:
        parts = [(item, whole.read(item.filename)) for item in whole.infolist()]
    with zipfile.ZipFile(OUT / "wrong_sheet_size.xlsx", "w", zipfile.ZIP_DEFLATED) as wrong:
        for item, data in parts:
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:E5"', b'<dimension ref="A1:E2"')
                data = re.sub(rb"<mergeCells.*?</mergeCells>", b"", data)
            wrong.writestr(item, data)


def gis_files() -> None:
    import warnings

    import geopandas as gpd
    from shapely.geometry import Point

    frame = gpd.GeoDataFrame(
        {"name": ["Stretford Food Bank", "Old Trafford Boxing"], "kind": ["service", "group"],
         "strand": [ACCESS, ACCESS]},
        geometry=[Point(379200, 395900), Point(381000, 396200)],
        crs=None,
    )  # fmt: skip
    work = Path(tempfile.mkdtemp())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyogrio warns that no CRS is written: the point
            frame.to_file(work / "food.shp")
        with zipfile.ZipFile(OUT / "shapefile_without_prj.zip", "w") as archive:
            for part in sorted(work.iterdir()):
                if part.suffix != ".prj":
                    archive.write(part, f"food/{part.name}")
    finally:
        shutil.rmtree(work)
    target = OUT / "two_layers.gpkg"
    target.unlink(missing_ok=True)
    places = gpd.GeoDataFrame(
        {"name": ["Hale Library"], "kind": ["place"], "strand": [ACCESS]},
        geometry=[Point(-2.3470, 53.3790)],
        crs="EPSG:4326",
    )
    places.to_file(target, layer="places", driver="GPKG")
    areas = gpd.GeoDataFrame({"name": ["Hale ward"]}, geometry=[Point(-2.35, 53.38)], crs=4326)
    areas.to_file(target, layer="wards", driver="GPKG", mode="a")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    csv_files()
    geojson_files()
    workbook_files()
    gis_files()
    names = sorted(p.name for p in OUT.iterdir())
    print(f"wrote {len(names)} files to {OUT}")


if __name__ == "__main__":
    assert codecs.lookup("cp1252")
    main()
