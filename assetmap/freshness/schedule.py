"""The checking schedule: how often each asset is checked, and when it is next due.

Every asset is due a check ASSETMAP_CHECK_EVERY_MONTHS (default 6) after its last check
(`last_verified`, "Last checked"); an asset never checked is due now. A coordinator may set a
shorter period for a strand (the befriending services of one strand change more often) or a
kind (services more often than places). The shortest period that applies wins: the default,
the asset's strand's and its kind's. An override no shorter than the default would never
apply, so it is refused when set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

from dateutil.relativedelta import relativedelta

from assetmap.record import taxonomy
from assetmap.store import assets as store
from assetmap.store import checks as store_checks

if TYPE_CHECKING:
    import sqlite_utils

SETTING = "ASSETMAP_CHECK_EVERY_MONTHS"
STRAND, KIND = "strand", "kind"
SCOPES = (STRAND, KIND)


class ScheduleRefused(ValueError):
    """An override that cannot be set, with a message saying what to change."""


@dataclass(frozen=True)
class Schedule:
    """The default period and the coordinators' overrides, {(scope, value): months}."""

    every_months: int = 6
    overrides: dict[tuple[str, str], int] = field(default_factory=dict)

    def months_for(self, asset: dict) -> int:
        """How many months this asset goes between checks (the shortest that applies)."""
        return min(
            self.every_months,
            self.overrides.get((STRAND, asset.get("strand")), self.every_months),
            self.overrides.get((KIND, asset.get("kind")), self.every_months),
        )

    def due_date(self, asset: dict) -> date | None:
        """When the asset is next due a check; None when it was never checked (due now)."""
        return due_date(asset, self)


def due_date(asset: dict, schedule: Schedule | None = None) -> date | None:
    """When `asset` is next due a check: its last check plus its period (6 months after
    31 August is the last day of February). None when it was never checked, which means it
    is due now, before every dated one."""
    schedule = schedule or Schedule()
    if not asset.get("last_verified"):
        return None
    return due_after(asset["last_verified"][:10], schedule.months_for(asset))


@lru_cache(maxsize=8192)
def due_after(last_verified: str, months: int) -> date:
    """The day `months` after the ISO date `last_verified`, the month's last day when it is
    shorter. (Cached: a queue of thousands holds far fewer dates, checked in rounds.)"""
    return date.fromisoformat(last_verified) + relativedelta(months=months)


def is_due(asset: dict, schedule: Schedule, today: date) -> bool:
    """Whether the asset is due (or overdue) a check on `today`."""
    due = due_date(asset, schedule)
    return due is None or due <= today


def load(db: sqlite_utils.Database, every_months: int) -> Schedule:
    """The schedule in force: the setting's period and the stored overrides."""
    return Schedule(every_months, store_checks.intervals(db))


def vocabulary(scope: str) -> dict[str, str]:
    if scope == STRAND:
        return {strand.slug: strand.label for strand in taxonomy.STRANDS}
    if scope == KIND:
        return {term.slug: term.label for term in taxonomy.KINDS}
    raise ScheduleRefused(f"{scope!r} is not something to set a period for; use strand or kind")


def _months(scope: str, value: str, months: int | str | None, every_months: int) -> int | None:
    """The override's months (None: none), or ScheduleRefused saying what is wrong."""
    names = vocabulary(scope)
    if value not in names:
        raise ScheduleRefused(
            f"{value!r} is not a {scope}; choose one of: {', '.join(sorted(names))}"
        )
    if isinstance(months, str):
        text = months.strip()
        try:
            months = int(text) if text else None
        except ValueError:
            raise ScheduleRefused(
                f"{names[value]}: {months!r} is not a number of months; give a whole number "
                "such as 3, or leave it empty to use the default"
            ) from None
    if months is None or 1 <= months < every_months:
        return months
    if every_months == 1:
        raise ScheduleRefused(
            f"{names[value]}: the default ({SETTING}) is already 1 month, the shortest "
            "period; leave it empty"
        )
    fix = f"give 1 to {every_months - 1}, or leave it empty to use the default"
    if months < 1:
        raise ScheduleRefused(f"{names[value]}: {months} months is too short; {fix}")
    raise ScheduleRefused(
        f"{names[value]}: {months} months is not shorter than the default of "
        f"{every_months} months ({SETTING}); {fix}"
    )


def set_overrides(
    db: sqlite_utils.Database,
    wanted: dict[tuple[str, str], int | str | None],
    *,
    every_months: int,
    who: str,
) -> dict[tuple[str, str], str]:
    """Set how often assets of some strands or kinds are checked, {(scope, value): months},
    months None (or "") removing an override. All are set or, when any is refused, none:
    the problems are returned by (scope, value), each naming what is wrong and the fix (an
    unknown strand or kind, a period that is not a whole number of months, or one no shorter
    than the default)."""
    problems, months = {}, {}
    for key, value in wanted.items():
        try:
            months[key] = _months(*key, value, every_months)
        except ScheduleRefused as refused:
            problems[key] = str(refused)
    if problems:
        return problems
    with store.transaction(db):
        for (scope, value), period in months.items():
            store_checks.put_interval(db, scope, value, period, who=who, when=store.now())
    return {}


def set_override(
    db: sqlite_utils.Database,
    scope: str,
    value: str,
    months: int | str | None,
    *,
    every_months: int,
    who: str,
) -> None:
    """Set (or, months None, remove) one override; ScheduleRefused names what is wrong."""
    problems = set_overrides(db, {(scope, value): months}, every_months=every_months, who=who)
    if problems:
        raise ScheduleRefused(next(iter(problems.values())))
