"""The search page and GET /api/v1/search, on the sample and on the real demo data."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from assetmap import create_app
from assetmap.record.fields import PROFESSIONAL_FIELD_NAMES
from tests.engines import new_target
from tests.test_imports_support import build_import_db

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def searchable(trafford_db_path):
    """A client of the sample assets with Trafford's postcodes."""
    return create_app({"ASSETMAP_DB": str(trafford_db_path), "SECRET_KEY": "t"}).test_client()


def test_the_search_page_starts_with_an_empty_form(client):
    page = client.get("/search").get_data(as_text=True)
    assert 'id="search-postcode"' in page and "found within" not in page


def test_a_link_worker_finds_free_walking_group_within_2km(searchable):
    page = searchable.get("/search?postcode=m337zf&radius_km=2&q=walking&free=true")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "found within 2 km of M33 7ZF" in text
    names = re.findall(r'<a href="/assets/[^"]+">([^<]+)</a></h3>', text)
    assert "Sale Walking Group" in names and "Altrincham Library" not in names
    assert "Next: Tuesday" in text and "min walk" in text
    assert 'class="search-map"' in text


def test_no_results_suggest_a_wider_search_or_fewer_filters(searchable):
    text = searchable.get("/search?postcode=M33+7ZF&radius_km=0.5&category=heritage").get_data(
        as_text=True
    )
    assert "0 found" in text
    assert "Search within 1.25 km" in text and "Search without the filters" in text


@pytest.mark.parametrize(
    "query, status, words",
    [
        ("postcode=notapostcode", 422, "is not a UK postcode"),
        ("postcode=M33+7ZF&radius_km=80", 400, "radius_km"),
        ("postcode=M33+7ZF&day=someday", 400, "day"),
    ],
)
def test_bad_searches_are_explained_on_the_page(searchable, query, status, words):
    response = searchable.get(f"/search?{query}")
    assert response.status_code == status
    assert words in response.get_data(as_text=True)


def test_the_api_answers_geojson_sorted_by_distance_with_walking_times(searchable):
    body = searchable.get("/api/v1/search?postcode=M33 7ZF&radius_km=20&limit=3").get_json()
    assert body["type"] == "FeatureCollection"
    assert body["centre"]["resolved_by"] == "postcode"
    distances = [f["properties"]["distance_m"] for f in body["features"]]
    assert distances == sorted(distances) and len(distances) == 3
    first = body["features"][0]["properties"]
    assert first["walking_minutes"] >= math.ceil(first["distance_m"] * 1.3 / 80) - 1
    assert body["total"] == 6 and body["next"].endswith("offset=3")
    for name in PROFESSIONAL_FIELD_NAMES:
        assert name not in first


def test_the_api_names_a_bad_parameter(searchable):
    response = searchable.get("/api/v1/search?postcode=M33 7ZF&limit=x")
    assert response.status_code == 400
    assert response.get_json()["details"] == {"parameter": "limit"}
    invalid = searchable.get("/api/v1/search?postcode=XX")
    assert invalid.status_code == 422
    assert invalid.get_json()["details"]["reason"] == "invalid"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo's real Trafford assets and postcodes."""
    db_path = build_import_db(new_target(tmp_path_factory.mktemp("demo"), keep=True), demo=True)
    return create_app({"ASSETMAP_DB": str(db_path), "SECRET_KEY": "t"}).test_client()


def haversine_m(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(a))


@pytest.mark.parametrize(
    "postcode, radius_km",
    [("M33 7ZF", 1), ("WA14 1AH", 3), ("M32 0FP", 2), ("M41 0TJ", 5), ("M31 4FA", 10)],
)
def test_search_agrees_with_a_brute_force_check_over_the_assets_api(demo, postcode, radius_km):
    everything, url = [], "/api/v1/assets?limit=1000"
    while url:
        page = demo.get(url).get_json()
        everything += page["features"]
        url = page["next"]
    answer = demo.get(f"/api/v1/search?postcode={postcode}&radius_km={radius_km}&limit=200")
    body = answer.get_json()
    lat, lon = body["centre"]["lat"], body["centre"]["lon"]
    expected = sorted(
        (
            haversine_m(lat, lon, f["geometry"]["coordinates"][1], f["geometry"]["coordinates"][0]),
            f["id"],
        )
        for f in everything
        if f["properties"]["status"] == "active"
    )
    expected = [asset_id for distance, asset_id in expected if distance <= radius_km * 1000]
    assert body["total"] == len(expected)
    assert [f["id"] for f in body["features"]] == expected[:200]


