"""Opening an import file of any kind we accept, as headings and a stream of rows.

The kind is recognised from the file's first bytes, not its name: audits arrive as ".csv"
files that are really workbooks, and as ".xlsx" files that are really CSV. Files we cannot
read (an old .xls, a PDF, random bytes) are refused with what to do instead. Rows are read one
at a time, so a large CSV or workbook never sits in memory whole; GIS files are read whole by
GDAL, which is fine at the sizes asset layers come in, and JSON whole by the json module: as
GeoJSON (assetmap.imports.gis), as Open Referral UK services (assetmap.imports.openreferral,
which also reads a zip of HSDS tables) or, when it is a list of records, as a table
(assetmap.imports.json_records).

A CSV row whose cells are out of line with the headings (cut in two by a line break that is
not in quotes, or made longer by a comma that is not) is rejected with the likely cause and the
row it may belong with (see CsvShape).

Nothing is parsed before the file has been checked against the import's limits
(assetmap.imports.limits): its size, unpacked for a zip or workbook, and for a workbook each
part by what openpyxl does with it. Rows, columns and cells are checked as they are read, and a
CSV's and a workbook's are all checked before the first row is used, so that a file over a
limit is refused in seconds, not after minutes of work on the rows before the one over it.

Row numbers are the ones the spreadsheet shows: the heading row is row 1 (or lower, when a
title sits above it) and every row below counts, blank ones included.
"""

from __future__ import annotations

import csv
import functools
import html
import itertools
import posixpath
import re
import zipfile
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path

from assetmap.imports import gis, json_records, openreferral, text
from assetmap.imports.columns import is_known_heading
from assetmap.imports.limits import DAMAGED_ZIP, ZIP_READ_ERRORS, ImportLimits
from assetmap.imports.problems import ImportFileError, column_letter, shown_value
from assetmap.imports.tables import Formula, SourceRow, Table, odd_for_a_code

HEADER_LOOKAHEAD = 10


_REFUSED_MAGIC = (
    (
        b"\xd0\xcf\x11\xe0",
        "is an old Excel 97-2003 workbook (.xls), which cannot be read. In Excel choose File > "
        "Save As, pick Excel Workbook (.xlsx) or CSV UTF-8, and import that file",
    ),
    (b"%PDF", "is a PDF, not a spreadsheet; import the spreadsheet the PDF was made from"),
    (b"\x89PNG", "is a picture (PNG), not a spreadsheet"),
    (b"\xff\xd8\xff", "is a picture (JPEG), not a spreadsheet"),
    (b"{\\rtf", "is a Rich Text document; save the table from it as CSV UTF-8 and import that"),
)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def open_table(
    path: str | Path,
    *,
    sheet: str | None = None,
    headings: frozenset[str] = frozenset(),
    limits: ImportLimits = ImportLimits(),  # noqa: B008 (frozen, so one shared default is safe)
) -> Table:
    """Open an import file; ImportFileError (to be read after the file name) when we cannot.

    `sheet` picks a workbook sheet or a GeoPackage or zipped-shapefile layer; `headings` are
    extra normalised headings (from a mapping file) that help find the heading row; a file
    over one of the `limits` is refused.
    """
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(8192)
    except OSError as e:
        raise ImportFileError(f"cannot be opened ({e.strerror})") from None
    if not head:
        raise ImportFileError(
            "is empty (0 bytes). Check that the spreadsheet was saved before it was exported, "
            "and choose the file again"
        )
    for magic, message in _REFUSED_MAGIC:
        if head.startswith(magic):
            raise ImportFileError(message)
    if head.startswith(_ZIP_MAGIC):
        return _open_zip(path, sheet, headings, limits)
    limits.check_size(path)
    if head.startswith(_SQLITE_MAGIC):
        return gis.read_gdal(path, "GeoPackage", sheet, limits=limits)
    if path.suffix.lower() in _SHAPEFILE_PARTS:
        raise ImportFileError(
            "is one part of a shapefile. Put the .shp, .shx, .dbf and .prj files together in one "
            ".zip file and import the .zip"
        )
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(
            "is not a spreadsheet, CSV or GIS file we can read (it holds binary data). Export "
            "the data as CSV UTF-8, Excel Workbook (.xlsx), GeoJSON or GeoPackage"
        )
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith((b"{", b"[")):
        document = gis.load_json(path, limits)
        if gis.is_geojson(document):
            return gis.geojson_table(document, limits)
        if openreferral.is_services(document):
            return openreferral.services_table(document, limits)
        return json_records.records_table(document, limits)
    return read_csv(path, headings, limits)


