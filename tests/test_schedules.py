"""When sessions happen: days, times of day, and the next session in words."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assetmap.record import describe, schedules
from assetmap.record.schedules import TimeWindow, matches, next_session, parse_time_window

THURSDAY = date(2026, 11, 26)


def session(day="tuesday", frequency="weekly", start="10:00", end="12:00") -> dict:
    return {"day": day, "frequency": frequency, "start": start, "end": end}


def schedule(*sessions: dict) -> dict:
    return {"sessions": list(sessions), "notes": ""}


def test_link_worker_sees_next_tuesdays_walk_in_words_and_as_a_date():
    upcoming = next_session(schedule(session()), THURSDAY)
    assert upcoming.words == "Tuesday 1 December, 10:00 to 12:00"
    assert upcoming.iso == "2026-12-01"
    assert upcoming.certain


def test_a_session_today_is_the_next_session():
    assert next_session(schedule(session(day="thursday")), THURSDAY).date == THURSDAY


@pytest.mark.parametrize(
    ("frequency", "expected"),
    [
        ("first", date(2026, 12, 1)),  # 1 December 2026 is the first Tuesday
        ("second", date(2026, 12, 8)),
        ("third", date(2026, 12, 15)),
        ("fourth", date(2026, 12, 22)),  # November's fourth Tuesday, the 24th, has passed
        ("last", date(2026, 12, 29)),
    ],
)
def test_monthly_sessions_fall_on_the_right_tuesday(frequency, expected):
    assert next_session(schedule(session(frequency=frequency)), THURSDAY).date == expected


def test_this_months_session_is_next_when_it_is_still_to_come():
    assert next_session(schedule(session(frequency="last")), date(2026, 11, 2)).date == date(
        2026, 11, 24
    )


def test_a_session_next_year_says_the_year():
    upcoming = next_session(schedule(session(day="monday", frequency="first")), date(2026, 12, 30))
    assert upcoming.words == "Monday 4 January 2027, 10:00 to 12:00"


def test_fortnightly_session_is_given_as_one_of_two_dates_because_we_do_not_know_which_week():
    upcoming = next_session(schedule(session(day="thursday", frequency="fortnightly")), THURSDAY)
    assert upcoming.date == THURSDAY and not upcoming.certain
    assert upcoming.words == (
        "Thursday 26 November or Thursday 10 December, 10:00 to 12:00 "
        "(every other thursday: ask which weeks)"
    )


def test_the_earliest_session_wins_and_same_day_sessions_go_by_start_time():
    upcoming = next_session(
        schedule(
            session(day="friday", start="09:00", end="10:00"),
            session(day="tuesday", start="14:00", end="15:00"),
            session(day="tuesday", start="10:00", end="11:00"),
        ),
        date(2026, 11, 30),
    )
    assert upcoming.words == "Tuesday 1 December, 10:00 to 11:00"


def test_times_are_worded_as_the_asset_page_words_them():
    upcoming = next_session(schedule(session(end=None)), THURSDAY)
    assert upcoming.words == "Tuesday 1 December, from 10:00"
    assert next_session(schedule(session(start=None, end=None)), THURSDAY).words == (
        "Tuesday 1 December"
    )


@pytest.mark.parametrize("nothing", [None, {}, {"sessions": [], "notes": "Ring first"}])
def test_no_structured_sessions_means_no_next_session(nothing):
    assert next_session(nothing, THURSDAY) is None


@given(
    today=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    day=st.sampled_from(schedules.WEEKDAYS),
    frequency=st.sampled_from(
        ["weekly", "fortnightly", "first", "second", "third", "fourth", "last"]
    ),
)
def test_next_date_is_the_first_day_the_session_may_run(today, day, frequency):
    one = session(day=day, frequency=frequency)
    found = schedules.next_date(one, today)
    assert schedules.may_run_on(one, found) and found >= today
    assert not any(
        schedules.may_run_on(one, today + timedelta(d)) for d in range((found - today).days)
    )


@pytest.mark.parametrize(
    ("typed", "window"),
    [
        ("morning", TimeWindow("00:00", "12:00", False, "morning")),
        (" Afternoon ", TimeWindow("12:00", "17:00", False, "afternoon")),
        ("evening", TimeWindow("17:00", "24:00", False, "evening")),
        ("14:00-17:00", TimeWindow("14:00", "17:00", True, "14:00-17:00")),
        ("9.30 \u2013 12.00", TimeWindow("09:30", "12:00", True, "09:30-12:00")),
        ("18:00 to 24:00", TimeWindow("18:00", "24:00", True, "18:00-24:00")),
    ],
)
def test_times_of_day_are_read_as_people_write_them(typed, window):
    assert parse_time_window(typed) == window


@pytest.mark.parametrize(
    "typed",
    ["lunchtime", "14:00", "17:00-14:00", "14:00-14:00", "25:00-26:00", "2pm-5pm", "24:00-24:00"]
    + ["20:00-24:30", "23:00-24:01"],
)
def test_a_time_that_cannot_be_read_says_what_to_use(typed):
    with pytest.raises(ValueError, match="morning, afternoon, evening|ends before"):
        parse_time_window(typed)


def test_a_named_part_of_the_day_holds_the_sessions_that_start_in_it():
    morning = parse_time_window("morning")
    assert morning.holds(session(start="11:30", end="13:00"))
    assert not morning.holds(session(start="12:00", end="13:00"))
    assert not morning.holds(session(start=None, end=None))  # no time: cannot say


def test_a_clients_free_hours_hold_only_sessions_that_fit_inside_them():
    free = parse_time_window("14:00-17:00")
    assert free.holds(session(start="14:00", end="17:00"))
    assert free.holds(session(start="15:00", end=None))
    assert not free.holds(session(start="13:30", end="15:00"))
    assert not free.holds(session(start="16:00", end="17:30"))


def test_day_and_time_must_be_met_by_the_same_session():
    tuesday_morning_thursday_afternoon = schedule(
        session(day="tuesday", start="10:00"), session(day="thursday", start="14:00")
    )
    afternoon = parse_time_window("afternoon")
    assert matches(tuesday_morning_thursday_afternoon, ["thursday"], afternoon)
    assert not matches(tuesday_morning_thursday_afternoon, ["tuesday"], afternoon)
    assert matches(tuesday_morning_thursday_afternoon, ["monday", "tuesday"])
    assert not matches(None, ["tuesday"])


def _weekly(day, start=None, end=None, frequency="weekly"):
    return {"day": day, "frequency": frequency, "start": start, "end": end}


# The full table of opening times is tests/test_opening_times.py; these are the sentences this
# module has always read, some of them now read differently because they were read wrongly:
# a range of days gives a session on each day, and "closed Mondays" no longer hides the
# Tuesday that follows it (issue 14).
@pytest.mark.parametrize(
    ("words", "sessions"),
    [
        ("Tuesdays 10:00 till 12:00", [_weekly("tuesday", "10:00", "12:00")]),
        ("Mon & Thu 6-8pm", [_weekly("monday", "18:00", "20:00"),
                             _weekly("thursday", "18:00", "20:00")]),
        ("sat 9-11am", [_weekly("saturday", "09:00", "11:00")]),
        ("Thursday 18:30 - 20:00", [_weekly("thursday", "18:30", "20:00")]),
        ("Every other Wednesday 2pm-4pm",
         [_weekly("wednesday", "14:00", "16:00", "fortnightly")]),
        ("First Tuesday of the month 10am to 12pm",
         [_weekly("tuesday", "10:00", "12:00", "first")]),
        ("Mondays at 7pm", [_weekly("monday", "19:00")]),
        ("Wednesday evenings", [_weekly("wednesday")]),
        ("Mon-Fri 9.30-5", [_weekly(d, "09:30", "17:00") for d in schedules.WEEKDAYS[:5]]),
        ("Monday to Friday 9am-5pm",
         [_weekly(d, "09:00", "17:00") for d in schedules.WEEKDAYS[:5]]),
        ("Closed Mondays; open Tue 10-12pm", [_weekly("tuesday", "10:00", "12:00")]),
        # No day at all, or a part that cannot be read: no sessions.
        ("by appointment", []),
        ("Tuesdays 10-12, Thursdays by appointment", []),
    ],
)  # fmt: skip
def test_sessions_are_read_from_a_times_column_in_words(words, sessions):
    assert schedules.sessions_from_text(words, times_column=True) == sessions


def test_in_a_description_short_day_names_are_not_read_as_days():
    assert schedules.sessions_from_text("We sat down for tea at 2pm") == []
    # In a times column "sat" is Saturday, but the rest of the cell is not days and times.
    read = schedules.times_read("We sat down for tea at 2pm")
    assert (read.sessions, read.unread) == ((), "down for tea")


def test_in_a_description_the_days_and_times_in_a_sentence_are_read():
    assert schedules.sessions_from_text(
        "Drop in at the Life Centre cafe on Fridays 10am-12pm for mothers"
    ) == [_weekly("friday", "10:00", "12:00")]
    assert schedules.sessions_from_text(
        "Meets Tuesdays, Wednesdays and Fridays, 9.30-11.30am and 12.30-2.30pm."
    ) == [
        _weekly(day, start, end)
        for day in ("tuesday", "wednesday", "friday")
        for start, end in (("09:30", "11:30"), ("12:30", "14:30"))
    ]


@pytest.mark.parametrize(
    ("frequency", "rule"),
    [
        ("weekly", "FREQ=WEEKLY;BYDAY=TU"),
        ("fortnightly", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"),
        ("first", "FREQ=MONTHLY;BYDAY=1TU"),
        ("second", "FREQ=MONTHLY;BYDAY=2TU"),
        ("third", "FREQ=MONTHLY;BYDAY=3TU"),
        ("fourth", "FREQ=MONTHLY;BYDAY=4TU"),
        ("last", "FREQ=MONTHLY;BYDAY=-1TU"),
    ],
)
def test_each_session_is_an_icalendar_rule_and_back(frequency, rule):
    one = session(frequency=frequency)
    assert schedules.session_rrule(one) == rule
    assert schedules.session_from_rrule(rule, "10:00", "12:00") == [one]


def test_a_rule_with_several_days_gives_a_session_each():
    assert schedules.session_from_rrule("RRULE:FREQ=MONTHLY;BYDAY=1SA,3SA") == [
        _weekly("saturday", frequency="first"),
        _weekly("saturday", frequency="third"),
    ]


@pytest.mark.parametrize(
    "rule",
    ["FREQ=DAILY", "FREQ=MONTHLY;BYDAY=5TU", "FREQ=WEEKLY;INTERVAL=3;BYDAY=TU",
     "FREQ=MONTHLY;BYMONTHDAY=1", "FREQ=MONTHLY;BYDAY=TU", "FREQ=WEEKLY;BYDAY=XX"],
)  # fmt: skip
def test_a_rule_we_cannot_keep_says_what_a_session_can_be(rule):
    with pytest.raises(ValueError, match="not kept|missing|not a day"):
        schedules.session_from_rrule(rule)


@pytest.mark.parametrize("typed", ["00:00", "9.30", "09:30", "23:59"])
def test_a_session_time_is_any_time_of_day_on_the_24_hour_clock(typed):
    assert schedules.check_time("start", typed) == f"{typed.replace('.', ':'):0>5}"


@pytest.mark.parametrize("typed", ["24:00", "24.00", "25:00", "12:60", "noon", "\u0661\u0660:30"])
def test_24_00_ends_a_search_range_but_is_not_a_sessions_time(typed):
    with pytest.raises(schedules.BadSchedule, match="use 24-hour HH:MM such as 14:30"):
        schedules.check_time("end", typed)
    assert parse_time_window("18:00-24:00").end == "24:00"
    # A session that runs to midnight is not read (24:00 is not a session's time): no session.
    assert schedules.sessions_from_text("Tuesdays 22:00 till 24:00", times_column=True) == []


@pytest.mark.parametrize(
    ("words", "lines"),
    [
        ("Mon-Fri 09:30-14:00", ["Monday to Friday, 09:30 to 14:00"]),
        ("Tuesdays & Fridays 12pm - 3pm; 1st Saturday of month 10am - 12noon",
         ["Every Tuesday and Friday, 12:00 to 15:00",
          "First Saturday of the month, 10:00 to 12:00"]),
        ("1st and 3rd Saturday of the month 10-12",
         ["First and third Saturday of the month, 10:00 to 12:00"]),
        ("last Friday 7-9pm", ["Last Friday of the month, 19:00 to 21:00"]),
        ("every other Tuesday 2-4pm", ["Every other Tuesday, 14:00 to 16:00"]),
        ("Daily 10-4", ["Every day, 10:00 to 16:00"]),
        ("Mon, Wed, Fri 9am-3pm", ["Every Monday, Wednesday and Friday, 09:00 to 15:00"]),
        ("Tue 10-12, Thu 2-4", ["Every Tuesday, 10:00 to 12:00", "Every Thursday, 14:00 to 16:00"]),
        ("Mondays at 7pm", ["Every Monday, from 19:00"]),
    ],
)  # fmt: skip
def test_pages_say_sessions_together_as_a_timetable_does(words, lines):
    read = schedules.times_read(words)
    schedule = {"sessions": list(read.sessions), "notes": words}
    assert describe.schedule_in_words(schedule) == [*lines, words]
