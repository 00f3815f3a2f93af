"""Asset details in plain words, for pages people read (not for the API)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from assetmap.record import taxonomy

# Dates people read ("next: Tuesday 1 December") are in the directory's own time zone.
LOCAL_TIMEZONE = ZoneInfo("Europe/London")


def today() -> date:
    return datetime.now(LOCAL_TIMEZONE).date()


def directions_url(lat: float, lon: float) -> str:
    """Walking directions to a place on OpenStreetMap (a link people choose to follow)."""
    return (
        "https://www.openstreetmap.org/directions?engine=fossgis_osrm_foot"
        f"&route=%3B{lat:.5f}%2C{lon:.5f}"
    )


def session_in_words(session: dict) -> str:
    """One schedule session as people say it: "Every Tuesday, 10:00 to 12:00"."""
    day = taxonomy.label(taxonomy.DAYS, session.get("day"))
    frequency = session.get("frequency") or "weekly"
    if frequency == "weekly":
        when = f"Every {day}"
    elif frequency == "fortnightly":
        when = f"Every other {day}"
    else:
        when = f"{taxonomy.label(taxonomy.FREQUENCIES, frequency)} {day} of the month"
    start, end = session.get("start"), session.get("end")
    if start and end:
        return f"{when}, {start} to {end}"
    if start:
        return f"{when}, from {start}"
    return when


def schedule_in_words(schedule: dict | None) -> list[str]:
    """Each session in words, then the free-text notes.

    Sessions at the same times are said together, as a timetable says them: "Monday to
    Friday, 09:30 to 14:00" rather than five lines, "Every Tuesday and Friday, 12:00 to 15:00",
    "First and third Saturday of the month, 10:00 to 12:00".
    """
    if not schedule:
        return []
    lines = _sessions_together(schedule.get("sessions") or [])
    if schedule.get("notes"):
        lines.append(schedule["notes"])
    return lines


_WEEK = tuple(t.slug for t in taxonomy.DAYS)


def _sessions_together(sessions: list[dict]) -> list[str]:
    groups: dict[tuple, list[dict]] = {}
    for s in sessions:
        frequency = s.get("frequency") or "weekly"
        repeats = frequency if frequency in ("weekly", "fortnightly") else "monthly"
        # Weekly sessions group by their times; monthly ones by their day and times.
        key = (repeats, s.get("start"), s.get("end"), s.get("day") if repeats == "monthly" else "")
        groups.setdefault(key, []).append(s)
    return [_together_in_words(group) for group in groups.values()]


def _together_in_words(group: list[dict]) -> str:
    if len(group) == 1 or group[0].get("day") not in _WEEK:
        return "; ".join(session_in_words(s) for s in group)
    first = group[0]
    times = session_in_words(first).partition(", ")[2]
    frequency = first.get("frequency") or "weekly"
    if frequency not in ("weekly", "fortnightly"):
        ordinals = [taxonomy.label(taxonomy.FREQUENCIES, s["frequency"]) for s in group]
        day = taxonomy.label(taxonomy.DAYS, first["day"])
        when = f"{_and([ordinals[0]] + [o.lower() for o in ordinals[1:]])} {day} of the month"
    else:
        days = sorted({s["day"] for s in group if s.get("day") in _WEEK}, key=_WEEK.index)
        names = [taxonomy.label(taxonomy.DAYS, d) for d in days]
        run = [_WEEK.index(d) for d in days]
        if frequency == "weekly" and len(days) == 7:
            when = "Every day"
        elif frequency == "weekly" and len(days) >= 3 and run == list(range(run[0], run[-1] + 1)):
            when = f"{names[0]} to {names[-1]}"
        else:
            when = f"{'Every' if frequency == 'weekly' else 'Every other'} {_and(names)}"
    return f"{when}, {times}" if times else when


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def labels(terms: tuple[taxonomy.Term, ...], slugs: list[str] | None) -> list[str]:
    """The labels of a list of slugs, in the record's order."""
    return [taxonomy.label(terms, s) for s in slugs or []]


def age_range(min_age: int | None, max_age: int | None) -> str:
    if min_age is not None and max_age is not None:
        return f"Ages {min_age} to {max_age}"
    if min_age is not None:
        return f"Ages {min_age} and over"
    if max_age is not None:
        return f"Up to age {max_age}"
    return ""


def is_illustrative(record: dict) -> bool:
    """Made-up demo records are labelled wherever they are shown."""
    return record.get("source") == "illustrative"


def distance_in_words(metres: float) -> str:
    """ "350 m" under a kilometre, "1.2 km" above."""
    if metres < 1000:
        return f"{int(round(metres, -1))} m"
    return f"{metres / 1000:.1f} km"
