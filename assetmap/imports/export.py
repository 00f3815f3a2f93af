"""The rejected rows of an import as a CSV a coordinator can fix and import again.

The file has an `error` column saying what to fix, then the original headings and cells (the
import ignores the `error` column, so the fixed file imports as it is). The error comes first
so that it is the first thing seen, and so that rows longer than the heading row still line up.
When the original file had no source column, a `source` column after the error holds the
import's source, so that the fixed rows update and match the same assets as the original file
whatever the fixed file is called (the source is otherwise taken from the file's name).

Cells that a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a carriage
return) are prefixed with an apostrophe, which spreadsheets show as text and the import strips
again; plain numbers such as -2.3034 are left alone, since a longitude must stay a number.

The file stops growing at the import's row limit or at the largest upload, whichever comes
first (a preview's file is kept on the server until the import is confirmed): a row in its
error column then says that the rows after it were left out, and, having only that cell, is
a blank row when the file is imported again.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import IO

from assetmap.imports.limits import ImportLimits
from assetmap.imports.problems import ERROR, Problem
from assetmap.settings import SETTINGS_BY_NAME

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
ERROR_COLUMN = "error"
SOURCE_COLUMN = "source"
MAX_ROWS = ImportLimits().max_rows
# So that the file can be uploaded again as it is.
MAX_CHARS = int(float(SETTINGS_BY_NAME["ASSETMAP_MAX_UPLOAD_MB"].default) * 1024 * 1024)


def neutralise(text: str) -> str:
    """A cell made safe to open in a spreadsheet: formulas become text, numbers stay numbers."""
    if text.startswith(_FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def cell_text(value: object) -> str:
    """A cell as written back out: empty for nothing, ISO 8601 for dates."""
    if value is None:
        return ""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def error_text(problems: Iterable[Problem | dict]) -> str:
    """The `error` cell: each error with its column, in the order of the columns."""
    parts = []
    for problem in problems:
        p = Problem.from_json(problem) if isinstance(problem, dict) else problem
        if p.level != ERROR:
            continue
        where = f"{p.column}: " if p.column else ""
        parts.append(f"{where}{p.message}")
    return " | ".join(parts)


class RejectedRowsWriter:
    """Writes rejected rows as they are found, so the whole list is never held in memory.

    `source` is the import's source, for files without a source column (see above). At most
    `max_rows` rows are written and, after the one that reaches it, nothing past `max_chars`
    characters; `count` is the rows written and `left_out` the rows left out after them."""

    def __init__(
        self,
        stream: IO[str],
        headers: list[str],
        source: str | None = None,
        *,
        max_rows: int = MAX_ROWS,
        max_chars: int = MAX_CHARS,
    ):
        self.writer = csv.writer(stream, lineterminator="\r\n")
        self.source = [neutralise(source)] if source else []
        first = [ERROR_COLUMN, SOURCE_COLUMN] if source else [ERROR_COLUMN]
        self.max_rows, self.max_chars = max_rows, max_chars
        self.chars = self.writer.writerow(first + [neutralise(h) for h in headers]) or 0
        self.count = 0
        self.left_out = 0

    def write(self, cells: list, problems: Iterable[Problem | dict]) -> None:
        if self.left_out or self.count >= self.max_rows or self.chars >= self.max_chars:
            if not self.left_out:
                self.writer.writerow([self.stop_note()])
            self.left_out += 1
            return
        texts = [neutralise(cell_text(c)) for c in cells]
        row = [neutralise(error_text(problems)), *self.source, *texts]
        self.chars += self.writer.writerow(row) or 0
        self.count += 1

    def stop_note(self) -> str:
        return (
            f"The rejected rows after these {self.count:,} were left out: this file stops at "
            f"{self.max_rows:,} rows or {self.max_chars / (1024 * 1024):,.0f} MB. Fix these "
            "rows and import them, then preview the whole file again to see the rest."
        )


def source_to_write(run: dict) -> str | None:
    """The source to write beside a recorded run's rejected rows: the run's own, unless its
    file had a source column (which the rows carry already)."""
    feeds = {column.get("feeds") for column in run["details"].get("columns", [])}
    return None if "source" in feeds else run["source"]
