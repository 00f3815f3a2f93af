"""A resident reports a problem with a listing; coordinators resolve it into the listing's
history; three reports that it has closed warn other residents until someone checks."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime, timedelta

import pytest
from markupsafe import escape

from assetmap.freshness import reports
from assetmap.openreferral.mapping import service_id
from assetmap.store import assets, connect
from assetmap.store import problem_reports as store
from tests import hostile
from tests.conftest import csrf_token

ASSET = "sale-walking-group"
PAGE = f"/assets/{ASSET}"
REPORT = f"/assets/{ASSET}/report"
QUEUE = "/manage/reports"
CONTACT = {
    "contact_name": "Robin Neighbour",
    "contact_phone": "07700 900789",
    "contact_email": "robin@example.org",
}


def report(client, url: str = REPORT, address: str = "127.0.0.1", **fields):
    """Send the report form as a resident at `address` would."""
    data = {"csrf_token": csrf_token(client, url), "kind": "closed", "note": "", "consent": ""}
    data.update(fields)
    return client.post(url, data=data, environ_base={"REMOTE_ADDR": address})


def open_reports(db_path) -> list[dict]:
    db = connect(db_path)
    try:
        return store.open_reports(db)
    finally:
        db.close()


def history(db_path, asset_id: str = ASSET) -> list[dict]:
    db = connect(db_path)
    try:
        return assets.history(db, asset_id)
    finally:
        db.close()


def test_every_asset_page_offers_report_a_problem(client):
    page = client.get(PAGE).get_data(as_text=True)
    assert f'href="{REPORT}">Report a problem with this listing</a>' in page
    closed = client.get("/assets/closed-lunch-club").get_data(as_text=True)
    assert 'href="/assets/closed-lunch-club/report"' in closed  # closed ones too: it may reopen
    assert client.get("/assets/no-such-asset/report").status_code == 404


def test_a_resident_reports_wrong_times_and_is_told_what_happens_next(client, db_path):
    response = report(client, kind="times", note="It moved to Wednesdays in May.", **CONTACT)
    assert response.status_code == 400  # contact details without consent
    assert open_reports(db_path) == []
    response = report(
        client, kind="times", note="It moved to Wednesdays in May.", consent="yes", **CONTACT
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Thank you for your report" in page and "What happens next" in page
    assert "deleted when the report is resolved" in page
    (saved,) = open_reports(db_path)
    assert saved["kind"] == "times" and saved["note"] == "It moved to Wednesdays in May."
    assert saved["contact_phone"] == "07700 900789" and saved["consent"] == 1
    assert saved["asset_id"] == ASSET and saved["status"] == "open"


def test_a_report_needs_no_contact_details(client, db_path):
    assert report(client, kind="closed").status_code == 302
    (saved,) = open_reports(db_path)
    assert saved["contact_name"] is None and saved["contact_email"] is None
    assert saved["consent"] == 0


@pytest.mark.parametrize(
    "fields, field, words",
    [
        ({"kind": ""}, "kind", "Choose what is wrong with this listing."),
        ({"kind": "bogus"}, "kind", "Choose what is wrong with this listing."),
        ({"kind": "other", "note": " "}, "note", "Tell us in a few words what is wrong"),
        ({"note": "x" * 1001}, "note", "up to 1000 characters; it has 1001"),
        ({"contact_phone": "call me", "consent": "yes"}, "contact_phone", "Phone:"),
        ({"contact_email": "robin@", "consent": "yes"}, "contact_email", "is not an email"),
        ({"contact_name": "Robin"}, "contact_phone", "or leave your name empty"),
        ({"contact_email": "robin@example.org"}, "consent", "Tick the box to agree"),
        ({"contact_name": "R" * 101}, "contact_name", "up to 100 characters"),
    ],
)
def test_mistakes_are_explained_beside_the_field_and_nothing_is_saved(
    client, db_path, fields, field, words
):
    response = report(client, **{"note": "Still says Tuesdays.", **fields})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in page and html.escape(words, quote=False) in page
    assert "nothing has been sent yet" in page
    assert "<title>Error: Report a problem" in page
    assert open_reports(db_path) == []
    if "note" not in fields:
        assert "Still says Tuesdays." in page  # what was typed is kept


def test_a_robot_filling_the_honeypot_is_thanked_but_nothing_is_kept(client, db_path):
    response = report(client, website="http://spam.example")
    assert response.status_code == 302 and response.headers["Location"].endswith("/report/sent")
    assert open_reports(db_path) == []


def test_too_many_reports_from_one_address_are_refused_for_an_hour(app, client, db_path):
    app.config["ASSETMAP_REFERRALS_PER_HOUR"] = "2"
    assert report(client).status_code == 302
    assert report(client, website="robot").status_code == 302  # a robot's try counts too
    third = report(client)
    assert third.status_code == 429
    assert "Please try again in an hour" in third.get_data(as_text=True)
    assert len(open_reports(db_path)) == 1


def test_requests_to_join_and_reports_share_one_limit(app, client, db_path):
    """One throttle for both public forms: a robot gains nothing by switching forms."""
    app.config["ASSETMAP_REFERRALS_PER_HOUR"] = "2"
    join = f"/assets/{ASSET}/join"
    data = {"csrf_token": csrf_token(client, join), "name": "Pat", "phone": "07700 900456"}
    assert client.post(join, data={**data, "consent": "yes"}).status_code == 302
    assert report(client).status_code == 302
    assert report(client).status_code == 429
    assert client.post(join, data={**data, "consent": "yes"}).status_code == 429
    assert len(open_reports(db_path)) == 1


def test_contact_details_never_reach_public_pages_or_the_api(client, app, sign_in, db_path):
    assert report(client, kind="contact", consent="yes", **CONTACT).status_code == 302
    public = [
        PAGE,
        f"/api/v1/assets/{ASSET}",
        "/api/v1/assets",
        f"/api/oruk/services/{service_id(ASSET)}",
        "/map/list",
    ]
    for role in (None, "link_worker"):
        reader = app.test_client()
        if role:
            sign_in(reader, role)
        for url in public:
            response = reader.get(url)
            assert response.status_code == 200, url
            text = response.get_data(as_text=True)
            for value in CONTACT.values():
                assert value not in text, f"{value} on {url} for {role}"
        assert reader.get(QUEUE).status_code in (302, 403)
    coordinator = app.test_client()
    sign_in(coordinator, "coordinator")
    queue = coordinator.get(QUEUE).get_data(as_text=True)
    assert all(value in queue for value in CONTACT.values())


def resolve(client, report_id, outcome: str):
    token = csrf_token(client, QUEUE)
    return client.post(
        f"{QUEUE}/resolve", data={"csrf_token": token, "report_id": report_id, "outcome": outcome}
    )


def test_coordinators_resolve_reports_into_the_listings_history(client, app, sign_in, db_path):
    report(client, kind="times", note="Wednesdays now", consent="yes", **CONTACT)
    report(client, url="/assets/altrincham-library/report", kind="contact", note="New number")
    coordinator = app.test_client()
    sign_in(coordinator, "coordinator")
    queue = coordinator.get(QUEUE).get_data(as_text=True)
    assert queue.index("New number") < queue.index("Wednesdays now")  # newest first
    assert "Problem reports" in queue  # the coordinator's menu links here
    only_times = coordinator.get(f"{QUEUE}?kind=times").get_data(as_text=True)
    assert "Wednesdays now" in only_times and "New number" not in only_times
    times_id = next(r["id"] for r in open_reports(db_path) if r["kind"] == "times")
    before = history(db_path)

    refused = resolve(coordinator, times_id, "   ")
    assert refused.status_code == 400
    assert "Say what you found or did" in refused.get_data(as_text=True)
    assert history(db_path) == before and len(open_reports(db_path)) == 2
    for bad in ("", "abc", "-1", "9" * 30):
        bad_id = coordinator.post(
            f"{QUEUE}/resolve",
            data={"csrf_token": csrf_token(coordinator, QUEUE), "report_id": bad, "outcome": "x"},
        )
        assert bad_id.status_code == 400, bad
    no_token = coordinator.post(f"{QUEUE}/resolve", data={"report_id": times_id, "outcome": "x"})
    assert no_token.status_code == 400 and len(open_reports(db_path)) == 2

    done = resolve(coordinator, times_id, "Rang the organiser: Wednesdays since May. Edited.")
    assert done.status_code == 302
    (entry, *_) = history(db_path)
    assert entry["changed_by"] == "coordinator@example.org"
    assert entry["reason"] == (
        f"Problem report {times_id} (The days or times are wrong) resolved: "
        "Rang the organiser: Wednesdays since May. Edited."
    )
    assert entry["previous"] == entry["record"]  # a note in the history; no field changed
    page = coordinator.get(f"/manage/assets/{ASSET}/history").get_data(as_text=True)
    assert f"Problem report {times_id}" in page
    assert [r["kind"] for r in open_reports(db_path)] == ["contact"]
    db = connect(db_path)
    resolved = store.get(db, times_id)
    db.close()
    assert resolved["status"] == "resolved" and resolved["version_id"] == entry["version_id"]
    assert all(resolved[column] is None for column in store.CONTACT)  # no longer needed
    assert resolve(coordinator, times_id, "again").status_code == 404


@pytest.mark.parametrize("role", [None, "link_worker", "admin"])
def test_only_coordinators_see_the_report_queue(client, sign_in, role):
    if role:
        sign_in(client, role)
    assert client.get(QUEUE).status_code == (302 if role is None else 403)


def test_open_reports_for_gives_each_assets_open_reports(client, db_path):
    report(client, kind="closed")
    report(client, kind="times", note="Later start")
    db = connect(db_path)
    try:
        found = reports.open_reports_for(db, [ASSET, "altrincham-library"])
    finally:
        db.close()
    assert list(found) == [ASSET]
    assert [r["kind"] for r in found[ASSET]] == ["closed", "times"]


SEARCH = "/search?lat=53.43&lon=-2.31&radius_km=5"
NOTICE = "May have closed:</strong>\n    residents have told us; we are checking."


def test_three_people_reporting_it_closed_warn_residents_until_resolved(
    client, app, sign_in, db_path
):
    assert reports.MAY_HAVE_CLOSED_AFTER == 3
    report(client, kind="closed", address="192.0.2.1")
    report(client, kind="closed", address="192.0.2.2")
    report(client, kind="times", note="Not closed, just later", address="192.0.2.3")
    assert NOTICE not in client.get(PAGE).get_data(as_text=True)  # another kind does not count
    assert "May have closed" not in client.get(SEARCH).get_data(as_text=True)
    report(client, kind="closed", note="The hall is boarded up", address="192.0.2.3")
    assert NOTICE in client.get(PAGE).get_data(as_text=True)
    results = client.get(SEARCH).get_data(as_text=True)
    assert results.count("May have closed") == 1 and "Sale Walking Group" in results
    listed = results.split('class="results search-list"', 1)[1].split('<li class="result">')
    (flagged,) = [item for item in listed if "May have closed" in item]
    assert f'href="{PAGE}"' in flagged  # beside the right listing
    assert NOTICE not in client.get("/assets/altrincham-library").get_data(as_text=True)

    coordinator = app.test_client()
    sign_in(coordinator, "coordinator")
    queue = coordinator.get(QUEUE).get_data(as_text=True)
    assert queue.count("Its public page says “May have closed”") == 4  # each of its reports
    closed = [r["id"] for r in open_reports(db_path) if r["kind"] == "closed"]
    resolve(coordinator, closed[0], "Rang them: still running, new hall from January.")
    assert NOTICE not in client.get(PAGE).get_data(as_text=True)  # two left: below three
    assert "May have closed" not in client.get(SEARCH).get_data(as_text=True)


def test_one_person_reporting_it_closed_three_times_counts_once(client, db_path):
    for _ in range(3):
        assert report(client, kind="closed", address="192.0.2.9").status_code == 302
    assert len(open_reports(db_path)) == 3  # all three wait in the queue
    assert NOTICE not in client.get(PAGE).get_data(as_text=True)


def test_a_check_after_the_reports_takes_the_notice_away(client, db_path):
    for n in range(3):
        report(client, kind="closed", address=f"192.0.2.{n + 1}")
    assert NOTICE in client.get(PAGE).get_data(as_text=True)
    db = connect(db_path)
    record = assets.get_asset(db, ASSET)
    today = open_reports(db_path)[0]["created_at"][:10]
    assets.save_asset(db, {**record, "last_verified": today}, who="coordinator@example.org")
    db.close()
    assert NOTICE not in client.get(PAGE).get_data(as_text=True)
    assert len(open_reports(db_path)) == 3  # still in the queue to be resolved


@pytest.mark.parametrize("text", hostile.EXACT[:10])
def test_hostile_note_text_is_shown_as_text(client, app, sign_in, db_path, text):
    assert (
        report(
            client,
            kind="other",
            note=text,
            contact_name=text[:100],
            contact_email="robin@example.org",
            consent="yes",
        ).status_code
        == 302
    )
    (saved,) = open_reports(db_path)
    coordinator = app.test_client()
    sign_in(coordinator, "coordinator")
    queue = coordinator.get(QUEUE).get_data(as_text=True)
    assert str(escape(saved["note"])) in queue  # exactly as stored, escaped
    for markup in ("<script>alert", "<img src=x", "<svg onload", "<iframe", "<svg><script>"):
        assert markup not in queue
    resolve(coordinator, saved["id"], text)
    page = coordinator.get(f"/manage/assets/{ASSET}/history").get_data(as_text=True)
    for markup in ("<script>alert", "<img src=x", "<svg onload", "<iframe", "<svg><script>"):
        assert markup not in page


def test_reporters_contacts_are_purged_with_requests_to_join_and_found_for_subject_access(
    client, db_path, runner, tmp_path
):
    """A report left with contact details is personal data: `join-requests export` finds it for
    the person who asks, and `join-requests purge` blanks it after the retention period, open
    or not, keeping what was wrong with the listing."""
    assert report(client, kind="times", note="Moved to Thursdays", consent="yes", **CONTACT)
    assert report(client, kind="closed", address="127.0.0.2").status_code == 302
    out = tmp_path / "sar.json"
    exported = runner.invoke(args=["join-requests", "export", "--phone", "07700900789", str(out)])
    assert exported.exit_code == 0, exported.output
    found = json.loads(out.read_text())["problem_reports"]
    assert [r["contact_email"] for r in found] == ["robin@example.org"]
    purged = runner.invoke(args=["join-requests", "purge"])
    assert "removed contact details from 0 problem report(s)" in purged.output
    within = {r["kind"]: r for r in open_reports(db_path)}  # within the period: kept
    assert within["times"]["contact_email"] == "robin@example.org"
    db = connect(db_path)
    try:  # a day after the end of a 30-day period
        assert reports.purge(db, 30, now=datetime.now(UTC) + timedelta(days=31)) == 1
    finally:
        db.close()
    kept = {r["kind"]: r for r in open_reports(db_path)}
    assert all(kept["times"][column] is None for column in store.CONTACT)
    assert kept["times"]["note"] == "Moved to Thursdays" and kept["times"]["consent"] == 0
    again = runner.invoke(args=["join-requests", "export", "--email", "robin@example.org"])
    assert json.loads(again.output)["problem_reports"] == []
