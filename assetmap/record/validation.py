"""Cleaning and checking an asset record before anything stores it.

Forms, the JSON API and CSV/GeoJSON imports all hand their rows to `validate_asset`, so an asset
means the same thing whichever door it came in by, and a coordinator fixing a spreadsheet gets
the same message as a developer calling the API. Each message names the field and says what to
enter instead, because the person reading it is usually looking at row 214 of someone else's
audit and needs to know what to change.

The rules follow `assetmap.record.fields`: one cleaning function per field type, chosen by
`Field.type`.
Rules that need two fields (approach within its strand, minimum age below maximum age, a point
inside the map) run after every field has been cleaned. Text loses pasted HTML through
assetmap.record.html_text, and a schedule's sessions are checked by assetmap.record.schedules.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from assetmap.record import fields, schedules, taxonomy
from assetmap.record.fields import Field
from assetmap.record.html_text import html_to_text
from assetmap.record.values import is_empty, quoted, slug_list, term_named
from assetmap.search.postcodes import POSTCODE_EXAMPLE, normalise_postcode

# (min_lon, min_lat, max_lon, max_lat): Great Britain and Northern Ireland, from the Scilly Isles
# to Shetland. The Channel Islands and the Isle of Man's neighbours are not in it on purpose: the
# point of the check is to catch a typo or a swapped pair, not to draw borders.
UK_BOUNDS: tuple[float, float, float, float] = (-8.75, 49.8, 1.8, 60.95)

TEXT_MAX_CHARS = 500
MULTILINE_MAX_CHARS = 10_000
TEXT_LIST_ITEM_MAX_CHARS = 100
# Raw input is refused beyond this many times the cleaned limit before it is parsed at all: the
# standard library's HTML parser slows down badly on long runs of broken markup.
RAW_INPUT_FACTOR = 5

_RANGES: dict[str, tuple[float, float]] = {
    "min_age": (0, 120),
    "max_age": (0, 120),
    "lat": (-90, 90),
    "lon": (-180, 180),
}
_RANGE_WORDS: dict[str, str] = {
    "min_age": "a whole number of years",
    "max_age": "a whole number of years",
    "lat": "a latitude in decimal degrees",
    "lon": "a longitude in decimal degrees",
}

# ---------------------------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------------------------


@dataclass
class Validated:
    """A cleaned asset with what is wrong with it (errors) and what looks odd (warnings).

    `record` always holds every field, so a preview can show a row even when it cannot be saved.
    """

    record: dict
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the record can be stored; warnings do not stop it."""
        return not self.errors


class _Invalid(ValueError):
    """A value that cannot be used. The message says how to fix it; the field name is added."""


@dataclass
class _Context:
    """What a cleaning function may need besides the value itself."""

    record: dict  # the fields cleaned so far
    warnings: list[str]


Cleaner = Callable[[Field, object, _Context], object]

# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


_ALL_APPROACHES: tuple[taxonomy.Term, ...] = tuple(
    approach for strand in taxonomy.STRANDS for approach in strand.approaches
)


def _vocabulary(fld: Field) -> tuple:
    if fld.vocabulary is not None:
        return fld.vocabulary
    if fld.name == "approach":
        return _ALL_APPROACHES
    raise LookupError(f"field {fld.name!r} is a choice without a vocabulary")


def _text(fld: Field, value: object) -> str:
    """A value that should be text; numbers are accepted because JSON and spreadsheets make them."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Invalid(f"{quoted(value)} is not text; enter the {fld.label.lower()} as text")
    if isinstance(value, float) and not math.isfinite(value):
        raise _Invalid(f"{value} is not text; enter the {fld.label.lower()} as text")
    return str(value)


def _split_list(value: object, separators: str) -> list[object]:
    """Items of a list field, given as a JSON list or as text separated by `separators`."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                parsed = json.loads(stripped)
            except ValueError:
                parsed = None
            if isinstance(parsed, list):
                return parsed
        return list(re.split(f"[{re.escape(separators)}]", value))
    raise _Invalid(f"{quoted(value)} is not a list; give a list, or separate items with ;")


