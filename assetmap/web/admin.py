"""Admins' pages: user accounts (add, change role, disable, reset password) and the audit log."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from assetmap.people import accounts, permissions
from assetmap.store import users as store
from assetmap.web.db import get_db
from assetmap.web.guard import requires
from assetmap.web.security import CsrfOnlyForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _render(status: int = 200, error: str | None = None, email: str = "", new_password=None):
    return render_template(
        "admin/users.html",
        users=store.list_users(get_db()),
        roles=permissions.ROLES,
        form=CsrfOnlyForm(),
        error=error,
        email=email,
        new_password=new_password,
    ), status


def _user_or_404(user_id: int) -> dict:
    user = store.get_user(get_db(), user_id)
    if user is None:
        abort(404, description="There is no such account.")
    return user


@bp.get("/users")
@requires("manage_users")
def users():
    """Every account with its role and state."""
    return _render()


@bp.post("/users")
@requires("manage_users")
def create_user():
    """Add an account with a generated password, shown once to the admin to pass on."""
    email, role = request.form.get("email", ""), request.form.get("role", "")
    password = accounts.generate_password()
    try:
        accounts.create_account(get_db(), email, role, password, actor=current_user.email)
    except accounts.AccountError as e:
        return _render(400, error=str(e), email=email)
    return _render(new_password=(email.strip(), password))


@bp.post("/users/<int:user_id>/role")
@requires("manage_users")
def change_role(user_id: int):
    user = _user_or_404(user_id)
    role = request.form.get("role", "")
    if role not in permissions.ROLE_SLUGS:
        return _render(400, error=f"{role!r} is not a role.")
    if user["id"] == current_user.id and role != permissions.ADMIN:
        return _render(400, error="You cannot take away your own admin role; ask another admin.")
    store.set_role(get_db(), user_id, role, actor=current_user.email)
    flash(f"{user['email']} is now a {permissions.role_label(role)}.")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/active")
@requires("manage_users")
def set_active(user_id: int):
    user = _user_or_404(user_id)
    active = request.form.get("active") == "yes"
    if user["id"] == current_user.id and not active:
        return _render(400, error="You cannot disable your own account.")
    store.set_active(get_db(), user_id, active, actor=current_user.email)
    flash(f"{user['email']} is {'enabled' if active else 'disabled'}.")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/password")
@requires("manage_users")
def reset_password(user_id: int):
    """Give an account a new generated password (shown once) and end its sessions."""
    user = _user_or_404(user_id)
    password = accounts.generate_password()
    accounts.set_password(get_db(), user, password, actor=current_user.email)
    return _render(new_password=(user["email"], password))


@bp.get("/audit")
@requires("read_audit_log")
def audit_log():
    """Account and role changes, newest first."""
    return render_template("admin/audit.html", entries=store.audit_entries(get_db()))
