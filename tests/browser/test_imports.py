"""A coordinator's import in a real browser: upload, preview, import, undo, each page checked
with axe-core, with no script errors, dialogs or requests to other servers on the way."""

from __future__ import annotations

import pytest

from tests.browser.conftest import signed_in_page, watched_page
from tests.browser.test_resident import serious_violations
from tests.conftest import ROLE_EMAILS, TEST_PASSWORD

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


# No kind or strand column: a "Type" in words and a "Contact" of mixed kinds, as audits come.
TYPED_AUDIT = (
    "Ref,Name,Type,Latitude,Longitude,When,Contact\n"
    "TY1,Urmston Harmonica Club,Music group,53.4480,-2.3540,Saturdays 9-12,harp@example.org\n"
    "TY2,Urmston Community Pantry,Food bank,53.4485,-2.3550,12-2,0161 912 3000\n"
    "TY3,Urmston Riverside Walkers,Walking group,53.4490,-2.3560,10-3,www.walk.example\n"
    "TY4,Urmston Money Advice,Advice service,53.4495,-2.3570,Mondays 10:00-12:00,\n"
)


def _upload(page, path, source):
    page.goto(f"{page.base_url}/manage/imports/")
    page.set_input_files("#file", str(path))
    page.fill("#source", source)
    page.click("form.stacked-form button[type=submit]")


def test_a_coordinator_maps_an_audit_on_the_page_and_the_next_copy_needs_no_mapping(
    browser, live_server, tmp_path
):
    from playwright.sync_api import expect  # here: without playwright, the tests skip

    audit = tmp_path / "urmston-audit.csv"
    audit.write_text(TYPED_AUDIT, encoding="utf-8")
    page = signed_in_page(browser, live_server, "coordinator", "/manage/imports/")
    screens = []
    try:
        # Screen 1: the upload. The file has no kind or strand, so the mapping step follows.
        _upload(page, audit, "urmston-audit")
        screens.append(page.url)
        page.wait_for_selector("text=Choose what the columns of")
        assert serious_violations(page) == []
        main = " ".join(page.inner_text("main").split())
        assert "has no column for the kind or the strand" in main
        assert page.input_value("#column-2") == "values"  # Type, value by value
        assert page.input_value("#strand") == "access_community_resources"
        # Screen 2: a change redraws the first rows in place (the focus stays on the select).
        page.focus("#value-2-0-kind")
        page.select_option("#value-2-0-kind", "activity")
        page.wait_for_selector("#sample-status:has-text('now show')")
        assert page.evaluate("document.activeElement.id") == "value-2-0-kind"
        sample = " ".join(page.inner_text("#sample").split())
        assert "Urmston Harmonica Club activity access_community_resources" in sample
        page.select_option("#value-2-0-kind", "group")
        expect(page.locator("#sample tbody tr").first.locator("td").nth(2)).to_have_text("group")
        assert serious_violations(page) == []
        page.click("text=Use these choices and preview the import")
        page.wait_for_selector("text=Nothing has been saved yet")
        screens.append(page.url)
        assert serious_violations(page) == []
        assert "Using the columns you chose" in page.inner_text("main")
        # Screen 3: import.
        page.click("text=Import now: 4 new, 0 changed")
        page.wait_for_selector("button:has-text('Undo this import')")
        screens.append(page.url)
        assert len(screens) == 3

        # The next copy of the same audit goes straight to the preview, with the same choices.
        later = tmp_path / "urmston-audit-april.csv"
        later.write_text(
            TYPED_AUDIT.replace("Urmston Money Advice", "Urmston Money and Debt Advice"),
            encoding="utf-8",
        )
        _upload(page, later, "urmston-audit")
        page.wait_for_selector("text=Nothing has been saved yet")
        main = " ".join(page.inner_text("main").split())
        assert "Using the mapping saved for urmston-audit on" in main
        assert "New assets 0 Changed assets 1 Unchanged 3" in main
        page.click("text=Import now: 0 new, 1 changed")
        page.wait_for_selector("text=Imported urmston-audit-april.csv")
        # Both imports undone, newest first, so the other browser tests see the sample data.
        page.click("button:has-text('Undo this import')")
        page.wait_for_selector("text=Undid import run")
        page.goto(screens[2])
        page.click("form button:has-text('Undo')")
        page.wait_for_selector("text=Undid import run")
        assert page.watch.dialogs == [] and page.watch.errors == []
        assert page.watch.outside_requests == []
    finally:
        page.context.close()


def test_the_mapping_step_works_without_javascript(browser, live_server, tmp_path):
    audit = tmp_path / "no-script-audit.csv"
    audit.write_text(TYPED_AUDIT.replace("Urmston", "Flixton"), encoding="utf-8")
    signed_in_page(browser, live_server, "coordinator", "/").context.close()  # the account
    page = watched_page(browser, live_server, java_script_enabled=False)
    try:
        page.goto(f"{live_server}/login?next=/manage/imports/")
        page.fill("#email", ROLE_EMAILS["coordinator"])
        page.fill("#password", TEST_PASSWORD)
        page.click("form.stacked-form button[type=submit]")
        page.wait_for_url("**/manage/imports/")
        _upload(page, audit, "flixton-audit")
        page.wait_for_selector("text=Choose what the columns of")
        page.select_option("#kind", "place")
        page.select_option("#column-2", "extra")  # Type kept as text; every row a place
        page.click("text=Show what these choices do")
        page.wait_for_selector("text=Choose what the columns of")
        assert "Flixton Harmonica Club place" in " ".join(page.inner_text("#sample").split())
        page.click("text=Use these choices and preview the import")
        page.wait_for_selector("text=Nothing has been saved yet")
        assert "New assets 4" in " ".join(page.inner_text("main").split())
        page.click("button:has-text('Cancel')")
        page.wait_for_url("**/manage/imports/")
        assert "Cancelled: nothing was imported from no-script-audit.csv" in page.inner_text("body")
    finally:
        page.context.close()
