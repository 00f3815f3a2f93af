"""Large imports in the background: a worker thread that previews and applies them.

A request must answer within seconds, and checking 50,000 rows takes a core for a minute or
more. So the import page hands a file over the threshold (ASSETMAP_IMPORT_BACKGROUND_ROWS) to
a job (assetmap.store.jobs) and answers at once with a page that shows the job's progress.
Each server process runs at most one worker thread, started when a job is queued there (or
when an import page finds one waiting); several processes share the queue, and the claim in
the database gives each job to one of them. A worker with nothing to do for a while ends,
so idle processes keep no thread or connection open.

While a job runs, a second thread beats its heartbeat; if the process is killed the beats
stop and the job is marked failed. The import itself writes only in its own final
transaction (assetmap.imports.pipeline), so a job that failed or was cancelled wrote nothing.
The server's one-import-at-a-time place (storage.one_at_a_time) still holds: a job waits for
it, showing so, rather than failing.

Nothing here knows about Flask: the web module builds a JobSettings from the app's config.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from assetmap.imports import storage
from assetmap.imports.columns import ColumnsRefused
from assetmap.imports.limits import ImportLimits
from assetmap.imports.mapping import Mapping, load_mapping
from assetmap.imports.pending import Pending, PendingUploads
from assetmap.imports.pipeline import Cancelled, ImportOptions, Progress, apply, preview
from assetmap.imports.problems import ImportFileError
from assetmap.store import jobs as store
from assetmap.store.connection import NotReady, connect_ready, is_busy

log = logging.getLogger(__name__)

# A running job's heartbeat is written this often. A job whose beats stopped is taken for
# dead when its process on this machine has ended, or (run on another machine) after
# STALE_SECONDS: well over the longest its import's final write may hold the beats up.
HEARTBEAT_SECONDS = 5
STALE_SECONDS = 300
# How often an idle worker looks for jobs queued by another process, and how long it waits
# with nothing to do before it ends (a new job starts it again).
POLL_SECONDS = 2.0
IDLE_SECONDS = 60.0
# Progress is written to the database at most this often (a batch of rows takes ~0.1 s).
PROGRESS_SECONDS = 0.5
# How often a job waiting for another import to finish looks again.
WAIT_SECONDS = 1.0

# The rows a file holds, guessed from its size when it is not a text table whose lines can be
# counted: measured on synthetic audits (scripts/bench_import.py) saved in each format, each
# rounded down so that a guess errs towards the background.
BYTES_PER_ROW = {".xlsx": 80, ".geojson": 400, ".json": 300, ".gpkg": 250, ".zip": 120}
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")

STALE_MESSAGE = (
    "The import stopped: the server process running it ended (restarted or killed) before it "
    "finished. Nothing was imported; start it again."
)


@dataclass(frozen=True)
class JobSettings:
    """What a worker needs from the app's settings (the web module builds it)."""

    db_path: str
    archive_dir: Path
    bounds: tuple[float, float, float, float] | None
    limits: ImportLimits
    workers: int = 0

    @property
    def pending_dir(self) -> Path:
        return self.archive_dir / "pending"


def estimate_rows(path: Path, file_name: str) -> int:
    """About how many rows a file holds, cheaply: its lines for a text table (a line break
    inside a quoted cell counts twice, which errs towards the background), else its size over
    the usual bytes per row of its format."""
    suffix = Path(file_name).suffix.lower()
    if suffix in TEXT_SUFFIXES:
        lines = 0
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                lines += chunk.count(b"\n")
        return max(lines - 1, 0)
    return path.stat().st_size // BYTES_PER_ROW.get(suffix, 200)


def in_background(path: Path, file_name: str, threshold_rows: int) -> bool:
    """Whether a file is large enough to be previewed and applied by a job."""
    return estimate_rows(path, file_name) > threshold_rows


def options_for(pending: Pending, settings: JobSettings) -> ImportOptions:
    """The options chosen at upload (and the mapping file, if one was sent)."""
    mapping = Mapping()
    if pending.options.get("mapping_name"):
        mapping = load_mapping(pending.mapping_path)
        mapping.file_name = pending.options["mapping_name"]
    return ImportOptions(
        source=pending.options.get("source") or None,
        sheet=pending.options.get("sheet") or None,
        mapping=mapping,
        bounds=settings.bounds,
        limits=settings.limits,
        workers=settings.workers,
    )


