"""What an import tells a coordinator: one problem per cell, or one reason a file is refused.

A coordinator reads these with the spreadsheet open beside them, so every problem carries the
row number as the spreadsheet shows it (the header is row 1), the column letter and heading, the
value as it was in the cell, and what to do about it. Nothing here knows about the web or the
command line: both print the same words.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR = "error"  # the row is rejected
WARNING = "warning"  # the row is imported, but something in it was odd or was changed
DUPLICATE = "duplicate"  # the row is imported and flagged: it may be an asset already listed

LEVELS = (ERROR, DUPLICATE, WARNING)


class ImportFileError(ValueError):
    """A whole file that cannot be imported: empty, unreadable, or missing a column it needs.

    The message reads after the file name ("trafford.csv is empty ...") and says what to do.
    """


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def shown_value(value: object, limit: int = 60) -> str:
    """A cell value as a short quoted string, cut so that a 5 MB cell cannot flood a report."""
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


@dataclass(frozen=True)
class Problem:
    """Something wrong or odd in one row (or one cell) of an import file.

    `unit` is "row" for spreadsheets and "feature" for GIS files, so the number means what the
    coordinator sees. `column` is the heading as written in the file and `letter` its
    spreadsheet column (empty for GIS files). `message` says what is wrong and how to fix it.
    """

    level: str
    row: int
    column: str
    letter: str
    value: str
    message: str
    unit: str = "row"

    def where(self) -> str:
        """ "row 14, column D (Post Code)", or "feature 3, property postcode"."""
        place = f"{self.unit} {self.row}"
        if self.column and self.letter:
            return f"{place}, column {self.letter} ({self.column})"
        if self.column:
            return f"{place}, {'property' if self.unit == 'feature' else 'column'} {self.column}"
        return place

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}"

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Problem:
        return cls(**data)
