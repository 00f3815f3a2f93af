"""Two coordinators have one asset's form open in Chromium: the second save shows the conflict."""

from __future__ import annotations

import pytest

from assetmap import create_app
from tests import engines
from tests.browser.conftest import BLANK_TILES, serving, watched_page
from tests.browser.test_resident import serious_violations
from tests.conftest import TEST_PASSWORD, add_user

pytestmark = pytest.mark.browser

EDIT = "/manage/assets/partington-community-garden/edit"


@pytest.fixture(scope="module")
def own_server(sample_template, tmp_path_factory):
    """The app on a copy of the sample data of its own: this test changes an asset."""
    db_path = engines.new_target(tmp_path_factory.mktemp("conflicts"), keep=True)
    engines.copy_database(sample_template, db_path)
    for email in ("sam.first@example.org", "alex.second@example.org"):
        add_user(db_path, "coordinator", email=email)
    app = create_app(
        {"ASSETMAP_DB": str(db_path), "SECRET_KEY": "browser-tests-only", **BLANK_TILES}
    )
    with serving(app) as url:
        yield url


def editing(browser, base_url: str, email: str):
    """A coordinator's page, signed in through the form, with the asset's form open."""
    page = watched_page(browser, base_url)
    page.goto(f"{base_url}/login?next={EDIT}")
    page.fill("#email", email)
    page.fill("#password", TEST_PASSWORD)
    page.click("form.stacked-form button[type=submit]")
    page.wait_for_url(f"**{EDIT}")
    page.wait_for_selector("form.asset-form")
    return page


def test_the_second_save_shows_what_the_first_changed_and_keeps_what_was_typed(browser, own_server):
    sam = editing(browser, own_server, "sam.first@example.org")
    alex = editing(browser, own_server, "alex.second@example.org")

    alex.fill("#phone", "0161 912 4000")
    alex.click("form.asset-form button[type=submit]")
    alex.wait_for_url("**/assets/partington-community-garden")

    sam.fill("#description", "Volunteers meet by the polytunnel on Saturdays.")
    sam.click("form.asset-form button[type=submit]")
    sam.wait_for_selector("#edit-conflict")
    notice = sam.text_content("#edit-conflict")
    assert "Not saved: alex.second@example.org changed this asset" in notice
    assert "0161 912 3000" in notice and "0161 912 4000" in notice
    assert sam.input_value("#description") == "Volunteers meet by the polytunnel on Saturdays."
    assert serious_violations(sam) == []

    sam.click("form.asset-form button[type=submit]")  # on purpose, having seen theirs
    sam.wait_for_url("**/assets/partington-community-garden")
    assert "Volunteers meet by the polytunnel on Saturdays." in sam.text_content("main")
    # Chromium logs the 409 itself as "failed to load"; nothing else may go wrong.
    assert [e for e in sam.watch.errors if "status of 409" not in e] == []
    for page in (sam, alex):
        assert page.watch.dialogs == [] and page.watch.outside_requests == []
        page.context.close()
    assert alex.watch.errors == []
