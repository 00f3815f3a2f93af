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
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import IO

from assetmap.imports.problems import ERROR, Problem

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
ERROR_COLUMN = "error"
SOURCE_COLUMN = "source"


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

    `source` is the import's source, for files without a source column (see above)."""

    def __init__(self, stream: IO[str], headers: list[str], source: str | None = None):
        self.writer = csv.writer(stream, lineterminator="\r\n")
        self.source = [neutralise(source)] if source else []
        first = [ERROR_COLUMN, SOURCE_COLUMN] if source else [ERROR_COLUMN]
        self.writer.writerow(first + [neutralise(h) for h in headers])
        self.count = 0

    def write(self, cells: list, problems: Iterable[Problem | dict]) -> None:
        texts = [neutralise(cell_text(c)) for c in cells]
        self.writer.writerow([neutralise(error_text(problems)), *self.source, *texts])
        self.count += 1


def source_to_write(run: dict) -> str | None:
    """The source to write beside a recorded run's rejected rows: the run's own, unless its
    file had a source column (which the rows carry already)."""
    feeds = {column.get("feeds") for column in run["details"].get("columns", [])}
    return None if "source" in feeds else run["source"]
