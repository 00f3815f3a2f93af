"""Coverage (issue 18): areas, need and population read from the files as published, and
reach figures that equal a brute-force count."""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from assetmap import create_app
from assetmap.coverage.areas import AreaFileError, read_areas
from assetmap.coverage.figures import decile_from_rank, read_need, read_population
from assetmap.coverage.reach import (
    compute_reach,
    estimate_population,
    gap_score,
    ranked_by_gap,
    walk_metres,
)
from assetmap.search.nearby import haversine_m, walking_minutes
from assetmap.store import connect, initialise
from tests import engines

AREAS = Path(__file__).resolve().parent.parent / "data" / "areas"
LSOA_FILE = AREAS / "lsoa_2011_trafford_lsoa_generalised.geojson"
WARD_FILE = AREAS / "ward_2023_trafford_ward_generalised.geojson"
IMD_FILE = AREAS / "imd2019_trafford_lsoa11.csv"
POPULATION_FILE = AREAS / "mid-year_population_estimates_all_geographies.csv"
TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


# --- boundaries ---------------------------------------------------------------------------


def test_trafford_lsoas_and_wards_are_read_with_their_codes_and_names():
    lsoas = read_areas(LSOA_FILE, "lsoa")
    assert len(lsoas.areas) == 138
    assert {a.code[:3] for a in lsoas.areas} == {"E01"}
    assert any(a.name == "Trafford 025A" for a in lsoas.areas)
    wards = read_areas(WARD_FILE, "ward")
    assert len(wards.areas) == 21
    assert "Gorse Hill & Cornbrook" in {a.name for a in wards.areas}


def test_a_file_of_another_level_is_refused_with_the_level_its_codes_belong_to():
    with pytest.raises(AreaFileError) as refused:
        read_areas(LSOA_FILE, "ward")
    message = str(refused.value)
    assert "E01006" in message and "an LSOA" in message and "--level lsoa" in message


def _feature_collection(features, crs=None) -> dict:
    document = {"type": "FeatureCollection", "features": features}
    if crs:
        document["crs"] = {"type": "name", "properties": {"name": crs}}
    return document


def _square(x, y, size, **properties) -> dict:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def test_columns_are_found_by_the_ons_headings_or_named(tmp_path):
    path = tmp_path / "wards.geojson"
    feature = _square(-2.3, 53.4, 0.01, WD23CD="E05000001", WD23NM="Somewhere", OBJECTID=1)
    path.write_text(json.dumps(_feature_collection([feature])))
    [area] = read_areas(path, "ward").areas
    assert (area.code, area.name) == ("E05000001", "Somewhere")
    other = tmp_path / "other.geojson"
    feature = _square(-2.3, 53.4, 0.01, ref="E05000001", label="Somewhere", kind="x")
    other.write_text(json.dumps(_feature_collection([feature])))
    with pytest.raises(AreaFileError, match="ref, label, kind"):
        read_areas(other, "ward")
    [area] = read_areas(other, "ward", code_column="ref", name_column="label").areas
    assert area.name == "Somewhere"
    with pytest.raises(AreaFileError, match="has no column “wd_code”"):
        read_areas(other, "ward", code_column="wd_code")


def test_points_and_tables_are_not_areas(tmp_path):
    path = tmp_path / "points.geojson"
    point = {
        "type": "Feature",
        "properties": {"area_code": "E01006074", "area_name": "x"},
        "geometry": {"type": "Point", "coordinates": [-2.3, 53.4]},
    }
    path.write_text(json.dumps(_feature_collection([point])))
    with pytest.raises(AreaFileError, match="Point, not an area"):
        read_areas(path, "lsoa")
    with pytest.raises(AreaFileError, match="has no shapes"):
        read_areas(IMD_FILE, "lsoa")


def test_british_national_grid_is_converted_and_a_wrong_system_is_refused(tmp_path):
    x, y = TO_BNG.transform(-2.3, 53.42)
    stated = tmp_path / "bng.geojson"
    feature = _square(x, y, 500, area_code="E01006074", area_name="Trafford 025A")
    stated.write_text(json.dumps(_feature_collection([feature], "EPSG:27700")))
    [area] = read_areas(stated, "lsoa").areas
    lon, lat = area.geometry["coordinates"][0][0]
    assert lon == pytest.approx(-2.3, abs=1e-4) and lat == pytest.approx(53.42, abs=1e-4)
    # Eastings and northings of Trafford that a file says are web-map metres: off Africa.
    wrong = tmp_path / "mislabelled.geojson"
    wrong.write_text(json.dumps(_feature_collection([feature], "EPSG:3857")))
    with pytest.raises(AreaFileError, match="outside Great Britain"):
        read_areas(wrong, "lsoa")


