"""What the demo finds for the words people type, near real Trafford postcodes.

A newcomer tries the demo with an everyday word near where they live: "walking" near Sale,
"swimming" near Altrincham. Each answer here is checked against what that person would
expect, through the real API on a database built as `make run` builds it (the same three
commands, from data/assets.geojson and the Trafford postcode table). A change to the demo's
data, its tagging rules or the search that makes an answer worse fails here.

What "expect" means is written into each test: every result is about the word (a walking
search lists walks, parks and nature reserves, never a gym), what should come first does, and
nothing a person would look for is missed (checked against every asset in the demo file).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

from assetmap import create_app
from assetmap.search.nearby import haversine_m
from tests.engines import new_target

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "data" / "assets.geojson"
POSTCODES = ROOT / "data" / "postcodes" / "trafford_postcodes_onspd_2022-06_lsoa11.csv"

# Postcodes the demo table holds (M41 0JD, first used for Urmston, is not in the 2022 extract,
# and a search no longer guesses a centre for a postcode the table is not known to hold in full).
SALE, ALTRINCHAM, STRETFORD, URMSTON = "M33 7ZF", "WA14 1EP", "M32 0XN", "M41 0JB"
TOWNS = (SALE, ALTRINCHAM, STRETFORD, URMSTON)
RADIUS_KM = 2  # the search's default, which is what a newcomer gets

COMBAT_SPORTS = re.compile(r"martial|karate|judo|ju[- ]?jitsu|aikido|tae kwon|kickbox", re.I)


@pytest.fixture(scope="module")
def demo_client(tmp_path_factory):
    """A test client on the demo database, built with `make run`'s commands (see Makefile)."""
    return demo_app_at(new_target(tmp_path_factory.mktemp("demo"), keep=True)).test_client()