def queue_preview(db, pending: Pending, settings: JobSettings) -> int:
    """Queue the preview of an upload, start this process's worker; the job's number."""
    job_id = store.create(
        db,
        kind=store.PREVIEW,
        who=pending.uploaded_by,
        file_name=pending.file_name,
        upload=pending.token,
        rows_total=estimate_rows(pending.path, pending.file_name),
    )
    ensure_worker(settings)
    return job_id


def queue_apply(db, pending: Pending, settings: JobSettings) -> int:
    """Queue the import of a previewed upload (or return the job already doing it)."""
    earlier = store.for_upload(db, pending.token)
    for job in earlier:
        if job["kind"] == store.APPLY and job["state"] in (store.QUEUED, store.RUNNING):
            return job["id"]
    counts = (pending.report or {}).get("counts", {})
    # The rows the preview read (blank ones too), else the rows it counted.
    previews = [j for j in earlier if j["kind"] == store.PREVIEW and j["state"] == store.DONE]
    rows_total = previews[0]["rows_matched"] if previews else counts.get("rows")
    job_id = store.create(
        db,
        kind=store.APPLY,
        who=pending.uploaded_by,
        file_name=pending.file_name,
        upload=pending.token,
        rows_total=rows_total or None,
        rows_to_write=counts.get("new", 0) + counts.get("changed", 0),
    )
    ensure_worker(settings)
    return job_id


def cancel(db, job_id: int) -> str | None:
    """Ask a job to stop; its state after (None when it had already finished)."""
    return store.request_cancel(db, job_id, "Cancelled before it began: nothing was imported.")


def fail_stale(db) -> list[int]:
    """Mark failed the running jobs whose process has gone; their numbers.

    A job's heartbeat also pauses while its import makes its final write (which holds the
    write lock, seconds for a large file, longer on a busy machine), so a quiet heartbeat
    alone is not proof. A job run on this machine is failed once its heartbeat has been quiet
    for a few beats and its process has ended; one whose process still runs is left alone.
    A job run elsewhere (another machine sharing the database) is failed after STALE_SECONDS.
    """
    quiet = store.quiet_since(db, HEARTBEAT_SECONDS * 3)
    dead = [job for job in quiet if _gone(job)]
    return store.fail(db, dead, STALE_MESSAGE) if dead else []


def _gone(job: dict) -> bool:
    host, _, pid = (job["worker"] or "").rpartition(":")
    if host != os.uname().nodename or not pid.isdigit():
        return _seconds_since(job["heartbeat_at"]) >= STALE_SECONDS
    try:
        os.kill(int(pid), 0)  # signal 0: is the process there at all
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # there, under another user
    return False


def _seconds_since(stamp: str | None) -> float:
    if not stamp:
        return float("inf")
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (datetime.now(UTC) - when).total_seconds()


def bar(job: dict) -> dict:
    """The progress bar's value and maximum (None for a bar that cannot say how far: the rows
    are not yet known, or the last write is under way), and the percentage shown in words."""
    total, done = job["rows_total"], job["rows_matched"]
    if job["state"] == store.DONE:
        return {"value": 1, "max": 1, "percent": 100}
    if job["state"] != store.RUNNING or job["stage"] == "saving" or not total:
        return {"value": None, "max": None, "percent": None}
    total = max(total, done)  # the total may be a guess from the file's size or lines
    return {"value": done, "max": total, "percent": int(100 * done / total)}


def describe(job: dict) -> str:
    """Where a job is, in a sentence, for its page and the import page."""
    state, stage = job["state"], job["stage"]
    if state in store.FINISHED:
        return job["message"]
    if state == store.QUEUED:
        return "Waiting to start."
    if stage == "starting":
        return "Starting."
    if stage.startswith("waiting"):
        return f"{stage.capitalize()}."
    if stage == "saving":
        return (
            f"Saving {job['rows_to_write'] or 0:,} assets in one go (searches carry on meanwhile)."
        )
    if stage == "saved":
        return "Saved; finishing."
    total = job["rows_total"]
    of_total = f" of about {max(total, job['rows_read']):,}" if total else ""
    verb = "Checking" if job["kind"] == store.PREVIEW else "Checking again before saving"
    return (
        f"{verb}: {job['rows_read']:,}{of_total} rows read, {job['rows_checked']:,} checked, "
        f"{job['rows_matched']:,} matched to assets."
    )


# ---------------------------------------------------------------------------------------------
# Running one job
# ---------------------------------------------------------------------------------------------