def _open_zip(
    path: Path, sheet: str | None, headings: frozenset[str], limits: ImportLimits
) -> Table:
    names = [info.filename for info in limits.check_archive(path)]
    if openreferral.is_package(names):
        return openreferral.package_table(path, limits)
    if "xl/workbook.xml" in names:
        return read_xlsx(path, sheet, headings, limits)
    shapefiles = [n for n in names if n.lower().endswith(".shp") and not n.startswith("__MACOSX")]
    if shapefiles:
        return gis.read_zipped_shapefile(path, shapefiles, names, sheet, limits)
    opendocument = False
    if "mimetype" in names:
        try:
            with zipfile.ZipFile(path) as archive, archive.open("mimetype") as member:
                opendocument = b"opendocument.spreadsheet" in member.read(200)
        except ZIP_READ_ERRORS:
            raise ImportFileError(DAMAGED_ZIP) from None
    if opendocument:
        raise ImportFileError(
            "is an OpenDocument spreadsheet (.ods). Save it as Excel Workbook (.xlsx) or CSV "
            "UTF-8 and import that file"
        )
    if "word/document.xml" in names:
        raise ImportFileError("is a Word document, not a spreadsheet; put the table in a sheet")
    raise ImportFileError(
        "is a zip file without a workbook or a shapefile in it. Import the spreadsheet itself, "
        "or zip the .shp, .shx, .dbf and .prj files of one shapefile together"
    )


# ---------------------------------------------------------------------------------------------
# Finding the heading row
# ---------------------------------------------------------------------------------------------


def _is_blank(cells: list) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def find_headings(
    rows: Iterator[tuple[int, list]], headings: frozenset[str], unit_notes: list[str]
) -> tuple[list[str], Iterator[tuple[int, list]]]:
    """The heading row and the rows after it.

    The heading row is the first of the first few rows with two headings we recognise (so a
    title such as "Trafford asset audit 2024" above the table is skipped, and said so), or
    else the first row with anything in it. Blank rows above it are skipped silently.
    """

    def known(cells: list) -> int:
        return sum(1 for c in cells if c is not None and is_known_heading(str(c), headings))

    seen: list[tuple[int, list]] = []
    chosen = None
    for number, cells in rows:
        seen.append((number, cells))
        if known(cells) >= 2:
            chosen = len(seen) - 1
            break
        if len(seen) >= HEADER_LOOKAHEAD:
            break
    if chosen is None:
        chosen = next((i for i, (_, cells) in enumerate(seen) if not _is_blank(cells)), None)
    if chosen is None:
        return [], iter(())
    skipped = [(n, cells) for n, cells in seen[:chosen] if not _is_blank(cells)]
    if skipped:
        first = " ".join(str(c) for c in skipped[0][1] if c is not None and str(c).strip())
        rows_words = (
            f"Row {skipped[0][0]}"
            if len(skipped) == 1
            else "Rows " + ", ".join(str(n) for n, _ in skipped)
        )
        unit_notes.append(
            f"{rows_words} (“{shown_value(first, 40)}”) came above the column headings in row "
            f"{seen[chosen][0]} and {'was' if len(skipped) == 1 else 'were'} not imported."
        )
    header_cells = [("" if c is None else str(c)).strip() for c in seen[chosen][1]]
    while header_cells and not header_cells[-1]:
        header_cells.pop()

    def rest() -> Iterator[tuple[int, list]]:
        yield from seen[chosen + 1 :]
        yield from rows

    return header_cells, rest()


def _source_rows(numbered: Iterator[tuple[int, list]]) -> Iterator[SourceRow]:
    for number, cells in numbered:
        yield SourceRow(number, cells)


# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------


def read_csv(
    path: Path,
    headings: frozenset[str] = frozenset(),
    limits: ImportLimits = ImportLimits(),  # noqa: B008 (frozen)
) -> Table:
    """A CSV (or tab-separated text) file in whichever encoding and delimiter it uses.

    The file is read through once before its table is returned, checking every row against
    the limits (csv reads a megabyte in a few milliseconds; cleaning a row takes far longer)
    and taking its measure (see CsvShape): how many cells each row has, which columns hold
    numbers or postcodes, and how many lines the rows take. Rows whose cells are out of line
    with the headings are then rejected with the likely cause, and the format line says how
    many records the file holds on how many lines when the two differ.
    """
    encoding = text.detect_encoding(path)
    stream = text.open_text(path, encoding)
    shape = CsvShape()
    try:
        sample = stream.read(text.SAMPLE_CHARS)
        stream.seek(0)
        delimiter = text.sniff_delimiter(sample)
        for _, cells in _numbered_csv(stream, delimiter, limits, shape):
            shape.measure(cells)
        stream.seek(0)
    except UnicodeDecodeError:
        stream.close()
        raise ImportFileError(
            "is not text in any encoding we know; save it as CSV UTF-8 and import it again"
        ) from None
    except BaseException:
        stream.close()
        raise
    notes = [encoding.note] if encoding.note else []
    headers, rows = find_headings(_numbered_csv(stream, delimiter, limits), headings, notes)
    if not headers:
        stream.close()
        raise ImportFileError(
            "has nothing in it but blank lines. Check that the spreadsheet was saved before it "
            "was exported, and choose the file again"
        )
    first = next(rows, None)
    heading_row = first[0] - 1 if first is not None else shape.records
    rows = itertools.chain([first] if first is not None else [], rows)
    description = (
        f"CSV file, {encoding.label}, {text.DELIMITER_WORDS[delimiter]}-separated"
        if delimiter != "\t"
        else f"Tab-separated text file, {encoding.label}"
    )
    records, lines = shape.records_and_lines(heading_row)
    if records != lines:
        description += f", {_count(records, 'record')} on {_count(lines, 'line')}"
    if note := shape.bare_returns_note(heading_row):
        notes.append(note)
    checked = shape.out_of_line(rows, len(headers), heading_row, headers)
    return Table(description, headers, checked, notes=notes, close=stream.close)


