"""Two coordinators editing one asset: the later save does not silently overwrite the earlier.

The form carries the version it was opened at; a save over a newer version is refused (409)
with everything typed kept, who changed what and when, and the new version, so that saving
again applies the values on purpose.
"""

from __future__ import annotations

import re

import pytest
from markupsafe import escape

from assetmap.record import history
from assetmap.store import assets as store
from assetmap.store import connect
from tests.conftest import HOSTILE_NAME, add_user, csrf_token, give_session, make_asset
from tests.hostile import EXACT

EDIT = "/manage/assets/sale-walking-group/edit"
OTHER = "alex.other@example.org"


@pytest.fixture
def coordinator(client, sign_in):
    sign_in(client, "coordinator")
    return client


@pytest.fixture
def colleague(app, db_path):
    """A second coordinator, signed in on a browser of their own."""
    client = app.test_client()
    give_session(client, db_path, add_user(db_path, "coordinator", email=OTHER))
    return client


def opened(client, url=EDIT) -> dict:
    """The edit form as a browser holds it once opened: its token, version and values."""
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version, "the form carries no version"
    return {
        "csrf_token": csrf_token(client, url),
        "version": version.group(1),
        **form_values(make_asset()),
    }


def form_values(asset: dict) -> dict:
    """The asset form's fields as a browser sends them, for a record as make_asset makes it."""
    plain = ("name", "description", "kind", "strand", "approach", "categories", "audiences",
             "postcode", "address", "cost", "phone", "contact_name", "contact_phone",
             "internal_notes", "last_verified")  # fmt: skip
    values = {field: asset[field] for field in plain}
    values.update(lat=str(asset["lat"]), lon=str(asset["lon"]))
    values["self_referral"] = "yes" if asset["self_referral"] else "no"
    session = asset["schedule"]["sessions"][0]
    values.update({f"schedule-0-{part}": session[part] for part in ("frequency", "day", "start",
                                                                    "end")})  # fmt: skip
    return values


def snapshot(db_path):
    """Every asset and history row, to show that a refused save wrote nothing."""
    db = connect(db_path)
    try:
        return (
            [tuple(r) for r in db.conn.execute("SELECT * FROM assets ORDER BY id")],
            [tuple(r) for r in db.conn.execute("SELECT * FROM asset_history ORDER BY version_id")],
        )
    finally:
        db.close()


def current(db_path, asset_id="sale-walking-group"):
    db = connect(db_path)
    try:
        return store.get_asset(db, asset_id)
    finally:
        db.close()


def save_elsewhere(db_path, who=OTHER, **changes):
    """Someone else's save (an import, an organiser's approved change...) to the asset."""
    db = connect(db_path)
    try:
        record = {**store.get_asset(db, "sale-walking-group"), **changes}
        assert store.save_asset(db, record, who=who, why="elsewhere") == store.CHANGED
    finally:
        db.close()


def version_in(page: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page).group(1)


def test_a_stale_save_is_refused_with_what_was_typed_kept_and_what_changed_listed(
    coordinator, colleague, db_path
):
    mine = opened(coordinator)
    theirs = opened(colleague)
    theirs.update(name="Sale Water Park Walkers", phone="0161 912 4000")
    assert colleague.post(EDIT, data=theirs).status_code == 302
    before = snapshot(db_path)

    mine.update(description="Now meets at the cafe, then walks the lake.", reason="audit")
    response = coordinator.post(EDIT, data=mine)
    page = response.get_data(as_text=True)

    assert response.status_code == 409
    assert snapshot(db_path) == before  # nothing saved, not even a history entry
    assert "Not saved: alex.other@example.org changed this asset" in page
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">', page)
    # What they typed is still in the form, with their reason.
    assert ">Now meets at the cafe, then walks the lake.</textarea>" in page
    assert 'id="reason" name="reason" type="text" value="audit"' in page
    # Each field changed since the form was opened, as it was and as it is now.
    assert (
        '<th scope="row">Name</th><td class="before">Sale Walking Group</td>'
        '<td class="after">Sale Water Park Walkers</td>' in page
    )
    assert '<td class="before">0161 912 3000</td><td class="after">0161 912 4000</td>' in page
    listed = re.findall(r'<th scope="row">([^<]+)</th>', page.split('id="edit-conflict"')[1])
    assert listed == ["Name", "Phone"]  # only what they changed
    # The form now carries the new version, so that saving again is on purpose.
    assert int(version_in(page)) > int(mine["version"])


def test_saving_again_after_seeing_the_conflict_applies_the_values(coordinator, colleague, db_path):
    mine = opened(coordinator)
    theirs = opened(colleague)
    theirs.update(phone="0161 912 4000")
    colleague.post(EDIT, data=theirs)
    mine.update(description="Meets at the cafe.")
    page = coordinator.post(EDIT, data=mine).get_data(as_text=True)

    again = {**mine, "version": version_in(page)}
    response = coordinator.post(EDIT, data=again)

    assert response.status_code == 302
    record = current(db_path)
    assert record["description"] == "Meets at the cafe."
    assert record["phone"] == "0161 912 3000"  # their form's value, put back on purpose


def test_a_save_from_a_fresh_form_works_as_before(coordinator, db_path):
    data = opened(coordinator)
    data.update(cost="low_cost", reason="prices went up")
    response = coordinator.post(EDIT, data=data)
    assert response.status_code == 302
    db = connect(db_path)
    latest = store.history(db, "sale-walking-group")[0]
    db.close()
    assert [c.label for c in history.changes(latest["previous"], latest["record"])] == ["Cost"]
    assert latest["reason"] == "prices went up"
    # And the next form opened carries the version that save made.
    assert int(opened(coordinator)["version"]) > int(data["version"])


