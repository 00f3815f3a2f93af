"""JSON lists of records, as directories and APIs export them, imported like a spreadsheet.

The files in tests/data/real_shaped/ (c_*.json) are shaped like real exports: a national
directory of community venues with nested address, location, contact and opening-hours objects
and NaN where a value is missing, and an API answer with its records under "data" beside
"meta" and "links". Each is imported through imports.preview and imports.apply, with the exact
words a coordinator sees.
"""

# ruff: noqa: E501  (the messages are asserted whole, as a coordinator reads them)

from __future__ import annotations

import io
import json

import pytest

from assetmap import imports
from assetmap.imports import ImportFileError, ImportOptions, load_mapping
from assetmap.imports.json_records import flatten
from assetmap.imports.limits import MAX_JSON_DEPTH, ImportLimits
from assetmap.imports.readers import open_table
from assetmap.store import connect
from assetmap.store import imports as store
from tests.test_imports_support import ROOT, asset_named, fingerprint

REAL = ROOT / "tests" / "data" / "real_shaped"

PREVIEWS = {
    "c_venue_directory.json": {
        "summary": "4 new, 0 changed, 0 unchanged, 1 rejected, 0 possible duplicates",
        "format": "JSON records, 5 records",
        "notes": [
            "Not imported into any field, kept as extra information with each row: M (facilities). To import one into a field, rename its heading (see the template) or name it in a mapping file.",
            "1 record had no coordinates and was placed from its postcode.",
            "3 records gave days and times in words (“Tuesdays 10:00 till 12:00”); they were read as sessions, so that search finds them by day and time, and the words kept as notes. Check a few on their asset pages.",
        ],
        "problems": [
            "error: record 4, column name: name is required; enter what people call it",
        ],
    },
    "c_food_banks_data_wrapper.json": {
        "summary": "3 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates",
        "format": "JSON records, 3 records",
        "notes": [
            "The records were read from the file's “data” list; the rest of the file (“meta”, “links”) was not imported.",
            "1 record had no coordinates and was placed from its postcode.",
            "2 records gave days and times in words (“Tuesdays 10:00 till 12:00”); they were read as sessions, so that search finds them by day and time, and the words kept as notes. Check a few on their asset pages.",
        ],
        "problems": [],
    },
}


@pytest.fixture
def db_path(trafford_db_path):
    return trafford_db_path


def options_for(name: str) -> ImportOptions:
    return ImportOptions(mapping=load_mapping(REAL / name.replace(".json", ".toml")))


@pytest.mark.parametrize("name", sorted(PREVIEWS))
def test_coordinator_sees_exactly_what_a_json_export_holds(db_path, name):
    expected = PREVIEWS[name]
    before = fingerprint(db_path)
    db = connect(db_path)
    try:
        report = imports.preview(db, REAL / name, options_for(name))
    finally:
        db.close()
    assert report.summary() == expected["summary"]
    assert report.format == expected["format"]
    assert report.all_notes() == expected["notes"]
    assert [f"{p.level}: {p}" for p in report.problems] == expected["problems"]
    assert fingerprint(db_path) == before


def test_a_venue_directory_exported_as_json_imports_its_nested_fields(db_path, tmp_path):
    name = "c_venue_directory.json"
    db = connect(db_path)
    try:
        report = imports.apply(
            db, REAL / name, options_for(name), who="tests", archive_dir=tmp_path
        )
        assert report.summary() == PREVIEWS[name]["summary"]
        centre = asset_named(db, "Sale Moor Community Centre")
        assert (centre["source_id"], centre["postcode"]) == ("CV-004121", "M33 2JY")
        assert (centre["lat"], centre["lon"]) == (53.419755, -2.291326)
        assert centre["address"] == "Norris Road, Sale"
        assert centre["phone"] == "0161 912 3000"
        assert centre["website"] == "https://salemoorcc.example.org"
        # The opening hours, a list of objects, arrive as words the times reader reads.
        assert centre["schedule"]["notes"] == "Tuesday 10:00-12:00; Friday 13:00-15:00"
        assert store.extra_for_asset(db, centre["id"]) == {
            "facilities": "Wheelchair access; Hearing loop; Cafe",
        }
        assert centre["last_verified"] == "2024-03-01"
        # NaN coordinates and "NaN" text are empty: placed from the postcode, no phone.
        library = asset_named(db, "Stretford Library")
        assert library["postcode"] == "M32 9BD"
        assert (round(library["lat"], 4), round(library["lon"], 4)) == (53.4457, -2.3094)
        assert (library["phone"], library["email"]) == (None, None)
        scouts = asset_named(db, "Davyhulme Scout Hut")
        assert (scouts["description"], scouts["website"]) == (None, None)
        assert scouts["schedule"] == {"notes": "", "sessions": []}  # an empty list of hours
        assert asset_named(db, "Hale Barns Village Hall")["website"] is None  # "nan"
    finally:
        db.close()