def _count(n: int, unit: str) -> str:
    return f"{n:,} {unit if n == 1 else unit + 's'}"


def _numbered_csv(
    stream, delimiter: str, limits: ImportLimits, shape: CsvShape | None = None
) -> Iterator[tuple[int, list]]:
    lines = _CountedLines(text.RecordLines(stream, limits.row_chars))
    number = 0
    try:
        for number, cells in enumerate(csv.reader(lines, delimiter=delimiter), start=1):  # noqa: B007 (used in except)
            lines.next_record()
            if shape is not None:
                shape.record_lines(lines)
            limits.check_row(number, cells)
            yield number, cells
    except text.RecordTooLong:
        raise ImportFileError(
            f"has more than {limits.row_chars:,} characters in row {number + 1}, more than "
            f"{limits.max_columns:,} columns of {limits.cell_chars:,} characters could hold "
            "(the ASSETMAP_IMPORT_MAX_COLUMNS and ASSETMAP_IMPORT_MAX_CELL_KB settings). A quote "
            'mark (") that is never closed makes the rest of a file one cell: check that row, '
            "and save the file again as CSV UTF-8"
        ) from None
    except csv.Error as e:
        raise ImportFileError(
            f"cannot be read after row {number}: {e}. Open it in a spreadsheet, check that row, "
            "and save it again as CSV UTF-8"
        ) from None
    except UnicodeDecodeError:
        raise ImportFileError(
            f"changes encoding after row {number}; save it as CSV UTF-8 and import it again"
        ) from None


class _CountedLines(Iterator[str]):
    """The lines csv.reader reads, counted as a text editor counts them.

    The stream is opened with newline="", so a carriage return alone (\r) ends a line as
    \n and \r\n do, and csv (like Excel) takes one outside quotes as the end of a row. Text
    editors, and people counting records, see a line only at each \n. So the lines of each
    record are counted at \n, and a record that ends at a \r alone is marked, since it was
    most likely cut there from the one that follows.
    """

    def __init__(self, lines: text.RecordLines):
        self.lines = lines
        self.newlines = 0  # \n (or \r\n) read in the record so far
        self.last = ""

    def next_record(self) -> None:
        self.lines.next_record()

    def take_newlines(self) -> int:
        n, self.newlines = self.newlines, 0
        return n

    def __next__(self) -> str:
        line = next(self.lines)
        self.last = line
        if line.endswith("\n"):
            self.newlines += 1
        return line


# Cells that hold a code: a plain number (a latitude, an easting, an age, a phone number with
# no spaces) or a postcode.
_CODE = re.compile(r"[-+]?\d+(?:[.,]\d+)?|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}", re.IGNORECASE)
# A column is taken to hold codes when at least this many of its cells do, and at least this
# many times as many as hold web addresses or long text.
_CODED_AT_LEAST = 3
_CODED_TIMES = 3
# What each column holds is learnt from the first rows only: it costs a regular expression a
# cell, and a few thousand rows say it as well as all of them.
_PROFILED_ROWS = 5_000

_QUOTE_THEM = (
    "Put quotes around cells that hold line breaks or commas, or export the file again as CSV "
    "UTF-8, and import it again"
)


