"""An asset with no way to contact anyone says what a resident can do instead."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assetmap.record.without_contact import has_contact, what_to_do_instead
from assetmap.store import assets as store
from assetmap.store import connect

DEMO = Path(__file__).resolve().parent.parent / "data" / "assets.geojson"


def demo_record(name: str) -> dict:
    """A record of the demo data as it is shipped (real Trafford open data)."""
    features = json.loads(DEMO.read_text(encoding="utf-8"))["features"]
    (record,) = [f["properties"] for f in features if f["properties"]["name"] == name]
    return record


def test_a_free_public_park_says_just_go_along():
    park = demo_record("Abbotsfield Park")
    assert not has_contact(park)
    assert what_to_do_instead(park) == (
        "Just go along: it is free to visit, and there is no one you need to contact first."
    )


def test_a_place_of_worship_points_to_its_noticeboard_without_inventing_service_times():
    church = demo_record("All Saints' Church")
    advice = what_to_do_instead(church)
    assert advice.startswith("No contact details are recorded for this place of worship.")
    assert "noticeboard" in advice
    assert not any(ch.isdigit() for ch in advice)  # no times made up


def test_a_nature_reserve_with_no_cost_recorded_is_not_promised_to_be_open_or_free():
    reserve = demo_record("Broad Ees Dole")
    advice = what_to_do_instead(reserve)
    assert "may be able to go along yourself" in advice
    assert "free" not in advice


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("Balmoral Road Allotments", "Look for a notice at the gate"),
        ("Grange Road Playing Field", "Clubs and groups that use it are the way in"),
        ("Wood Lane Playing Fields", "it is recorded as free to use"),
    ],
)
def test_allotments_and_sports_grounds_say_how_to_find_who_runs_them(name, words):
    assert words in what_to_do_instead(demo_record(name))


@pytest.mark.parametrize(
    "contact",
    [
        {"phone": "0161 912 3456"},
        {"email": "hello@example.org"},
        {"website": "https://example.org/"},
        {"self_referral": True},
        {"referral_details": "Ask at the library desk."},
    ],
)
def test_any_way_in_means_no_advice(contact):
    assert what_to_do_instead(demo_record("Abbotsfield Park") | contact) is None


def test_a_group_with_no_contact_is_sent_to_a_link_worker():
    group = {"kind": "group", "categories": ["music_singing"], "status": "active"}
    assert what_to_do_instead(group) == (
        "No contact details are recorded for this group. A social prescribing link worker "
        "(ask at your GP surgery) can help you find out more, or see what else is nearby."
    )


def test_a_closed_place_gets_no_advice_to_go_along():
    park = demo_record("Abbotsfield Park") | {"status": "closed"}
    assert what_to_do_instead(park) is None


def test_the_asset_page_shows_the_advice_before_the_details(client, db_path):
    db = connect(db_path)
    try:
        record = store.get_asset(db, "sale-walking-group")
        empty = {"phone": None, "email": None, "website": None, "self_referral": False}
        store.save_asset(
            db, {**record, **empty, "referral_details": None, "kind": "group"}, who="t"
        )
    finally:
        db.close()
    page = client.get("/assets/sale-walking-group").get_data(as_text=True)
    advice = page.index("A social prescribing link worker (ask at your GP surgery)")
    assert advice < page.index('<dl class="asset-details">')
    assert "Ask to join" not in page


def test_an_asset_with_a_phone_gets_no_advice(client):
    page = client.get("/assets/sale-walking-group").get_data(as_text=True)
    assert 'id="what-to-do"' not in page
    assert page.index("Ask to join") < page.index('<dl class="asset-details">')
