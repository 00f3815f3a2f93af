"""A council's food-bank list as such lists are kept: no kind or strand, the name under
"Organisation", a Contact column holding a phone, an email or a web address by row, and opening
times in free text. Every session the import makes is one the list states; no row is lost for
an optional field."""

# ruff: noqa: E501  (the messages are asserted whole, as a coordinator reads them)

from __future__ import annotations

from assetmap import imports
from assetmap.imports import ImportOptions
from assetmap.imports.mapping import parse_mapping
from assetmap.store import connect
from tests.test_imports_support import asset_named

LIST = "tests/data/real_shaped/food_banks_council_list.csv"
MAPPING = {
    "defaults": {
        "kind": "service",
        "strand": "access_community_resources",
        "categories": ["food_support"],
    },
    "columns": {"Organisation": "name", "Notes": "description", "Type": "extra"},
}
UNREAD = ' as days and times (no day is given for these times), so no sessions were taken from this cell and search will not find it by day or time; the words are kept as the schedule\'s notes. Write each day with its times after it, such as "Tue 11am-2pm, Fri 11.30am-1.30pm; 1st Saturday of the month 10-12", and import again'


def weekly(day, start, end, frequency="weekly"):
    return {"day": day, "frequency": frequency, "start": start, "end": end}


# Each sessions as the list states them, checked by hand against the "Opening times" column.
SESSIONS = {
    "Sale Food Bank": [weekly("tuesday", "11:00", "14:00"), weekly("friday", "11:30", "13:30")],
    "Stretford Community Pantry": [
        weekly("tuesday", "12:00", "15:00"),
        weekly("friday", "12:00", "15:00"),
        weekly("saturday", "10:00", "12:00", "first"),
    ],
    "Partington Food Hub": [
        weekly(day, "09:30", "14:00")
        for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
    ],
    "Altrincham Community Fridge": [],  # "12noon - 2pm": no day, so no session
    "Urmston Soup Kitchen": [weekly("saturday", "09:00", "12:00")],
    "Old Trafford Food Share": [],  # "By appointment only"
    "Sale Moor Pantry": [weekly("wednesday", "14:00", "16:00", "fortnightly")],
    "Timperley Larder": [weekly("friday", "10:00", "12:00", "last")],
    "Coppice Baby Bank": [weekly("wednesday", "10:00", "12:00")],
}


def test_a_food_bank_list_imports_with_only_the_sessions_it_states(trafford_db_path, tmp_path):
    options = ImportOptions(mapping=parse_mapping(MAPPING))
    db = connect(trafford_db_path)
    report = imports.preview(db, LIST, options)
    assert report.summary() == "9 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates"
    assert [f"{p.level}: {p}" for p in report.problems] == [
        "warning: row 4, column E (Contact): had no https:// in front; it was read as https://www.partingtonhub.example.org. Check it opens",
        "warning: row 5, column D (Opening times): could not read “12noon - 2pm”" + UNREAD,
        "warning: row 6, column E (Contact): 'Ask at the church office' is not an email address, phone number or web address. The whole cell is kept as extra information. Put one email address, one phone number and one web address here at most, and names or notes in other columns",
        "warning: row 9, column C (Post code): has the letter O where a zero belongs; it was read as WA15 0AB, which is in our postcode list. Correct it in the file",
        "warning: row 9, column E (Contact): 'http//:timperleylarder.example.org' is not a web address as written; it was read as https://timperleylarder.example.org. Check it opens",
        "warning: row 10, column E (Contact): '0161' is only a dialling code; enter the whole number, such as 0161 912 2000. It was left out and kept as extra information; the rest of the row was imported",
    ]
    imports.apply(db, LIST, options, who="tests", archive_dir=tmp_path)
    for name, sessions in SESSIONS.items():
        asset = asset_named(db, name)
        key = lambda s: (s["day"], s["start"])  # noqa: E731
        assert sorted(asset["schedule"]["sessions"], key=key) == sorted(sessions, key=key), name
        assert asset["position_source"] == "postcode", name
    food_share = asset_named(db, "Old Trafford Food Share")
    assert (food_share["phone"], food_share["email"]) == ("0161 912 2000", "share@example.org")
    assert food_share["schedule"]["notes"] == "By appointment only"
    assert asset_named(db, "Timperley Larder")["postcode"] == "WA15 0AB"
    assert asset_named(db, "Stretford Community Pantry")["email"] == "pantry@example.org"