def test_an_api_answer_with_its_records_under_data_imports_them(db_path, tmp_path):
    name = "c_food_banks_data_wrapper.json"
    db = connect(db_path)
    try:
        imports.apply(db, REAL / name, options_for(name), who="tests", archive_dir=tmp_path)
        sale = asset_named(db, "Sale Food Bank")
        assert sale["schedule"]["notes"] == "Monday 10:00-12:00; Thursday 17:00-19:00"
        assert sale["website"] is None
        stretford = asset_named(db, "Trafford Food Bank")
        assert (stretford["lat"], stretford["lon"]) == (53.445677, -2.30942)
        assert store.extra_for_asset(db, stretford["id"]) == {"tags": "food; advice"}
    finally:
        db.close()


def write_json(tmp_path, document, name="export.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def rows_of(path, limits=ImportLimits()):  # noqa: B008
    table = open_table(path, limits=limits)
    try:
        return table, [(r.number, r.cells, r.problem) for r in table.rows]
    finally:
        table.close()


def test_headings_are_every_key_in_first_seen_order_with_nested_ones_dotted(tmp_path):
    path = write_json(
        tmp_path,
        [
            {"name": "A", "address": {"postcode": "M33 7ZF"}},
            {"name": "B", "location": {"lat": 53.4, "lng": -2.3}, "address": {"line_1": "1 Road"}},
        ],
    )
    table, rows = rows_of(path)
    assert table.headers == [
        "name",
        "address.postcode",
        "location.lat",
        "location.lng",
        "address.line_1",
    ]
    assert table.unit == "record"
    assert rows == [
        (1, ["A", "M33 7ZF", None, None, None], None),
        (2, ["B", None, 53.4, -2.3, "1 Road"], None),
    ]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (
            [
                {"day": "Tuesday", "opens": "10:00", "closes": "12:00"},
                {"day": "Friday", "opens": "13:00", "closes": "15:00"},
            ],
            "Tuesday 10:00-12:00; Friday 13:00-15:00",
        ),
        (
            [{"weekday": "Monday", "opens_at": "09:00", "closes_at": "17:00"}],
            "Monday 09:00-17:00",
        ),  # Open Referral
        (
            [
                {
                    "dayOfWeek": ["https://schema.org/Monday", "https://schema.org/Wednesday"],
                    "opens": "09:00",
                    "closes": "17:00",
                }
            ],
            "Monday & Wednesday 09:00-17:00",
        ),  # schema.org
        (
            [{"day": "Saturday", "start": "10:00", "end": "12:00", "note": "first of the month"}],
            "Saturday 10:00-12:00 (first of the month)",
        ),
        ([{"day": "Sunday", "opens": "11:00"}], "Sunday 11:00"),
        ([{"day": "Monday", "closes": "14:00"}], "Monday until 14:00"),
        ([{"day": "Monday", "opens": None, "closes": float("nan")}], "Monday"),
        ([{"name": "Jo", "phone": "0161 912 3000"}], "name: Jo, phone: 0161 912 3000"),
        (["walking", None, "tea", "NaN", 3, 2.0, True], "walking; tea; 3; 2; yes"),
        ([[1, 2], [3]], "1; 2; 3"),
        ([], None),
        ([None, float("nan")], None),
    ],
)
def test_lists_become_one_readable_cell(value, cell):
    assert flatten({"x": value}, 1, ImportLimits()) == {"x": cell}


@pytest.mark.parametrize("empty", [None, float("nan"), float("inf"), "NaN", "nan", " NAN "])
def test_null_nan_and_the_text_nan_are_empty_cells(empty):
    assert flatten({"x": empty, "y": {"z": empty}}, 1, ImportLimits()) == {"x": None, "y.z": None}


