"""What an Open Referral UK request asks for: its parameters, declared once, and read.

The parameters are the standard's (../shared/openreferral-uk/schema/openapi.json, its
components/parameters), declared once in PARAMETERS: the reader below, the OpenAPI document
(assetmap.web.openapi) and the tests walk that list. A bad value is a ParameterError naming
the parameter and what it takes (a JSON 400), as everywhere in the API.

How each filter reads is said in assetmap.openreferral.finding, which applies them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from assetmap.record import taxonomy
from assetmap.search import nearby, parameters
from assetmap.search.parameters import Args, ParameterError
from assetmap.search.postcodes import parse_postcode_query

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_PAGE = 1_000_000  # far past any directory's last page, and within SQLite's numbers
MAX_POSTCODE_CHARS = 16
MAX_PROXIMITY_M = int(nearby.MAX_RADIUS_KM * 1000)

_HOUR = "([01][0-9]|2[0-3]):[0-5][0-9]"
_CLOCK = re.compile(_HOUR)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# RFC 3339 (an offset may carry seconds, as Python writes some); no offset is read as UTC.
_DATETIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?"
    r"([Zz]|[+-]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)

ICAL_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # as the standard's byday writes them
# The day names a request may use: Monday (any case) or iCalendar's MO, as byday writes them.
DAYS: dict[str, str] = {
    **{d.label.casefold(): d.slug for d in taxonomy.DAYS},
    **{code.casefold(): d.slug for code, d in zip(ICAL_DAYS, taxonomy.DAYS, strict=True)},
}


def _any_case(word: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" for c in word)


DAY_PATTERN = "^(" + "|".join(_any_case(name) for name in DAYS) + ")$"


@dataclass(frozen=True)
class OrukParameter:
    """One query parameter: its name (the standard's), what it takes as a JSON schema (for
    the OpenAPI document) and its help."""

    name: str
    schema: dict
    help: str


_PAGE = OrukParameter(
    "page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, "Page number, from 1."
)
_PER_PAGE = OrukParameter(
    "per_page",
    {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE},
    f"Items on a page, at most {MAX_PER_PAGE}.",
)
_UUID_SCHEMA = {"type": "string", "format": "uuid"}
PAGING = (_PAGE, _PER_PAGE)

PARAMETERS: tuple[OrukParameter, ...] = (
    OrukParameter(
        "search",
        {"type": "string", "maxLength": nearby.MAX_KEYWORD_CHARS},
        "Keywords: services matching any of the words (at the start of a word, with "
        f"stemming), at most {nearby.MAX_KEYWORDS} words.",
    ),
    *PAGING,
    OrukParameter("taxonomy_term_id", _UUID_SCHEMA, "Only services carrying this term."),
    OrukParameter("taxonomy_id", _UUID_SCHEMA, "Only services carrying any term of this taxonomy."),
    OrukParameter("organization_id", _UUID_SCHEMA, "Only services this organization runs."),
    OrukParameter(
        "modified_after",
        {"type": "string", "format": "date-time"},
        "Only services changed at or after this time (ISO 8601; UTC when no offset is given).",
    ),
    OrukParameter(
        "minimum_age",
        {"type": "integer", "minimum": 0, "maximum": nearby.MAX_AGE},
        "Only services whose minimum age is at least this (none stated counts as 0).",
    ),
    OrukParameter(
        "maximum_age",
        {"type": "integer", "minimum": 0, "maximum": nearby.MAX_AGE},
        "Only services whose maximum age is at most this (none stated is no limit).",
    ),
    OrukParameter(
        "day",
        {"type": "string", "pattern": DAY_PATTERN},
        "Only services with a session on this day: Monday to Sunday, or MO to SU (any case).",
    ),
    OrukParameter(
        "start_time",
        {"type": "string", "pattern": f"^{_HOUR}$"},
        "Only services with a session starting at or after this time (HH:MM, 24-hour).",
    ),
    OrukParameter(
        "end_time",
        {"type": "string", "pattern": f"^{_HOUR}$"},
        "Only services with a session ending at or before this time (HH:MM, 24-hour); with "
        "day and start_time, one session must meet them all.",
    ),
    OrukParameter(
        "postcode",
        {"type": "string", "maxLength": MAX_POSTCODE_CHARS},
        "A UK postcode (or sector or district): services near it, nearest first, within "
        f"proximity metres (or {nearby.DEFAULT_RADIUS_KM:g} km); running services only. A "
        "postcode the local table cannot place is a 422.",
    ),
    OrukParameter(
        "proximity",
        {"type": "integer", "minimum": 1, "maximum": MAX_PROXIMITY_M},
        f"Metres from the postcode, at most {MAX_PROXIMITY_M}; needs postcode.",
    ),
)

TERM_PARAMETERS: tuple[OrukParameter, ...] = (
    OrukParameter("taxonomy_id", _UUID_SCHEMA, "Only terms of this taxonomy."),
    OrukParameter(
        "top_only", {"type": "boolean"}, "Only top-level terms (those without a parent)."
    ),
    OrukParameter("parent_id", _UUID_SCHEMA, "Only the child terms of this term."),
    OrukParameter(
        "search",
        {"type": "string", "maxLength": nearby.MAX_KEYWORD_CHARS},
        "Only terms whose name or code holds this text (any case).",
    ),
    *PAGING,
)


@dataclass(frozen=True)
class Paging:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class OrukQuery:
    """A parsed /services or /service_at_locations request."""

    paging: Paging = field(default_factory=Paging)
    search: str = ""
    taxonomy_term_id: str | None = None
    taxonomy_id: str | None = None
    organization_id: str | None = None
    modified_after: str | None = None  # as updated_at is stored: YYYY-MM-DDTHH:MM:SSZ
    minimum_age: int | None = None
    maximum_age: int | None = None
    day: str | None = None  # our slug: monday ...
    start_time: str | None = None
    end_time: str | None = None
    postcode: str | None = None
    proximity: int | None = None


@dataclass(frozen=True)
class TermQuery:
    """A parsed /taxonomy_terms request."""

    paging: Paging = field(default_factory=Paging)
    taxonomy_id: str | None = None
    top_only: bool = False
    parent_id: str | None = None
    search: str = ""


def parse_paging(args: Args) -> Paging:
    page = parameters.parse_integer(args, "page", 1, 1, MAX_PAGE)
    per_page = parameters.parse_integer(args, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    return Paging(page, per_page)  # type: ignore[arg-type]


def _uuid(args: Args, name: str, what: str) -> str | None:
    text = parameters.last_value(args, name)
    if not text:
        return None
    if not _UUID.fullmatch(text):
        raise ParameterError(name, f"{parameters.shown(text)} is not {what} (a UUID)")
    return text.lower()


def _text(args: Args, name: str) -> str:
    text = parameters.last_value(args, name)
    if _raw_length(args, name) > nearby.MAX_KEYWORD_CHARS:
        raise ParameterError(name, f"use at most {nearby.MAX_KEYWORD_CHARS} characters")
    return text


def _clock(args: Args, name: str) -> str | None:
    text = parameters.last_value(args, name)
    if text and not _CLOCK.fullmatch(text):
        raise ParameterError(
            name, f"{parameters.shown(text)} is not a time; use HH:MM on the 24-hour clock, "
            "such as 09:30"
        )  # fmt: skip
    return text or None


def parse_modified_after(text: str) -> str | None:
    """An ISO 8601 date and time as updated_at is stored (UTC, whole seconds, a fraction
    rounded up so that "at or after" still holds); ParameterError naming modified_after.

    A time before the year 1 or after 9999 once moved to UTC is the first or last time."""
    text = text.strip()
    if not text:
        return None
    match = _DATETIME.fullmatch(text)
    problem = (
        f"{parameters.shown(text)} is not a date and time; use ISO 8601, such as "
        "2025-06-01T09:00:00Z"
    )
    if match is None:
        raise ParameterError("modified_after", problem)
    day, clock, fraction, offset = match.groups()
    try:
        when = datetime.fromisoformat(f"{day}T{clock}")
    except ValueError:
        raise ParameterError("modified_after", problem) from None
    ahead = timedelta(0)
    if offset and offset not in ("Z", "z"):
        sign = -1 if offset[0] == "-" else 1
        hours, minutes, *seconds = (float(part) for part in offset[1:].split(":"))
        ahead = sign * timedelta(hours=hours, minutes=minutes, seconds=sum(seconds))
        if abs(ahead) >= timedelta(days=1):
            raise ParameterError("modified_after", problem)
    try:
        when -= ahead
        if fraction and int(fraction[1:]):
            when += timedelta(seconds=1)
    except OverflowError:
        when = datetime.min if ahead > timedelta(0) else datetime.max
    return f"{when.year:04d}-{when:%m-%dT%H:%M:%S}Z"


def _raw_length(args: Args, name: str) -> int:
    """The length of a parameter's last value as sent (before spaces are stripped)."""
    values = args.get(name) or []
    return len(values[-1]) if values else 0


