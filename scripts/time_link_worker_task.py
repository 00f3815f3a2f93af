"""Time a link worker's task in Chromium and count its actions (issue 15, item 9).

The task: "postcode and interest -> 3 activities in a plan -> printed and texted". A signed-in
link worker on the search page types the client's postcode and interests, adds three results
to a new plan for the client, prints the client's page and puts the plan's share link in a
text message, copied ready to send. Every click, typed field and key press counts as one
action; opening the search page does not (it is where a link worker starts: /search, one
click from any page). The target is 12 actions or fewer; in an earlier version it took 40.

    python scripts/time_link_worker_task.py                  # builds a demo database, serves it
    python scripts/time_link_worker_task.py --postcode "M33 7ZF" --interests "walking, gardening"

It builds the demo database (data/assets.geojson and the Trafford postcodes) in a temporary
folder, serves it on a free local port, signs a link worker in (not counted), runs the task in
headless Chromium (/usr/bin/chromium, or ASSETMAP_CHROMIUM) and prints each action with the
seconds since the start, then the count. tests/browser/test_link_worker_task.py runs the same
`run_task` and fails when the count passes 12. Map tiles are answered with a blank image, so
nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 12


@dataclass
class Actions:
    """The actions a person takes, each counted and logged with the seconds since the start."""

    page: object
    started: float = field(default_factory=time.monotonic)
    log: list[tuple[float, str]] = field(default_factory=list)

    def _note(self, what: str) -> None:
        self.log.append((time.monotonic() - self.started, what))

    def type(self, locator, text: str, what: str) -> None:
        locator.fill(text)
        self._note(f"type {text!r} into {what}")

    def click(self, locator, what: str) -> None:
        locator.click()
        self._note(f"click {what}")

    def press(self, locator, key: str, what: str) -> None:
        locator.press(key)
        self._note(f"press {key} in {what}")

    @property
    def count(self) -> int:
        return len(self.log)


def run_task(page, base_url: str, postcode: str, interests: str, client_ref: str) -> Actions:
    """The task on a page already signed in as a link worker; returns the actions taken.

    Checks as it goes that each step did what the person meant (a real result list, three
    different activities in the plan, the print dialog opened, the text holds the link and
    reached the clipboard), so a count that passes is a task that was done.
    """
    page.add_init_script("window.print = function () { window.__printed = true; };")
    page.goto(f"{base_url}/search")
    act = Actions(page)
    act.type(page.get_by_label("Postcode"), postcode, "Postcode")
    interests_box = page.locator("#search-q")
    act.type(interests_box, interests, "What they enjoy")
    act.press(interests_box, "Enter", "What they enjoy")
    page.wait_for_selector("#results-heading")
    results = page.locator("li.result")
    if results.count() < 3:
        raise AssertionError(f"fewer than 3 results: {page.text_content('#results-heading')}")
    names = []
    for number in range(3):
        result = page.locator("li.result").nth(number)
        names.append(result.locator("h3 a").text_content().strip())
        if number == 0:
            act.type(result.get_by_label("New plan for client"), client_ref, "New plan for client")
        act.click(result.get_by_role("button", name="Add to plan"), f"Add to plan ({names[-1]})")
        page.wait_for_selector(".flash")
        if "Added" not in page.text_content(".flash"):
            raise AssertionError(page.text_content(".flash"))
    act.click(page.get_by_role("link", name=f"Open the plan for {client_ref}"), "Open the plan")
    page.wait_for_selector("h1:has-text('Plan for')")
    for name in names:
        if name not in page.text_content("main"):
            raise AssertionError(f"{name} is not in the plan")
    act.click(
        page.get_by_role("button", name="Make a share link and put it in the text"),
        "Make a share link",
    )
    link = page.text_content("code.share-link").strip()
    if not page.input_value("#sms-text").endswith(link):
        raise AssertionError("the text message does not end with the share link")
    act.click(page.get_by_role("button", name="Copy the text"), "Copy the text")
    page.wait_for_selector(".copy-status:has-text('Copied')")
    act.click(page.get_by_role("link", name="Print the client's page"), "Print the client's page")
    # wait_for_function evaluates a string in the page, which the site's CSP refuses.
    for _ in range(100):
        if page.evaluate("() => window.__printed === true"):
            return act
        page.wait_for_timeout(100)
    raise AssertionError("the client's page did not open the print dialog")


def sign_in(browser, base_url: str, db_path: Path):
    """A page signed in, through the sign-in form, as a link worker made for the run."""
    from tests.browser.conftest import watched_page
    from tests.conftest import ROLE_EMAILS, TEST_PASSWORD, add_user

    add_user(db_path, "link_worker")
    page = watched_page(browser, base_url)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{base_url}/login")
    page.fill("#email", ROLE_EMAILS["link_worker"])
    page.fill("#password", TEST_PASSWORD)
    page.click("form.stacked-form button[type=submit]")
    page.wait_for_load_state()
    return page


def build_demo(folder: Path) -> Path:
    """The demo database, as `make run` builds it, in `folder`."""
    sys.path.insert(0, str(ROOT))
    from assetmap.record.loading import load_file
    from assetmap.store import connect, initialise
    from tests.test_imports_support import load_trafford_postcodes

    path = folder / "assetmap.db"
    initialise(path)
    db = connect(path)
    load_file(db, ROOT / "data" / "assets.geojson", who="time_link_worker_task")
    db.close()
    load_trafford_postcodes(path)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postcode", default="M33 7ZF")
    parser.add_argument("--interests", default="walking, gardening")
    parser.add_argument("--client-ref", default="SP-0042")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import sync_playwright

    from assetmap import create_app
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, serving

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # not a line per request
    with tempfile.TemporaryDirectory() as folder:
        db_path = build_demo(Path(folder))
        app = create_app({"ASSETMAP_DB": str(db_path), "SECRET_KEY": os.urandom(16).hex()})
        with serving(app) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = sign_in(browser, url, db_path)
            act = run_task(page, url, args.postcode, args.interests, args.client_ref)
            browser.close()
    for seconds, what in act.log:
        print(f"{seconds:6.2f} s  {what}")
    verdict = "within" if act.count <= TARGET else "over"
    print(f"{act.count} actions ({verdict} the target of {TARGET}), {act.log[-1][0]:.1f} s")
    return 0 if act.count <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
