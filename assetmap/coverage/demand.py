"""Unmet demand, privately: searches counted by the LSOA of their centre.

Each search with a centre (the page's or the API's first page of results) adds one to a count
kept by month ("2026-12"), by the LSOA its centre lies in, and by whether it found fewer than
`FEW` assets. Nothing else is kept: no query text, no postcode, no day or time, nobody's
identity. A centre outside the LSOAs loaded (or with none loaded) is not counted. Counts older
than `MONTHS_KEPT` months are deleted when a search is counted.

The LSOA of a centre is found with a point-in-polygon query on an STRtree of the LSOAs' shapes,
built once a process (per database) and built again when the LSOAs are loaded again; a search
pays for one small query of the areas table's version and one short write, which is skipped
rather than waited for when an import holds the database.

Counts are shown to coordinators only, and a count under `SMALLEST_SHOWN` is shown as "fewer
than 5", so that a count cannot point at one person's searches in a small area.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from assetmap.store import search_counts as store

FEW = 3
SMALLEST_SHOWN = 5
MONTHS_KEPT = 12


def month_of(when: datetime | None = None) -> str:
    """'YYYY-MM' of `when` (now, in UTC, by default): the finest time a count keeps."""
    return (when or datetime.now(UTC)).strftime("%Y-%m")


def oldest_month_kept(month: str) -> str:
    """The first month of the `MONTHS_KEPT` that end with `month` ('2026-12' -> '2026-01')."""
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + (number - 1) - (MONTHS_KEPT - 1)
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def shown(count: int) -> str:
    """A count as a coordinator sees it: "fewer than 5" below 5 (but 0 is 0)."""
    if 0 < count < SMALLEST_SHOWN:
        return f"fewer than {SMALLEST_SHOWN}"
    return f"{count:,}"


class LsoaLocator:
    """Which LSOA a point lies in, from an STRtree of the LSOAs' shapes (WGS84)."""

    def __init__(self, shapes: list[tuple[str, dict]]):
        from shapely import STRtree
        from shapely.geometry import shape

        self.codes = [code for code, _ in shapes]
        self.tree = STRtree([shape(geometry) for _, geometry in shapes]) if shapes else None

    def locate(self, lon: float, lat: float) -> str | None:
        """The code of the LSOA the point lies in (on a shared edge, the first by code)."""
        if self.tree is None:
            return None
        from shapely import Point

        found = self.tree.query(Point(lon, lat), predicate="intersects")
        return self.codes[int(min(found))] if len(found) else None


@dataclass
class _Cached:
    version: tuple
    locator: LsoaLocator


_LOCATORS: dict[str, _Cached] = {}
_LOCK = threading.Lock()


def locator_for(db, key: str) -> LsoaLocator:
    """The process's locator for the database `key` (its path), built again when the LSOAs
    loaded have changed."""
    version = store.lsoa_version(db)
    cached = _LOCATORS.get(key)
    if cached is not None and cached.version == version:
        return cached.locator
    with _LOCK:
        cached = _LOCATORS.get(key)
        if cached is None or cached.version != version:
            cached = _Cached(version, LsoaLocator(store.lsoa_shapes(db)))
            _LOCATORS[key] = cached
    return cached.locator


def count_search(
    db, key: str, lon: float, lat: float, found: int, when: datetime | None = None
) -> str | None:
    """Count one search from (lon, lat) that found `found` assets; the LSOA counted in, or
    None when the centre is in no LSOA loaded (or the database was too busy to count)."""
    lsoa = locator_for(db, key).locate(lon, lat)
    if lsoa is None:
        return None
    month = month_of(when)
    written = store.count_search(db, month, lsoa, found < FEW, oldest_month_kept(month))
    return lsoa if written else None


@dataclass(frozen=True)
class AreaDemand:
    """One LSOA's searches over the months kept, in words fit to show."""

    searches: int
    found_little: int

    @property
    def searches_shown(self) -> str:
        """The total, unless it would give away a small count by subtraction: "6 of 9" tells
        that 3 searches found enough, so the total of such a row is "6 or a few more"."""
        found_enough = self.searches - self.found_little
        if self.searches >= SMALLEST_SHOWN and 0 < found_enough < SMALLEST_SHOWN:
            return f"{self.found_little_shown} or a few more"
        return shown(self.searches)

    @property
    def found_little_shown(self) -> str:
        return shown(self.found_little)


def demand_by_lsoa(db, when: datetime | None = None) -> dict[str, AreaDemand]:
    """Each LSOA's counts over the last `MONTHS_KEPT` months."""
    oldest = oldest_month_kept(month_of(when))
    return {
        code: AreaDemand(total, little)
        for code, (total, little) in store.counts_by_lsoa(db, oldest).items()
    }
