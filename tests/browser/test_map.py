"""The map in a real browser: markers for every strand, the layer control, and hostile text."""

from __future__ import annotations

import pytest

from assetmap.record import taxonomy
from tests.browser.conftest import LIVE_DB, serving, wait_until, watched_page
from tests.conftest import HOSTILE_DESCRIPTION, HOSTILE_NAME

pytestmark = pytest.mark.browser


def open_map(page, query=""):
    page.goto(f"{page.base_url}/map{query}")
    page.wait_for_selector(".folium-map[data-assets-loaded]")
    loaded = page.get_attribute(".folium-map", "data-assets-loaded")
    assert loaded not in (None, "error"), page.text_content("#map-status")
    return int(loaded)


def markers(page, strand):
    """Markers and clusters of a strand that are on the map now."""
    return page.locator(f".leaflet-marker-pane .strand-{strand}").count()


@pytest.fixture(scope="module")
def production_tiles(live_server):
    """The live server's database served with the production tile URL (the live server's
    maps draw blank tiles written into the page)."""
    from assetmap import create_app

    app = create_app({"ASSETMAP_DB": str(LIVE_DB["path"]), "SECRET_KEY": "browser-tests-only"})
    with serving(app) as url:
        yield url


def test_the_map_shows_markers_for_every_strand(browser, production_tiles):
    page = watched_page(browser, production_tiles, tile_server=True)
    try:
        assert open_map(page) == 6
        for strand in taxonomy.STRANDS:
            assert markers(page, strand.slug) > 0, strand.slug
        assert page.text_content("#map-status") == "Showing 6 places."
        # The tiles come from the tile server: the Content Security Policy lets them in.
        page.wait_for_selector(".leaflet-tile-loaded")
        assert page.watch.tiles
        assert page.watch.errors == [] and page.watch.outside_requests == []
    finally:
        page.context.close()


def test_the_layer_control_hides_and_shows_one_strand(page):
    open_map(page)
    control = page.locator(".leaflet-control-layers")
    checkbox = control.get_by_role("checkbox", name="Volunteer and peer roles")
    checkbox.uncheck()
    assert markers(page, "volunteer_peer_roles") == 0
    for other in (
        "strengthening_communities",
        "collaborations_partnerships",
        "access_community_resources",
    ):
        assert markers(page, other) > 0
    checkbox.check()
    assert markers(page, "volunteer_peer_roles") > 0


def test_hostile_text_shows_as_text_and_never_runs(page):
    open_map(page, "?asset=hostile-example")
    popup = page.wait_for_selector(".leaflet-popup .asset-popup h2")
    assert popup.text_content() == HOSTILE_NAME
    page.click(".leaflet-popup a")
    page.wait_for_url("**/assets/hostile-example")
    assert page.text_content("h1") == HOSTILE_NAME
    assert page.text_content(".asset-description") == HOSTILE_DESCRIPTION
    assert page.watch.dialogs == []
    assert page.watch.errors == []


def test_markers_open_a_popup_with_name_kind_strand_and_a_link(page):
    open_map(page, "?asset=stretford-peer-support")
    popup = page.wait_for_selector(".leaflet-popup .asset-popup")
    text = popup.text_content()
    assert "Stretford Peer Support" in text
    assert "Group · Volunteer and peer roles" in text
    assert page.get_attribute(".leaflet-popup a", "href") == "/assets/stretford-peer-support"


def test_filters_change_the_markers_and_the_list_together(page):
    open_map(page)
    page.locator("#map-filters").get_by_role("checkbox", name="Volunteer and peer roles").check()
    page.wait_for_selector(".folium-map[data-assets-loaded='1']")
    assert markers(page, "volunteer_peer_roles") == 1
    assert markers(page, "access_community_resources") == 0
    assert page.text_content("#results-heading") == "1 place"
    assert "strand=volunteer_peer_roles" in page.url  # shareable, and the back button works
    page.select_option("#filter-category", "mental_wellbeing")
    page.wait_for_selector(".folium-map[data-assets-loaded='1']")
    page.select_option("#filter-day", "monday")
    page.wait_for_selector(".folium-map[data-assets-loaded='0']")
    assert "Nothing matches" in page.text_content("#results")
    assert page.watch.errors == []


def test_search_this_area_lists_only_what_is_in_view(page):
    open_map(page, "?asset=altrincham-library")
    page.wait_for_selector(".leaflet-popup")
    page.click("#search-area")
    page.locator("#results-heading", has_text="map area").wait_for()
    assert page.text_content("#results-heading") == "1 place in the map area"
    assert "Altrincham Library" in page.text_content("#results")


