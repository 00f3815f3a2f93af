"""Nearby search: the page link workers and residents use, and GET /api/v1/search."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_login import current_user

from assetmap import describe, search, taxonomy
from assetmap.fields import public_view
from assetmap.formats import ATTRIBUTION, to_feature
from assetmap.maps import build_search_map
from assetmap.postcodes import PostcodeError
from assetmap.queries import ParameterError
from assetmap.store import plans as plan_store
from assetmap.web.db import get_db
from assetmap.web.guard import can, requires

bp = Blueprint("search", __name__)

RADII_KM = (0.5, 1, 2, 5, 10, 20, 50)
# The page's own parameters, kept in the URL so a search can be shared and the back button works.
SEARCH_PARAMETERS = (
    "postcode",
    "lat",
    "lon",
    "radius_km",
    "q",
    "strand",
    "approach",
    "category",
    "audience",
    "kind",
    "accessible",
    "age",
    "day",
    "time",
    "free",
    "self_referral",
    "order",
    "limit",
    "offset",
)


def _args() -> dict[str, list[str]]:
    """The search parameters of the page. A postcode typed into the form wins over the
    lat/lon that a search from a map point carries along in hidden inputs."""
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if k in SEARCH_PARAMETERS}
    if any(v.strip() for v in args.get("postcode", [])):
        args.pop("lat", None)
        args.pop("lon", None)
    else:
        args.pop("postcode", None)
    return args


@bp.get("/api/v1/search")
@requires("view_public")
def api_search():
    """Assets near a postcode or a point, nearest first, as GeoJSON with distances."""
    query = search.parse_search(request.args.to_dict(flat=False))
    results = search.search(get_db(), query)
    next_url = None
    if results.next_offset is not None:
        args = query.as_args() | {"offset": [str(results.next_offset)]}
        next_url = url_for("search.api_search", **args)
    features = []
    for hit in results.hits:
        feature = to_feature(hit.record, public=True)
        feature["properties"].update(hit.extras())
        features.append(feature)
    response = jsonify(
        {
            "type": "FeatureCollection",
            "centre": results.centre.as_json(),
            "radius_km": query.radius_km,
            "total": results.total,
            "limit": query.limit,
            "offset": query.offset,
            "next": next_url,
            "attribution": ATTRIBUTION,
            "features": features,
        }
    )
    response.mimetype = "application/geo+json"
    return response


def _results_view(results: search.SearchResults) -> list[dict]:
    shown = []
    for number, hit in enumerate(results.hits, start=results.query.offset + 1):
        record = hit.record
        shown.append(
            {
                "number": number,
                "asset": record if can("view_professional") else public_view(record),
                "distance": describe.distance_in_words(hit.distance_m),
                "walking": hit.walking_minutes,
                "next_session": hit.next_session.words if hit.next_session else None,
                "when": describe.schedule_in_words(record["schedule"]),
                "strand": taxonomy.label(taxonomy.STRANDS, record["strand"]),
                "kind": taxonomy.label(taxonomy.KINDS, record["kind"]),
                "cost": taxonomy.label(taxonomy.COSTS, record["cost"]),
                "access": describe.labels(taxonomy.ACCESSIBILITY, record["accessibility"]),
                "capacity": taxonomy.label(taxonomy.CAPACITY, record["capacity"]),
                "illustrative": describe.is_illustrative(record),
            }
        )
    return shown


def _suggestions(query: search.SearchQuery) -> list[tuple[str, str]]:
    """Links that widen a search that found nothing: a wider radius, then fewer filters."""
    links = []
    if query.radius_km < search.MAX_RADIUS_KM:
        wider = min(query.radius_km * 2.5, search.MAX_RADIUS_KM)
        args = query.as_args() | {"radius_km": [f"{wider:g}"]}
        args.pop("offset", None)
        links.append((url_for("search.search_page", **args), f"Search within {wider:g} km"))
    centre_only = {
        k: v for k, v in query.as_args().items() if k in ("postcode", "lat", "lon", "radius_km")
    }
    if centre_only != {k: v for k, v in query.as_args().items() if k != "offset"}:
        links.append((url_for("search.search_page", **centre_only), "Search without the filters"))
    return links


@bp.get("/search")
@requires("view_public")
def search_page():
    """A form (postcode, distance, keywords, filters), the results as a list that works without
    JavaScript, and a map with the search circle and numbered markers that match the list."""
    args = _args()
    context = {
        "args": args,
        "radii": RADII_KM,
        "vocab": taxonomy,
        "error": None,
        "results": None,
        "map": None,
    }
    status = 200
    if args.get("postcode") or args.get("lat"):
        try:
            query = search.parse_search(args)
            results = search.search(get_db(), query)
        except PostcodeError as e:
            context["error"], status = e, 422
        except ParameterError as e:
            context["error"], status = e, 400
        else:
            config = current_app.config
            context.update(
                results=results,
                items=_results_view(results),
                suggestions=_suggestions(query) if not results.total else [],
                map=build_search_map(
                    static_url=lambda path: url_for("static", filename=path),
                    centre=(results.centre.lat, results.centre.lon),
                    radius_m=results.radius_m,
                    points=[(h.record["lat"], h.record["lon"]) for h in results.hits],
                    first_number=query.offset + 1,
                    tile_url=config["ASSETMAP_TILE_URL"],
                    tile_attribution=config["ASSETMAP_TILE_ATTRIBUTION"],
                ),
                page_links=_page_links(results),
                my_plans=plan_store.plans_of(get_db(), current_user.id)
                if can("make_plans")
                else [],
            )
    return render_template("search.html", **context), status


def _page_links(results: search.SearchResults) -> dict:
    query, links = results.query, {}
    if query.offset:
        previous = max(query.offset - query.limit, 0)
        links["previous"] = url_for(
            "search.search_page", **(query.as_args() | {"offset": [str(previous)]})
        )
    if results.next_offset is not None:
        links["next"] = url_for(
            "search.search_page", **(query.as_args() | {"offset": [str(results.next_offset)]})
        )
    return links
