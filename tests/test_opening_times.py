"""Opening times as people write them become the sessions they state, or none at all.

The table (tests/data/opening_times.tsv) holds real phrases from the Trafford open data and the
Open Referral UK example, the examples of issue 14, OpenStreetMap opening_hours, and strings
written in the styles of real audits, each with the exact sessions, notes and unread part.
"""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assetmap.record import opening_times, schedules
from assetmap.record.opening_times import BANK_HOLIDAYS, TERM_TIME, read_opening_times

TABLE = Path(__file__).parent / "data" / "opening_times.tsv"
_ICAL = dict(zip(("MO", "TU", "WE", "TH", "FR", "SA", "SU"), opening_times.WEEKDAYS, strict=True))
_ORDINAL = {"1": "first", "2": "second", "3": "third", "4": "fourth", "-1": "last"}
_NOTE = {"term": TERM_TIME, "bank": BANK_HOLIDAYS}


def _rows() -> list[tuple[str, str, str, str, str]]:
    lines = [line for line in TABLE.read_text("utf-8").splitlines() if not line.startswith("#")]
    return [tuple(row) for row in csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)]


def _session(text: str) -> dict:
    """ "1SA 10:00-12:00" as a stored session (see the table's header)."""
    match = re.fullmatch(r"(2/|-1|[1-4])?([A-Z]{2})(?: (\d\d:\d\d)-(\d\d:\d\d)?)?", text)
    assert match, f"bad session in the table: {text!r}"
    prefix, day, start, end = match.groups()
    frequency = "fortnightly" if prefix == "2/" else _ORDINAL.get(prefix or "", "weekly")
    return {"day": _ICAL[day], "frequency": frequency, "start": start, "end": end}


ROWS = _rows()


def test_the_table_holds_at_least_150_strings_each_once():
    words = [row[0] for row in ROWS]
    assert len(words) >= 150
    assert len(set(words)) == len(words)
    assert all(len(row) == 5 for row in ROWS)


@pytest.mark.parametrize(
    ("words", "sessions", "notes", "unread", "where"), ROWS, ids=[r[0] for r in ROWS]
)
def test_opening_times_give_exactly_the_sessions_they_state(words, sessions, notes, unread, where):
    read = read_opening_times(words)
    expected = [] if sessions == "-" else [_session(s) for s in sessions.split("; ")]
    assert list(read.sessions) == expected
    assert read.unread == (None if unread == "-" else unread)
    assert list(read.notes) == ([] if notes == "-" else [_NOTE[n] for n in notes.split(", ")])
    if read.unread is not None:
        assert not read.sessions  # a cell not read completely makes no session


@pytest.mark.parametrize(
    ("words", "sessions", "notes", "unread", "where"), ROWS, ids=[r[0] for r in ROWS]
)
def test_every_session_read_is_one_validation_stores_and_search_can_date(
    words, sessions, notes, unread, where
):
    read = read_opening_times(words)
    assert schedules.check_sessions({"sessions": list(read.sessions)}) == list(read.sessions)
    for session in read.sessions:
        assert schedules.next_date(session, date(2026, 11, 26)) is not None


# -- through an import, to search ------------------------------------------------------------


@pytest.fixture
def db(trafford_db_path):
    from assetmap.store import connect

    database = connect(trafford_db_path)
    yield database
    database.close()


def _found(db, **args) -> list[str]:
    from assetmap.search.nearby import parse_search, search

    query = parse_search({"postcode": ["M33 7ZF"], **{k: [v] for k, v in args.items()}})
    return sorted(hit.record["name"] for hit in search(db, query, today=date(2026, 11, 26)).hits)


def test_search_sends_people_only_when_the_times_column_says_it_is_open(db, tmp_path):
    from assetmap import imports
    from tests.test_imports_support import asset_named, write_text

    many = ",".join(f"{h:02d}:00-{h:02d}:30" for h in range(8, 16))
    audit = write_text(
        tmp_path / "audit.csv",
        "Name,Kind,Strand,Postcode,Days and times\n"
        "Lunch Club,group,access_community_resources,M33 7ZF,"
        '"Tues 11am - 2pm, Fri 11.30am - 1.30pm"\n'
        "Craft Group,group,access_community_resources,M33 7ZF,"
        '"Tuesdays & Fridays 12pm - 3pm; 1st Saturday of month 10am - 12noon"\n'
        "Advice Desk,service,access_community_resources,M33 7ZF,Mon-Fri 09:30-14:00\n"
        "Quiz Night,group,access_community_resources,M33 7ZF,Thursdays 7-9pm or by arrangement\n"
        f'Busy Hall,place,access_community_resources,M33 7ZF,"Mo-Su {many}"\n',
    )
    report = imports.apply(db, audit, who="tests")
    assert asset_named(db, "Craft Group")["schedule"]["sessions"] == [
        {"day": "tuesday", "frequency": "weekly", "start": "12:00", "end": "15:00"},
        {"day": "friday", "frequency": "weekly", "start": "12:00", "end": "15:00"},
        {"day": "saturday", "frequency": "first", "start": "10:00", "end": "12:00"},
    ]
    assert len(asset_named(db, "Advice Desk")["schedule"]["sessions"]) == 5
    # The Lunch Club is not open on Tuesdays at 11:30 to 13:30 (that is Friday's session).
    assert _found(db, day="tuesday", time="11:30-13:30") == []
    assert _found(db, day="friday", time="11:30-13:30") == ["Lunch Club"]
    # Nor is the Craft Group open every Saturday at noon: only on the first, in the morning.
    assert _found(db, day="saturday", time="afternoon") == []
    assert _found(db, day="saturday", time="morning") == ["Craft Group"]
    assert _found(db, day="wednesday", time="09:00-14:00") == ["Advice Desk"]
    # Cells not read completely give no session, keep their words and say what went wrong.
    assert asset_named(db, "Quiz Night")["schedule"] == {
        "sessions": [],
        "notes": "Thursdays 7-9pm or by arrangement",
    }
    assert asset_named(db, "Busy Hall")["schedule"]["sessions"] == []
    warnings = [(p.row, p.column, p.message.split(", so")[0]) for p in report.problems]
    assert warnings == [
        (5, "Days and times", "could not read “or by arrangement” as days and times"),
        (6, "Days and times", "gives sessions that cannot be kept (too many sessions (56); list at "
         "most 50 and put the rest in notes)"),
    ]  # fmt: skip


