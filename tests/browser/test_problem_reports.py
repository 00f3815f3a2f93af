"""A resident reports a problem from an asset's page and a coordinator resolves it, in Chromium,
with an accessibility check (axe) on each new page on the way."""

from __future__ import annotations

import pytest

from assetmap import create_app
from tests.browser.conftest import BLANK_TILES, serving, watched_page
from tests.browser.test_resident import serious_violations
from tests.conftest import ROLE_EMAILS, TEST_PASSWORD, add_user, load_sample

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    """A server of this module's own: reports change what the shared one's pages say, and its
    posts would count against the one spam limit that the other browser tests' address shares."""
    db_path = tmp_path_factory.mktemp("reports") / "assetmap.db"
    load_sample(db_path)
    add_user(db_path, "coordinator")
    app = create_app(
        {"ASSETMAP_DB": str(db_path), "SECRET_KEY": "browser-tests-only", **BLANK_TILES}
    )
    with serving(app) as url:
        yield url


def test_a_resident_reports_a_problem_and_the_coordinator_resolves_it(browser, own_server):
    page = watched_page(browser, own_server)
    page.goto(own_server + "/assets/sale-walking-group")
    page.click("text=Report a problem with this listing")
    page.wait_for_selector("h1:has-text('Report a problem')")
    assert serious_violations(page) == []

    page.click("button[type=submit]")  # nothing chosen: the form says what to fix
    page.wait_for_selector(".error-summary")
    assert "Choose what is wrong with this listing." in page.text_content(".error-summary")
    assert serious_violations(page) == []

    page.check("#kind-times")
    page.fill("#note", "It moved to Wednesdays in May.")
    page.fill("#contact_email", "robin@example.org")
    page.check("#consent")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Thank you for your report")
    assert serious_violations(page) == []
    # The only console error is the browser's note of the form's 400 answer above.
    assert [e for e in page.watch.errors if "status of 400" not in e] == []
    assert page.watch.outside_requests == []
    page.context.close()

    coordinator = watched_page(browser, own_server)
    coordinator.goto(own_server + "/login?next=/manage/reports")
    coordinator.fill("#email", ROLE_EMAILS["coordinator"])
    coordinator.fill("#password", TEST_PASSWORD)
    coordinator.click("form.stacked-form button[type=submit]")
    coordinator.wait_for_url("**/manage/reports")
    report = coordinator.locator("section.problem-report").first
    assert "It moved to Wednesdays in May." in report.text_content()
    assert "robin@example.org" in report.text_content()
    assert serious_violations(coordinator) == []

    report.locator("textarea").fill("Rang the organiser: Wednesdays since May; listing edited.")
    report.locator("button[type=submit]").click()
    coordinator.wait_for_selector("text=No open reports.")
    assert "resolved" in coordinator.text_content(".flash")

    coordinator.goto(own_server + "/manage/assets/sale-walking-group/history")
    assert "Rang the organiser: Wednesdays since May" in coordinator.text_content("main")
    assert coordinator.watch.errors == []
    coordinator.context.close()
