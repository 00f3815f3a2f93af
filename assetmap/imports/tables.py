"""What every reader gives: an opened file as a Table of its headings and its SourceRows.

The readers (assetmap.imports.readers for CSV and workbooks, assetmap.imports.gis for GeoJSON,
GeoPackages and shapefiles) make these, and cleaning reads them; they live apart so that the
readers can share them without importing each other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time


@dataclass(slots=True)
class SourceRow:
    """One row as read: its number, its cells in column order, and for GIS files its shape.

    `geometry` is GeoJSON in WGS84; `problem` is set when the reader found the row unusable
    (a GeoJSON item that is not a feature), so cleaning rejects it with that message.
    """

    number: int
    cells: list
    geometry: dict | None = None
    problem: str | None = None


@dataclass(frozen=True)
class Formula:
    """A workbook cell holding a formula whose result was never saved in the file."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Table:
    """An opened file: what it is, its headings and its rows (read lazily)."""

    description: str
    headers: list[str]
    rows: Iterator[SourceRow]
    unit: str = "row"
    notes: list[str] = field(default_factory=list)
    has_geometry: bool = False
    close: Callable[[], None] = lambda: None


def cell_text(value: object) -> str:
    """A cell as text, as a row's extra information keeps it: dates as ISO 8601, lists and
    objects as JSON, and a whole number that a spreadsheet stored as 3.0 as "3"."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_WEB_ADDRESS = re.compile(r"(?:https?:|www\.|\S+@\S+\.\w)|\S+\.(?:com|org|net|uk)\b", re.I)
# Text this long, or of this many words, is a description or a name, never a code.
_LONG_TEXT_CHARS = 40
_LONG_TEXT_WORDS = 4


def odd_for_a_code(value: str) -> str | None:
    """What a cell holds that no column of numbers or postcodes (a latitude, an easting, an
    age, a postcode) should: "a web address", "an email address" or "text" (a description or
    a name, by its length or its words); None for anything else, "TBC" and "53.4x" included.

    Such a cell means the row's cells have moved under the wrong headings (see
    readers.CsvShape, which rejects the row as out of line when the column holds codes in its
    other rows); cleaning may ask it of a cell in a column it knows to be one of those, to say
    "out of line" rather than "not a number". Asked of many cells, so the cheap tests come
    first."""
    if len(value) > _LONG_TEXT_CHARS:
        return "text"
    value = value.strip()
    if " " in value:
        return "text" if len(value.split()) >= _LONG_TEXT_WORDS else None
    if ("." in value or "@" in value or ":" in value) and _WEB_ADDRESS.search(value):
        return "an email address" if "@" in value else "a web address"
    return None
