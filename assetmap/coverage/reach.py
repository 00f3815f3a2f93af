"""How far people must walk to the directory's assets, area by area and strand by strand.

Residents are approximated by postcode centroids: each postcode in the local table that falls
inside an area stands for the people living there (a postcode holds about 15 households;
the ONS Postcode Directory places it at the centre of its addresses). For each postcode and
strand we count the running assets within a walk of `minutes` (default 15) by the search's
own formula (`assetmap.search.nearby.walking_minutes`: straight-line distance x 1.3 for the
streets, at 4.8 km/h, rounded up), so "within 15 minutes" means within 923 m in a straight
line. The walk is the search's own great-circle distance, so a postcode's count is exactly
what the nearby search would find from it: the candidates come from a spatial index in British
National Grid metres (EPSG:27700), which differ from great-circle metres by less than 0.5% in
Great Britain, asked with a 1% margin; only the candidates in that margin are measured again as
the search measures (`_great_circle_m`, the expression of `assetmap.search.nearby.haversine_m`).

For each area and strand:

- `share`: the share of its postcodes with at least one such asset within the walk;
- `mean`: the mean number of such assets within the walk of its postcodes;
- `gap`: need x (1 - share), where need = (11 - IMD decile) / 10, so 1.0 in the most deprived
  tenth of England and 0.1 in the least. The highest gap is where need is highest and reach
  lowest; areas with the same gap are ordered by the lower mean first. An area without an IMD
  decile (wards and MSOAs, for which none is published) has no gap score.

Assets per 1,000 residents counts the running assets inside each area's boundary.

The work is vectorised: postcodes are placed in areas with one spatial-index query, and the
assets within the walk of every postcode are found with one STRtree `dwithin` query a block of
postcodes, counted with numpy; nothing loops over rows in Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assetmap.record.taxonomy import STRANDS
from assetmap.search.nearby import (
    _DIAMETER,
    _HALF_RAD,
    _RAD,
    WALKING_DETOUR,
    WALKING_METRES_PER_MINUTE,
)

if TYPE_CHECKING:
    import numpy as np

BRITISH_NATIONAL_GRID = "EPSG:27700"
DEFAULT_WALK_MINUTES = 15
# Postcodes asked about at once: bounds the memory of the (postcode, asset) pairs found.
_BLOCK = 100_000
# Grid metres are within 0.5% of great-circle metres in Great Britain; twice that is the
# band in which a candidate is measured again as the search measures it.
_MARGIN = 0.01


def walk_metres(minutes: int) -> float:
    """The straight-line distance the search counts as within `minutes` on foot."""
    return minutes * WALKING_METRES_PER_MINUTE / WALKING_DETOUR


def need_weight(decile: int | None) -> float | None:
    """1.0 for the most deprived tenth of England (decile 1), down to 0.1 for the least."""
    return None if decile is None else (11 - decile) / 10


def gap_score(decile: int | None, share: float | None) -> float | None:
    """The gap: need x (1 - share reached); None without a decile or without postcodes."""
    weight = need_weight(decile)
    if weight is None or share is None:
        return None
    return round(weight * (1 - share), 4)


@dataclass
class AreaReach:
    """One area's figures: `share` and `mean` by strand slug (None where it has no postcodes)."""

    code: str
    name: str
    postcodes: int
    population: int | None
    imd_rank: int | None
    imd_decile: int | None
    assets_inside: int
    share: dict[str, float | None]
    mean: dict[str, float | None]
    gap: dict[str, float | None]

    @property
    def assets_per_1000(self) -> float | None:
        if not self.population:
            return None
        return round(self.assets_inside * 1000 / self.population, 2)


def _points(lons, lats):
    import geopandas

    return geopandas.GeoSeries(geopandas.points_from_xy(lons, lats), crs="EPSG:4326").to_crs(
        BRITISH_NATIONAL_GRID
    )