def test_a_geopackage_and_a_zipped_shapefile_are_read(tmp_path):
    import geopandas

    frame = geopandas.read_file(WARD_FILE).to_crs("EPSG:27700")
    frame.to_file(tmp_path / "wards.gpkg", driver="GPKG")
    assert len(read_areas(tmp_path / "wards.gpkg", "ward").areas) == 21
    folder = tmp_path / "shp"
    folder.mkdir()
    frame.to_file(folder / "wards.shp")
    with zipfile.ZipFile(tmp_path / "wards.zip", "w") as archive:
        for part in folder.iterdir():
            archive.write(part, part.name)
    read = read_areas(tmp_path / "wards.zip", "ward")
    assert len(read.areas) == 21
    assert read.notes  # converted from British National Grid, and said so


# --- need and population ------------------------------------------------------------------


def test_the_imd_file_as_published_gives_ranks_and_deciles_by_lsoa():
    need = read_need(IMD_FILE).values
    assert len(need) == 138
    assert need["E01006074"] == (14785, 5)  # written "14,785" in the file
    assert all(decile == decile_from_rank(rank) for rank, decile in need.values())


def test_the_long_layout_of_the_imd_download_gives_the_same_figures(tmp_path):
    wide = read_need(IMD_FILE).values
    path = tmp_path / "long.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["FeatureCode", "DateCode", "Measurement", "Units", "Value", "Indices of Deprivation"]
        )
        for code, (rank, decile) in wide.items():
            imd = "a. Index of Multiple Deprivation (IMD)"
            writer.writerow([code, 2019, "Rank", "Rank", rank, imd])
            writer.writerow([code, 2019, "Decile", "Decile", decile, imd])
            writer.writerow([code, 2019, "Rank", "Rank", 1, "b. Income Deprivation Domain"])
    assert read_need(path).values == wide


def test_file_7_headings_and_a_workbook_sheet_are_read(tmp_path):
    from openpyxl import Workbook

    wide = read_need(IMD_FILE).values
    book = Workbook()
    book.active.title = "Notes"
    book.active.append(["The English Indices of Deprivation 2019"])
    sheet = book.create_sheet("IMD2019")
    sheet.append(
        [
            "LSOA code (2011)",
            "LSOA name (2011)",
            "Index of Multiple Deprivation (IMD) Score",
            "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
            "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
        ]
    )
    for code, (rank, decile) in wide.items():
        sheet.append([code, "x", 20.5, rank, decile])
    book.save(tmp_path / "imd.xlsx")
    with pytest.raises(AreaFileError, match="--sheet IMD2019"):
        read_need(tmp_path / "imd.xlsx")
    assert read_need(tmp_path / "imd.xlsx", sheet="IMD2019").values == wide


def test_a_rank_out_of_range_is_refused_naming_its_row(tmp_path):
    path = tmp_path / "imd.csv"
    path.write_text("LSOA code (2011),Index of Multiple Deprivation (IMD) Rank\nE01006074,99999\n")
    with pytest.raises(AreaFileError, match="row 2 has 99999 as its IMD rank"):
        read_need(path)


def test_population_keeps_persons_of_every_level_in_the_file():
    population = read_population(POPULATION_FILE).values
    lsoas = {code: p for code, (p,) in population.items() if code.startswith("E01")}
    assert len(lsoas) == 138
    total = population["E08000009"][0]  # Trafford as a whole
    assert sum(lsoas.values()) == total


def test_the_ons_sheet_layout_with_a_title_above_gives_the_same_figures(tmp_path):
    tidy = read_population(POPULATION_FILE).values
    path = tmp_path / "sape.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Mid-2020 Population Estimates for Lower Layer Super Output Areas"])
        writer.writerow([])
        writer.writerow(["LSOA Code", "LSOA Name", "LA Code (2018 boundaries)", "All Ages"])
        for code, (persons,) in tidy.items():
            if code.startswith("E01"):
                writer.writerow([code, "x", "E08000009", f"{persons:,}"])
    read = read_population(path).values
    assert read == {c: v for c, v in tidy.items() if c.startswith("E01")}


def test_two_populations_for_one_area_are_refused(tmp_path):
    path = tmp_path / "pop.csv"
    path.write_text("area_code,all_ages\nE01006074,1500\nE01006074,1600\n")
    with pytest.raises(AreaFileError, match="row 3 gives E01006074 a population again"):
        read_population(path)


# --- reach --------------------------------------------------------------------------------


