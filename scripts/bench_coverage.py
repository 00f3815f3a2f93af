"""Benchmark the coverage figures: Trafford for real, and a synthetic England.

    .venv/bin/python scripts/bench_coverage.py [--repeat 5] [--england-areas 33000]
        [--england-postcodes 1500000] [--england-assets 200000] [--loop-sample 2000]

## What it measures

1. **Trafford** (real data from data/areas and data/postcodes, the demo's 374 assets): the
   whole computation `assetmap coverage` does (the 138 LSOAs' reach for every strand from
   11,127 postcodes, with `compute_reach`), `--repeat` times: median and p95, against the
   target of 2 s.
2. **A synthetic England** (labelled synthetic: no real place, postcode or asset). Areas:
   33,000 Voronoi cells of seed points drawn from the same mix of towns and countryside as
   scripts/bench_search.py draws its assets (65% around 41 towns, the rest spread over a rough
   outline of England), so areas are small where people are many, as LSOAs are; each cell is
   cut to the outline. Postcodes: 1.5 million points from the same mix. Assets: the 200,000
   synthetic assets of bench_search.py's cached database (built in --work when absent; every
   id starts "synthetic-"). Time and the process's peak resident memory for the whole
   computation, against the targets of 2 minutes and 4 GB.
3. **The plain loop, in the same run**: the nearby search (`assetmap.search.nearby.search`,
   the search behind /api/v1/search, on the same 200,000-asset SQLite database) asked once for
   each postcode of a random sample (--loop-sample), with the walk's radius and a limit high
   enough for every asset within it, counting the hits by strand. That is what someone would
   write with the app's own search and no spatial library: its time per postcode is
   extrapolated to all the postcodes (the loop does not even place each postcode in its area,
   which is left out in its favour). The ratio loop / vectorised is printed against the
   target of 50x. The sample's counts are checked against the vectorised ones, which measure
   the walk as the search does (great circles), so they should all agree.

How the baseline was tuned: the search runs in process on one open connection (no HTTP), on
a database built as bench_search.py builds it (its keyword index optimised, ANALYZE run), and
each postcode is one query (no strand filter), not one a strand.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from assetmap.coverage.figures import read_need, read_population  # noqa: E402
from assetmap.coverage.reach import compute_reach, walk_metres  # noqa: E402
from assetmap.record.taxonomy import STRANDS  # noqa: E402
from assetmap.search.nearby import SearchQuery, search  # noqa: E402
from assetmap.store import connect  # noqa: E402

DATA = ROOT / "data"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def trafford_inputs():
    """Trafford's LSOAs with need and population, its postcodes, and the demo's assets."""
    import csv
    import json

    from assetmap.coverage.areas import read_areas

    need = read_need(DATA / "areas" / "imd2019_trafford_lsoa11.csv").values
    population = read_population(
        DATA / "areas" / "mid-year_population_estimates_all_geographies.csv"
    ).values
    areas = [
        {
            "code": a.code,
            "name": a.name,
            "geometry": a.geometry,
            "population": population.get(a.code, (None,))[0],
            "imd_rank": need.get(a.code, (None, None))[0],
            "imd_decile": need.get(a.code, (None, None))[1],
        }
        for a in read_areas(
            DATA / "areas" / "lsoa_2011_trafford_lsoa_generalised.geojson", "lsoa"
        ).areas
    ]
    with (DATA / "postcodes" / "trafford_postcodes_onspd_2022-06_lsoa11.csv").open() as f:
        rows = list(csv.DictReader(f))
    postcodes = (
        np.array([float(r["lon"]) for r in rows]),
        np.array([float(r["lat"]) for r in rows]),
    )
    features = json.loads((DATA / "assets.geojson").read_text())["features"]
    running = [f for f in features if f["properties"].get("status", "active") == "active"]
    assets = (
        np.array([f["geometry"]["coordinates"][0] for f in running]),
        np.array([f["geometry"]["coordinates"][1] for f in running]),
        [f["properties"]["strand"] for f in running],
    )
    return areas, postcodes, assets


def bench_trafford(repeat: int) -> float:
    areas, postcodes, assets = trafford_inputs()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        compute_reach(areas, postcodes, assets)
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(
        f"\n== Trafford (real): {len(areas)} LSOAs, {len(postcodes[0]):,} postcodes, "
        f"{len(assets[0])} running assets, {repeat} runs"
    )
    print(
        f"  compute_reach: median {median:.2f} s, p95 {percentile(times, 95):.2f} s "
        f"(target 2 s: {'met' if median <= 2 else 'NOT met'})"
    )
    return median


def synthetic_areas(n: int, rng: np.random.Generator) -> list[dict]:
    """n Voronoi cells of points drawn as bench_search.py draws assets, cut to England."""
    import shapely
    from bench_search import _england_polygon, sample_points
    from shapely.geometry import mapping

    lats, lons, _ = sample_points(n, rng)
    england = _england_polygon()
    cells = shapely.voronoi_polygons(shapely.multipoints(np.column_stack([lons, lats])))
    parts = shapely.intersection(shapely.get_parts(cells), england)
    parts = [p for p in parts if not p.is_empty and p.area > 0]
    return [
        {
            "code": f"E01{i:06d}",
            "name": f"synthetic area {i}",
            "geometry": mapping(shape),
            "imd_decile": int(rng.integers(1, 11)),
        }
        for i, shape in enumerate(parts)
    ]


def bench_england(args) -> tuple[float, int, list[dict], tuple]:
    from bench_search import ensure_database, sample_points

    rng = np.random.default_rng(args.seed)
    print(
        f"\n== A synthetic England: {args.england_areas:,} areas, "
        f"{args.england_postcodes:,} postcodes, {args.england_assets:,} assets (all synthetic)"
    )
    started = time.perf_counter()
    areas = synthetic_areas(args.england_areas, rng)
    p_lats, p_lons, _ = sample_points(args.england_postcodes, rng)
    postcodes = (p_lons, p_lats)
    path = ensure_database(args.work, args.england_assets, args.seed)
    db = connect(path)
    from assetmap.store.areas import running_asset_positions

    assets = running_asset_positions(db)
    db.close()
    print(
        f"  made in {time.perf_counter() - started:.0f} s ({len(areas):,} areas after cutting "
        f"to the outline; {len(assets[0]):,} running assets in {path.name})"
    )
    before = peak_rss_mb()
    started = time.perf_counter()
    results = compute_reach(areas, postcodes, assets)
    seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    placed = sum(r.postcodes for r in results)
    print(
        f"  compute_reach: {seconds:.1f} s, {placed:,} postcodes placed in areas; peak resident "
        f"memory {peak:,.0f} MB (before: {before:,.0f} MB)"
    )
    print(
        f"  targets: under 2 minutes: {'met' if seconds <= 120 else 'NOT met'}; "
        f"under 4 GB: {'met' if peak <= 4096 else 'NOT met'}"
    )
    return seconds, len(postcodes[0]), path, postcodes, assets


def bench_loop(args, path: Path, postcodes, assets, vectorised_seconds: float) -> None:
    from assetmap.coverage.reach import _counts_within, _points

    strands = [s.slug for s in STRANDS]
    rng = random.Random(args.seed)
    total = len(postcodes[0])
    sample = rng.sample(range(total), min(args.loop_sample, total))
    radius_km = walk_metres(15) / 1000
    db = connect(path)
    times, loop_counts = [], []
    for i in sample:
        started = time.perf_counter()
        query = SearchQuery(
            lat=float(postcodes[1][i]), lon=float(postcodes[0][i]), radius_km=radius_km, limit=5000
        )
        found = search(db, query)
        counts = dict.fromkeys(strands, 0)
        for hit in found.hits:
            counts[hit.record["strand"]] += 1
        times.append(time.perf_counter() - started)
        loop_counts.append(counts)
    db.close()
    # The same sample's counts the vectorised way (the code compute_reach runs), to check
    # that both count the same assets.
    codes = np.array([strands.index(s) for s in assets[2]], dtype=np.int64)
    a_lons, a_lats = np.asarray(assets[0]), np.asarray(assets[1])
    p_lons, p_lats = postcodes[0][sample], postcodes[1][sample]
    counted = _counts_within(
        (_points(p_lons, p_lats).values, p_lons, p_lats),
        (_points(a_lons, a_lats).values, a_lons, a_lats),
        codes,
        len(strands),
        15,
    )
    vector_counts = [dict(zip(strands, (int(c) for c in row), strict=True)) for row in counted]
    differ = sum(1 for x, y in zip(loop_counts, vector_counts, strict=True) if x != y)
    per = statistics.median(times)
    mean = statistics.fmean(times)
    extrapolated = mean * total
    print(f"\n== The plain loop: the nearby search once a postcode, {len(sample):,} sampled")
    print(
        f"  per postcode: median {per * 1000:.2f} ms, p95 {percentile(times, 95) * 1000:.2f} ms, "
        f"mean {mean * 1000:.2f} ms; all {total:,} postcodes: about {extrapolated / 60:.0f} min"
    )
    print(
        f"  counts agree with the vectorised ones for {len(sample) - differ:,} of "
        f"{len(sample):,} postcodes"
    )
    ratio = extrapolated / vectorised_seconds
    print(
        f"  ratio, loop / vectorised: {ratio:,.0f}x (target 50x: "
        f"{'met' if ratio >= 50 else 'NOT met'})"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--england-areas", type=int, default=33_000)
    parser.add_argument("--england-postcodes", type=int, default=1_500_000)
    parser.add_argument("--england-assets", type=int, default=200_000)
    parser.add_argument("--loop-sample", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/assetmap-bench"))
    parser.add_argument(
        "--trafford-only", action="store_true", help="skip the synthetic England and the loop"
    )
    args = parser.parse_args(argv)
    cores = len(os.sched_getaffinity(0))
    print(f"bench_coverage: seed {args.seed}; machine: {cores} cores")
    bench_trafford(args.repeat)
    if args.trafford_only:
        return 0
    seconds, _, path, postcodes, assets = bench_england(args)
    bench_loop(args, path, postcodes, assets, seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