class Monitor:
    """A running job's link to its row: progress written now and then, cancel checked, and a
    heartbeat from a thread of its own. It has its own connection with a short busy timeout,
    so that bookkeeping never waits on (or holds up) the import's writes: a beat or progress
    that finds the database locked is skipped, and the next one goes through."""

    def __init__(self, db_path: str, job_id: int):
        self.job_id = job_id
        self.db_path = db_path
        self.db = _bookkeeping_connection(db_path)
        self.counters: dict = {}
        self.stage = "reading"
        self._written_at = 0.0
        self._stop = threading.Event()
        self._beating = threading.Thread(target=self._beat, name=f"job {job_id} heartbeat")
        self._beating.daemon = True

    def __enter__(self) -> Monitor:
        self._beating.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._beating.join()
        self.db.close()

    def _beat(self) -> None:
        """The heartbeat thread, with a connection of its own (SQLite's are per thread)."""
        db = _bookkeeping_connection(self.db_path)
        try:
            while not self._stop.wait(HEARTBEAT_SECONDS):
                _quietly(store.beat, db, self.job_id)
        finally:
            db.close()

    def waiting(self, message: str) -> None:
        """Say what the job is waiting for; Cancelled if it was cancelled meanwhile."""
        self._check_cancel()
        _quietly(store.report_progress, self.db, self.job_id, message, self.counters)

    def progress(self, counts: Progress, *, force: bool = False) -> None:
        """The pipeline's progress callback: written at most every PROGRESS_SECONDS."""
        self.stage = counts.stage
        self.counters = {
            "rows_read": counts.read,
            "rows_checked": counts.checked,
            "rows_matched": counts.matched,
            "rows_written": counts.written,
        }
        self._check_cancel()
        if force or time.monotonic() - self._written_at >= PROGRESS_SECONDS:
            self._written_at = time.monotonic()
            _quietly(store.report_progress, self.db, self.job_id, self.stage, self.counters)

    def on_stage(self, counts: Progress) -> None:
        if counts.stage == "saved":  # written and committed: there is nothing left to cancel
            self.counters["rows_written"] = counts.written
            _quietly(store.report_progress, self.db, self.job_id, counts.stage, self.counters)
            return
        self.progress(counts, force=True)

    def _check_cancel(self) -> None:
        if store.cancel_requested(self.db, self.job_id):
            raise Cancelled()


def _bookkeeping_connection(db_path: str):
    """A connection that waits only briefly for the write lock (see Monitor)."""
    return store.bookkeeping_connection(db_path)


def _quietly(action: Callable, *args) -> None:
    """Do a bookkeeping write, skipping it if the database is locked just now."""
    try:
        action(*args)
    except Exception as error:
        if not is_busy(error):
            raise


def run_job(db, job: dict, settings: JobSettings) -> None:
    """Run a claimed job to its end and record how it ended. Never raises for the import's
    own failures: they are the job's message."""
    uploads = PendingUploads(settings.pending_dir)
    pending = uploads.get(job["upload"] or "", uploaded_by=job["who"])
    name = job["file_name"]
    if pending is None:
        store.finish(
            db,
            job["id"],
            store.FAILED,
            f"The uploaded file {name} has expired or was removed. Nothing was imported; "
            "upload it again.",
        )
        return
    with Monitor(settings.db_path, job["id"]) as monitor:
        try:
            with _the_import_place(settings, monitor):
                if job["kind"] == store.PREVIEW:
                    message = _preview(db, pending, settings, monitor)
                    run_id = None
                else:
                    message, run_id = _apply(db, pending, settings, monitor, job["who"])
        except Cancelled:
            if job["kind"] == store.PREVIEW:
                uploads.discard(pending.token)
                words = f"Cancelled: nothing was imported from {name}, and the file was removed."
            else:
                words = (
                    f"Cancelled: nothing was imported from {name}. Its preview is kept, to "
                    "import later."
                )
            store.finish(db, job["id"], store.CANCELLED, words, counters=monitor.counters)
            return
        except ColumnsRefused as e:  # kept: its columns are chosen on the page instead
            pending.options["refused"] = f"{name} {e}."
            pending.report = None
            pending.save()
            store.finish(
                db,
                job["id"],
                store.FAILED,
                f"Nothing was imported: {name} {e}. The file is kept: choose what its columns "
                "hold, and it is checked again.",
                counters=monitor.counters,
                stage=store.CHOOSE_COLUMNS,
            )
            return
        except ImportFileError as e:
            uploads.discard(pending.token)
            store.finish(
                db,
                job["id"],
                store.FAILED,
                f"Nothing was imported: {name} {e}.",
                counters=monitor.counters,
            )
            return
        except Exception:
            log.exception("import job %s (%s) failed", job["id"], name)
            store.finish(
                db,
                job["id"],
                store.FAILED,
                f"The import of {name} stopped with an unexpected error (the server's log has "
                "the details). Nothing was imported.",
                counters=monitor.counters,
            )
            return
    store.finish(db, job["id"], store.DONE, message, run_id=run_id, counters=monitor.counters)