def _check_raw_length(value: str, limit: int) -> None:
    if len(value) > limit * RAW_INPUT_FACTOR:
        raise _Invalid(f"far too long ({len(value):,} characters); keep it under {limit:,}")


# ---------------------------------------------------------------------------------------------
# One cleaning function per field type
# ---------------------------------------------------------------------------------------------


def _clean_text(fld: Field, value: object, ctx: _Context) -> str | None:
    """One line of plain text: names and addresses show in lists and on map labels."""
    text = _text(fld, value)
    _check_raw_length(text, TEXT_MAX_CHARS)
    text = html_to_text(text)
    if len(text) > TEXT_MAX_CHARS:
        raise _Invalid(
            f"too long ({len(text):,} characters); shorten it to {TEXT_MAX_CHARS} characters "
            "or fewer"
        )
    return text or None


def _clean_multiline(fld: Field, value: object, ctx: _Context) -> str | None:
    """Plain text whose paragraphs survive, for descriptions and notes."""
    text = _text(fld, value)
    _check_raw_length(text, MULTILINE_MAX_CHARS)
    text = html_to_text(text, multiline=True)
    if len(text) > MULTILINE_MAX_CHARS:
        raise _Invalid(
            f"too long ({len(text):,} characters); shorten it to {MULTILINE_MAX_CHARS:,} "
            "characters or fewer"
        )
    return text or None


def _clean_id(value: object) -> str:
    """An id that is safe in URLs and file names; left empty, the loader makes one."""
    text = _text(fields.FIELDS_BY_NAME["id"], value).strip()
    if not re.fullmatch(r"[A-Za-z0-9._:-]{1,100}", text):
        raise _Invalid(
            f"{quoted(text)} is not a usable id; use up to 100 letters, digits, dots, "
            "underscores, colons or hyphens, or leave it empty to have one made"
        )
    return text


def _clean_choice(fld: Field, value: object, ctx: _Context) -> str:
    """The slug, found from the slug or the label as people type them in spreadsheets."""
    vocabulary = _vocabulary(fld)
    if fld.name == "approach" and ctx.record.get("strand") in taxonomy.STRANDS_BY_SLUG:
        allowed = taxonomy.STRANDS_BY_SLUG[ctx.record["strand"]].approaches
        how = f"use one of {slug_list(allowed)} (the approaches of {ctx.record['strand']})"
    else:
        how = f"use one of {slug_list(vocabulary)}"
    if not isinstance(value, str):
        raise _Invalid(f"{quoted(value)} is not a {fld.name}; {how}")
    slug = term_named(vocabulary, value)
    if slug is None:
        raise _Invalid(f"{quoted(value.strip())} is not a{_an(fld.name)} {fld.name}; {how}")
    return slug


def _an(word: str) -> str:
    return "n" if word[:1] in "aeiou" else ""


def _clean_choices(fld: Field, value: object, ctx: _Context) -> list[str]:
    """Slugs in the order given, once each; every unknown item is named at once."""
    vocabulary = _vocabulary(fld)
    slugs: list[str] = []
    unknown: list[str] = []
    for item in _split_list(value, ";,|"):
        if item is None or (isinstance(item, str) and not item.strip()):
            continue
        slug = term_named(vocabulary, item, plurals=True) if isinstance(item, str) else None
        if slug is None:
            unknown.append(quoted(item.strip() if isinstance(item, str) else item, 40))
        elif slug not in slugs:
            slugs.append(slug)
    if unknown:
        named = ", ".join(unknown[:5])
        if len(unknown) > 5:
            named += f" and {len(unknown) - 5} more"
        raise _Invalid(
            f"{named} {'is' if len(unknown) == 1 else 'are'} not allowed here; "
            f"use any of {slug_list(vocabulary)}, separated by ;"
        )
    return slugs


