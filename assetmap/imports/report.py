"""What an import found, as the preview page, the run page and `assetmap import` show it.

Counts are kept for every row; the problems and field-level changes listed are capped, so a
file of 100,000 rows with a warning on each does not fill memory. The rejected-rows CSV always
has every rejected row, whatever the cap.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from assetmap.imports.cleaning import CELLS_BEYOND_HEADINGS, SESSIONS_FROM_WORDS
from assetmap.imports.placing import (
    CONVERTED_FROM_GRID,
    PLACED_FROM_POSTCODE,
    POSTCODE_FROM_ADDRESS,
)
from assetmap.imports.problems import DUPLICATE, ERROR, WARNING, Problem, column_letter

DETAIL_LIMIT = 1000

# How each counted fact is said once for the whole file.
_FACT_WORDS = {
    PLACED_FROM_POSTCODE: "{n} {rows} had no coordinates and {were} placed from {their} postcode.",
    POSTCODE_FROM_ADDRESS: "{n} {rows} had no postcode of {their} own; it was taken from the "
    "address.",
    CONVERTED_FROM_GRID: "{n} {rows} had British National Grid eastings and northings, converted "
    "to latitude and longitude.",
    CELLS_BEYOND_HEADINGS: "{n} {rows} had cells to the right of the last heading; they were kept "
    "as extra information (as “column {first}” and so on). Give those columns headings.",
    SESSIONS_FROM_WORDS: "{n} {rows} gave days and times in words (“Tuesdays 10:00 till 12:00”); "
    "they were read as sessions, so that search finds {them} by day and time, and the words "
    "kept as notes. Check a few on their asset pages.",
}


@dataclass
class RowChange:
    """A changed asset and its changes, field by field, in words."""

    row: int
    asset_id: str
    name: str
    fields: list[tuple[str, str, str]]

    def to_json(self) -> dict:
        return {"row": self.row, "asset_id": self.asset_id, "name": self.name,
                "fields": [list(f) for f in self.fields]}  # fmt: skip


@dataclass
class ImportReport:
    """The outcome of a preview or an import."""

    file_name: str
    sha256: str
    format: str = ""
    source: str = ""
    unit: str = "row"
    applied: bool = False
    run_id: int | None = None
    headers: list[str] = field(default_factory=list)
    columns: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows: int = 0
    blank: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    rejected: int = 0
    possible_duplicates: int = 0
    with_warnings: int = 0
    problems: list[Problem] = field(default_factory=list)
    problems_not_listed: int = 0
    changes: list[RowChange] = field(default_factory=list)
    changes_not_listed: int = 0
    facts: Counter = field(default_factory=Counter)
    detail_limit: int = DETAIL_LIMIT

    def add_problems(self, problems: list[Problem]) -> None:
        room = max(self.detail_limit - len(self.problems), 0)
        self.problems.extend(problems[:room])
        self.problems_not_listed += max(len(problems) - room, 0)

    def add_change(self, change: RowChange) -> None:
        if len(self.changes) < self.detail_limit:
            self.changes.append(change)
        else:
            self.changes_not_listed += 1

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "possible_duplicates": self.possible_duplicates,
            "with_warnings": self.with_warnings,
        }

    @property
    def to_write(self) -> int:
        return self.new + self.changed

    def summary(self) -> str:
        """ "3 new, 1 changed, 10 unchanged, 2 rejected, 1 possible duplicate"."""
        duplicates = self.possible_duplicates
        return (
            f"{self.new} new, {self.changed} changed, {self.unchanged} unchanged, "
            f"{self.rejected} rejected, {duplicates} possible "
            f"{'duplicate' if duplicates == 1 else 'duplicates'}"
        )

    def all_notes(self) -> list[str]:
        """The file's notes, then the facts counted across its rows, then blank rows."""
        notes = list(self.notes)
        unit = self.unit
        for fact, words in _FACT_WORDS.items():
            n = self.facts.get(fact, 0)
            if n:
                notes.append(
                    words.format(
                        n=f"{n:,}",
                        rows=unit if n == 1 else f"{unit}s",
                        were="was" if n == 1 else "were",
                        their="its" if n == 1 else "their",
                        them="it" if n == 1 else "them",
                        first=column_letter(len(self.headers)),  # the first without a heading
                    )
                )
        if self.blank:
            notes.append(
                f"{self.blank:,} blank {unit if self.blank == 1 else unit + 's'} "
                f"{'was' if self.blank == 1 else 'were'} skipped."
            )
        return notes

    def problems_at(self, level: str) -> list[Problem]:
        return [p for p in self.problems if p.level == level]

    def to_json(self) -> dict:
        """The report for scripts (`assetmap import --json`) and for a pending preview."""
        return {
            "file": self.file_name,
            "sha256": self.sha256,
            "format": self.format,
            "source": self.source,
            "unit": self.unit,
            "applied": self.applied,
            "run_id": self.run_id,
            "counts": self.counts(),
            "columns": self.columns,
            "notes": self.all_notes(),
            "problems": [p.to_json() for p in self.problems],
            "problems_not_listed": self.problems_not_listed,
            "changes": [c.to_json() for c in self.changes],
            "changes_not_listed": self.changes_not_listed,
        }


LEVEL_WORDS = {ERROR: "rejected", DUPLICATE: "possible duplicate", WARNING: "check"}
