"""An organiser keeps their listing right, in a real browser: the reminder read from a local
SMTP server, its link opened, a change proposed (after a mistake the form points out), a
coordinator approving it in the moderation queue, the public page showing it and the history
naming both people. axe-core checks each new page on the way."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest

from assetmap import create_app
from assetmap.store import assets, connect
from tests.browser.conftest import BLANK_TILES, serving, watched_page
from tests.browser.test_resident import serious_violations
from tests.conftest import ROLE_EMAILS, TEST_PASSWORD, add_user, load_sample, smtp_sink

pytestmark = pytest.mark.browser

ORGANISER = "walks.organiser@example.org"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app on the sample data, sending mail to a local SMTP server: (url, app, inbox)."""
    with smtp_sink() as (port, inbox):
        yield from _site(tmp_path_factory, port, inbox)


def _site(tmp_path_factory, port: int, inbox: list):
    db_path = tmp_path_factory.mktemp("organisers") / "assetmap.db"
    load_sample(db_path)
    db = connect(db_path)
    record = assets.get_asset(db, "sale-walking-group")
    assets.save_asset(db, {**record, "organiser_email": ORGANISER}, who="tests")
    db.close()
    add_user(db_path, "coordinator")
    app = create_app(
        {
            "ASSETMAP_DB": str(db_path),
            "SECRET_KEY": "browser-tests-only",
            **BLANK_TILES,
            "ASSETMAP_SMTP_HOST": "127.0.0.1",
            "ASSETMAP_SMTP_PORT": str(port),
            "ASSETMAP_MAIL_FROM": "directory@example.org",
        }
    )
    with serving(app) as url:
        app.config["ASSETMAP_SITE_URL"] = url
        yield url, app, inbox


def test_an_organiser_proposes_a_change_and_a_coordinator_approves_it(browser, site):
    url, app, inbox = site
    sent = app.test_cli_runner().invoke(args=["reminders", "send"])
    assert sent.exit_code == 0, sent.output
    (envelope,) = [e for e in inbox if e.rcpt_tos == [ORGANISER]]
    body = message_from_bytes(envelope.content, policy=policy.default).get_content()
    link = re.search(rf"{re.escape(url)}/organiser/\S+", body).group(0)

    organiser = watched_page(browser, url)
    coordinator = watched_page(browser, url)
    try:
        organiser.goto(link)
        organiser.wait_for_selector("h1:has-text('Is this still right?')")
        assert "Sale Walking Group" in organiser.inner_text("main")
        assert serious_violations(organiser) == []
        organiser.click("text=Something has changed")
        organiser.wait_for_selector("#cost_details")
        organiser.fill("#cost_details", "£1 a walk, tea included")
        organiser.fill("#website", "javascript:alert(1)")
        organiser.click("button:has-text('Send my changes')")
        organiser.wait_for_selector(".error-summary")
        assert "nothing has been sent yet" in organiser.inner_text(".error-summary")
        assert organiser.input_value("#cost_details") == "£1 a walk, tea included"
        assert serious_violations(organiser) == []
        organiser.fill("#website", "https://walks.example.org")
        organiser.click("button:has-text('Send my changes')")
        organiser.wait_for_selector("text=A coordinator will look at them")

        coordinator.goto(f"{url}/login?next=/manage/moderation/")
        coordinator.fill("#email", ROLE_EMAILS["coordinator"])
        coordinator.fill("#password", TEST_PASSWORD)
        coordinator.click("form.stacked-form button[type=submit]")
        coordinator.wait_for_url("**/manage/moderation/")
        assert serious_violations(coordinator) == []
        coordinator.click("main a:has-text('Sale Walking Group')")
        coordinator.wait_for_selector("table.diff")
        diff = coordinator.inner_text("table.diff")
        assert "£1 a walk, tea included" in diff and "https://walks.example.org" in diff
        assert serious_violations(coordinator) == []
        coordinator.click("button:has-text('Approve')")
        coordinator.wait_for_selector("text=Approved")
        coordinator.goto(f"{url}/manage/assets/sale-walking-group/history")
        newest = coordinator.inner_text("li.history-entry >> nth=0")
        assert ORGANISER in newest and ROLE_EMAILS["coordinator"] in newest

        organiser.goto(f"{url}/assets/sale-walking-group")
        public = organiser.inner_text("main")
        assert "£1 a walk, tea included" in public and ORGANISER not in public
        # The form refused with errors answers 400, which Chromium logs; nothing else may.
        refused = "Failed to load resource: the server responded with a status of 400"
        for page in (organiser, coordinator):
            assert page.watch.dialogs == []
            assert [e for e in page.watch.errors if not e.startswith(refused)] == []
            assert page.watch.outside_requests == []
    finally:
        organiser.context.close()
        coordinator.context.close()
