"""Large imports in the background: claiming, progress, cancel, a dead worker, failures.

The store's claim and heartbeat rules are tested on their own; the runner is tested by
running claimed jobs in the test's own thread (run_job), and once through the worker thread
as the web app starts it. Every failure and cancel is checked to leave the database exactly
as it was (apart from the jobs table, which records what happened).
"""

from __future__ import annotations

import io
import re
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assetmap.imports import jobs
from assetmap.imports import pipeline as pipeline_module
from assetmap.imports.limits import ImportLimits
from assetmap.imports.pending import PendingUploads
from assetmap.store import connect
from assetmap.store import imports as import_store
from assetmap.store import jobs as store
from tests import engines
from tests.test_imports_support import files_dir, fingerprint

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from bench_import import write_synthetic_csv  # noqa: E402

WHO = "coordinator@example.org"


@pytest.fixture
def db_path(trafford_db_path):
    return trafford_db_path


@pytest.fixture
def db(db_path):
    database = connect(db_path)
    yield database
    database.close()


@pytest.fixture
def settings(db_path):
    return jobs.JobSettings(
        db_path=str(db_path),
        archive_dir=files_dir(db_path) / "imports",
        bounds=None,
        limits=ImportLimits(),
    )


@pytest.fixture(autouse=True)
def no_workers_left():
    yield
    jobs.stop_workers()


def everything_but_jobs(path: Path) -> str:
    """A hash of every row of every table but the jobs table (see test_imports_support's
    fingerprint): what an import changes, and nothing else."""
    return fingerprint(path, leave_out=frozenset({"jobs"}))


def uploaded(settings, tmp_path, rows: int = 1200, **options):
    """A synthetic audit of `rows` rows kept as a pending upload, as the import page keeps it."""
    audit = tmp_path / "big-audit.csv"
    write_synthetic_csv(audit, rows, ref_prefix="JOB")
    with audit.open("rb") as stream:
        return PendingUploads(settings.pending_dir).save(
            stream,
            "big-audit.csv",
            uploaded_by=WHO,
            options={"source": "", "sheet": "", "mapping_name": "", **options},
        )


def claimed(db, kind: str, pending) -> dict:
    job_id = store.create(
        db, kind=kind, who=WHO, file_name=pending.file_name, upload=pending.token, rows_total=1200
    )
    job = store.claim_next(db, "tests")
    assert job["id"] == job_id and job["state"] == store.RUNNING
    return job


def previewed(db, settings, pending) -> None:
    job = claimed(db, store.PREVIEW, pending)
    jobs.run_job(db, job, settings)
    assert store.get(db, job["id"])["state"] == store.DONE


def test_a_queued_job_is_claimed_by_exactly_one_of_many_workers(db, db_path):
    job_id = store.create(db, kind=store.PREVIEW, who=WHO, file_name="a.csv", upload="x" * 22)
    start = threading.Barrier(6)
    claims = []

    def claim(n: int) -> None:
        own = connect(db_path)
        try:
            start.wait()
            claims.append(store.claim_next(own, f"worker {n}"))
        finally:
            own.close()

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [c for c in claims if c is not None]
    assert len(won) == 1 and won[0]["id"] == job_id
    job = store.get(db, job_id)
    assert job["state"] == store.RUNNING and job["worker"] == won[0]["worker"]
    assert store.claim_next(db, "late") is None


def test_jobs_are_claimed_oldest_first(db):
    first = store.create(db, kind=store.PREVIEW, who=WHO, file_name="a.csv")
    second = store.create(db, kind=store.APPLY, who=WHO, file_name="b.csv")
    assert store.claim_next(db, "w")["id"] == first
    assert store.claim_next(db, "w")["id"] == second


