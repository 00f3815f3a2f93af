"""The freshness report in a real browser: a coordinator opens it from the menu, the chart
has its text alternative and table, and axe finds no serious accessibility problem."""

from __future__ import annotations

import pytest

from tests.browser.conftest import signed_in_page
from tests.browser.test_resident import serious_violations

pytestmark = pytest.mark.browser


def test_a_coordinator_reads_the_freshness_report(browser, live_server):
    page = signed_in_page(browser, live_server, "coordinator", "/manage/assets")
    try:
        page.click("nav >> text=Freshness")
        page.wait_for_selector("#by-month")
        chart = page.locator("figure.freshness-chart svg[role=img]")
        assert chart.get_attribute("aria-labelledby") == "chart-title chart-desc"
        assert page.locator("#by-month tbody tr").count() >= 1
        assert page.locator("#table-ward caption").inner_text() == "Listings checked, by ward"
        assert "listings checked in the last 6 months" in page.locator("#overall").inner_text()
        assert serious_violations(page) == []
        assert page.watch.errors == [] and page.watch.outside_requests == []
    finally:
        page.context.close()
