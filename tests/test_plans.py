"""Link workers make plans for clients, share them, record referrals; coordinators see demand."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest

from assetmap.people import plans
from assetmap.search import nearby
from assetmap.store import assets, connect
from tests.conftest import add_user, csrf_token, give_session


@pytest.fixture
def worker(client, sign_in):
    sign_in(client, "link_worker")
    return client


def start_plan(client, ref="SP-0042-A", **extra):
    token = csrf_token(client, "/plans")
    response = client.post("/plans", data={"csrf_token": token, "client_ref": ref, **extra})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def add(client, plan_id, asset_id, note=""):
    token = csrf_token(client, f"/assets/{asset_id}")
    return client.post(
        "/plans/items",
        data={"csrf_token": token, "plan_id": plan_id, "asset_id": asset_id, "note": note},
    )


def share(client, plan_id) -> str:
    token = csrf_token(client, f"/plans/{plan_id}")
    page = client.post(f"/plans/{plan_id}/share", data={"csrf_token": token}).get_data(True)
    return re.search(r'<code class="share-link">http://localhost(/p/[^<]+)</code>', page)[1]


def test_a_link_worker_builds_a_plan_from_asset_pages_with_notes(worker):
    plan_id = start_plan(worker)
    assert (
        add(
            worker, plan_id, "sale-walking-group", "Try the Tuesday session; ask for Sam"
        ).status_code
        == 302
    )
    add(worker, plan_id, "altrincham-library")
    page = worker.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "Plan for SP-0042-A" in page
    listed = re.findall(r'<h3><a href="/assets/[^"]+">([^<]+)</a></h3>', page)
    assert listed == ["Sale Walking Group", "Altrincham Library"]
    assert "Try the Tuesday session; ask for Sam" in page
    assert "Next: Tuesday" in page


@pytest.mark.parametrize(
    "ref, words",
    [
        ("943 476 5919", "looks like an NHS number"),
        ("9434765919", "looks like an NHS number"),
        ("", "Enter your reference"),
        ("<script>", "Use letters, numbers"),
    ],
)
def test_client_references_are_pseudonymous(worker, ref, words):
    token = csrf_token(worker, "/plans")
    response = worker.post("/plans", data={"csrf_token": token, "client_ref": ref})
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)


def test_client_names_are_refused_unless_the_setting_allows_them(app, worker):
    token = csrf_token(worker, "/plans")
    refused = worker.post(
        "/plans", data={"csrf_token": token, "client_ref": "SP-1", "client_name": "Jo Bloggs"}
    )
    assert refused.status_code == 400 and "Client names are not kept here" in refused.get_data(True)
    app.config["ASSETMAP_ALLOW_CLIENT_NAMES"] = "yes"
    plan_id = start_plan(worker, "SP-1", client_name="Jo Bloggs")
    assert "(Jo Bloggs)" in worker.get(f"/plans/{plan_id}").get_data(as_text=True)


def test_plans_are_private_to_the_link_worker_who_made_them(app, worker, db_path):
    plan_id = start_plan(worker)
    other = app.test_client()
    other_user = add_user(db_path, "link_worker", "other.worker@example.org")
    give_session(other, db_path, other_user)
    assert other.get(f"/plans/{plan_id}").status_code == 404
    assert "SP-0042-A" not in other.get("/plans").get_data(as_text=True)


def test_the_share_link_opens_without_signing_in_until_revoked(app, worker):
    plan_id = start_plan(worker)
    add(worker, plan_id, "sale-walking-group", "Ask for Sam")
    link = share(worker, plan_id)
    anonymous = app.test_client()
    page = anonymous.get(link)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Your activities" in text and "Sale Walking Group" in text and "Ask for Sam" in text
    assert "Every Tuesday, 10:00 to 12:00" in text and "Rifle Road, Sale, M33 7ZF" in text
    assert "SP-0042" not in text  # the reference is the link worker's, not the client's
    token = csrf_token(worker, f"/plans/{plan_id}")
    worker.post(f"/plans/{plan_id}/share/revoke", data={"csrf_token": token})
    gone = anonymous.get(link)
    assert gone.status_code == 404 and "expired or been withdrawn" in gone.get_data(True)


def test_a_new_link_replaces_the_old_one_and_links_expire(app, worker, db_path):
    plan_id = start_plan(worker)
    first = share(worker, plan_id)
    second = share(worker, plan_id)
    anonymous = app.test_client()
    assert anonymous.get(first).status_code == 404
    assert anonymous.get(second).status_code == 200
    db = connect(db_path)
    db.conn.execute("UPDATE plans SET share_expires_at = '2020-01-01T00:00:00Z'")
    db.close()
    assert anonymous.get(second).status_code == 404
    assert anonymous.get("/p/guessing-is-useless").status_code == 404


def test_the_text_message_fits_in_480_characters_with_the_link():
    today = __import__("datetime").date(2026, 11, 26)
    asset = {
        "name": "A very long name for a walking group " * 3,
        "schedule": {
            "sessions": [
                {"day": "tuesday", "frequency": "weekly", "start": "10:00", "end": "12:00"}
            ],
            "notes": "",
        },
        "postcode": "M33 7ZF",
        "cost": "free",
        "cost_details": None,
        "capacity": None,
        "address": None,
    }
    entries = plans.entries([{"asset": asset, "note": None}] * 8, today)
    link = "https://directory.example.org/p/" + "x" * 32
    text = plans.sms_text(entries, link)
    assert len(text) <= 480 and text.endswith(link) and "more." in text
    short = plans.sms_text(entries[:1], None)
    assert short.startswith("Your activities: 1. A very long name") and "M33 7ZF" in short


def test_capacity_shows_to_link_workers_before_they_refer(worker, db_path):
    db = connect(db_path)
    record = assets.get_asset(db, "sale-walking-group")
    assets.save_asset(db, {**record, "capacity": "waiting_list"}, who="t")
    db.close()
    assert "Waiting list" in worker.get("/assets/sale-walking-group").get_data(as_text=True)
    plan_id = start_plan(worker)
    add(worker, plan_id, "sale-walking-group")
    assert "<strong>Waiting list</strong>: check before referring" in worker.get(
        f"/plans/{plan_id}"
    ).get_data(as_text=True)


def record_referral(client, plan_id, asset_id, route="referred", on="2026-10-05"):
    token = csrf_token(client, f"/plans/{plan_id}")
    return client.post(
        "/referrals",
        data={
            "csrf_token": token,
            "plan_id": plan_id,
            "asset_id": asset_id,
            "route": route,
            "referred_on": on,
        },
    )


def test_referrals_and_outcomes_become_demand_without_client_details(app, worker, sign_in):
    plan_id = start_plan(worker, "SP-7777")
    add(worker, plan_id, "sale-walking-group")
    assert record_referral(worker, plan_id, "sale-walking-group").status_code == 302
    record_referral(worker, plan_id, "sale-walking-group", "signposted", "2026-10-20")
    record_referral(worker, plan_id, "altrincham-library", "self_referral", "2026-09-01")
    page = worker.get("/referrals").get_data(as_text=True)
    ids = re.findall(r'action="/referrals/(\d+)/outcome"', page)
    token = csrf_token(worker, "/referrals")
    worker.post(
        f"/referrals/{ids[0]}/outcome", data={"csrf_token": token, "outcome": "still_attending"}
    )
    worker.post(
        f"/referrals/{ids[1]}/outcome",
        data={"csrf_token": token, "outcome": "declined", "reason": "Too far to walk"},
    )
    assert "Too far to walk" in worker.get("/referrals").get_data(as_text=True)
    future = worker.post(
        "/referrals",
        data={
            "csrf_token": token,
            "plan_id": plan_id,
            "asset_id": "sale-walking-group",
            "route": "referred",
            "referred_on": "2999-01-01",
        },
    )
    assert future.status_code == 400

    coordinator = app.test_client()
    sign_in(coordinator, "coordinator")
    demand = coordinator.get("/manage/demand").get_data(as_text=True)
    assert "2026-10" in demand and "50%" in demand
    report = coordinator.get("/manage/demand.csv")
    assert report.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(report.get_data(as_text=True))))
    october = next(r for r in rows if r["month"] == "2026-10")
    assert october == {
        "asset_id": "sale-walking-group",
        "asset_name": "Sale Walking Group",
        "month": "2026-10",
        "referrals": "2",
        "outcomes_known": "2",
        "went": "1",
        "attendance_rate": "0.50",
    }
    assert "SP-7777" not in report.get_data(as_text=True)


def test_no_client_reference_appears_in_public_pages_or_exports(app, worker, runner, tmp_path):
    plan_id = start_plan(worker, "SP-SECRET-9")
    add(worker, plan_id, "sale-walking-group")
    record_referral(worker, plan_id, "sale-walking-group")
    share(worker, plan_id)
    public = app.test_client()
    for url in [
        "/",
        "/map",
        "/map/list",
        "/assets/sale-walking-group",
        "/api/v1/assets",
        "/api/v1/assets/sale-walking-group",
    ]:
        assert "SP-SECRET-9" not in public.get(url).get_data(as_text=True), url
    for fmt in ("geojson", "csv"):
        out = tmp_path / f"all.{fmt}"
        runner.invoke(args=["export", fmt, str(out)])
        assert "SP-SECRET-9" not in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_only_link_workers_make_plans(client, sign_in, role):
    sign_in(client, role)
    assert client.get("/plans").status_code == 403


# Walking times on the client's page (issue 15, item 2) ---------------------------------------


@pytest.fixture
def placed(trafford_db_path):
    """A link worker's client on the sample assets with every Trafford postcode loaded."""
    from assetmap import create_app

    app = create_app(
        {"TESTING": True, "ASSETMAP_DB": str(trafford_db_path), "SECRET_KEY": "test-only"}
    )
    client = app.test_client()
    give_session(client, trafford_db_path, add_user(trafford_db_path, "link_worker"))
    client.db_path = trafford_db_path
    return client