def test_the_postcode_box_moves_the_map_and_lists_what_is_around(page, live_server):
    from tests.browser.conftest import LIVE_DB
    from tests.test_imports_support import load_trafford_postcodes

    load_trafford_postcodes(LIVE_DB["path"])
    open_map(page)
    page.fill("#map-postcode", "wa14 1ah")
    page.click("#postcode-jump button")
    page.locator("#map-status", has_text="centred on WA14 1AH").wait_for()
    page.locator("#results-heading", has_text="map area").wait_for()
    assert "Altrincham Library" in page.text_content("#results")
    page.fill("#map-postcode", "not a postcode")
    page.click("#postcode-jump button")
    page.locator("#map-status", has_text="is not a UK postcode").wait_for()
    # The browser logs the API's 422 answer itself; nothing else may go wrong.
    assert [e for e in page.watch.errors if "status of 422" not in e] == []


# Issue 15: the list after Go or Use my location; the keyboard on the map; phones.


def list_names(page):
    return page.locator("#results h3 a").all_text_contents()


def test_go_lists_what_is_in_view_nearest_first_with_the_walking_time(page, live_server):
    from tests.browser.conftest import LIVE_DB
    from tests.test_imports_support import load_trafford_postcodes

    load_trafford_postcodes(LIVE_DB["path"])
    open_map(page)
    assert len(list_names(page)) == 6  # every place, A to Z, before a postcode is given
    page.fill("#map-postcode", "WA14 1AH")
    page.click("#postcode-jump button")
    page.locator("#results-heading", has_text="nearest to WA14 1AH first").wait_for()
    assert list_names(page) == ["Altrincham Library"]
    # The same walking time /search gives for it from that postcode.
    api = page.request.get(f"{live_server}/api/v1/search?postcode=WA14 1AH&radius_km=2").json()
    hit = next(f for f in api["features"] if f["properties"]["name"] == "Altrincham Library")
    minutes = hit["properties"]["walking_minutes"]
    assert f"about {minutes} min walk" in page.text_content("#results .result-distance")
    # A filter chosen afterwards keeps the map there and the list nearest first.
    page.locator("#map-filters").get_by_role("checkbox", name="Place").check()
    page.wait_for_selector(".folium-map[data-assets-loaded='1']")
    page.locator("#results-heading", has_text="nearest to WA14 1AH first").wait_for()
    assert list_names(page) == ["Altrincham Library"]
    assert page.watch.errors == []


def test_use_my_location_lists_what_is_around_it_nearest_first(browser, live_server):
    from tests.browser.conftest import watched_page

    page = watched_page(
        browser,
        live_server,
        geolocation={"latitude": 53.4280, "longitude": -2.3060},
        permissions=["geolocation"],
    )
    try:
        open_map(page)
        page.click("#use-location")
        page.locator("#results-heading", has_text="nearest to your location first").wait_for()
        names = list_names(page)
        assert names[0] == "Sale Walking Group", names
        assert "Partington Community Garden" not in names  # 8 km away, not in view
        walks = page.locator("#results .result-distance").all_text_contents()
        assert len(walks) == len(names) and all("min walk" in w for w in walks)
        assert page.watch.errors == []
    finally:
        page.context.close()


def test_a_skip_link_passes_the_map_and_the_list_is_a_few_tabs_on(page):
    open_map(page)
    skip = page.get_by_role("link", name="Skip the map and go to the list")
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == skip.text_content():
            break
    else:
        pytest.fail("the skip link cannot be reached with the Tab key")
    assert skip.is_visible()  # shown when it has the focus
    page.keyboard.press("Enter")
    for _ in range(3):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('#results h3') !== null"):
            break
    else:
        pytest.fail("the list is more than three Tabs past the skip link")


def test_markers_and_clusters_are_not_tab_stops(page):
    open_map(page)
    page.wait_for_selector(".leaflet-marker-pane .asset-marker")
    tab_stops = page.evaluate(
        "[...document.querySelectorAll('.leaflet-marker-pane > *')]"
        ".filter(e => e.tabIndex >= 0).length"
    )
    assert tab_stops == 0
    assert page.locator(".leaflet-marker-pane .asset-cluster").count() > 0  # clusters checked


def focused(page, selector):
    return page.evaluate(f"document.activeElement.closest({selector!r}) !== null")


