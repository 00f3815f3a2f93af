"""Coverage on the web: /api/v1/coverage, /coverage and its downloads, and the searches
counted by the LSOA of their centre (unmet demand), shown to coordinators only."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assetmap.coverage import demand
from assetmap.coverage.report import compute_coverage
from assetmap.record.taxonomy import STRANDS
from assetmap.store import connect, search_counts
from assetmap.store.assets import transaction
from tests import engines
from tests.conftest import add_user, give_session, make_asset, save_raw
from tests.test_coverage import with_trafford_areas

# A point in Sale, beside the sample's walking group; its LSOA is found by the locator.
SALE = {"lat": "53.4263", "lon": "-2.3034"}
# From Sale, 20 km finds every sample asset (6): a search that did not find little, whatever
# other tests of this module added.
SALE_WIDE = {**SALE, "radius_km": "20"}


@pytest.fixture(scope="module")
def coverage_app(tmp_path_factory, trafford_template):
    """The sample assets, Trafford's postcodes, LSOAs, wards, need and population."""
    db_path = engines.new_target(tmp_path_factory.mktemp("coverage_web"), keep=True)
    app = with_trafford_areas(trafford_template, db_path)
    add_user(db_path, "coordinator")
    add_user(db_path, "link_worker")
    return app


@pytest.fixture
def clean_counts(coverage_app):
    db = connect(coverage_app.config["ASSETMAP_DB"])
    db.conn.execute("DELETE FROM search_counts")
    yield db
    db.conn.execute("DELETE FROM search_counts")
    db.close()


def _cli_rows(app, *args) -> list[dict]:
    result = app.test_cli_runner().invoke(args=["coverage", *args, "--out", "-"])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


def _value(text: str):
    return None if text == "" else float(text)


# --- the API -------------------------------------------------------------------------------


def test_the_apis_figures_equal_the_commands_csv(coverage_app):
    rows = _cli_rows(coverage_app, "--strand", "volunteer_peer_roles", "--kind", "group")
    answer = coverage_app.test_client().get(
        "/api/v1/coverage?level=lsoa&strand=volunteer_peer_roles&kind=group"
    )
    assert answer.status_code == 200
    assert answer.mimetype == "application/geo+json"
    document = answer.get_json()
    assert document["kinds"] == ["group"] and document["walk_minutes"] == 15
    features = document["features"]
    assert [f["id"] for f in features] == [r["area_code"] for r in rows]  # same ranking
    for feature, row in zip(features, rows, strict=True):
        p = feature["properties"]
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
        assert p["name"] == row["area_name"]
        for name in ("postcodes", "population", "imd_rank", "imd_decile", "assets_inside"):
            assert p[name] == _value(row[name]), (p["code"], name)
        assert p["assets_per_1000"] == _value(row["assets_per_1000"])
        for s in STRANDS:
            for what in ("share", "mean", "gap"):
                assert p["strands"][s.slug][what] == _value(row[f"{s.slug}_{what}"])
    assert features[0]["properties"]["imd_decile"] == 1
    assert {f["properties"]["ward"] for f in features} >= {"Gorse Hill & Cornbrook"}


def test_counting_only_groups_changes_the_figures(coverage_app):
    client = coverage_app.test_client()
    every = client.get("/api/v1/coverage").get_json()["features"]
    groups = client.get("/api/v1/coverage?kind=group").get_json()["features"]
    assert sum(f["properties"]["assets_inside"] for f in groups) < sum(
        f["properties"]["assets_inside"] for f in every
    )


@pytest.mark.parametrize(
    "query, parameter",
    [("level=county", "level"), ("strand=knitting", "strand"), ("kind=dragon", "kind")],
)
def test_a_bad_level_strand_or_kind_is_a_400_naming_it(coverage_app, query, parameter):
    answer = coverage_app.test_client().get(f"/api/v1/coverage?{query}")
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["details"] == {"parameter": parameter}
    assert body["error"].startswith(f"{parameter}: ")
    page = coverage_app.test_client().get(f"/coverage?{query}")
    assert page.status_code == 400
    assert parameter in page.get_data(as_text=True)


