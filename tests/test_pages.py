"""Pages people read: home, the map, an asset's page, errors."""

from __future__ import annotations

import re

import pytest

from tests.conftest import HOSTILE_NAME


def test_home_counts_each_strand(client):
    page = client.get("/").get_data(as_text=True)
    assert "Access to community resources</strong></a>:\n    3 listed" in page
    assert "Volunteer and peer roles</strong></a>:\n    1 listed" in page


def test_map_page_loads_only_local_scripts_and_styles(client):
    page = client.get("/map").get_data(as_text=True)
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert sources, "the map page loads no scripts or styles"
    for url in sources:
        assert url.startswith("/"), f"{url} is not served by the app"
    # Under names carrying their bytes' hash (assetmap.web.delivery), so browsers keep them.
    for script in ("vendor/leaflet/leaflet", "vendor/leaflet.markercluster/leaflet.markercluster"):
        assert any(re.fullmatch(rf"/static/{script}\.[0-9a-f]{{12}}\.js", url) for url in sources)
    assert "cdn" not in page.lower()


def test_every_local_script_and_style_on_the_map_page_is_served(client):
    page = client.get("/map").get_data(as_text=True)
    for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
        response = client.get(url)
        response.close()
        assert response.status_code == 200, url


def test_the_map_scripts_hold_no_asset_text(client):
    page = client.get("/map").get_data(as_text=True)
    scripts = " ".join(re.findall(r"<script[^>]*>(.*?)</script>", page, flags=re.S))
    assert "Sale Walking Group" not in scripts
    assert "alert(" not in scripts


def test_the_map_page_lists_the_same_assets_without_javascript(client):
    page = client.get("/map").get_data(as_text=True)
    assert "6 places" in page
    assert '<a href="/assets/sale-walking-group">Sale Walking Group</a>' in page
    assert "When: Every Tuesday, 10:00 to 12:00" in page
    assert "Closed Lunch Club" not in page


@pytest.mark.parametrize(
    "query, expected",
    [
        ("strand=volunteer_peer_roles", ["Stretford Peer Support"]),
        ("category=gardening_nature", ["Partington Community Garden"]),
        ("kind=place", ["Altrincham Library"]),
        ("day=tuesday&kind=activity", ["Partington Community Garden"]),
        ("day=monday", []),
        ("free=true&strand=collaborations_partnerships", ["Urmston Planning Forum"]),
        ("accessible=step_free", []),
    ],
)
def test_map_filters_choose_the_list(client, query, expected):
    page = client.get(f"/map/list?{query}").get_data(as_text=True)
    names = re.findall(r'<h3><a href="/assets/[^"]+">([^<]+)</a></h3>', page)
    assert names == expected
    if not expected:
        assert "Nothing matches. Try fewer filters" in page


def test_a_bad_map_filter_is_a_400_that_names_it(client):
    response = client.get("/map?category=knitting")
    assert response.status_code == 400
    assert "category: &#39;knitting&#39; is not a category" in response.get_data(as_text=True)


def test_map_page_has_a_layer_and_a_legend_entry_per_strand(client):
    page = client.get("/map").get_data(as_text=True)
    for label in (
        "Strengthening communities",
        "Volunteer and peer roles",
        "Collaborations and partnerships",
        "Access to community resources",
    ):
        assert page.count(label) >= 2  # layer control and legend


def test_asset_page_shows_details_in_words(client):
    page = client.get("/assets/sale-walking-group").get_data(as_text=True)
    assert "<h1>Sale Walking Group</h1>" in page
    assert "Every Tuesday, 10:00 to 12:00" in page
    assert "Free" in page and "Walking, Physical activity" in page
    assert "You can ask to join yourself" in page


def test_asset_page_leaves_out_professional_only_details(client):
    page = client.get("/assets/sale-walking-group").get_data(as_text=True)
    assert "Sam Example" not in page and "07700 900123" not in page
    assert "after 2pm" not in page


def test_hostile_text_is_escaped_on_the_asset_page(client):
    page = client.get("/assets/hostile-example").get_data(as_text=True)
    assert HOSTILE_NAME not in page
    assert "&lt;img src=x onerror=alert(1)&gt;${alert(2)}" in page
    assert "<script>alert(4)" not in page


def test_an_unknown_asset_page_is_a_friendly_404(client):
    response = client.get("/assets/nope")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_strand_colours_come_from_the_taxonomy(client):
    response = client.get("/strands.css")
    assert response.mimetype == "text/css"
    assert ".strand-volunteer_peer_roles { --strand-colour: #762a83; }" in response.get_data(
        as_text=True
    )


@pytest.mark.parametrize("url", ["/", "/map", "/assets/sale-walking-group"])
def test_pages_need_no_database_setup_beyond_init(client, url):
    assert client.get(url).status_code == 200


def test_a_database_without_init_gets_a_503_that_says_what_to_do(db_path):
    from assetmap import create_app

    app = create_app({"ASSETMAP_DB": str(db_path), "SECRET_KEY": "x"})
    response = app.test_client().get("/api/v1/assets")
    assert response.status_code == 503
    assert "assetmap init" in response.get_json()["error"]


def test_asset_page_says_when_next_in_words(client):
    from datetime import timedelta

    from assetmap.record import describe

    page = client.get("/assets/sale-walking-group").get_data(as_text=True)
    today = describe.today()
    next_tuesday = today + timedelta(days=(1 - today.weekday()) % 7)
    expected = f"{next_tuesday.strftime('%A')} {next_tuesday.day} {next_tuesday.strftime('%B')}"
    assert f"<strong>Next:</strong> {expected}" in page
    assert "10:00 to 12:00" in page


