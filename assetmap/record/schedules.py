"""When an asset's sessions happen: on which days, at which times, and the next one; and
checking sessions as they are entered.

A schedule is {"sessions": [{"day", "frequency", "start", "end"}], "notes"} (see
assetmap.record.fields). Search asks "does it run on a Tuesday afternoon?", the results and
the asset page say "next: Tuesday 1 December, 10:00 to 12:00". Both questions are answered
here, in plain Python, so that the search, the pages, the API and a printed plan agree. The
sessions a form, the API or an import gives are checked here too (`check_sessions`, called by
validation), and sessions are read from words such as "Tuesdays 10 till 12"
(`sessions_from_text`, which asks assetmap.record.opening_times).

Each session is also an iCalendar RRULE (`session_rrule`: "FREQ=WEEKLY;BYDAY=TU",
"FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", "FREQ=MONTHLY;BYDAY=1SA", "FREQ=MONTHLY;BYDAY=-1FR"), the
shape Open Referral UK schedules use; `session_from_rrule` reads one back, and the next date a
session runs is found by python-dateutil's rrule from that rule.

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

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from assetmap.record import taxonomy
from assetmap.record.describe import session_in_words
from assetmap.record.values import is_empty, quoted, slug_list, spelling_key, term_named

if TYPE_CHECKING:
    from assetmap.record.opening_times import TimesRead

WEEKDAYS: tuple[str, ...] = tuple(t.slug for t in taxonomy.DAYS)  # monday first, as date.weekday
_NTH = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
_ICAL_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

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
    """The first date on or after `today` that the session runs (or, if fortnightly, may),
    by python-dateutil's rrule from the session's rule (`session_rrule`): the weeks of a
    fortnightly session are not recorded, so here it is taken as weekly (and `next_session`
    says "or a fortnight later")."""
    if session.get("day") not in WEEKDAYS:
        return None
    return _next_date(session["day"], session.get("frequency") or "weekly", today)


@lru_cache(maxsize=1024)
def _next_date(day: str, frequency: str, today: date) -> date:
    # Seven days and seven frequencies: a search page asks the same few questions many times.
    from dateutil import rrule

    monthly, _interval, nth, weekday = _rule({"day": day, "frequency": frequency})
    start = datetime.combine(today, time())
    found = rrule.rrule(
        rrule.MONTHLY if monthly else rrule.WEEKLY,
        byweekday=rrule.weekdays[weekday](nth) if nth else weekday,
        dtstart=start,
        count=1,
    )
    return next(iter(found)).date()


def _rule(session: dict) -> tuple[bool, int, int | None, int]:
    """(monthly, interval, nth of the month or None, weekday 0-6): the session's RRULE."""
    frequency = session.get("frequency") or "weekly"
    weekday = WEEKDAYS.index(session["day"])
    if frequency in ("weekly", "fortnightly"):
        return False, 2 if frequency == "fortnightly" else 1, None, weekday
    return True, 1, _NTH[frequency], weekday


def session_rrule(session: dict) -> str:
    """The session as an iCalendar RRULE: "FREQ=WEEKLY;BYDAY=TU" every Tuesday,
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU" every other, "FREQ=MONTHLY;BYDAY=1SA" the first Saturday
    of the month, "FREQ=MONTHLY;BYDAY=-1FR" the last Friday."""
    monthly, interval, nth, weekday = _rule(session)
    every = ";INTERVAL=2" if interval == 2 else ""
    return (
        f"FREQ={'MONTHLY' if monthly else 'WEEKLY'}{every};BYDAY={nth or ''}{_ICAL_DAYS[weekday]}"
    )


_RRULE_BYDAY = re.compile(r"([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)")


def session_from_rrule(rule: str, start: str | None = None, end: str | None = None) -> list[dict]:
    """The sessions an RRULE gives (one per BYDAY), or ValueError naming what we do not store
    (other frequencies and intervals, a fifth week, BYMONTHDAY and the like)."""
    parts = {}
    for part in rule.strip().removeprefix("RRULE:").split(";"):
        key, _, value = part.partition("=")
        parts[key.strip().upper()] = value.strip().upper()
    frequency, interval = parts.pop("FREQ", ""), parts.pop("INTERVAL", "1")
    byday = parts.pop("BYDAY", "")
    parts.pop("WKST", None)
    if parts:
        raise ValueError(f"{sorted(parts)[0]} is not kept; a session is weekly, fortnightly or "
                         "monthly on a weekday")  # fmt: skip
    if not byday:
        raise ValueError("BYDAY is missing; say which day, such as BYDAY=TU")
    found = []
    for item in byday.split(","):
        match = _RRULE_BYDAY.fullmatch(item.strip())
        if not match:
            raise ValueError(f"{item!r} is not a day; use MO, TU, ... or 1SA, -1FR")
        day = WEEKDAYS[_ICAL_DAYS.index(match.group(2))]
        nth = int(match.group(1)) if match.group(1) else None
        if frequency == "WEEKLY" and nth is None and interval in ("1", "2"):
            how = "weekly" if interval == "1" else "fortnightly"
        elif frequency == "MONTHLY" and interval == "1" and nth in (1, 2, 3, 4, -1):
            how = next(k for k, v in _NTH.items() if v == nth)
        else:
            raise ValueError(
                f"FREQ={frequency};INTERVAL={interval};BYDAY={item} is not kept; a session is "
                "weekly, every other week, or the 1st to 4th or last weekday of the month"
            )
        found.append({"day": day, "frequency": how, "start": start, "end": end})
    return found


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


# Short day names a form or the API may give for a session's day ("tue").
_SHORT_DAYS = {
    "mon": "monday", "tue": "tuesday", "tues": "tuesday", "wed": "wednesday",
    "weds": "wednesday", "thu": "thursday", "thur": "thursday", "thurs": "thursday",
    "fri": "friday", "sat": "saturday", "sun": "sunday",
}  # fmt: skip


# -- sessions from words ------------------------------------------------------------------------


def sessions_from_text(text: str, *, times_column: bool = False) -> list[dict]:
    """The sessions that words about when give ("Tues 11am-2pm, Fri 11.30am-1.30pm"), or none
    when they give no day or cannot be read completely (see assetmap.record.opening_times,
    and `times_read` for what could not be read).

    `times_column` is for a cell of a "Days & Times" column, where short day names ("Tue"),
    bare hours ("10-12") and OpenStreetMap syntax are safe to read; in a description they are
    not ("sat down", "at 10 to 12").
    """
    return [dict(s) for s in times_read(text, times_column=times_column).sessions]


def times_read(text: str, *, times_column: bool = True) -> TimesRead:
    """Sessions, recognised notes and the part not read, from words about when."""
    from assetmap.record.opening_times import read_opening_times

    return read_opening_times(text, times_column=times_column)


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