@contextmanager
def _the_import_place(settings: JobSettings, monitor: Monitor) -> Iterator[None]:
    """Hold the server's one import place, waiting while another import has it (saying so,
    and still stopping if the job is cancelled)."""
    with ExitStack() as held:
        while True:
            try:
                held.enter_context(storage.one_at_a_time(settings.archive_dir))
                break
            except storage.AnotherImport:
                monitor.waiting("waiting for another import to finish")
                time.sleep(WAIT_SECONDS)
        yield


def _preview(db, pending: Pending, settings: JobSettings, monitor: Monitor) -> str:
    with pending.rejected_path.open("w", encoding="utf-8", newline="") as rejected:
        report = preview(
            db,
            pending.path,
            options_for(pending, settings),
            file_name=pending.file_name,
            rejected=rejected,
            progress=monitor.progress,
            on_stage=monitor.on_stage,
        )
    pending.report = report.to_json()
    pending.save()
    return (
        f"Checked {pending.file_name}: {report.summary()}. Nothing is imported until you confirm."
    )


def _apply(db, pending: Pending, settings: JobSettings, monitor: Monitor, who: str):
    report = apply(
        db,
        pending.path,
        options_for(pending, settings),
        who=who,
        archive_dir=settings.archive_dir,
        file_name=pending.file_name,
        expected_sha256=pending.sha256,
        progress=monitor.progress,
        on_stage=monitor.on_stage,
    )
    PendingUploads(settings.pending_dir).discard(pending.token)
    return f"Imported {pending.file_name}: {report.summary()}.", report.run_id


# ---------------------------------------------------------------------------------------------
# The worker thread
# ---------------------------------------------------------------------------------------------


class Worker(threading.Thread):
    """This process's worker: claims queued jobs one at a time and runs them."""

    def __init__(self, settings: JobSettings):
        super().__init__(name=f"import jobs ({settings.db_path})", daemon=True)
        self.settings = settings
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.label = f"{os.uname().nodename}:{os.getpid()}"
        self.key = (os.getpid(), settings.db_path)

    def run(self) -> None:
        try:
            db = connect_ready(self.settings.db_path)
        except (NotReady, OSError) as e:
            log.warning("import jobs: not started (%s)", e)
            return
        try:
            idle_since = time.monotonic()
            while not self.stopping.is_set():
                if self.run_one(db):
                    idle_since = time.monotonic()
                    continue
                if time.monotonic() - idle_since > IDLE_SECONDS and self._leave():
                    return
                self.wake.wait(POLL_SECONDS)
                self.wake.clear()
        except Exception:
            log.exception("import jobs: the worker stopped")
        finally:
            db.close()

    def _leave(self) -> bool:
        """Stop being this process's worker, unless a job was queued meanwhile."""
        with _workers_lock:
            if self.wake.is_set():
                return False
            if _workers.get(self.key) is self:
                del _workers[self.key]
            return True

    def run_one(self, db) -> bool:
        """Claim and run one queued job; False when none was waiting."""
        fail_stale(db)
        job = store.claim_next(db, self.label)
        if job is None:
            return False
        run_job(db, job, self.settings)
        return True


_workers: dict[tuple[int, str], Worker] = {}
_workers_lock = threading.Lock()


def ensure_worker(settings: JobSettings) -> Worker:
    """This process's worker for the database, started (or woken) now.

    Keyed by process id too: a process forked from this one (gunicorn's workers) starts a
    worker of its own, since threads do not survive a fork.
    """
    key = (os.getpid(), settings.db_path)
    with _workers_lock:
        worker = _workers.get(key)
        if worker is None or not worker.is_alive():
            worker = Worker(settings)
            _workers[key] = worker
            worker.start()
        else:
            worker.wake.set()
    return worker


def stop_workers(timeout: float = 10.0) -> None:
    """Stop this process's workers after their current job (for tests and shutdown)."""
    with _workers_lock:
        workers = [w for (pid, _), w in _workers.items() if pid == os.getpid()]
    for worker in workers:
        worker.stopping.set()
        worker.wake.set()
    for worker in workers:
        worker.join(timeout)