def test_two_saves_in_the_same_second_are_told_apart(coordinator, colleague, db_path, monkeypatch):
    monkeypatch.setattr(store, "now", lambda: "2026-12-06T10:00:00Z")
    mine, theirs = opened(coordinator), opened(colleague)
    theirs.update(name="Sale Water Park Walkers")
    assert colleague.post(EDIT, data=theirs).status_code == 302
    mine.update(cost="low_cost")
    assert coordinator.post(EDIT, data=mine).status_code == 409
    # A form opened after that save, in the same second, saves.
    fresh = opened(coordinator)
    fresh.update(name="Sale Water Park Walkers", cost="low_cost")
    assert coordinator.post(EDIT, data=fresh).status_code == 302
    record = current(db_path)
    assert (record["name"], record["cost"]) == ("Sale Water Park Walkers", "low_cost")


def test_a_form_with_an_error_keeps_the_version_it_was_opened_at(coordinator, db_path):
    data = opened(coordinator)
    save_elsewhere(db_path, phone="0161 912 4000")
    page = coordinator.post(EDIT, data={**data, "lat": "91"}).get_data(as_text=True)
    assert version_in(page) == data["version"]  # fixing the error does not skip the check
    response = coordinator.post(EDIT, data={**data, "lat": "53.4263"})
    assert response.status_code == 409


@pytest.mark.parametrize("hostile", [HOSTILE_NAME, *EXACT[:4]])
def test_hostile_text_in_the_changes_is_shown_as_text(coordinator, db_path, hostile):
    data = opened(coordinator)
    save_elsewhere(db_path, description=hostile)
    page = coordinator.post(EDIT, data=data).get_data(as_text=True)
    table = page.split('id="edit-conflict"')[1].split("</table>")[0]
    assert hostile not in table
    assert f'<td class="after">{escape(hostile)}</td>' in table


@pytest.mark.parametrize("version", ["3; DROP", "", "²", "9" * 5000, "-1"])
def test_an_unreadable_version_is_a_400_that_says_what_to_do(coordinator, db_path, version):
    before = snapshot(db_path)
    response = coordinator.post(EDIT, data={**opened(coordinator), "version": version})
    assert response.status_code == 400
    assert "Open the page again" in response.get_data(as_text=True)
    assert snapshot(db_path) == before


def test_an_asset_deleted_meanwhile_comes_back_only_on_purpose(coordinator, db_path):
    data = opened(coordinator)
    db = connect(db_path)
    assert store.delete_asset(db, "sale-walking-group", who=OTHER, why="import undone")
    db.close()
    data.update(description="Still running.")
    response = coordinator.post(EDIT, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "alex.other@example.org deleted this asset" in page
    assert ">Still running.</textarea>" in page
    assert current(db_path) is None
    assert coordinator.post(EDIT, data={**data, "version": version_in(page)}).status_code == 302
    record = current(db_path)
    assert record["description"] == "Still running." and record["source"] == "tests"


def test_restoring_from_a_stale_history_page_is_refused(coordinator, db_path):
    history_url = "/manage/assets/sale-walking-group/history"
    page = coordinator.get(history_url).get_data(as_text=True)
    first = re.search(r"/history/(\d+)/restore", page).group(1)
    save_elsewhere(db_path, name="Sale Water Park Walkers")
    before = snapshot(db_path)
    data = {"csrf_token": csrf_token(coordinator, history_url), "version": version_in(page)}
    response = coordinator.post(f"{history_url}/{first}/restore", data=data)
    refused = response.get_data(as_text=True)
    assert response.status_code == 409
    assert snapshot(db_path) == before
    assert "Not restored: alex.other@example.org changed this asset" in refused
    again = {**data, "version": version_in(refused)}
    assert coordinator.post(f"{history_url}/{first}/restore", data=again).status_code == 302
    assert current(db_path)["name"] == "Sale Walking Group"


def test_archiving_with_a_stale_version_is_refused(coordinator, db_path):
    db = connect(db_path)
    version = store.asset_version(db, "altrincham-library")
    record = store.get_asset(db, "altrincham-library")
    store.save_asset(db, {**record, "phone": "0161 912 5000"}, who=OTHER)
    now_at = store.asset_version(db, "altrincham-library")
    db.close()
    before = snapshot(db_path)
    url = "/manage/assets/altrincham-library/archive"
    token = csrf_token(coordinator, "/assets/altrincham-library")
    response = coordinator.post(url, data={"csrf_token": token, "version": str(version)})
    assert response.status_code == 409
    assert "Not archived: alex.other@example.org changed this asset" in response.get_data(
        as_text=True
    )
    assert snapshot(db_path) == before
    response = coordinator.post(url, data={"csrf_token": token, "version": str(now_at)})
    assert response.status_code == 302
    assert current(db_path, "altrincham-library")["archived"] is True


def test_the_store_checks_the_version_in_the_same_transaction_as_the_save(db):
    record, version = store.get_asset_and_version(db, "stretford-peer-support")
    assert version == store.asset_version(db, "stretford-peer-support") > 0
    changed = {**record, "phone": "0161 912 6000"}
    assert store.save_asset_at_version(db, changed, version, who="a") == store.CHANGED
    with pytest.raises(store.EditConflict) as refused:
        store.save_asset_at_version(db, {**record, "phone": "0161 912 7000"}, version, who="b")
    assert refused.value.version == store.asset_version(db, "stretford-peer-support") > version
    assert [c["changed_by"] for c in refused.value.changes] == ["a"]
    assert store.get_asset(db, "stretford-peer-support")["phone"] == "0161 912 6000"
    assert not db.conn.in_transaction
