"""The lookups that place rows with no coordinates: the postcode table and the National Grid.

What a row's cells say about where it is, and what is reported about it, is read in
assetmap.imports.placing, which calls these.

Audits rarely carry coordinates but nearly always carry a postcode. The postcode is looked up
in the local postcode table, so nothing leaves the server. A postcode missing from the table
is placed at its sector's centre (or its district's) only when the table holds that sector or
district in full, as it does after the national ONS Postcode Directory is loaded: then the
postcode is new or rare and the centre is a fair guess. A table that holds only some of the
district (a borough's extract, as the demo loads) would put a "centre" wherever the few
postcodes it holds happen to be, kilometres out, so the row is refused instead, saying what
the table covers and how an administrator loads more. Lookups are cached per import, because
the same few hundred postcodes recur through a file of thousands of rows.

(A search typed by a person follows the same rule, assetmap.search.postcodes.PostcodeCoverage:
see locate_postcode.)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from assetmap.record.fields import FROM_DISTRICT, FROM_POSTCODE, FROM_SECTOR
from assetmap.search.postcodes import (
    PostcodeCoverage,
    district_of,
    postcode_area,
    postcode_coverage,
    sector_of,
)

CACHE_LIMIT = 100_000
_DISTRICTS_NAMED = 12  # districts named in a refusal before "and N more"
LOAD_COMMAND = "assetmap postcodes load"


@dataclass(frozen=True)
class Place:
    """Where a postcode put a row: `source` is how (the postcode's own point, or the centre of
    its sector or district: assetmap.record.fields.POSITION_SOURCES), `words` says so."""

    lat: float
    lon: float
    source: str
    words: str

    @property
    def exact(self) -> bool:
        return self.source == FROM_POSTCODE


class Geocoder:
    """Postcode lookups against one database connection, remembered for the import's length."""

    def __init__(self, db):
        self.db = db
        self._cache: dict[str, Place | str] = {}
        self._has_postcodes: bool | None = None
        self._coverage: PostcodeCoverage | None = None
        self._covers: str | None = None

    def has_postcodes(self) -> bool:
        """Whether any postcodes have been loaded at all (checked once)."""
        if self._has_postcodes is None:
            from assetmap.store import postcodes as store

            self._has_postcodes = store.has_postcodes(self.db)
        return self._has_postcodes

    def exists(self, postcode: str) -> bool:
        """Whether a canonical postcode is in the table itself."""
        place = self.place(postcode)
        return isinstance(place, Place) and place.exact

    def place(self, postcode: str) -> Place | str:
        """The place of a canonical postcode, or why it cannot be placed (a message)."""
        found = self._cache.get(postcode)
        if found is None:
            found = self._look_up(postcode)
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            self._cache[postcode] = found
        return found

    def held_in_full(self, postcode: str) -> set[str]:
        """Of the postcode's area ("WA"), district ("WA15") and sector ("WA15 0"), those a
        loaded file holds every postcode of (PostcodeCoverage decides, for searches too)."""
        if self._coverage is None:
            self._coverage = postcode_coverage(self.db)
        return self._coverage.held_in_full(postcode)

    def _look_up(self, postcode: str) -> Place | str:
        from assetmap.store import postcodes as store

        if not self.has_postcodes():
            return (
                "no postcodes have been loaded, so it cannot be placed from its postcode; give "
                f"lat and lon, or ask an administrator to load them with `{LOAD_COMMAND}`"
            )
        found = store.find_postcode(self.db, postcode)
        if found:
            return Place(round(found[0], 6), round(found[1], 6), FROM_POSTCODE, postcode)
        full = self.held_in_full(postcode)
        sector, district = sector_of(postcode), district_of(postcode)
        whole_district = bool(full - {sector})
        if full and (centre := store.area_centre(self.db, sector)):
            return self._centre(centre, FROM_SECTOR, f"postcode sector {sector}", postcode)
        if whole_district and (centre := store.area_centre(self.db, district)):
            return self._centre(centre, FROM_DISTRICT, f"postcode district {district}", postcode)
        return self._refusal(postcode, has_district=store.area_centre(self.db, district))

    @staticmethod
    def _centre(centre: tuple[float, float], source: str, area: str, postcode: str) -> Place:
        words = (
            f"the centre of {area} ({postcode} itself is not in our postcode list, which holds "
            "that area in full, so it may be newer than the list)"
        )
        return Place(round(centre[0], 6), round(centre[1], 6), source, words)

    def _refusal(self, postcode: str, *, has_district: object) -> str:
        district = district_of(postcode)
        if has_district:
            missing = (
                f"{postcode} is not in our postcode list, and the list is not known to hold "
                f"every postcode of district {district}, so the centre of the ones it has "
                "would be a guess"
            )
        else:
            missing = (
                f"{postcode} is not in our postcode list, which has none in district {district}"
            )
        return (
            f"{missing}. The list covers {self.covers()}. Check the postcode, or give lat and "
            "lon; or ask an administrator to load the ONS Postcode Directory for postcode area "
            f"{postcode_area(postcode)} (or the whole country) with `{LOAD_COMMAND} FILE`, "
            "then import this file again"
        )

    def covers(self) -> str:
        """What the postcode table covers, in words: "postcodes in districts M15, M16, ..."
        (with the areas held in full, and the files loaded, when they are known)."""
        if self._covers is None:
            from assetmap.store import postcodes as store

            districts = store.districts(self.db)
            named = ", ".join(districts[:_DISTRICTS_NAMED])
            if len(districts) > _DISTRICTS_NAMED:
                named += f" and {len(districts) - _DISTRICTS_NAMED:,} more"
            plural = "s" if len(districts) != 1 else ""
            words = f"postcodes in district{plural} {named}"
            files = store.loaded_files(self.db)
            full = sorted({area for file in files for area in file["complete_areas"]})
            words += f" (in full: {', '.join(full)})" if full else " (not known to be in full)"
            if files:
                words += f", loaded from {', '.join(file['file_name'] for file in files)}"
            self._covers = words
        return self._covers


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