def compute_reach(
    areas: list[dict],
    postcodes: tuple[np.ndarray, np.ndarray],
    assets: tuple[np.ndarray, np.ndarray, list[str]],
    *,
    minutes: int = DEFAULT_WALK_MINUTES,
    strands: list[str] | None = None,
) -> list[AreaReach]:
    """Each area's reach by strand.

    `areas`: dicts with code, name, geometry (GeoJSON, WGS84), and population, imd_rank and
    imd_decile (or None). `postcodes`: (lons, lats). `assets`: (lons, lats, strand slugs) of
    the running assets to count. `strands`: the strands reported (all four by default).
    """
    import geopandas
    import numpy as np
    from shapely.geometry import shape

    strands = list(strands or [s.slug for s in STRANDS])
    strand_index = {slug: i for i, slug in enumerate(strands)}
    n_strands = len(strands)
    area_shapes = geopandas.GeoSeries(
        [shape(a["geometry"]) for a in areas], crs="EPSG:4326"
    ).to_crs(BRITISH_NATIONAL_GRID)

    pc_lons, pc_lats = np.asarray(postcodes[0], float), np.asarray(postcodes[1], float)
    pc_points = _points(pc_lons, pc_lats)
    owner = _owners(area_shapes, pc_points)
    inside = owner >= 0
    pc_points, owner = pc_points[inside], owner[inside]
    pc_lonlat = (pc_lons[inside], pc_lats[inside])

    a_lons, a_lats, a_strands = assets
    a_lons, a_lats = np.asarray(a_lons, float), np.asarray(a_lats, float)
    codes = np.array([strand_index.get(s, -1) for s in a_strands], dtype=np.int64)
    keep = codes >= 0
    asset_points = _points(a_lons[keep], a_lats[keep])
    codes = codes[keep]

    counts = _counts_within(
        (pc_points.values, *pc_lonlat),
        (asset_points.values, a_lons[keep], a_lats[keep]),
        codes,
        n_strands,
        minutes,
    )

    n_areas = len(areas)
    postcodes_in = np.bincount(owner, minlength=n_areas)
    reached = np.zeros((n_areas, n_strands))
    total = np.zeros((n_areas, n_strands))
    for s in range(n_strands):
        reached[:, s] = np.bincount(owner, weights=counts[:, s] > 0, minlength=n_areas)
        total[:, s] = np.bincount(owner, weights=counts[:, s], minlength=n_areas)

    all_assets = _points(np.asarray(a_lons), np.asarray(a_lats))
    inside_counts = _assets_inside(area_shapes, all_assets, n_areas)

    results = []
    for i, area in enumerate(areas):
        n = int(postcodes_in[i])
        share = {s: (round(reached[i, k] / n, 4) if n else None) for s, k in strand_index.items()}
        mean = {s: (round(total[i, k] / n, 3) if n else None) for s, k in strand_index.items()}
        decile = area.get("imd_decile")
        results.append(
            AreaReach(
                code=area["code"],
                name=area["name"],
                postcodes=n,
                population=area.get("population"),
                imd_rank=area.get("imd_rank"),
                imd_decile=decile,
                assets_inside=int(inside_counts[i]),
                share=share,
                mean=mean,
                gap={s: gap_score(decile, share[s]) for s in strands},
            )
        )
    return results


def area_of_each(geometries: list[dict], lons, lats) -> np.ndarray:
    """For each point, the index of the GeoJSON area (WGS84) it lies in, or -1: the same rule
    coverage places postcodes by."""
    import geopandas
    import numpy as np
    from shapely.geometry import shape

    shapes = geopandas.GeoSeries([shape(g) for g in geometries], crs="EPSG:4326").to_crs(
        BRITISH_NATIONAL_GRID
    )
    return _owners(shapes, _points(np.asarray(lons, float), np.asarray(lats, float)))


def _owners(area_shapes, points) -> np.ndarray:
    """The index of the area each point lies in (on an edge two areas share, the one listed
    first), or -1."""
    import numpy as np

    owner = np.full(len(points), -1, dtype=np.int64)
    if len(points) == 0 or len(area_shapes) == 0:
        return owner
    point_at, area_at = area_shapes.sindex.query(points.values, predicate="intersects")
    order = np.lexsort((area_at, point_at))
    point_at, area_at = point_at[order], area_at[order]
    first = np.unique(point_at, return_index=True)[1]
    owner[point_at[first]] = area_at[first]
    return owner


