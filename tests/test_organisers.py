"""Organisers keep their own listing: their e-mail stays professional-only, reminders go once
and escalate, links open one listing once, and proposed changes wait for a coordinator."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest

from assetmap.freshness import moderation, organisers
from assetmap.freshness.schedule import Schedule
from assetmap.imports.columns import ALIAS_TABLE, normalise_header
from assetmap.store import assets, connect
from assetmap.store import proposals as store
from tests.conftest import add_user, csrf_token, smtp_sink

ORGANISER = "walks.organiser@example.org"
SECRET = "test-only"


@pytest.fixture(scope="module")
def smtp():
    """A local SMTP server on loopback that keeps every message it receives."""
    with smtp_sink() as (port, received):
        yield port, received


@pytest.fixture
def mailbox(app, smtp):
    """The app set to send through the local server; the list of messages it gets."""
    port, received = smtp
    received.clear()
    app.config.update(
        ASSETMAP_SMTP_HOST="127.0.0.1",
        ASSETMAP_SMTP_PORT=str(port),
        ASSETMAP_MAIL_FROM="directory@example.org",
        ASSETMAP_SITE_URL="https://directory.example.org",
    )
    return received


def give_organiser(db, asset_id: str, email: str | None = ORGANISER, **changes) -> dict:
    record = {**assets.get_asset(db, asset_id), "organiser_email": email, **changes}
    assets.save_asset(db, record, who="tests")
    return record


def read(envelope) -> tuple[str, str]:
    message = message_from_bytes(envelope.content, policy=policy.default)
    return message["Subject"], message.get_content()


def link_in(body: str) -> str:
    return re.search(r"https://directory\.example\.org(/organiser/\S+)", body).group(1)


# The organiser's e-mail is for professionals only ----------------------------------------------


def test_the_organiser_email_never_reaches_the_public(client, db, runner, tmp_path, sign_in):
    give_organiser(db, "sale-walking-group")
    service_id = "3f105064-0241-598e-8ab4-be8b2c9bd1b1"  # sale-walking-group's ORUK id
    for url in (
        "/assets/sale-walking-group",
        "/api/v1/assets",
        "/api/v1/assets/sale-walking-group",
        "/api/v1/search?lat=53.4263&lon=-2.3034&radius_km=5",
        f"/api/oruk/services/{service_id}",
        "/api/oruk/services",
        "/map",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert ORGANISER not in response.get_data(as_text=True), url
    for fmt in ("geojson", "csv"):
        out = tmp_path / f"public.{fmt}"
        assert runner.invoke(args=["export", fmt, str(out), "--public"]).exit_code == 0
        assert ORGANISER not in out.read_text(encoding="utf-8")
        assert "organiser_email" not in out.read_text(encoding="utf-8")
    sign_in(client, "coordinator")
    form = client.get("/manage/assets/sale-walking-group/edit").get_data(as_text=True)
    assert 'name="organiser_email"' in form and ORGANISER in form


def test_a_coordinator_sets_the_organiser_email_on_the_form_with_the_same_checks(
    client, db, sign_in
):
    sign_in(client, "coordinator")
    before = assets.get_asset(db, "sale-walking-group")["organiser_email"]
    url = "/manage/assets/sale-walking-group/edit"
    page = client.get(url).get_data(as_text=True)
    data = {name: value for name, value in re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', page)}
    data.update(
        {
            "csrf_token": csrf_token(client, url),
            "kind": "group",
            "strand": "access_community_resources",
            "organiser_email": "not an address",
        }
    )
    refused = client.post(url, data=data)
    assert refused.status_code == 400
    assert "Organiser" in refused.get_data(as_text=True)
    assert assets.get_asset(db, "sale-walking-group")["organiser_email"] == before


def test_imports_read_the_organiser_email_under_its_usual_headings():
    for heading in ("Organiser email", "Organiser e-mail", "organizer_email", "Leader email"):
        assert ALIAS_TABLE[normalise_header(heading)] == "organiser_email", heading


# Reminders ------------------------------------------------------------------------------


def test_reminders_go_once_to_due_listings_with_an_organiser_and_a_dry_run_sends_nothing(
    app, db, runner, mailbox
):
    give_organiser(db, "sale-walking-group")  # last checked 2025-06-01: due
    give_organiser(db, "stretford-peer-support", "peers@example.org")
    today = datetime.now(UTC).date().isoformat()
    give_organiser(db, "altrincham-library", "library@example.org", last_verified=today)

    dry = runner.invoke(args=["reminders", "send", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Sale Walking Group, to walks.organiser@example.org" in dry.output
    assert "Stretford Peer Support" in dry.output and "Altrincham Library" not in dry.output
    assert "2 to send; nothing was sent" in dry.output
    # Why: of the listings due, two have an organiser's e-mail, and none was reminded yet.
    assert re.search(r"\d+ listing\(s\) are due a check; 2 of them have an organiser", dry.output)
    assert "; 0 of those were reminded already" in dry.output
    assert mailbox == [] and store.reminders_since(db, "sale-walking-group", None) == []

    sent = runner.invoke(args=["reminders", "send"])
    assert sent.exit_code == 0, sent.output
    assert sorted(e.rcpt_tos[0] for e in mailbox) == ["peers@example.org", ORGANISER]
    subject, body = read(next(e for e in mailbox if e.rcpt_tos == [ORGANISER]))
    assert subject == "Is the listing for Sale Walking Group still right?"
    assert "https://directory.example.org/organiser/" in body

    again = runner.invoke(args=["reminders", "send"])
    assert again.exit_code == 0 and "0 sent" in again.output
    assert "; 2 of those were reminded already" in again.output
    assert len(mailbox) == 2


def test_a_listing_without_an_organiser_email_is_never_reminded(db):
    # Every sample listing is long overdue, and none has an organiser's e-mail.
    later = datetime.now(UTC) + timedelta(days=400)
    assert organisers.plan_reminders(db, now=later, schedule=Schedule(6)) == []
    give_organiser(db, "sale-walking-group", "")
    assert organisers.plan_reminders(db, now=later, schedule=Schedule(6)) == []


def test_reminders_escalate_a_second_after_14_days_then_the_coordinators(app, db, mailbox):
    give_organiser(db, "sale-walking-group")
    add_user(app.config["ASSETMAP_DB"], "coordinator")
    start = datetime.now(UTC)

    def run(days: int) -> list[int]:
        now = start + timedelta(days=days)
        planned = organisers.plan_reminders(db, now=now, schedule=Schedule(6))
        outcome = organisers.send_reminders(
            db,
            app.config,
            planned,
            now=now,
            link_url=lambda token: f"https://directory.example.org/organiser/{token}",
            queue_url="https://directory.example.org/manage/moderation/",
        )
        assert outcome.failed == []
        return [r.stage for r in outcome.sent]

    assert run(0) == [1]
    first_token = link_in(read(mailbox[-1])[1]).rsplit("/", 1)[1]
    assert run(1) == [] and run(13) == []
    assert run(14) == [2]
    subject, body = read(mailbox[-1])
    assert subject.startswith("Reminder: ") and "replaces the one" in body
    with pytest.raises(organisers.LinkRefused) as refused:
        organisers.open_link(db, first_token, SECRET, now=start + timedelta(days=14))
    assert refused.value.reason == organisers.SUPERSEDED
    assert run(27) == []
    assert run(28) == [3]
    (told,) = [e for e in mailbox if e.rcpt_tos == ["coordinator@example.org"]]
    subject, body = read(told)
    assert subject == "An organiser has not answered two reminders"
    assert "Sale Walking Group (sale-walking-group)" in body
    assert run(29) == [] and run(60) == []
    assert [asset["id"] for asset, _ in organisers.unanswered(db)] == ["sale-walking-group"]


def test_an_organiser_whose_change_waits_is_not_reminded_again(app, db):
    give_organiser(db, "sale-walking-group")
    now = datetime.now(UTC)
    with assets.transaction(db):
        _link_id, token = organisers.new_link(
            db, assets.get_asset(db, "sale-walking-group"), SECRET, days=30, now=now
        )
    asset = assets.get_asset(db, "sale-walking-group")
    moderation.propose(db, token, SECRET, {**asset, "cost_details": "£1"}, now=now)
    later = now + timedelta(days=20)
    assert organisers.plan_reminders(db, now=later, schedule=Schedule(6)) == []


def test_reminders_without_mail_set_up_say_so_and_send_nothing(app, db, runner):
    give_organiser(db, "sale-walking-group")
    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code != 0
    assert "ASSETMAP_SMTP_HOST" in result.output and "Nothing was sent" in result.output
    assert store.reminders_since(db, "sale-walking-group", None) == []


def test_a_reminder_that_cannot_be_sent_is_tried_again_and_the_old_link_still_works(
    app, db, runner
):
    give_organiser(db, "sale-walking-group")
    app.config.update(ASSETMAP_SMTP_HOST="127.0.0.1", ASSETMAP_SMTP_PORT="9")  # nothing there
    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 1 and "not sent" in result.output
    assert store.reminders_since(db, "sale-walking-group", None) == []
    assert store.newest_link_id(db, "sale-walking-group") is None


# Links ----------------------------------------------------------------------------------


def fresh_link(db, asset_id="sale-walking-group", *, now=None, days=30) -> str:
    if assets.get_asset(db, asset_id)["organiser_email"] is None:
        give_organiser(db, asset_id)
    with assets.transaction(db):
        _, token = organisers.new_link(
            db, assets.get_asset(db, asset_id), SECRET, days=days, now=now or datetime.now(UTC)
        )
    return token


def test_a_tampered_link_is_refused_with_a_clear_page(client, db):
    token = fresh_link(db)
    other = fresh_link(db, "altrincham-library")
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    payload_of_other = other.split(".")[0] + "." + token.split(".")[1]
    for bad in (forged, payload_of_other, "not-a-real-token"):
        response = client.get(f"/organiser/{bad}")
        page = response.get_data(as_text=True)
        assert response.status_code == 404
        assert "This link is not complete" in page
        assert "Sale Walking Group" not in page and "Altrincham Library" not in page


def test_an_expired_link_is_refused_with_a_clear_page(client, db):
    token = fresh_link(db, now=datetime.now(UTC) - timedelta(days=31), days=30)
    response = client.get(f"/organiser/{token}")
    assert response.status_code == 410
    page = response.get_data(as_text=True)
    assert "This link has expired" in page and "Sale Walking Group" not in page


def test_a_used_link_is_refused_and_says_the_answer_is_in(client, db):
    token = fresh_link(db)
    url = f"/organiser/{token}"
    answer = client.post(f"{url}/confirm", data={"csrf_token": csrf_token(client, url)})
    assert answer.status_code == 200
    for again in (client.get(url), client.get(f"{url}/change")):
        assert again.status_code == 410
        assert "This link has already been used" in again.get_data(as_text=True)
    session_token = csrf_token(client, "/assets/sale-walking-group/join")  # any form's will do
    again = client.post(f"{url}/confirm", data={"csrf_token": session_token})
    assert again.status_code == 410
    assert "This link has already been used" in again.get_data(as_text=True)
    checks = [
        h for h in assets.history(db, "sale-walking-group") if "checked" in (h["reason"] or "")
    ]
    assert len(checks) == 1  # the second answer recorded nothing


def test_a_link_replaced_by_a_newer_one_is_refused(client, db):
    older = fresh_link(db)
    newer = fresh_link(db)
    response = client.get(f"/organiser/{older}")
    assert response.status_code == 410
    assert "A newer link was sent" in response.get_data(as_text=True)
    assert client.get(f"/organiser/{newer}").status_code == 200


def test_a_link_opens_its_one_listing_and_no_professional_details(client, db):
    token = fresh_link(db)
    response = client.get(f"/organiser/{token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Is this still right?" in page and "Sale Walking Group" in page
    assert "Yes, still right" in page and "Something has changed" in page
    for secret in ("Sam Example", "07700 900123", "Sam prefers calls", ORGANISER):
        assert secret not in page
    assert response.headers["Cache-Control"] == "no-store"
    assert '<meta name="referrer" content="no-referrer">' in page  # the token stays here
    form = client.get(f"/organiser/{token}/change").get_data(as_text=True)
    assert 'name="description"' in form and 'name="contact_name"' not in form
    assert 'name="organiser_email"' not in form and 'name="last_verified"' not in form


def test_the_organiser_forms_need_their_csrf_token(csrf_app, db_path):
    db = connect(db_path)
    token = fresh_link(db)
    client = csrf_app.test_client()
    assert client.post(f"/organiser/{token}/confirm", data={}).status_code == 400
    assert client.post(f"/organiser/{token}/change", data={"name": "X"}).status_code == 400
    assert store.get_link(db, 1)["used_at"] is None
    db.close()


def test_hostile_text_in_a_listing_shows_as_text_on_the_organiser_page(client, db):
    token = fresh_link(db, "hostile-example")
    page = client.get(f"/organiser/{token}").get_data(as_text=True)
    assert "<img src=x onerror" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script>alert(4)</script>" not in page


# Answers and moderation -----------------------------------------------------------------


def test_yes_still_right_records_a_check_by_the_organiser(client, db):
    token = fresh_link(db)
    url = f"/organiser/{token}"
    response = client.post(f"{url}/confirm", data={"csrf_token": csrf_token(client, url)})
    assert "still right" in response.get_data(as_text=True)
    asset = assets.get_asset(db, "sale-walking-group")
    assert asset["last_verified"] == datetime.now(UTC).date().isoformat()
    assert asset["verified_by"] == "the organiser"
    latest = assets.history(db, "sale-walking-group")[0]
    assert "organiser confirmed" in latest["reason"] and ORGANISER in latest["reason"]
    public = client.get("/assets/sale-walking-group").get_data(as_text=True)
    assert "the organiser" in public and ORGANISER not in public


def organiser_form(client, token: str) -> dict:
    """The organiser's change form as the browser would send it, unchanged."""
    return form_data(client.get(f"/organiser/{token}/change").get_data(as_text=True))