def walk_from(client, plan_id, postcode):
    token = csrf_token(client, f"/plans/{plan_id}")
    return client.post(
        f"/plans/{plan_id}/walk-from", data={"csrf_token": token, "walk_from": postcode}
    )


def stored_walk_from(db_path, plan_id):
    db = connect(db_path)
    try:
        return db.conn.execute("SELECT walk_from FROM plans WHERE id = ?", [plan_id]).fetchone()[0]
    finally:
        db.close()


def test_the_clients_page_gives_each_address_with_its_walking_time(placed):
    plan_id = start_plan(placed)
    add(placed, plan_id, "sale-walking-group")
    add(placed, plan_id, "altrincham-library")
    link = share(placed, plan_id)
    before = placed.get(link).get_data(as_text=True)
    assert "minutes&#39; walk" not in before and "Walking directions" in before

    assert walk_from(placed, plan_id, " m337zf ").status_code == 302
    assert stored_walk_from(placed.db_path, plan_id) == "M33 7ZF"
    page = html.unescape(placed.get(link).get_data(as_text=True))
    walks = re.findall(r"About (\d+) minutes' walk \(([\d.]+ k?m)\) from M33 7ZF", page)
    assert len(walks) == 2
    # As /search reckons it: straight-line distance x 1.3 at 4.8 km/h, rounded up.
    db = connect(placed.db_path)
    start = plans.check_walk_from(db, "M33 7ZF")
    library = assets.get_asset(db, "altrincham-library")
    db.close()
    metres = nearby.haversine_m(start.lat, start.lon, library["lat"], library["lon"])
    assert walks[1] == (str(nearby.walking_minutes(metres)), f"{metres / 1000:.1f} km")
    assert "2 Pott Street, Altrincham, WA14 1AH" in page
    own = html.unescape(placed.get(f"/plans/{plan_id}").get_data(as_text=True))
    assert own.count("walk (") == 2  # the link worker sees them too

    assert walk_from(placed, plan_id, "").status_code == 302  # empty: no walking times
    assert stored_walk_from(placed.db_path, plan_id) is None
    assert "minutes&#39; walk" not in placed.get(link).get_data(as_text=True)