class CsvShape:
    """The measure of a CSV taken in the read before its rows are used, to find rows whose
    cells are out of line with the headings.

    A spreadsheet writes every row with the same number of cells. When a cell holding a line
    break is not in quotes (often text converted from JSON by hand, or a carriage return
    alone), csv and Excel end the row there and the rest becomes a row of its own: two short
    rows, the second with its cells under the wrong headings (a web address in the latitude
    column). A comma not in quotes makes a row longer than the others. Each is rejected as out
    of line, saying which row it may belong with. Kept per row: the number of cells, the
    number up to the last one with something in it, whether the row ended at a carriage return
    alone, and the lines it took; kept per column: how many cells hold codes (numbers,
    postcodes) and how many hold web addresses or long text, so that a row whose code column
    suddenly holds a web address is out of line too.
    """

    def __init__(self) -> None:
        self.widths = array("I")
        self.filled = array("I")
        self.lines = array("I")
        self.bare_return = bytearray()
        self.coded: list[int] = []
        self.odd: list[int] = []
        self.newlines = 0
        self.ends_with_newline = True

    @property
    def records(self) -> int:
        return len(self.widths)

    def record_lines(self, lines: _CountedLines) -> None:
        newlines = lines.take_newlines()
        self.newlines += newlines
        ends_in_return = lines.last.endswith("\r")
        self.lines.append(newlines)
        self.bare_return.append(1 if ends_in_return else 0)
        self.ends_with_newline = lines.last.endswith("\n")

    def measure(self, cells: list) -> None:
        width = len(cells)
        filled = width
        while filled and not cells[filled - 1].strip():
            filled -= 1
        self.widths.append(width)
        self.filled.append(filled)
        if len(self.widths) > _PROFILED_ROWS:
            return  # the columns' kinds are known by now; the widths are kept for every row
        if len(self.coded) < filled:
            grow = filled - len(self.coded)
            self.coded.extend([0] * grow)
            self.odd.extend([0] * grow)
        for index in range(filled):
            cell = cells[index]
            if not cell:
                continue
            if len(cell) <= 12 and _CODE.fullmatch(cell.strip()):
                self.coded[index] += 1
            elif odd_for_a_code(cell):
                self.odd[index] += 1

    def _mac_lines(self) -> bool:
        """Whether the file ends every line with a carriage return alone (old Macs did)."""
        return self.newlines == 0

    def records_and_lines(self, heading_row: int) -> tuple[int, int]:
        """How many records come below the heading row, and on how many lines of the file
        (as a text editor counts them)."""
        records = self.records - heading_row
        if self._mac_lines():
            return records, records
        lines = sum(self.lines[heading_row:])
        if records and not self.ends_with_newline:
            lines += 1  # the last line has no \n after it
        return records, lines

    def bare_returns_note(self, heading_row: int) -> str | None:
        if self._mac_lines():
            return None
        cut = sum(self.bare_return[heading_row:])
        if self.bare_return and self.bare_return[-1]:
            cut -= 1  # a return at the very end of the file ends it, it cuts nothing
        if cut <= 0:
            return None
        return (
            f"{_count(cut, 'row')} ended at a carriage return alone (\\r) inside a line, which "
            "csv and Excel read as the end of a row, though text editors do not show a new line "
            "there. If the returns were inside cells, the rows around them are out of line: "
            f"{_QUOTE_THEM.replace('Put', 'put', 1)}."
        )

    def out_of_line(
        self, rows: Iterator[tuple[int, list]], headings: int, heading_row: int, headers: list
    ) -> Iterator[SourceRow]:
        """The rows below the heading row, each out of line marked with a problem."""
        typical = self._typical_width(heading_row, headings)
        expected = max(headings, typical)
        padded = typical >= headings
        coded = {
            i
            for i in range(min(len(self.coded), headings))
            if self.coded[i] >= _CODED_AT_LEAST and self.coded[i] >= _CODED_TIMES * self.odd[i]
        }
        widths, filled = self.widths, self.filled

        def short(number: int) -> bool:
            i = number - 1
            return (
                0 <= i < len(widths)
                and number > heading_row
                and bool(filled[i])
                and widths[i] < headings
            )

        def long(number: int) -> bool:
            i = number - 1
            return (
                0 <= i < len(widths)
                and number > heading_row
                and widths[i] > expected
                and filled[i] > headings
            )

        def cut_after(number: int) -> bool:
            """Whether row `number` and the next are most likely one row cut in two: the next
            is short, the two together have no more cells than a row should, and either every
            row should be full (Excel writes every cell of every row) or this one ended at a
            carriage return alone. (A file written by hand often leaves empty last cells out,
            so there two short rows are nothing strange.)"""
            i = number - 1
            if not (heading_row < number < len(widths)) or not filled[i] or not filled[i + 1]:
                return False
            return (
                short(number + 1)
                and widths[i] + widths[i + 1] - 1 <= expected
                and (padded or bool(self.bare_return[i]))
            )

        last = len(widths)
        for number, cells in rows:
            i = number - 1
            if i >= last or not filled[i]:
                yield SourceRow(number, cells)  # a blank row
                continue
            if headings <= widths[i] <= expected and not (number < last and short(number + 1)):
                # A row of the usual width, not followed by a short one: most rows.
                yield SourceRow(number, cells, problem=_odd_cell(cells, coded, headers))
                continue
            cells_words = f"has {_count(widths[i], 'cell')} where the headings have {headings}"
            problem = None
            if cut_after(number - 1):
                problem = (
                    f"is out of line: it {cells_words}. It may be the rest of row "
                    f"{number - 1}, cut off by a line break{self._which_break(i - 1)} in a "
                    f"cell that is not in quotes. {_QUOTE_THEM}"
                )
            elif cut_after(number):
                problem = (
                    f"is out of line: it {cells_words}. Row {number + 1} may be the rest of "
                    f"it, cut off by a line break{self._which_break(i)} in a cell that is not "
                    f"in quotes. {_QUOTE_THEM}"
                )
            elif short(number) and padded:
                problem = (
                    f"is out of line: it {cells_words}, so its cells may be under the wrong "
                    "headings (a line break in a cell that is not in quotes cuts a row in two). "
                    f"{_QUOTE_THEM}"
                )
            elif long(number):
                problem = (
                    f"is out of line: it {cells_words} and the other rows {typical}, so its "
                    "cells may be under the wrong headings (a comma in a cell that is not in "
                    f"quotes splits it in two). {_QUOTE_THEM}"
                )
            yield SourceRow(number, cells, problem=problem or _odd_cell(cells, coded, headers))

    def _which_break(self, index: int) -> str:
        """Words for the line break that ended row `index` + 1, when it was a return alone."""
        return " (a carriage return alone, \\r)" if self.bare_return[index] else ""

    def _typical_width(self, heading_row: int, headings: int) -> int:
        """The number of cells most rows below the headings have; of equally common numbers,
        the number of headings if it is one of them, or else the largest."""
        counts: dict[int, int] = {}
        for width, filled in zip(self.widths[heading_row:], self.filled[heading_row:], strict=True):
            if filled:
                counts[width] = counts.get(width, 0) + 1
        if not counts:
            return 0
        return max(counts, key=lambda w: (counts[w], w == headings, w))


