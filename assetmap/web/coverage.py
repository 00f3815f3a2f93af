"""Coverage: /coverage (the maps and the ranked table), its downloads, and GET
/api/v1/coverage; and the count of each search by the LSOA of its centre (unmet demand).

Everything on /coverage is aggregate open data, so the page is public; the searches that
found little are shown to those who may see demand (coordinators) only, with small counts
suppressed (assetmap/coverage/demand.py).
"""

from __future__ import annotations

import io
import os
import tempfile
from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify, render_template, request, url_for

from assetmap.coverage import demand
from assetmap.coverage.map import (
    DEMAND_CLASSES,
    IMD_CLASSES,
    NO_FIGURE,
    build_coverage_map,
    class_of,
    reach_classes,
)
from assetmap.coverage.reach import walk_metres
from assetmap.coverage.report import (
    GAP_FORMULA,
    LEVEL_TERMS,
    SORT,
    SORTS,
    CoverageQuery,
    compute_coverage,
    feature_collection,
    parse_coverage,
    sorted_rows,
    write_coverage_csv,
    write_geopackage,
)
from assetmap.record import taxonomy
from assetmap.store import areas as area_store
from assetmap.web.db import get_db
from assetmap.web.guard import can, requires

bp = Blueprint("coverage", __name__)


def _query() -> CoverageQuery:
    return parse_coverage(request.args.to_dict(flat=False))


def _coverage(query: CoverageQuery):
    config = current_app.config
    return compute_coverage(
        get_db(),
        query.level,
        query.kinds,
        config["ASSETMAP_COVERAGE_WALK_MINUTES"],
        key=str(config["ASSETMAP_DB"]),
    )


@bp.get("/api/v1/coverage")
@requires("view_public")
def api_coverage():
    """The areas of a level as GeoJSON with their figures, highest gap first."""
    query = _query()
    coverage = _coverage(query)
    if coverage is None:
        document = {
            "type": "FeatureCollection",
            "level": query.level,
            "strand": query.strand,
            "kinds": list(query.kinds),
            "walk_minutes": current_app.config["ASSETMAP_COVERAGE_WALK_MINUTES"],
            "gap_formula": GAP_FORMULA,
            "features": [],
        }
    else:
        document = feature_collection(coverage, query)
    response = jsonify(document)
    response.mimetype = "application/geo+json"
    return response


@bp.get("/coverage")
@requires("view_public")
def coverage_page():
    """The chosen strand's reach beside deprivation on a map, and the ranked table."""
    query = _query()
    sort = SORT.read(request.args.to_dict(flat=False))
    db = get_db()
    loaded = area_store.levels(db)
    context = {
        "query": query,
        "sort": sort,
        "sorts": SORTS,
        "loaded": loaded,
        "levels": [t for t in LEVEL_TERMS if t.slug in loaded],
        "level_label": dict((t.slug, t.label) for t in LEVEL_TERMS)[query.level],
        "strands": taxonomy.STRANDS,
        "strand": taxonomy.STRANDS_BY_SLUG[query.strand],
        "kinds": taxonomy.KINDS,
        "minutes": current_app.config["ASSETMAP_COVERAGE_WALK_MINUTES"],
        "gap_formula": GAP_FORMULA,
    }
    coverage = _coverage(query) if query.level in loaded else None
    if coverage is None:
        return render_template("coverage/empty.html", **context)
    minutes = coverage.minutes
    with_demand = can("see_demand") and query.level == "lsoa"
    found = demand.demand_by_lsoa(db) if with_demand else {}
    rendered = build_coverage_map(
        static_url=lambda path: url_for("static", filename=path),
        strand=context["strand"],
        minutes=minutes,
        tile_url=current_app.config["ASSETMAP_TILE_URL"],
        tile_attribution=current_app.config["ASSETMAP_TILE_ATTRIBUTION"],
        centre=current_app.config["ASSETMAP_MAP_CENTRE"],
        with_demand=with_demand,
    )
    args = query.as_args()
    rendered.config["api"] = url_for("coverage.api_coverage", **args)
    rendered.config["assetsApi"] = url_for(
        "api.list_assets", strand=query.strand, kind=list(query.kinds) or None
    )
    if with_demand:
        rendered.config["demand"] = {
            code: {
                "words": d.found_little_shown,
                "class": class_of(d.found_little, DEMAND_CLASSES),
            }
            for code, d in found.items()
        }
    context.update(
        coverage=coverage,
        rows=sorted_rows(coverage, query.strand, sort),
        ranks={r.code: i for i, r in enumerate(coverage.ranked(query.strand), start=1)},
        map=rendered,
        args=args,
        with_demand=with_demand,
        demand=found,
        walk_metres=round(walk_metres(minutes)),
        reach_classes=reach_classes(minutes),
        imd_classes=IMD_CLASSES,
        demand_classes=DEMAND_CLASSES,
        no_figure=NO_FIGURE,
    )
    return render_template("coverage/page.html", **context)


def _download_name(query: CoverageQuery, extension: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    return f"coverage-{query.level}-{query.strand}-{stamp}.{extension}"


def _ranked_or_404(query: CoverageQuery):
    coverage = _coverage(query)
    if coverage is None:
        from flask import abort

        abort(
            404,
            description=f"No {query.level} areas are loaded: run assetmap areas load FILE "
            f"--level {query.level}.",
        )
    return coverage, coverage.ranked(query.strand)


@bp.get("/coverage.csv")
@requires("view_public")
def coverage_csv():
    """The ranked table as CSV, with the same columns as `assetmap coverage`."""
    query = _query()
    coverage, results = _ranked_or_404(query)
    buffer = io.StringIO()
    write_coverage_csv(results, buffer, coverage.wards)
    return current_app.response_class(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{_download_name(query, "csv")}"'},
    )


@bp.get("/coverage.gpkg")
@requires("view_public")
def coverage_geopackage():
    """The areas and their figures as a GeoPackage, for GIS (written to a temporary file,
    read back and removed before the answer is sent)."""
    query = _query()
    coverage, results = _ranked_or_404(query)
    handle, path = tempfile.mkstemp(suffix=".gpkg")
    os.close(handle)
    try:
        os.unlink(path)  # the GeoPackage driver makes its own file
        write_geopackage(coverage, results, path)
        with open(path, "rb") as f:
            data = f.read()
    finally:
        for leftover in (path, path + "-journal", path + "-wal", path + "-shm"):
            if os.path.exists(leftover):
                os.unlink(leftover)
    return current_app.response_class(
        data,
        mimetype="application/geopackage+sqlite3",
        headers={"Content-Disposition": f'attachment; filename="{_download_name(query, "gpkg")}"'},
    )


def count_search(query, results) -> None:
    """Count a search by the LSOA of its centre (unmet demand): the first page of results
    only, so that paging through one search counts it once. A failure to count is logged and
    never fails the search."""
    if getattr(query, "offset", 0):
        return
    try:
        demand.count_search(
            get_db(),
            str(current_app.config["ASSETMAP_DB"]),
            results.centre.lon,
            results.centre.lat,
            results.total,
        )
    except Exception:  # the search has its answer; a missed count must not take it away
        current_app.logger.exception("a search could not be counted for coverage")