def test_asset_page_flags_details_checked_over_a_year_ago(client, db_path):
    from assetmap.record import describe
    from assetmap.store import assets, connect

    db = connect(db_path)
    record = assets.get_asset(db, "altrincham-library")
    assets.save_asset(db, {**record, "last_verified": "2018-07-01"}, who="t")
    walking = assets.get_asset(db, "sale-walking-group")
    recent = describe.today().isoformat()
    assets.save_asset(db, {**walking, "last_verified": recent}, who="t")
    db.close()
    page = client.get("/assets/altrincham-library").get_data(as_text=True)
    assert "Over 8 years ago (1 July 2018)" in page and "may be out of date" in page
    assert "<strong>Not checked for over a year.</strong>" in page  # in words, not colour alone
    fresh = client.get("/assets/sale-walking-group").get_data(as_text=True)
    assert "may be out of date" not in fresh and "Not checked for over" not in fresh
    assert "Today (" in fresh


def test_asset_page_has_a_small_map_and_walking_directions(client):
    page = client.get("/assets/sale-walking-group").get_data(as_text=True)
    assert 'class="location-map"' in page
    assert (
        "https://www.openstreetmap.org/directions?engine=fossgis_osrm_foot&amp;route=%3B"
        "53.42630%2C-2.30340" in page
    )


def test_a_list_page_number_past_any_list_is_not_a_server_error(client):
    for page in ("99999999999999999999999", "-5", "two"):
        answer = client.get(f"/map/list?page={page}")
        assert answer.status_code == 200, page


# The list under the map, from a postcode or the person's location: nearest first.
ALL_TRAFFORD = "-2.5,53.35,-2.2,53.5"
NEAR_SALE = "53.4270,-2.3040"  # a few streets from Sale Walking Group


def listed(page: str) -> list[tuple[str, str]]:
    """(name, distance and walking words) of each place in a list page, in order."""
    return re.findall(
        r'<h3><a href="/assets/[^"]+">([^<]+)</a></h3>\s*<p class="result-meta">'
        r'(?:<span class="result-distance">([^<]+)</span>)?',
        page,
    )


def test_the_map_list_from_a_point_is_nearest_first_with_distance_and_walking_time(client):
    page = client.get(
        f"/map/list?bbox={ALL_TRAFFORD}&near={NEAR_SALE}&near_label=M33 7ZF"
    ).get_data(as_text=True)
    assert "6 places in the map area, nearest to M33 7ZF first" in page
    places = listed(page)
    assert [name for name, _ in places][:1] == ["Sale Walking Group"]
    assert all(words for _, words in places), places  # every place says how far
    assert places[-1][0] == "Partington Community Garden"  # the furthest west, last
    # The same distance and walking time the nearby search gives (one place for each fact).
    lat, lon = NEAR_SALE.split(",")
    found = client.get(f"/api/v1/search?lat={lat}&lon={lon}&radius_km=20&limit=50").get_json()
    from assetmap.record import describe

    expected = [
        (
            f["properties"]["name"],
            f"{describe.distance_in_words(f['properties']['distance_m'])} away, "
            f"about {f['properties']['walking_minutes']} min walk",
        )
        for f in found["features"]
    ]
    # The search's values are rounded to 0.1 m; the words are whole tens of metres.
    assert [(n, w) for n, w in places] == [
        (n.replace("<", "&lt;").replace(">", "&gt;"), w) for n, w in expected
    ]


def test_the_map_list_keeps_to_the_view_and_the_filters_when_near_a_point(client):
    small_view = "-2.33,53.42,-2.29,53.44"  # Sale, not Altrincham or Partington
    page = client.get(
        f"/map/list?bbox={small_view}&near={NEAR_SALE}&strand=access_community_resources"
    ).get_data(as_text=True)
    names = [name for name, _ in listed(page)]
    assert "Altrincham Library" not in names and "Partington Community Garden" not in names
    assert "nearest to 53.42700, -2.30400 first" in page  # no words given: the point itself


def test_the_map_list_without_a_point_stays_by_name(client):
    page = client.get(f"/map/list?bbox={ALL_TRAFFORD}").get_data(as_text=True)
    names = [name for name, _ in listed(page)]
    assert names == sorted(names, key=str.casefold)
    assert "nearest" not in page and "min walk" not in page


@pytest.mark.parametrize("near", ["53.4", "north,west", "95,-2.3", "nan,1"])
def test_a_bad_point_for_the_map_list_is_a_400_that_names_it(client, near):
    response = client.get(f"/map/list?bbox={ALL_TRAFFORD}&near={near}")
    assert response.status_code == 400
    assert "near:" in response.get_data(as_text=True)


def test_a_view_too_full_to_sort_says_to_zoom_in(client, monkeypatch):
    from assetmap.search import in_view

    monkeypatch.setattr(in_view, "MAX_SORTED", 2)
    page = client.get(f"/map/list?bbox={ALL_TRAFFORD}&near={NEAR_SALE}").get_data(as_text=True)
    assert "too many places in the map area to put the nearest first: zoom in" in page
    names = [name for name, _ in listed(page)]
    assert names == sorted(names, key=str.casefold) and len(names) == 6
