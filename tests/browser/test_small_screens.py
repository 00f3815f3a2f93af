"""Every page on a 320 px phone, as each role: nothing wider than the screen.

A coordinator's navigation once made every staff page 569 px wide on a 390 px phone, so the
pages scrolled sideways. The pages are every GET route a role may open that answers a page
(not the API, files or downloads), found from the app's own routes, so a new page is checked
without anyone remembering to add it here.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import BLANK_TILES, serving, signed_in_page, watched_page

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 640}
# Pages that need more in their address than the routes' sample arguments give.
MORE = (
    "/search?postcode=&lat=53.43&lon=-2.31&radius_km=5",
    "/map?asset=hostile-example",
)
NOT_PAGES = (
    "/api/",
    "/static/",
    "/strands.css",
    "/logout",
    ".csv",
    ".json",
    ".geojson",
    ".toml",
    ".ico",
)


def a_plan_with_long_names() -> int:
    """A plan of the link worker's holding the sample's longest, unbreakable name."""
    from assetmap.store import connect, users
    from assetmap.store import plans as plan_store
    from tests.browser.conftest import LIVE_DB
    from tests.conftest import ROLE_EMAILS, add_user

    add_user(LIVE_DB["path"], "link_worker")
    db = connect(LIVE_DB["path"])
    try:
        owner = users.get_user_by_email(db, ROLE_EMAILS["link_worker"])["id"]
        plan_id = plan_store.create_plan(db, owner, "LW-320-PX-CHECK", None)
        for asset_id in ("hostile-example", "sale-walking-group"):
            plan_store.add_item(db, plan_id, asset_id, "A note " * 20)
        return plan_id
    finally:
        db.close()


@pytest.fixture(scope="module")
def phone_site(live_server):
    """The live server's database served by an app whose maps draw blank tiles written into
    the page (the tile server is test_map's matter), and every page address to measure: made
    once for the four roles."""
    from assetmap import create_app
    from tests.browser.conftest import LIVE_DB

    app = create_app(
        {"ASSETMAP_DB": str(LIVE_DB["path"]), "SECRET_KEY": "browser-tests-only", **BLANK_TILES}
    )
    paths = page_paths(app)
    with serving(app) as url:
        yield url, paths


def page_paths(app) -> list[str]:
    """Every GET route that is a page, with sample arguments (as the permissions test walks
    them) and a real plan, and the pages in MORE."""
    from flask import url_for

    from tests.test_permissions import SAMPLE_ARGUMENTS

    arguments = {**SAMPLE_ARGUMENTS, "plan_id": a_plan_with_long_names()}
    paths = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods:
                continue
            path = url_for(rule.endpoint, **{name: arguments[name] for name in rule.arguments})
            if not any(part in path for part in NOT_PAGES):
                paths.append(path)
    return sorted(set(paths)) + list(MORE)


def too_wide(page, paths) -> list[str]:
    """The pages (that this role may open) wider than the screen, with their widths, and
    every page measured."""
    wide, measured = [], []
    for path in paths:
        # Asked first without drawing it (the page's own cookies, no redirect followed): a
        # page this role may not open (403, 404, or a redirect to sign in: 105 of the 180
        # addresses of the four roles) is skipped without the browser drawing the refusal or
        # the sign-in page (a quarter of this test's processor time); each page that is this
        # role's is loaded, checked again as before, and measured: the same 75 pages.
        asked = page.request.get(page.base_url + path, max_redirects=0)
        ok = asked.status == 200 and "text/html" in (asked.headers.get("content-type") or "")
        asked.dispose()
        if not ok:
            continue
        response = page.goto(page.base_url + path)
        if response is None or response.status != 200 or response.url != page.base_url + path:
            continue  # not this role's page (403, 404, or sent to sign in)
        if "text/html" not in (response.headers.get("content-type") or ""):
            continue
        if path == "/map" or path.startswith("/map?"):
            page.wait_for_selector(".folium-map[data-assets-loaded]")
        width = page.evaluate("document.documentElement.scrollWidth")
        measured.append(path)
        if width > PHONE["width"]:
            wide.append(f"{path}: {width} px")
    return wide, measured


# A page each role must have been measured on, so a test that measured nothing cannot pass.
MUST_MEASURE = {
    None: "/map",
    "link_worker": "/plans/",
    "coordinator": "/manage/assets",
    "admin": "/admin/users",
}


@pytest.mark.parametrize("role", [None, "link_worker", "coordinator", "admin"])
def test_every_page_fits_a_320_px_phone(browser, phone_site, role):
    url, paths = phone_site
    if role is None:
        page = watched_page(browser, url, viewport=PHONE)
    else:
        page = signed_in_page(browser, url, role, "/")
        page.set_viewport_size(PHONE)
    try:
        assert len(paths) > 10, paths  # the routes were found
        wide, measured = too_wide(page, paths)
        assert wide == []
        assert any(path.startswith(MUST_MEASURE[role]) for path in measured), measured
    finally:
        page.context.close()