def _odd_cell(cells: list, coded: set[int], headers: list) -> str | None:
    """The problem of a row whose column of numbers or postcodes holds a web address or text."""
    for index in sorted(coded):
        if index < len(cells) and (what := odd_for_a_code(cells[index])):
            heading = headers[index] if index < len(headers) and headers[index] else ""
            column = f"column {column_letter(index)}" + (f" ({heading})" if heading else "")
            return (
                f"is out of line: {column} holds {what} ('{shown_value(cells[index], 40)}') "
                "where its other rows hold numbers or postcodes, so the row's cells have "
                "probably moved under the wrong headings (a line break or comma in an earlier "
                f"cell that is not in quotes does that). {_QUOTE_THEM}"
            )
    return None


# ---------------------------------------------------------------------------------------------
# Excel workbooks
# ---------------------------------------------------------------------------------------------


def read_xlsx(
    path: Path,
    sheet: str | None,
    headings: frozenset[str] = frozenset(),
    limits: ImportLimits = ImportLimits(),  # noqa: B008 (frozen)
) -> Table:
    """One sheet of an Excel workbook: the first visible one unless `sheet` names another.

    The workbook is read twice in streaming mode: once for the values Excel saved and once for
    the formulas, so that a formula whose result was never saved (files written by some tools)
    is reported rather than read as empty; the two share one list of the workbook's texts.
    Its parts are checked first (see _check_parts), and the sheet's rows and columns are
    counted in its XML before the first row is read (see _scan_sheet).
    """
    _check_parts(path, limits)
    values_book, formula_book, strings, close = _open_workbooks(path)
    longest = max((len(s) for s in strings if isinstance(s, str)), default=0)
    if longest > limits.cell_chars:
        close()
        raise limits.cell_too_big(longest, "in the workbook's list of texts")
    names = values_book.sheetnames
    visible = [ws.title for ws in values_book.worksheets if ws.sheet_state == "visible"]
    if sheet:
        chosen = next((n for n in names if n == sheet), None) or next(
            (n for n in names if n.casefold() == sheet.strip().casefold()), None
        )
        if chosen is None:
            close()
            raise ImportFileError(
                f"has no sheet called “{sheet}”; its sheets are " + ", ".join(names)
            )
    elif visible:
        chosen = visible[0]
    else:
        close()
        raise ImportFileError("has no worksheet with a table in it")
    notes = []
    if len(names) > 1 and not sheet:
        notes.append(
            f"The workbook has {len(names)} sheets ({', '.join(names)}); only the first, "
            f"“{chosen}”, was imported. To import another, give its name as the sheet to import."
        )
    values_sheet, formula_sheet = values_book[chosen], formula_book[chosen]
    # A sheet says how big it is, and some tools that write workbooks say it wrong (too small,
    # or just "A1"); streaming mode believes it, and would read only part of the table.
    values_sheet.reset_dimensions()
    formula_sheet.reset_dimensions()
    try:
        merged, hidden = _scan_sheet(path, getattr(values_sheet, "_worksheet_path", None), limits)
    except BaseException:
        close()
        raise
    if hidden:
        shown = ", ".join(str(n) for n in hidden[:10]) + (
            f" and {len(hidden) - 10} more" if len(hidden) > 10 else ""
        )
        one = len(hidden) == 1
        notes.append(
            f"{'Row' if one else 'Rows'} {shown} {'is' if one else 'are'} hidden in the workbook "
            f"(or filtered out), and {'was' if one else 'were'} read like the others. If "
            f"{'it' if one else 'they'} should not be imported, delete {'it' if one else 'them'} "
            "from the sheet."
        )
    if merged:
        shown = ", ".join(_range_words(m) for m in merged[:5])
        more = f" and {len(merged) - 5} more" if len(merged) > 5 else ""
        notes.append(
            f"Some cells are merged down over several rows ({shown}{more}); each of those rows "
            "was given the merged cell's value, as Excel shows it."
        )
    rows = _numbered_xlsx(values_sheet, formula_sheet, merged, limits)
    try:
        headers, rest = find_headings(rows, headings, notes)
    except BaseException:
        close()
        raise
    if not headers:
        close()
        raise ImportFileError(
            f"has nothing in its sheet “{chosen}”. Put the table in the first sheet, or give the "
            "name of the sheet that holds it"
        )
    return Table(
        f"Excel workbook, sheet “{chosen}”",
        headers,
        _source_rows(rest),
        notes=notes,
        close=close,
    )


