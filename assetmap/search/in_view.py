"""The list under the map: what matches the map's filters, and, once the map has been moved to
a postcode or to the person's location, what is in view with the nearest first.

A resident who types a postcode wants what is near it, not the whole borough from A to Z, so
the list then holds only the places in the map's view (its `bbox`), ordered by the distance
from that point, with the distance and the walking time in the same words /search uses:
the distance and minutes come from `search.nearby` (one place for each fact), never worked
out again here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assetmap.search.nearby import haversine_m, walking_minutes
from assetmap.search.parameters import ParameterError, shown
from assetmap.store import assets as store
from assetmap.store.assets import AssetFilter

if TYPE_CHECKING:
    import sqlite_utils

# Past this many places in view the list is not sorted by distance (every one would have to
# be read to sort them); the list says to zoom in instead. A view of a few streets, where a
# postcode puts the map, holds far fewer.
MAX_SORTED = 5000
# A place's words ("WA14 1AH", "your location") are shown in the heading; longer is not one.
MAX_LABEL_CHARS = 60
NEAR_EXAMPLE = "use lat,lon, such as 53.3878,-2.3490"


@dataclass(frozen=True)
class Near:
    """The point the list is ordered from, and what to call it in the heading."""

    lat: float
    lon: float
    label: str


def parse_near(text: str | None, label: str | None) -> Near | None:
    """Read `near=lat,lon` (and `near_label`) from the query string; None when absent.

    Raises ParameterError naming `near` when it is not a point, so the page answers 400 with
    the fix rather than listing from somewhere else.
    """
    if not text:
        return None
    parts = text.split(",")
    if len(parts) != 2:
        raise ParameterError("near", f"needs two numbers; {NEAR_EXAMPLE}")
    try:
        lat, lon = (float(p.strip()) for p in parts)
    except ValueError:
        raise ParameterError(
            "near", f"{shown(text)} has something that is not a number; {NEAR_EXAMPLE}"
        ) from None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise ParameterError("near", f"latitude -90..90 and longitude -180..180; {NEAR_EXAMPLE}")
    words = " ".join((label or "").split())[:MAX_LABEL_CHARS] or f"{lat:.5f}, {lon:.5f}"
    return Near(lat, lon, words)


@dataclass(frozen=True)
class Placed:
    """A place in the list with how far it is from the point (None when not ordered by it)."""

    record: dict
    distance_m: float | None = None
    walking_minutes: int | None = None


@dataclass(frozen=True)
class ListPage:
    places: list[Placed]
    total: int
    near: Near | None  # the list is nearest first from here; None when by name
    too_many_to_sort: bool = False  # near was asked, but the view holds too many to sort


def list_page(
    db: sqlite_utils.Database, listing: AssetFilter, near: Near | None, *, limit: int, offset: int
) -> ListPage:
    """One page of the list: by name, or nearest first from `near` when the listing is limited
    to a map area (`bbox`) small enough to sort."""
    if near is not None and listing.bbox is not None:
        records, total = store.list_assets(db, listing, limit=MAX_SORTED + 1, offset=0)
        if total <= MAX_SORTED:
            placed = []
            for record in records:
                distance = haversine_m(near.lat, near.lon, record["lat"], record["lon"])
                placed.append(Placed(record, distance, walking_minutes(distance)))
            placed.sort(key=lambda p: (p.distance_m, p.record["name"].casefold(), p.record["id"]))
            return ListPage(placed[offset : offset + limit], total, near)
    records, total = store.list_assets(db, listing, limit=limit, offset=offset)
    return ListPage(
        [Placed(r) for r in records], total, None, too_many_to_sort=near is not None and total > 0
    )