def test_a_key_written_dotted_and_nested_keeps_the_first_value_given():
    record = {"address.postcode": None, "address": {"postcode": "M33 7ZF"}}
    assert flatten(record, 1, ImportLimits()) == {"address.postcode": "M33 7ZF"}


def test_an_item_that_is_not_a_record_is_rejected_with_its_number(tmp_path):
    path = write_json(tmp_path, {"results": [{"name": "A"}, "B", [1]]})
    table, rows = rows_of(path)
    assert table.description == "JSON records, 3 records"
    assert table.notes == []  # nothing else in the file
    assert rows[1:] == [
        (
            2,
            [],
            'is a piece of text, not a record (an object of named fields, {"name": ..., "postcode": ...}); export the records again',
        ),
        (
            3,
            [],
            'is a list, not a record (an object of named fields, {"name": ..., "postcode": ...}); export the records again',
        ),
    ]


@pytest.mark.parametrize(
    ("document", "refusal"),
    [
        (
            {"data": [{"name": "A"}], "sites": [{"name": "B"}]},
            "holds more than one list of records (“data”, “sites”), and an import reads one. Save the list of assets as a file of its own (a list of objects, or an object with just that list) and import that",
        ),
        (
            {"name": "A", "tags": ["x"]},
            'is JSON but neither GeoJSON nor a list of records: it is one object (its keys are “name”, “tags”) with no list of objects in it. Export the records as a list of objects, one for each asset, on their own or under a key such as "data", or as CSV UTF-8',
        ),
        (
            ["A", "B"],
            'is a JSON list of single values, not of records. Export the records as a list of objects, one for each asset ({"name": ..., "postcode": ...}), or as CSV UTF-8',
        ),
        ([], "is an empty JSON list: it holds no records"),
        (
            [{}, {}],
            "is a JSON list whose records have no fields; export the records with their fields",
        ),
    ],
)
def test_json_that_holds_no_single_list_of_records_is_refused_saying_why(
    tmp_path, document, refusal
):
    with pytest.raises(ImportFileError) as refused:
        open_table(write_json(tmp_path, document))
    assert str(refused.value) == refusal


def test_geojson_is_still_read_as_geojson_and_a_bare_list_of_features_too(tmp_path):
    feature = {
        "type": "Feature",
        "properties": {"name": "A"},
        "geometry": {"type": "Point", "coordinates": [-2.3, 53.4]},
    }
    table, rows = rows_of(
        write_json(tmp_path, {"type": "FeatureCollection", "features": [feature]})
    )
    assert (table.description, table.unit, rows[0][2]) == ("GeoJSON, 1 feature", "feature", None)
    table, _ = rows_of(write_json(tmp_path, [feature, feature], "list.json"))
    assert (table.description, table.unit) == ("GeoJSON, 2 features", "feature")


def test_a_broken_json_file_is_refused_with_its_line(tmp_path):
    path = tmp_path / "export.json"
    path.write_text('[{"name": "A"},\n{"name": }]', encoding="utf-8")
    with pytest.raises(ImportFileError) as refused:
        open_table(path)
    assert str(refused.value) == (
        "is not valid JSON: Expecting value at line 2, column 10. Export the file again from the "
        "system it came from, or check that line in a text editor"
    )


# A hostile JSON cannot take memory or time: each limit is checked before the first record is
# used, and the refusal names the limit and its setting.


def test_too_many_records_are_refused_naming_the_setting(tmp_path):
    path = write_json(tmp_path, [{"name": str(i)} for i in range(6)])
    with pytest.raises(ImportFileError) as refused:
        open_table(path, limits=ImportLimits(max_rows=5))
    assert str(refused.value) == (
        "has 6 records; the most an import reads is 5 (the ASSETMAP_IMPORT_MAX_ROWS setting). "
        "Split it into files of fewer records and import them one by one"
    )


def test_too_many_fields_are_refused_naming_the_setting(tmp_path):
    path = write_json(tmp_path, [{"a": 1, "b": {"c": 2, "d": 3}}, {"e": 4}])
    with pytest.raises(ImportFileError) as refused:
        open_table(path, limits=ImportLimits(max_columns=3))
    assert str(refused.value) == (
        "has 4 columns (different fields across its records); the most an import reads is 3 "
        "(the ASSETMAP_IMPORT_MAX_COLUMNS setting). Delete the columns the import does not need, "
        "or move some of them to another file"
    )