def _clean_text_list(fld: Field, value: object, ctx: _Context) -> list[str]:
    """Short free texts (languages), once each whatever their case."""
    items: list[str] = []
    for item in _split_list(value, ";,|"):
        if item is None:
            continue
        text = html_to_text(_text(fld, item)[: TEXT_LIST_ITEM_MAX_CHARS * RAW_INPUT_FACTOR])
        if len(text) > TEXT_LIST_ITEM_MAX_CHARS:
            raise _Invalid(
                f"{quoted(text, 40)} is too long for one item; keep each item under "
                f"{TEXT_LIST_ITEM_MAX_CHARS} characters and separate items with ;"
            )
        if text and text.casefold() not in {known.casefold() for known in items}:
            items.append(text)
    return items


def _number(fld: Field, value: object) -> float:
    """A finite number within the field's range; True is not 1 here, it is a mistake."""
    if isinstance(value, bool):
        raise _Invalid(f"{quoted(value)} is not a number; enter {_range_hint(fld.name)}")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise _Invalid(
                f"{quoted(value.strip())} is not a number; enter {_range_hint(fld.name)}"
            ) from None
    else:
        raise _Invalid(f"{quoted(value)} is not a number; enter {_range_hint(fld.name)}")
    if not math.isfinite(number):
        raise _Invalid(f"{quoted(value)} is not a number; enter {_range_hint(fld.name)}")
    low, high = _RANGES.get(fld.name, (-math.inf, math.inf))
    if not low <= number <= high:
        raise _Invalid(f"{_format_number(number)} is out of range; enter {_range_hint(fld.name)}")
    return number


def _range_hint(name: str) -> str:
    words = _RANGE_WORDS.get(name, "a number")
    if name not in _RANGES:
        return words
    low, high = _RANGES[name]
    return f"{words} from {_format_number(low)} to {_format_number(high)}"


def _format_number(number: float) -> str:
    return f"{number:g}" if abs(number) < 1e15 else f"{number:.3g}"


def _clean_integer(fld: Field, value: object, ctx: _Context) -> int:
    number = _number(fld, value)
    if number != int(number):
        raise _Invalid(
            f"{_format_number(number)} is not a whole number; enter {_range_hint(fld.name)}"
        )
    return int(number)


def _clean_number(fld: Field, value: object, ctx: _Context) -> float:
    return _number(fld, value)


_TRUE_WORDS = frozenset({"true", "yes", "y", "1", "on"})
_FALSE_WORDS = frozenset({"false", "no", "n", "0", "off"})


