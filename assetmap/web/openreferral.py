"""The Open Referral UK 3.0 API under /api/oruk/: the directory, public and read-only, in the
shape other UK directories read (see assetmap.openreferral.mapping for what goes where).

Every response may be fetched from any site (CORS `*`): the data is public, nothing here reads
a session, and a neighbouring directory's browser page should be able to read it directly.
"""

from __future__ import annotations

import math

from flask import Blueprint, abort, jsonify, request, url_for

from assetmap.openreferral import mapping, publish
from assetmap.store import assets as store
from assetmap.web.db import get_db
from assetmap.web.guard import requires

bp = Blueprint("oruk", __name__, url_prefix="/api/oruk")

VERSION = "HSDS-UK-3.0"
PROFILE_URL = "https://github.com/OpenReferralUK/uk-profile"
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200


@bp.after_request
def _allow_any_origin(response):
    if request.method in ("GET", "HEAD"):
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _whole_number(name: str, default: int, most: int | None = None) -> int:
    """A page argument, or a 400 saying what it must be."""
    text = request.args.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        abort(400, description=f"{name} must be a whole number from 1, such as {name}=2")
    if most is not None and int(text) > most:
        abort(400, description=f"{name} must be at most {most}")
    return int(text)


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


@bp.get("/services")
@requires("view_public")
def list_services():
    """A page of services in the standard's envelope, ordered by name."""
    page = _whole_number("page", 1)
    per_page = _whole_number("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    records, total = store.list_assets(
        get_db(), publish.PUBLISHED, limit=per_page, offset=(page - 1) * per_page
    )
    total_pages = math.ceil(total / per_page)
    return jsonify(
        {
            "total_items": total,
            "total_pages": total_pages,
            "page_number": page,
            "size": len(records),
            "first_page": page == 1,
            "last_page": page >= total_pages,
            "empty": not records,
            "contents": [mapping.to_service(r) for r in records],
        }
    )


@bp.get("/services/<service_id>")
@requires("view_public")
def get_service(service_id: str):
    """One full service by its UUID, or a JSON 404."""
    record = publish.find_asset(get_db(), service_id)
    if record is not None:
        return jsonify(mapping.to_service(record))
    abort(404, description=f"there is no service with id {service_id!r}")