def test_enter_on_a_marker_moves_focus_into_its_popup_and_esc_brings_it_back(page):
    open_map(page, "?asset=stretford-peer-support")
    page.wait_for_selector(".leaflet-popup")
    page.keyboard.press("Escape")  # the popup opened by the address did not take the focus
    page.evaluate(
        "window[JSON.parse(document.getElementById('asset-map-config')"
        ".textContent).map].closePopup()"
    )
    marker = page.locator(".asset-marker[title='Stretford Peer Support']")
    marker.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(".leaflet-popup")
    assert focused(page, ".leaflet-popup")
    assert page.evaluate("document.activeElement.textContent") == "Stretford Peer Support"
    page.keyboard.press("Tab")  # the link is the next stop
    assert page.evaluate("document.activeElement.textContent").startswith("Details of")
    page.keyboard.press("Escape")
    page.locator(".leaflet-popup").wait_for(state="detached")  # after its fade
    assert page.evaluate("document.activeElement.title") == "Stretford Peer Support"
    assert page.watch.errors == []


def test_show_on_the_map_opens_the_popup_and_esc_returns_to_the_list(page):
    open_map(page)
    button = page.get_by_role("button", name="Show Stretford Peer Support on the map")
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(".leaflet-popup .asset-popup")
    wait_until(page, "document.activeElement.closest('.leaflet-popup') !== null")
    assert "Stretford Peer Support" in page.text_content(".leaflet-popup")
    page.keyboard.press("Escape")
    page.locator(".leaflet-popup").wait_for(state="detached")  # after its fade
    assert page.evaluate("document.activeElement.dataset.asset") == "stretford-peer-support"


PHONE = {"width": 320, "height": 640}


def test_on_a_phone_the_postcode_and_filters_come_first_and_the_key_is_folded(browser, live_server):
    from tests.browser.conftest import watched_page

    page = watched_page(browser, live_server, viewport=PHONE)
    try:
        open_map(page)
        top = {
            name: page.locator(selector).bounding_box()
            for name, selector in {
                "postcode": "#map-postcode",
                "filters": ".filters-box summary",
                "map": ".map-frame",
            }.items()
        }
        assert top["postcode"]["y"] < top["map"]["y"] and top["filters"]["y"] < top["map"]["y"]
        assert top["postcode"]["height"] >= 44
        assert page.locator(".filters-box").get_attribute("open") is None  # folded
        assert page.locator("details.legend").get_attribute("open") is None
        assert page.locator(".leaflet-control-layers-expanded").count() == 0
        # Nothing lies over the zoom buttons: the point at their centre is the button.
        page.locator(".map-frame").scroll_into_view_if_needed()
        for name in ("Zoom in", "Zoom out"):
            box = page.get_by_role("button", name=name).bounding_box()
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            hit = page.evaluate(f"document.elementFromPoint({x}, {y}).closest('a')?.title")
            assert hit == name
        layers = page.locator(".leaflet-control-layers")
        assert layers.bounding_box()["width"] < 60  # a button, not a fifth of the map
        layers.locator(".leaflet-control-layers-toggle").focus()  # and it opens when asked
        page.keyboard.press("Enter")
        assert page.locator(".leaflet-control-layers-expanded").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.watch.errors == []
    finally:
        page.context.close()


def test_on_a_desktop_the_filters_key_and_layer_control_stay_open(page):
    open_map(page)
    assert page.locator(".filters-box").get_attribute("open") is not None
    assert page.locator("details.legend").get_attribute("open") is not None
    assert page.locator(".leaflet-control-layers-expanded").count() == 1


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 900}])
def test_the_map_after_go_has_no_serious_accessibility_problems(browser, live_server, viewport):
    from tests.browser.conftest import LIVE_DB, watched_page
    from tests.browser.test_resident import serious_violations
    from tests.test_imports_support import load_trafford_postcodes

    load_trafford_postcodes(LIVE_DB["path"])
    page = watched_page(browser, live_server, viewport=viewport)
    try:
        open_map(page)
        assert serious_violations(page) == []
        page.fill("#map-postcode", "WA14 1AH")
        page.click("#postcode-jump button")
        page.locator("#results-heading", has_text="nearest to WA14 1AH first").wait_for()
        assert serious_violations(page) == []
    finally:
        page.context.close()


def test_the_home_page_postcode_box_leads_to_what_is_near(page, live_server):
    from tests.browser.conftest import LIVE_DB
    from tests.test_imports_support import load_trafford_postcodes

    load_trafford_postcodes(LIVE_DB["path"])
    page.goto(page.base_url + "/")
    box = page.get_by_label("Your postcode")
    assert box.bounding_box()["height"] >= 44
    box.fill("WA14 1AH")
    page.get_by_role("button", name="Find what is near").click()
    page.wait_for_url("**/search?postcode=WA14+1AH")
    assert "Altrincham Library" in page.text_content("main")
    assert page.watch.errors == []
