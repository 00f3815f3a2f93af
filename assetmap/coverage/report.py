"""The coverage figures as the command, the page and the API give them: one computation.

`compute_coverage` reads the areas, postcodes and running assets from the store and computes
each area's reach (`assetmap.coverage.reach`); `assetmap coverage`, `/coverage` and
`/api/v1/coverage` all call it, so the CSV, the table and the GeoJSON hold the same figures.
For Trafford it takes about a second, so the result is kept per process for each (database,
level, kinds, walk) and used again until the data it came from changes (an asset written, areas,
need, population or postcodes loaded: `store.areas.coverage_version`).

The query parameters (level, strand, kind) are declared once here, read with the search's own
reader (a bad one is a 400 naming it) and described from the same declarations in the OpenAPI
document.
"""

from __future__ import annotations

import csv
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from assetmap.coverage.areas import LEVELS
from assetmap.coverage.reach import AreaReach, compute_reach, estimate_population, ranked_by_gap
from assetmap.record import taxonomy
from assetmap.record.taxonomy import STRANDS, Term
from assetmap.search import parameters
from assetmap.search.parameters import Parameter
from assetmap.store import areas as store

LEVEL_TERMS = (
    Term("lsoa", "Neighbourhoods (LSOAs)"),
    Term("ward", "Wards"),
    Term("msoa", "Larger neighbourhoods (MSOAs)"),
)
assert {t.slug for t in LEVEL_TERMS} == set(LEVELS)

PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "level",
        parameters.ONE_OF,
        "The areas: lsoa (neighbourhoods of about 1,500 people), ward or msoa.",
        terms=LEVEL_TERMS,
        what="a level of areas",
        default="lsoa",
    ),
    Parameter(
        "strand",
        parameters.ONE_OF,
        "Rank the areas by this strand's gap (the first strand by default).",
        terms=STRANDS,
        what="a strand",
        default=STRANDS[0].slug,
    ),
    Parameter(
        "kind",
        parameters.TERMS,
        "Count only assets of these kinds (all kinds by default).",
        terms=taxonomy.KINDS,
        what="a kind",
        attribute="kinds",
    ),
)

GAP_FORMULA = (
    "gap = need × (1 − share), where need = (11 − IMD decile) ÷ 10 (1.0 in England's most "
    "deprived tenth, 0.1 in the least) and share is the share of the area's postcodes with at "
    "least one asset of the strand within the walk"
)


@dataclass(frozen=True)
class CoverageQuery:
    level: str
    strand: str
    kinds: tuple[str, ...]

    def as_args(self) -> dict[str, list[str]]:
        return parameters.written(PARAMETERS, self)


def parse_coverage(args: Mapping[str, Sequence[str]]) -> CoverageQuery:
    """The level, strand and kinds asked for; ParameterError naming a bad one."""
    values = parameters.read(PARAMETERS, args)
    return CoverageQuery(values["level"], values["strand"], tuple(values["kinds"] or ()))


@dataclass
class Coverage:
    """Every area's figures at one level, for one set of kinds and one walk."""

    level: str
    minutes: int
    kinds: tuple[str, ...]
    results: list[AreaReach]
    geometry: dict[str, dict]  # by area code, GeoJSON in WGS84
    wards: dict[str, str] = field(default_factory=dict)  # an LSOA's ward, by code
    estimated: int = 0  # areas whose population is estimated from their LSOAs'

    def ranked(self, strand: str) -> list[AreaReach]:
        return ranked_by_gap(self.results, strand)


_CACHE: OrderedDict[tuple, tuple[tuple, Coverage]] = OrderedDict()
_CACHE_SIZE = 16
_LOCK = threading.Lock()


def compute_coverage(
    db, level: str, kinds: Sequence[str] = (), minutes: int = 15, *, key: str = ""
) -> Coverage | None:
    """The coverage of `level`'s areas; None when none are loaded. With `key` (the database's
    path), the result is kept and given again while the data is unchanged."""
    kinds = tuple(sorted(set(kinds)))
    version = store.coverage_version(db)
    cache_key = (key, level, kinds, minutes)
    if key:
        with _LOCK:
            kept = _CACHE.get(cache_key)
            if kept is not None and kept[0] == version:
                _CACHE.move_to_end(cache_key)
                return kept[1]
    coverage = _compute(db, level, kinds, minutes)
    if key and coverage is not None:
        with _LOCK:
            _CACHE[cache_key] = (version, coverage)
            _CACHE.move_to_end(cache_key)
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return coverage


def _compute(db, level: str, kinds: tuple[str, ...], minutes: int) -> Coverage | None:
    areas = store.areas_with_figures(db, level)
    if not areas:
        return None
    postcodes = store.postcode_positions(db)
    assets = store.running_asset_positions(db, kinds)
    lsoas = store.areas_with_figures(db, "lsoa") if level != "lsoa" else []
    estimated = estimate_population(areas, lsoas, postcodes)
    for area in areas:
        if area["code"] in estimated:
            area["population"] = estimated[area["code"]]
    results = compute_reach(areas, postcodes, assets, minutes=minutes)
    wards = _wards_of(areas, store.areas_with_figures(db, "ward")) if level == "lsoa" else {}
    return Coverage(
        level=level,
        minutes=minutes,
        kinds=kinds,
        results=results,
        geometry={a["code"]: a["geometry"] for a in areas},
        wards=wards,
        estimated=len(estimated),
    )


