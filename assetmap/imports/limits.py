"""How much of a file an import reads, so that no file can hold a worker's memory or time.

A workbook is a zip of XML, and a zip can unpack to a thousand times its size: a 1 MB upload
can hold a gigabyte of text, or millions of rows. So before anything parses a file, its size
(unpacked, for a workbook or zip) and how far each part of it grows when unpacked are checked
against these limits, from the zip's own directory; while it is read, so are its rows, columns
and cells. A file over a limit is refused at once, in words that follow the file's name like
every ImportFileError, with the limit and how to get under it.

The defaults are the settings' (ASSETMAP_IMPORT_*, in assetmap.settings); `from_settings`
reads the configured ones. Checks that need to know a format (a workbook's parts, a
shapefile's files) are in the readers; the ones here apply to any file.
"""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from assetmap.imports.problems import ImportFileError, column_letter
from assetmap.settings import SETTINGS_BY_NAME

# A workbook has tens of parts and a zipped shapefile a handful; reading a zip's directory
# costs memory for each entry (300,000 entries take 170 MB), so the count is checked first.
MAX_ZIP_MEMBERS = 10_000
# Parts smaller than this unpacked may grow as they like: they cannot hurt.
RATIO_FLOOR_BYTES = 1 << 20
# A shape (a service area, a route) is handed on as GeoJSON, about 100 bytes of memory a point;
# a borough's boundary drawn in full detail has tens of thousands.
MAX_SHAPE_POINTS = 250_000
# A record of a JSON file is read as a row, its nested objects as dotted headings
# ("address.postcode") and its lists as text in one cell. Real exports nest three or four
# levels (a venue, its address, its opening hours, a day's times); a file nested deeper is not
# a list of records, and walking it would cost time for nothing.
MAX_JSON_DEPTH = 12

DAMAGED_ZIP = (
    "looks like a workbook or zip file but is damaged or incomplete. Open it in Excel (or "
    "unzip it) to check it, save it again, and import the new file"
)
# What reading a damaged or hostile member of a zip can raise: a CRC that does not match (a
# member longer than its directory says), bad deflate data, a cut-off file, a compression
# method or encryption that zipfile does not read.
ZIP_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    OSError,
    KeyError,
)

# Each limit, and the setting it comes from (which holds its default).
SETTING_OF_FIELD = {
    "max_rows": "ASSETMAP_IMPORT_MAX_ROWS",
    "max_columns": "ASSETMAP_IMPORT_MAX_COLUMNS",
    "max_cell_kb": "ASSETMAP_IMPORT_MAX_CELL_KB",
    "max_uncompressed_mb": "ASSETMAP_IMPORT_MAX_UNCOMPRESSED_MB",
    "max_ratio": "ASSETMAP_IMPORT_MAX_RATIO",
}


def _default(name: str) -> float:
    return float(SETTINGS_BY_NAME[SETTING_OF_FIELD[name]].default)