def test_a_level_not_loaded_has_no_features(coverage_app):
    document = coverage_app.test_client().get("/api/v1/coverage?level=msoa").get_json()
    assert document["features"] == []


def test_the_figures_are_kept_until_the_data_changes(coverage_app):
    db = connect(coverage_app.config["ASSETMAP_DB"])
    key = coverage_app.config["ASSETMAP_DB"]
    try:
        first = compute_coverage(db, "lsoa", ("activity",), 15, key=key)
        assert compute_coverage(db, "lsoa", ("activity",), 15, key=key) is first
        assert compute_coverage(db, "lsoa", ("activity",), 10, key=key) is not first
        save_raw(
            key,
            [make_asset(id="new-activity", kind="activity")],
        )
        again = compute_coverage(db, "lsoa", ("activity",), 15, key=key)
        assert again is not first
        assert sum(r.assets_inside for r in again.results) == (
            sum(r.assets_inside for r in first.results) + 1
        )
    finally:
        with transaction(db):  # the module's other tests count on the sample assets alone
            db.conn.execute("DELETE FROM assets WHERE id = 'new-activity'")
        db.close()


# --- the downloads --------------------------------------------------------------------------


def test_the_csv_download_is_the_commands_csv(coverage_app):
    rows = _cli_rows(coverage_app, "--strand", "strengthening_communities")
    answer = coverage_app.test_client().get("/coverage.csv?strand=strengthening_communities")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    assert list(csv.DictReader(io.StringIO(answer.get_data(as_text=True)))) == rows


def test_the_geopackage_reads_back_with_the_same_figures(coverage_app, tmp_path):
    geopandas = pytest.importorskip("geopandas")
    rows = _cli_rows(coverage_app, "--strand", "volunteer_peer_roles")
    answer = coverage_app.test_client().get("/coverage.gpkg?strand=volunteer_peer_roles")
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"].endswith('.gpkg"')
    path = tmp_path / "coverage.gpkg"
    path.write_bytes(answer.data)
    frame = geopandas.read_file(path)
    assert len(frame) == 138 and frame.crs.to_epsg() == 4326
    assert list(frame["area_code"]) == [r["area_code"] for r in rows]
    column = "volunteer_peer_roles_share"
    assert [float(v) for v in frame[column]] == [float(r[column]) for r in rows]
    # The shapes are the boundaries as loaded (the generalised file has a few invalid rings).
    from shapely.geometry import shape

    document = coverage_app.test_client().get("/api/v1/coverage").get_json()
    loaded = {f["id"]: shape(f["geometry"]) for f in document["features"]}
    for code, geometry in zip(frame["area_code"], frame.geometry, strict=True):
        assert geometry.equals_exact(loaded[code], 1e-9), code
    assert "Gorse Hill & Cornbrook" in set(frame["ward"])


# --- the page -------------------------------------------------------------------------------


def _table_codes(page: str) -> list[str]:
    return re.findall(r'<tr data-code="([^"]+)">', page)


def _config(page: str) -> dict:
    found = re.search(
        r'<script type="application/json" id="coverage-map-config">(.*?)</script>', page, re.S
    )
    return json.loads(found.group(1))


def test_the_page_shows_the_ranked_table_the_formula_and_the_downloads(coverage_app):
    page = coverage_app.test_client().get("/coverage?strand=volunteer_peer_roles")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    rows = _cli_rows(coverage_app, "--strand", "volunteer_peer_roles")
    assert _table_codes(text) == [r["area_code"] for r in rows]
    assert "gap = need × (1 − share)" in text
    assert "/coverage.csv?strand=volunteer_peer_roles" in text
    assert "/coverage.gpkg?strand=volunteer_peer_roles" in text
    assert "Deciles 1 and 2: among the 20% most deprived in England" in text
    config = _config(text)
    assert config["api"] == "/api/v1/coverage?strand=volunteer_peer_roles"
    assert "unpkg.com" not in text and "cdn" not in text.lower()
    # No area or asset text in the page's script: the map fetches it.
    assert "Trafford 0" not in text.split('id="coverage-map-config"')[1].split("</table>")[0]