def _wards_of(areas: list[dict], wards: list[dict]) -> dict[str, str]:
    """Each area's ward: the ward holding a point inside the area (LSOAs and wards do not
    always nest, so this is the ward holding most of a straddling LSOA's middle, not all)."""
    if not wards or not areas:
        return {}
    import geopandas
    from shapely.geometry import shape

    ward_shapes = geopandas.GeoSeries([shape(w["geometry"]) for w in wards], crs="EPSG:4326")
    points = geopandas.GeoSeries(
        [shape(a["geometry"]).representative_point() for a in areas], crs="EPSG:4326"
    )
    point_at, ward_at = ward_shapes.sindex.query(points.values, predicate="intersects")
    found: dict[str, str] = {}
    for p, w in sorted(zip(point_at.tolist(), ward_at.tolist(), strict=True)):
        found.setdefault(areas[p]["code"], wards[w]["name"])
    return found


# --- the table's order ---------------------------------------------------------------------

SORTS = {
    "gap": "Gap (highest first)",
    "name": "Area name",
    "ward": "Ward",
    "decile": "IMD decile (most deprived first)",
    "population": "Population (largest first)",
    **{f"reach_{s.slug}": f"Reach: {s.label} (lowest first)" for s in STRANDS},
}
SORT = Parameter(
    "sort",
    parameters.ONE_OF,
    "The table's order.",
    terms=tuple(Term(slug, label) for slug, label in SORTS.items()),
    what="an order of the table",
    default="gap",
)


def sorted_rows(coverage: Coverage, strand: str, sort: str) -> list[AreaReach]:
    """The areas in the table's order: by the strand's gap unless another column is chosen
    (ties, and missing values, in gap order)."""
    ranked = coverage.ranked(strand)
    if sort == "gap":
        return ranked
    order = {r.code: i for i, r in enumerate(ranked)}

    def missing_last(value):
        return (value is None, value if value is not None else 0)

    keys = {
        "name": lambda r: (r.name.casefold(),),
        "ward": lambda r: (coverage.wards.get(r.code) is None, coverage.wards.get(r.code, "")),
        "decile": lambda r: missing_last(r.imd_decile),
        "population": lambda r: missing_last(-(r.population or 0) if r.population else None),
    }
    if sort.startswith("reach_"):
        slug = sort.removeprefix("reach_")
        key = lambda r: missing_last(r.share.get(slug))  # noqa: E731
    else:
        key = keys[sort]
    return sorted(ranked, key=lambda r: (*key(r), order[r.code]))


# --- the answers ----------------------------------------------------------------------------

CSV_COLUMNS = (
    ["area_code", "area_name", "ward", "postcodes", "population", "imd_rank", "imd_decile"]
    + ["assets_inside", "assets_per_1000"]
    + [f"{s.slug}_{what}" for s in STRANDS for what in ("share", "mean", "gap")]
)


def _row(r: AreaReach, ward: str | None = None) -> list:
    return (
        [r.code, r.name, ward, r.postcodes, r.population, r.imd_rank, r.imd_decile]
        + [
            r.assets_inside,
            r.assets_per_1000,
        ]
        + [v for s in STRANDS for v in (r.share[s.slug], r.mean[s.slug], r.gap[s.slug])]
    )


def write_coverage_csv(
    results: Sequence[AreaReach], f, wards: dict[str, str] | None = None
) -> None:
    """The coverage table as CSV, one row an area (with its ward, for an LSOA), a column set
    per strand."""
    wards = wards or {}
    writer = csv.writer(f)
    writer.writerow(CSV_COLUMNS)
    for r in results:
        writer.writerow(["" if v is None else v for v in _row(r, wards.get(r.code))])


def area_properties(coverage: Coverage, r: AreaReach) -> dict:
    """One area's figures as the API gives them."""
    return {
        "code": r.code,
        "name": r.name,
        "ward": coverage.wards.get(r.code),
        "postcodes": r.postcodes,
        "population": r.population,
        "imd_rank": r.imd_rank,
        "imd_decile": r.imd_decile,
        "assets_inside": r.assets_inside,
        "assets_per_1000": r.assets_per_1000,
        "strands": {
            s.slug: {"share": r.share[s.slug], "mean": r.mean[s.slug], "gap": r.gap[s.slug]}
            for s in STRANDS
        },
    }


def feature_collection(coverage: Coverage, query: CoverageQuery) -> dict:
    """The areas as GeoJSON, ranked by the strand's gap, with what they were computed for."""
    return {
        "type": "FeatureCollection",
        "level": coverage.level,
        "strand": query.strand,
        "kinds": list(coverage.kinds),
        "walk_minutes": coverage.minutes,
        "gap_formula": GAP_FORMULA,
        "features": [
            {
                "type": "Feature",
                "id": r.code,
                "geometry": coverage.geometry[r.code],
                "properties": area_properties(coverage, r),
            }
            for r in coverage.ranked(query.strand)
        ],
    }


def write_geopackage(coverage: Coverage, results: Sequence[AreaReach], path) -> None:
    """The areas with the CSV's columns (and the ward) as a GeoPackage layer, in WGS84."""
    import geopandas
    from shapely.geometry import shape

    rows = [
        dict(zip(CSV_COLUMNS, _row(r, coverage.wards.get(r.code)), strict=True)) for r in results
    ]
    frame = geopandas.GeoDataFrame(
        rows,
        geometry=[shape(coverage.geometry[r.code]) for r in results],
        crs="EPSG:4326",
    )
    frame.to_file(path, driver="GPKG", layer=f"coverage_{coverage.level}")
