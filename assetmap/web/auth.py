"""Signing in and out, and changing one's own password."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import InputRequired

from assetmap.people import accounts
from assetmap.people.permissions import allows
from assetmap.store import Busy
from assetmap.web.db import get_db
from assetmap.web.guard import LATE_SESSION_KEY, SignedInUser, requires
from assetmap.web.redirects import same_site_path

bp = Blueprint("auth", __name__)


class SignInForm(FlaskForm):
    email = EmailField("Email", validators=[InputRequired("Enter your email address.")])
    password = PasswordField("Password", validators=[InputRequired("Enter your password.")])


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        "Current password", validators=[InputRequired("Enter your current password.")]
    )
    new = PasswordField("New password", validators=[InputRequired("Enter a new password.")])
    confirm = PasswordField(
        "New password again", validators=[InputRequired("Enter the new password again.")]
    )


# Where each role lands after signing in, when no `next` says otherwise: the page its work
# starts from. The first permission the role holds decides; anyone else lands on the home page.
LANDING_PAGES = (
    ("make_plans", "plans.my_plans"),  # a link worker: their clients' plans
    ("edit_assets", "manage.asset_list"),  # a coordinator: the assets they keep
    ("manage_users", "admin.users"),  # an admin: the accounts
)


def landing_page(role: str) -> str:
    """The endpoint someone with `role` is taken to after signing in."""
    for permission, endpoint in LANDING_PAGES:
        if allows(permission, role):
            return endpoint
    return "public.home"


def _unrecorded() -> accounts.UnrecordedAttempts:
    """This app's sign-in attempts that a busy database could not take yet."""
    return current_app.extensions.setdefault(
        "assetmap.unrecorded_attempts", accounts.UnrecordedAttempts()
    )


@bp.route("/login", methods=["GET", "POST"])
@requires("sign_in")
def login():
    """Sign in with email and password; throttled after repeated failures."""
    form = SignInForm()
    status = 200
    error = None
    if form.validate_on_submit():
        result = accounts.authenticate(
            get_db(),
            form.email.data,
            form.password.data,
            request.remote_addr or "unknown",
            accounts.ThrottlePolicy(),
            unrecorded=_unrecorded(),
        )
        if isinstance(result, accounts.Refusal):
            error, status = result.message(), 503 if result.reason == "busy" else 429
        elif result is None:
            error, status = "The email or password is not right. Check them and try again.", 401
        else:
            session.clear()  # a new session on sign-in, so an old session id cannot be reused
            login_user(SignedInUser(result.user, result.session_token))
            if result.late:
                session[LATE_SESSION_KEY] = result.late
            landing = url_for(landing_page(result.user["role"]))
            return redirect(same_site_path(request.args.get("next"), landing))
    elif form.is_submitted():
        status = 400
    return render_template("login.html", form=form, error=error), status


@bp.post("/logout")
@requires("sign_in")
def logout():
    """Sign out (a POST, so another site cannot sign people out with a link), ending the
    session on the server, so that a copy of its cookie opens nothing afterwards."""
    try:
        accounts.end_session(get_db(), current_user.id, current_user.session_token)
    except Busy:
        abort(
            503,
            description="The service is busy just now, so you are still signed in. "
            "Try signing out again in a minute.",
        )
    logout_user()
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("public.home"))


@bp.route("/account/password", methods=["GET", "POST"])
@requires("own_account")
def change_password():
    """Change one's own password; other sessions of the account end."""
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            accounts.change_own_password(
                get_db(),
                current_user.row,
                form.current.data,
                form.new.data,
                form.confirm.data,
                session_token=current_user.session_token,  # carries on; the others end
            )
        except accounts.AccountError as e:
            getattr(form, e.field).errors.append(str(e))
            status = 400
        else:
            flash("Your password has been changed.")
            return redirect(url_for("public.home"))
    elif form.is_submitted():
        status = 400
    return render_template("change_password.html", form=form), status