def test_the_table_sorts_by_its_columns(coverage_app):
    client = coverage_app.test_client()
    by_name = _table_codes(client.get("/coverage?sort=name").get_data(as_text=True))
    document = client.get("/api/v1/coverage").get_json()
    names = {f["id"]: f["properties"]["name"] for f in document["features"]}
    assert [names[c] for c in by_name] == sorted(names.values(), key=str.casefold)
    by_decile = client.get("/coverage?sort=decile").get_data(as_text=True)
    deciles = {f["id"]: f["properties"]["imd_decile"] for f in document["features"]}
    assert [deciles[c] for c in _table_codes(by_decile)] == sorted(deciles.values())
    assert client.get("/coverage?sort=colour").status_code == 400


def test_without_areas_the_page_says_what_to_run(client):
    page = client.get("/coverage")
    assert page.status_code == 200
    assert "assetmap areas load" in page.get_data(as_text=True)
    assert client.get("/coverage.csv").status_code == 404
    assert client.get("/api/v1/coverage").get_json()["features"] == []


def _search_from(client, times: int, **point):
    for _ in range(times):
        assert client.get("/api/v1/search", query_string=point).status_code == 200


def test_coordinators_see_searches_that_found_little_with_small_counts_hidden(
    coverage_app, clean_counts
):
    client = coverage_app.test_client()
    # Far from every sample asset (Partington's garden is 1.5 km away): found little.
    lonely = {"lat": "53.4100", "lon": "-2.4500", "radius_km": "0.5"}
    _search_from(client, 6, **lonely)
    _search_from(client, 2, **SALE_WIDE)
    locator = demand.locator_for(clean_counts, coverage_app.config["ASSETMAP_DB"])
    lonely_lsoa = locator.locate(-2.45, 53.41)
    sale_lsoa = locator.locate(-2.3034, 53.4263)
    assert lonely_lsoa and sale_lsoa and lonely_lsoa != sale_lsoa

    anonymous = client.get("/coverage").get_data(as_text=True)
    assert "Searches that found little" not in anonymous
    assert "demand" not in _config(anonymous)["layers"]
    assert "demand" not in _config(anonymous)

    link_worker = coverage_app.test_client()
    give_session(
        link_worker,
        coverage_app.config["ASSETMAP_DB"],
        add_user(coverage_app.config["ASSETMAP_DB"], "link_worker"),
    )
    assert "Searches that found little" not in link_worker.get("/coverage").get_data(as_text=True)

    coordinator = coverage_app.test_client()
    give_session(
        coordinator,
        coverage_app.config["ASSETMAP_DB"],
        add_user(coverage_app.config["ASSETMAP_DB"], "coordinator"),
    )
    page = coordinator.get("/coverage").get_data(as_text=True)
    assert "Searches that found little" in page
    row = re.search(rf'<tr data-code="{lonely_lsoa}">(.*?)</tr>', page, re.S).group(1)
    assert "6 of 6" in row
    row = re.search(rf'<tr data-code="{sale_lsoa}">(.*?)</tr>', page, re.S).group(1)
    assert "none of fewer than 5" not in row and "0 of fewer than 5" in row
    config = _config(page)
    assert config["demand"][lonely_lsoa] == {"words": "6", "class": 1}
    assert config["demand"][sale_lsoa] == {"words": "0", "class": None}
    assert "2" not in json.dumps(config["demand"][sale_lsoa])


# --- counting -------------------------------------------------------------------------------


def test_a_search_is_counted_by_month_and_lsoa_only(coverage_app, clean_counts):
    client = coverage_app.test_client()
    marker = "zebrafinchknitting"
    assert client.get(f"/api/v1/search?postcode=M33 7ZF&q={marker}").status_code == 200
    assert client.get(f"/search?postcode=M33 7ZF&q={marker}").status_code == 200
    rows = search_counts.all_counts(clean_counts)
    month = datetime.now(UTC).strftime("%Y-%m")
    assert len(rows) == 1
    [row] = rows
    assert set(row) == {"month", "lsoa", "found_little", "searches"}
    assert row["month"] == month and re.fullmatch(r"E01\d{6}", row["lsoa"])
    assert row["searches"] == 2 and row["found_little"] == 1  # nothing matches the word
    assert not _stored_anywhere(coverage_app.config["ASSETMAP_DB"], marker)
    assert _stored_anywhere(coverage_app.config["ASSETMAP_DB"], "Sale Walking Group")