_UNREADABLE_WORKBOOK = (
    "could not be opened as an Excel workbook: it may be damaged or protected with a "
    "password. Open it in Excel, remove any password, save it again as .xlsx and import "
    "the new file"
)
_DOCUMENT_TYPE = (
    "holds XML with a document type declaration (<!DOCTYPE> or <!ENTITY>), which Excel never "
    "writes and which can make a small file expand without end, so it was not read. Open it in "
    "Excel, save it again as .xlsx, and import the new file"
)


def _hostile_xml(error: BaseException | None) -> bool:
    """Whether defusedxml refused the XML (an entity or DTD), however openpyxl wrapped it."""
    from defusedxml import DefusedXmlException

    while error is not None:
        if isinstance(error, DefusedXmlException):
            return True
        error = error.__cause__ or error.__context__
    return False


def _open_workbooks(path: Path):
    """The workbook for its saved values and for its formulas, its texts, and a close().

    openpyxl reads a workbook's shared strings (its list of every text in its cells) whole and
    slowly, so the formulas' reader is given the list the values' reader read. openpyxl parses
    XML with defusedxml, which refuses entities and external references.
    """
    from openpyxl.reader.excel import ExcelReader

    class SharingStrings(ExcelReader):
        def __init__(self, handle, strings: list, **options):
            super().__init__(handle, **options)
            self.given_strings = strings

        def read_strings(self) -> None:
            self.shared_strings = self.given_strings

    # Opened as file objects: openpyxl refuses a path whose name does not end in .xlsx, and a
    # workbook is a workbook whatever it is called.
    handles = [path.open("rb"), path.open("rb")]
    options = {"read_only": True, "keep_links": False}
    try:
        values = ExcelReader(handles[0], data_only=True, **options)
        values.read()
        formulas = SharingStrings(handles[1], values.shared_strings, data_only=False, **options)
        formulas.read()
    except Exception as e:  # openpyxl raises many kinds for damaged or encrypted files
        for handle in handles:
            handle.close()
        raise ImportFileError(_DOCUMENT_TYPE if _hostile_xml(e) else _UNREADABLE_WORKBOOK) from None

    def close() -> None:
        values.wb.close()
        formulas.wb.close()
        for handle in handles:
            handle.close()

    return values.wb, formulas.wb, values.shared_strings, close


_SPREADSHEETML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_SHARED_STRINGS_TYPE = f"{_SPREADSHEETML}.sharedStrings+xml"
_WORKSHEET_TYPE = f"{_SPREADSHEETML}.worksheet+xml"
_WORKBOOK_TYPES = {
    f"{_SPREADSHEETML}.sheet.main+xml",
    f"{_SPREADSHEETML}.template.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
}
# Parts openpyxl reads whole by their fixed names, whatever else claims them.
_READ_WHOLE = {
    "[Content_Types].xml",
    "_rels/.rels",
    "xl/styles.xml",
    "docProps/core.xml",
    "docProps/custom.xml",
}
# Parts openpyxl never parses in streaming mode, so they are not scanned for XML.
_NOT_XML = (
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".bmp",
    ".tif",
    ".tiff",
    ".emf",
    ".wmf",
    ".svg",
    ".bin",
)
_STRING_ITEM = re.compile(rb"<(?:\w+:)?si[\s/>]")


def _check_parts(path: Path, limits: ImportLimits) -> None:
    """Refuse a workbook whose parts openpyxl would take too long or too much memory to read.

    The zip as a whole has been checked (ImportLimits.check_archive). Its worksheets are read
    a row at a time and its shared strings a text at a time, so they may be as big as the
    limit allows; the texts are counted, since openpyxl keeps them all. Every other part is
    parsed whole, into a tree ten times its size, so it gets a tenth. Each part is read through
    once (which also checks its CRC: a part longer than the zip says is refused), looking for a
    document type declaration, the way to an entity expansion ("billion laughs").
    """
    try:
        with zipfile.ZipFile(path) as book:
            streamed, string_parts = _streamed_parts(book, limits)
            strings = 0
            for info in book.infolist():
                name = info.filename
                if name not in streamed and info.file_size > limits.whole_part_bytes:
                    raise ImportFileError(
                        f"holds a part, {name}, that unpacks to {_mb(info.file_size)} and is "
                        f"read whole; the most such a part may hold is "
                        f"{_mb(limits.whole_part_bytes)}, a tenth of the "
                        "ASSETMAP_IMPORT_MAX_UNCOMPRESSED_MB setting. Open the file in Excel, "
                        "save it again as .xlsx, and import the new file"
                    )
                if info.is_dir() or name.lower().endswith(_NOT_XML):
                    continue
                with book.open(info) as part:
                    for window, cut in _windows(part):
                        if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                            raise ImportFileError(_DOCUMENT_TYPE)
                        if name in string_parts:
                            strings += sum(
                                1 for m in _STRING_ITEM.finditer(window) if m.start() < cut
                            )
                            if strings > limits.shared_strings:
                                raise ImportFileError(
                                    f"lists more than {limits.shared_strings:,} different "
                                    "texts for its cells; the most an import reads is "
                                    f"{limits.shared_strings:,}, five for each of the "
                                    f"{limits.max_rows:,} rows of the ASSETMAP_IMPORT_MAX_ROWS "
                                    "setting. Split the workbook into smaller ones and import "
                                    "them one by one"
                                )
    except ZIP_READ_ERRORS:
        raise ImportFileError(DAMAGED_ZIP) from None