def demo_app_at(path):
    """An app on a new demo database at `path`, built with `make run`'s commands: the assets
    and the postcodes."""
    app = create_app({"TESTING": True, "ASSETMAP_DB": str(path), "SECRET_KEY": "test-only"})
    runner = app.test_cli_runner()
    for args in (
        ["init"],
        ["load", str(ASSETS), "--who", "make run (demo data)"],
        ["postcodes", "load", str(POSTCODES)],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    return app


def search(client, postcode: str, q: str, **more) -> list[dict]:
    """The properties of every asset /api/v1/search finds, in the order it gives them."""
    answer = client.get(
        "/api/v1/search",
        query_string={"postcode": postcode, "q": q, "radius_km": RADIUS_KM, "limit": 200, **more},
    )
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["total"] == len(body["features"])
    return [feature["properties"] for feature in body["features"]]


@cache
def demo_assets() -> list[dict]:
    with ASSETS.open(encoding="utf-8") as f:
        features = json.load(f)["features"]
    return [
        {
            **f["properties"],
            "lon": f["geometry"]["coordinates"][0],
            "lat": f["geometry"]["coordinates"][1],
        }
        for f in features
    ]


def within(client, postcode: str, wanted) -> set[str]:
    """The ids of the demo's assets within the radius of the postcode that `wanted` picks,
    by distance from where the search placed the postcode (a brute-force scan of the file)."""
    answer = client.get("/api/v1/search", query_string={"postcode": postcode, "limit": 1})
    centre = answer.get_json()["centre"]
    return {
        a["id"]
        for a in demo_assets()
        if wanted(a)
        and haversine_m(centre["lat"], centre["lon"], a["lat"], a["lon"]) <= RADIUS_KM * 1000
    }


def text(asset: dict) -> str:
    return f"{asset['name']} {asset['description'] or ''}"


def is_illustrative(asset: dict) -> bool:
    return asset["source"] == "illustrative"


@pytest.mark.parametrize("postcode", TOWNS)
def test_walking_finds_real_parks_and_walks_near_every_town(demo_client, postcode):
    found = search(demo_client, postcode, "walking")
    assert all("walking" in a["categories"] for a in found), [a["id"] for a in found]
    real = [a for a in found if not is_illustrative(a)]
    assert len(real) >= 3, [a["id"] for a in found]
    assert within(demo_client, postcode, lambda a: "walking" in a["categories"]) == {
        a["id"] for a in found
    }


@pytest.mark.parametrize("postcode", TOWNS)
def test_gardening_finds_allotments_and_garden_groups_first(demo_client, postcode):
    found = search(demo_client, postcode, "gardening")
    assert found, postcode
    assert "gardening_nature" in found[0]["categories"], found[0]["id"]
    assert any("Allotments" in a["name"] for a in found)
    for asset in found:
        assert "gardening_nature" in asset["categories"] or "Garden" in asset["name"], asset["id"]
    allotments = within(demo_client, postcode, lambda a: a["id"].startswith("allotment-"))
    assert allotments <= {a["id"] for a in found}


@pytest.mark.parametrize("postcode", TOWNS)
def test_swimming_finds_pools_and_only_pools(demo_client, postcode):
    found = search(demo_client, postcode, "swimming")
    assert found, postcode
    for asset in found:
        assert "swimming pool" in asset["description"], asset["id"]
        assert asset["phone"] or asset["email"] or asset["website"], asset["id"]
    pools = within(demo_client, postcode, lambda a: "swimming pool" in (a["description"] or ""))
    assert pools == {a["id"] for a in found}


def test_swimming_near_sale_puts_the_leisure_centre_first_with_how_to_pay(demo_client):
    first = search(demo_client, SALE, "swimming")[0]
    assert first["name"] == "Sale Leisure Centre"
    assert first["cost"] == "paid"
    assert "pay as you go" in first["cost_details"]
    assert "step_free" in first["accessibility"]


@pytest.mark.parametrize("postcode", (SALE, ALTRINCHAM, STRETFORD))
def test_art_finds_arts_groups_not_martial_arts_or_artificial_pitches(demo_client, postcode):
    found = search(demo_client, postcode, "art")
    assert found, postcode
    assert "arts_creativity" in found[0]["categories"], found[0]["id"]
    for asset in found:
        assert not COMBAT_SPORTS.search(text(asset)), asset["id"]
        assert "pitch" not in text(asset), asset["id"]
    arts = within(demo_client, postcode, lambda a: "arts_creativity" in a["categories"])
    assert arts <= {a["id"] for a in found}


def test_no_martial_arts_club_in_the_demo_matches_art(demo_client):
    """The 2018 sports clubs (11 of them martial-arts clubs, described as "Martial Arts club")
    are not in the demo; no asset left describes a combat sport as arts."""
    assert not [a["id"] for a in demo_assets() if COMBAT_SPORTS.search(text(a))]
    assert not [a["id"] for a in demo_assets() if a["source"] == "trafford_sports_clubs_2018"]


@pytest.mark.parametrize("postcode", TOWNS)
def test_coffee_finds_only_coffee_and_cafes(demo_client, postcode):
    for asset in search(demo_client, postcode, "coffee"):
        assert re.search(r"coffee|caf[eé]", text(asset), re.I), asset["id"]


def test_coffee_near_altrincham_finds_the_carers_coffee_group(demo_client):
    found = search(demo_client, ALTRINCHAM, "coffee")
    assert "illustrative-altrincham-carers-peer-mentoring" in [a["id"] for a in found]


def test_cafe_near_stretford_finds_the_community_cafe(demo_client):
    found = search(demo_client, STRETFORD, "cafe")
    assert "mh-target-cafe" in [a["id"] for a in found]


@pytest.mark.xfail(
    strict=True,
    reason="search has no synonyms yet: 'coffee' does not find a record that says 'cafe'",
)
def test_coffee_near_stretford_finds_the_community_cafe(demo_client):
    found = search(demo_client, STRETFORD, "coffee")
    assert "mh-target-cafe" in [a["id"] for a in found]


@pytest.mark.parametrize("postcode", TOWNS)
def test_volunteering_finds_volunteering_opportunities(demo_client, postcode):
    found = search(demo_client, postcode, "volunteering")
    assert found, postcode
    for asset in found:
        assert asset["kind"] == "volunteering" or "volunteering" in asset["categories"], asset["id"]


def test_a_search_near_sale_is_not_dominated_by_one_source(demo_client):
    """Everything within 2 km of Sale: no one source is more than half of it."""
    answer = demo_client.get(
        "/api/v1/search", query_string={"postcode": SALE, "radius_km": 2, "limit": 200}
    )
    found = [f["properties"] for f in answer.get_json()["features"]]
    assert len(found) >= 20
    sources = [a["source"] for a in found]
    assert max(sources.count(s) for s in set(sources)) <= len(found) / 2, sorted(sources)


def test_every_real_group_activity_or_service_says_how_to_reach_it():
    """Organisations need a phone, email or website to be joined; places (parks, allotments,
    places of worship, sports sites) can be visited. So the 2018 sports clubs, which had
    nothing but a name and an address, are left out of the demo."""
    unreachable = [
        a["id"]
        for a in demo_assets()
        if a["kind"] != "place"
        and not is_illustrative(a)
        and not (a["phone"] or a["email"] or a["website"])
    ]
    assert unreachable == []


def first_of_each_source() -> list[dict]:
    seen: dict[str, dict] = {}
    for asset in demo_assets():
        seen.setdefault(asset["source"], asset)
    return list(seen.values())


@pytest.mark.parametrize("asset", first_of_each_source(), ids=lambda a: a["source"])
def test_an_asset_page_of_every_source_opens_with_what_the_source_gave(demo_client, asset):
    page = demo_client.get(f"/assets/{asset['id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count("<h1") == 1
    for given in (asset["phone"], asset["website"]):
        if given:
            assert given in html, (asset["id"], given)


def test_the_public_search_page_lists_swimming_pools_near_sale(demo_client):
    page = demo_client.get("/search", query_string={"postcode": SALE, "q": "swimming"})
    assert page.status_code == 200
    assert "Sale Leisure Centre" in page.get_data(as_text=True)
