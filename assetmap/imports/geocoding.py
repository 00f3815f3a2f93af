"""The lookups that place rows with no coordinates: the postcode table and the National Grid.

What a row's cells say about where it is, and what is reported about it, is read in
assetmap.imports.placing, which calls these.

Audits rarely carry coordinates but nearly always carry a postcode. The postcode is looked up
in the local postcode table (assetmap.search.postcodes.locate_postcode, which falls back to the
postcode's sector and then its district), so nothing leaves the server. Lookups are cached
per import, because the same few hundred postcodes recur through a file of thousands of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from assetmap.search.postcodes import POSTCODE, PostcodeError, locate_postcode

CACHE_LIMIT = 100_000


@dataclass(frozen=True)
class Place:
    """Where a postcode put a row: `exact` when the postcode itself is in the table."""

    lat: float
    lon: float
    exact: bool
    words: str


class Geocoder:
    """Postcode lookups against one database connection, remembered for the import's length."""

    def __init__(self, db):
        self.db = db
        self._cache: dict[str, Place | str] = {}
        self._has_postcodes: bool | None = None

    def has_postcodes(self) -> bool:
        """Whether any postcodes have been loaded at all (checked once)."""
        if self._has_postcodes is None:
            from assetmap.store import postcodes as store

            self._has_postcodes = store.has_postcodes(self.db)
        return self._has_postcodes

    def place(self, postcode: str) -> Place | str:
        """The place of a canonical postcode, or why it cannot be placed (a message)."""
        found = self._cache.get(postcode)
        if found is None:
            found = self._look_up(postcode)
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            self._cache[postcode] = found
        return found

    def _look_up(self, postcode: str) -> Place | str:
        if not self.has_postcodes():
            return (
                "no postcodes have been loaded, so it cannot be placed from its postcode; give "
                "lat and lon, or ask an administrator to run `assetmap postcodes load`"
            )
        try:
            location = locate_postcode(self.db, postcode)
        except PostcodeError as e:
            if e.reason == PostcodeError.INVALID:
                return f"{postcode} is not a UK postcode; check it, or give lat and lon"
            return (
                f"{postcode} is not in our postcode list, and nor is any postcode in its "
                "district; check the postcode, or give lat and lon"
            )
        return Place(location.lat, location.lon, location.match == POSTCODE, location.words)


@cache
def _grid_transformer():
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def from_grid(easting: float, northing: float) -> tuple[float, float]:
    """(lat, lon) in WGS84 of a British National Grid easting and northing."""
    lon, lat = _grid_transformer().transform(easting, northing)
    return round(lat, 6), round(lon, 6)


def looks_like_grid(x: float, y: float) -> bool:
    """Whether an (x, y) pair can only be a British National Grid easting and northing."""
    return (abs(x) > 180 or abs(y) > 90) and 0 <= x <= 800_000 and 0 <= y <= 1_400_000