@pytest.mark.parametrize(
    "typed, words",
    [
        ("not a postcode", "NOT A POSTCO is not a whole UK postcode"),
        ("M33", "M33 is not a whole UK postcode; enter one such as M33 7ZF"),
        ("M33 7", "M33 7 is not a whole UK postcode"),
        # Well formed, but central Manchester is outside the Trafford table.
        ("M1 1AD", "M1 1AD is not in this directory&#39;s postcode table"),
        ("x" * 5000, "XXXXXXXXXXXX is not a whole UK postcode"),
    ],
)
def test_a_starting_point_the_table_cannot_place_is_refused_and_nothing_changes(
    placed, typed, words
):
    plan_id = start_plan(placed)
    walk_from(placed, plan_id, "WA14 1AH")
    refused = walk_from(placed, plan_id, typed)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and words in page
    assert 'aria-describedby="walk-from-hint walk-from-error"' in page
    assert '<a href="#walk-from-postcode">' in page  # the summary links to the field
    error = re.search(r'<p class="field-error" id="walk-from-error">([^<]*)</p>', page)[1]
    assert len(error) < 250  # the message quotes a long entry cut short
    assert stored_walk_from(placed.db_path, plan_id) == "WA14 1AH"


def test_walking_times_from_a_postcode_gone_from_the_table_are_left_out(placed):
    plan_id = start_plan(placed)
    add(placed, plan_id, "sale-walking-group")
    walk_from(placed, plan_id, "M33 7ZF")
    db = connect(placed.db_path)
    db.conn.execute("DELETE FROM postcodes WHERE postcode = 'M33 7ZF'")
    db.close()
    page = placed.get(f"/plans/{plan_id}/preview")
    assert page.status_code == 200 and "walk (" not in page.get_data(as_text=True)


