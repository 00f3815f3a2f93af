"""The JSON API: GeoJSON listings with paging and filters, one asset, taxonomy, OpenAPI."""

from __future__ import annotations

import re

import pytest

from assetmap.record.fields import PROFESSIONAL_FIELD_NAMES


def test_assets_are_a_geojson_feature_collection_without_closed_ones(client):
    response = client.get("/api/v1/assets")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    assert body["total"] == 6 and len(body["features"]) == 6 and body["next"] is None
    ids = {f["id"] for f in body["features"]}
    assert "closed-lunch-club" not in ids
    feature = next(f for f in body["features"] if f["id"] == "sale-walking-group")
    assert feature["geometry"] == {"type": "Point", "coordinates": [-2.3034, 53.4263]}
    assert feature["properties"]["strand"] == "access_community_resources"


def test_paging_follows_next_until_every_asset_is_seen(client):
    seen, url = [], "/api/v1/assets?limit=2"
    while url:
        body = client.get(url).get_json()
        assert body["total"] == 6 and len(body["features"]) <= 2
        seen.extend(f["id"] for f in body["features"])
        url = body["next"]
    assert len(seen) == len(set(seen)) == 6


def test_limit_is_capped_at_1000(client):
    assert client.get("/api/v1/assets?limit=5000").get_json()["limit"] == 1000


@pytest.mark.parametrize(
    "query, expected",
    [
        ("strand=volunteer_peer_roles", {"stretford-peer-support"}),
        (
            "strand=volunteer_peer_roles,strengthening_communities",
            {"stretford-peer-support", "partington-community-garden"},
        ),
        (
            "strand=volunteer_peer_roles&strand=strengthening_communities",
            {"stretford-peer-support", "partington-community-garden"},
        ),
        ("kind=place", {"altrincham-library"}),
        ("bbox=-2.36,53.38,-2.34,53.39", {"altrincham-library"}),
        ("kind=place&bbox=-2.31,53.42,-2.30,53.43", set()),
    ],
)
def test_filters_choose_assets(client, query, expected):
    body = client.get(f"/api/v1/assets?{query}").get_json()
    assert {f["id"] for f in body["features"]} == expected
    assert body["total"] == len(expected)


@pytest.mark.parametrize(
    "query, parameter, words",
    [
        ("strand=walking", "strand", "is not a strand"),
        ("kind=club", "kind", "is not a kind"),
        ("bbox=1,2,3", "bbox", "four numbers"),
        ("bbox=a,b,c,d", "bbox", "not a number"),
        ("bbox=-2,54,-3,53", "bbox", "must not exceed"),
        ("bbox=nan,1,2,3", "bbox", "finite"),
        ("limit=ten", "limit", "not a whole number"),
        ("limit=0", "limit", "at least 1"),
        ("offset=-1", "offset", "at least 0"),
    ],
)
def test_bad_parameters_get_a_400_naming_the_parameter(client, query, parameter, words):
    response = client.get(f"/api/v1/assets?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["details"] == {"parameter": parameter}
    assert body["error"].startswith(parameter + ":") and words in body["error"]


def test_one_asset_by_id(client):
    response = client.get("/api/v1/assets/altrincham-library")
    assert response.status_code == 200
    assert response.get_json()["properties"]["name"] == "Altrincham Library"


def test_an_unknown_asset_is_a_404_json_error(client):
    response = client.get("/api/v1/assets/no-such-thing")
    assert response.status_code == 404
    assert "no-such-thing" in response.get_json()["error"]


def test_an_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]


def test_the_public_api_never_shows_professional_only_fields(client):
    body = client.get("/api/v1/assets").get_data(as_text=True)
    one = client.get("/api/v1/assets/sale-walking-group").get_data(as_text=True)
    for text in (body, one):
        for name in PROFESSIONAL_FIELD_NAMES:
            assert f'"{name}"' not in text
        assert "Sam Example" not in text and "07700 900123" not in text


def test_taxonomy_lists_the_four_strands_with_approaches(client):
    body = client.get("/api/v1/taxonomy").get_json()
    assert [s["slug"] for s in body["strands"]] == [
        "strengthening_communities",
        "volunteer_peer_roles",
        "collaborations_partnerships",
        "access_community_resources",
    ]
    assert {"slug": "peer_support", "label": "Peer support"} in body["strands"][1]["approaches"]
    assert {t["slug"] for t in body["kind"]} == {
        "group",
        "activity",
        "service",
        "place",
        "volunteering",
    }


def test_openapi_describes_every_api_route(app, client):
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    api_rules = {
        re.sub(r"<[^>]+>", "{id}", rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
    }
    assert api_rules == set(document["paths"])
    properties = document["components"]["schemas"]["Asset"]["properties"]["properties"]
    assert "contact_name" not in properties["properties"]


def test_fields_sends_only_the_properties_asked_for(client):
    body = client.get("/api/v1/assets?fields=name,strand&limit=1").get_json()
    assert list(body["features"][0]["properties"]) == ["name", "strand"]
    assert "fields=name" in (body["next"] or "")


def test_fields_cannot_reach_professional_only_details(client):
    response = client.get("/api/v1/assets?fields=name,contact_name")
    assert response.status_code == 400
    assert response.get_json()["details"] == {"parameter": "fields"}


@pytest.mark.parametrize(
    "query, expected",
    [
        ("category=gardening_nature", {"partington-community-garden"}),
        ("day=tuesday&kind=place", {"altrincham-library"}),
        ("free=true&kind=place", {"altrincham-library"}),
        ("accessible=step_free", set()),
    ],
)
def test_listing_filters_by_activity_day_cost_and_access(client, query, expected):
    body = client.get(f"/api/v1/assets?{query}").get_json()
    assert {f["id"] for f in body["features"]} == expected


def test_a_bad_yes_no_parameter_is_named(client):
    response = client.get("/api/v1/assets?free=perhaps")
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("free:")