def test_the_walk_is_the_searchs_own_formula():
    limit = walk_metres(15)
    assert limit == pytest.approx(923.08, abs=0.01)
    assert walking_minutes(limit - 0.5) == 15
    assert walking_minutes(limit + 0.5) == 16


def test_gap_puts_high_need_with_low_reach_first():
    assert gap_score(1, 0.0) == 1.0
    assert gap_score(10, 0.0) == pytest.approx(0.1)
    assert gap_score(1, 1.0) == 0.0
    assert gap_score(None, 0.0) is None


_ORIGIN = (-2.40, 53.40)


def _brute_force(areas, postcodes, assets, minutes, strands):
    """Every postcode against every asset with the search's own great-circle distance, and
    shapely's point-in-polygon in BNG (as the real computation places postcodes, so that one
    on an edge falls in the same area)."""
    import shapely
    from shapely.geometry import Point, shape

    def to_grid(coordinates):
        return np.column_stack(TO_BNG.transform(coordinates[:, 0], coordinates[:, 1]))

    limit = walk_metres(minutes)
    shapes = [shapely.transform(shape(a["geometry"]), to_grid) for a in areas]
    expected = {a["code"]: [] for a in areas}
    for lon, lat in zip(*postcodes, strict=True):
        x, y = TO_BNG.transform(lon, lat)
        owner = next((i for i, p in enumerate(shapes) if p.intersects(Point(x, y))), None)
        if owner is None:
            continue
        row = dict.fromkeys(strands, 0)
        for a_lon, a_lat, strand in zip(*assets, strict=True):
            if strand in row and haversine_m(lat, lon, a_lat, a_lon) <= limit:
                row[strand] += 1
        expected[areas[owner]["code"]].append(row)
    return expected


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 0.06), st.floats(0, 0.04)), min_size=0, max_size=40),
    st.lists(
        st.tuples(st.floats(0, 0.06), st.floats(0, 0.04), st.sampled_from("ab")),
        min_size=0,
        max_size=25,
    ),
    st.integers(1, 20),
)
def test_reach_equals_a_brute_force_count(postcodes, assets, minutes):
    x0, y0 = _ORIGIN
    areas = [
        {
            "code": f"E0100000{i}",
            "name": f"area {i}",
            "imd_decile": i + 1,
            **_square(x0 + (i % 3) * 0.02, y0 + (i // 3) * 0.02, 0.02),
        }
        for i in range(6)
    ]
    pcs = (
        np.array([x0 + dx for dx, _ in postcodes]),
        np.array([y0 + dy for _, dy in postcodes]),
    )
    found = (
        np.array([x0 + dx for dx, _, _ in assets]),
        np.array([y0 + dy for _, dy, _ in assets]),
        [s for _, _, s in assets],
    )
    results = compute_reach(areas, pcs, found, minutes=minutes, strands=["a", "b"])
    expected = _brute_force(areas, pcs, found, minutes, ["a", "b"])
    for result in results:
        rows = expected[result.code]
        assert result.postcodes == len(rows)
        for strand in ("a", "b"):
            if not rows:
                assert result.share[strand] is None and result.gap[strand] is None
                continue
            share = sum(1 for r in rows if r[strand]) / len(rows)
            mean = sum(r[strand] for r in rows) / len(rows)
            assert result.share[strand] == pytest.approx(share, abs=1e-4)
            assert result.mean[strand] == pytest.approx(mean, abs=1e-3)
            assert result.gap[strand] == gap_score(result.imd_decile, result.share[strand])


def test_bng_distances_agree_with_the_searchs_within_half_a_percent():
    for lon, lat, d_lon, d_lat in [(-2.3, 53.4, 0.01, 0.005), (-0.1, 51.5, -0.008, 0.006)]:
        x1, y1 = TO_BNG.transform(lon, lat)
        x2, y2 = TO_BNG.transform(lon + d_lon, lat + d_lat)
        grid = math.hypot(x2 - x1, y2 - y1)
        assert grid == pytest.approx(haversine_m(lat, lon, lat + d_lat, lon + d_lon), rel=5e-3)


def test_an_asset_the_search_finds_within_the_walk_is_counted_whatever_the_grid_says():
    """At the edge of the walk, grid metres and the search's great-circle metres disagree by a
    few metres; the count follows the search."""
    lat, lon = 53.41, -2.39
    limit = walk_metres(15)
    east = (limit - 1.0) / (haversine_m(lat, lon, lat, lon + 0.01) / 0.01)  # 1 m inside
    x1, y1 = TO_BNG.transform(lon, lat)
    x2, y2 = TO_BNG.transform(lon + east, lat)
    assert math.hypot(x2 - x1, y2 - y1) > limit  # outside by grid metres
    assert haversine_m(lat, lon, lat, lon + east) <= limit  # inside by the search's
    areas = [{"code": "E01000001", "name": "x", "imd_decile": 1, **_square(-2.40, 53.40, 0.02)}]
    [result] = compute_reach(
        areas,
        (np.array([lon]), np.array([lat])),
        (np.array([lon + east]), np.array([lat]), ["a"]),
        strands=["a"],
    )
    assert result.share["a"] == 1.0


def test_ranking_breaks_ties_by_the_lower_mean_and_puts_unscored_areas_last():
    areas = [
        {"code": "E01000001", "name": "b", "imd_decile": 1, **_square(-2.40, 53.40, 0.01)},
        {"code": "E01000002", "name": "a", "imd_decile": 1, **_square(-2.38, 53.40, 0.01)},
        {"code": "E01000003", "name": "c", "imd_decile": None, **_square(-2.36, 53.40, 0.01)},
    ]
    postcodes = (np.array([-2.395, -2.375, -2.355]), np.array([53.405, 53.405, 53.405]))
    assets = (np.array([-2.396, -2.394]), np.array([53.405, 53.405]), ["a", "a"])
    results = compute_reach(areas, postcodes, assets, strands=["a"])
    # b reaches both assets, a none (1 km away): a has the higher gap.
    assert [r.name for r in ranked_by_gap(results, "a")] == ["a", "b", "c"]


def test_a_wards_population_is_estimated_from_its_lsoas_postcodes():
    lsoas = [
        {"code": "E01000001", "name": "x", "population": 1000, **_square(-2.40, 53.40, 0.02)},
        {"code": "E01000002", "name": "y", "population": 300, **_square(-2.38, 53.40, 0.02)},
    ]
    # The ward holds the east half of x and all of y.
    ward = [{"code": "E05000001", "name": "w", "population": None, **_square(-2.39, 53.40, 0.03)}]
    ward[0]["geometry"]["coordinates"][0] = [
        [-2.39, 53.40],
        [-2.36, 53.40],
        [-2.36, 53.42],
        [-2.39, 53.42],
        [-2.39, 53.40],
    ]
    postcodes = (
        np.array([-2.395, -2.385, -2.375, -2.365]),
        np.array([53.41, 53.41, 53.41, 53.41]),
    )
    # x's 1,000 people over its 2 postcodes, one in the ward: 500; y's 300: all in the ward.
    assert estimate_population(ward, lsoas, postcodes) == {"E05000001": 800}


# --- the commands -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trafford_coverage(tmp_path_factory, trafford_template):
    """The sample assets, Trafford's postcodes and its areas, need and population."""
    db_path = engines.new_target(tmp_path_factory.mktemp("coverage"), keep=True)
    return with_trafford_areas(trafford_template, db_path).test_cli_runner()


def with_trafford_areas(template, db_path, secret: str = "test-only"):
    """An app on a copy of `template` with Trafford's LSOAs and wards, their deprivation and
    population loaded as `make run` loads them (for the coverage tests)."""
    engines.copy_database(template, db_path)
    app = create_app({"ASSETMAP_DB": str(db_path), "SECRET_KEY": secret})
    runner = app.test_cli_runner()
    for args in (
        ["areas", "load", str(LSOA_FILE), "--level", "lsoa"],
        ["areas", "load", str(WARD_FILE), "--level", "ward"],
        ["areas", "need", str(IMD_FILE)],
        ["areas", "population", str(POPULATION_FILE)],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    return app


def test_loading_again_changes_nothing(trafford_coverage):
    again = trafford_coverage.invoke(args=["areas", "load", str(LSOA_FILE), "--level", "lsoa"])
    assert "138 lsoa areas loaded (there were 138)" in again.output
    again = trafford_coverage.invoke(args=["areas", "need", str(IMD_FILE)])
    assert "(0 new, 0 changed)" in again.output
    listed = trafford_coverage.invoke(args=["areas", "list"]).output
    assert "lsoa: 138 areas" in listed and "ward: 21 areas" in listed


def test_loading_need_again_counts_and_writes_only_what_is_new_or_changed(tmp_path):
    db_path = engines.new_target(tmp_path)
    initialise(db_path)
    runner = create_app({"ASSETMAP_DB": str(db_path), "SECRET_KEY": "test-only"}).test_cli_runner()
    first = runner.invoke(args=["areas", "need", str(IMD_FILE)])
    assert "(138 new, 0 changed)" in first.output, first.output
    lines = IMD_FILE.read_text(encoding="utf-8-sig").splitlines()
    assert lines[1].startswith('E01006074,Trafford 025A,E08000009,Trafford,"14,785",5')
    lines[1] = lines[1].replace('"14,785"', '"14,786"')
    lines.append('E01999999,Nowhere 001A,E08000009,Trafford,"1,000",1')
    edited = tmp_path / "imd.csv"
    edited.write_text("\n".join(lines) + "\n", encoding="utf-8")
    again = runner.invoke(args=["areas", "need", str(edited)])
    assert "(1 new, 1 changed)" in again.output, again.output
    db = connect(db_path)
    try:
        held = dict(db.conn.execute("SELECT code, imd_rank FROM area_need").fetchall())
    finally:
        db.close()
    assert len(held) == 139
    assert held["E01006074"] == 14786 and held["E01999999"] == 1000


def test_a_refused_file_loads_nothing(trafford_coverage):
    result = trafford_coverage.invoke(args=["areas", "load", str(LSOA_FILE), "--level", "ward"])
    assert result.exit_code == 1
    assert "nothing was loaded" in result.output
    listed = trafford_coverage.invoke(args=["areas", "list"]).output
    assert "ward: 21 areas" in listed


def test_the_coverage_csv_ranks_the_most_deprived_least_reached_first(trafford_coverage):
    result = trafford_coverage.invoke(
        args=["coverage", "--strand", "volunteer_peer_roles", "--out", "-"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert len(rows) == 138
    gaps = [float(r["volunteer_peer_roles_gap"]) for r in rows]
    assert gaps == sorted(gaps, reverse=True)
    assert sum(int(r["postcodes"]) for r in rows) == 11127  # every Trafford postcode, once
    first = rows[0]
    assert first["imd_decile"] == "1"
    ward_names = {a.name for a in read_areas(WARD_FILE, "ward").areas}
    assert all(r["ward"] in ward_names for r in rows)  # each LSOA's ward, as the page shows
    assert float(first["volunteer_peer_roles_share"]) < 0.5


def test_ward_coverage_estimates_the_population_of_the_new_wards(trafford_coverage):
    result = trafford_coverage.invoke(args=["coverage", "--level", "ward"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 21
    total = sum(int(r["population"]) for r in rows)
    assert total == pytest.approx(237_579, rel=0.01)  # Trafford's mid-2020 persons
    assert "estimated from their LSOAs'" in result.stderr


def test_coverage_without_areas_says_how_to_load_them(tmp_path):
    db_path = engines.new_target(tmp_path)
    initialise(db_path)
    app = create_app({"ASSETMAP_DB": str(db_path), "SECRET_KEY": "test-only"})
    result = app.test_cli_runner().invoke(args=["coverage", "--level", "msoa"])
    assert result.exit_code == 1
    assert "assetmap areas load FILE --level msoa" in result.output


def test_the_review_queue_and_coverage_mean_the_same_wards(tmp_path, trafford_template):
    """Loaded ward boundaries decide every postcode's ward, for the review queue and the
    freshness report as for coverage: Trafford's 2023 wards, not the postcode file's 2022
    ones, whichever is loaded first."""
    from assetmap.freshness.queue import choices

    db_path = engines.copy_database(trafford_template, engines.new_target(tmp_path))
    app = create_app({"ASSETMAP_DB": str(db_path), "SECRET_KEY": "test-only"})
    runner = app.test_cli_runner()
    postcodes = AREAS.parent / "postcodes" / "trafford_postcodes_onspd_2022-06_lsoa11.csv"

    def wards() -> set[str]:
        db = connect(db_path)
        try:
            return {label for _, label in choices(db)["ward"]}
        finally:
            db.close()

    assert runner.invoke(args=["postcodes", "load", str(postcodes)]).exit_code == 0
    assert "Priory" in wards()  # a 2022 ward of the postcode file (Sale), gone in 2023
    loaded = runner.invoke(args=["areas", "load", str(WARD_FILE), "--level", "ward"])
    assert "11,127 postcodes placed in these wards" in loaded.output, loaded.output
    db = connect(db_path)
    names = {row[0] for row in db.conn.execute("SELECT DISTINCT ward_name FROM postcode_wards")}
    db.close()
    ward_names = {a.name for a in read_areas(WARD_FILE, "ward").areas}
    assert names == ward_names
    assert wards() - {"ward unknown"} <= ward_names and "Priory" not in wards()
    # Postcodes loaded again later keep the boundaries' wards.
    again = runner.invoke(args=["postcodes", "load", str(postcodes)])
    assert "in the loaded ward boundaries" in again.output
    assert wards() - {"ward unknown"} <= ward_names