def test_a_job_whose_heartbeat_stopped_is_failed_with_words_saying_so(db):
    dead = store.create(db, kind=store.APPLY, who=WHO, file_name="dead.csv")
    alive = store.create(db, kind=store.APPLY, who=WHO, file_name="alive.csv")
    store.claim_next(db, "killed process")
    store.claim_next(db, "live process")
    db.conn.execute("UPDATE jobs SET heartbeat_at = '2026-01-01T00:00:00Z' WHERE id = ?", [dead])
    assert jobs.fail_stale(db) == [dead]
    failed = store.get(db, dead)
    assert failed["state"] == store.FAILED and failed["finished_at"]
    assert "process running it ended" in failed["message"]
    assert "Nothing was imported" in failed["message"]
    assert store.get(db, alive)["state"] == store.RUNNING


def test_a_queued_job_cancelled_never_runs(db):
    job_id = store.create(db, kind=store.PREVIEW, who=WHO, file_name="a.csv")
    assert jobs.cancel(db, job_id) == store.CANCELLED
    assert store.claim_next(db, "w") is None
    assert "nothing was imported" in store.get(db, job_id)["message"]


def test_a_finished_job_cannot_be_cancelled(db):
    job_id = store.create(db, kind=store.PREVIEW, who=WHO, file_name="a.csv")
    store.claim_next(db, "w")
    store.finish(db, job_id, store.DONE, "Checked.")
    assert jobs.cancel(db, job_id) is None
    assert store.get(db, job_id)["state"] == store.DONE


def test_rows_are_counted_from_a_text_file_and_guessed_from_a_workbook(tmp_path):
    audit = tmp_path / "audit.csv"
    write_synthetic_csv(audit, 300)
    assert jobs.estimate_rows(audit, "audit.csv") == 300
    assert jobs.in_background(audit, "audit.csv", 299)
    assert not jobs.in_background(audit, "audit.csv", 300)
    book = tmp_path / "audit.xlsx"
    book.write_bytes(b"x" * 80_000)
    assert jobs.estimate_rows(book, "Audit.XLSX") == 1000


def test_a_background_preview_records_progress_and_keeps_its_report(
    db, db_path, settings, tmp_path, monkeypatch
):
    monkeypatch.setattr(jobs, "PROGRESS_SECONDS", 0)
    seen = []
    report_progress = store.report_progress

    def watched(database, job_id, stage, counters):
        report_progress(database, job_id, stage, counters)
        seen.append(dict(counters))

    monkeypatch.setattr(store, "report_progress", watched)
    pending = uploaded(settings, tmp_path, rows=1200)
    before = everything_but_jobs(db_path)
    job = claimed(db, store.PREVIEW, pending)
    jobs.run_job(db, job, settings)
    done = store.get(db, job["id"])
    assert done["state"] == store.DONE, done["message"]
    assert done["message"].startswith("Checked big-audit.csv: 1200 new, 0 changed")
    assert (done["rows_read"], done["rows_checked"], done["rows_matched"]) == (1200, 1200, 1200)
    assert done["rows_written"] == 0  # a preview writes nothing
    matched = [c["rows_matched"] for c in seen]
    assert matched == [0, 500, 1000, 1200]  # at the start, then after each batch of rows
    assert all(c["rows_read"] >= c["rows_checked"] >= c["rows_matched"] for c in seen)
    kept = PendingUploads(settings.pending_dir).get(pending.token, uploaded_by=WHO)
    assert kept.report["counts"]["new"] == 1200
    assert everything_but_jobs(db_path) == before


def test_a_background_apply_writes_the_run_and_says_so(db, settings, tmp_path):
    pending = uploaded(settings, tmp_path, rows=700)
    previewed(db, settings, pending)
    pending = PendingUploads(settings.pending_dir).get(pending.token, uploaded_by=WHO)
    job = claimed(db, store.APPLY, pending)
    jobs.run_job(db, job, settings)
    done = store.get(db, job["id"])
    assert done["state"] == store.DONE, done["message"]
    assert done["run_id"] and done["message"].startswith("Imported big-audit.csv: 700 new")
    assert done["rows_written"] == 700
    run = import_store.get_run(db, done["run_id"])
    assert run["new_count"] == 700 and run["imported_by"] == WHO
    assert PendingUploads(settings.pending_dir).get(pending.token, uploaded_by=WHO) is None


