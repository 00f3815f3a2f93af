"""Opening an import file of any kind we accept, as headings and a stream of rows.

The kind is recognised from the file's first bytes, not its name: audits arrive as ".csv"
files that are really workbooks, and as ".xlsx" files that are really CSV. Files we cannot
read (an old .xls, a PDF, random bytes) are refused with what to do instead. Rows are read one
at a time, so a large CSV or workbook never sits in memory whole; GIS files are read whole by
GDAL, which is fine at the sizes asset layers come in.

Row numbers are the ones the spreadsheet shows: the heading row is row 1 (or lower, when a
title sits above it) and every row below counts, blank ones included.
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assetmap.imports import text
from assetmap.imports.problems import ImportFileError, shown_value

HEADER_LOOKAHEAD = 10


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
    path: str | Path, *, sheet: str | None = None, headings: frozenset[str] = frozenset()
) -> Table:
    """Open an import file; ImportFileError (to be read after the file name) when we cannot.

    `sheet` picks a workbook sheet or a GeoPackage or zipped-shapefile layer; `headings` are
    extra normalised headings (from a mapping file) that help find the heading row.
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
        return _open_zip(path, sheet, headings)
    if head.startswith(_SQLITE_MAGIC):
        from assetmap.imports import gis

        return gis.read_gdal(path, "GeoPackage", sheet)
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
        from assetmap.imports import gis

        return gis.read_geojson(path)
    return read_csv(path, headings)


def _open_zip(path: Path, sheet: str | None, headings: frozenset[str]) -> Table:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            opendocument = "mimetype" in names and b"opendocument.spreadsheet" in archive.read(
                "mimetype"
            )
    except (zipfile.BadZipFile, OSError, KeyError):
        raise ImportFileError(
            "looks like a workbook or zip file but is damaged or incomplete. Open it in Excel "
            "(or unzip it) to check it, save it again, and import the new file"
        ) from None
    if "xl/workbook.xml" in names:
        return read_xlsx(path, sheet, headings)
    shapefiles = [n for n in names if n.lower().endswith(".shp") and not n.startswith("__MACOSX")]
    if shapefiles:
        from assetmap.imports import gis

        return gis.read_zipped_shapefile(path, shapefiles, names, sheet)
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
    from assetmap.imports.columns import is_known_heading

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


def read_csv(path: Path, headings: frozenset[str] = frozenset()) -> Table:
    """A CSV (or tab-separated text) file in whichever encoding and delimiter it uses."""
    encoding = text.detect_encoding(path)
    stream = text.open_text(path, encoding)
    try:
        sample = stream.read(text.SAMPLE_CHARS)
        stream.seek(0)
    except UnicodeDecodeError:
        stream.close()
        raise ImportFileError(
            "is not text in any encoding we know; save it as CSV UTF-8 and import it again"
        ) from None
    delimiter = text.sniff_delimiter(sample)
    notes = [encoding.note] if encoding.note else []
    reader = csv.reader(stream, delimiter=delimiter)
    headers, rows = find_headings(_numbered_csv(reader), headings, notes)
    if not headers:
        stream.close()
        raise ImportFileError(
            "has nothing in it but blank lines. Check that the spreadsheet was saved before it "
            "was exported, and choose the file again"
        )
    description = (
        f"CSV file, {encoding.label}, {text.DELIMITER_WORDS[delimiter]}-separated"
        if delimiter != "\t"
        else f"Tab-separated text file, {encoding.label}"
    )
    return Table(description, headers, _source_rows(rows), notes=notes, close=stream.close)


def _numbered_csv(reader) -> Iterator[tuple[int, list]]:
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):  # noqa: B007 (used in except)
            yield number, cells
    except csv.Error as e:
        raise ImportFileError(
            f"cannot be read after row {number}: {e}. Open it in a spreadsheet, check that row, "
            "and save it again as CSV UTF-8"
        ) from None
    except UnicodeDecodeError:
        raise ImportFileError(
            f"changes encoding after row {number}; save it as CSV UTF-8 and import it again"
        ) from None