def _streamed_parts(book: zipfile.ZipFile, limits: ImportLimits) -> tuple[set[str], set[str]]:
    """The parts openpyxl reads a bit at a time, and of those the shared strings.

    They are found as openpyxl finds them: the shared strings by their content type in
    [Content_Types].xml, the worksheets from the workbook's relationships. A part that also
    has another role, in which openpyxl reads it whole, is not one of them.
    """
    types: dict[str, str] = {}
    content_types = _small_xml(book, "[Content_Types].xml", limits)
    for element in content_types.iter() if content_types is not None else ():
        if _local(element.tag) == "Override":
            types[element.get("PartName", "").lstrip("/")] = element.get("ContentType", "")
    workbook = next((p for p, kind in types.items() if kind in _WORKBOOK_TYPES), "xl/workbook.xml")
    folder, name = posixpath.split(workbook)
    relationships = posixpath.join(folder, "_rels", f"{name}.rels")
    sheets: set[str] = set()
    whole = _READ_WHOLE | {workbook, relationships}
    whole |= {p for p, kind in types.items() if kind not in (_SHARED_STRINGS_TYPE, _WORKSHEET_TYPE)}
    rels = _small_xml(book, relationships, limits)
    for element in rels.iter() if rels is not None else ():
        if _local(element.tag) != "Relationship" or element.get("TargetMode") == "External":
            continue
        target = element.get("Target", "")
        if target.startswith("/"):
            target = target[1:]
        else:
            target = posixpath.normpath(posixpath.join(folder, target))
        kind = element.get("Type", "")
        if kind.endswith("/worksheet"):
            sheets.add(target)
        elif not kind.endswith("/sharedStrings"):
            whole.add(target)
    strings = {p for p, kind in types.items() if kind == _SHARED_STRINGS_TYPE}
    return (sheets | strings) - whole, strings - whole


def _small_xml(book: zipfile.ZipFile, name: str, limits: ImportLimits):
    """A part that is read whole, parsed (None when the workbook has no such part)."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        info = book.getinfo(name)
    except KeyError:
        return None
    if info.file_size > limits.whole_part_bytes:
        raise ImportFileError(
            f"holds a part, {name}, of {_mb(info.file_size)}, where Excel writes a few "
            "kilobytes. Open the file in Excel, save it again as .xlsx, and import the new file"
        )
    try:
        return fromstring(book.read(info))
    except DefusedXmlException:
        raise ImportFileError(_DOCUMENT_TYPE) from None
    except ParseError:
        raise ImportFileError(_UNREADABLE_WORKBOOK) from None


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MB"


def _windows(stream, overlap: int = 1024) -> Iterator[tuple[bytes, int]]:
    """A stream a megabyte at a time, each window with the offset before which a match found
    in it is new: the last `overlap` bytes come again at the start of the next window, so that
    a tag cut in two is found whole (in the next), and none is counted twice."""
    tail = b""
    while chunk := stream.read(1 << 20):
        window = tail + chunk
        cut = max(len(window) - overlap, 0)
        yield window, cut
        tail = window[cut:]
    if tail:
        yield tail, len(tail)


def _numbered_xlsx(
    values_sheet,
    formula_sheet,
    merged: list[tuple[int, int, int]] = (),
    limits: ImportLimits = ImportLimits(),  # noqa: B008 (frozen)
) -> Iterator[tuple[int, list]]:
    """The sheet's rows by number, with formulas whose result was not saved marked, the value
    of a cell merged down given to each row under it, and no empty cells at the end (cells
    that are only formatted, which Excel does not show as part of the table). Each row is
    checked against the limits, and what openpyxl raises for a damaged sheet is refused."""
    values_rows = values_sheet.iter_rows(values_only=True)
    formulas = formula_sheet.iter_rows()
    filling: dict[int, tuple[int, object]] = {}  # column -> (last row, value) of a merged cell
    starts: dict[int, list[tuple[int, int]]] = {}  # row -> [(column, last row)] merged from it
    for column, first, last in merged:
        starts.setdefault(first, []).append((column, last))
    number = 0
    while True:
        try:
            values = next(values_rows, None)
            formula_cells = next(formulas, ())
        except Exception as e:  # the XML, the zip or a cell's contents, in many ways
            if _hostile_xml(e):
                raise ImportFileError(_DOCUMENT_TYPE) from None
            raise ImportFileError(
                f"could not be read after row {number}: the sheet is damaged. Open the file "
                "in Excel, save it again as .xlsx, and import the new file"
            ) from None
        if values is None:
            return
        number += 1
        cells = list(values)
        for i, cell in enumerate(formula_cells):
            if getattr(cell, "data_type", None) == "f" and i < len(cells) and cells[i] is None:
                cells[i] = Formula(str(cell.value))
        if filling or number in starts:
            for column, last in starts.pop(number, ()):
                if column < len(cells) and cells[column] is not None:
                    filling[column] = (last, cells[column])
            for column, (last, value) in list(filling.items()):
                if number > last:
                    del filling[column]
                    continue
                cells.extend([None] * (column + 1 - len(cells)))
                if cells[column] is None:
                    cells[column] = value
        while cells and cells[-1] is None:
            cells.pop()
        limits.check_row(number, cells)
        yield number, cells


_MERGED_RANGE = re.compile(
    rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]{1,3})([0-9]+):([A-Z]{1,3})([0-9]+)"'
)


_ROW_TAG = re.compile(rb"<(?:\w+:)?row\b([^>]*)>")
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_HIDDEN = re.compile(rb'\bhidden="(?:1|true)"')


_CELL_REFERENCE = re.compile(rb'\br="([A-Z]+[0-9]+)"')


@functools.lru_cache(maxsize=8)
def _long_text(chars: int) -> re.Pattern:
    """A cell's text or value of more than `chars` bytes (so perhaps that many characters)."""
    return re.compile(rb"<(?:\w+:)?[tv]\b[^>]*>([^<]{%d,})" % (chars + 1))