def _counts_within(postcodes, assets, codes, n_strands: int, minutes: int) -> np.ndarray:
    """counts[p, s]: the assets of strand s within the walk of postcode p.

    `postcodes` and `assets` are (BNG points, lons, lats). Candidates are the assets within
    the walk plus 1% in grid metres; of those, the ones within 1% of the edge either way are
    measured again by great circle, as the search measures them."""
    import numpy as np
    import shapely
    from shapely import STRtree

    pc_points, pc_lons, pc_lats = postcodes
    asset_points, a_lons, a_lats = assets
    counts = np.zeros((len(pc_points), n_strands), dtype=np.int64)
    if len(pc_points) == 0 or len(asset_points) == 0:
        return counts
    tree = STRtree(asset_points)
    limit = walk_metres(minutes)
    pc_xy = shapely.get_coordinates(pc_points)
    a_xy = shapely.get_coordinates(asset_points)
    for start in range(0, len(pc_points), _BLOCK):
        block = slice(start, start + _BLOCK)
        size = len(pc_points[block])
        pc_at, asset_at = tree.query(
            pc_points[block], predicate="dwithin", distance=limit * (1 + _MARGIN)
        )
        grid = np.hypot(*(pc_xy[block][pc_at] - a_xy[asset_at]).T)
        near_edge = np.abs(grid - limit) <= limit * _MARGIN
        within = grid <= limit
        edge_at = np.flatnonzero(near_edge)
        within[edge_at] = (
            _great_circle_m(
                pc_lats[block][pc_at[edge_at]],
                pc_lons[block][pc_at[edge_at]],
                a_lats[asset_at[edge_at]],
                a_lons[asset_at[edge_at]],
            )
            <= limit
        )
        pc_at, asset_at = pc_at[within], asset_at[within]
        flat = np.bincount(pc_at * n_strands + codes[asset_at], minlength=size * n_strands)
        counts[block] = flat.reshape(size, n_strands)
    return counts


def _great_circle_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """`assetmap.search.nearby.haversine_m` over arrays, operation for operation."""
    import numpy as np

    s_lat = np.sin((lat2 - lat1) * _HALF_RAD)
    s_lon = np.sin((lon2 - lon1) * _HALF_RAD)
    h = s_lat * s_lat + np.cos(lat1 * _RAD) * np.cos(lat2 * _RAD) * s_lon * s_lon
    return _DIAMETER * np.arcsin(np.sqrt(np.minimum(1.0, h)))


def _assets_inside(area_shapes, asset_points, n_areas: int) -> np.ndarray:
    import numpy as np

    if len(asset_points) == 0:
        return np.zeros(n_areas, dtype=np.int64)
    owner = _owners(area_shapes, asset_points)
    return np.bincount(owner[owner >= 0], minlength=n_areas)


def estimate_population(
    areas: list[dict], lsoas: list[dict], postcodes: tuple[np.ndarray, np.ndarray]
) -> dict[str, int]:
    """Populations for areas that have none published, from their LSOAs' populations.

    Ward boundaries change more often than population estimates are published for them (the
    ONS 2020 estimates use the 2020 wards; Trafford's wards were redrawn in 2023), so an area
    without a population of its own gets one from the postcodes inside it: each LSOA's persons
    shared equally among its postcodes, summed over the area's postcodes. Areas that already
    have a population, and LSOAs without one, are left out.
    """
    import geopandas
    import numpy as np
    from shapely.geometry import shape

    wanted = [i for i, a in enumerate(areas) if a.get("population") is None]
    counted = [lsoa for lsoa in lsoas if lsoa.get("population")]
    if not wanted or not counted:
        return {}
    points = _points(*postcodes)
    lsoa_of = _owners(
        geopandas.GeoSeries([shape(a["geometry"]) for a in counted], crs="EPSG:4326").to_crs(
            BRITISH_NATIONAL_GRID
        ),
        points,
    )
    area_of = _owners(
        geopandas.GeoSeries([shape(areas[i]["geometry"]) for i in wanted], crs="EPSG:4326").to_crs(
            BRITISH_NATIONAL_GRID
        ),
        points,
    )
    placed = lsoa_of >= 0
    per_lsoa = np.bincount(lsoa_of[placed], minlength=len(counted))
    persons = np.array([lsoa["population"] for lsoa in counted], dtype=float)
    share = np.zeros(len(points))
    share[placed] = persons[lsoa_of[placed]] / per_lsoa[lsoa_of[placed]]
    inside = area_of >= 0
    sums = np.bincount(area_of[inside], weights=share[inside], minlength=len(wanted))
    return {areas[i]["code"]: int(round(sums[k])) for k, i in enumerate(wanted) if sums[k] > 0}


def ranked_by_gap(results: list[AreaReach], strand: str) -> list[AreaReach]:
    """Highest gap first; then the lower mean; areas without a gap score last, by name."""

    def key(r: AreaReach):
        gap = r.gap.get(strand)
        mean = r.mean.get(strand)
        return (
            gap is None,
            -(gap or 0.0),
            math.inf if mean is None else mean,
            r.name,
        )

    return sorted(results, key=key)
