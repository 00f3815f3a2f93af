"""How long an import holds the directory's write lock on PostgreSQL (issue 20).

While an import holds the write lock, every other writer (an edit, a sign-in, a session's
"last used") waits, and after about 20 s answers "busy" (a 503). For each size this script
makes a fresh database on the server given with --db, loads the Trafford postcodes, and runs
two imports of a SYNTHETIC audit (scripts/bench_import.py's rows, every name "Synthetic ...")
through assetmap's own pipeline: the first adds every row as a new asset, the second (the same
refs, other names and descriptions) changes every one. A second connection polls pg_locks every
few milliseconds for the write lock (store/postgres.py WRITE_LOCK) and reports how long it was
held, beside the import's whole time.

    .venv/bin/python scripts/bench_import_lock.py --db postgresql://postgres@127.0.0.1:5433/postgres
    .venv/bin/python scripts/bench_import_lock.py --db URL --rows 10000

It measures whichever assetmap is on PYTHONPATH, so the same script times an older checkout
(`git archive COMMIT assetmap | tar -x -C /tmp/old`, then PYTHONPATH=/tmp/old) for comparison.
The databases it makes are dropped at the end (--keep keeps them).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_import import POSTCODES, write_synthetic_csv  # noqa: E402

POLL_S = 0.005


class LockWatch:
    """A thread that notes, from its own connection, the times the write lock is seen held."""

    def __init__(self, url: str, key: int):
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)
        self.key = key
        self.seen: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        sql = (
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = %s AND objid = %s AND objsubid = 1 AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        params = (self.key >> 32, self.key & 0xFFFFFFFF)
        while not self.stop.is_set():
            if self.conn.execute(sql, params).fetchone()[0]:
                self.seen.append(time.perf_counter())
            time.sleep(POLL_S)

    def __enter__(self) -> LockWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()
        self.conn.close()

    def held_s(self) -> float:
        """From the first sighting of the lock held to the last (to within POLL_S or so)."""
        return self.seen[-1] - self.seen[0] if self.seen else 0.0


def new_database(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + "/" + name


def drop_database(server: str, name: str) -> None:
    import psycopg

    from assetmap.store import postgres

    postgres.close_pools()
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def prepare(url: str) -> None:
    from assetmap.search.postcodes import LoadReport, read_postcode_file
    from assetmap.store import connect, initialise
    from assetmap.store import postcodes as postcode_store
    from assetmap.store.assets import transaction

    initialise(url)
    db = connect(url)
    try:
        with transaction(db):
            for batch, _ in read_postcode_file(POSTCODES, LoadReport()):
                postcode_store.save_postcodes(db, batch)
    finally:
        db.close()


def timed_import(url: str, path: Path) -> tuple[float, float, dict]:
    """The import's wall seconds, the seconds the write lock was held, and its counts."""
    from assetmap import imports
    from assetmap.store import connect, postgres

    db = connect(url)
    try:
        with LockWatch(url, postgres.WRITE_LOCK) as watch:
            started = time.perf_counter()
            report = imports.apply(db, path, imports.ImportOptions(), who="bench")
            wall = time.perf_counter() - started
        return wall, watch.held_s(), report.counts()
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, help="a PostgreSQL server URL (its database)")
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--keep", action="store_true", help="keep the databases made")
    args = parser.parse_args()
    import assetmap

    print(f"assetmap from {Path(assetmap.__file__).parent}")
    print(f"{'rows':>8} {'import':>8} {'wall s':>8} {'lock s':>8}  counts")
    with tempfile.TemporaryDirectory() as work:
        for rows in args.rows:
            name = f"bench_import_lock_{rows}"
            url = new_database(args.db, name)
            try:
                prepare(url)
                for label, seed in (("new", 2024), ("changed", 2025)):
                    path = Path(work) / f"audit_{rows}_{label}.csv"
                    write_synthetic_csv(path, rows, seed)
                    wall, held, counts = timed_import(url, path)
                    shown = {k: v for k, v in counts.items() if v}
                    print(f"{rows:>8} {label:>8} {wall:>8.1f} {held:>8.2f}  {shown}", flush=True)
            finally:
                if not args.keep:
                    drop_database(args.db, name)


if __name__ == "__main__":
    main()
