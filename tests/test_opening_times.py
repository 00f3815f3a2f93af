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