def form_data(page: str) -> dict:
    """What a browser sends for the form on a page as it is (checked boxes, chosen options)."""
    data: dict = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if not name or (kind and kind.group(1) in ("checkbox", "radio") and "checked" not in tag):
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data.setdefault(name.group(1), []).append(value.group(1) if value else "")
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', page):
        data[name] = [text]
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        data[name] = [chosen.group(1) if chosen else ""]
    return data


def test_a_change_is_checked_like_the_asset_form_and_nothing_is_kept_until_it_is_right(client, db):
    token = fresh_link(db)
    data = organiser_form(client, token)
    data.update(website=["javascript:alert(1)"], cost_details=["£2 a walk"])
    refused = client.post(f"/organiser/{token}/change", data=data)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "nothing has been sent yet" in page and 'id="website-error"' in page
    assert "£2 a walk" in page  # nothing typed is lost
    assert store.proposals(db) == [] and store.get_link(db, 1)["used_at"] is None

    unchanged = client.post(f"/organiser/{token}/change", data=organiser_form(client, token))
    assert unchanged.status_code == 400 and "Nothing was changed" in unchanged.get_data(
        as_text=True
    )


def propose_change(client, db, **changes) -> dict:
    token = fresh_link(db)
    data = organiser_form(client, token)
    data.update({name: [value] for name, value in changes.items()})
    response = client.post(f"/organiser/{token}/change", data=data)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "A coordinator will look at them" in response.get_data(as_text=True)
    (proposal,) = store.proposals(db)
    return proposal