def _clean_boolean(fld: Field, value: object, ctx: _Context) -> bool:
    """Yes or no, however a spreadsheet or a form spells it."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise _Invalid(f"{quoted(value)} is not yes or no; enter yes or no (or true/false, 1/0)")


_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ][0-9:.]+(Z|[+-][0-9:]+)?")


def _parse_day(text: str) -> date | None:
    """The date `text` is written as, or None; ValueError when it names no real day (31/02).

    Spreadsheets in the UK write day first, so 01/03/2024 is the 1st of March.
    """
    if dmy := _DMY.fullmatch(text):
        return date(int(dmy.group(3)), int(dmy.group(2)), int(dmy.group(1)))
    if _ISO_DATE.fullmatch(text):
        return date.fromisoformat(text)
    if _ISO_DATETIME.fullmatch(text):
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    return None


def _clean_date(fld: Field, value: object, ctx: _Context) -> str:
    how = "enter a date as YYYY-MM-DD, such as 2024-03-31 (or 31/03/2024)"
    if isinstance(value, datetime):
        day: date | None = value.date()
    elif isinstance(value, date):
        day = value
    elif isinstance(value, str):
        try:
            day = _parse_day(value.strip())
        except ValueError:
            raise _Invalid(f"{quoted(value.strip())} is not a real date; {how}") from None
    else:
        day = None
    if day is None:
        raise _Invalid(f"{quoted(value)} is not a date; {how}")
    # A day's grace, because the person checking may be ahead of the server's time zone.
    if day > date.today() + timedelta(days=1):
        raise _Invalid(f"{day.isoformat()} is in the future; enter a date no later than today")
    return day.isoformat()


_BARE_DOMAIN = re.compile(r"(?:[\w-]+\.)+[a-z]{2,}(?::\d+)?(?:[/?#].*)?", re.IGNORECASE)
# The start of an address whose http:// or https:// was mistyped: "http//:", "http:/", "htp://",
# "https//", "http;//", "hhtp://", "http:\\". Only counted when a : ; / or \ follows, so that
# a site called "hp.com" is not read as one.
_MISTYPED_SCHEME = re.compile(
    r"(?:h{1,2}t{0,3}p{1,2}s?|t{1,2}ps?)(?=\s*[:;/\\])\s*[:;]{0,2}\s*[/\\]{0,3}\s*[:;]{0,2}\s*",
    re.IGNORECASE,
)
_SITE_NAME = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}(?::\d{1,5})?")
# Most addresses in a file, which need no second look.
_PLAINLY_USABLE = re.compile(r"https?://(?:[a-z0-9-]+\.)+[a-z]{2,}(?:[/?#][^\s,]*)?")


def web_address_meant(text: str) -> str | None:
    """The https:// address that a mistyped web address stands for, or None.

    Audits are typed by hand: "www,example.com" (a comma for a dot), "WWW.EXAMPLE.ORG." (a full
    stop at the end of a sentence), "http//:example.com", "htp://example.com", or no http at
    all. The site name is put right and lower-cased, the rest of the address is kept as typed.
    None when `text` is already a usable address, or when no one address can be read from it
    (so nothing is guessed). The form shows the answer as its suggestion; an import uses it
    and says so.
    """
    if _PLAINLY_USABLE.fullmatch(text):
        return None
    text = text.strip().strip("<>\"'")
    if not text or any(c.isspace() for c in text):
        return None
    scheme = _MISTYPED_SCHEME.match(text)
    rest = text[scheme.end() :] if scheme else text
    if not rest or (scheme is None and "://" in rest):
        return None  # another scheme (ftp://), or nothing after the http
    site, cut, path = rest.partition("/")
    for mark in "?#":
        if mark in site:
            site, _, tail = site.partition(mark)
            path, cut = mark + tail + cut + path, ""
    site = site.replace(",", ".").rstrip(".").lower()
    if site.startswith("www") and site[3:4] not in (".", "") and not site[3:4].isdigit():
        return None  # "wwwexample.com": which part is the name is a guess
    if not _SITE_NAME.fullmatch(site):
        return None
    meant = f"https://{site}{cut}{path}"
    return None if meant == text else meant


def _clean_url(fld: Field, value: object, ctx: _Context) -> str:
    """An http(s) address with a host: the only kind that is safe to put in a link we show.

    A mistyped one is refused with the address it stands for as the fix (web_address_meant);
    the form does not change what was typed, an import does and says so.
    """
    try:
        return _checked_url(value)
    except _Invalid as exc:
        meant = web_address_meant(value) if isinstance(value, str) else None
        if meant is None or meant in str(exc):
            raise
        raise _Invalid(
            f"{quoted(value.strip())} is not a web address as written; enter {meant}"
        ) from None


def _checked_url(value: object) -> str:
    if not isinstance(value, str):
        raise _Invalid(
            f"{quoted(value)} is not a web address; enter one such as https://example.org"
        )
    text = value.strip()
    if len(text) > 2000:
        raise _Invalid("too long (over 2,000 characters); enter the address of the main page")
    # isprintable() is False for every space but " ", and for every Cc and Cf character.
    if (" " in text or not text.isprintable()) and any(
        c.isspace() or unicodedata.category(c) in ("Cc", "Cf") for c in text
    ):
        raise _Invalid(
            f"{quoted(text)} contains spaces or hidden characters; enter one web address with "
            "no spaces, such as https://example.org/page"
        )
    if _BARE_DOMAIN.fullmatch(text):
        raise _Invalid(f"{quoted(text)} has no http:// or https://; enter https://{text}")
    try:
        parts = urlsplit(text)
        host = parts.hostname
        _ = parts.port  # raises ValueError when the port is not a number
    except ValueError:
        raise _Invalid(f"{quoted(text)} is not a web address; check it in a browser") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise _Invalid(f"{quoted(text)} must start with http:// or https://")
    if not host or not parts.netloc or not re.fullmatch(r"[\w.-]+|\[[0-9a-f:.]+\]", host):
        raise _Invalid(
            f"{quoted(text)} has no site name after {parts.scheme}://; enter the full address, "
            "such as https://example.org"
        )
    return text


_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+)@"
    r"(?P<domain>[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+)"
)


def _clean_email(fld: Field, value: object, ctx: _Context) -> str:
    """The address with its domain in lower case, so that duplicates can be spotted."""
    text = value.strip() if isinstance(value, str) else ""
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    match = _EMAIL.fullmatch(text)
    if not match or len(text) > 254:
        raise _Invalid(
            f"{quoted(value)} is not an email address; enter one such as name@example.org"
        )
    return f"{match.group('local')}@{match.group('domain').lower()}"


def dialled_digits(text: str) -> str:
    """The digits of a UK phone number as dialled from within the UK, so that two ways of
    writing one number compare equal: "+44 (0)161 912 2000" and "0161-912-2000" are both
    01619122000."""
    digits = re.sub(r"\D", "", text)
    if text.lstrip().startswith("+44"):
        digits = "0" + digits[2:]
        if digits.startswith("00"):  # "+44 (0)161 ...": the 0 in brackets is not dialled
            digits = digits[1:]
    return digits


def _clean_phone(fld: Field, value: object, ctx: _Context) -> str:
    """The number as written (people read it, so its spacing is theirs), checked by its digits."""
    how = "enter a number such as 0161 912 2000"
    if not isinstance(value, str):
        # A number from JSON or a spreadsheet has already lost its leading 0.
        raise _Invalid(f"{quoted(value)} is not written as text; {how}, in quotes")
    text = " ".join(value.split())
    if not re.fullmatch(r"\+?[0-9 ()-]+", text):
        raise _Invalid(
            f"{quoted(text)} may only contain digits, spaces, a leading +, brackets and "
            f"hyphens; {how}"
        )
    digits = dialled_digits(text)
    # 111 and 999 are three digits; 116 123 (Samaritans) is one of the 116 helplines.
    if len(digits) in (3, 10, 11) or (len(digits) == 6 and digits.startswith("116")):
        return text
    if 6 <= len(digits) <= 15:
        ctx.warnings.append(
            f"{quoted(text)} has {len(digits)} digits; UK numbers have 10 or 11, so check it"
        )
        return text
    if 3 <= len(digits) <= 5 and digits.startswith("0"):
        raise _Invalid(
            f"{quoted(text)} is only a dialling code; enter the whole number, such as 0161 912 2000"
        )
    too = "few" if len(digits) < 6 else "many"
    raise _Invalid(f"{quoted(text)} has {len(digits)} digits, too {too}; {how}")


def _clean_postcode(fld: Field, value: object, ctx: _Context) -> str:
    postcode = normalise_postcode(value) if isinstance(value, str) else None
    if postcode is None:
        raise _Invalid(
            f"{quoted(value)} is not a UK postcode; enter one such as {POSTCODE_EXAMPLE}"
        )
    return postcode


def _json_object(fld: Field, value: object, example: str) -> object:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise _Invalid(
                f"not valid JSON ({exc.msg} at character {exc.pos}); {example}"
            ) from None
    return value


def _clean_schedule(fld: Field, value: object, ctx: _Context) -> dict | None:
    """Structured sessions, so that search can answer "on Tuesday mornings", plus free notes.

    Audits often have only a sentence ("Tuesdays 10 till 12"); that is kept as the notes rather
    than refused, and a coordinator can add sessions later. The sessions are checked by
    assetmap.record.schedules, which also answers every question about them.
    """
    if isinstance(value, str) and not value.lstrip().startswith("{"):
        notes = _clean_multiline(fld, value, ctx)
        return {"sessions": [], "notes": notes or ""} if notes else None
    schedule = _json_object(fld, value, schedules.SCHEDULE_EXAMPLE)
    if not isinstance(schedule, dict):
        raise _Invalid(f"{quoted(value)} is not a schedule; {schedules.SCHEDULE_EXAMPLE}")
    try:
        cleaned = schedules.check_sessions(schedule)
    except schedules.BadSchedule as exc:
        raise _Invalid(str(exc)) from None
    notes = schedule.get("notes")
    notes = _clean_multiline(fld, notes, ctx) if not is_empty(notes) else None
    if not cleaned and not notes:
        return None
    return {"sessions": cleaned, "notes": notes or ""}


MAX_GEOMETRY_POINTS = 50_000
_GEOMETRY_EXAMPLE = (
    'give a GeoJSON Polygon, such as {"type": "Polygon", "coordinates": [[[lon, lat], ...]]}'
)


def _clean_geometry(fld: Field, value: object, ctx: _Context) -> dict:
    """A polygon that map and spatial queries can use as it is (shapely checks the rings)."""
    import shapely
    from shapely.errors import ShapelyError
    from shapely.geometry import mapping, shape
    from shapely.validation import explain_validity

    geojson = _json_object(fld, value, _GEOMETRY_EXAMPLE)
    if isinstance(geojson, dict) and geojson.get("type") == "Feature":
        geojson = geojson.get("geometry")
    if not isinstance(geojson, dict) or geojson.get("type") not in ("Polygon", "MultiPolygon"):
        kind = geojson.get("type") if isinstance(geojson, dict) else None
        found = f"a {kind}" if isinstance(kind, str) else quoted(value)
        raise _Invalid(f"{found} is not a polygon; {_GEOMETRY_EXAMPLE}")
    try:
        geometry = shape(geojson)
        points = shapely.get_num_coordinates(geometry)
    except (ShapelyError, ValueError, TypeError, IndexError, KeyError, AttributeError):
        raise _Invalid(
            f"the coordinates are not a valid {geojson['type']}; {_GEOMETRY_EXAMPLE}"
        ) from None
    if geometry.is_empty:
        raise _Invalid(f"the {geojson['type']} has no coordinates; {_GEOMETRY_EXAMPLE}")
    if points > MAX_GEOMETRY_POINTS:
        raise _Invalid(
            f"too detailed ({points:,} points); simplify it to under {MAX_GEOMETRY_POINTS:,}"
        )
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    if not all(math.isfinite(n) for n in geometry.bounds) or not (
        -180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90
    ):
        raise _Invalid("coordinates outside the Earth; give [longitude, latitude] pairs in WGS84")
    if not geometry.is_valid:
        raise _Invalid(
            f"not a valid shape ({explain_validity(geometry)}); redraw it so that its edges "
            "do not cross"
        )
    return json.loads(json.dumps(mapping(geometry)))


_CLEANERS: dict[str, Cleaner] = {
    fields.TEXT: _clean_text,
    fields.MULTILINE: _clean_multiline,
    fields.CHOICE: _clean_choice,
    fields.CHOICES: _clean_choices,
    fields.TEXT_LIST: _clean_text_list,
    fields.INTEGER: _clean_integer,
    fields.NUMBER: _clean_number,
    fields.BOOLEAN: _clean_boolean,
    fields.DATE: _clean_date,
    fields.URL: _clean_url,
    fields.EMAIL: _clean_email,
    fields.PHONE: _clean_phone,
    fields.POSTCODE: _clean_postcode,
    fields.SCHEDULE: _clean_schedule,
    fields.GEOMETRY: _clean_geometry,
}

# ---------------------------------------------------------------------------------------------
# The whole record
# ---------------------------------------------------------------------------------------------


def _required_message(fld: Field) -> str:
    if fld.type == fields.CHOICE:
        return f"{fld.name} is required; use one of {slug_list(_vocabulary(fld))}"
    hint = fld.help.rstrip(".")
    if hint and not hint[1:2].isupper():
        hint = hint[0].lower() + hint[1:]
    return f"{fld.name} is required; enter {hint or 'the ' + fld.label.lower()}"


def _default(name: str) -> object:
    default = fields.DEFAULTS.get(name)
    return default if default is None else _fresh(default)


# Cleaning functions whose answer depends only on the field and the value, for values that
# recur row after row in a spreadsheet (a strand, "free", "Tuesdays 10 till 12"): each distinct
# value is cleaned once and its answer reused. Free text (names, descriptions) is not kept, nor
# dates, whose answer ("in the future") changes with the day.
_REMEMBERED_TYPES = frozenset(
    {
        fields.CHOICE,
        fields.CHOICES,
        fields.TEXT_LIST,
        fields.BOOLEAN,
        fields.POSTCODE,
        fields.SCHEDULE,
        fields.INTEGER,
    }
)
_REMEMBER_AT_MOST = 20_000  # answers; the memory is emptied when full
_REMEMBER_LONGEST = 200  # characters of a value worth remembering
_remembered: dict[tuple[str, str], tuple[object, str | None, tuple[str, ...]]] = {}


def _clean_field(fld: Field, raw: object, record: dict, warnings: list[str]) -> object:
    """The field's cleaning function's answer: the value, or _Invalid, with any warnings."""
    if fld.name == "id":
        return _clean_id(raw)
    cleaner = _CLEANERS[fld.type]
    if (
        fld.type not in _REMEMBERED_TYPES
        or not isinstance(raw, str)
        or len(raw) > _REMEMBER_LONGEST
        or fld.name == "approach"  # its message names the strand
    ):
        return cleaner(fld, raw, _Context(record, warnings))
    key = (fld.name, raw)
    answer = _remembered.get(key)
    if answer is None:
        said: list[str] = []
        try:
            answer = (cleaner(fld, raw, _Context(record, said)), None, tuple(said))
        except _Invalid as exc:
            answer = (None, str(exc), tuple(said))
        if len(_remembered) >= _REMEMBER_AT_MOST:
            _remembered.clear()
        _remembered[key] = answer
    value, error, said = answer
    warnings.extend(said)
    if error is not None:
        raise _Invalid(error)
    return _fresh(value)


def _fresh(value: object) -> object:
    """A copy of a remembered answer that the caller may change (lists and dicts of plain
    values: copy.deepcopy would do, but slower)."""
    if isinstance(value, list):
        return [_fresh(item) for item in value]
    if isinstance(value, dict):
        return {key: _fresh(item) for key, item in value.items()}
    return value


# (field, name, whether its answers are remembered), in the order records hold them.
_FIELD_PLAN = tuple(
    (fld, fld.name, fld.type in _REMEMBERED_TYPES and fld.name != "approach")
    for fld in fields.FIELDS
)
_NO_DEFAULT = frozenset(f.name for f in fields.FIELDS if fields.DEFAULTS.get(f.name) is None)


def validate_asset(
    data: Mapping[str, object],
    *,
    bounds: tuple[float, float, float, float] | None = UK_BOUNDS,
) -> Validated:
    """Clean one asset and say what is wrong with it, without storing anything.

    `data` may come from JSON (lists, numbers, booleans) or from a CSV or form (all strings).
    `bounds` is (min_lon, min_lat, max_lon, max_lat) of the area the directory covers, or None
    for anywhere on Earth. Keys that are not fields are ignored, so a spreadsheet may carry its
    own extra columns.
    """
    result = Validated(record={})
    record, errors = result.record, result.errors
    for fld, name, remembered in _FIELD_PLAN:
        raw = data.get(name)
        if remembered and raw.__class__ is str:
            # The common case for a spreadsheet's repeated values, without a function call.
            answer = _remembered.get((name, raw))
            if answer is not None and answer[0] is not None and not answer[2]:
                value = answer[0]
                record[name] = _fresh(value) if value.__class__ in (list, dict) else value
                continue
        if raw is None and name in _NO_DEFAULT and not fld.required:
            record[name] = None  # most fields of most rows
            continue
        value: object = None
        warnings: list[str] = []
        if raw is not None and not is_empty(raw):
            try:
                value = _clean_field(fld, raw, record, warnings)
            except _Invalid as exc:
                errors[name] = f"{name}: {exc}"
        if value is None:
            value = _default(name)
            if fld.required and name not in errors:
                errors[name] = _required_message(fld)
        record[name] = value
        if warnings and name not in errors:
            result.warnings[name] = f"{name}: " + "; ".join(warnings)
    _check_approach(result)
    _check_ages(result)
    _check_position(result, bounds)
    return result


def _check_approach(result: Validated) -> None:
    approach, strand = result.record.get("approach"), result.record.get("strand")
    if not approach or not strand or "approach" in result.errors:
        return
    home = taxonomy.APPROACH_STRAND[approach]
    if home != strand:
        allowed = slug_list(taxonomy.STRANDS_BY_SLUG[strand].approaches)
        result.errors["approach"] = (
            f"approach: {approach} belongs to the {home} strand, not {strand}; use one of "
            f"{allowed}, change the strand to {home}, or leave the approach empty"
        )


def _check_ages(result: Validated) -> None:
    low, high = result.record.get("min_age"), result.record.get("max_age")
    if low is not None and high is not None and low > high:
        result.errors["max_age"] = (
            f"max_age: {high} is below min_age {low}; swap them, or leave max_age empty if "
            "there is no upper limit"
        )


def inside_bounds(lon: float, lat: float, bounds: tuple[float, float, float, float]) -> bool:
    """Whether a point is inside (min_lon, min_lat, max_lon, max_lat), edges included."""
    min_lon, min_lat, max_lon, max_lat = bounds
    return min_lon <= lon <= max_lon and min_lat <= lat <= max_lat


def _check_position(result: Validated, bounds: tuple[float, float, float, float] | None) -> None:
    lat, lon = result.record.get("lat"), result.record.get("lon")
    if lat is None or lon is None:
        return
    if bounds is None:
        if lat == 0 and lon == 0:
            result.warnings["lat"] = (
                "lat: 0, 0 is in the Atlantic off West Africa; the position is probably missing, "
                "so enter the real latitude and longitude"
            )
        return
    if inside_bounds(lon, lat, bounds):
        return
    min_lon, min_lat, max_lon, max_lat = bounds
    if inside_bounds(lat, lon, bounds):
        result.errors["lat"] = (
            f"lat and lon: latitude and longitude look swapped (lat {lat:g}, lon {lon:g}); "
            f"put the latitude (between {min_lat:g} and {max_lat:g} here) in lat and the "
            "longitude in lon"
        )
        return
    area = "the UK" if bounds == UK_BOUNDS else "the area this directory covers"
    if not min_lat <= lat <= max_lat:
        result.errors["lat"] = (
            f"lat: {lat:g} is outside {area} (latitude {min_lat:g} to {max_lat:g}); "
            "check the latitude, in WGS84 decimal degrees"
        )
    if not min_lon <= lon <= max_lon:
        result.errors["lon"] = (
            f"lon: {lon:g} is outside {area} (longitude {min_lon:g} to {max_lon:g}); "
            "check the longitude, in WGS84 decimal degrees (west of Greenwich is negative)"
        )


def clean_value(field: Field, value: object) -> tuple[object, str | None]:
    """Clean one value by a field's rules outside an asset (the email on a request to join, say).

    Returns (cleaned value or None, the message when it is not usable). Empty is (None, None);
    whether empty is allowed is the caller's decision.
    """
    if is_empty(value):
        return None, None
    try:
        return _CLEANERS[field.type](field, value, _Context({}, [])), None
    except _Invalid as exc:
        return None, str(exc)
