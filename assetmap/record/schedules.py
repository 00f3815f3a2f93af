"""When an asset's sessions happen: on which days, at which times, and the next one; and
checking sessions as they are entered.

A schedule is {"sessions": [{"day", "frequency", "start", "end"}], "notes"} (see
assetmap.record.fields). Search asks "does it run on a Tuesday afternoon?", the results and
the asset page say "next: Tuesday 1 December, 10:00 to 12:00". Both questions are answered
here, in plain Python, so that the search, the pages, the API and a printed plan agree. The
sessions a form, the API or an import gives are checked here too (`check_sessions`, called by
validation), and sessions are read from words such as "Tuesdays 10 till 12"
(`sessions_from_text`).

Rules, in the words a link worker would use:

- A session runs on its day of the week: every week, every other week, or the first, second,
  third, fourth or last such day of the month.
- "Every other week" has no starting date in our records, so a fortnightly session may run on
  any of its days; its next session is given as the next such day "or a fortnight later".
- A named part of the day holds the sessions that *start* in it: morning before 12:00,
  afternoon 12:00 to 17:00, evening from 17:00. A range such as "14:00-17:00" is the time a
  client is free, so a session must fit inside it: start at or after 14:00 and end by 17:00.
- A session with no start time matches a day but never a time of day (we cannot say).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time, timedelta

from assetmap.record import taxonomy
from assetmap.record.describe import session_in_words
from assetmap.record.values import is_empty, quoted, slug_list, spelling_key, term_named

WEEKDAYS: tuple[str, ...] = tuple(t.slug for t in taxonomy.DAYS)  # monday first, as date.weekday
_NTH = {"first": 1, "second": 2, "third": 3, "fourth": 4}

PARTS_OF_DAY: dict[str, tuple[str, str]] = {
    "morning": ("00:00", "12:00"),
    "afternoon": ("12:00", "17:00"),
    "evening": ("17:00", "24:00"),
}
TIME_EXAMPLE = 'use morning, afternoon, evening, or a range such as "14:00-17:00"'
# A time of day on the 24-hour clock, as sessions are stored and as timetables write it: "10:30"
# or "9.30" (many UK timetables use a point), 00:00 to 23:59. Sessions as they are entered,
# sessions read from words and search's time ranges all read times with this one pattern.
# 24:00 is not a time a session starts or ends (validation refuses it); it is only the end of
# a search range, "18:00 to 24:00" or the evening.
CLOCK_TIME = r"([01]?[0-9]|2[0-3])[:.]([0-5][0-9])"
_CLOCK_TIME_RE = re.compile(CLOCK_TIME)
_END_OF_DAY = r"24[:.]00"
# "14:00-17:00", "14.00 - 17.00", "14:00 to 17:00", "18:00-24:00".
_RANGE = re.compile(rf"{CLOCK_TIME}\s*(?:-|\u2013|\u2014|to)\s*(?:{CLOCK_TIME}|({_END_OF_DAY}))")


@dataclass(frozen=True)
class TimeWindow:
    """A time of day to search in; `start` and `end` are "HH:MM" (end may be "24:00").

    `fit` is True for a range a client gave (the session must fit inside it) and False for a
    named part of the day (the session must start in it).
    """

    start: str
    end: str
    fit: bool
    name: str

    def holds(self, session: dict) -> bool:
        """Whether a session belongs to this time of day (see the module's rules)."""
        start, end = session.get("start"), session.get("end")
        if not start or not self.start <= start < self.end:
            return False
        return not self.fit or end is None or end <= self.end


def parse_time_window(text: str) -> TimeWindow:
    """Read "morning", "afternoon", "evening" or "HH:MM-HH:MM"; ValueError says what to use."""
    cleaned = " ".join(text.strip().lower().split())
    if cleaned in PARTS_OF_DAY:
        start, end = PARTS_OF_DAY[cleaned]
        return TimeWindow(start, end, fit=False, name=cleaned)
    match = _RANGE.fullmatch(cleaned)
    if not match:
        raise ValueError(f"{text!r} is not a time of day; {TIME_EXAMPLE}")
    start = f"{int(match.group(1)):02d}:{match.group(2)}"
    end = "24:00" if match.group(5) else f"{int(match.group(3)):02d}:{match.group(4)}"
    if end <= start:
        raise ValueError(f"the range {start}-{end} ends before it starts; {TIME_EXAMPLE}")
    return TimeWindow(start, end, fit=True, name=f"{start}-{end}")


def sessions(schedule: dict | None) -> list[dict]:
    """The structured sessions of a schedule (none when it has only notes, or no schedule)."""
    return list((schedule or {}).get("sessions") or [])


def matches(
    schedule: dict | None, days: Iterable[str] = (), window: TimeWindow | None = None
) -> bool:
    """Whether one session runs on one of `days` (any day when empty) and within `window`.

    The same session must satisfy both, so "Tuesday afternoon" does not match a group that
    meets on Tuesday mornings and Thursday afternoons.
    """
    days = frozenset(days)
    return any(
        (not days or s.get("day") in days) and (window is None or window.holds(s))
        for s in sessions(schedule)
    )


def may_run_on(session: dict, day: date) -> bool:
    """Whether the session runs (or, if fortnightly, may run) on this date."""
    if WEEKDAYS[day.weekday()] != session.get("day"):
        return False
    frequency = session.get("frequency") or "weekly"
    if frequency in ("weekly", "fortnightly"):
        return True
    if frequency == "last":
        return (day + timedelta(days=7)).month != day.month
    return (day.day - 1) // 7 + 1 == _NTH.get(frequency)


@dataclass(frozen=True)
class NextSession:
    """The next date a session runs, with the words to show; `certain` is False for fortnightly
    sessions, which may instead run a fortnight later."""

    date: date
    session: dict
    certain: bool
    words: str

    @property
    def iso(self) -> str:
        return self.date.isoformat()


def next_date(session: dict, today: date) -> date | None:
    """The first date on or after `today` that the session runs (or, if fortnightly, may)."""
    if session.get("day") not in WEEKDAYS:
        return None
    weekday = WEEKDAYS.index(session["day"])
    frequency = session.get("frequency") or "weekly"
    if frequency in ("weekly", "fortnightly"):
        return today + timedelta(days=(weekday - today.weekday()) % 7)
    this_month = _in_month(today.year, today.month, weekday, frequency)
    if this_month is not None and this_month >= today:
        return this_month
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return _in_month(year, month, weekday, frequency)


def _in_month(year: int, month: int, weekday: int, frequency: str) -> date | None:
    """The first, second, third, fourth or last such weekday of a month."""
    first = date(year, month, 1)
    first_such = first + timedelta(days=(weekday - first.weekday()) % 7)
    if frequency == "last":
        days_in_month = calendar.monthrange(year, month)[1]
        return first_such + timedelta(weeks=(days_in_month - first_such.day) // 7)
    nth = _NTH.get(frequency)
    return first_such + timedelta(weeks=nth - 1) if nth else None


def next_session(schedule: dict | None, today: date) -> NextSession | None:
    """The first session on or after `today`, or None when there are no structured sessions.

    Sessions on the same date come in order of start time.
    """
    found = []
    for session in sessions(schedule):
        day = next_date(session, today)
        if day is not None:
            found.append((day, session.get("start") or "", session))
    if not found:
        return None
    day, _, session = min(found, key=lambda f: (f[0], f[1]))
    certain = (session.get("frequency") or "weekly") != "fortnightly"
    return NextSession(day, session, certain, _next_in_words(day, session, today, certain))


_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def date_in_words(day: date, today: date) -> str:
    """ "Tuesday 1 December", with the year when it is not this year's (English whatever the
    server's locale)."""
    words = f"{taxonomy.DAYS[day.weekday()].label} {day.day} {_MONTHS[day.month - 1]}"
    return words if day.year == today.year else f"{words} {day.year}"


def _times(session: dict) -> str:
    # The times as assetmap.record.describe words them ("10:00 to 12:00", "from 10:00"), so a
    # page that shows both the schedule and the next session words the times the same way.
    return session_in_words(session).partition(", ")[2]


def _next_in_words(day: date, session: dict, today: date, certain: bool) -> str:
    when = date_in_words(day, today)
    if not certain:
        when += f" or {date_in_words(day + timedelta(days=14), today)}"
    times = _times(session)
    words = f"{when}, {times}" if times else when
    if not certain:
        words += f" ({session_in_words(session).partition(',')[0].lower()}: ask which weeks)"
    return words


# -- sessions from words ------------------------------------------------------------------------
# Audits and descriptions say when things happen in words: "Meets on Tuesdays 1.30-3.30pm",
# "third Wednesday of each month", "Mon & Thu 10:00 till 12:00". Sessions read from them let
# search find the asset by day and time; the words themselves are always kept as the notes.
# A range of days ("Monday to Friday", "Mon-Fri") is opening hours, not sessions: none.

_SHORT_DAYS = {
    "mon": "monday", "tue": "tuesday", "tues": "tuesday", "wed": "wednesday",
    "weds": "wednesday", "thu": "thursday", "thur": "thursday", "thurs": "thursday",
    "fri": "friday", "sat": "saturday", "sun": "sunday",
}  # fmt: skip
_DAY = r"(" + "|".join(WEEKDAYS) + r")s?\b"
_ANY_DAY = r"(" + "|".join((*WEEKDAYS, *_SHORT_DAYS)) + r")s?\b"
_DAY_RE = re.compile(r"\b" + _DAY, re.I)
_ANY_DAY_RE = re.compile(r"\b" + _ANY_DAY, re.I)
_DAY_RANGE_RE = re.compile(r"\b" + _DAY + r"\s*to\s*" + _DAY, re.I)
_ANY_DAY_RANGE_RE = re.compile(r"\b" + _ANY_DAY + r"\s*(?:to|-|\u2013)\s*" + _ANY_DAY, re.I)
_ORDINAL_RE = re.compile(r"\b(first|second|third|fourth|last)\s+" + _DAY, re.I)
_ANY_ORDINAL_RE = re.compile(r"\b(first|second|third|fourth|last)\s+" + _ANY_DAY, re.I)
_FORTNIGHTLY_RE = re.compile(r"\balternate\b|\bevery other\b|\bfortnightly\b", re.I)
_CLOCK_RANGE_RE = re.compile(
    r"(\d{1,2})(?:[.:](\d{2}))?\s*(am|pm)?\s*[-\u2013]\s*(\d{1,2})(?:[.:](\d{2}))?\s*(am|pm|noon)",
    re.I,
)
# In a times column also "10:00 till 12:00", "10am to 12pm" and "18.30-20.00".
_COLUMN_CLOCK_RANGE_RE = re.compile(
    r"(\d{1,2})(?:[.:](\d{2}))?\s*(am|pm)?\s*(?:-|\u2013|to|till|until)\s*"
    r"(\d{1,2})(?:[.:](\d{2}))?\s*(am|pm|noon)",
    re.I,
)
_24_HOUR_RANGE_RE = re.compile(
    rf"\b{CLOCK_TIME}\s*(?:-|\u2013|\u2014|to|till|until)\s*{CLOCK_TIME}\b"
)
_AT_TIME_RE = re.compile(r"\bat (\d{1,2})(?:[.:](\d{2}))?\s*(am|pm)", re.I)
_BARE_TIME_RE = re.compile(r"\b(\d{1,2})(?:[.:](\d{2}))?\s*(am|pm)\b", re.I)
# Words that say a day is *not* one: "closed Mondays", "except Fridays". Nothing is read.
_NOT_A_SESSION_RE = re.compile(r"\b(?:closed|except|excluding|not on|no sessions?)\b", re.I)


def sessions_from_text(text: str, *, times_column: bool = False) -> list[dict]:
    """The sessions that words about when give, or none when they give no day.

    `times_column` is for a cell of a "Days & Times" column, where short day names ("Tue") and
    24-hour ranges ("10:00 till 12:00") are safe to read; in a description they are not ("sat
    down", "at 10 to 12").
    """
    day_re = _ANY_DAY_RE if times_column else _DAY_RE
    range_re = _ANY_DAY_RANGE_RE if times_column else _DAY_RANGE_RE
    if range_re.search(text) or (times_column and _NOT_A_SESSION_RE.search(text)):
        return []
    ordinal = (_ANY_ORDINAL_RE if times_column else _ORDINAL_RE).search(text)
    if ordinal:
        frequency = ordinal.group(1).lower()
    elif _FORTNIGHTLY_RE.search(text):
        frequency = "fortnightly"
    else:
        frequency = "weekly"
    times = _time_ranges(text, times_column) or [("", "")]
    days = dict.fromkeys(_day_name(d) for d in day_re.findall(text))
    return [
        {"day": day, "frequency": frequency, "start": start, "end": end}
        for day in days
        for start, end in times
    ]


def _day_name(word: str) -> str:
    word = word.lower()
    return _SHORT_DAYS.get(word, word)


def _clock(hour: str, minute: str | None, suffix: str) -> tuple[int, int]:
    h = int(hour) % 12 + (12 if suffix.lower() in ("pm", "noon") else 0)
    return h, int(minute or 0)


def _hhmm(hour_minute: tuple[int, int]) -> str:
    return f"{hour_minute[0]:02d}:{hour_minute[1]:02d}"


def _time_ranges(text: str, times_column: bool) -> list[tuple[str, str]]:
    """("13:30", "15:30") for each "1.30-3.30pm"; ("14:00", "") for "at 2pm"."""
    found = []
    clock_re = _COLUMN_CLOCK_RANGE_RE if times_column else _CLOCK_RANGE_RE
    for h1, m1, s1, h2, m2, s2 in clock_re.findall(text):
        end = _clock(h2, m2, s2)
        start = _clock(h1, m1, s1 or s2)
        if not s1 and start > end:  # "11-1pm" starts in the morning
            start = _clock(h1, m1, "am")
        found.append((_hhmm(start), _hhmm(end)))
    if not found and times_column:
        for h1, m1, h2, m2 in _24_HOUR_RANGE_RE.findall(text):
            found.append((f"{int(h1):02d}:{m1}", f"{int(h2):02d}:{m2}"))
    if not found:
        at_time = _BARE_TIME_RE if times_column else _AT_TIME_RE
        found = [(_hhmm(_clock(h, m, s)), "") for h, m, s in at_time.findall(text)]
    return found


# -- sessions as they are entered ---------------------------------------------------------------

SCHEDULE_EXAMPLE = (
    'give {"sessions": [{"day": "tuesday", "frequency": "weekly", "start": "10:00", '
    '"end": "12:00"}], "notes": "Term time only"}, or just a sentence such as "Tuesdays 10 till 12"'
)
_SESSION_KEYS = frozenset({"day", "frequency", "start", "end"})
MAX_SESSIONS = 50


class BadSchedule(ValueError):
    """Sessions that cannot be stored; the message says what to enter instead."""


def check_sessions(schedule: dict) -> list[dict]:
    """The sessions of a schedule ({"sessions": [...], "notes": ...}) as they are stored: days
    and frequencies as slugs, times as HH:MM. BadSchedule names every bad session by number.

    The notes are the caller's: validation cleans them as it cleans any text.
    """
    extra = sorted(set(schedule) - {"sessions", "notes"})
    if extra:
        raise BadSchedule(f"unknown key {quoted(extra[0])}; a schedule has only sessions and notes")
    sessions = schedule.get("sessions") or []
    if not isinstance(sessions, list):
        raise BadSchedule(f"sessions must be a list; {SCHEDULE_EXAMPLE}")
    if len(sessions) > MAX_SESSIONS:
        raise BadSchedule(
            f"too many sessions ({len(sessions)}); list at most {MAX_SESSIONS} and put the "
            "rest in notes"
        )
    problems: list[str] = []
    cleaned: list[dict] = []
    for number, session in enumerate(sessions, start=1):
        try:
            cleaned.append(check_session(session))
        except BadSchedule as exc:
            problems.append(f"session {number}: {exc}")
    if problems:
        raise BadSchedule("; ".join(problems))
    return cleaned


def check_session(session: object) -> dict:
    """One session as it is stored, or BadSchedule saying what is wrong with it."""
    if not isinstance(session, dict):
        raise BadSchedule(f"{quoted(session)} is not a session; give day, frequency, start and end")
    extra = sorted(set(session) - _SESSION_KEYS)
    if extra:
        raise BadSchedule(
            f"unknown key {quoted(extra[0])}; a session has day, frequency, start and end"
        )
    day_text = session.get("day")
    if is_empty(day_text):
        raise BadSchedule(f"day is missing; use one of {slug_list(taxonomy.DAYS)}")
    day = None
    if isinstance(day_text, str):
        day = term_named(taxonomy.DAYS, day_text) or _SHORT_DAYS.get(spelling_key(day_text))
    if day is None:
        raise BadSchedule(
            f"day {quoted(day_text)} is not a day; use one of {slug_list(taxonomy.DAYS)}"
        )
    frequency_text = session.get("frequency")
    frequency = "weekly"
    if not is_empty(frequency_text):
        found = None
        if isinstance(frequency_text, str):
            found = term_named(taxonomy.FREQUENCIES, frequency_text)
        if found is None:
            raise BadSchedule(
                f"frequency {quoted(frequency_text)} is not a frequency; "
                f"use one of {slug_list(taxonomy.FREQUENCIES)}"
            )
        frequency = found
    start = check_time("start", session.get("start"))
    end = check_time("end", session.get("end"))
    if start and end and end <= start:
        relation = "the same as" if end == start else "before"
        raise BadSchedule(f"end {end} is {relation} start {start}; check the times")
    return {"day": day, "frequency": frequency, "start": start, "end": end}


def check_time(which: str, value: object) -> str | None:
    """A session's start or end as HH:MM (see CLOCK_TIME), None when empty."""
    if is_empty(value):
        return None
    if isinstance(value, time):
        return value.strftime("%H:%M")
    match = _CLOCK_TIME_RE.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match:
        raise BadSchedule(f"{which} {quoted(value)} is not a time; use 24-hour HH:MM such as 14:30")
    return f"{int(match.group(1)):02d}:{match.group(2)}"