@dataclass(frozen=True)
class ImportLimits:
    """The most an import reads of one file (see the settings of the same names)."""

    max_rows: int = int(_default("max_rows"))
    max_columns: int = int(_default("max_columns"))
    max_cell_kb: float = _default("max_cell_kb")
    max_uncompressed_mb: float = _default("max_uncompressed_mb")
    max_ratio: float = _default("max_ratio")

    @classmethod
    def from_settings(cls, config: Mapping[str, object] | None = None) -> ImportLimits:
        """The configured limits: from `config` (the app's config) or else the environment.

        ValueError naming the setting when one is not a positive number (a whole one for rows
        and columns).
        """
        if config is None:
            from assetmap.settings import from_environment

            config = from_environment()
        values = {}
        for f in fields(cls):
            name = SETTING_OF_FIELD[f.name]
            raw = config.get(name)
            if raw is None or raw == "":
                continue
            whole = f.type == "int"
            try:
                value = int(raw) if whole else float(raw)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                value = 0
            if value <= 0:
                kind = "a positive whole number" if whole else "a positive number"
                raise ValueError(f"{name}: {raw!r} is not {kind}")
            values[f.name] = value
        return cls(**values)

    # What the limits mean in the units the readers count in.

    @property
    def cell_chars(self) -> int:
        """The most characters one cell may hold."""
        return int(self.max_cell_kb * 1024)

    @property
    def row_chars(self) -> int:
        """The most characters one row may hold: every column full."""
        return self.cell_chars * self.max_columns

    @property
    def uncompressed_bytes(self) -> int:
        return int(self.max_uncompressed_mb * 1024 * 1024)

    @property
    def whole_part_bytes(self) -> int:
        """The most a part of a workbook that is parsed whole (not a row at a time) may hold.

        Its parsed tree takes about ten times its size, so it gets a tenth of the limit."""
        return self.uncompressed_bytes // 10

    @property
    def shared_strings(self) -> int:
        """The most different texts a workbook may list (its shared strings): five a row.

        They are all read before the first row, at about 13 microseconds each."""
        return 5 * self.max_rows

    # Refusals, each ending with how to get under the limit.

    def too_many_rows(self, unit: str = "row", found: int | None = None) -> ImportFileError:
        has = f"has {found:,} {unit}s" if found else f"has more than {self.max_rows:,} {unit}s"
        words = (
            f"{has}; the most an import reads is {self.max_rows:,} (the "
            "ASSETMAP_IMPORT_MAX_ROWS setting). Split it into files of fewer "
        )
        if unit == "row":
            return ImportFileError(
                words + "rows, each with the heading row, and import them one by one (empty "
                "rows that are formatted count too: delete any under the table)"
            )
        return ImportFileError(words + f"{unit}s and import them one by one")

    def too_many_columns(self, width: int, where: str) -> ImportFileError:
        return ImportFileError(
            f"has {width:,} columns ({where}); the most an import reads is "
            f"{self.max_columns:,} (the ASSETMAP_IMPORT_MAX_COLUMNS setting). Delete the "
            "columns the import does not need, or move some of them to another file"
        )

    def cell_too_big(self, chars: int | None, where: str) -> ImportFileError:
        """`chars` None for more than the limit, by how much unknown."""
        has = f"{chars:,}" if chars is not None else f"more than {self.cell_chars:,}"
        return ImportFileError(
            f"has {has} characters in one cell ({where}); the most a cell may hold is "
            f"{self.cell_chars:,} (the ASSETMAP_IMPORT_MAX_CELL_KB setting). Shorten that cell "
            "and import the file again"
        )

    def shape_too_big(self, points: int, where: str) -> ImportFileError:
        return ImportFileError(
            f"has a shape of {points:,} points ({where}); the most an import reads is "
            f"{MAX_SHAPE_POINTS:,}. Simplify it in the GIS (a service area needs far fewer "
            "points) and export it again"
        )

    def nested_too_deep(self, number: int | None, unit: str = "record") -> ImportFileError:
        """A JSON file nested deeper than MAX_JSON_DEPTH (`number` None: somewhere in it)."""
        where = f"{unit} {number}" if number is not None else unit
        return ImportFileError(
            f"has objects or lists nested more than {MAX_JSON_DEPTH} levels deep ({where}); "
            f"the most an import reads is {MAX_JSON_DEPTH} levels, since a list of records "
            "nests three or four (a venue, its address, its opening hours). Export the records "
            "as a flat list of objects, or as CSV UTF-8"
        )

    def too_big(self, size: int, what: str = "") -> ImportFileError:
        what = f" ({what})" if what else ""
        return ImportFileError(
            f"holds {_mb(size)} of data{what}; the most an import reads is "
            f"{_mb(self.uncompressed_bytes)} (the ASSETMAP_IMPORT_MAX_UNCOMPRESSED_MB "
            "setting). Split it into smaller files and import them one by one"
        )

    # Checks that apply to any file.

    def check_size(self, path: Path) -> None:
        """Refuse a file, read as it is (CSV, GeoJSON, GeoPackage), larger than the limit."""
        size = path.stat().st_size
        if size > self.uncompressed_bytes:
            raise self.too_big(size)

    def check_row(
        self, number: int, cells: list, unit: str = "row", headers: list[str] | None = None
    ) -> None:
        """Refuse a row beyond the row limit, wider than the column limit (not counting empty
        cells at its end) or with a cell over the cell limit."""
        if number > self.max_rows:
            raise self.too_many_rows(unit)
        width = len(cells)
        while width and _empty(cells[width - 1]):
            width -= 1
        if width > self.max_columns:
            raise self.too_many_columns(width, f"{unit} {number}")
        limit = self.cell_chars
        for index in range(width):
            cell = cells[index]
            if isinstance(cell, str):
                size = len(cell)
            elif isinstance(cell, (list, dict)):
                size = len(json.dumps(cell, ensure_ascii=False, default=str))
            else:
                continue
            if size > limit:
                raise self.cell_too_big(size, _cell_words(unit, number, index, headers))

    def check_archive(self, path: Path) -> list[zipfile.ZipInfo]:
        """A zip's members, once its directory shows nothing over the limits.

        The sizes checked are the ones the zip's directory declares. Python's zipfile never
        reads more of a member than that, and refuses one whose data does not match it (the
        CRC), so a member that lies about its size is refused when it is read (see
        ZIP_READ_ERRORS); nothing reads a zip but through zipfile.
        """
        entries = _declared_entries(path)
        if entries is not None and entries > MAX_ZIP_MEMBERS:
            raise ImportFileError(
                f"is a zip of {entries:,} files; the most an import opens is "
                f"{MAX_ZIP_MEMBERS:,}. Zip only the workbook or the shapefile's files"
            )
        try:
            with zipfile.ZipFile(path) as archive:
                infos = archive.infolist()
        except ZIP_READ_ERRORS:
            raise ImportFileError(DAMAGED_ZIP) from None
        if len(infos) > MAX_ZIP_MEMBERS:  # a directory that disagrees with its own end record
            raise ImportFileError(DAMAGED_ZIP)
        if sum(i.compress_size for i in infos) > path.stat().st_size:
            raise ImportFileError(DAMAGED_ZIP)
        total = sum(i.file_size for i in infos)
        if total > self.uncompressed_bytes:
            largest = max(infos, key=lambda i: i.file_size)
            largest_words = f"{largest.filename}, is {_mb(largest.file_size)}"
            raise self.too_big(total, f"unpacked; its largest part, {largest_words}")
        for info in infos:
            if info.file_size > RATIO_FLOOR_BYTES and info.file_size > self.max_ratio * max(
                info.compress_size, 1
            ):
                ratio = info.file_size / max(info.compress_size, 1)
                raise ImportFileError(
                    f"holds {info.filename}, which unpacks to {ratio:,.0f} times its packed "
                    f"size; the most an import accepts is {self.max_ratio:,.0f} times (the "
                    "ASSETMAP_IMPORT_MAX_RATIO setting), since spreadsheets and GIS files grow "
                    "5 to 20 times. Open the file in the program that made it, save it again, "
                    "and import the new file"
                )
        return infos