@functools.lru_cache(maxsize=8)
def _cells_beyond(columns: int) -> re.Pattern:
    """A cell with a value (not just formatting) in a column beyond the first `columns`."""
    last = column_letter(columns - 1)
    beyond = [f"[A-Z]{{{len(last) + 1},}}"]
    for i, letter in enumerate(last):
        if letter != "Z":
            beyond.append(f"{last[:i]}[{chr(ord(letter) + 1)}-Z][A-Z]{{{len(last) - i - 1}}}")
    return re.compile(
        rb'\sr="((?:' + "|".join(beyond).encode() + rb')\d+)"[^>]*>\s*<(?:\w+:)?(?:v|f|is)\b'
    )


def _scan_sheet(
    path: Path, sheet_path: str | None, limits: ImportLimits
) -> tuple[list[tuple[int, int, int]], list[int]]:
    """The sheet's cells merged down over several rows of one column, as (column index, first
    row, last row), and its hidden rows' numbers. Streaming mode reads neither, so the sheet's
    XML is scanned for them, a megabyte at a time; the scan also counts its rows and looks for
    a value beyond the column limit and a text over the cell limit, so that a sheet over one is
    refused before the first row is read. (The rows' own checks are exact; this one may miss a
    long text of characters of several bytes each, which they then refuse.)"""
    if not sheet_path:
        return [], []
    from openpyxl.utils.cell import column_index_from_string

    found = []
    hidden: set[int] = set()
    rows = last_row = 0
    beyond = _cells_beyond(limits.max_columns)
    long_text = _long_text(limits.cell_chars)
    try:
        with zipfile.ZipFile(path) as book, book.open(sheet_path.lstrip("/")) as sheet:
            for window, cut in _windows(sheet, overlap=limits.cell_chars + 1024):
                for match in _MERGED_RANGE.finditer(window):
                    first_column, first, last_column, last = match.groups()
                    if first_column == last_column and int(last) > int(first):
                        column = column_index_from_string(first_column.decode()) - 1
                        found.append((column, int(first), int(last)))
                for match in _ROW_TAG.finditer(window):
                    if match.start() >= cut:
                        break
                    rows += 1
                    if n := _ROW_NUMBER.search(match.group(1)):
                        last_row = max(last_row, int(n.group(1)))
                        if _HIDDEN.search(match.group(1)):
                            hidden.add(int(n.group(1)))
                if max(rows, last_row) > limits.max_rows:
                    raise limits.too_many_rows()
                if wide := beyond.search(window):
                    reference = wide.group(1).decode()
                    letters = reference.rstrip("0123456789")
                    raise limits.too_many_columns(
                        column_index_from_string(letters) if len(letters) <= 3 else 18_279,
                        f"a value in cell {reference}",
                    )
                for match in long_text.finditer(window):
                    chars = len(html.unescape(match.group(1).decode("utf-8", "ignore")))
                    if chars > limits.cell_chars:
                        start = window.rfind(b"<c ", 0, match.start())
                        cell = _CELL_REFERENCE.search(window, start) if start >= 0 else None
                        where = f"cell {cell.group(1).decode()}" if cell else "in the sheet"
                        cut_off = match.end() == len(window)  # the text goes on
                        raise limits.cell_too_big(None if cut_off else chars, where)
    except (KeyError, OSError, zipfile.BadZipFile):
        return [], []
    return sorted(set(found), key=lambda m: (m[1], m[0])), sorted(hidden)


def _range_words(merged: tuple[int, int, int]) -> str:
    from openpyxl.utils.cell import get_column_letter

    column, first, last = merged
    letter = get_column_letter(column + 1)
    return f"{letter}{first}:{letter}{last}"


def batched(rows: Iterable, size: int) -> Iterator[list]:
    """Rows in lists of `size`, the last one shorter (itertools.batched, from Python 3.12)."""
    batch: list = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
