"""Signing in (Flask-Login) and the permission check every request passes through.

Each view names its permission with `@requires(...)`. The check runs before every request,
looks the permission up in assetmap.people.permissions, and fails closed: a view that names no
permission is refused to everyone, so a route added without thought is not left open.
"""

from __future__ import annotations

from flask import Flask, abort, current_app, redirect, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user

from assetmap.people import accounts, permissions
from assetmap.web.db import get_db

# The session-cookie key that vouches for a session signed in while the database was too busy
# to write its row (accounts.SignIn.late).
LATE_SESSION_KEY = "late_session"

# Endpoints that Flask adds itself, with the permission they need.
BUILT_IN_ENDPOINTS = {"static": "view_public"}


def requires(permission: str):
    """Declare the permission a view needs (checked in `check_permission`)."""
    if permission not in permissions.PERMISSIONS:
        raise LookupError(f"{permission!r} is not in assetmap.people.permissions.PERMISSIONS")

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
    """The account behind a session. What Flask-Login keeps in the cookie (`get_id`) is the
    session's random token, which names a row in the `sessions` table: signing out ends that
    row, and changing the password, the role or disabling the account ends all of the
    account's rows, so a copy of the cookie opens nothing afterwards."""

    def __init__(self, row: dict, session_token: str):
        self.row = row
        self.session_token = session_token
        self.id = row["id"]
        self.email = row["email"]
        self.role = row["role"]

    def get_id(self) -> str:
        return self.session_token

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


def _load_user(session_token: str) -> SignedInUser | None:
    """Flask-Login's loader, for the session cookie and any remember cookie alike."""
    row = accounts.session_user(get_db(), session_token, session.get(LATE_SESSION_KEY))
    return SignedInUser(row, session_token) if row else None


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
