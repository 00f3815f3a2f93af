"""Every page on a 320 px phone, as each role: nothing wider than the screen.

A coordinator's navigation once made every staff page 569 px wide on a 390 px phone, so the
pages scrolled sideways. The pages are every GET route a role may open that answers a page
(not the API, files or downloads), found from the app's own routes, so a new page is checked
without anyone remembering to add it here.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import signed_in_page, watched_page

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 640}
# Pages that need an id in their address, with one the sample data has.
WITH_IDS = (
    "/assets/sale-walking-group",
    "/assets/sale-walking-group/join",
    "/search?postcode=&lat=53.43&lon=-2.31&radius_km=5",
    "/map?asset=sale-walking-group",
)
NOT_PAGES = ("/api/", "/static/", "/strands.css", "/logout", ".csv", ".json", ".geojson")


def page_paths(live_server) -> list[str]:
    """Every GET route without arguments that is a page, and the pages in WITH_IDS."""
    from assetmap import create_app
    from tests.browser.conftest import LIVE_DB

    app = create_app({"ASSETMAP_DB": str(LIVE_DB["path"]), "SECRET_KEY": "browser-tests-only"})
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments:
            continue
        path = rule.rule
        if not any(part in path for part in NOT_PAGES):
            paths.append(path)
    return sorted(set(paths)) + list(WITH_IDS)


def too_wide(page, paths) -> list[str]:
    """The pages (that this role may open) wider than the screen, with their widths."""
    wide = []
    for path in paths:
        response = page.goto(page.base_url + path)
        if response is None or response.status != 200 or response.url != page.base_url + path:
            continue  # not this role's page (403, 404, or sent to sign in)
        if "text/html" not in (response.headers.get("content-type") or ""):
            continue
        if path == "/map" or path.startswith("/map?"):
            page.wait_for_selector(".folium-map[data-assets-loaded]")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide.append(f"{path}: {width} px")
    return wide


@pytest.mark.parametrize("role", [None, "link_worker", "coordinator", "admin"])
def test_every_page_fits_a_320_px_phone(browser, live_server, role):
    if role is None:
        page = watched_page(browser, live_server, viewport=PHONE)
    else:
        page = signed_in_page(browser, live_server, role, "/")
        page.set_viewport_size(PHONE)
    try:
        paths = page_paths(live_server)
        assert len(paths) > 10, paths  # the routes were found
        assert too_wide(page, paths) == []
    finally:
        page.context.close()
