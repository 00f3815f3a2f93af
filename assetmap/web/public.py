"""Public pages: the home page, the map, an asset's page, and the strand colours."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user

from assetmap.maps import build_asset_map, build_location_map
from assetmap.record import describe, schedules, taxonomy
from assetmap.record.fields import APPROXIMATE_POSITIONS, POSITION_SOURCES, public_view
from assetmap.search import in_view
from assetmap.search.parameters import parse_asset_listing
from assetmap.store import assets as store
from assetmap.store import plans as plan_store
from assetmap.web.db import get_db
from assetmap.web.freshness import last_checked
from assetmap.web.guard import can, requires
from assetmap.web.security import CsrfOnlyForm

bp = Blueprint("public", __name__)


@bp.get("/")
@requires("view_public")
def home():
    """What this is, how many assets each strand has, and where to go next."""
    counts = store.count_by_strand(get_db())
    return render_template(
        "home.html", strands=taxonomy.STRANDS, counts=counts, total=sum(counts.values())
    )


LIST_PAGE_SIZE = 50
# The filters the map and its list share; everything else in the query string is ignored.
MAP_FILTERS = ("strand", "kind", "category", "accessible", "day", "free", "bbox")
# Where the list is ordered from after "Go" with a postcode or "Use my location".
LIST_PLACE = ("near", "near_label")


def _map_filters():
    """The map's filters from the query string, checked (a bad one is a 400 that names it)."""
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if k in MAP_FILTERS}
    listing, _ = parse_asset_listing(args)
    return listing, args


MAX_LIST_PAGE = 100_000  # of LIST_PAGE_SIZE: far past any directory, well inside SQLite's range


