"""Link workers' plans for clients, the client's own page behind a share link, referral
records, and the demand report coordinators take to commissioners."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup

from assetmap.maps import build_plan_map
from assetmap.people import plans, referrals
from assetmap.record import describe
from assetmap.store import assets as asset_store
from assetmap.store import plans as store
from assetmap.store import referrals as referral_store
from assetmap.web.db import get_db
from assetmap.web.guard import requires
from assetmap.web.redirects import same_site_path
from assetmap.web.security import CsrfOnlyForm

bp = Blueprint("plans", __name__)


def _allow_names() -> bool:
    return current_app.config["ASSETMAP_ALLOW_CLIENT_NAMES"]


def _own_plan(plan_id: int) -> dict:
    """The plan when it is the signed-in link worker's; anyone else's is a 404, not a 403,
    so plan numbers tell nothing."""
    plan = store.get_plan(get_db(), plan_id)
    if plan is None or plan["created_by"] != current_user.id:
        abort(404, description="There is no such plan among yours.")
    return plan


def _share_link(token: str) -> str:
    return url_for("plans.client_view", token=token, _external=True)


@bp.route("/plans", methods=["GET", "POST"])
@requires("make_plans")
def my_plans():
    """A link worker's plans, and a new one for a client reference."""
    errors, values = {}, {}
    if request.method == "POST":
        if not CsrfOnlyForm().validate_on_submit():
            abort(400)
        values = request.form
        try:
            ref = plans.check_client_ref(request.form.get("client_ref", ""))
            name = plans.check_client_name(request.form.get("client_name", ""), _allow_names())
        except plans.PlanError as e:
            errors[e.field] = str(e)
        else:
            plan_id = store.create_plan(get_db(), current_user.id, ref, name)
            asset_id = request.form.get("asset_id")
            if asset_id and asset_store.get_asset(get_db(), asset_id):
                store.add_item(get_db(), plan_id, asset_id, None)
            return redirect(url_for("plans.plan", plan_id=plan_id))
    return _plans_page(errors, values)


def _render_plan(
    plan: dict, *, share_link: str | None = None, errors=None, values=None, status=200
):
    db = get_db()
    items = store.items(db, plan["id"])
    entries = plans.entries(items, describe.today(), plans.walk_from_of(db, plan))
    link_open = plans.link_is_open(plan)
    return render_template(
        "plans/plan.html",
        plan=plan,
        items=items,
        entries=entries,
        share_link=share_link,
        link_open=link_open,
        sms=plans.sms_text(entries, share_link),
        referrals=referral_store.recorded_by(db, current_user.id, plan["id"]),
        routes=referrals.ROUTES,
        outcomes=referrals.OUTCOMES,
        errors=errors or {},
        values=values or {},
        today=describe.today().isoformat(),
        form=CsrfOnlyForm(),
    ), status


@bp.get("/plans/<int:plan_id>")
@requires("make_plans")
def plan(plan_id: int):
    """The plan: its activities with notes, the share link, the text message, referrals."""
    return _render_plan(_own_plan(plan_id))


@bp.post("/plans/items")
@requires("make_plans")
def add_item():
    """Add an activity to the plan chosen in the form (from the activity's page or from
    search), with an optional note; or, when a client reference is typed, to a new plan for
    that client, made in the same step (a link worker's first search need not start on the
    plans page). The message says where it went, with a link to the plan."""
    asset = asset_store.get_asset(get_db(), request.form.get("asset_id", ""))
    if asset is None or asset["archived"]:
        abort(400, description="That activity is not in the directory; choose another.")
    typed_ref = request.form.get("client_ref", "")
    try:
        note = plans.check_note(request.form.get("note", ""))
        ref = plans.check_client_ref(typed_ref) if typed_ref.strip() else None
    except plans.PlanError as e:
        if e.field == "client_ref":  # shown again on the plans page, with what was typed
            return _plans_page({e.field: str(e)}, request.form)
        found = _own_plan(request.form.get("plan_id", type=int) or 0)
        return _render_plan(found, errors={"note": str(e)}, status=400)
    if ref is not None:
        plan_id = store.create_plan(get_db(), current_user.id, ref, None)
    elif not request.form.get("plan_id"):
        return _plans_page(
            {
                "client_ref": "Type your reference for the client, such as SP-0042, to start "
                "their plan."
            },
            request.form,
        )
    else:
        plan_id = request.form.get("plan_id", type=int) or 0
    found = _own_plan(plan_id)
    added = store.add_item(get_db(), plan_id, asset["id"], note)
    _walk_from_search(found, request.form.get("back"))
    link = url_for("plans.plan", plan_id=plan_id)
    if not added:
        said = "{name} is already in the plan for {ref}."
    else:
        said = (
            "Added {name} to a new plan for {ref}."
            if ref
            else "Added {name} to the plan for {ref}."
        )
    # Markup.format escapes each value: the names are the user's text, never markup.
    flash(
        Markup(said + ' <a href="{link}">Open the plan for {ref}</a>').format(
            name=asset["name"], ref=found["client_ref"], link=link
        )
    )
    return redirect(same_site_path(request.form.get("back"), link))


