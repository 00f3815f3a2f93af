"""Worker processes for large files on the command line: cleaning rows.

Cleaning and validation are pure Python and take much of an import's time, so the rows are
prepared by worker processes while this process matches them. Rows go out in chunks and come
back in file order; only a few chunks are ever in flight, so memory stays flat however long
the file. Each worker opens its own connection for postcode lookups (the postcode table is
only read), and stops as soon as the process that started it ends, however it ends (killed
included), so no worker is ever left behind.

Workers pay only on a machine with cores to spare (see `default_workers`). A request never
starts them; a background import job (assetmap.imports.jobs) uses the same default.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor

from assetmap.imports.cleaning import PreparedRow, RowCleaner
from assetmap.imports.geocoding import Geocoder
from assetmap.imports.readers import SourceRow, batched

CHUNK_ROWS = 250
CHUNKS_IN_FLIGHT_PER_WORKER = 4
# Cores left to everything else (the web server's requests, the database, the system) before
# any go to workers.
CORES_KEPT = 2
MAX_WORKERS = 4


def default_workers(cores: int | None = None) -> int:
    """Worker processes for a large file: none unless the machine has a core to spare.

    Measured on 20,000 synthetic rows (scripts/bench_import.py, and CPU seconds of each
    process, which a busy machine does not skew): checking them in one process takes 7.4 s of
    CPU. With one worker the main process still takes 4.6-4.8 s (reading, sending rows out,
    taking them back, matching) and the worker 5.1-5.5 s: 35% more CPU in all. That is faster
    only when the main process and every worker each have a core of their own; on 2 cores,
    with anything else running, it was slower (9.5 s against 6.7 s). So one core is kept for
    this process and one for everything else, and workers get the rest, up to MAX_WORKERS.
    """
    if cores is None:
        cores = os.cpu_count() or 1
    return min(max(cores - CORES_KEPT, 0), MAX_WORKERS)


_cleaner: RowCleaner | None = None


def _start_worker(plan, mapping, source, unit, bounds, db_path) -> None:
    """Build this worker's cleaner once, with its own database connection."""
    global _cleaner
    from assetmap.store import connect

    _stop_with_parent()
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


def _stop_with_parent() -> None:
    """End this process as soon as its parent ends.

    A worker waits on its queue for the next chunk; if the parent is killed (kill -9 leaves it
    no time to say so) nothing would ever wake it. A thread waits on the parent's sentinel,
    which becomes ready when the parent ends, and then ends this process at once.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def wait_for_parent() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=wait_for_parent, name="stop with parent", daemon=True).start()


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
