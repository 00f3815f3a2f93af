"""A resident's journey in a real browser: keyboard only, accessibility checks, asking to join
from the map through to the coordinator's inbox, and screenshots on a phone and a desktop."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import signed_in_page, wait_until, watched_page
from tests.conftest import load_sample

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
SCREENS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/map",
        "/search",
        "/search?lat=53.43&lon=-2.31&radius_km=5",
        "/assets/sale-walking-group",
        "/assets/sale-walking-group/join",
        "/login",
    ],
)
def test_no_serious_accessibility_problems(page, path):
    page.goto(page.base_url + path)
    if path == "/map":
        page.wait_for_selector(".folium-map[data-assets-loaded]")
    assert serious_violations(page) == []


def test_the_join_form_with_errors_is_accessible(page):
    page.goto(page.base_url + "/assets/sale-walking-group/join")
    page.click("button[type=submit]")
    page.wait_for_selector(".error-summary")
    assert serious_violations(page) == []


def test_the_list_works_with_the_keyboard_alone(page):
    page.goto(page.base_url + "/map")
    page.wait_for_selector(".folium-map[data-assets-loaded]")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    # Tab through the filters and map controls to the first result's link.
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('#results') !== null"):
            break
    else:
        pytest.fail("the results list cannot be reached with the Tab key")
    name = page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1")
    assert page.text_content("h1") == name
    assert page.watch.errors == []


def test_a_resident_asks_to_join_from_the_map_and_the_coordinator_sees_it(
    browser, page, live_server, tmp_path
):
    page.goto(f"{page.base_url}/map?asset=sale-walking-group")
    page.wait_for_selector(".leaflet-popup a")
    page.click(".leaflet-popup a")
    page.click("text=Ask to join")
    page.fill("#name", "Robin Resident")
    page.fill("#phone", "07700 900789")
    page.check("#consent")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Your request has been sent")
    assert page.watch.errors == []

    coordinator = signed_in_page(browser, live_server, "coordinator", "/manage/requests-to-join")
    assert "Robin Resident" in coordinator.text_content("main")
    coordinator.context.close()


@pytest.mark.parametrize("screen", list(SCREENS))
def test_screenshots_of_the_map_and_an_asset_page(browser, live_server, screen):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = watched_page(browser, live_server, viewport=SCREENS[screen])
    page.goto(live_server + "/map")
    page.wait_for_selector(".folium-map[data-assets-loaded]")
    page.screenshot(path=ARTIFACTS / f"map-{screen}.png", full_page=True)
    page.goto(live_server + "/assets/sale-walking-group")
    page.screenshot(path=ARTIFACTS / f"asset-{screen}.png", full_page=True)
    assert (ARTIFACTS / f"map-{screen}.png").stat().st_size > 10_000
    assert page.watch.errors == []
    page.context.close()


def test_on_a_phone_ask_to_join_is_on_the_first_screen(browser, live_server):
    """Issue 15, item 10: a resident on a 390 px phone reaches Ask to join without scrolling."""
    page = watched_page(browser, live_server, viewport=SCREENS["phone"])
    page.goto(live_server + "/assets/sale-walking-group")
    link = page.get_by_role("link", name="Ask to join")
    box = link.bounding_box()
    assert box is not None and box["y"] + box["height"] <= SCREENS["phone"]["height"]
    assert page.evaluate("window.scrollY") == 0
    link.click()
    page.wait_for_url("**/assets/sale-walking-group/join")
    assert page.watch.errors == []
    page.context.close()


def _wait_for_focus_on_the_error_summary(page):
    """Autofocus is applied at the browser's next rendering step, not when the element is
    parsed, so on a busy machine it can land a moment after the summary is in the page."""
    wait_until(page, "document.activeElement.classList.contains('error-summary')")


def test_a_failed_submit_moves_focus_to_the_error_summary_and_says_error_in_the_title(page):
    """Issue 15, item 7: a screen reader hears "Error:" first, and focus is on the summary,
    whose links lead to each field."""
    page.goto(page.base_url + "/assets/sale-walking-group/join")
    assert not page.title().startswith("Error:")
    page.click("button[type=submit]")
    page.wait_for_selector(".error-summary")
    assert page.title().startswith("Error: Ask to join")
    _wait_for_focus_on_the_error_summary(page)
    page.keyboard.press("Tab")  # the next stop is the summary's first link
    assert page.evaluate("document.activeElement.closest('.error-summary') !== null")


def test_a_failed_sign_in_moves_focus_to_the_error_summary(page):
    page.goto(page.base_url + "/login")
    page.fill("#email", "nobody@example.org")
    page.fill("#password", "not the password")
    page.click("form.stacked-form button[type=submit]")
    page.wait_for_selector(".error-summary")
    assert page.title() == "Error: Sign in · assetmap"
    _wait_for_focus_on_the_error_summary(page)


def test_no_page_asks_for_a_favicon_that_is_not_there(page):
    """Issue 15, item 7: every page asked for /favicon.ico and got a 404."""
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto(page.base_url + "/")
    icon = page.request.get(page.base_url + "/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"].startswith("image/")
    page.wait_for_timeout(300)  # the browser's own favicon request, after the page
    assert missing == []


def test_a_postcode_outside_the_table_is_not_blamed_on_the_resident(browser, trafford_db_path):
    """Issue 15, item 1: central Manchester's M1 1AD against the Trafford postcode table."""
    from assetmap import create_app
    from tests.browser.conftest import BLANK_TILES, serving

    app = create_app(
        {"ASSETMAP_DB": str(trafford_db_path), "SECRET_KEY": "browser-tests-only", **BLANK_TILES}
    )
    with serving(app) as url:
        page = watched_page(browser, url, viewport=SCREENS["phone"])
        page.goto(url + "/search?postcode=M1+1AD")
        page.wait_for_selector(".error-summary")
        shown = " ".join(page.text_content(".error-summary").split())
        assert "M1 1AD may well be right" in shown
        assert "covers districts M15, M16" in shown and "WA15" in shown
        assert "load the national ONS Postcode Directory" in shown
        assert "check it" not in shown
        assert page.title().startswith("Error:")
        page.context.close()


def test_a_park_with_no_contact_says_just_go_along_on_the_first_screen(browser, tmp_path):
    """Issue 15, item 8: a page with no phone, email, website or way to join says what a
    resident can do instead, where a phone shows it first."""
    from assetmap import create_app
    from tests.browser.conftest import BLANK_TILES, serving
    from tests.conftest import make_asset, save_raw

    db_path = tmp_path / "park.db"
    load_sample(db_path)
    park = make_asset(
        id="abbotsfield-park",
        name="Abbotsfield Park",
        kind="place",
        categories=["walking", "physical_activity"],
        description="Public park in Urmston West, open to everyone.",
        cost="free",
        self_referral=False,
        phone=None,
        email=None,
        website=None,
        referral_details=None,
    )
    save_raw(db_path, [park])
    app = create_app(
        {"ASSETMAP_DB": str(db_path), "SECRET_KEY": "browser-tests-only", **BLANK_TILES}
    )
    with serving(app) as url:
        page = watched_page(browser, url, viewport=SCREENS["phone"])
        page.goto(url + "/assets/abbotsfield-park")
        advice = page.locator("#what-to-do")
        assert "Just go along: it is free to visit" in advice.text_content()
        box = advice.bounding_box()
        assert box is not None and box["y"] + box["height"] <= SCREENS["phone"]["height"]
        assert page.get_by_role("link", name="Ask to join").count() == 0
        page.context.close()