def _stored_anywhere(target, text: str) -> bool:
    """Whether `text` is anywhere in the database: in its file or WAL on SQLite (free pages
    too), in any row of any table on PostgreSQL."""
    if not engines.on_postgresql():
        path = Path(target)
        wal = path.with_name(path.name + "-wal")
        database = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        return text.encode() in database
    db = connect(target)
    try:
        listed = db.conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [row[0] for row in listed]
        assert "search_counts" in tables  # the test can fail
        return any(
            db.conn.execute(
                f'SELECT 1 FROM "{table}" AS r WHERE strpos(r::text, ?) > 0 LIMIT 1', [text]
            ).fetchone()
            for table in tables
        )
    finally:
        db.close()


def test_fewer_than_three_results_is_found_little(coverage_app, clean_counts):
    client = coverage_app.test_client()
    wide = client.get("/api/v1/search", query_string=SALE_WIDE).get_json()
    assert wide["total"] >= 3
    narrow = client.get(
        "/api/v1/search", query_string={"lat": "53.4100", "lon": "-2.4500", "radius_km": "0.5"}
    ).get_json()
    assert narrow["total"] < 3
    flags = {(r["lsoa"], r["found_little"]) for r in search_counts.all_counts(clean_counts)}
    locator = demand.locator_for(clean_counts, coverage_app.config["ASSETMAP_DB"])
    assert flags == {(locator.locate(-2.3034, 53.4263), 0), (locator.locate(-2.45, 53.41), 1)}


def test_later_pages_and_centres_outside_the_areas_are_not_counted(coverage_app, clean_counts):
    client = coverage_app.test_client()
    assert (
        client.get("/api/v1/search", query_string={**SALE_WIDE, "offset": "2"}).status_code == 200
    )
    london = {"lat": "51.5007", "lon": "-0.1246"}
    assert client.get("/api/v1/search", query_string=london).status_code == 200
    assert search_counts.all_counts(clean_counts) == []


def test_counts_older_than_twelve_months_are_deleted(coverage_app, clean_counts):
    key = coverage_app.config["ASSETMAP_DB"]
    lsoa = demand.count_search(clean_counts, key, -2.3034, 53.4263, 5, when=datetime(2025, 12, 3))
    demand.count_search(clean_counts, key, -2.3034, 53.4263, 5, when=datetime(2025, 1, 31))
    assert demand.oldest_month_kept("2026-12") == "2026-01"
    assert demand.oldest_month_kept("2026-01") == "2025-02"
    demand.count_search(clean_counts, key, -2.3034, 53.4263, 1, when=datetime(2026, 12, 1))
    months = [(r["month"], r["found_little"]) for r in search_counts.all_counts(clean_counts)]
    assert months == [("2026-12", 1)]  # 2025-12 is 12 months before 2026-12: deleted too
    demand.count_search(clean_counts, key, -2.3034, 53.4263, 1, when=datetime(2027, 1, 1))
    counts = demand.demand_by_lsoa(clean_counts, when=datetime(2027, 1, 1))
    assert counts[lsoa] == demand.AreaDemand(searches=2, found_little=2)


def test_small_counts_are_shown_as_fewer_than_five():
    assert [demand.shown(n) for n in (0, 1, 4, 5, 1234)] == [
        "0",
        "fewer than 5",
        "fewer than 5",
        "5",
        "1,234",
    ]


def test_without_lsoas_nothing_is_counted(app, db):
    client = app.test_client()
    assert client.get("/api/v1/search?postcode=M33 7ZF").status_code in (200, 422)
    assert search_counts.all_counts(db) == []


