"""Shared fixtures: an app on a temporary database holding a few known assets."""

from __future__ import annotations

import pytest

from assetmap import create_app
from assetmap.store import assets as store
from assetmap.store import connect, initialise
from assetmap.validation import validate_asset

HOSTILE_NAME = "<img src=x onerror=alert(1)>${alert(2)}"
HOSTILE_DESCRIPTION = "Back`tick` and ${alert(3)} and </script><script>alert(4)</script>"


def make_asset(**overrides) -> dict:
    """A valid raw asset in Sale, Trafford; overrides change any field."""
    data = {
        "id": "sale-walking-group",
        "name": "Sale Walking Group",
        "description": "A friendly walk round Sale Water Park, then tea.",
        "kind": "group",
        "strand": "access_community_resources",
        "approach": "pathways_to_participation",
        "categories": ["walking", "physical_activity"],
        "audiences": ["adults", "older_people"],
        "postcode": "M33 7ZF",
        "address": "Rifle Road, Sale",
        "lat": 53.4263,
        "lon": -2.3034,
        "cost": "free",
        "schedule": {
            "sessions": [
                {"day": "tuesday", "frequency": "weekly", "start": "10:00", "end": "12:00"}
            ],
            "notes": "",
        },
        "phone": "0161 912 3000",
        "contact_name": "Sam Example",
        "contact_phone": "07700 900123",
        "internal_notes": "Sam prefers calls after 2pm.",
        "self_referral": True,
        "source": "tests",
        "last_verified": "2025-06-01",
    }
    data.update(overrides)
    return data


SAMPLE = [
    make_asset(),
    make_asset(
        id="altrincham-library",
        name="Altrincham Library",
        kind="place",
        approach="community_hubs",
        categories=["learning_skills"],
        lat=53.3871,
        lon=-2.3522,
        postcode="WA14 1AH",
        address="2 Pott Street, Altrincham",
    ),
    make_asset(
        id="stretford-peer-support",
        name="Stretford Peer Support",
        kind="group",
        strand="volunteer_peer_roles",
        approach="peer_support",
        categories=["mental_wellbeing"],
        lat=53.4466,
        lon=-2.3098,
        postcode="M32 9BD",
    ),
    make_asset(
        id="urmston-planning-forum",
        name="Urmston Planning Forum",
        kind="group",
        strand="collaborations_partnerships",
        approach="community_engagement_in_planning",
        categories=[],
        lat=53.4487,
        lon=-2.3547,
        postcode="M41 0TJ",
    ),
    make_asset(
        id="partington-community-garden",
        name="Partington Community Garden",
        kind="activity",
        strand="strengthening_communities",
        approach="asset_based_methods",
        categories=["gardening_nature"],
        lat=53.4189,
        lon=-2.4262,
        postcode="M31 4FA",
    ),
    make_asset(
        id="hostile-example",
        name=HOSTILE_NAME,
        description=HOSTILE_DESCRIPTION,
        lat=53.4300,
        lon=-2.3200,
        postcode="M33 7WR",
    ),
    make_asset(
        id="closed-lunch-club",
        name="Closed Lunch Club",
        status="closed",
        categories=["lunch_clubs_food"],
        lat=53.4250,
        lon=-2.3100,
    ),
]


def load_sample(db_path) -> None:
    """Create the schema and save SAMPLE (each validated, as every write is)."""
    initialise(db_path)
    db = connect(db_path)
    records = []
    for raw in SAMPLE:
        result = validate_asset(raw)
        assert result.ok, result.errors
        records.append(result.record)
    store.save_assets(db, records, who="tests")
    db.close()


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "assetmap.db"


@pytest.fixture
def app(db_path):
    load_sample(db_path)
    return create_app({"TESTING": True, "ASSETMAP_DB": str(db_path), "SECRET_KEY": "test-only"})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    database = connect(app.config["ASSETMAP_DB"])
    yield database
    database.close()