def test_cancelling_a_running_apply_leaves_the_database_exactly_as_it_was(
    db, db_path, settings, tmp_path, monkeypatch
):
    monkeypatch.setattr(pipeline_module, "BATCH_ROWS", 100)
    pending = uploaded(settings, tmp_path, rows=1200)
    previewed(db, settings, pending)
    before = everything_but_jobs(db_path)
    job = claimed(db, store.APPLY, pending)
    progress = jobs.Monitor.progress

    def cancelled_after_the_third_batch(monitor, counts, **kw):
        if counts.matched == 300:
            other = connect(db_path)
            jobs.cancel(other, job["id"])  # as the cancel button does, from another request
            other.close()
        return progress(monitor, counts, **kw)

    monkeypatch.setattr(jobs.Monitor, "progress", cancelled_after_the_third_batch)
    jobs.run_job(db, job, settings)
    ended = store.get(db, job["id"])
    assert ended["state"] == store.CANCELLED
    assert "nothing was imported from big-audit.csv" in ended["message"]
    assert ended["rows_matched"] == 300 and ended["rows_written"] == 0
    assert everything_but_jobs(db_path) == before
    assert import_store.list_runs(db) == []
    # The preview is kept, to import later.
    assert PendingUploads(settings.pending_dir).get(pending.token, uploaded_by=WHO) is not None


def test_cancelling_during_the_last_check_before_saving_writes_nothing(
    db, db_path, settings, tmp_path, monkeypatch
):
    pending = uploaded(settings, tmp_path, rows=300)
    previewed(db, settings, pending)
    before = everything_but_jobs(db_path)
    job = claimed(db, store.APPLY, pending)
    on_stage = jobs.Monitor.on_stage

    def cancelled_when_saving_begins(monitor, counts):
        if counts.stage == "saving":
            jobs.cancel(monitor.db, job["id"])
        return on_stage(monitor, counts)

    monkeypatch.setattr(jobs.Monitor, "on_stage", cancelled_when_saving_begins)
    jobs.run_job(db, job, settings)
    assert store.get(db, job["id"])["state"] == store.CANCELLED
    assert everything_but_jobs(db_path) == before


def test_an_apply_that_fails_while_writing_leaves_the_database_as_it_was(
    db, db_path, settings, tmp_path, monkeypatch
):
    pending = uploaded(settings, tmp_path, rows=600)
    previewed(db, settings, pending)
    before = everything_but_jobs(db_path)
    # Each batch of rows is written (on PostgreSQL: staged, before the write lock) by one call.
    batch_writer = "stage_rows" if engines.on_postgresql() else "write_rows"
    write_rows = getattr(import_store, batch_writer)
    calls = []

    def fails_on_the_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return write_rows(*args, **kwargs)

    monkeypatch.setattr(import_store, batch_writer, fails_on_the_second_batch)
    job = claimed(db, store.APPLY, pending)
    jobs.run_job(db, job, settings)
    failed = store.get(db, job["id"])
    assert failed["state"] == store.FAILED and len(calls) == 2
    assert "unexpected error" in failed["message"] and "Nothing was imported" in failed["message"]
    assert everything_but_jobs(db_path) == before
    assert not list((Path(settings.archive_dir)).glob("*big-audit.csv"))  # no archived copy


def test_a_file_changed_after_its_preview_is_refused_by_the_job(db, db_path, settings, tmp_path):
    pending = uploaded(settings, tmp_path, rows=50)
    previewed(db, settings, pending)
    with pending.path.open("a", encoding="utf-8") as f:
        f.write("JOB-X,Added later,,group,access_community_resources,,,M33 7ZF\n")
    before = everything_but_jobs(db_path)
    job = claimed(db, store.APPLY, pending)
    jobs.run_job(db, job, settings)
    failed = store.get(db, job["id"])
    assert failed["state"] == store.FAILED
    assert "is not the file that was previewed" in failed["message"]
    assert everything_but_jobs(db_path) == before


