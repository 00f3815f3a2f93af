"""Signing in (Flask-Login) and the permission check every request passes through.

Each view names its permission with `@requires(...)`. The check runs before every request,
looks the permission up in assetmap.permissions, and fails closed: a view that names no
permission is refused to everyone, so a route added without thought is not left open.
"""

from __future__ import annotations

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import LoginManager, UserMixin, current_user

from assetmap import permissions
from assetmap.store import users as store
from assetmap.web.db import get_db

# Endpoints that Flask adds itself, with the permission they need.
BUILT_IN_ENDPOINTS = {"static": "view_public"}


def requires(permission: str):
    """Declare the permission a view needs (checked in `check_permission`)."""
    if permission not in permissions.PERMISSIONS:
        raise LookupError(f"{permission!r} is not in assetmap.permissions.PERMISSIONS")

    def declare(view):
        view.permission = permission
        return view

    return declare


def permission_for(app: Flask, endpoint: str) -> str | None:
    """The permission an endpoint declares, or None when it declares none."""
    if endpoint in BUILT_IN_ENDPOINTS:
        return BUILT_IN_ENDPOINTS[endpoint]
    return getattr(app.view_functions.get(endpoint), "permission", None)


class SignedInUser(UserMixin):
    """The account behind a session. Its id carries the session version, so changing the
    password, the role or disabling the account ends every existing session."""

    def __init__(self, row: dict):
        self.row = row
        self.id = row["id"]
        self.email = row["email"]
        self.role = row["role"]

    def get_id(self) -> str:
        return f"{self.row['id']}:{self.row['session_version']}"

    @property
    def role_label(self) -> str:
        return permissions.role_label(self.role)

    def can(self, permission: str) -> bool:
        return permissions.allows(permission, self.role)


def current_role() -> str | None:
    return current_user.role if current_user.is_authenticated else None


def can(permission: str) -> bool:
    """Whether the person making this request holds the permission (for templates and views)."""
    return permissions.allows(permission, current_role())


def _load_user(session_id: str) -> SignedInUser | None:
    try:
        user_id, version = (int(part) for part in session_id.split(":"))
    except ValueError:
        return None
    row = store.get_user(get_db(), user_id)
    if row is None or not row["active"] or row["session_version"] != version:
        return None
    return SignedInUser(row)


def check_permission():
    if request.endpoint is None:  # no route matched: let the 404/405 handlers answer
        return None
    permission = permission_for(current_app, request.endpoint)
    if permission is None:
        abort(403, description="This page has no permission declared, so nobody may use it.")
    if permissions.allows(permission, current_role()):
        return None
    if current_role() is None:
        # A page asked for is worth a trip to the sign-in form and back; a form sent or an
        # API call is refused outright, since a redirect would drop what was sent.
        if request.method in ("GET", "HEAD") and not request.path.startswith("/api/"):
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(401, description="Sign in to do this.")
    abort(403, description="Your account's role does not allow this.")


def init_app(app: Flask) -> None:
    manager = LoginManager()
    manager.user_loader(_load_user)
    manager.session_protection = "basic"
    manager.init_app(app)
    app.before_request(check_permission)
    app.jinja_env.globals["can"] = can