def _empty(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell)


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MB"


def _cell_words(unit: str, number: int, index: int, headers: list[str] | None) -> str:
    if headers is not None and index < len(headers):
        return f"{unit} {number}, {'property' if unit == 'feature' else 'column'} {headers[index]}"
    if unit == "row":
        return f"row {number}, column {column_letter(index)}"
    return f"{unit} {number}"


_END_OF_DIRECTORY = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_END = b"PK\x06\x06"


def _declared_entries(path: Path) -> int | None:
    """How many members a zip's end record says it has, read before zipfile reads the whole
    directory (None when there is no end record; zipfile then says it is damaged)."""
    with path.open("rb") as f:
        size = f.seek(0, 2)
        start = max(0, size - (22 + 0xFFFF))  # the end record, and a comment of up to 64 KB
        f.seek(start)
        tail = f.read()
        at = tail.rfind(_END_OF_DIRECTORY)
        if at < 0 or len(tail) - at < 22:
            return None
        entries = struct.unpack_from("<H", tail, at + 10)[0]
        if entries != 0xFFFF or at < 20 or tail[at - 20 : at - 16] != _ZIP64_LOCATOR:
            return entries
        offset = struct.unpack_from("<Q", tail, at - 20 + 8)[0]
        if offset > size - 56:
            return None
        f.seek(offset)
        record = f.read(56)
        if record[:4] != _ZIP64_END:
            return None
        return struct.unpack_from("<Q", record, 32)[0]