def test_a_cell_too_big_is_refused_even_when_it_is_made_from_a_list(tmp_path):
    path = write_json(tmp_path, [{"name": "A"}, {"name": "B", "tags": ["x" * 600, "y" * 600]}])
    with pytest.raises(ImportFileError) as refused:
        open_table(path, limits=ImportLimits(max_cell_kb=1))
    assert str(refused.value) == (
        "has 1,202 characters in one cell (record 2, column tags); the most a cell may hold is "
        "1,024 (the ASSETMAP_IMPORT_MAX_CELL_KB setting). Shorten that cell and import the file "
        "again"
    )


def test_a_file_too_big_to_read_whole_is_refused_naming_the_setting(tmp_path):
    path = write_json(tmp_path, [{"name": "x" * 1000} for _ in range(200)])
    with pytest.raises(ImportFileError) as refused:
        open_table(path, limits=ImportLimits(max_uncompressed_mb=1))
    assert str(refused.value) == (
        "is JSON of 0.2 MB, which is read whole; the most such a file may hold is 0.1 MB, a "
        "tenth of the ASSETMAP_IMPORT_MAX_UNCOMPRESSED_MB setting. Split the records into "
        "smaller files, or export them as CSV UTF-8"
    )


@pytest.mark.parametrize("shape", ["object", "list"])
def test_records_nested_too_deep_are_refused_before_any_is_read(tmp_path, shape):
    deep: object = "bottom"
    for _ in range(MAX_JSON_DEPTH + 1):
        deep = {"x": deep} if shape == "object" else [deep]
    path = write_json(tmp_path, [{"name": "A"}, {"name": "B", "deep": deep}])
    with pytest.raises(ImportFileError) as refused:
        open_table(path)
    assert str(refused.value) == (
        f"has objects or lists nested more than {MAX_JSON_DEPTH} levels deep (record 2); the "
        f"most an import reads is {MAX_JSON_DEPTH} levels, since a list of records nests three "
        "or four (a venue, its address, its opening hours). Export the records as a flat list of "
        "objects, or as CSV UTF-8"
    )


def test_json_nested_deeper_than_python_reads_is_refused_not_a_crash(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    with pytest.raises(ImportFileError) as refused:
        open_table(path)
    assert str(refused.value).startswith(
        f"has objects or lists nested more than {MAX_JSON_DEPTH} levels deep (in the file)"
    )


def test_a_refused_json_file_leaves_the_database_as_it_was(db_path, tmp_path):
    path = write_json(tmp_path, {"data": [{"name": "A"}], "sites": [{"name": "B"}]})
    before = fingerprint(db_path)
    db = connect(db_path)
    try:
        with pytest.raises(ImportFileError):
            imports.apply(db, path, who="tests", archive_dir=tmp_path / "imports")
    finally:
        db.close()
    assert fingerprint(db_path) == before


def test_a_coordinator_previews_a_json_export_on_the_import_page(db_path):
    from tests.test_imports_web import make_app, signed_in, text_of, upload

    app = make_app(db_path, WTF_CSRF_ENABLED=False)
    client = signed_in(app)
    name = "c_venue_directory.json"
    mapping = REAL / name.replace(".json", ".toml")
    response = upload(
        client,
        name=name,
        body=(REAL / name).read_bytes(),
        mapping=(io.BytesIO(mapping.read_bytes()), mapping.name),
    )
    assert response.status_code == 302
    words = text_of(client.get(response.headers["Location"]))
    assert "JSON records, 5 records" in words
    assert "Source recorded on each asset venue-directory" in words
    assert "name is required; enter what people call it" in words


def test_dotted_headings_are_read_by_their_end_only_under_a_part_that_just_holds_fields():
    from assetmap.imports.columns import plan_columns
    from assetmap.imports.mapping import Mapping

    headers = [
        "name",
        "location.lat",
        "location.lng",
        "address.postcode",
        "address.line1",
        "contact.email",
        "organisation.name",
        "opening_hours.description",
    ]
    plan = plan_columns(headers, Mapping())
    assert [c.target for c in plan.columns] == [
        "name",
        "lat",
        "lon",
        "postcode",
        "address_part",
        "email",
        "organisation",
        "extra",
    ]