def parse_query(args: Args) -> OrukQuery:
    """Read a /services or /service_at_locations request; ParameterError names a bad value."""
    paging = parse_paging(args)
    search = _text(args, "search")
    if len(nearby.keywords(search)) > nearby.MAX_KEYWORDS:
        raise ParameterError("search", f"type at most {nearby.MAX_KEYWORDS} words")
    day_text = parameters.last_value(args, "day")
    if day_text and day_text.casefold() not in DAYS:
        raise ParameterError(
            "day",
            f"{parameters.shown(day_text)} is not a day; use Monday to Sunday, or MO to SU",
        )
    ages = {
        name: parameters.parse_integer(args, name, None, 0, nearby.MAX_AGE)
        for name in ("minimum_age", "maximum_age")
    }
    proximity = parameters.parse_integer(args, "proximity", None, 1, MAX_PROXIMITY_M)
    postcode = parameters.last_value(args, "postcode") or None
    if proximity is not None and postcode is None:
        raise ParameterError(
            "proximity", "needs a postcode to measure from, such as postcode=M33 7ZF"
        )
    if postcode is not None:
        if _raw_length(args, "postcode") > MAX_POSTCODE_CHARS:
            raise ParameterError("postcode", "is too long for a postcode; use one such as M33 7ZF")
        parse_postcode_query(postcode)  # PostcodeError (422) when it is not a postcode
    return OrukQuery(
        paging=paging,
        search=search,
        taxonomy_term_id=_uuid(args, "taxonomy_term_id", "a taxonomy term's id"),
        taxonomy_id=_uuid(args, "taxonomy_id", "a taxonomy's id"),
        organization_id=_uuid(args, "organization_id", "an organization's id"),
        modified_after=parse_modified_after(parameters.last_value(args, "modified_after")),
        minimum_age=ages["minimum_age"],
        maximum_age=ages["maximum_age"],
        day=DAYS[day_text.casefold()] if day_text else None,
        start_time=_clock(args, "start_time"),
        end_time=_clock(args, "end_time"),
        postcode=postcode,
        proximity=proximity,
    )


def parse_term_query(args: Args) -> TermQuery:
    """Read a /taxonomy_terms request; ParameterError names a bad value."""
    return TermQuery(
        paging=parse_paging(args),
        taxonomy_id=_uuid(args, "taxonomy_id", "a taxonomy's id"),
        top_only=parameters.parse_flag(args, "top_only"),
        parent_id=_uuid(args, "parent_id", "a taxonomy term's id"),
        search=_text(args, "search"),
    )
