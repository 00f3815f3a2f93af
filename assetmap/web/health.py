"""`GET /healthz`: whether this app server can serve, for a load balancer (docs/deploying.md).

200 "ok" when the database answers; 503 "unavailable" when it does not (unreachable, missing,
not brought up to date by `assetmap init`, too slow), so that the balancer sends people to the
other servers meanwhile. It opens the database as every request does (web/db.py `get_db`:
the connection, then the schema version, a query of one value) and nothing else: no page, no
session (no cookie is set), nothing cached on the way. Public, as a balancer signs in to
nothing; the reason for a 503 goes to the server's log, not to the public (it could name the
database's host).
"""

from __future__ import annotations

from flask import Blueprint, current_app

from assetmap.web.db import get_db
from assetmap.web.guard import requires

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@requires("view_public")
def healthz():
    """200 "ok" when the database answers, else 503 "unavailable" (the reason in the log)."""
    try:
        get_db()
    except Exception as error:  # whatever the database's failure: never a 500 here
        reason = getattr(error, "description", None) or f"{type(error).__name__}: {error}"
        current_app.logger.warning("health check: the database does not answer: %s", reason)
        return _answer("unavailable\n", 503)
    return _answer("ok\n", 200)


def _answer(text: str, status: int):
    response = current_app.response_class(text, status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"  # a proxy must ask every time
    return response
