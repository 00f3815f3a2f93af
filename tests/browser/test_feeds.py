"""A coordinator syncs from another directory in a real browser: the feeds page (checked with
axe-core, with and without errors), Sync now, the import's preview (checked with axe by
test_imports.py), Import now, and the feed's last import shown. Our directory and the other
one are two apps, each with its own database (not the shared live server's: a sync adds
assets)."""

from __future__ import annotations

import pytest

from assetmap import create_app
from assetmap.store import mappings as saved_mappings
from assetmap.store.connection import connect
from tests import engines
from tests.browser.conftest import BLANK_TILES, serving, watched_page
from tests.browser.test_resident import serious_violations
from tests.conftest import ROLE_EMAILS, SAMPLE, TEST_PASSWORD, add_user, load_sample

pytestmark = pytest.mark.browser


def test_a_coordinator_adds_a_feed_and_syncs_it_through_the_preview(browser, tmp_path):
    publisher_db = engines.new_target(tmp_path, "publisher.db")
    load_sample(publisher_db)
    ours = engines.new_target(tmp_path, "ours.db")
    load_sample(ours)
    add_user(ours, "coordinator")
    db = connect(ours)  # our kind and strand, chosen once for this source before
    saved_mappings.save(
        db,
        "neighbours",
        {"defaults": {"kind": "service", "strand": "access_community_resources"}},
        saved_by="tests",
    )
    db.close()
    publisher = create_app({"ASSETMAP_DB": str(publisher_db), "SECRET_KEY": "other-only"})
    app = create_app(
        {
            "ASSETMAP_DB": str(ours),
            "SECRET_KEY": "browser-tests-only",
            **BLANK_TILES,
            "ASSETMAP_FILES_DIR": str(tmp_path / "files"),  # not ./instance on PostgreSQL
        }
    )
    with serving(publisher) as other, serving(app) as url:
        page = watched_page(browser, url)
        try:
            page.goto(f"{url}/login?next=/manage/feeds/")
            page.fill("#email", ROLE_EMAILS["coordinator"])
            page.fill("#password", TEST_PASSWORD)
            page.click("form.stacked-form button[type=submit]")
            page.wait_for_url("**/manage/feeds/")
            assert serious_violations(page) == []

            page.click("text=Check and add the feed")  # nothing entered
            page.wait_for_selector(".error-summary")
            assert serious_violations(page) == []
            assert "Enter the address" in page.inner_text(".error-summary")

            page.fill("#url", f"{other}/api/oruk/")
            page.fill("#name", "neighbours")
            page.click("text=Check and add the feed")
            page.wait_for_selector("text=Added the feed neighbours")
            page.click("button:has-text('Sync neighbours now')")
            page.wait_for_selector("text=Nothing has been saved yet")  # the import's page
            page.click(f"text=Import now: {len(SAMPLE)} new, 0 changed")
            page.wait_for_selector("button:has-text('Undo this import')")

            page.goto(f"{url}/manage/feeds/")
            page.wait_for_selector("a:has-text('Run 1')")
            assert serious_violations(page) == []
            # The form sent empty is answered 400 (as it should be), which Chromium logs.
            errors = [e for e in page.watch.errors if "status of 400 (BAD REQUEST)" not in e]
            assert page.watch.dialogs == [] and errors == []
            assert len(page.watch.errors) - len(errors) <= 1
            assert page.watch.outside_requests == []
        finally:
            page.context.close()