def test_adding_from_a_search_measures_walking_times_from_its_postcode(placed):
    plan_id = start_plan(placed)
    token = csrf_token(placed, "/assets/sale-walking-group")
    back = "/search?postcode=wa14+1ah&q=walking&radius_km=5"
    form = {"csrf_token": token, "plan_id": plan_id, "back": back}
    placed.post("/plans/items", data={**form, "asset_id": "sale-walking-group"})
    assert stored_walk_from(placed.db_path, plan_id) == "WA14 1AH"
    # A later search elsewhere does not move a starting point already chosen.
    form["back"] = "/search?postcode=M33+7ZF"
    placed.post("/plans/items", data={**form, "asset_id": "altrincham-library"})
    assert stored_walk_from(placed.db_path, plan_id) == "WA14 1AH"
    page = placed.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert 'value="WA14 1AH"' in page
    assert "/search?postcode=WA14+1AH" in page  # "Find activities to add" searches from there


def test_another_link_workers_plan_cannot_have_its_starting_point_changed(placed):
    plan_id = start_plan(placed)
    other = placed.application.test_client()
    give_session(other, placed.db_path, add_user(placed.db_path, "link_worker", "b@example.org"))
    token = csrf_token(other, "/plans")
    answer = other.post(
        f"/plans/{plan_id}/walk-from", data={"csrf_token": token, "walk_from": "M33 7ZF"}
    )
    assert answer.status_code == 404 and stored_walk_from(placed.db_path, plan_id) is None


def test_walking_time_in_words():
    start = plans.WalkFrom("M33 7ZF", 53.4263, -2.3034)
    assert plans.walk_in_words(start, 53.4263, -2.3034) == (
        "About 1 minute's walk (0 m) from M33 7ZF"
    )
    assert plans.walk_in_words(start, 53.4263 + 0.0005, -2.3034) == (
        "About 1 minute's walk (60 m) from M33 7ZF"
    )
    assert plans.walk_in_words(start, 53.4263 + 0.01, -2.3034) == (
        "About 19 minutes' walk (1.1 km) from M33 7ZF"  # 1,113 m x 1.3 at 80 m a minute
    )


