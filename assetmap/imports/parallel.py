"""Worker processes for large files on the command line: cleaning rows, and writing them.

Cleaning and validation are pure Python and take much of an import's time, so the rows are
prepared by worker processes while this process matches them. Rows go out in chunks and come
back in file order; only a few chunks are ever in flight, so memory stays flat however long
the file. Each worker opens its own connection for postcode lookups (the postcode table is
only read).

Writing (SQLite's work: the assets, their history, the run's rows, the keyword indexes and the
R*Tree) takes about as long again, so one more process holds the import's write transaction
and writes each batch while this process matches the next. It is the same code as writing in
this process (assetmap.store.imports.writing), and still one transaction: if either process
fails or is killed, the transaction is never committed and the database stays as it was.

The web app does all of this in its own process: a request should not start processes.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, suppress

from assetmap.imports.cleaning import PreparedRow, RowCleaner
from assetmap.imports.geocoding import Geocoder
from assetmap.imports.readers import SourceRow, batched

CHUNK_ROWS = 250
CHUNKS_IN_FLIGHT_PER_WORKER = 4

_cleaner: RowCleaner | None = None


def _start_worker(plan, mapping, source, unit, bounds, db_path) -> None:
    """Build this worker's cleaner once, with its own database connection."""
    global _cleaner
    from assetmap.store import connect

    _cleaner = RowCleaner(
        plan,
        mapping,
        source=source,
        unit=unit,
        bounds=bounds,
        geocoder=Geocoder(connect(db_path)),
    )


def _clean_chunk(rows: list[SourceRow]) -> list[tuple]:
    """The chunk's rows cleaned, without the cells that this process sent (the main process
    keeps them), and each record as its values: sending back less is most of the saving."""
    return [_packed(_cleaner.clean(row)) for row in rows]


_shared: dict = {}  # each distinct set of keys, fields provided and facts, as one object


def _packed(row: PreparedRow) -> tuple:
    record = row.record
    if record is not None:
        keys = tuple(record)
        record = (_shared.setdefault(keys, keys), tuple(record.values()))
    return (
        record,
        row.problems,
        row.extra,
        _shared.setdefault(row.provided, row.provided),
        _shared.setdefault(row.facts, row.facts),
        row.placed_by_postcode,
        row.blank,
        row.file_id,
        row.unplaced,
    )


def _unpacked(source: SourceRow, packed: tuple) -> PreparedRow:
    record, problems, extra, provided, facts, placed_by_postcode, blank, file_id, unplaced = packed
    return PreparedRow(
        source.number,
        source.cells,
        None if record is None else dict(zip(*record, strict=True)),
        problems,
        extra,
        provided,
        facts,
        placed_by_postcode,
        blank,
        file_id,
        unplaced,
    )


def prepared_in_workers(
    rows: Iterable[SourceRow], cleaner: RowCleaner, db_path: str, workers: int
) -> Iterator[PreparedRow]:
    """The rows cleaned and validated by `workers` processes, in file order."""
    context = multiprocessing.get_context("spawn")  # no inherited connections or threads
    settings = (cleaner.plan, cleaner.mapping, cleaner.source, cleaner.unit, cleaner.bounds)
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(*settings, db_path)
    )
    in_flight: deque = deque()  # (the chunk sent, its rows to come)
    try:
        for chunk in batched(rows, CHUNK_ROWS):
            in_flight.append((chunk, pool.submit(_clean_chunk, chunk)))
            if len(in_flight) >= workers * CHUNKS_IN_FLIGHT_PER_WORKER:
                sent, cleaned = in_flight.popleft()
                yield from map(_unpacked, sent, cleaned.result())
        while in_flight:
            sent, cleaned = in_flight.popleft()
            yield from map(_unpacked, sent, cleaned.result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# -- writing ----------------------------------------------------------------------------------

WRITER_STOP_SECONDS = 60


class WriterStopped(RuntimeError):
    """The writing process ended without saying why (it was killed, or crashed)."""


@contextmanager
def writes_in_process(db_path: str) -> Iterator[RemoteWrites]:
    """The import's write transaction, held by another process (see store.imports.writing).

    Entering waits until that process holds the write lock; leaving normally waits until it
    has committed. Leaving by an exception tells it to roll back, and stops it.
    """
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_write, args=(theirs, db_path), name="assetmap import writer")
    process.start()
    theirs.close()
    writes = RemoteWrites(ours, process)
    try:
        writes.answer()  # the write lock is held
        yield writes
        writes.call("commit")
    except BaseException:
        writes.abandon()
        raise
    finally:
        ours.close()
        process.join(WRITER_STOP_SECONDS)
        if process.is_alive():
            process.kill()
            process.join()


class RemoteWrites:
    """store.imports.Writes, in another process. Batches of rows are sent without waiting for
    an answer, so that this process matches the next batch while that one writes; a failure
    there is raised here at the next call."""

    def __init__(self, pipe, process):
        self.pipe = pipe
        self.process = process

    def create_run(self, **details) -> int:
        return self.call("create_run", **details)

    def write_rows(self, run_id, rows, *, who: str, why: str) -> None:
        self._raise_if_failed()
        self._send(("write_rows", (run_id, rows), {"who": who, "why": why}))

    def finish_run(self, run_id, counts, details) -> None:
        self.call("finish_run", run_id, counts, details)

    def call(self, name: str, *args, **kwargs):
        self._send((name, args, kwargs))
        return self.answer()

    def answer(self):
        """The writer's answer to the last call, or its failure raised here."""
        try:
            outcome, value = self.pipe.recv()
        except (EOFError, OSError):
            raise self._stopped() from None
        except Exception as unreadable:  # a failure that could not be rebuilt here
            raise WriterStopped(f"the process writing the import failed: {unreadable}") from None
        if outcome == "error":
            raise value
        return value

    def abandon(self) -> None:
        """Tell the writer to roll back; it may already have stopped."""
        with suppress(OSError):
            self.pipe.send(("rollback", (), {}))

    def _send(self, message) -> None:
        try:
            self.pipe.send(message)
        except OSError:
            self._raise_if_failed()
            raise self._stopped() from None

    def _raise_if_failed(self) -> None:
        if self.pipe.poll():
            self.answer()  # only a failure is sent unasked
            raise self._stopped()

    def _stopped(self) -> WriterStopped:
        self.process.join(1)
        return WriterStopped(
            f"the process writing the import stopped (exit code {self.process.exitcode}); "
            "nothing was imported"
        )


class _RolledBack(Exception):
    pass


def _write(pipe, db_path: str) -> None:
    """The writing process: one write transaction, driven by messages, then commit."""
    from assetmap.store import connect
    from assetmap.store import imports as store

    db = connect(db_path)
    try:
        with store.writing(db, as_it_goes=True) as writes:
            pipe.send(("ok", None))
            while True:
                name, args, kwargs = pipe.recv()
                if name == "commit":
                    break
                if name == "rollback":
                    raise _RolledBack
                value = getattr(writes, name)(*args, **kwargs)
                if name != "write_rows":
                    pipe.send(("ok", value))
        pipe.send(("ok", None))
    except (_RolledBack, EOFError):
        pass  # asked to, or the importing process has gone: rolled back either way
    except BaseException as error:
        _send_failure(pipe, error)
    finally:
        db.close()
        pipe.close()


def _send_failure(pipe, error: BaseException) -> None:
    try:
        pipe.send(("error", error))
    except Exception:  # an exception that cannot be pickled: its words are enough
        with suppress(OSError):
            pipe.send(("error", RuntimeError(f"{type(error).__name__}: {error}")))