def test_a_file_the_import_cannot_read_fails_its_preview_with_the_reason(db, settings):
    pending = PendingUploads(settings.pending_dir).save(
        io.BytesIO(b"Name,Kind,Strand,Postcode\n"),
        "empty.csv",
        uploaded_by=WHO,
        options={},
    )
    job = claimed(db, store.PREVIEW, pending)
    jobs.run_job(db, job, settings)
    failed = store.get(db, job["id"])
    assert failed["state"] == store.FAILED
    assert failed["message"].startswith("Nothing was imported: empty.csv has column headings")


def test_a_job_waits_for_another_import_and_can_be_cancelled_meanwhile(
    db, settings, tmp_path, monkeypatch
):
    from assetmap.imports import storage

    monkeypatch.setattr(jobs, "WAIT_SECONDS", 0.05)
    pending = uploaded(settings, tmp_path, rows=20)
    job = claimed(db, store.PREVIEW, pending)
    stages = []

    def other_import() -> None:
        own = connect(settings.db_path)
        with storage.one_at_a_time(settings.archive_dir):
            while not stages:
                time.sleep(0.02)
                stage = store.get(own, job["id"])["stage"]
                if stage.startswith("waiting for another import"):
                    stages.append(stage)
            jobs.cancel(own, job["id"])
        own.close()

    holder = threading.Thread(target=other_import)
    holder.start()
    time.sleep(0.1)
    jobs.run_job(db, job, settings)
    holder.join()
    assert stages == ["waiting for another import to finish"]
    assert store.get(db, job["id"])["state"] == store.CANCELLED


def test_the_worker_thread_runs_a_queued_preview_to_the_end(db, settings, tmp_path):
    pending = uploaded(settings, tmp_path, rows=300)
    job_id = jobs.queue_preview(db, pending, settings)
    deadline = time.monotonic() + 30
    while store.get(db, job_id)["state"] in (store.QUEUED, store.RUNNING):
        assert time.monotonic() < deadline, "the worker did not finish the job"
        time.sleep(0.1)
    job = store.get(db, job_id)
    assert job["state"] == store.DONE and job["rows_matched"] == 300
    assert job["worker"].endswith(f":{__import__('os').getpid()}")
    assert jobs.bar(job) == {"value": 1, "max": 1, "percent": 100}


def test_progress_in_words_says_how_far_and_of_about_how_many(db):
    job = {
        "kind": store.PREVIEW,
        "state": store.RUNNING,
        "stage": "reading",
        "rows_read": 12000,
        "rows_checked": 11500,
        "rows_matched": 11000,
        "rows_written": 0,
        "rows_total": 50000,
        "rows_to_write": None,
        "message": "",
    }
    assert jobs.describe(job) == (
        "Checking: 12,000 of about 50,000 rows read, 11,500 checked, 11,000 matched to assets."
    )
    assert jobs.bar(job) == {"value": 11000, "max": 50000, "percent": 22}
    saving = {**job, "kind": store.APPLY, "stage": "saving", "rows_to_write": 49000}
    assert jobs.describe(saving).startswith("Saving 49,000 assets in one go")
    assert jobs.bar(saving)["max"] is None  # the write is one transaction: no false bar


# ---------------------------------------------------------------------------------------------
# The pages (Flask's test client)
# ---------------------------------------------------------------------------------------------


def make_app(db_path, **config):
    from assetmap import create_app

    return create_app(
        {
            "ASSETMAP_DB": str(db_path),
            "ASSETMAP_FILES_DIR": str(files_dir(db_path)),
            "SECRET_KEY": "test-only",
            "TESTING": True,
            "ASSETMAP_IMPORT_BACKGROUND_ROWS": "100",
            **config,
        }
    )


def signed_in(app, role="coordinator", email=None):
    from tests.conftest import add_user, give_session

    user = add_user(app.config["ASSETMAP_DB"], role, email)
    client = app.test_client()
    give_session(client, app.config["ASSETMAP_DB"], user)
    return client


