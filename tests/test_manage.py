"""Coordinators create, edit, archive and restore assets through forms that use validation."""

from __future__ import annotations

import pytest

from assetmap.store import assets as store
from assetmap.store import connect
from tests.conftest import csrf_token


@pytest.fixture
def coordinator(client, sign_in):
    sign_in(client, "coordinator")
    return client


def form_data(client, url, **fields):
    """The form as a coordinator would send it: token plus the fields given."""
    data = {
        "csrf_token": csrf_token(client, url),
        "name": "Stretford Singing for Health",
        "kind": "group",
        "strand": "access_community_resources",
        "approach": "social_prescribing",
        "categories": ["music_singing", "mental_wellbeing"],
        "lat": "53.4466",
        "lon": "-2.3098",
        "postcode": "m329bd",
        "cost": "low_cost",
        "self_referral": "yes",
        "schedule-0-frequency": "weekly",
        "schedule-0-day": "wednesday",
        "schedule-0-start": "13:30",
        "schedule-0-end": "15:00",
        "schedule-notes": "Not in August",
        "contact_name": "Jo Example",
        "reason": "new group from the October audit",
    }
    data.update(fields)
    return data


def stored(db_path, asset_id):
    db = connect(db_path)
    try:
        return store.get_asset(db, asset_id), store.history(db, asset_id)
    finally:
        db.close()


def test_a_coordinator_adds_an_asset_that_residents_then_see(coordinator, db_path):
    response = coordinator.post(
        "/manage/assets/new", data=form_data(coordinator, "/manage/assets/new")
    )
    assert response.status_code == 302
    asset_id = response.headers["Location"].rsplit("/", 1)[1]
    record, changes = stored(db_path, asset_id)
    assert record["postcode"] == "M32 9BD"
    assert record["categories"] == ["music_singing", "mental_wellbeing"]
    assert record["schedule"] == {
        "sessions": [{"day": "wednesday", "frequency": "weekly", "start": "13:30", "end": "15:00"}],
        "notes": "Not in August",
    }
    assert record["self_referral"] is True and record["source"] == "manual"
    assert changes[0]["changed_by"] == "coordinator@example.org"
    assert changes[0]["reason"] == "new group from the October audit"
    page = coordinator.get(f"/assets/{asset_id}").get_data(as_text=True)
    assert "Every Wednesday, 13:30 to 15:00" in page


def test_errors_show_beside_each_field_and_nothing_typed_is_lost(coordinator, db_path):
    data = form_data(
        coordinator,
        "/manage/assets/new",
        strand="walking",
        website="javascript:alert(1)",
        lat="91",
        description="Kept as typed",
        **{"schedule-0-end": "12:00"},
    )
    response = coordinator.post("/manage/assets/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "nothing has been saved yet" in page
    for field in ("strand", "website", "lat", "schedule"):
        assert f'id="{field}-error"' in page, field
    assert "must start with http:// or https://" in page
    assert ">Kept as typed</textarea>" in page
    assert 'value="Stretford Singing for Health"' in page
    assert 'value="music_singing" checked' in page
    # The refused values are shown as typed, beside their messages, not emptied.
    assert 'value="javascript:alert(1)"' in page and 'value="91"' in page
    assert 'name="schedule-0-end"' in page and 'value="12:00"' in page
    db = connect(db_path)
    assert store.list_assets(db, store.AssetFilter(name_contains="Singing"), limit=5)[1] == 0
    db.close()


def test_a_mistyped_web_address_stays_in_its_box_with_the_fix_beside_it(coordinator):
    data = form_data(coordinator, "/manage/assets/new", website="www,example.com")
    page = coordinator.post("/manage/assets/new", data=data).get_data(as_text=True)
    assert 'value="www,example.com"' in page
    assert "https://www.example.com" in page  # the fix the message offers


def test_editing_keeps_history_with_a_field_level_diff(coordinator, db_path):
    url = "/manage/assets/sale-walking-group/edit"
    page = coordinator.get(url).get_data(as_text=True)
    assert 'value="Sale Walking Group"' in page
    data = form_data(
        coordinator,
        url,
        name="Sale Walking Group",
        kind="group",
        categories=["walking", "physical_activity"],
        lat="53.4263",
        lon="-2.3034",
        postcode="M33 7ZF",
        cost="free",
        reason="new day",
    )
    response = coordinator.post(url, data=data)
    assert response.status_code == 302
    history = coordinator.get("/manage/assets/sale-walking-group/history").get_data(as_text=True)
    assert "Changed\n      by coordinator@example.org" in history
    assert "Why: new day" in history
    assert (
        '<th scope="row">When</th><td class="before">Every Tuesday, 10:00 to 12:00</td>'
        '<td class="after">Every Wednesday, 13:30 to 15:00; Not in August</td>' in history
    )


def test_restore_this_version_brings_back_the_earlier_details(coordinator, db_path):
    url = "/manage/assets/sale-walking-group/edit"
    before, _ = stored(db_path, "sale-walking-group")
    coordinator.post(url, data=form_data(coordinator, url, name="Oops Renamed"))
    _, changes = stored(db_path, "sale-walking-group")
    first = changes[-1]["version_id"]
    token = csrf_token(coordinator, "/manage/assets/sale-walking-group/history")
    response = coordinator.post(
        f"/manage/assets/sale-walking-group/history/{first}/restore", data={"csrf_token": token}
    )
    assert response.status_code == 302
    after, changes = stored(db_path, "sale-walking-group")
    assert after == before
    assert changes[0]["changed_by"] == "coordinator@example.org"


def test_archived_assets_leave_public_pages_but_stay_in_the_database(
    coordinator, client, app, db_path
):
    token = csrf_token(coordinator, "/assets/altrincham-library")
    response = coordinator.post(
        "/manage/assets/altrincham-library/archive",
        data={"csrf_token": token, "reason": "closed for good"},
    )
    assert response.status_code == 302
    public = app.test_client()
    assert public.get("/assets/altrincham-library").status_code == 404
    assert public.get("/api/v1/assets/altrincham-library").status_code == 404
    ids = {f["id"] for f in public.get("/api/v1/assets").get_json()["features"]}
    assert "altrincham-library" not in ids
    assert "Archived:" in coordinator.get("/assets/altrincham-library").get_data(as_text=True)
    record, changes = stored(db_path, "altrincham-library")
    assert record["archived"] is True and changes[0]["reason"] == "closed for good"
    listing = coordinator.get("/manage/assets?archived=yes").get_data(as_text=True)
    assert "Altrincham Library</a> <strong>(archived)</strong>" in listing


def test_the_asset_list_finds_by_name(coordinator):
    page = coordinator.get("/manage/assets?q=library").get_data(as_text=True)
    assert "Altrincham Library" in page and "Sale Walking Group" not in page
    assert "1 asset with" in page


def test_editing_an_unknown_asset_is_a_404(coordinator):
    assert coordinator.get("/manage/assets/nope/edit").status_code == 404