# -- any timetable written in the styles above is read exactly -------------------------------

_DAY_FORMS = {
    "monday": ("Monday", "Mondays", "Mon", "mon"),
    "tuesday": ("Tuesday", "Tuesdays", "Tue", "Tues"),
    "wednesday": ("Wednesday", "Wednesdays", "Wed", "Weds"),
    "thursday": ("Thursday", "Thursdays", "Thu", "Thurs"),
    "friday": ("Friday", "Fridays", "Fri", "FRI"),
    "saturday": ("Saturday", "Saturdays", "Sat", "sat"),
    "sunday": ("Sunday", "Sundays", "Sun", "SUN"),
}
_ORDINAL_WORDS = {
    "first": "1st",
    "second": "2nd",
    "third": "third",
    "fourth": "4th",
    "last": "last",
}


def _twelve_hour(hour: int, minute: int) -> str:
    shown = f"{hour % 12 or 12}" + (f".{minute:02d}" if minute else "")
    return shown + ("am" if hour < 12 else "pm")


@st.composite
def _timetable(draw) -> tuple[str, list[dict]]:
    """A cell such as "Tues & Fri 11am - 2pm; 1st Saturday of the month 10:00-12:00", and its
    sessions."""
    parts, expected = [], []
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["weekly", "fortnightly", "monthly"]))
        if how == "monthly":
            days = [draw(st.sampled_from(opening_times.WEEKDAYS))]
            ordinals = draw(st.lists(st.sampled_from(list(_ORDINAL_WORDS)), min_size=1,
                                     max_size=2, unique=True))  # fmt: skip
            words = " and ".join(_ORDINAL_WORDS[o] for o in ordinals)
            words += f" {draw(st.sampled_from(_DAY_FORMS[days[0]]))} of the month"
        elif how == "weekly" and draw(st.booleans()):  # a range: "Mon-Fri", "Tue to Thurs"
            first = draw(st.integers(0, 5))
            last = draw(st.integers(first + 1, 6))
            days = list(opening_times.WEEKDAYS[first : last + 1])
            ordinals = ["weekly"]
            joined = draw(st.sampled_from(["-", " - ", " to "]))
            words = joined.join(draw(st.sampled_from(_DAY_FORMS[d])) for d in (days[0], days[-1]))
        else:
            days = draw(st.lists(st.sampled_from(opening_times.WEEKDAYS), min_size=1,
                                 max_size=3, unique=True))  # fmt: skip
            ordinals = ["fortnightly" if how == "fortnightly" else "weekly"]
            names = [draw(st.sampled_from(_DAY_FORMS[d])) for d in days]
            words = ("every other " if how == "fortnightly" else "") + " & ".join(names)
        times = []
        for _ in range(draw(st.integers(1, 2))):
            start = draw(st.integers(7, 20)), draw(st.sampled_from([0, 15, 30]))
            end = draw(st.integers(start[0] + 1, 22)), draw(st.sampled_from([0, 30]))
            if draw(st.booleans()):
                said = f"{start[0]:02d}:{start[1]:02d}-{end[0]:02d}:{end[1]:02d}"
            else:
                said = f"{_twelve_hour(*start)} - {_twelve_hour(*end)}"
            times.append((said, f"{start[0]:02d}:{start[1]:02d}", f"{end[0]:02d}:{end[1]:02d}"))
        parts.append(f"{words} {' and '.join(t[0] for t in times)}")
        expected += [
            {"day": day, "frequency": frequency, "start": start, "end": end}
            for day in days
            for frequency in ordinals
            for _, start, end in times
        ]
    merged = list({tuple(s.values()): s for s in expected}.values())  # repeats merged
    return draw(st.sampled_from([", ", "; "])).join(parts), merged


@given(_timetable())
def test_any_timetable_in_these_styles_gives_exactly_its_sessions(timetable):
    words, expected = timetable
    assert list(read_opening_times(words).sessions) == expected