# Issue 15, items 7 and 9: the search page's words, places, limits and several interests ----


def test_several_interests_find_any_of_them_and_say_which_each_matched(searchable):
    text = searchable.get("/search?postcode=M33+7ZF&radius_km=20&q=walking,+gardening").text
    assert "Places matching any of: walking, gardening." in text
    names = re.findall(r'<a href="/assets/[^"]+">([^<]+)</a></h3>', text)
    assert "Sale Walking Group" in names and "Partington Community Garden" in names
    assert "Matches walking, gardening" in text and "Matches walking (1 of 2)" in text
    body = searchable.get("/api/v1/search?postcode=M33+7ZF&radius_km=20&q=walking+gardening")
    matched = {f["id"]: f["properties"]["matched"] for f in body.get_json()["features"]}
    assert matched["sale-walking-group"] == ["walking"]
    first = body.get_json()["features"][0]  # the garden's walks match both: it comes first
    assert first["id"] == "partington-community-garden"
    assert first["properties"]["matched"] == ["walking", "gardening"]


def test_the_distance_searched_stays_chosen_after_a_wider_search(searchable):
    text = searchable.get("/search?postcode=M33+7ZF&radius_km=12.5&category=heritage").text
    assert '<option value="12.5" selected>12.5 km</option>' in text
    radius = text.split('id="search-radius_km"')[1].split("</select>")[0]
    assert radius.count(" selected>") == 1
    assert '<option value="2" selected>' in searchable.get("/search?postcode=M33+7ZF").text


@pytest.mark.parametrize(
    "query",
    ["q=walking", "q=walking&radius_km=2&order=distance", "postcode=&q=walking", "day=tuesday"],
)
def test_a_search_without_a_postcode_says_one_is_needed(searchable, query):
    response = searchable.get(f"/search?{query}")
    text = response.text
    assert response.status_code == 400
    assert "Type a postcode to search near" in text
    assert 'aria-invalid="true"' in text and "found within" not in text
    if "q=walking" in query:
        assert 'value="walking"' in text  # what was asked is kept


def test_an_empty_form_is_still_just_the_form(searchable):
    response = searchable.get("/search?radius_km=2&order=distance")
    assert response.status_code == 200 and "Type a postcode" not in response.text


def test_the_field_words_are_for_whoever_searches(searchable, app, sign_in):
    public = searchable.get("/search").text
    assert "What do you enjoy?" in public and "Your age" in public
    assert "Client&#39;s age" not in public and "What they enjoy" not in public
    worker = app.test_client()
    sign_in(worker, "link_worker")
    page = worker.get("/search").text
    assert "What they enjoy" in page and "Client&#39;s age" in page and "Your age" not in page


def test_the_keywords_field_is_capped_and_an_over_long_query_gets_the_apps_own_page(searchable):
    assert 'maxlength="200"' in searchable.get("/search").text
    long = searchable.get("/search?postcode=M33+7ZF&q=" + "walking+" * 600)  # 4,800 characters
    assert long.status_code == 400 and "q" in long.text and "<html" in long.text.lower()
    assert 'id="search-q"' in long.text  # the form, to shorten it
    huge = searchable.get("/search?postcode=M33+7ZF&q=" + "w" * 9000)
    assert huge.status_code == 414 and "The web address is too long" in huge.text


def test_a_search_that_finds_nothing_has_no_map_script(searchable):
    text = searchable.get("/search?postcode=M33+7ZF&radius_km=0.5&category=heritage").text
    assert "0 found" in text and "L.map(" not in text and "search-map" not in text
