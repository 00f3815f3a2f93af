"""The coverage page in a real browser: the areas on the map, no serious accessibility
problems, and choosing a strand re-ranks the table."""

from __future__ import annotations

import pytest

from tests import engines
from tests.browser.conftest import BLANK_TILES, serving, watched_page
from tests.browser.test_resident import serious_violations
from tests.test_coverage import with_trafford_areas

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def coverage_server(tmp_path_factory, trafford_template):
    db_path = engines.new_target(tmp_path_factory.mktemp("coverage_browser"), keep=True)
    app = with_trafford_areas(trafford_template, db_path, secret="browser-tests-only")
    app.config.update(BLANK_TILES)
    with serving(app) as url:
        yield url


def _table_order(page) -> list[str]:
    return page.eval_on_selector_all(
        "#coverage-table tbody tr", "rows => rows.map(r => r.dataset.code)"
    )


def test_the_coverage_map_shows_the_areas_and_a_strand_reranks_the_table(browser, coverage_server):
    page = watched_page(browser, coverage_server)
    try:
        page.goto(f"{coverage_server}/coverage")
        page.wait_for_selector(".folium-map[data-areas-loaded]")
        loaded = page.get_attribute(".folium-map", "data-areas-loaded")
        assert loaded == "138", page.text_content("#map-status")
        # The reach layer is shown: one shape an area, coloured from the API's figures.
        assert page.locator(".leaflet-overlay-pane path.coverage-reach").count() == 138
        assert page.locator(".leaflet-overlay-pane path.coverage-need").count() == 0  # not chosen
        assert page.locator("path.coverage-asset").count() > 0
        assert "Showing 138 areas" in page.text_content("#map-status")
        assert serious_violations(page) == []
        before = _table_order(page)
        assert len(before) == 138

        page.select_option("#coverage-strand", label="Volunteer and peer roles")
        page.click(".coverage-form button[type=submit]")
        page.wait_for_url("**strand=volunteer_peer_roles**")
        page.wait_for_selector(".folium-map[data-areas-loaded]")
        after = _table_order(page)
        assert sorted(after) == sorted(before) and after != before
        assert page.text_content("h1") == "Where assets are missing: Volunteer and peer roles"
        assert page.watch.errors == [] and page.watch.outside_requests == []
        assert page.watch.dialogs == []
    finally:
        page.context.close()