def upload_synthetic(client, tmp_path, rows: int, **fields):
    audit = tmp_path / f"audit-{rows}.csv"
    write_synthetic_csv(audit, rows, ref_prefix="WEB")
    data = {"file": (io.BytesIO(audit.read_bytes()), "big-audit.csv"), **fields}
    return client.post("/manage/imports/", data=data, content_type="multipart/form-data")


def finished(client, job_url: str) -> dict:
    """The job's JSON once it has finished (the worker thread runs it meanwhile)."""
    deadline = time.monotonic() + 30
    while True:
        answer = client.get(f"{job_url}/progress.json")
        assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
        job = answer.get_json()
        if job["finished"]:
            return job
        assert time.monotonic() < deadline, f"the job did not finish: {job}"
        time.sleep(0.1)


def test_a_large_upload_is_previewed_then_imported_in_the_background(db_path, tmp_path):
    app = make_app(db_path, WTF_CSRF_ENABLED=False)
    client = signed_in(app)
    answer = upload_synthetic(client, tmp_path, 400)
    assert answer.status_code == 302
    job_url = answer.headers["Location"]
    assert job_url.startswith("/manage/imports/jobs/")
    page = client.get(job_url).get_data(as_text=True)
    assert '<progress id="job-progress"' in page and "Rows read" in page
    job = finished(client, job_url)
    assert job["state"] == "done" and job["rows_matched"] == 400, job
    assert job["status"].startswith("Checked big-audit.csv: 400 new")
    preview_page = client.get(job["result_url"]).get_data(as_text=True)
    assert "Import now: 400 new, 0 changed" in preview_page
    index = client.get("/manage/imports/").get_data(as_text=True)
    assert "Your imports in progress" in index and "See the preview" in index
    token = job["result_url"].rsplit("/", 1)[1]
    answer = client.post(f"/manage/imports/preview/{token}/confirm")
    assert answer.status_code == 302 and answer.headers["Location"].startswith(
        "/manage/imports/jobs/"
    )
    applied = finished(client, answer.headers["Location"])
    assert applied["state"] == "done" and applied["rows_written"] == 400, applied
    assert applied["rows_total"] == 400 and applied["rows_to_write"] == 400
    assert applied["result_url"].startswith("/manage/imports/runs/")
    run_page = client.get(applied["result_url"]).get_data(as_text=True)
    assert "big-audit.csv" in run_page
    # A second confirm of the same upload finds nothing left to import.
    assert client.post(f"/manage/imports/preview/{token}/confirm").status_code == 404


def test_a_small_upload_is_still_previewed_within_the_request(db_path, tmp_path):
    app = make_app(db_path, WTF_CSRF_ENABLED=False)
    client = signed_in(app)
    answer = upload_synthetic(client, tmp_path, 100)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/manage/imports/preview/")
    connection = connect(db_path)
    assert connection.conn.execute("SELECT count(*) FROM jobs").fetchone()[0] == 0
    connection.close()


def test_a_job_is_its_coordinators_own_and_other_roles_cannot_see_it(db_path, tmp_path):
    app = make_app(db_path, WTF_CSRF_ENABLED=False)
    owner = signed_in(app)
    job_url = upload_synthetic(owner, tmp_path, 150).headers["Location"]
    finished(owner, job_url)
    other = signed_in(app, "coordinator", "other.coordinator@example.org")
    for url in (job_url, f"{job_url}/progress.json"):
        assert other.get(url).status_code == 404
    assert other.post(f"{job_url}/cancel").status_code == 404
    assert "big-audit.csv" not in other.get("/manage/imports/").get_data(as_text=True)
    for role in ("link_worker", "admin"):
        assert signed_in(app, role).get(job_url).status_code == 403
    assert app.test_client().get(job_url).status_code == 302  # to sign in


