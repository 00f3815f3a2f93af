"""Background jobs: a large import's preview or apply, run by a worker thread outside requests.

Every statement is one short write transaction, so a job's bookkeeping never holds the lock
that searches and other writers wait for. Several server processes (gunicorn workers) each
run a worker thread; `claim_next` hands a queued job to exactly one of them, because the
UPDATE that claims it only matches while the job is still queued. A running job beats its
heartbeat; one whose heartbeat stopped (its process was killed) is marked failed by
`fail_stale`, which any process may call. The import itself writes only in its own final
transaction, so a job that failed or was cancelled wrote nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from assetmap.store import dialect
from assetmap.store.assets import now, transaction
from assetmap.store.connection import connect

if TYPE_CHECKING:
    import sqlite_utils

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)
PREVIEW, APPLY = "preview", "apply"
COUNTERS = ("rows_read", "rows_checked", "rows_matched", "rows_written")
# The stage a preview ends at when the file was refused for its columns alone: the upload is
# kept, and the coordinator goes on to choose what the columns hold (web/import_mapping.py).
CHOOSE_COLUMNS = "choose columns"


# How long a job's bookkeeping write (progress, heartbeat) waits for SQLite's write lock before
# it is skipped: an import saving holds the lock for seconds, and the next beat will do.
BOOKKEEPING_BUSY_MS = 200


def bookkeeping_connection(target: str):
    """A connection for a running job's progress and heartbeat that waits only briefly for the
    write lock. On PostgreSQL these one-row updates take no lock that an import's write holds,
    so they never wait for it and the connection needs nothing more."""
    db = connect(target)
    if not dialect.is_postgresql(db):
        db.conn.execute(f"PRAGMA busy_timeout = {BOOKKEEPING_BUSY_MS:d}")
    return db


def create(
    db: sqlite_utils.Database,
    *,
    kind: str,
    who: str,
    file_name: str,
    upload: str | None = None,
    rows_total: int | None = None,
    rows_to_write: int | None = None,
) -> int:
    """Queue a job; its number."""
    with transaction(db):
        new_id = db.conn.execute(
            """INSERT INTO jobs (kind, who, file_name, upload, rows_total, rows_to_write,
                   created_at, stage)
               VALUES (?, ?, ?, ?, ?, ?, ?, 'waiting') RETURNING id""",
            [kind, who, file_name, upload, rows_total, rows_to_write, now()],
        ).fetchone()[0]
        return new_id


def claim_next(db: sqlite_utils.Database, worker: str) -> dict | None:
    """Take the oldest queued job for this worker, or None when there is none.

    The UPDATE matches only a job still queued, inside one write transaction, so when two
    workers look at once only one of them gets it. On PostgreSQL, where several app servers
    each run workers, the one statement claims it without the directory's write lock: FOR
    UPDATE SKIP LOCKED passes over a job another worker is claiming that moment, so workers
    neither wait for each other nor take the same job.
    """
    stamp = now()
    if dialect.is_postgresql(db):
        row = db.conn.execute(
            """UPDATE jobs SET state = 'running', worker = ?, started_at = ?, heartbeat_at = ?,
                   stage = 'starting'
               WHERE id = (SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1
                           FOR UPDATE SKIP LOCKED)
               RETURNING *""",
            [worker, stamp, stamp],
        ).fetchone()
        return dict(row) if row is not None else None
    with transaction(db):
        row = db.conn.execute(
            """UPDATE jobs SET state = 'running', worker = ?, started_at = ?, heartbeat_at = ?,
                   stage = 'starting'
               WHERE id = (SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1)
                 AND state = 'queued'
               RETURNING *""",
            [worker, stamp, stamp],
        ).fetchone()
    return dict(row) if row is not None else None


def has_queued(db: sqlite_utils.Database) -> bool:
    row = db.conn.execute("SELECT 1 FROM jobs WHERE state = 'queued' LIMIT 1").fetchone()
    return row is not None


def report_progress(db: sqlite_utils.Database, job_id: int, stage: str, counters: dict) -> None:
    """Record how far a running job has gone (and that it is alive)."""
    values = [counters.get(name, 0) for name in COUNTERS]
    db.conn.execute(
        f"""UPDATE jobs SET stage = ?, {", ".join(f"{n} = ?" for n in COUNTERS)},
               rows_total = coalesce(?, rows_total), heartbeat_at = ?
           WHERE id = ? AND state = 'running'""",
        [stage, *values, counters.get("rows_total"), now(), job_id],
    )


def beat(db: sqlite_utils.Database, job_id: int) -> None:
    """The running job is alive."""
    db.conn.execute(
        "UPDATE jobs SET heartbeat_at = ? WHERE id = ? AND state = 'running'", [now(), job_id]
    )


def cancel_requested(db: sqlite_utils.Database, job_id: int) -> bool:
    row = db.conn.execute("SELECT cancel_requested FROM jobs WHERE id = ?", [job_id]).fetchone()
    return bool(row and row[0])


def request_cancel(db: sqlite_utils.Database, job_id: int, message: str) -> str | None:
    """Cancel a job: a queued one at once, a running one at its next check. Its state after,
    or None when it had already finished."""
    with transaction(db):
        db.conn.execute(
            """UPDATE jobs SET state = 'cancelled', finished_at = ?, message = ?, stage = ''
               WHERE id = ? AND state = 'queued'""",
            [now(), message, job_id],
        )
        db.conn.execute(
            "UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND state = 'running'", [job_id]
        )
        row = db.conn.execute("SELECT state FROM jobs WHERE id = ?", [job_id]).fetchone()
    if row is None or row[0] in (DONE, FAILED):
        return None
    return row[0]


def finish(
    db: sqlite_utils.Database,
    job_id: int,
    state: str,
    message: str,
    *,
    run_id: int | None = None,
    counters: dict | None = None,
    stage: str = "",
) -> None:
    """Record how a running job ended: done, failed or cancelled, in words (and, for a file
    whose columns are to be chosen, the stage CHOOSE_COLUMNS)."""
    assert state in FINISHED
    counters = counters or {}
    with transaction(db):
        db.conn.execute(
            f"""UPDATE jobs SET state = ?, message = ?, run_id = coalesce(?, run_id),
                   finished_at = ?, heartbeat_at = ?, stage = ?,
                   {", ".join(f"{n} = coalesce(?, {n})" for n in COUNTERS)}
               WHERE id = ? AND state = 'running'""",
            [
                state,
                message,
                run_id,
                now(),
                now(),
                stage,
                *(counters.get(n) for n in COUNTERS),
                job_id,
            ],
        )


def quiet_since(db: sqlite_utils.Database, seconds: float) -> list[dict]:
    """Running jobs whose last heartbeat is `seconds` old or more (read only: pages that poll
    look here, and must not wait for an import's final write, which holds the write lock)."""
    cutoff = (datetime.now(UTC) - timedelta(seconds=seconds)).replace(microsecond=0)
    cutoff_text = cutoff.isoformat().replace("+00:00", "Z")
    rows = db.conn.execute(
        "SELECT * FROM jobs WHERE state = 'running' AND heartbeat_at < ?", [cutoff_text]
    )
    return [dict(row) for row in rows]


def fail(db: sqlite_utils.Database, jobs: list[dict], message: str) -> list[int]:
    """Mark these running jobs failed, unless one has beaten or finished since it was read;
    the numbers of those marked."""
    failed = []
    with transaction(db):
        for job in jobs:
            row = db.conn.execute(
                """UPDATE jobs SET state = 'failed', message = ?, finished_at = ?, stage = ''
                   WHERE id = ? AND state = 'running' AND heartbeat_at = ?
                   RETURNING id""",
                [message, now(), job["id"], job["heartbeat_at"]],
            ).fetchone()
            if row is not None:
                failed.append(row[0])
    return failed


def get(db: sqlite_utils.Database, job_id: int) -> dict | None:
    row = db.conn.execute("SELECT * FROM jobs WHERE id = ?", [job_id]).fetchone()
    return dict(row) if row is not None else None


def for_upload(db: sqlite_utils.Database, upload: str) -> list[dict]:
    """The jobs of one pending upload, newest first."""
    rows = db.conn.execute("SELECT * FROM jobs WHERE upload = ? ORDER BY id DESC", [upload])
    return [dict(row) for row in rows]


def list_for(db: sqlite_utils.Database, who: str, *, limit: int = 20) -> list[dict]:
    """One person's jobs, newest first: those still going, then those finished in the last
    day (a finished preview waits for its confirmation that long)."""
    since = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    since_text = since.isoformat().replace("+00:00", "Z")
    rows = db.conn.execute(
        """SELECT * FROM jobs
           WHERE who = ? AND (state IN ('queued', 'running') OR created_at >= ?)
           ORDER BY id DESC LIMIT ?""",
        [who, since_text, limit],
    )
    return [dict(row) for row in rows]
