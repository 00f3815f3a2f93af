"""The coordinators' review queue: the open assets due a check, oldest due first.

An asset is in the queue from its due date (assetmap/freshness/schedule.py) until someone
records a check (assetmap/freshness/checks.py) or closes it. Never-checked assets come
first (they were due from the start), then by due date, then by name. The queue filters by
strand, kind, ward (of the asset's postcode; "ward unknown" when the postcode table has none
for it) and source (the import or data set the asset came from).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from typing import TYPE_CHECKING

from assetmap.freshness import reports, wards
from assetmap.freshness.schedule import Schedule, due_after
from assetmap.record import taxonomy
from assetmap.store import checks as store_checks

if TYPE_CHECKING:
    import sqlite_utils

PER_PAGE = 50
FILTERS = ("strand", "kind", "ward", "source")
_ID, _NAME, _STRAND, _KIND, _LAST_VERIFIED, _WARD_CODE, _WARD_NAME = (
    store_checks.QUEUE_COLUMNS.index(name)
    for name in ("id", "name", "strand", "kind", "last_verified", "ward_code", "ward_name")
)


@dataclass(frozen=True)
class QueueFilter:
    """What the coordinator narrowed the queue to; None means any. `ward` is a ward code,
    or wards.UNKNOWN for assets whose ward is not known."""

    strand: str | None = None
    kind: str | None = None
    ward: str | None = None
    source: str | None = None

    def args(self) -> dict[str, str]:
        """As query-string arguments (for links that keep the filter)."""
        return {name: getattr(self, name) for name in FILTERS if getattr(self, name)}


@dataclass(frozen=True)
class Entry:
    """One asset in the queue: the columns the queue shows, and when it was due."""

    asset: dict
    due: date | None  # None: never checked, due now
    months: int  # its period between checks

    @property
    def ward_label(self) -> str:
        return self.asset["ward_name"] or wards.UNKNOWN_LABEL

    def overdue_days(self, today: date) -> int | None:
        return None if self.due is None else (today - self.due).days


def _due_rows(
    db: sqlite_utils.Database, schedule: Schedule, today: date, filter: QueueFilter
) -> list[tuple]:
    """(key, row, due, months) for every asset due, sorted by key: never checked first, then
    the earliest due date, then by name. Plain tuples, since a queue may hold thousands and
    only a page of them is shown."""
    rows = store_checks.queue_candidates(
        db,
        strands=(filter.strand,) if filter.strand else (),
        kinds=(filter.kind,) if filter.kind else (),
        wards=(filter.ward,) if filter.ward else (),
        sources=(filter.source,) if filter.source else (),
        unknown_ward=wards.UNKNOWN,
    )
    periods: dict[tuple[str, str], int] = {}  # worked out once for each strand and kind
    due_rows = []
    for row in rows:
        strand, kind, last_verified = row[_STRAND], row[_KIND], row[_LAST_VERIFIED]
        months = periods.get((strand, kind))
        if months is None:
            months = periods[(strand, kind)] = schedule.months_for({"strand": strand, "kind": kind})
        due = due_after(last_verified[:10], months) if last_verified else None
        if due is None or due <= today:
            key = (due is not None, due or date.min, row[_NAME].casefold(), row[_ID])
            due_rows.append((key, row, due, months))
    due_rows.sort(key=itemgetter(0))
    return due_rows


def _entry(due_row: tuple) -> Entry:
    _, row, due, months = due_row
    return Entry(dict(zip(store_checks.QUEUE_COLUMNS, row, strict=True)), due, months)


def due_entries(
    db: sqlite_utils.Database, schedule: Schedule, today: date, filter: QueueFilter
) -> list[Entry]:
    """Every open asset matching the filter that is due a check on `today`, in queue order."""
    return [_entry(due_row) for due_row in _due_rows(db, schedule, today, filter)]


@dataclass(frozen=True)
class QueuePage:
    entries: list[Entry]
    total: int
    page: int
    pages: int
    history: dict[str, list[dict]]
    reports: dict[str, list[dict]]


def queue_page(
    db: sqlite_utils.Database,
    schedule: Schedule,
    today: date,
    filter: QueueFilter,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> QueuePage:
    """One page of the queue, with each asset's recent history and open reports."""
    due_rows = _due_rows(db, schedule, today, filter)
    pages = max((len(due_rows) + per_page - 1) // per_page, 1)
    page = min(max(page, 1), pages)
    shown = [_entry(due_row) for due_row in due_rows[(page - 1) * per_page : page * per_page]]
    ids = [entry.asset["id"] for entry in shown]
    return QueuePage(
        entries=shown,
        total=len(due_rows),
        page=page,
        pages=pages,
        history=store_checks.recent_history(db, ids),
        reports=_open_reports(db, ids),
    )


def _open_reports(db: sqlite_utils.Database, ids: list[str]) -> dict[str, list[dict]]:
    """Residents' open reports beside each asset, each with its kind in words."""
    found = reports.open_reports_for(db, ids)
    for listed in found.values():
        for report in listed:
            report["kind_words"] = reports.kind_label(report["kind"])
    return found


@dataclass(frozen=True)
class Count:
    value: str  # the filter value (a strand slug, a ward code or wards.UNKNOWN)
    label: str
    count: int


@dataclass(frozen=True)
class Summary:
    """How many assets are due a check, in all, by strand and by ward (for the home page)."""

    total: int
    by_strand: list[Count]
    by_ward: list[Count]


def summary(db: sqlite_utils.Database, schedule: Schedule, today: date) -> Summary:
    """The queue's counts per strand (every strand, in the taxonomy's order) and per ward
    (those with assets due, most first, "ward unknown" last)."""
    rows = [row for _, row, _, _ in _due_rows(db, schedule, today, QueueFilter())]
    strands = Counter(row[_STRAND] for row in rows)
    by_ward = Counter(row[_WARD_CODE] or wards.UNKNOWN for row in rows)
    names = {row[_WARD_CODE]: row[_WARD_NAME] for row in rows}
    ward_counts = sorted(
        (Count(code, names.get(code) or wards.UNKNOWN_LABEL, n) for code, n in by_ward.items()),
        key=lambda c: (c.value == wards.UNKNOWN, -c.count, c.label),
    )
    return Summary(
        total=len(rows),
        by_strand=[
            Count(strand.slug, strand.label, strands.get(strand.slug, 0))
            for strand in taxonomy.STRANDS
        ],
        by_ward=ward_counts,
    )


def choices(db: sqlite_utils.Database) -> dict[str, list[tuple[str, str]]]:
    """The values each filter offers, as (value, label)."""
    return {
        "strand": [(strand.slug, strand.label) for strand in taxonomy.STRANDS],
        "kind": [(term.slug, term.label) for term in taxonomy.KINDS],
        "ward": [*store_checks.wards_in_use(db), (wards.UNKNOWN, wards.UNKNOWN_LABEL)],
        "source": [(source, source) for source in store_checks.sources_in_use(db)],
    }
