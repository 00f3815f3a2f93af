"""Link workers' referral records and what they tell coordinators about demand. No Flask.

A referral is recorded against the client's pseudonymous reference, never a name; what
leaves the directory (the demand report and its CSV) is counts per asset and month only.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import IO

from assetmap.record.taxonomy import Term

ROUTES: tuple[Term, ...] = (
    Term("signposted", "Signposted (told about it)"),
    Term("referred", "Referred (we contacted them)"),
    Term("self_referral", "Self-referral (the client will contact them)"),
)
OUTCOMES: tuple[Term, ...] = (
    Term("attended", "Attended"),
    Term("still_attending", "Still attending"),
    Term("did_not_attend", "Did not attend"),
    Term("declined", "Declined"),
)
WENT = frozenset({"attended", "still_attending"})


class ReferralError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def check_date(text: str, field: str, today: date) -> str:
    try:
        day = date.fromisoformat((text or "").strip())
    except ValueError:
        raise ReferralError(
            f"Enter the date as YYYY-MM-DD, such as {today.isoformat()}.", field
        ) from None
    if day > today:
        raise ReferralError("The date cannot be in the future.", field)
    return day.isoformat()


def check_choice(value: str, terms: tuple[Term, ...], field: str) -> str:
    if value not in {t.slug for t in terms}:
        raise ReferralError(f"Choose one of: {', '.join(t.label for t in terms)}.", field)
    return value


@dataclass(frozen=True)
class DemandRow:
    """One asset in one month: referrals made, outcomes known, and how many went."""

    asset_id: str
    asset_name: str
    month: str  # YYYY-MM
    referrals: int
    with_outcome: int
    went: int

    @property
    def attendance_rate(self) -> float | None:
        """Of the referrals whose outcome is known, the share who went."""
        return self.went / self.with_outcome if self.with_outcome else None


DEMAND_COLUMNS = (
    "asset_id",
    "asset_name",
    "month",
    "referrals",
    "outcomes_known",
    "went",
    "attendance_rate",
)


def write_demand_csv(rows: Iterable[DemandRow], stream: IO[str]) -> None:
    """The demand report as CSV for commissioners: counts only, no client references."""
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(DEMAND_COLUMNS)
    for row in rows:
        rate = "" if row.attendance_rate is None else f"{row.attendance_rate:.2f}"
        name = row.asset_name
        if name.startswith(("=", "+", "-", "@", "\t", "\r")):
            name = "'" + name  # a spreadsheet must not run an asset's name as a formula
        writer.writerow(
            [row.asset_id, name, row.month, row.referrals, row.with_outcome, row.went, rate]
        )