def _plans_page(errors: dict, values) -> tuple[str, int]:
    """The plans page with its "Start a plan" form: what was wrong and what was typed (and the
    activity, which the plan starts with once the reference is right); a 400 when wrong."""
    return render_template(
        "plans/list.html",
        plans=store.plans_of(get_db(), current_user.id),
        errors=errors,
        values=values,
        allow_names=_allow_names(),
        form=CsrfOnlyForm(),
    ), (400 if errors else 200)


def _walk_from_search(plan: dict, back: str | None) -> None:
    """A plan with no starting point for walking times takes the postcode of the search its
    first activity was added from: the link worker searched near the client, so that is where
    the client walks from. The plan page shows it, to change or clear."""
    if plan.get("walk_from") or not back:
        return
    typed = parse_qs(urlsplit(back).query).get("postcode", [""])[0]
    try:
        start = plans.check_walk_from(get_db(), typed)
    except plans.PlanError:
        return
    if start:
        store.set_walk_from(get_db(), plan["id"], start.postcode)


@bp.post("/plans/<int:plan_id>/walk-from")
@requires("make_plans")
def walk_from(plan_id: int):
    """Set (or clear, when empty) the postcode the client's walking times are measured from."""
    found = _own_plan(plan_id)
    try:
        start = plans.check_walk_from(get_db(), request.form.get("walk_from", ""))
    except plans.PlanError as e:
        return _render_plan(found, errors={e.field: str(e)}, values=request.form, status=400)
    store.set_walk_from(get_db(), plan_id, start.postcode if start else None)
    flash(
        f"Walking times are measured from {start.postcode}."
        if start
        else "The client's page no longer gives walking times."
    )
    return redirect(url_for("plans.plan", plan_id=plan_id) + "#walk-from")


@bp.post("/plans/<int:plan_id>/items/<int:item_id>")
@requires("make_plans")
def change_item(plan_id: int, item_id: int):
    """Save an activity's note, or take the activity out of the plan."""
    found = _own_plan(plan_id)
    if request.form.get("action") == "remove":
        store.remove_item(get_db(), plan_id, item_id)
        flash("Taken out of the plan.")
    else:
        try:
            note = plans.check_note(request.form.get("note", ""))
        except plans.PlanError as e:
            return _render_plan(found, errors={f"note-{item_id}": str(e)}, status=400)
        store.set_note(get_db(), plan_id, item_id, note)
        flash("Note saved.")
    return redirect(url_for("plans.plan", plan_id=plan_id))


@bp.post("/plans/<int:plan_id>/share")
@requires("make_plans")
def share(plan_id: int):
    """Make a new share link, shown this once: only its hash is kept, so a copy of the
    database cannot open a client's plan. Any older link stops working."""
    _own_plan(plan_id)
    token = plans.new_share_token()
    days = current_app.config["ASSETMAP_PLAN_LINK_DAYS"]
    store.set_share(get_db(), plan_id, plans.token_hash(token), plans.share_expiry(days))
    return _render_plan(store.get_plan(get_db(), plan_id), share_link=_share_link(token))


@bp.post("/plans/<int:plan_id>/share/revoke")
@requires("make_plans")
def revoke(plan_id: int):
    _own_plan(plan_id)
    store.revoke_share(get_db(), plan_id)
    flash("The share link no longer works.")
    return redirect(url_for("plans.plan", plan_id=plan_id))


@bp.post("/plans/<int:plan_id>/delete")
@requires("make_plans")
def delete(plan_id: int):
    found = _own_plan(plan_id)
    store.delete_plan(get_db(), plan_id)
    flash(f"Deleted the plan for {found['client_ref']}.")
    return redirect(url_for("plans.my_plans"))


def _client_page(plan: dict, *, preview: bool, print_now: bool = False):
    items = store.items(get_db(), plan["id"])
    entries = plans.entries(items, describe.today(), plans.walk_from_of(get_db(), plan))
    config = current_app.config
    location = build_plan_map(
        static_url=lambda path: url_for("static", filename=path),
        points=[(e.asset["lat"], e.asset["lon"]) for e in entries],
        tile_url=config["ASSETMAP_TILE_URL"],
        tile_attribution=config["ASSETMAP_TILE_ATTRIBUTION"],
    )
    return render_template(
        "plans/client.html",
        plan=plan,
        entries=entries,
        map=location,
        preview=preview,
        print_now=print_now,
        directions=describe.directions_url,
    )


