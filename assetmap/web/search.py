"""Nearby search: the page link workers and residents use, and GET /api/v1/search."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_login import current_user

from assetmap.maps import build_search_map
from assetmap.record import describe, taxonomy
from assetmap.record.fields import public_view
from assetmap.record.formats import ATTRIBUTION, to_feature
from assetmap.search import nearby as search
from assetmap.search.parameters import ParameterError
from assetmap.search.postcodes import PostcodeError
from assetmap.store import plans as plan_store
from assetmap.web import freshness
from assetmap.web.coverage import count_search
from assetmap.web.db import get_db
from assetmap.web.guard import can, requires

bp = Blueprint("search", __name__)

# The form's fields and their choices, by parameter name (templates/search.html).
FORM = {p.name: p for p in search.PARAMETERS}


@bp.get("/api/v1/search")
@requires("view_public")
def api_search():
    """Assets near a postcode or a point, nearest first, as GeoJSON with distances."""
    query = search.parse_search(request.args.to_dict(flat=False))
    results = search.search(get_db(), query, freshness=freshness.rules())
    count_search(query, results)
    next_url = None
    if results.next_offset is not None:
        next_url = url_for("search.api_search", **query.page(results.next_offset).as_args())
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


# What the form calls its fields, in the words of whoever is searching: a link worker
# searches for a client, a resident (or anyone not signed in) for themselves.
FOR_A_CLIENT = {"q": "What they enjoy", "age": "Client's age"}
FOR_ONESELF = {"q": "What do you enjoy?", "age": "Your age"}
FOR_STAFF = {"q": "Interests", "age": "Age"}

NEEDS_A_PLACE = (
    "Type a postcode to search near, such as M33 7ZF (or part of one: M33 7, or M33); "
    "what you asked for is kept below."
)


def _field_words() -> dict[str, str]:
    if can("make_plans"):
        return FOR_A_CLIENT
    return FOR_STAFF if can("view_professional") else FOR_ONESELF


def _results_view(results: search.SearchResults) -> list[dict]:
    shown = []
    for number, hit in enumerate(results.hits, start=results.query.offset + 1):
        record = hit.record
        shown.append(
            {
                "number": number,
                "matched": hit.matched,
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
                "checked": hit.checked,
            }
        )
    return shown


def _suggestions(query: search.SearchQuery) -> list[tuple[str, str]]:
    """Links that widen a search that found nothing: a wider radius, then fewer filters."""
    links = []
    wider = query.wider()
    if wider is not None:
        href = url_for("search.search_page", **wider.as_args())
        links.append((href, f"Search within {wider.radius_km:g} km"))
    unfiltered = query.unfiltered()
    if unfiltered is not None:
        href = url_for("search.search_page", **unfiltered.as_args())
        links.append((href, "Search without the filters"))
    return links


@bp.get("/search")
@requires("view_public")
def search_page():
    """A form (postcode, distance, keywords, filters), the results as a list that works without
    JavaScript, and a map with the search circle and numbered markers that match the list."""
    args = search.page_args(request.args.to_dict(flat=False))
    context = {
        "args": args,
        "form": FORM,
        "error": None,
        "results": None,
        "map": None,
        "words": _field_words(),
        "radii": search.radius_choices(_radius_asked(args)),
        "my_plans": plan_store.plans_of(get_db(), current_user.id) if can("make_plans") else [],
        "can_plan": can("make_plans"),
    }
    status = 200
    if search.asks_without_a_place(args):
        context["error"], status = ParameterError("postcode", NEEDS_A_PLACE), 400
    elif search.is_asked(args):
        try:
            query = search.parse_search(args)
            results = search.search(get_db(), query, freshness=freshness.rules())
            count_search(query, results)
        except PostcodeError as e:
            context["error"], status = e, 422
        except ParameterError as e:
            context["error"], status = e, 400
        else:
            config = current_app.config
            context.update(
                results=results,
                items=_results_view(results),
                keywords=search.keywords(query.q),
                suggestions=_suggestions(query) if not results.total else [],
                # No map when nothing was found: the page has no place for one.
                map=build_search_map(
                    static_url=lambda path: url_for("static", filename=path),
                    centre=(results.centre.lat, results.centre.lon),
                    radius_m=results.radius_m,
                    points=[(h.record["lat"], h.record["lon"]) for h in results.hits],
                    first_number=query.offset + 1,
                    tile_url=config["ASSETMAP_TILE_URL"],
                    tile_attribution=config["ASSETMAP_TILE_ATTRIBUTION"],
                )
                if results.hits
                else None,
                page_links=_page_links(results),
                day_links=_day_links(results.query),
            )
    return render_template("search.html", **context), status


def _radius_asked(args) -> float:
    """The radius the page was asked for, to offer it again in the form (the search itself
    checks it, and says what is wrong with a bad one)."""
    try:
        return float((args.get("radius_km") or [""])[-1])
    except ValueError:
        return search.DEFAULT_RADIUS_KM


def _day_links(query: search.SearchQuery) -> list[tuple[str, str, bool]]:
    """(label, link, chosen) for "any day" and each day of the week: on a phone one tap picks
    the day, rather than opening the filters, choosing and searching again."""
    chosen = query.days[0] if len(query.days) == 1 else None
    days = [(None, "Any day"), *((t.slug, t.label) for t in taxonomy.DAYS)]
    return [
        (label, url_for("search.search_page", **query.on_day(slug).as_args()), slug == chosen)
        for slug, label in days
    ]


def _page_links(results: search.SearchResults) -> dict:
    links = {}
    for name, offset in (("previous", results.previous_offset), ("next", results.next_offset)):
        if offset is not None:
            links[name] = url_for("search.search_page", **results.query.page(offset).as_args())
    return links
