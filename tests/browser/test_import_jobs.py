"""A large import in a real browser: the file goes to a background job, the page shows its
progress, the coordinator browses elsewhere, and the preview and then the run appear.

The threshold is lowered (ASSETMAP_IMPORT_BACKGROUND_ROWS) so that a file of 1,500
synthetic rows counts as large, and each batch of rows waits a moment so that the
job runs long enough to be watched, as a 50,000-row file would be; the whole test takes
about ten seconds.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from assetmap import create_app
from assetmap.imports import jobs
from assetmap.imports import pipeline as pipeline_module
from tests.browser.conftest import BLANK_TILES, serving, watched_page
from tests.browser.test_resident import serious_violations
from tests.conftest import ROLE_EMAILS, TEST_PASSWORD, add_user

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from bench_import import write_synthetic_csv  # noqa: E402

pytestmark = pytest.mark.browser

ROWS = 1500


@pytest.fixture
def slow_batches(monkeypatch):
    """Batches of 100 rows, each taking at least 0.12 s more: about 2 s of checking."""
    monkeypatch.setattr(pipeline_module, "BATCH_ROWS", 100)
    progress = jobs.Monitor.progress

    def slowly(monitor, counts, **kwargs):
        time.sleep(0.12)
        return progress(monitor, counts, **kwargs)

    monkeypatch.setattr(jobs.Monitor, "progress", slowly)
    monkeypatch.setattr(jobs, "PROGRESS_SECONDS", 0.2)
    yield
    jobs.stop_workers()


def test_a_large_file_is_checked_and_imported_while_the_coordinator_browses_elsewhere(
    browser, trafford_db_path, tmp_path, slow_batches
):
    audit = tmp_path / "council-audit.csv"
    write_synthetic_csv(audit, ROWS, ref_prefix="BRJ")
    app = create_app(
        {
            "ASSETMAP_DB": str(trafford_db_path),
            "SECRET_KEY": "browser-tests-only",
            **BLANK_TILES,
            "ASSETMAP_FILES_DIR": str(tmp_path / "files"),  # not ./instance on PostgreSQL
            "ASSETMAP_IMPORT_BACKGROUND_ROWS": "500",
        }
    )
    add_user(trafford_db_path, "coordinator")
    with serving(app) as base_url:
        page = watched_page(browser, base_url)
        polled = []
        page.on(
            "response",
            lambda answer: polled.append(answer.url) if "progress.json" in answer.url else None,
        )
        try:
            page.goto(f"{base_url}/login?next=/manage/imports/")
            page.fill("#email", ROLE_EMAILS["coordinator"])
            page.fill("#password", TEST_PASSWORD)
            page.click("form.stacked-form button[type=submit]")
            page.wait_for_url("**/manage/imports/")
            page.set_input_files("#file", str(audit))
            page.click("form.stacked-form button[type=submit]")

            # The job's page: a labelled progress bar that moves, and words that say how far.
            page.wait_for_url("**/manage/imports/jobs/*")
            job_url = page.url
            values = set()
            deadline = time.monotonic() + 20
            while not any(0 < value < ROWS for value in values):
                assert time.monotonic() < deadline, f"the bar did not move: {values}"
                values.add(float(page.get_attribute("#job-progress", "value") or 0))
                time.sleep(0.1)
            assert "rows read" in page.inner_text("#job-status")
            assert page.get_attribute("#job-progress", "aria-describedby") == "job-status"
            assert serious_violations(page) == []
            assert polled, "the page did not poll the job's progress"

            # Away to another page while it runs; the import page lists it.
            page.goto(f"{base_url}/map")
            page.goto(f"{base_url}/manage/imports/")
            assert "Your imports in progress" in page.inner_text("main")
            deadline = time.monotonic() + 30
            while not page.locator("#your-imports + table a:has-text('See the preview')").count():
                assert time.monotonic() < deadline, page.inner_text("main")
                time.sleep(0.5)
                page.reload()
            page.click("#your-imports + table a:has-text('See the preview')")
            page.wait_for_selector("text=Nothing has been saved yet")
            body = " ".join(page.inner_text("main").split())
            assert f"New assets {ROWS}" in body

            # Confirming starts the import job; its page goes to the run when it is done.
            page.click(f"text=Import now: {ROWS} new, 0 changed")
            page.wait_for_url("**/manage/imports/jobs/*")
            assert page.url != job_url
            page.wait_for_url("**/manage/imports/runs/*", timeout=30_000)
            page.wait_for_selector("button:has-text('Undo this import')")
            assert "council-audit.csv" in page.inner_text("main")
            assert page.watch.dialogs == [] and page.watch.errors == []
            assert page.watch.outside_requests == []
        finally:
            page.context.close()
