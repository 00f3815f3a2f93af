"""The Open Referral UK 3.0 API under /api/oruk/: the directory, public and read-only, in the
shape other UK directories read (see assetmap.openreferral.mapping for what goes where, and
assetmap.openreferral.query for how each filter reads).

Every response may be fetched from any site (CORS `*`): the data is public, nothing here reads
a session, and a neighbouring directory's browser page should be able to read it directly.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request, url_for

from assetmap.openreferral import finding, mapping, publish, query
from assetmap.openreferral import taxonomy as oruk_taxonomy
from assetmap.web.db import get_db
from assetmap.web.guard import requires

bp = Blueprint("oruk", __name__, url_prefix="/api/oruk")

VERSION = "HSDS-UK-3.0"
PROFILE_URL = "https://github.com/OpenReferralUK/uk-profile"
# Kept for callers of the first step; the paging rules live in assetmap.openreferral.query.
DEFAULT_PER_PAGE = query.DEFAULT_PER_PAGE
MAX_PER_PAGE = query.MAX_PER_PAGE


@bp.after_request
def _allow_any_origin(response):
    if request.method in ("GET", "HEAD"):
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _args() -> dict[str, list[str]]:
    return request.args.to_dict(flat=False)


def _base_url() -> str:
    """This site's address, for the taxonomy terms' URIs: ASSETMAP_SITE_URL, so that a URI
    is the same however the API is reached (never the request's Host header)."""
    return current_app.config["ASSETMAP_SITE_URL"].rstrip("/")


@bp.get("/")
@requires("view_public")
def about():
    """Which version of the standard this API follows, and where its profile is described."""
    return jsonify(
        {
            "version": VERSION,
            "profile": PROFILE_URL,
            "openapi_url": url_for("api.get_openapi", _external=True),
        }
    )


def _published_page(shape):
    """A page of published assets, each as `shape` makes it (a service, or a service at its
    location), in the standard's envelope: by name, or nearest first from a postcode."""
    asked = query.parse_query(_args())
    found = finding.find(get_db(), asked)
    base = _base_url()
    items = [shape(r, base_url=base, modified=found.modified.get(r["id"])) for r in found.records]
    return jsonify(finding.envelope(items, found.total, asked.paging))


def _published_one(oruk_id: str, shape, id_of, what: str):
    """One published asset by the UUID `id_of` gives it, as `shape` makes it; a JSON 404."""
    db = get_db()
    record = publish.find_asset(db, oruk_id, id_of)
    if record is None:
        abort(404, description=f"there is no {what} with id {oruk_id!r}")
    modified = publish.modified_time(db, record["id"])
    return jsonify(shape(record, base_url=_base_url(), modified=modified))


@bp.get("/services")
@requires("view_public")
def list_services():
    """A page of services in the standard's envelope: by name, or nearest first from a
    postcode."""
    return _published_page(mapping.to_service)


@bp.get("/services/<service_id>")
@requires("view_public")
def get_service(service_id: str):
    """One full service by its UUID, or a JSON 404."""
    return _published_one(service_id, mapping.to_service, mapping.service_id, "service")


@bp.get("/service_at_locations")
@requires("view_public")
def list_service_at_locations():
    """A page of services at their locations: by name, or nearest first from a postcode."""
    return _published_page(mapping.to_service_at_location)


@bp.get("/service_at_locations/<oruk_id>")
@requires("view_public")
def get_service_at_location(oruk_id: str):
    """One service at its location by the UUID of the pair, or a JSON 404."""
    return _published_one(
        oruk_id,
        mapping.to_service_at_location,
        mapping.service_at_location_id,
        "service_at_location",
    )


@bp.get("/taxonomies")
@requires("view_public")
def list_taxonomies():
    """The directory's taxonomies (strands and approaches, kinds, categories, audiences)."""
    paging = query.parse_paging(_args())
    chosen = oruk_taxonomy.TAXONOMIES[paging.offset : paging.offset + paging.per_page]
    items = [oruk_taxonomy.taxonomy_json(t, _base_url()) for t in chosen]
    return jsonify(finding.envelope(items, len(oruk_taxonomy.TAXONOMIES), paging))


@bp.get("/taxonomies/<oruk_id>")
@requires("view_public")
def get_taxonomy(oruk_id: str):
    found = oruk_taxonomy.TAXONOMIES_BY_ID.get(oruk_id.lower())
    if found is None:
        abort(404, description=f"there is no taxonomy with id {oruk_id!r}")
    return jsonify(oruk_taxonomy.taxonomy_json(found, _base_url()))


@bp.get("/taxonomy_terms")
@requires("view_public")
def list_taxonomy_terms():
    """A page of taxonomy terms: of one taxonomy, top-level only, the children of one term,
    or those whose name holds some text."""
    asked = query.parse_term_query(_args())
    terms = oruk_taxonomy.find_terms(
        taxonomy=asked.taxonomy_id,
        parent=asked.parent_id,
        top_only=asked.top_only,
        search=asked.search,
    )
    paging = asked.paging
    chosen = terms[paging.offset : paging.offset + paging.per_page]
    items = [oruk_taxonomy.term_json(t, _base_url()) for t in chosen]
    return jsonify(finding.envelope(items, len(terms), paging))


@bp.get("/taxonomy_terms/<oruk_id>")
@requires("view_public")
def get_taxonomy_term(oruk_id: str):
    found = oruk_taxonomy.TERMS_BY_ID.get(oruk_id.lower())
    if found is None:
        abort(404, description=f"there is no taxonomy term with id {oruk_id!r}")
    return jsonify(oruk_taxonomy.term_json(found, _base_url()))
