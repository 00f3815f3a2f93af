"""A link worker's search, end to end, in Chromium (issue 15, items 7 and 9): the timed task
from a postcode and interests to three activities in a plan, printed and texted, stays within
12 actions; and the search page's small breaks stay mended."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from tests import engines
from tests.browser.conftest import BLANK_TILES, serving, watched_page

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


def _task_script():
    spec = importlib.util.spec_from_file_location(
        "time_link_worker_task", ROOT / "scripts" / "time_link_worker_task.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory, demo_template):
    """The demo data (real Trafford places) and Trafford's postcodes, served."""

    from assetmap import create_app

    folder = tmp_path_factory.mktemp("demo")
    db_path = engines.copy_database(demo_template, engines.new_target(folder, keep=True))
    app = create_app(
        {"ASSETMAP_DB": str(db_path), "SECRET_KEY": "browser-tests-only", **BLANK_TILES}
    )
    with serving(app) as url:
        yield url, db_path


def test_postcode_and_interests_to_three_activities_printed_and_texted_in_12_actions(
    browser, demo_server
):
    task = _task_script()
    url, db_path = demo_server
    page = task.sign_in(browser, url, db_path)
    try:
        done = task.run_task(page, url, "M33 7ZF", "walking, gardening", "SP-TIMED-1")
        assert done.count <= task.TARGET == 12, "\n".join(what for _, what in done.log)
        assert page.watch.errors == [] and page.watch.outside_requests == []
    finally:
        page.context.close()


def test_the_distance_chosen_stays_after_following_a_wider_search(browser, demo_server):
    url, _ = demo_server
    page = watched_page(browser, url)
    try:
        page.goto(f"{url}/search?postcode=M33+7ZF&radius_km=5&q=zzzyqx")
        page.get_by_role("link", name="Search within 12.5 km").click()
        page.wait_for_selector("#results-heading")
        assert page.input_value("#search-radius_km") == "12.5"
        page.get_by_role("button", name="Search").click()  # searching again keeps it
        assert "within 12.5 km" in page.text_content("#results-heading")
    finally:
        page.context.close()


def test_a_search_that_finds_nothing_has_no_script_errors(page):
    page.goto(f"{page.base_url}/search?lat=53.43&lon=-2.31&radius_km=0.5&q=zzzyqx")
    assert "0 found" in page.text_content("#results-heading")
    page.wait_for_load_state("load")
    assert page.watch.errors == []


def test_a_long_postcode_stays_inside_its_error_boxes_on_a_phone(browser, live_server):
    page = watched_page(browser, live_server, viewport={"width": 320, "height": 700})
    try:
        page.goto(f"{live_server}/search?postcode=" + "M" * 120)
        for box in (".error-summary", ".field-error"):
            width = page.eval_on_selector(box, "e => [e.scrollWidth, e.clientWidth]")
            assert width[0] <= width[1], box
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    finally:
        page.context.close()


def test_keywords_without_a_postcode_say_one_is_needed(page):
    page.goto(f"{page.base_url}/search")
    page.fill("#search-q", "walking")
    page.get_by_role("button", name="Search").click()
    assert "Type a postcode to search near" in page.text_content(".error-summary")
    assert page.input_value("#search-q") == "walking"
    assert page.get_attribute("#search-q", "maxlength") == "200"
