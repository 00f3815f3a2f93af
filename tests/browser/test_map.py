"""The map in a real browser: markers for every strand, the layer control, and hostile text."""

from __future__ import annotations

import pytest

from assetmap.record import taxonomy
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


def test_the_map_shows_markers_for_every_strand(page):
    assert open_map(page) == 6
    for strand in taxonomy.STRANDS:
        assert markers(page, strand.slug) > 0, strand.slug
    assert page.text_content("#map-status") == "Showing 6 places."
    assert page.watch.errors == [] and page.watch.outside_requests == []


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