def test_the_page_of_a_waiting_job_refreshes_itself_without_javascript(db_path, db, monkeypatch):
    monkeypatch.setattr(jobs, "ensure_worker", lambda settings: None)
    app = make_app(db_path)
    client = signed_in(app)
    job_id = store.create(db, kind=store.PREVIEW, who=WHO, file_name="big.csv", upload="x" * 22)
    page = client.get(f"/manage/imports/jobs/{job_id}").get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert "Waiting to start." in page and "Cancel this import" in page
    assert re.search(r"/static/js/import-job\.[0-9a-f]{12}\.js", page)  # its hashed name


def test_cancel_needs_the_csrf_token_and_then_stops_the_job(db_path, db, monkeypatch):
    from tests.conftest import csrf_token

    monkeypatch.setattr(jobs, "ensure_worker", lambda settings: None)
    app = make_app(db_path)  # CSRF on, as in production
    client = signed_in(app)
    job_id = store.create(db, kind=store.PREVIEW, who=WHO, file_name="big.csv", upload="x" * 22)
    url = f"/manage/imports/jobs/{job_id}"
    assert client.post(f"{url}/cancel").status_code == 400
    assert store.get(db, job_id)["state"] == store.QUEUED
    answer = client.post(f"{url}/cancel", data={"csrf_token": csrf_token(client, url)})
    assert answer.status_code == 302
    job = store.get(db, job_id)
    assert job["state"] == store.CANCELLED
    page = client.get(url).get_data(as_text=True)
    assert "Cancelled: nothing was imported from big.csv" in page
    assert "<noscript><meta" not in page  # finished: no more refreshing


def test_a_running_job_beats_its_heartbeat_from_a_thread_of_its_own(db, db_path, monkeypatch):
    monkeypatch.setattr(jobs, "HEARTBEAT_SECONDS", 0.05)
    job_id = store.create(db, kind=store.APPLY, who=WHO, file_name="a.csv")
    store.claim_next(db, "w")
    db.conn.execute("UPDATE jobs SET heartbeat_at = '2026-01-01T00:00:00Z' WHERE id = ?", [job_id])
    with jobs.Monitor(str(db_path), job_id):
        time.sleep(0.3)
    assert store.get(db, job_id)["heartbeat_at"] > "2026-01-02"
    assert jobs.fail_stale(db) == []


def test_the_command_line_shows_the_same_progress_on_one_updating_line(capsys, monkeypatch):
    from assetmap.cli import imports as cli_imports
    from assetmap.imports.pipeline import Progress

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert cli_imports._progress() is None  # piped or redirected: nothing extra
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    show = cli_imports._progress()
    show(Progress("reading", read=12000, checked=11500, matched=11000))
    show(Progress("saving", read=50000, checked=50000, matched=50000, to_write=49000))
    show(Progress("saved", read=50000, checked=50000, matched=50000, written=49000))
    assert capsys.readouterr().err == (
        "\r12,000 rows read, 11,500 checked, 11,000 matched\x1b[K"
        "\r50,000 rows checked; saving 49,000 in one go\x1b[K"
        "\r50,000 rows checked; 49,000 saved\x1b[K"
    )


def test_worker_processes_are_used_only_on_a_machine_with_cores_to_spare():
    from assetmap.imports.parallel import default_workers

    assert [default_workers(cores) for cores in (1, 2, 3, 4, 6, 16)] == [0, 0, 1, 2, 4, 4]


def test_a_preview_still_being_made_sends_the_coordinator_to_its_progress(
    db_path, db, settings, tmp_path, monkeypatch
):
    monkeypatch.setattr(jobs, "ensure_worker", lambda settings: None)
    app = make_app(db_path, WTF_CSRF_ENABLED=False)
    client = signed_in(app)
    pending = uploaded(settings, tmp_path, rows=300)
    job_id = jobs.queue_preview(db, pending, settings)
    for answer in (
        client.get(f"/manage/imports/preview/{pending.token}"),
        client.post(f"/manage/imports/preview/{pending.token}/confirm"),
    ):
        assert answer.status_code == 302
        assert answer.headers["Location"] == f"/manage/imports/jobs/{job_id}"
    assert [j["kind"] for j in store.for_upload(db, pending.token)] == [store.PREVIEW]


