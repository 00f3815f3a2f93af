"""A coordinator's import in a real browser: upload, preview, import, undo, each page checked
with axe-core, with no script errors, dialogs or requests to other servers on the way."""

from __future__ import annotations

import pytest

from tests.browser.conftest import signed_in_page
from tests.browser.test_resident import serious_violations

pytestmark = pytest.mark.browser

AUDIT = (
    "Ref,Name,Kind,Strand,Latitude,Longitude,When,Funding stream\n"
    "BR1,Stretford Ukulele Circle,group,access_community_resources,53.4457,-2.3057,"
    "Tuesdays 10:00 till 12:00,Lottery\n"
    "BR2,Stretford Kazoo Club,club,access_community_resources,53.4457,-2.3057,,\n"
)


def test_a_coordinator_imports_checks_and_undoes_a_file_in_the_browser(
    browser, live_server, tmp_path
):
    audit = tmp_path / "ukulele-audit.csv"
    audit.write_text(AUDIT, encoding="utf-8")
    page = signed_in_page(browser, live_server, "coordinator", "/manage/imports/")
    try:
        assert serious_violations(page) == []
        page.set_input_files("#file", str(audit))
        page.click("form.stacked-form button[type=submit]")
        page.wait_for_selector("text=Nothing has been saved yet")
        assert serious_violations(page) == []
        body = " ".join(page.inner_text("main").split())
        assert "New assets 1" in body
        assert "3 C (Kind) club 'club' is not a kind" in body
        page.click("text=Import now: 1 new, 0 changed")
        page.wait_for_selector("button:has-text('Undo this import')")
        assert serious_violations(page) == []
        assert "Extra information: Funding stream: Lottery" in page.inner_text("main")
        page.click("button:has-text('Undo this import')")
        page.wait_for_selector("text=Undid import run")
        assert page.watch.dialogs == [] and page.watch.errors == []
        assert page.watch.outside_requests == []
    finally:
        page.context.close()