# ---------------------------------------------------------------------------------------------
# Excel workbooks
# ---------------------------------------------------------------------------------------------


def read_xlsx(path: Path, sheet: str | None, headings: frozenset[str] = frozenset()) -> Table:
    """One sheet of an Excel workbook: the first visible one unless `sheet` names another.

    The workbook is read twice in streaming mode: once for the values Excel saved and once for
    the formulas, so that a formula whose result was never saved (files written by some tools)
    is reported rather than read as empty.
    """
    import openpyxl

    # Opened as file objects: openpyxl refuses a path whose name does not end in .xlsx, and a
    # workbook is a workbook whatever it is called.
    handles = [path.open("rb"), path.open("rb")]
    try:
        values_book = openpyxl.load_workbook(handles[0], read_only=True, data_only=True)
        formula_book = openpyxl.load_workbook(handles[1], read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for damaged or encrypted files
        for handle in handles:
            handle.close()
        raise ImportFileError(
            "could not be opened as an Excel workbook: it may be damaged or protected with a "
            "password. Open it in Excel, remove any password, save it again as .xlsx and import "
            "the new file"
        ) from None

    def close() -> None:
        values_book.close()
        formula_book.close()
        for handle in handles:
            handle.close()

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
    merged, hidden = _merged_and_hidden(path, getattr(values_sheet, "_worksheet_path", None))
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
    rows = _numbered_xlsx(values_sheet, formula_sheet, merged)
    headers, rest = find_headings(rows, headings, notes)
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


def _numbered_xlsx(
    values_sheet, formula_sheet, merged: list[tuple[int, int, int]] = ()
) -> Iterator[tuple[int, list]]:
    """The sheet's rows by number, with formulas whose result was not saved marked, the value
    of a cell merged down given to each row under it, and no empty cells at the end (cells
    that are only formatted, which Excel does not show as part of the table)."""
    formulas = formula_sheet.iter_rows()
    filling: dict[int, tuple[int, object]] = {}  # column -> (last row, value) of a merged cell
    starts: dict[int, list[tuple[int, int]]] = {}  # row -> [(column, last row)] merged from it
    for column, first, last in merged:
        starts.setdefault(first, []).append((column, last))
    for number, values in enumerate(values_sheet.iter_rows(values_only=True), start=1):
        formula_cells = next(formulas, ())
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
        yield number, cells


_MERGED_RANGE = re.compile(
    rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]{1,3})([0-9]+):([A-Z]{1,3})([0-9]+)"'
)


_ROW_TAG = re.compile(rb"<(?:\w+:)?row\b([^>]*)>")
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_HIDDEN = re.compile(rb'\bhidden="(?:1|true)"')


def _merged_and_hidden(
    path: Path, sheet_path: str | None
) -> tuple[list[tuple[int, int, int]], list[int]]:
    """The sheet's cells merged down over several rows of one column, as (column index, first
    row, last row), and its hidden rows' numbers. Streaming mode reads neither, so the sheet's
    XML is scanned for them, a megabyte at a time."""
    if not sheet_path:
        return [], []
    from openpyxl.utils.cell import column_index_from_string

    found = []
    hidden: set[int] = set()
    try:
        with zipfile.ZipFile(path) as book, book.open(sheet_path.lstrip("/")) as sheet:
            tail = b""  # the end of the last megabyte, in case a range is cut in two
            while chunk := sheet.read(1 << 20):
                window = tail + chunk
                for match in _MERGED_RANGE.finditer(window):
                    first_column, first, last_column, last = match.groups()
                    if first_column == last_column and int(last) > int(first):
                        column = column_index_from_string(first_column.decode()) - 1
                        found.append((column, int(first), int(last)))
                for match in _ROW_TAG.finditer(window):
                    if _HIDDEN.search(match.group(1)) and (n := _ROW_NUMBER.search(match.group(1))):
                        hidden.add(int(n.group(1)))
                tail = window[-200:]
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