# The share link after a reload (issue 15, item 3) ---------------------------------------------


def test_after_a_reload_the_text_message_says_why_it_has_no_link_and_offers_one(worker):
    plan_id = start_plan(worker)
    add(worker, plan_id, "sale-walking-group")
    page = worker.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "There is no working share link" in page
    assert "Make a share link and put it in the text" in page
    assert "Make a share link first" not in page

    made = share(worker, plan_id)
    again = worker.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "A share link works until" in again and made not in again
    assert "Make a share link first" not in again
    assert "a link is shown only once, when it is made" in again
    assert "Make a new link and put it in the text" in again
    assert f'action="/plans/{plan_id}/share#sms-text"' in again


# "Add to plan" from search, before any plan exists (issue 15, item 9) -----------------------


def plan_rows(db_path):
    db = connect(db_path)
    try:
        return db.conn.execute(
            "SELECT p.client_ref, i.asset_id FROM plans p "
            "LEFT JOIN plan_items i ON i.plan_id = p.id ORDER BY p.id, i.id"
        ).fetchall()
    finally:
        db.close()


def test_search_offers_add_to_plan_before_any_plan_exists_and_starts_one(placed):
    search = "/search?postcode=M33+7ZF&q=walking"
    page = placed.get(search).get_data(as_text=True)
    assert page.count('name="client_ref"') == page.count('class="result"') > 0
    assert "New plan for client" in page and 'name="plan_id"' not in page
    token = csrf_token(placed, search)
    form = {"csrf_token": token, "asset_id": "sale-walking-group", "back": search}
    response = placed.post("/plans/items", data={**form, "client_ref": "SP-0099"})
    assert response.status_code == 302 and response.headers["Location"].endswith(search[1:])
    assert [tuple(r) for r in plan_rows(placed.db_path)] == [("SP-0099", "sale-walking-group")]
    back = placed.get(search).get_data(as_text=True)
    plan_id = placed.get("/plans").get_data(as_text=True).split('href="/plans/')[1].split('"')[0]
    assert "Added Sale Walking Group to a new plan for SP-0099." in back
    assert f'<a href="/plans/{plan_id}">Open the plan for SP-0099</a>' in back
    # Now the results offer that plan (chosen already), and still a new one.
    assert (
        f'<option value="{plan_id}">SP-0099</option>' in back and "or new plan for client" in back
    )
    shown = re.findall(
        r'name="asset_id" value="([^"]+)"', placed.get("/search?postcode=M33+7ZF").text
    )
    second = next(asset_id for asset_id in shown if asset_id != "sale-walking-group")
    added = placed.post("/plans/items", data={**form, "asset_id": second, "plan_id": plan_id})
    assert added.status_code == 302
    assert [r[1] for r in plan_rows(placed.db_path)] == ["sale-walking-group", second]


@pytest.mark.parametrize(
    ("ref", "words"), [("", "Type your reference"), ("485 777 3456", "NHS number")]
)
def test_a_bad_or_missing_new_client_reference_changes_nothing_and_is_explained(placed, ref, words):
    token = csrf_token(placed, "/search?postcode=M33+7ZF")
    response = placed.post(
        "/plans/items",
        data={"csrf_token": token, "asset_id": "sale-walking-group", "client_ref": ref},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and words in page
    assert f'value="{html.escape(ref)}"' in page or not ref  # what was typed is kept
    assert 'name="asset_id" value="sale-walking-group"' in page  # and the activity
    assert plan_rows(placed.db_path) == []


def test_the_added_message_links_to_the_plan_without_becoming_markup(placed):
    token = csrf_token(placed, "/search?postcode=M33+7ZF")
    plan_id = start_plan(placed, ref="SP-1 #2")
    form = {"csrf_token": token, "asset_id": "sale-walking-group", "back": "/plans"}
    placed.post("/plans/items", data={**form, "plan_id": plan_id})
    page = placed.get("/plans").get_data(as_text=True)
    assert f'<a href="/plans/{plan_id}">Open the plan for SP-1 #2</a>' in page
