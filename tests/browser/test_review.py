"""A coordinator works through the review queue in Chromium: accessible pages, one-click checks."""

from __future__ import annotations

import pytest

from tests.browser.conftest import signed_in_page
from tests.browser.test_resident import serious_violations

pytestmark = pytest.mark.browser


def test_a_coordinator_checks_a_listing_in_one_click_from_an_accessible_queue(browser, live_server):
    page = signed_in_page(browser, live_server, "coordinator", "/manage/review")
    page.wait_for_selector(".review-entry")
    assert serious_violations(page) == []
    count = page.locator(".review-entry").count()
    first = page.locator(".review-entry").first
    name = first.locator("h2 a").text_content()
    first.locator("select[name=how]").select_option("phone")
    first.locator("form.one-click button").click()
    page.wait_for_selector(".flash")
    assert "Recorded a check (by phone)" in page.text_content(".flash")
    assert page.locator(".review-entry").count() == count - 1
    assert name not in [a.text_content() for a in page.locator(".review-entry h2 a").all()]
    page.goto(f"{live_server}/manage/review/schedule")
    page.wait_for_selector("#kind-place")
    assert serious_violations(page) == []
    assert page.watch.errors == [] and page.watch.outside_requests == []
    assert page.watch.dialogs == []  # the hostile name in the queue never ran
    page.context.close()
