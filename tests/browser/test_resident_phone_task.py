"""Issue 15, item 10: a resident on a phone, from the home page to "Ask to join" for something
on a Tuesday near them, in at most six taps (it took 17)."""

from __future__ import annotations

import pytest

from assetmap import create_app
from tests.browser.conftest import BLANK_TILES, serving, watched_page

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
TARGET_TAPS = 6


class Taps:
    """Counts what a resident taps; typing into a box already tapped is not a tap."""

    def __init__(self, page):
        self.page = page
        self.count = 0

    def tap(self, locator):
        locator.scroll_into_view_if_needed()
        locator.click()
        self.count += 1


def test_a_resident_finds_something_on_a_tuesday_and_asks_to_join_in_six_taps(
    browser, trafford_db_path
):
    app = create_app(
        {"ASSETMAP_DB": str(trafford_db_path), "SECRET_KEY": "browser-tests-only", **BLANK_TILES}
    )
    with serving(app) as url:
        page = watched_page(browser, url, viewport=PHONE)
        taps = Taps(page)
        page.goto(url + "/")
        taps.tap(page.get_by_label("Your postcode"))
        page.keyboard.type("M33 7ZF")
        taps.tap(page.get_by_role("button", name="Find what is near"))
        page.wait_for_selector("#results-heading")
        taps.tap(
            page.get_by_role("navigation", name="Which day").get_by_role("link", name="Tuesday")
        )
        page.wait_for_selector("#results-heading")
        assert "day=tuesday" in page.url
        # Every result runs on a Tuesday, nearest first, each with its distance.
        first = page.locator(".search-list h3 a").first
        name = first.text_content()
        taps.tap(first)
        page.wait_for_selector("h1")
        assert page.text_content("h1") == name
        taps.tap(page.get_by_role("link", name="Ask to join"))
        page.wait_for_selector("form")
        assert "/join" in page.url
        assert taps.count <= TARGET_TAPS, taps.count
        assert page.watch.errors == [] and page.watch.outside_requests == []
        page.context.close()
