"""The organiser's pages, opened from the link in a reminder, with no account: "Is this still
right?", "Yes, still right", and "Something has changed" (the asset form's public fields).

Every page first opens the link (assetmap/freshness/organisers.py); a link that opens nothing
gets a page saying why and what to do, with a 4xx status, and never a listing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, render_template, request

from assetmap.freshness import moderation, organisers
from assetmap.record import form as asset_form
from assetmap.record import history
from assetmap.record.fields import FIELDS_BY_NAME, public_view
from assetmap.web.db import get_db
from assetmap.web.guard import requires
from assetmap.web.security import CsrfOnlyForm

bp = Blueprint("organisers", __name__, url_prefix="/organiser")

# A tampered address opens nothing at all; the others name a link that existed.
_STATUS = {organisers.TAMPERED: 404}


def _secret():
    return current_app.config["SECRET_KEY"]


def _private(response_and_status):
    """No cache keeps the page and no search engine lists it (its templates also ask the
    browser to send no referrer, so the address with its token stays here)."""
    response = current_app.make_response(response_and_status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _refused(refusal: organisers.LinkRefused):
    page = render_template("organisers/refused.html", refusal=refusal)
    return _private((page, _STATUS.get(refusal.reason, 410)))


def _open(token: str):
    """(link, asset), or the refusal page's response."""
    try:
        return organisers.open_link(get_db(), token, _secret(), now=datetime.now(UTC)), None
    except organisers.LinkRefused as refusal:
        return None, _refused(refusal)


def _listing(asset: dict) -> list[tuple[str, str]]:
    """The listing's public fields that hold something, as (label, words); the position is
    left out, as the public sees it on a map rather than in numbers."""
    public = public_view(asset)
    return [
        (ff.field.label, history.shown(FIELDS_BY_NAME[ff.name], public.get(ff.name)))
        for ff in moderation.ORGANISER_FORM_FIELDS
        if ff.name not in ("lat", "lon")
        and public.get(ff.name) not in (None, "", [], {"sessions": [], "notes": ""})
    ]


@bp.get("/<token>")
@requires("answer_reminder")
def still_right(token: str):
    """ "Is this still right?": the listing as the public sees it, and the two answers."""
    opened, refused = _open(token)
    if refused:
        return refused
    _link, asset = opened
    page = render_template(
        "organisers/still_right.html",
        asset=public_view(asset),
        listing=_listing(asset),
        token=token,
        form=CsrfOnlyForm(),
    )
    return _private(page)


@bp.post("/<token>/confirm")
@requires("answer_reminder")
def confirm(token: str):
    """ "Yes, still right": recorded as a check by the organiser."""
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    try:
        asset = moderation.confirm(get_db(), token, _secret(), now=datetime.now(UTC))
    except organisers.LinkRefused as refusal:
        return _refused(refusal)
    return _private(render_template("organisers/thanks.html", asset=asset, proposed=False))


@bp.route("/<token>/change", methods=["GET", "POST"])
@requires("answer_reminder")
def change(token: str):
    """ "Something has changed": the public fields of the asset form, checked as every write is;
    the change waits for a coordinator."""
    opened, refused = _open(token)
    if refused:
        return refused
    _link, asset = opened
    form = CsrfOnlyForm()
    if request.method == "GET":
        return _form(token, asset, asset, {})
    if not form.validate_on_submit():
        abort(400)
    result = moderation.proposed_record(
        asset, request.form, bounds=current_app.config["ASSETMAP_BOUNDS"]
    )
    if result.errors:
        raw = asset_form.form_to_raw(request.form)
        return _form(token, asset, result.record, result.errors, raw=raw, status=400)
    try:
        proposal_id = moderation.propose(
            get_db(), token, _secret(), result.record, now=datetime.now(UTC)
        )
    except organisers.LinkRefused as refusal:
        return _refused(refusal)
    if proposal_id is None:
        errors = {
            "name": "Nothing was changed. If the listing is still right, go back and "
            "choose 'Yes, still right'."
        }
        return _form(token, asset, result.record, errors, status=400)
    return _private(render_template("organisers/thanks.html", asset=asset, proposed=True))


def _form(token, asset, record, errors, *, raw=None, status=200):
    refused = {name: raw.get(name) for name in errors} if raw else None
    schedule = raw["schedule"] if raw and "schedule" in errors else record.get("schedule")
    page = render_template(
        "organisers/change.html",
        asset=public_view(asset),
        token=token,
        form=CsrfOnlyForm(),
        form_fields=moderation.ORGANISER_FORM_FIELDS,
        values=asset_form.form_values(record, refused),
        schedule_rows=asset_form.schedule_rows(schedule),
        errors=errors,
    )
    return _private((page, status))
