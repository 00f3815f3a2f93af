"""A JSON file of records (not GeoJSON), read as a table: one record a row.

Directories and APIs export their entries as a JSON list of objects, bare (`[{...}, {...}]`)
or inside an object beside other parts (`{"meta": {...}, "data": [{...}]}`; "results",
"records", "items" and so on). Such a file is read the way a spreadsheet of the same records
would be:

- The headings are every key of every record, in the order they are first seen.
- A nested object becomes dotted headings: {"address": {"postcode": "M33 7ZF"}} is a column
  "address.postcode", {"location": {"lat": 53.4}} a column "location.lat".
- A list of plain values is one cell, its values joined with "; " ("walking; gardening").
- A list of objects is one cell of readable text, one part for each object, joined with "; ".
  An object with a day (a key such as day, days, weekday, dayOfWeek, byday) and times (opens
  and closes, opens_at and closes_at, open and close, start and end, from and to) reads
  "Tuesday 10:00-12:00", so that opening hours written as [{"day": "Tuesday", "opens":
  "10:00", "closes": "12:00"}, {"day": "Friday", ...}] become "Tuesday 10:00-12:00; Friday
  13:00-15:00", which the times reader understands. Several days are joined with " & "
  ("Monday & Wednesday 09:00-17:00"), schema.org's day addresses
  ("https://schema.org/Monday") are cut to the day, and any other values of the object follow
  in brackets ("Saturday 10:00-12:00 (first of the month)"). An object without a day or
  times reads "name: Jo, phone: 0161 912 3000".
- JSON null, NaN (which Python's json reads, though JSON proper has no such value), infinity
  and the text "NaN" or "nan" (written by pandas) are empty cells.

Every limit of the import applies (assetmap.imports.limits): the file's size (it is read
whole, like GeoJSON), the number of records, the number of headings, each cell's length and
how deep the objects nest. All of them are checked before the first record is used, so a
hostile file is refused at once with the limit it broke.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from assetmap.imports.limits import MAX_JSON_DEPTH, ImportLimits
from assetmap.imports.problems import ImportFileError
from assetmap.imports.tables import SourceRow, Table

UNIT = "record"
# Keys of an object in a list that give a day, and pairs that give the times it starts and
# ends, compared in lower case without spaces, dashes or underscores.
_DAY_KEYS = ("day", "days", "weekday", "dayofweek", "byday", "dayname")
_TIME_PAIRS = (
    ("opens", "closes"),
    ("opensat", "closesat"),
    ("open", "close"),
    ("opening", "closing"),
    ("openingtime", "closingtime"),
    ("start", "end"),
    ("starts", "ends"),
    ("starttime", "endtime"),
    ("startsat", "endsat"),
    ("from", "to"),
)
_SCHEMA_DAY = re.compile(r"^https?://schema\.org/", re.I)
_KEY_NOISE = re.compile(r"[\s_\-]+")


def records_table(
    document: list | dict,
    limits: ImportLimits = ImportLimits(),  # noqa: B008 (frozen)
) -> Table:
    """The records of a parsed JSON document that is not GeoJSON, as a table; ImportFileError
    when it holds no list of records, or more than one."""
    records, notes = _find_records(document)
    if len(records) > limits.max_rows:
        raise limits.too_many_rows(UNIT, len(records))
    headers: list[str] = []
    known: set[str] = set()
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            continue
        flat = flatten(record, number, limits)
        for key in flat:
            if key not in known:
                known.add(key)
                headers.append(key)
                if len(key) > limits.cell_chars:
                    raise limits.cell_too_big(len(key), f"the name of a field of {UNIT} {number}")
                if len(headers) > limits.max_columns:
                    raise limits.too_many_columns(
                        len(headers), f"different fields across its {UNIT}s"
                    )
        limits.check_row(number, list(flat.values()), UNIT, list(flat))
    if not headers:
        raise ImportFileError(
            "is a JSON list whose records have no fields; export the records with their fields"
        )
    plural = "record" if len(records) == 1 else "records"
    return Table(
        f"JSON records, {len(records):,} {plural}",
        headers,
        _rows(records, headers, limits),
        unit=UNIT,
        notes=notes,
    )


def _find_records(document: list | dict) -> tuple[list, list[str]]:
    """The list of records in a JSON document (a file that starts with [ or {), and a note
    when parts beside it were left."""
    if isinstance(document, list):
        if not document:
            raise ImportFileError("is an empty JSON list: it holds no records")
        if not any(isinstance(item, dict) for item in document):
            raise ImportFileError(
                "is a JSON list of single values, not of records. Export the records as a list "
                'of objects, one for each asset ({"name": ..., "postcode": ...}), or as CSV UTF-8'
            )
        return document, []
    lists = [
        key
        for key, value in document.items()
        if isinstance(value, list) and value and any(isinstance(item, dict) for item in value)
    ]
    if not lists:
        keys = ", ".join(f"“{k}”" for k in list(document)[:10]) or "none"
        raise ImportFileError(
            "is JSON but neither GeoJSON nor a list of records: it is one object (its keys are "
            f"{keys}) with no list of objects in it. Export the records as a list of objects, "
            'one for each asset, on their own or under a key such as "data", or as CSV UTF-8'
        )
    if len(lists) > 1:
        named = ", ".join(f"“{k}”" for k in lists)
        raise ImportFileError(
            f"holds more than one list of records ({named}), and an import reads one. Save the "
            "list of assets as a file of its own (a list of objects, or an object with just "
            "that list) and import that"
        )
    key = lists[0]
    others = [k for k in document if k != key]
    notes = []
    if others:
        shown = ", ".join(f"“{k}”" for k in others[:10]) + (
            f" and {len(others) - 10} more" if len(others) > 10 else ""
        )
        notes.append(
            f"The records were read from the file's “{key}” list; the rest of the file "
            f"({shown}) was not imported."
        )
    return document[key], notes


def _rows(records: list, headers: list[str], limits: ImportLimits) -> Iterator[SourceRow]:
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            yield SourceRow(
                number,
                [],
                problem=f"is {_what(record)}, not a record (an object of named fields, "
                '{"name": ..., "postcode": ...}); export the records again',
            )
            continue
        flat = flatten(record, number, limits)
        yield SourceRow(number, [flat.get(h) for h in headers])


def _what(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a piece of text"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    return "a number"


def flatten(record: dict, number: int, limits: ImportLimits) -> dict[str, object]:
    """One record as {heading: cell}, nested objects as dotted headings and lists as text (see
    the module's docstring). A heading written both ways ("address.postcode" as a key, and
    "postcode" inside "address") keeps the first value with anything in it."""
    flat: dict[str, object] = {}

    def walk(value: object, name: str, depth: int) -> None:
        if depth > MAX_JSON_DEPTH:
            raise limits.nested_too_deep(number, UNIT)
        if isinstance(value, dict):
            if not value and name:
                flat.setdefault(name, None)
            for key, item in value.items():
                walk(item, f"{name}.{key}" if name else str(key), depth + 1)
            return
        cell = (
            _list_text(value, depth, number, limits) if isinstance(value, list) else _scalar(value)
        )
        if flat.get(name) is None:
            flat[name] = cell

    walk(record, "", 0)
    return flat


def _scalar(value: object) -> object:
    """A plain JSON value as a cell: null, NaN, infinity and "NaN" are empty."""
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str) and value.strip().casefold() == "nan":
        return None
    return value


def _list_text(items: list, depth: int, number: int, limits: ImportLimits) -> str | None:
    """A list as the text of one cell: "; " between its values or its objects' words."""
    if depth > MAX_JSON_DEPTH:
        raise limits.nested_too_deep(number, UNIT)
    parts = []
    for item in items:
        if isinstance(item, dict):
            text = _object_text(item, depth + 1, number, limits)
        elif isinstance(item, list):
            text = _list_text(item, depth + 1, number, limits)
        else:
            value = _scalar(item)
            text = None if value is None else _plain(value)
        if text:
            parts.append(text)
    return "; ".join(parts) or None


def _plain(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _object_text(item: dict, depth: int, number: int, limits: ImportLimits) -> str | None:
    """An object in a list as words: "Tuesday 10:00-12:00", or "name: Jo, phone: 0161..."."""
    if depth > MAX_JSON_DEPTH:
        raise limits.nested_too_deep(number, UNIT)
    values: dict[str, str] = {}
    labels: dict[str, str] = {}
    for key, value in item.items():
        if isinstance(value, dict):
            text = _object_text(value, depth + 1, number, limits)
        elif isinstance(value, list):
            if _KEY_NOISE.sub("", str(key)).casefold() in _DAY_KEYS:
                days = [_day(v) for v in value if _scalar(v) is not None]
                text = " & ".join(d for d in days if d) or None
            else:
                text = _list_text(value, depth + 1, number, limits)
        else:
            scalar = _scalar(value)
            text = None if scalar is None else _plain(scalar)
        if text:
            plain_key = _KEY_NOISE.sub("", str(key)).casefold()
            values[plain_key] = text
            labels[plain_key] = str(key)
    if not values:
        return None
    used: set[str] = set()
    words = []
    day_key = next((k for k in _DAY_KEYS if k in values), None)
    if day_key:
        words.append(_day(values[day_key]))
        used.add(day_key)
    for start, end in _TIME_PAIRS:
        if start in values or end in values:
            if start in values and end in values:
                words.append(f"{values[start]}-{values[end]}")
            else:
                words.append(values.get(start) or f"until {values[end]}")
            used |= {start, end}
            break
    rest = [(labels[k], v) for k, v in values.items() if k not in used]
    if not words:
        return ", ".join(f"{label}: {value}" for label, value in rest)
    text = " ".join(words)
    if rest:
        text += " (" + ", ".join(value for _, value in rest) + ")"
    return text


def _day(value: object) -> str:
    """A day as written, without schema.org's address ("https://schema.org/Monday")."""
    return _SCHEMA_DAY.sub("", _plain(value))