def test_hostile_area_names_come_out_as_text(app, tmp_path):
    from markupsafe import escape

    from tests.hostile import EXACT

    features = [
        {
            "type": "Feature",
            "properties": {"LSOA11CD": f"E0100{6000 + i:04d}", "LSOA11NM": name},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [-2.40 + i * 0.01, 53.40],
                        [-2.39 + i * 0.01, 53.40],
                        [-2.39 + i * 0.01, 53.41],
                        [-2.40 + i * 0.01, 53.40],
                    ]
                ],
            },
        }
        for i, name in enumerate(EXACT)
    ]
    path = tmp_path / "hostile.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    result = app.test_cli_runner().invoke(args=["areas", "load", str(path), "--level", "lsoa"])
    assert result.exit_code == 0, result.output
    client = app.test_client()
    page = client.get("/coverage").get_data(as_text=True)
    for name in EXACT:
        assert str(escape(name)) in page
        if "<" in name:
            assert name not in page
    names = {f["properties"]["name"] for f in client.get("/api/v1/coverage").get_json()["features"]}
    assert names == set(EXACT)
    rows = list(csv.DictReader(io.StringIO(client.get("/coverage.csv").get_data(as_text=True))))
    assert {r["area_name"] for r in rows} == set(EXACT)


def test_a_busy_database_skips_the_count_and_not_the_search(coverage_app, clean_counts):
    import time

    other = connect(coverage_app.config["ASSETMAP_DB"])
    other.conn.execute("BEGIN IMMEDIATE")  # an import holding the write lock
    try:
        started = time.monotonic()
        answer = coverage_app.test_client().get("/api/v1/search", query_string=SALE)
        assert answer.status_code == 200 and answer.get_json()["total"] >= 1
        assert time.monotonic() - started < 2  # the write lock waits 5 s: it did not wait
    finally:
        other.conn.execute("ROLLBACK")
        other.close()
    assert search_counts.all_counts(clean_counts) == []
    assert coverage_app.test_client().get("/api/v1/search", query_string=SALE).status_code == 200
    assert len(search_counts.all_counts(clean_counts)) == 1


def test_wards_are_shown_with_their_estimated_population_and_no_gap(coverage_app):
    page = coverage_app.test_client().get("/coverage?level=ward").get_data(as_text=True)
    assert len(_table_codes(page)) == 21
    assert "estimated from their LSOAs'" in page and "no score" in page
    assert '<th scope="col">Ward</th>' not in page


def _json_schema(schema):
    """An OpenAPI 3.0 schema as JSON Schema: `nullable` becomes a null type."""
    if isinstance(schema, list):
        return [_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {k: _json_schema(v) for k, v in schema.items() if k != "nullable"}
    if schema.get("nullable") and "type" in converted:
        converted["type"] = [converted["type"], "null"]
    return converted


def test_the_answer_with_areas_matches_the_openapi_document(coverage_app):
    # tests/test_api_schema.py runs the API on a database without areas; this is with them.
    import jsonschema

    client = coverage_app.test_client()
    document = client.get("/api/openapi.json").get_json()
    schema = _json_schema(document["components"]["schemas"]["CoverageAreas"])
    names = {p["name"] for p in document["paths"]["/api/v1/coverage"]["get"]["parameters"]}
    assert names == {"level", "strand", "kind"}
    for query in ("", "?level=ward&strand=volunteer_peer_roles&kind=group,place"):
        jsonschema.validate(client.get(f"/api/v1/coverage{query}").get_json(), schema)


@pytest.mark.parametrize(
    "searches, little, total_words",
    [
        (9, 6, "6 or a few more"),  # "6 of 9" would tell that 3 found enough
        (11, 6, "11"),  # 5 found enough: shown
        (6, 6, "6"),  # none found enough: nothing to give away
        (3, 1, "fewer than 5"),
        (7, 3, "fewer than 5 or a few more"),
    ],
)
def test_no_small_count_can_be_worked_out_by_subtraction(searches, little, total_words):
    counted = demand.AreaDemand(searches=searches, found_little=little)
    assert counted.searches_shown == total_words