@bp.get("/plans/<int:plan_id>/preview")
@requires("make_plans")
def preview(plan_id: int):
    """What the client sees, for checking before sharing or printing; with print=1 (the
    plan's "Print the client's page") the browser's Print opens once it has loaded."""
    return _client_page(_own_plan(plan_id), preview=True, print_now=bool(request.args.get("print")))


@bp.get("/p/<token>")
@requires("view_public")
def client_view(token: str):
    """The client's plan, opened from its share link without signing in."""
    found = store.plan_by_token_hash(get_db(), plans.token_hash(token))
    if found is None or not plans.link_is_open(found):
        abort(
            404,
            description="This link has expired or been withdrawn. Ask the person who "
            "gave it to you for a new one.",
        )
    response = current_app.make_response(_client_page(found, preview=False))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.post("/referrals")
@requires("record_referrals")
def record_referral():
    """Record that a client was referred to an activity (from a plan or an asset page)."""
    db = get_db()
    plan_id = request.form.get("plan_id", type=int)
    found = _own_plan(plan_id) if plan_id else None
    asset = asset_store.get_asset(db, request.form.get("asset_id", ""))
    if asset is None:
        abort(400, description="That activity is not in the directory; choose another.")
    today = describe.today()
    try:
        client_ref = (
            found["client_ref"]
            if found
            else plans.check_client_ref(request.form.get("client_ref", ""))
        )
        route = referrals.check_choice(request.form.get("route", ""), referrals.ROUTES, "route")
        referred_on = referrals.check_date(
            request.form.get("referred_on") or today.isoformat(), "referred_on", today
        )
    except (plans.PlanError, referrals.ReferralError) as e:
        if found:
            return _render_plan(found, errors={e.field: str(e)}, status=400)
        abort(400, description=str(e))
    referral_store.add(
        db,
        asset_id=asset["id"],
        client_ref=client_ref,
        route=route,
        referred_on=referred_on,
        recorded_by=current_user.id,
        plan_id=found["id"] if found else None,
    )
    flash(
        f"Recorded: {client_ref} {dict((t.slug, t.label) for t in referrals.ROUTES)[route]}"
        f" to {asset['name']}."
    )
    if found:
        return redirect(url_for("plans.plan", plan_id=found["id"]))
    return redirect(url_for("plans.my_referrals"))


@bp.get("/referrals")
@requires("record_referrals")
def my_referrals():
    """A link worker's referrals, newest first, with their outcomes to fill in."""
    return render_template(
        "plans/referrals.html",
        referrals=referral_store.recorded_by(get_db(), current_user.id),
        outcomes=referrals.OUTCOMES,
        routes=dict((t.slug, t.label) for t in referrals.ROUTES),
        outcome_labels=dict((t.slug, t.label) for t in referrals.OUTCOMES),
        today=describe.today().isoformat(),
        form=CsrfOnlyForm(),
    )


@bp.post("/referrals/<int:referral_id>/outcome")
@requires("record_referrals")
def record_outcome(referral_id: int):
    """Record whether the client went (attended, still attending, did not, declined)."""
    db = get_db()
    found = referral_store.get(db, referral_id)
    if found is None or found["recorded_by"] != current_user.id:
        abort(404, description="There is no such referral among yours.")
    today = describe.today()
    try:
        outcome = referrals.check_choice(
            request.form.get("outcome", ""), referrals.OUTCOMES, "outcome"
        )
        outcome_on = referrals.check_date(
            request.form.get("outcome_on") or today.isoformat(), "outcome_on", today
        )
    except referrals.ReferralError as e:
        abort(400, description=str(e))
    reason = (request.form.get("reason") or "").strip()[:500] or None
    referral_store.set_outcome(db, referral_id, outcome, reason, outcome_on)
    flash("Outcome saved.")
    return redirect(same_site_path(request.form.get("back"), url_for("plans.my_referrals")))


@bp.get("/manage/demand")
@requires("see_demand")
def demand():
    """Referrals per activity and month, and how many went: what commissioners ask for."""
    return render_template("plans/demand.html", rows=referral_store.demand(get_db()))


@bp.get("/manage/demand.csv")
@requires("see_demand")
def demand_csv():
    """The demand report as CSV: counts only, no client references."""
    buffer = io.StringIO()
    referrals.write_demand_csv(referral_store.demand(get_db()), buffer)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    return current_app.response_class(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="demand-{stamp}.csv"'},
    )
