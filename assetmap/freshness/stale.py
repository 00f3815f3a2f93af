"""When a listing was last checked, in words, and the rules for a listing that is stale.

One place for each of these facts, used by every page, the API, plans and the printed plan:

- **Months** are calendar months counted back from today: "N months ago" is the same day of
  the month N months before today, clamped to the end of a shorter month (on 31 March, a
  month ago is 28 February). A listing is over N months old when it was checked before that
  day; this is the one rule, so that pages, search and SQL (a plain comparison of ISO dates)
  always agree.
- **Stale**: not checked for over ASSETMAP_STALE_AFTER_MONTHS (default 12) months (checked
  exactly 12 months ago is not yet stale), or never checked at all. Link workers stop
  trusting a directory whose listings are a year old, so those listings say so in words
  ("Not checked for over a year"), not by colour alone.
- **In search** stale listings come after fresh ones at a similar distance: distances are
  cut into bands of DISTANCE_BAND_M (500 m, about an eight-minute walk), and within a band
  fresh listings come first, each group nearest first. A stale listing is never pushed
  further than the end of its own band, so the nearest group is still found near the top.
- **Hidden**: with ASSETMAP_HIDE_UNCHECKED_AFTER_MONTHS set (0, the default, hides none),
  search leaves out listings not checked for longer than that, and those never checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta

DEFAULT_STALE_AFTER_MONTHS = 12
DISTANCE_BAND_M = 500


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later (earlier when negative), clamped to the
    last day of a shorter month: 31 January + 1 month is 28 (or 29) February (dateutil's
    relativedelta, as the checking schedule counts months)."""
    return day + relativedelta(months=months)


def months_between(earlier: date, later: date) -> int:
    """Whole calendar months from `earlier` to `later`, counted back from `later`: the
    largest m with add_months(later, -m) on or after `earlier` (0 when later is not after)."""
    if later <= earlier:
        return 0
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    while months > 0 and add_months(later, -months) < earlier:
        months -= 1
    return months


def over_months(checked: date, today: date, months: int) -> bool:
    """Whether `checked` is over `months` months before `today` (the rule for stale)."""
    return checked < add_months(today, -months)


def period_in_words(months: int) -> str:
    """12 -> "a year", 24 -> "2 years", 18 -> "18 months", 1 -> "a month"."""
    if months % 12 == 0:
        years = months // 12
        return "a year" if years == 1 else f"{years} years"
    return "a month" if months == 1 else f"{months} months"


def ago_in_words(checked: date, today: date) -> str:
    """How long ago a date was, as people say it: today, yesterday, 3 days ago, last week,
    2 weeks ago, a month ago, 3 months ago, a year ago, over a year ago, over 2 years ago.
    A date in the future (a typing slip) reads as today."""
    days = (today - checked).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"{days} days ago"
    months = months_between(checked, today)
    if months == 0:
        return "last week" if days < 14 else f"{days // 7} weeks ago"
    if months < 12:
        return "a month ago" if months == 1 else f"{months} months ago"
    years = months // 12
    if months % 12 == 0 and add_months(today, -months) == checked:
        return "a year ago" if years == 1 else f"{years} years ago"
    return "over a year ago" if years == 1 else f"over {years} years ago"


@dataclass(frozen=True)
class LastChecked:
    """When a listing was last checked, for people and for the API.

    `words` is the sentence pages show ("Last checked 3 months ago", "Never checked");
    `stale` is the rule above; `warning` is what a stale listing says prominently ("Not
    checked for over a year"), None for a fresh one.
    """

    date: date | None
    ago: str | None
    stale: bool
    warning: str | None

    @property
    def words(self) -> str:
        return f"Last checked {self.ago}" if self.ago else "Never checked"

    @property
    def date_words(self) -> str | None:
        """The date itself, as people write it: "6 December 2026"."""
        return f"{self.date.day} {self.date.strftime('%B %Y')}" if self.date else None


def last_checked(
    last_verified: str | date | None,
    today: date,
    stale_after_months: int = DEFAULT_STALE_AFTER_MONTHS,
) -> LastChecked:
    """When an asset's details were last checked (its `last_verified`, an ISO date or None),
    in words, and whether that makes it stale. The one function every page, plan and the API
    use for it."""
    if not last_verified:
        return LastChecked(None, None, True, "Never checked")
    checked = (
        last_verified if isinstance(last_verified, date) else date.fromisoformat(last_verified)
    )
    stale = over_months(checked, today, stale_after_months)
    warning = f"Not checked for over {period_in_words(stale_after_months)}" if stale else None
    return LastChecked(checked, ago_in_words(checked, today), stale, warning)


@dataclass(frozen=True)
class Freshness:
    """The freshness rules a deployment chose: when a listing is stale, and after how many
    months unchecked search hides one (None: never)."""

    stale_after_months: int = DEFAULT_STALE_AFTER_MONTHS
    hide_after_months: int | None = None

    @classmethod
    def from_settings(cls, config: Mapping[str, Any]) -> Freshness:
        """The rules from the typed settings (app.config, or assetmap.settings.parse_all)."""
        hide = config.get("ASSETMAP_HIDE_UNCHECKED_AFTER_MONTHS") or None
        stale = config.get("ASSETMAP_STALE_AFTER_MONTHS") or DEFAULT_STALE_AFTER_MONTHS
        return cls(stale_after_months=stale, hide_after_months=hide)

    def stale_before(self, today: date) -> date:
        """Listings checked before this date (or never) are stale."""
        return add_months(today, -self.stale_after_months)

    def hidden_before(self, today: date) -> date | None:
        """Search leaves out listings checked before this date (and never checked ones);
        None when nothing is hidden (see `over_months`)."""
        if self.hide_after_months is None:
            return None
        return add_months(today, -self.hide_after_months)

    def is_stale(self, last_verified: str | None, today: date) -> bool:
        return last_checked(last_verified, today, self.stale_after_months).stale

    def ranking_notice(self) -> str:
        """What search results say about their order."""
        return (
            f"Listings not checked for over {period_in_words(self.stale_after_months)} are "
            "shown after others at a similar distance (within the same "
            f"{DISTANCE_BAND_M} m)."
        )


DEFAULT_FRESHNESS = Freshness()


def distance_band(distance_m: float) -> int:
    """Which band of DISTANCE_BAND_M metres a distance falls in: 0 for under 500 m."""
    return int(distance_m // DISTANCE_BAND_M)