def test_a_coordinator_approves_a_change_and_the_history_names_both(client, db, sign_in):
    proposal = propose_change(client, db, cost_details="£2 a walk, tea included")
    assert assets.get_asset(db, "sale-walking-group")["cost_details"] is None  # waits
    sign_in(client, "coordinator")
    queue = client.get("/manage/moderation/").get_data(as_text=True)
    assert "Sale Walking Group" in queue and "Cost details" in queue
    url = f"/manage/moderation/{proposal['id']}"
    detail = client.get(url).get_data(as_text=True)
    assert "£2 a walk, tea included" in detail and "(empty)" in detail
    response = client.post(f"{url}/approve", data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    asset = assets.get_asset(db, "sale-walking-group")
    assert asset["cost_details"] == "£2 a walk, tea included"
    assert asset["verified_by"] == "the organiser"
    latest = assets.history(db, "sale-walking-group")[0]
    assert latest["changed_by"] == "coordinator@example.org"
    assert ORGANISER in latest["reason"] and "coordinator@example.org" in latest["reason"]
    assert store.get_proposal(db, proposal["id"])["status"] == store.APPROVED
    entries = len(assets.history(db, "sale-walking-group"))
    again = client.post(f"{url}/approve", data={"csrf_token": csrf_token(client, url)})
    assert again.status_code == 302 and len(assets.history(db, "sale-walking-group")) == entries
    assert store.get_proposal(db, proposal["id"])["version_id"] == latest["version_id"]


def test_a_coordinator_edits_a_change_then_approves_it(client, db, sign_in):
    proposal = propose_change(client, db, cost_details="£2 a walk")
    sign_in(client, "coordinator")
    url = f"/manage/moderation/{proposal['id']}/edit"
    page = client.get(url).get_data(as_text=True)
    assert "£2 a walk" in page and 'name="contact_name"' in page
    data = form_data(page)
    data.update(csrf_token=[csrf_token(client, url)], cost_details=["£2.50 a walk"])
    data["postcode"] = ["not a postcode"]
    refused = client.post(url, data=data)
    assert refused.status_code == 400 and 'id="postcode-error"' in refused.get_data(as_text=True)
    data["postcode"] = ["M33 7ZF"]
    assert client.post(url, data=data).status_code == 302
    asset = assets.get_asset(db, "sale-walking-group")
    assert asset["cost_details"] == "£2.50 a walk" and asset["contact_name"] == "Sam Example"
    assert "edited and approved" in assets.history(db, "sale-walking-group")[0]["reason"]


def test_a_rejected_change_leaves_the_listing_and_emails_the_reason(client, db, sign_in, mailbox):
    proposal = propose_change(client, db, cost_details="£9", name="Sale Striders")
    before = assets.get_asset(db, "sale-walking-group")
    sign_in(client, "coordinator")
    url = f"/manage/moderation/{proposal['id']}"
    empty = client.post(f"{url}/reject", data={"csrf_token": csrf_token(client, url)})
    assert empty.status_code == 400 and "Give the reason" in empty.get_data(as_text=True)
    assert store.get_proposal(db, proposal["id"])["status"] == store.PENDING
    response = client.post(
        f"{url}/reject",
        data={"csrf_token": csrf_token(client, url), "reason": "The walk is still free."},
    )
    assert response.status_code == 302
    assert assets.get_asset(db, "sale-walking-group") == before
    (envelope,) = mailbox
    assert envelope.rcpt_tos == [ORGANISER]
    subject, body = read(envelope)
    assert "Sale Walking Group" in subject and "The walk is still free." in body
    assert "Sale Striders" not in subject + body  # the listing's name, not the one proposed


@pytest.mark.parametrize("role", [None, "link_worker", "admin"])
def test_only_coordinators_see_the_moderation_queue(client, sign_in, role):
    if role:
        sign_in(client, role)
    assert client.get("/manage/moderation/").status_code in (302, 403)


def test_a_shorter_period_for_a_strand_brings_its_reminders_sooner(db):
    today = datetime.now(UTC).date()
    checked = (today - timedelta(days=100)).isoformat()  # over 3 months, under 6
    give_organiser(db, "sale-walking-group", last_verified=checked)
    now = datetime.now(UTC)
    assert organisers.plan_reminders(db, now=now, schedule=Schedule(6)) == []
    shorter = Schedule(6, {("strand", "access_community_resources"): 3})
    (reminder,) = organisers.plan_reminders(db, now=now, schedule=shorter)
    assert reminder.asset["id"] == "sale-walking-group" and reminder.stage == 1


def test_hostile_text_in_a_proposed_change_shows_as_text_to_the_coordinator(client, db, sign_in):
    hostile = "<script>alert(1)</script>${alert(2)}"
    proposal = propose_change(client, db, description=hostile)
    sign_in(client, "coordinator")
    for url in ("/manage/moderation/", f"/manage/moderation/{proposal['id']}"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
