"""Cleaning and validating rows in worker processes, for large files on the command line.

Cleaning and validation are pure Python and take most of an import's time, so on a machine
with several cores the rows are prepared by worker processes while this process matches and
writes them. Rows go out in chunks and come back in file order; only a few chunks are ever in
flight, so memory stays flat however long the file. Each worker opens its own connection for
postcode lookups (the postcode table is only read). The web app prepares rows in its own
process: a request should not start processes.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor

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


def _clean_chunk(rows: list[SourceRow]) -> list[PreparedRow]:
    return [_cleaner.clean(row) for row in rows]


def prepared_in_workers(
    rows: Iterable[SourceRow], cleaner: RowCleaner, db_path: str, workers: int
) -> Iterator[PreparedRow]:
    """The rows cleaned and validated by `workers` processes, in file order."""
    context = multiprocessing.get_context("spawn")  # no inherited connections or threads
    settings = (cleaner.plan, cleaner.mapping, cleaner.source, cleaner.unit, cleaner.bounds)
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(*settings, db_path)
    )
    in_flight: deque = deque()
    try:
        for chunk in batched(rows, CHUNK_ROWS):
            in_flight.append(pool.submit(_clean_chunk, chunk))
            if len(in_flight) >= workers * CHUNKS_IN_FLIGHT_PER_WORKER:
                yield from in_flight.popleft().result()
        while in_flight:
            yield from in_flight.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
