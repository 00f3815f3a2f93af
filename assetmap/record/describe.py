"""Asset details in plain words, for pages people read (not for the API)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from assetmap.record import taxonomy

# Dates people read ("next: Tuesday 1 December") are in the directory's own time zone.
LOCAL_TIMEZONE = ZoneInfo("Europe/London")
STALE_AFTER_DAYS = 365


def today() -> date:
    return datetime.now(LOCAL_TIMEZONE).date()


def checked_in_words(last_verified: str | None, today: date) -> tuple[str, bool]:
    """When the details were last checked, and whether that is over a year ago (stale)."""
    if not last_verified:
        return "Not recorded", True
    checked = date.fromisoformat(last_verified)
    days = (today - checked).days
    words = f"{checked.day} {checked.strftime('%B %Y')}"
    if days > STALE_AFTER_DAYS:
        years = days // 365
        return f"{words}: over {'a year' if years == 1 else f'{years} years'} ago", True
    return words, False


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
    """Each session in words, then the free-text notes."""
    if not schedule:
        return []
    lines = [session_in_words(s) for s in schedule.get("sessions") or []]
    if schedule.get("notes"):
        lines.append(schedule["notes"])
    return lines


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
