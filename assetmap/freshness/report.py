"""The freshness report: how much of the directory was checked recently, for coordinators
and commissioners (/manage/freshness and its CSV, assetmap/web/freshness.py).

- **Listings** are the open assets (not closed, not archived: assetmap/store/visibility.py).
- **Checked in the last 6 (12) months**: last checked on or after the day 6 (12) calendar
  months before today, by the rule of assetmap.freshness.stale (`over_months`). A listing
  never checked is not.
- **Groups**: by strand, by kind, by ward and by source. The ward is that of the listing's
  postcode (assetmap/freshness/wards.py: kept from the ONS Postcode Directory when postcodes
  are loaded); "ward unknown" when the postcode is missing or has no ward. A listing with
  no source recorded is under "Source not recorded".
- **Month by month**: at the end of each month (today, for this month) the listings open
  then, each with its last check as it was then, replayed from asset_history (every change
  keeps the whole record as it became). A listing checked in March counts from the end of
  March; one imported in May with an older date counts from May, with that date.
"""

from __future__ import annotations

import bisect
import csv
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import IO

from assetmap.freshness import wards
from assetmap.freshness.stale import add_months
from assetmap.imports.export import neutralise
from assetmap.record import taxonomy
from assetmap.store import freshness as store

PERIODS = (6, 12)  # months
MAX_MONTHS = 36  # the chart shows at most the last three years
NO_SOURCE = "Source not recorded"
DIMENSIONS = (("strand", "Strand"), ("kind", "Kind"), ("ward", "Ward"), ("source", "Source"))


@dataclass(frozen=True)
class Share:
    """One row of the report: a group of listings and how many were checked recently."""

    group: str
    listings: int
    checked_6: int
    checked_12: int

    def percent(self, checked: int) -> int:
        """A whole percentage, rounded half up; 0 for an empty group."""
        return int(checked * 100 / self.listings + 0.5) if self.listings else 0

    @property
    def percent_6(self) -> int:
        return self.percent(self.checked_6)

    @property
    def percent_12(self) -> int:
        return self.percent(self.checked_12)


@dataclass(frozen=True)
class FreshnessReport:
    today: date
    overall: Share
    groups: dict[str, list[Share]]  # by dimension name, each group by label
    months: list[Share]  # group: "2026-03", oldest first


def _share(group: str, checks: list[str | None], day: date) -> Share:
    """How many of `checks` (last checks, ISO dates or None) fall within each period of
    `day`: on or after the day that many months before it (freshness.stale.over_months)."""
    dated = sorted(str(c) for c in checks if c)
    since = [add_months(day, -months).isoformat() for months in PERIODS]
    counts = [len(dated) - bisect.bisect_left(dated, start) for start in since]
    return Share(group, len(checks), *counts)


def group_label(dimension: str, listing: dict) -> str:
    """What a listing is grouped under for a dimension, in users' words."""
    if dimension == "strand":
        return taxonomy.label(taxonomy.STRANDS, listing["strand"]) or listing["strand"]
    if dimension == "kind":
        return taxonomy.label(taxonomy.KINDS, listing["kind"]) or listing["kind"]
    if dimension == "ward":
        return listing["ward"] or wards.UNKNOWN_LABEL
    return listing["source"] or NO_SOURCE


def by_group(listings: list[dict], dimension: str, today: date) -> list[Share]:
    """The shares for each group of one dimension, by label."""
    grouped: dict[str, list] = defaultdict(list)
    for listing in listings:
        grouped[group_label(dimension, listing)].append(listing["last_verified"])
    return [_share(label, grouped[label], today) for label in sorted(grouped, key=str.casefold)]


def month_ends(first: date, today: date) -> list[date]:
    """The last day of each month from `first`'s to today's; today for this month."""
    ends = []
    month = first.replace(day=1)
    while month <= today:
        end = add_months(month, 1) - timedelta(days=1)
        ends.append(min(end, today))
        month = add_months(month, 1)
    return ends[-MAX_MONTHS:]


def by_month(history: Iterable[tuple], today: date) -> list[Share]:
    """The share checked in the last 6 and 12 months at each month end, from the history of
    changes (asset_id, changed_at, open, last_verified), oldest first."""
    changes = list(history)
    if not changes:
        return []
    ends = month_ends(date.fromisoformat(changes[0][1][:10]), today)
    state: dict[str, str | None] = {}  # open listings: asset id -> last check
    shares, position = [], 0
    for end in ends:
        while position < len(changes) and changes[position][1][:10] <= end.isoformat():
            asset_id, _, is_open, last_verified = changes[position]
            if is_open:
                state[asset_id] = last_verified
            else:
                state.pop(asset_id, None)
            position += 1
        shares.append(_share(end.strftime("%Y-%m"), list(state.values()), end))
    return shares


def freshness_report(db, today: date) -> FreshnessReport:
    """The whole report, as of `today`."""
    listings = store.listings(db)
    groups = {name: by_group(listings, name, today) for name, _ in DIMENSIONS}
    overall = _share("All listings", [x["last_verified"] for x in listings], today)
    return FreshnessReport(today, overall, groups, by_month(store.check_history(db), today))


CSV_COLUMNS = (
    "by",
    "group",
    "listings",
    "checked_last_6_months",
    "percent_last_6_months",
    "checked_last_12_months",
    "percent_last_12_months",
)


def csv_rows(report: FreshnessReport) -> list[list]:
    """The report as CSV rows: the overall figure, each group of each dimension, then each
    month (by "month", group "2026-03"), exactly as the page shows them."""
    sections = [("all", [report.overall])]
    sections += [(name, report.groups[name]) for name, _ in DIMENSIONS]
    sections.append(("month", report.months))
    return [
        [by, s.group, s.listings, s.checked_6, s.percent_6, s.checked_12, s.percent_12]
        for by, shares in sections
        for s in shares
    ]


def write_csv(report: FreshnessReport, out: IO[str]) -> None:
    """The CSV file; a group name a spreadsheet would run as a formula is kept as text."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows([by, neutralise(group), *rest] for by, group, *rest in csv_rows(report))
