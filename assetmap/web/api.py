"""The JSON API under /api/v1: public asset data as GeoJSON, and the taxonomy."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request, url_for

from assetmap.record import taxonomy
from assetmap.record.formats import ATTRIBUTION, to_feature
from assetmap.search.parameters import parse_asset_listing, parse_fields
from assetmap.store import assets as store
from assetmap.web.db import get_db
from assetmap.web.freshness import last_checked
from assetmap.web.guard import requires
from assetmap.web.openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api")

GEOJSON = "application/geo+json"


def _geojson(document: dict):
    response = jsonify(document)
    response.mimetype = GEOJSON
    return response


@bp.get("/v1/assets")
@requires("view_public")
def list_assets():
    """Open assets as a GeoJSON FeatureCollection, a page at a time."""
    args = request.args.to_dict(flat=False)
    listing, page = parse_asset_listing(args)
    only = parse_fields(args)
    records, total = store.list_assets(get_db(), listing, limit=page.limit, offset=page.offset)
    next_offset = page.offset + len(records)
    next_url = None
    if next_offset < total and records:
        args = request.args.to_dict(flat=False)
        args.update(offset=[str(next_offset)], limit=[str(page.limit)])
        next_url = url_for("api.list_assets", **args)
    return _geojson(
        {
            "type": "FeatureCollection",
            "total": total,
            "limit": page.limit,
            "offset": page.offset,
            "next": next_url,
            "attribution": ATTRIBUTION,
            "features": [to_feature(r, public=True, only=only) for r in records],
        }
    )


@bp.get("/v1/assets/<asset_id>")
@requires("view_public")
def get_asset(asset_id: str):
    """One asset as a GeoJSON Feature, or a 404 JSON error."""
    record = store.get_asset(get_db(), asset_id)
    if record is None or record["archived"]:
        abort(404, description=f"there is no asset with id {asset_id!r}")
    feature = to_feature(record, public=True)
    checked = last_checked(record["last_verified"])
    feature["properties"].update(last_checked_words=checked.words, stale=checked.stale)
    return _geojson(feature)


@bp.get("/v1/taxonomy")
@requires("view_public")
def get_taxonomy():
    """Strands and their approaches, kinds, categories, audiences and other vocabularies."""
    return jsonify(taxonomy.as_json())


@bp.get("/openapi.json")
@requires("view_public")
def get_openapi():
    """The OpenAPI 3 description of this API."""
    return jsonify(openapi_document())