def _list_page(listing) -> dict:
    """One page of the list under the map, in words: by name, or nearest first from the
    postcode or location the map was moved to (`in_view.list_page` decides which)."""
    try:  # a page past any list there could be is the last one there could be
        page = min(max(int(request.args.get("page", "1")), 1), MAX_LIST_PAGE)
    except ValueError:
        page = 1
    near = in_view.parse_near(request.args.get("near"), request.args.get("near_label"))
    found = in_view.list_page(
        get_db(), listing, near, limit=LIST_PAGE_SIZE, offset=(page - 1) * LIST_PAGE_SIZE
    )
    items = [
        {
            "asset": place.record,
            "kind": taxonomy.label(taxonomy.KINDS, place.record["kind"]),
            "strand": taxonomy.label(taxonomy.STRANDS, place.record["strand"]),
            "when": describe.schedule_in_words(place.record["schedule"]),
            "cost": taxonomy.label(taxonomy.COSTS, place.record["cost"]),
            "illustrative": describe.is_illustrative(place.record),
            "distance": None
            if place.distance_m is None
            else describe.distance_in_words(place.distance_m),
            "walking": place.walking_minutes,
        }
        for place in found.places
    ]
    total = found.total
    pages = max((total + LIST_PAGE_SIZE - 1) // LIST_PAGE_SIZE, 1)
    return {
        "items": items,
        "total": total,
        "page": page,
        "pages": pages,
        "in_area": listing.bbox is not None,
        "near": found.near,
        "too_many_to_sort": found.too_many_to_sort,
    }


def _list_args(args: dict) -> dict:
    """The query string the list's page links carry: the filters and the place it is from."""
    place = {k: v for k, v in request.args.to_dict(flat=False).items() if k in LIST_PLACE}
    return {**args, **place}


@bp.get("/map")
@requires("view_public")
def asset_map():
    """Open assets on a map, one layer per strand, with filters and the same results as a
    list that works without JavaScript; `?asset=ID` zooms to one."""
    listing, args = _map_filters()
    config = current_app.config
    rendered = build_asset_map(
        static_url=lambda path: url_for("static", filename=path),
        api_url=url_for("api.list_assets"),
        asset_url=url_for("public.asset_page", asset_id="ASSET_ID"),
        tile_url=config["ASSETMAP_TILE_URL"],
        tile_attribution=config["ASSETMAP_TILE_ATTRIBUTION"],
        centre=config["ASSETMAP_MAP_CENTRE"],
        focus=request.args.get("asset") or None,
    )
    rendered.config["listUrl"] = url_for("public.asset_list")
    rendered.config["searchApi"] = url_for("search.api_search")
    rendered.config["filters"] = list(MAP_FILTERS)
    return render_template(
        "map.html",
        map=rendered,
        strands=taxonomy.STRANDS,
        chosen=args,
        vocab=taxonomy,
        results=_list_page(listing),
        list_args=_list_args(args),
        counts=store.count_by_strand(get_db()),
    )


@bp.get("/map/list")
@requires("view_public")
def asset_list():
    """The list under the map on its own, for the map's script to refresh after a filter
    changes, "search this area", "Go" or "Use my location" (the last two send `near`, and the
    list is then nearest first); also a plain page of its own."""
    listing, args = _map_filters()
    return render_template(
        "map_list.html", results=_list_page(listing), chosen=args, list_args=_list_args(args)
    )


@bp.get("/assets/<asset_id>")
@requires("view_public")
def asset_page(asset_id: str):
    """An asset's details for a resident: what, who for, when, where, cost, access, how to join.

    Link workers and coordinators also see the professional-only details; coordinators see
    archived assets (everyone else gets a 404 for them) and links to edit and history.
    """
    record, version = store.get_asset_and_version(get_db(), asset_id)
    if record is None or (record["archived"] and not can("edit_assets")):
        abort(404, description="There is no asset at this address. It may have been removed.")
    professional = can("view_professional")
    today = describe.today()
    upcoming = schedules.next_session(record["schedule"], today)
    config = current_app.config
    location = build_location_map(
        static_url=lambda path: url_for("static", filename=path),
        lat=record["lat"],
        lon=record["lon"],
        tile_url=config["ASSETMAP_TILE_URL"],
        tile_attribution=config["ASSETMAP_TILE_ATTRIBUTION"],
    )
    return render_template(
        "asset.html",
        asset=record if professional else public_view(record),
        professional=professional,
        position=taxonomy.label(POSITION_SOURCES, record.get("position_source")),
        approximate=record.get("position_source") in APPROXIMATE_POSITIONS,
        strand=taxonomy.STRANDS_BY_SLUG.get(record["strand"]),
        approach=taxonomy.approach_label(record["approach"]),
        kind=taxonomy.label(taxonomy.KINDS, record["kind"]),
        categories=describe.labels(taxonomy.CATEGORIES, record["categories"]),
        audiences=describe.labels(taxonomy.AUDIENCES, record["audiences"]),
        accessibility=describe.labels(taxonomy.ACCESSIBILITY, record["accessibility"]),
        cost=taxonomy.label(taxonomy.COSTS, record["cost"]),
        status=taxonomy.label(taxonomy.STATUSES, record["status"]),
        schedule=describe.schedule_in_words(record["schedule"]),
        ages=describe.age_range(record["min_age"], record["max_age"]),
        illustrative=describe.is_illustrative(record),
        next_session=upcoming.words if upcoming else None,
        checked=last_checked(record["last_verified"]),
        directions=describe.directions_url(record["lat"], record["lon"]),
        location=location,
        capacity=taxonomy.label(taxonomy.CAPACITY, record["capacity"]),
        my_plans=plan_store.plans_of(get_db(), current_user.id) if can("make_plans") else [],
        version=version,  # the archive button's: archiving over a newer version is refused
        form=CsrfOnlyForm(),
    )


@bp.get("/strands.css")
@requires("view_public")
def strands_css():
    """Strand colours as CSS classes, made from the taxonomy so colours live in one place."""
    css = render_template("strands.css", strands=taxonomy.STRANDS)
    response = current_app.response_class(css, mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response
