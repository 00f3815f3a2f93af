"""Turning one row of someone's spreadsheet into an asset record, and saying what was odd.

Cells are trimmed (non-breaking spaces too) and "NA", "N/A", "-", "Not relevant" and the like
read as empty. Then the repairs a coordinator would make by hand are made and reported: a
postcode taken from the address, a phone number given back the leading 0 a spreadsheet took
away, "www,example.org" read as https://www.example.org, a mailto: link in the website column
moved to the email, a "Contact" column of emails, phones and web addresses split into the
three, latitude and longitude put back the right way round, eastings and northings converted,
a missing position found from the postcode (these last in assetmap.imports.placing). What
cannot be repaired is checked by assetmap.record.validation, so a record means the same
whichever door it came in by.

Only what an asset cannot exist without (a name, a kind, a strand and a place, and the ids
that say which asset it is) rejects a row. A bad optional value (a phone "0161", a website
"ring reception") leaves that field empty, with a warning that names the cell and the fix: one
bad cell does not lose the rest of the row.

Nothing typed is dropped silently: cells in columns we do not import, text a repair left out
and values left empty are kept as the row's extra information.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache

from assetmap.imports import columns as cols
from assetmap.imports.geocoding import Geocoder
from assetmap.imports.mapping import Mapping
from assetmap.imports.placing import RowPlacer
from assetmap.imports.problems import ERROR, WARNING, Problem, shown_value
from assetmap.imports.tables import Formula, SourceRow, cell_text
from assetmap.record import fields
from assetmap.record.schedules import times_read
from assetmap.record.validation import (
    UK_BOUNDS,
    clean_value,
    dialled_digits,
    validate_asset,
    web_address_meant,
)

# Row-level facts that are counted and reported once for the file, not once per row (placing
# has its own: assetmap.imports.placing).
CELLS_BEYOND_HEADINGS = "cells to the right of the last heading"
SESSIONS_FROM_WORDS = "sessions read from days and times in words"

_ODD_SPACES = re.compile(r"[\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000\ufeff]")
_PHONE_IN_TEXT = re.compile(r"(?:\+44\s?(?:\(0\)\s?)?|\(?0)[0-9][0-9 ()-]{7,}[0-9]")
# In a "Contact" cell, anything that could be meant as a phone number: digits with spaces,
# brackets and hyphens, and an extension ("0161 912 3000 ext 12"). Validation decides whether it
# is one; "0161" alone is found here so that it is named, not lost.
_PHONE_LIKE = re.compile(
    r"\+?\(?\d[\d ()-]*\d\)?(?:\s*(?:ext\.?|extn\.?|extension|x)\s*\d{1,5})?", re.I
)
_EXTENSION = re.compile(r"\s*(?:ext\.?|extn\.?|extension|x)\s*\d", re.I)
_MAILTO_OR_EMAIL = re.compile(
    r"(?:mailto:)?[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?:\?\S*)?",
    re.I,
)
# A web address in running text: with http(s) (or a mistyped one), with www, or a site name
# ending in a common top-level domain.
_WEB_IN_TEXT = re.compile(
    r"(?:h{1,2}t{0,3}p{1,2}s?\s*[:;]{0,2}[/\\]{1,3}:?|www[.,])\S+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:org|com|net|gov|nhs|co|ac|info|uk|io)\b(?:\.[a-z]{2})?(?:/\S*)?",
    re.I,
)
# "None" in a cost column says there is no charge, where in any other column it says there is
# nothing to say; the other empty markers ("N/A", "-") stay empty there too.
_NO_CHARGE = frozenset({"none", "nil"})
# Text that a program wrote for a number it did not have (pandas, JSON from Python): empty in
# every column, like a NaN number, whatever the mapping file's empty markers say.
_NOT_A_NUMBER = frozenset({"nan", "-nan", "+nan"})
_PLAIN_PHONE = re.compile(r"\+?[0-9 ()-]+")
_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_FREE = re.compile(r"(?:free|no charge|£?\s?0(?:\.0+)?(?:\s|$)|£\s?0(?:\.00)?\b|nothing)", re.I)
_AGE_FROM = re.compile(r"(?:(?:over|aged?|from)\s*)?(\d{1,3})\s*(?:\+|and over|or over|plus|s\+)")
# "Over 18s" and "over 50" mean 18 and 50 and over, as UK groups and venues use them; only
# "older than 50" leaves 50 out.
_AGE_OVER = re.compile(r"(over|older than)\s*(\d{1,3})s?")
_AGE_UNDER = re.compile(r"(?:under|younger than)\s*(\d{1,3})s?")
_AGE_SPAN = re.compile(r"(\d{1,3})\s*(?:-|–|to)\s*(\d{1,3})")
_LIST_SPLIT = re.compile(r"[;,|]")
_LIST_FIELDS = ("categories", "audiences", "accessibility")
_SCIENTIFIC = re.compile(r"\d(?:\.\d+)?E\+?\d+", re.I)
# What an asset cannot exist without, and the ids that say which asset a row is: a bad value
# in one of these rejects the row. A bad value in any other field is left out with a warning.
# (The postcode joins them when the row has no other position.)
ESSENTIAL_FIELDS = frozenset({"name", "kind", "strand", "lat", "lon", "id", "source_id", "source"})
# Columns whose formula rejects the row: they feed the fields above, or place the asset.
_ESSENTIAL_TARGETS = ESSENTIAL_FIELDS | {
    "postcode",
    "address",
    cols.ADDRESS_PART,
    cols.EASTING,
    cols.NORTHING,
    cols.COORDINATES,
    cols.VALUES,
}
# Two-field rules whose message is filed under one field, and the fields left out with it.
_LEFT_OUT_TOGETHER = {"max_age": ("min_age", "max_age")}
# A rejected row of at most this many cells that starts with one of these words is a total or
# a note below the table, and is told as that.
_FOOTER_CELLS = 3
_FOOTER = re.compile(
    r"(?:(?:grand\s+)?(?:sub-?\s?)?totals?|sum|count)\s*:?\s*[\d,.]*\s*$"  # "Total", "Total: 4"
    r"|(?:sources?|notes?|key)\s*:|\*",  # "Source: ...", "Notes: ...", "* new this year"
    re.I,
)


@dataclass(slots=True)
class PreparedRow:
    """A row after cleaning and validation.

    `record` is the validated asset, or None when the row is rejected (`problems` then holds
    at least one error). `provided` names the fields this row speaks for: when the row updates
    an existing asset, only those change. `facts` are row-level facts counted for the report.
    """

    number: int
    cells: list
    record: dict | None = None
    problems: list[Problem] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)
    provided: frozenset[str] = frozenset()
    facts: tuple[str, ...] = ()
    placed_by_postcode: bool = False
    blank: bool = False
    # (source, the file's own id) as the row gives them, even when it is rejected, so that a
    # later row with the same id is caught as a repeat and not imported in its place.
    file_id: tuple[str, str] | None = None
    # A row whose postcode the postcode table cannot place: (postcode column, why). Matching
    # decides: a new asset is rejected with why; an asset already listed keeps its position.
    unplaced: tuple[cols.Column | None, str] | None = None

    @property
    def rejected(self) -> bool:
        return self.record is None


def when_text(value: datetime | date | time) -> str:
    """An Excel date or time cell as a person writes it: "10:30", "2025-03-01 10:30"."""
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value.isoformat()


@lru_cache(maxsize=4096)
def _sessions_read(text: str) -> tuple[tuple[dict, ...] | None, str | None]:
    """The sessions a times cell gives in words ("Tuesdays 10:00 till 12:00"), as validation
    stores them (None when it gives none or validation would not take them), and a warning
    naming the part it could not read (then there are no sessions: a session we half read
    could send people to a closed door). The same cells recur down a column: each is read once.
    """
    if text.lstrip().startswith("{"):
        return None, None  # a schedule as JSON: validation reads it
    read = times_read(text, times_column=True)
    if read.unread is not None:
        why = f" ({read.why})" if read.why else ""
        return None, (
            f"could not read “{shown_value(read.unread, 60)}” as days and times{why}, so no "
            "sessions were taken from this cell and search will not find it by day or time; "
            "the words are kept as the schedule's notes. Write each day with its times after "
            'it, such as "Tue 11am-2pm, Fri 11.30am-1.30pm; 1st Saturday of the month 10-12", '
            "and import again"
        )
    if not read.sessions:
        return None, None
    checked = validate_asset({"schedule": {"sessions": list(read.sessions), "notes": ""}},
                             bounds=None)  # fmt: skip
    if "schedule" in checked.errors:
        why = checked.errors["schedule"].removeprefix("schedule: ")
        return None, (
            f"gives sessions that cannot be kept ({why}), so none were "
            "taken from this cell; the words are kept as the schedule's notes"
        )
    return tuple(checked.record["schedule"]["sessions"]), None


@lru_cache(maxsize=4096)
def _vocabulary_item(field_name: str, item: str) -> str | None:
    """The slug an item of a list field stands for, or None; validation decides, once each."""
    found = validate_asset({field_name: item}, bounds=None)
    if field_name in found.errors:
        return None
    values = found.record.get(field_name) or []
    return values[0] if values else None


@lru_cache(maxsize=1024)
def _is_cost_term(text: str) -> bool:
    return "cost" not in validate_asset({"cost": text}, bounds=None).errors


class RowCleaner(RowPlacer):
    """Cleans the rows of one file: the column plan, the mapping and the map's bounds are fixed.

    It is cheap to build, and holds a row only while it cleans it (`_row`, and which of the
    row's cells have had an error reported): nothing is kept from one row to the next, so a file
    of any length streams through it. One cleaner cleans one row at a time; each worker process
    of a parallel import has its own. Placing the row is RowPlacer's (assetmap.imports.placing).
    """

    def __init__(
        self,
        plan: cols.ColumnPlan,
        mapping: Mapping,
        *,
        source: str,
        unit: str = "row",
        bounds: tuple[float, float, float, float] | None = UK_BOUNDS,
        geocoder: Geocoder | None = None,
    ):
        self.plan = plan
        self.mapping = mapping
        self.source = source
        self.unit = unit
        self.bounds = bounds
        self.geocoder = geocoder
        self.width = len(plan.columns)
        targets = plan.targets()
        self.has_source_column = "source" in targets
        direct = {t for t in targets if t in fields.FIELDS_BY_NAME}
        if cols.ADDRESS_PART in targets:
            direct.add("address")
        if cols.AGE_RANGE in targets:
            direct |= {"min_age", "max_age"}
        if {"lat", "lon"} & targets or {cols.EASTING, cols.NORTHING, cols.COORDINATES} & targets:
            direct |= {"lat", "lon"}
        if "cost" in targets:
            direct.add("cost_details")
        self.provided = frozenset(direct | mapping.value_fields())

    # -- one row --------------------------------------------------------------------------------

    def clean(self, source_row: SourceRow) -> PreparedRow:
        """Clean, place and validate one row."""
        row = PreparedRow(source_row.number, source_row.cells)
        self._row = row  # the row being cleaned, for _problem
        self._failed: set[str] = set()  # targets of columns with an error already reported
        self._failed_position = False
        self._left_out: set[str] = set()  # fields of this row left out, so not spoken for
        if source_row.problem:
            self._problem(ERROR, None, "", source_row.problem)
            return row
        data: dict[str, object] = {}
        origin: dict[str, tuple[cols.Column | None, object]] = {}
        mapped: dict[str, object] = {}
        pseudo: dict[str, tuple[cols.Column, object]] = {}
        address_parts: list[tuple[cols.Column, str]] = []
        anything = source_row.geometry is not None
        cells = source_row.cells
        for column in self.plan.columns:
            raw = cells[column.index] if column.index < len(cells) else None
            value = self._cell(raw)
            if value is None and column.target == "cost" and _says_no_charge(raw):
                value = raw.strip()  # "None" in a cost column: no charge (see _cost)
            if value is None:
                if raw is not None and column.target in fields.FIELDS_BY_NAME:
                    origin[column.target] = (column, raw)
                continue
            anything = True
            if isinstance(value, Formula) or (isinstance(value, str) and _is_formula(value)):
                self._formula(column, value)
                continue
            target = column.target
            if target in fields.FIELDS_BY_NAME:
                data[target] = value
                origin[target] = (column, value)
            elif target == cols.VALUES:
                self._translate(column, value, mapped, origin)
            elif target == cols.EXTRA:
                row.extra[column.label] = cell_text(value)
            elif target == cols.ADDRESS_PART:
                address_parts.append((column, cell_text(value)))
            elif target != cols.IGNORE:
                pseudo[target] = (column, value)
        for index in range(self.width, len(cells)):
            value = self._cell(cells[index])
            if value is not None:
                anything = True
                row.extra[f"column {cols.column_letter(index)}"] = cell_text(value)
                if CELLS_BEYOND_HEADINGS not in row.facts:
                    row.facts += (CELLS_BEYOND_HEADINGS,)
        if not anything:
            row.blank = True
            return row
        for name, value in mapped.items():
            data.setdefault(name, value)
        defaulted = set()
        for name, value in self.mapping.defaults.items():
            if name not in data:
                data[name] = value
                origin.setdefault(name, (None, value))
                defaulted.add(name)
        # A default is for new assets: an asset already listed keeps its own. An empty id cell
        # says nothing either (clearing an asset's reference would lose its match next time).
        provided = set(self.provided) - defaulted - self._left_out
        if "source_id" not in data:
            provided.discard("source_id")
        self._address(data, origin, address_parts)
        self._ages(data, origin, pseudo)
        self._postcode(data, origin, provided)
        self._contact(data, origin, pseudo, provided)
        self._contacts(data, origin, provided)
        self._cost(data, origin)
        for name in _LIST_FIELDS:
            if name in data and not self._list_items(name, data, origin):
                provided.discard(name)  # nothing we know: an asset listed keeps what it has
        if "source_id" in data:
            data["source_id"] = cell_text(data["source_id"])
            if _SCIENTIFIC.fullmatch(data["source_id"]):
                self._problem(
                    WARNING,
                    origin["source_id"][0],
                    data["source_id"],
                    "looks like a number the spreadsheet wrote in scientific notation (as Excel "
                    "does with long numbers), so it may not be the reference that was typed. "
                    "Format the column as text in the spreadsheet and type the references again",
                )
        if isinstance(data.get("schedule"), (datetime, date, time)):
            data["schedule"] = when_text(data["schedule"])  # an Excel time in a "Times" column
        if isinstance(data.get("schedule"), str):
            read, unread = _sessions_read(data["schedule"])
            if unread:
                column = origin.get("schedule", (None, None))[0]
                self._problem(WARNING, column, data["schedule"], unread)
            if read:
                data["schedule"] = {"sessions": [dict(s) for s in read], "notes": data["schedule"]}
                row.facts += (SESSIONS_FROM_WORDS,)
        if not self.has_source_column:
            data["source"] = self.source
        if data.get("source_id") and data.get("source"):
            row.file_id = (str(data["source"]), data["source_id"])
        self._place(data, origin, pseudo, source_row.geometry, provided)
        # Fields already reported (a formula, a position that cannot be found) are left out of
        # validation's report, so one mistake is one message.
        reported = set(self._failed)
        if self._failed_position or row.unplaced is not None:
            reported |= {"lat", "lon"}  # said already, or the position is a stand-in
        result = validate_asset(data, bounds=self.bounds)
        # The postcode is needed when it is the only way to place the asset.
        needs_postcode = self._failed_position or bool({"lat", "lon"} & result.errors.keys())
        kept_errors = False
        for name, message in result.errors.items():
            if name in ESSENTIAL_FIELDS or (name == "postcode" and needs_postcode):
                kept_errors = True
                if name not in reported:
                    self._validation_problem(ERROR, name, message, origin)
            else:
                self._leave_out(name, message, origin, result.record, provided)
        for name, message in result.warnings.items():
            if name not in reported:
                self._validation_problem(WARNING, name, message, origin)
        ok = not kept_errors and not any(p.level == ERROR for p in row.problems)
        if not ok and row.unplaced is not None:
            self._problem(ERROR, row.unplaced[0], data.get("postcode"), row.unplaced[1])
            row.unplaced = None
        if not ok and (footer := self._footer(cells)) is not None:
            row.problems = []  # one message that says what the row is, not one a field
            self._problem(
                ERROR,
                footer[0],
                footer[1],
                "looks like a totals or notes line under the table, not an asset; delete it "
                "from the table (or move it to another sheet) and import again",
            )
        row.problems.sort(key=_column_order)
        if ok:
            row.record = result.record
            row.provided = frozenset(provided)
        return row

    def _footer(self, cells: list) -> tuple[cols.Column | None, object] | None:
        """The first cell of a row that is a total or a note below the table ("Total, 4";
        "Source: Trafford Data Lab"), with its column; None for any other row."""
        filled = [(i, c) for i, c in enumerate(cells) if self._cell(c) is not None]
        if not filled or len(filled) > _FOOTER_CELLS:
            return None
        index, value = filled[0]
        if not isinstance(value, str) or not _FOOTER.match(value.strip()):
            return None
        return next((c for c in self.plan.columns if c.index == index), None), value

    # -- cells --------------------------------------------------------------------------------

    def _cell(self, value: object) -> object:
        """A cell trimmed, with empty markers and NaN read as nothing."""
        if value is None:
            return None
        if (
            value.__class__ is str
            and len(value) > 16  # longer than any empty marker
            and value.isascii()
            and " " < value[0] != "'"  # no space to trim (ASCII white space is below " ")
            and value[-1] > " "
        ):
            return value  # most cells of a long file: nothing to do
        if isinstance(value, str):
            if not value.isascii():
                value = _ODD_SPACES.sub(" ", value)
            value = value.lstrip()
            if value[:1] == "'" and value[1:2] and value[1] in "=+-@\t\r":
                # The guard our own CSV exports put on formula-like text.
                return self._cell(value[1:])
            value = value.rstrip()
            if not value or (
                len(value) <= 16
                and (self.mapping.is_empty(value) or value.casefold() in _NOT_A_NUMBER)
            ):
                return None
            return value
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, (list, dict)) and not value:
            return None
        return value

    def _problem(self, level: str, column: cols.Column | None, value: object, message: str):
        if level == ERROR and column is not None:
            self._failed.add(column.target)
        letter = column.letter if column is not None and self.unit == "row" else ""
        self._row.problems.append(
            Problem(
                level,
                self._row.number,
                column.label if column is not None else "",
                letter,
                shown_value(value),
                message,
                self.unit,
            )
        )

    def _position_error(self, column: cols.Column | None, value: object, message: str):
        """An error about where the asset is: validation's "lat is required" would repeat it."""
        self._failed_position = True
        self._problem(ERROR, column, value, message)

    def _formula(self, column: cols.Column, value: object) -> None:
        """A formula instead of a value. In a column an asset cannot do without it rejects the
        row; in any other it is left out, kept as extra information, with a warning."""
        if isinstance(value, Formula):
            message = (
                f"holds the formula {shown_value(value.text, 40)}, whose result was not saved in "
                "the file. Open the workbook in Excel and save it again, or paste the column "
                "back as values only, then import it again"
            )
        else:
            message = (
                f"'{shown_value(value, 40)}' is a spreadsheet formula, not a value. In the "
                "spreadsheet, copy the column and paste it back with Paste Special > Values "
                "only, then save and import again"
            )
        if column.target in _ESSENTIAL_TARGETS:
            self._problem(ERROR, column, value, message)
            return
        text = value.text if isinstance(value, Formula) else cell_text(value)
        self._keep(column, column.target, "not imported", text)
        self._left_out.add(column.target)
        self._problem(
            WARNING,
            column,
            value,
            message + ". The row was imported without it, and the formula kept as extra "
            "information",
        )

    def _translate(self, column, value, mapped, origin) -> None:
        value_map = self.mapping.values[cols.normalise_header(column.header)]
        text = cell_text(value)
        found, unmatched, conflicts = value_map.translate(text)
        for name, raw in found.items():
            if name not in mapped:
                mapped[name] = raw
                origin.setdefault(name, (column, value))
        if unmatched:
            self._row.extra[column.label] = text
            listed = ", ".join(repr(u) for u in unmatched)
            self._problem(
                WARNING,
                column,
                value,
                f"{listed} {'is' if len(unmatched) == 1 else 'are'} not in the mapping file's "
                f'[values."{value_map.heading}"]; add {"it" if len(unmatched) == 1 else "them"} '
                'there (or a "*" entry for any other value). The text is kept as extra '
                "information",
            )
        if conflicts:
            self._problem(
                WARNING,
                column,
                value,
                f"the values map to different {'; '.join(conflicts)}; the first was used",
            )

    # -- fields -------------------------------------------------------------------------------

    def _address(self, data, origin, parts) -> None:
        if not parts:
            return
        pieces = [str(data["address"])] if "address" in data else []
        for column, text in parts:
            joined = ", ".join(pieces).casefold()
            if text.casefold() not in joined:
                pieces.append(text)
            origin.setdefault("address", (column, text))
        data["address"] = ", ".join(pieces)

    def _ages(self, data, origin, pseudo) -> None:
        if cols.AGE_RANGE not in pseudo:
            return
        column, value = pseudo[cols.AGE_RANGE]
        text = cell_text(value).casefold()
        low = high = None
        if span := _AGE_SPAN.search(text):
            low, high = int(span.group(1)), int(span.group(2))
        elif from_ := _AGE_FROM.search(text):
            low = int(from_.group(1))
        elif over := _AGE_OVER.search(text):
            low = int(over.group(2)) + (over.group(1) == "older than")
        elif under := _AGE_UNDER.search(text):
            high = max(int(under.group(1)) - 1, 0)
        elif text.replace(" ", "") not in ("all", "allages", "any", "anyage", "everyone"):
            self._row.extra[column.label] = cell_text(value)
            self._problem(
                WARNING,
                column,
                value,
                "is not an age range we can read; it is kept as extra information. Write it "
                "as 18+, 5-11 or under 16, or fill in min_age and max_age",
            )
            return
        for name, number in (("min_age", low), ("max_age", high)):
            if number is not None and name not in data:
                data[name] = number
                origin[name] = (column, value)

    def _contact(self, data, origin, pseudo, provided) -> None:
        """Split a "Contact" cell by value: each email address to the email, each web address
        to the website, each phone number to the phone ("07700 900123 / jo@example.org" fills
        two). A field that its own column fills keeps that column's value; anything else in the
        cell (a name, a second number, an address that disagrees) is named in a warning and the
        whole cell kept as extra information."""
        if cols.CONTACT not in pseudo:
            return
        column, value = pseudo[cols.CONTACT]
        text = " ".join(cell_text(value).split())
        found: dict[str, list[str]] = {}
        rest = text
        for name, pattern in (
            ("email", _MAILTO_OR_EMAIL),
            ("website", _WEB_IN_TEXT),
            ("phone", _PHONE_LIKE),
        ):
            pieces = []
            for match in pattern.finditer(rest):
                piece = match.group(0).strip().rstrip(".,;:)]")
                if name == "phone" and not _could_be_phone(piece):
                    continue  # "Room 101", "12 High Street": words, not a number
                if name == "email":
                    piece = _without_mailto(piece)
                if not any(_same_contact(name, p, piece) for p in pieces):
                    pieces.append(piece)  # the same number twice is one number
                rest = rest.replace(match.group(0), " ", 1)
            if pieces:
                found[name] = pieces
        said: list[str] = []
        leftover = " ".join(rest.split()).strip(" /,;|&+:-–—")
        if _CONTACT_WORDS.sub("", rest).strip():
            said.append(
                f"'{shown_value(leftover, 40)}' is not an email address, phone number or "
                "web address"
            )
        for name, pieces in found.items():
            words = _CONTACT_KINDS[name]
            first, others = pieces[0], pieces[1:]
            if name in data:
                own = origin.get(name, (None, data[name]))[0]
                heading = own.label if own is not None else name
                if not _same_contact(name, data[name], first):
                    said.append(
                        f"its {words} {first} differs from the {heading} column's, which was used"
                    )
            else:
                data[name] = first
                origin[name] = (column, first)
                provided.add(name)
            if others:
                said.append(f"only the first {words} was used, not {', '.join(others)}")
        if not said:
            return
        self._keep(column, "contact", "as written", text)
        self._problem(
            WARNING,
            column,
            value,
            "; ".join(said) + ". The whole cell is kept as extra information. Put one email "
            "address, one phone number and one web address here at most, and names or notes in "
            "other columns",
        )

    def _contacts(self, data, origin, provided) -> None:
        for name in ("website", "email", "phone"):
            if name in data:
                self._misplaced(name, data, origin, provided)
        for name in ("phone", "contact_phone"):
            if name in data:
                self._phone(name, data, origin)
        if "website" in data:
            self._website(data, origin, provided)
        if "email" in data:
            self._email(data, origin)

    def _phone(self, name, data, origin) -> None:
        raw = data[name]
        column = origin[name][0]
        if isinstance(raw, bool):
            return
        if isinstance(raw, (int, float)):
            digits = str(int(raw)) if float(raw).is_integer() else str(raw)
            if digits.isdigit() and len(digits) in (9, 10) and digits[0] != "0":
                data[name] = "0" + digits
                self._problem(
                    WARNING,
                    column,
                    raw,
                    f"the spreadsheet stored this number as a number and dropped its leading 0; "
                    f"it was read as {data[name]}. Format the column as text to keep the 0",
                )
            else:
                data[name] = digits
            return
        text = " ".join(str(raw).split())
        if _PLAIN_PHONE.fullmatch(text):
            digits = re.sub(r"\D", "", text)
            if len(digits) == 10 and digits[0] in "123789" and not text.startswith("+"):
                data[name] = "0" + text
                self._problem(
                    WARNING,
                    column,
                    raw,
                    f"this number had lost its leading 0; it was read as {data[name]}. Check it",
                )
            return
        found = _PHONE_IN_TEXT.search(text)
        if found and len(re.sub(r"\D", "", found.group(0))) >= 10:
            data[name] = found.group(0).strip()
            self._keep(column, name, "as written", text)
            self._problem(
                WARNING,
                column,
                raw,
                f"only the number {data[name]} was kept from this text; the full text is kept "
                "as extra information. Put one number in this column, and notes elsewhere",
            )

    def _email(self, data, origin) -> None:
        raw = data["email"]
        text = str(raw).strip()
        bare = text.removeprefix("mailto:").strip("<> ")
        found = _EMAIL_IN_TEXT.findall(text)
        if not found or (len(found) == 1 and found[0] == bare):
            return
        column = origin["email"][0]
        data["email"] = found[0]
        self._keep(column, "email", "as written", text)
        more = " (the others are kept as extra information)" if len(found) > 1 else ""
        self._problem(
            WARNING,
            column,
            raw,
            f"only the address {found[0]} was kept from this text{more}; put one email address "
            "in this column",
        )

    def _website(self, data, origin, provided) -> None:
        raw = data["website"]
        text = str(raw).strip()
        column = origin["website"][0]
        words = text.split()
        first = next((w for w in words if "." in w.strip(".")), None)
        if len(words) > 1 and first is not None:
            self._keep(column, "website", "as written", text)
            self._problem(
                WARNING,
                column,
                raw,
                f"only {first} was kept from this text; put one web address in this column. "
                "The full text is kept as extra information",
            )
            text = data["website"] = first
        meant = web_address_meant(text)
        if meant is None or clean_value(fields.FIELDS_BY_NAME["website"], text)[1] is None:
            return  # usable as it is, or validation names what is wrong
        data["website"] = meant
        if meant.casefold() == f"https://{text}".casefold():
            said = "had no https:// in front"
        else:
            said = f"'{shown_value(text)}' is not a web address as written"
        self._problem(WARNING, column, raw, f"{said}; it was read as {meant}. Check it opens")

    def _misplaced(self, name: str, data, origin, provided) -> None:
        """A cell of the email, phone or website column that holds another of the three (a
        mailto: link in the website column, a phone number in the email column): it is read
        as that one, unless its own column gives it already."""
        raw = data[name]
        if not isinstance(raw, str):
            return
        text = raw.strip()
        if "@" in text:
            if name == "email":
                return  # the usual: an email address (or one that validation names)
        elif name != "email" and (name == "phone") == (text[:1] in "+(0123456789"):
            return  # the usual: a number in the phone column, an address in the website's
        kind = _contact_kind(text)
        if kind is None or kind == name:
            return
        column = origin[name][0]
        value = _without_mailto(text) if kind == "email" else text
        del data[name]
        provided.discard(name)  # the cell says nothing about its own field
        what, where = _CONTACT_KINDS[kind], _CONTACT_KINDS[name]
        if kind not in data:
            data[kind] = value
            origin[kind] = (column, raw)
            provided.add(kind)
            self._problem(
                WARNING,
                column,
                raw,
                f"is {_a(what)}, not {_a(where)}; it was read as the {what} {value}. Put each "
                f"{what} in the {kind} column",
            )
        elif _same_contact(kind, data[kind], value):
            self._problem(
                WARNING,
                column,
                raw,
                f"is the {what} again, not {_a(where)}, so the {name} was left empty",
            )
        else:
            self._keep(column, name, "not imported", text)
            self._problem(
                WARNING,
                column,
                raw,
                f"is {_a(what)}, not {_a(where)}, and the {kind} column gives another; it was "
                f"left out and kept as extra information. Put each {what} in the {kind} column",
            )

    def _cost(self, data, origin) -> None:
        raw = data.get("cost")
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            # A price typed as a number into a "Cost (£)" column: 0 is free, anything else
            # is kept as the cost details.
            raw = data["cost"] = "0" if raw == 0 else f"£{raw:.2f}"
        if raw is None or not isinstance(raw, str) or _is_cost_term(raw):
            return
        if _says_no_charge(raw):
            data["cost"] = "free"  # "None" in a cost column: no charge
            return
        column = origin["cost"][0]
        if "cost_details" in data:
            return  # validation names the cost cell; the details column holds the text already
        data["cost_details"] = raw
        origin["cost_details"] = origin["cost"]
        if _FREE.match(raw.strip()):
            data["cost"] = "free"
            return
        del data["cost"]
        self._problem(
            WARNING,
            column,
            raw,
            "is not free, low cost or paid, so it was kept as the cost details and the cost "
            "left empty. Enter free, low_cost or paid so people can filter by cost",
        )

    def _list_items(self, name: str, data, origin) -> bool:
        """Keep the items of a list cell that we know; False when it had none we know (and
        some we do not)."""
        raw = data[name]
        items = raw if isinstance(raw, list) else _LIST_SPLIT.split(cell_text(raw))
        if isinstance(raw, str) and raw.lstrip().startswith("["):
            return True  # a JSON list: validation reads it and names any bad item
        known: list[str] = []
        unknown: list[str] = []
        for item in items:
            text = str(item).strip()
            if not text:
                continue
            slug = _vocabulary_item(name, text)
            if slug is None:
                unknown.append(text)
            elif slug not in known:
                known.append(slug)
        if not unknown:
            return True
        column = origin[name][0]
        data[name] = known
        label = column.label if column else name
        self._row.extra[f"{label} (not recognised)"] = "; ".join(unknown)
        listed = ", ".join(repr(u) for u in unknown[:5]) + (
            f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        )
        self._problem(
            WARNING,
            column,
            raw,
            f"{listed} {'is' if len(unknown) == 1 else 'are'} not among the {name} we know, so "
            f"{'it was' if len(unknown) == 1 else 'they were'} left out and kept as extra "
            f"information. Use the words listed in the template's guide, or map them in a "
            "mapping file",
        )
        return bool(known)

    def _keep(self, column: cols.Column | None, name: str, why: str, text: str) -> None:
        """Keep text from a cell as the row's extra information, under its heading and why
        ("Phone (as written)"); a second text from the same column is added, not put over."""
        key = f"{column.label if column is not None else name} ({why})"
        held = self._row.extra.get(key)
        if held is None:
            self._row.extra[key] = text
        elif text not in held:
            self._row.extra[key] = f"{held}; {text}"

    def _leave_out(self, name: str, message: str, origin, record: dict, provided) -> None:
        """A value validation refuses in a field the asset can do without: the field is left
        empty (an asset already listed keeps its own), the cell kept as extra information, and
        validation's message, which names the value and the fix, given as a warning."""
        for each in _LEFT_OUT_TOGETHER.get(name, (name,)):
            default = fields.DEFAULTS.get(each)
            record[each] = default.copy() if isinstance(default, (list, dict)) else default
            provided.discard(each)
            column, value = origin.get(each, (None, None))
            if value is not None:
                self._keep(column, each, "not imported", cell_text(value))
        self._validation_problem(
            WARNING,
            name,
            message,
            origin,
            then=". It was left out and kept as extra information; the rest of the row was "
            "imported",
        )

    def _validation_problem(
        self, level: str, name: str, message: str, origin, *, then: str = ""
    ) -> None:
        column, value = origin.get(name, (self.plan.column_for(name), None))
        if column is None and name in ("lat", "lon") and name not in origin:
            column = self.plan.column_for("postcode")  # no position at all: the postcode is why
        if column is None and name in self.mapping.value_fields():
            column = next(
                (
                    c
                    for c in self.plan.columns
                    if c.target == cols.VALUES
                    and name in self.mapping.values[cols.normalise_header(c.header)].fields()
                ),
                None,
            )
            if column is not None and column.index < len(self._row.cells):
                value = self._row.cells[column.index]
                message += f" (the mapping file gives no {name} for this value)"
        prefix = f"{name}: "
        if message.startswith(prefix):
            message = message[len(prefix) :]
        elif message.startswith("lat and lon: "):
            message = message[len("lat and lon: ") :]
        if column is None and name in self.mapping.defaults:
            message += " (this value comes from the mapping file's [defaults])"
        self._problem(level, column, "" if value is None else value, message + then)


_CONTACT_KINDS = {"email": "email address", "website": "web address", "phone": "phone number"}
_CONTACT_WORDS = re.compile(
    r"\b(?:tel|telephone|phone|ph|mob|mobile|landline|call|ring|text|email|e-mail|mail|web|"
    r"website|site|online|or|and|on|at|via)\b|[\s/,;|&+:.()\[\]\-–—]+",
    re.I,
)


def _contact_kind(text: str) -> str | None:
    """Whether a cell is one email address, one web address or one phone number, or None."""
    if "/" not in _without_mailto(text) and _MAILTO_OR_EMAIL.fullmatch(text):
        return "email"
    if " " not in text and "@" not in text and _WEB_IN_TEXT.fullmatch(text):
        return "website"
    if _PHONE_LIKE.fullmatch(text) and sum(c.isdigit() for c in text) >= 6:
        return "phone"
    return None


def _could_be_phone(text: str) -> bool:
    """Digits in a contact cell meant as a phone number: six or more, or a dialling code
    ("0161", named so that it is not lost); a house or room number is neither."""
    digits = sum(c.isdigit() for c in text)
    return digits >= 6 or (digits >= 3 and text.lstrip("+(").startswith("0"))


def _a(words: str) -> str:
    return f"an {words}" if words[0] in "aeiou" else f"a {words}"


def _says_no_charge(raw: object) -> bool:
    """Whether a cost cell says there is no charge in words that elsewhere mean empty."""
    return isinstance(raw, str) and raw.strip().rstrip(".").casefold() in _NO_CHARGE


def _without_mailto(text: str) -> str:
    """An email address from a mailto: link ("mailto:jo@example.org?subject=Hi")."""
    if text[:7].casefold() == "mailto:":
        text = text[7:].split("?", 1)[0]
    return text.strip("<> ")


def _same_contact(name: str, one: object, other: str) -> bool:
    """Whether two cells give the same email, web address or phone number, however written."""
    a, b = cell_text(one).strip(), other.strip()
    if name == "phone":
        return dialled_digits(_EXTENSION.split(a)[0]) == dialled_digits(_EXTENSION.split(b)[0])
    if name == "email":
        return _without_mailto(a).casefold() == _without_mailto(b).casefold()
    bare = re.compile(r"^(?:https?://)?(?:www\.)?|/+$", re.I)
    return bare.sub("", a).casefold() == bare.sub("", b).casefold()


def _is_formula(text: str) -> bool:
    """Whether text is a formula a spreadsheet exported instead of its value."""
    return len(text) > 1 and (text[0] == "=" or (text[0] == "@" and "(" in text[:20]))


def _column_order(problem: Problem) -> tuple[int, str]:
    """Problems of a row in column order (A, B, ..., Z, AA), whole-row ones first."""
    return (len(problem.letter), problem.letter)
