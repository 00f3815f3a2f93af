"""Hostile text entered through the form and `assetmap load` never runs in a browser, and
reads back exactly on the asset page, the map and the coordinators' list."""

from __future__ import annotations

import json

import pytest

from assetmap import create_app
from tests import engines
from tests.browser.conftest import BLANK_TILES, serving, watched_page
from tests.conftest import add_user, give_session, load_sample
from tests.hostile import corpus, enter_through_form, load_file_features

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    """A site whose assets carry every hostile string, half typed into the form, half loaded."""
    folder = tmp_path_factory.mktemp("hostile")
    db_path = engines.new_target(folder, keep=True)
    load_sample(db_path)
    app = create_app(
        {"ASSETMAP_DB": str(db_path), "SECRET_KEY": "browser-tests-only", **BLANK_TILES}
    )
    user = add_user(db_path, "coordinator")
    client = app.test_client()
    give_session(client, db_path, user)
    typed = [
        (enter_through_form(client, entered, n), expected)
        for n, (entered, expected) in enumerate(corpus())
    ]
    path = folder / "hostile.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": load_file_features()}))
    assert app.test_cli_runner().invoke(args=["load", str(path)]).exit_code == 0
    loaded = [(f"hostile-load-{n}", expected) for n, (_, expected) in enumerate(corpus())]
    with serving(app) as url:
        yield url, typed, loaded


def assert_nothing_ran(page):
    assert page.watch.dialogs == [], page.watch.dialogs
    assert page.watch.errors == [], page.watch.errors
    assert page.watch.outside_requests == [], page.watch.outside_requests


# In parts, so that they can run side by side (make test's -n).
@pytest.mark.parametrize("part", [0, 1])
def test_asset_pages_show_hostile_text_as_text(browser, hostile_site, part):
    url, typed, loaded = hostile_site
    page = watched_page(browser, url)
    for asset_id, expected in (typed + loaded)[part::2]:
        page.goto(f"{url}/assets/{asset_id}")
        assert page.text_content("h1") == expected
        assert page.text_content(".asset-description") == expected
    assert_nothing_ran(page)
    page.context.close()


def test_search_results_show_hostile_text_as_text(browser, hostile_site):
    url, typed, loaded = hostile_site
    page = watched_page(browser, url)
    page.goto(f"{url}/search?lat=53.45&lon=-2.30&radius_km=10&limit=200")
    shown = page.locator(".search-list h3 a").all_text_contents()
    for _, expected in typed + loaded:
        assert expected in shown
    for query in [
        "'; DROP TABLE assets; --",
        'name:walk OR "bar NEAR(a b) * ^ -x AND',
        "${alert(1)}",
    ]:
        page.goto(f"{url}/search?lat=53.45&lon=-2.30&radius_km=10")
        page.fill("#search-q", query)
        page.click("form.search-page-form button[type=submit]")
        page.wait_for_selector("#results-heading")
    assert_nothing_ran(page)
    page.context.close()


@pytest.mark.parametrize("part", [0, 1, 2])
def test_map_popups_show_hostile_text_as_text(browser, hostile_site, part):
    url, typed, loaded = hostile_site
    page = watched_page(browser, url)
    for asset_id, expected in (typed + loaded[:3])[part::3]:
        page.goto(f"{url}/map?asset={asset_id}")
        popup = page.wait_for_selector(".leaflet-popup .asset-popup h2")
        assert popup.text_content() == expected
        assert page.get_attribute(".leaflet-popup a", "href") == f"/assets/{asset_id}"
    assert_nothing_ran(page)
    page.context.close()
