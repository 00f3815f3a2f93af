"""A resident asks to join; coordinators see it in their inbox; personal data is purged."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from assetmap.people import join_requests
from assetmap.store import connect
from assetmap.store import join_requests as store
from tests.conftest import csrf_token, smtp_sink

JOIN = "/assets/sale-walking-group/join"


def ask(client, **fields):
    data = {
        "csrf_token": csrf_token(client, JOIN),
        "name": "Pat Resident",
        "phone": "07700 900456",
        "email": "",
        "best_time": "morning",
        "message": "I use a walking stick.",
        "consent": "yes",
    }
    data.update(fields)
    return client.post(JOIN, data=data)


def requests(db_path):
    db = connect(db_path)
    try:
        return store.inbox(db)
    finally:
        db.close()


def test_a_resident_sees_ask_to_join_only_where_it_is_accepted(client, db_path):
    assert "Ask to join" in client.get("/assets/sale-walking-group").get_data(as_text=True)
    assert client.get(JOIN).status_code == 200
    assert "Ask to join" not in client.get("/assets/closed-lunch-club").get_data(as_text=True)
    assert client.get("/assets/closed-lunch-club/join").status_code == 404
    db = connect(db_path)
    from assetmap.store import assets

    record = assets.get_asset(db, "altrincham-library")
    assets.save_asset(db, {**record, "self_referral": False}, who="t")
    db.close()
    assert "Ask to join" not in client.get("/assets/altrincham-library").get_data(as_text=True)
    assert client.get("/assets/altrincham-library/join").status_code == 404


def test_a_resident_asks_to_join_and_is_told_what_happens_next(client, db_path):
    response = ask(client)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your request has been sent" in page and "What happens next" in page
    (request,) = requests(db_path)
    assert request["name"] == "Pat Resident" and request["status"] == "new"
    assert request["phone"] == "07700 900456" and request["best_time"] == "morning"
    assert request["consent"] == 1


def with_contact(db_path, asset_id: str, **contact) -> None:
    """Give an asset exactly the contact details in `contact` (the others emptied)."""
    from assetmap.store import assets

    db = connect(db_path)
    try:
        record = assets.get_asset(db, asset_id)
        empty = {"phone": None, "email": None, "website": None}
        assets.save_asset(db, {**record, **empty, **contact}, who="t")
    finally:
        db.close()


@pytest.mark.parametrize(
    ("contact", "last_step"),
    [
        (
            {"phone": "0161 912 3456", "email": "walks@example.org"},
            'If you have not heard within two weeks, call them on <a href="tel:01619123456">'
            "0161 912 3456</a>.",
        ),
        (
            {"email": "walks@example.org"},
            "If you have not heard within two weeks, email them at "
            '<a href="mailto:walks@example.org">walks@example.org</a>.',
        ),
        (
            {"website": "https://walks.example.org/"},
            "If you have not heard within two weeks, contact them through "
            '<a href="https://walks.example.org/" rel="noopener nofollow">their website</a>.',
        ),
        (
            {},
            "If you have not heard within two weeks, "
            '<a href="/assets/sale-walking-group/join">ask to join again</a>: your first '
            "request may not have reached them.",
        ),
    ],
)
def test_the_last_step_says_what_to_do_if_nobody_has_been_in_touch(
    client, db_path, contact, last_step
):
    with_contact(db_path, "sale-walking-group", **contact)
    page = client.get("/assets/sale-walking-group/join/sent").get_data(as_text=True)
    assert f"<li>{last_step}</li>" in page


@pytest.mark.parametrize(
    "fields, field, words",
    [
        ({"name": ""}, "name", "Enter your name"),
        ({"phone": "", "email": ""}, "phone", "Give a phone number or an email address"),
        ({"phone": "call me"}, "phone", "may only contain digits"),
        ({"phone": "", "email": "pat@"}, "email", "is not an email address"),
        ({"consent": ""}, "consent", "Tick the box to agree"),
        ({"message": "x" * 1001}, "message", "up to 1000 characters"),
    ],
)
def test_mistakes_are_explained_beside_the_field_and_nothing_is_sent(
    client, db_path, fields, field, words
):
    response = ask(client, **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in page and words in page
    assert "nothing has been sent yet" in page
    assert "<title>Error: Ask to join" in page  # read first by a screen reader
    assert "autofocus>" in page.split('class="error-summary"', 1)[1][:200]
    assert requests(db_path) == []
    if fields.get("name", "x"):
        assert 'value="Pat Resident"' in page  # what was typed is kept


def test_a_robot_filling_the_honeypot_is_thanked_but_nothing_is_stored(client, db_path):
    response = ask(client, website="http://spam.example")
    assert response.status_code == 302 and response.headers["Location"].endswith("/join/sent")
    assert requests(db_path) == []


def test_too_many_requests_from_one_address_are_refused_for_an_hour(app, client, db_path):
    app.config["ASSETMAP_REFERRALS_PER_HOUR"] = "2"
    assert ask(client).status_code == 302
    assert ask(client).status_code == 302
    third = ask(client)
    assert third.status_code == 429
    assert "Please try again in an hour" in third.get_data(as_text=True)
    assert len(requests(db_path)) == 2


def test_coordinators_work_through_the_inbox_with_statuses_and_notes(client, app, sign_in, db_path):
    ask(client)
    coordinator = app.test_client()
    sign_in(coordinator, "coordinator")
    inbox = coordinator.get("/manage/requests-to-join").get_data(as_text=True)
    assert "Pat Resident" in inbox and "Sale Walking Group" in inbox
    request_id = requests(db_path)[0]["id"]
    url = f"/manage/requests-to-join/{request_id}"
    detail = coordinator.get(url).get_data(as_text=True)
    assert "07700 900456" in detail and "I use a walking stick." in detail
    token = csrf_token(coordinator, url)
    coordinator.post(
        url, data={"csrf_token": token, "status": "contacted", "note": "Left a voicemail"}
    )
    coordinator.post(url, data={"csrf_token": token, "status": "joined", "note": ""})
    page = coordinator.get(url).get_data(as_text=True)
    assert "Contacted by coordinator@example.org: Left a voicemail" in page
    assert requests(db_path)[0]["status"] == "joined"
    bad = coordinator.post(url, data={"csrf_token": token, "status": "lost"})
    assert bad.status_code == 400


@pytest.mark.parametrize("role", [None, "link_worker", "admin"])
def test_only_coordinators_see_requests(client, sign_in, role):
    if role:
        sign_in(client, role)
    response = client.get("/manage/requests-to-join")
    assert response.status_code == (302 if role is None else 403)


def test_the_organiser_is_emailed_when_mail_is_set_up(app, client, db_path):
    with smtp_sink() as (port, received):
        db = connect(db_path)
        from assetmap.store import assets

        record = assets.get_asset(db, "sale-walking-group")
        assets.save_asset(db, {**record, "email": "organiser@example.org"}, who="t")
        db.close()
        app.config.update(
            ASSETMAP_SMTP_HOST="127.0.0.1",
            ASSETMAP_SMTP_PORT=str(port),
            ASSETMAP_MAIL_FROM="directory@example.org",
        )
        assert ask(client).status_code == 302
    (envelope,) = received
    assert envelope.rcpt_tos == ["organiser@example.org"]
    body = envelope.content.decode()
    assert "Subject: Request to join Sale Walking Group" in body
    assert re.search(r"^Date: \w{3}, \d{1,2} \w{3} \d{4} [\d:]{8} (GMT|\+0000)\r?$", body, re.M)
    assert re.search(r"^Message-ID: <[^>]+@example\.org>\r?$", body, re.M)
    assert "Pat Resident" in body and "07700 900456" in body
    assert requests(db_path)[0]["organiser_emailed_at"]


def test_a_mail_failure_keeps_the_request_in_the_inbox(app, client, db_path):
    db = connect(db_path)
    from assetmap.store import assets

    record = assets.get_asset(db, "sale-walking-group")
    assets.save_asset(db, {**record, "email": "organiser@example.org"}, who="t")
    db.close()
    app.config.update(ASSETMAP_SMTP_HOST="127.0.0.1", ASSETMAP_SMTP_PORT="9")  # nothing there
    assert ask(client).status_code == 302
    (request,) = requests(db_path)
    assert request["name"] == "Pat Resident" and request["organiser_emailed_at"] is None


def test_personal_data_is_purged_after_the_retention_period(client, db_path, runner):
    ask(client)
    db = connect(db_path)
    later = datetime.now(UTC) + timedelta(days=181)
    assert join_requests.purge(db, 180, now=datetime.now(UTC)) == 0
    assert join_requests.purge(db, 180, now=later) == 1
    (request,) = store.inbox(db)
    assert request["name"] is None and request["phone"] is None and request["message"] is None
    assert request["status"] == "new" and request["purged_at"]
    db.close()
    result = runner.invoke(args=["join-requests", "purge"])
    assert "removed personal data from 0 request(s) older than 180 days" in result.output


def test_cron_lines_written_for_the_old_command_name_still_purge(runner):
    result = runner.invoke(args=["referrals", "purge"])
    assert result.exit_code == 0, result.output
    assert "removed personal data from 0 request(s)" in result.output
    assert "join-requests" in runner.invoke(args=["--help"]).output
    assert "referrals" not in runner.invoke(args=["--help"]).output


def test_a_subject_access_request_finds_everything_about_a_person(client, runner, tmp_path):
    ask(client, phone="07700 900456", email="pat@example.org")
    ask(client, phone="", email="someone.else@example.org")
    out = tmp_path / "sar.json"
    result = runner.invoke(args=["join-requests", "export", "--phone", "+44 7700 900456", str(out)])
    assert result.exit_code == 0, result.output
    found = json.loads(out.read_text())["requests_to_join"]
    assert [r["email"] for r in found] == ["pat@example.org"]
    assert found[0]["message"] == "I use a walking stick."
    assert runner.invoke(args=["join-requests", "export"]).exit_code == 2