def test_a_quiet_job_is_failed_only_once_its_process_has_ended(db):
    """A job's beats also pause during its import's final write; its process still runs."""
    import os
    import subprocess

    ended = subprocess.Popen(["true"])
    ended.wait()
    host = os.uname().nodename
    dead = store.create(db, kind=store.APPLY, who=WHO, file_name="dead.csv")
    writing = store.create(db, kind=store.APPLY, who=WHO, file_name="writing.csv")
    store.claim_next(db, f"{host}:{ended.pid}")
    store.claim_next(db, f"{host}:{os.getpid()}")
    twenty_seconds_ago = datetime.now(UTC) - timedelta(seconds=20)
    db.conn.execute(
        "UPDATE jobs SET heartbeat_at = ?", [twenty_seconds_ago.strftime("%Y-%m-%dT%H:%M:%SZ")]
    )
    assert jobs.fail_stale(db) == [dead]
    assert store.get(db, writing)["state"] == store.RUNNING
    assert "Nothing was imported" in store.get(db, dead)["message"]


def test_a_cancel_that_arrives_while_the_rows_are_being_saved_does_not_claim_nothing_was_saved(
    db, settings, tmp_path, monkeypatch
):
    pending = uploaded(settings, tmp_path, rows=200)
    previewed(db, settings, pending)
    job = claimed(db, store.APPLY, pending)
    on_stage = jobs.Monitor.on_stage

    def cancelled_just_after_saving_began(monitor, counts):
        on_stage(monitor, counts)
        if counts.stage == "saving":  # past the last check: the write is under way
            db.conn.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", [job["id"]])

    monkeypatch.setattr(jobs.Monitor, "on_stage", cancelled_just_after_saving_began)
    jobs.run_job(db, job, settings)
    done = store.get(db, job["id"])
    assert done["state"] == store.DONE and done["run_id"]
    assert done["message"].startswith("Imported big-audit.csv: 200 new")
    assert import_store.get_run(db, done["run_id"])["new_count"] == 200


def test_the_cancel_button_says_why_a_saving_import_cannot_be_stopped(db_path, db, monkeypatch):
    monkeypatch.setattr(jobs, "ensure_worker", lambda settings: None)
    app = make_app(db_path, WTF_CSRF_ENABLED=False)
    client = signed_in(app)
    job_id = store.create(db, kind=store.APPLY, who=WHO, file_name="big.csv", upload="x" * 22)
    store.claim_next(db, "w")
    store.report_progress(db, job_id, "saving", {"rows_read": 10})
    page = client.get(f"/manage/imports/jobs/{job_id}").get_data(as_text=True)
    assert "Cancel this import" not in page and "in one go" in page
    answer = client.post(f"/manage/imports/jobs/{job_id}/cancel", follow_redirects=True)
    assert "cannot be stopped now" in answer.get_data(as_text=True)
    assert not store.cancel_requested(db, job_id)


def test_a_large_upload_without_kind_or_strand_goes_on_to_choosing_its_columns(db_path, tmp_path):
    # Refused for its columns alone in the background, the file is kept, as a small one is.
    app = make_app(db_path, WTF_CSRF_ENABLED=False)
    client = signed_in(app)
    audit = tmp_path / "no-kind.csv"
    lines = ["Ref,Name,Postcode\n"] + [f"N{n},Club {n},M33 7ZF\n" for n in range(150)]
    audit.write_text("".join(lines), encoding="utf-8")
    data = {"file": (io.BytesIO(audit.read_bytes()), "no-kind.csv")}
    answer = client.post("/manage/imports/", data=data, content_type="multipart/form-data")
    job_url = answer.headers["Location"]
    assert job_url.startswith("/manage/imports/jobs/")
    job = finished(client, job_url)
    assert job["state"] == "failed" and job["result_url"].endswith("/columns"), job
    assert "The file is kept" in client.get(job_url).get_data(as_text=True)
    mapping_page = client.get(job["result_url"])
    assert mapping_page.status_code == 200
    assert "no-kind.csv" in mapping_page.get_data(as_text=True)
