"""Benchmark `assetmap import` on SYNTHETIC asset audits of 10,000 and 100,000 rows.

Every row of the synthetic CSV is made up (its source column says "synthetic benchmark" and
each name starts with "Synthetic") and has no coordinates, only a real Trafford postcode, so
each row is geocoded from the postcode table (loaded with assetmap.search.postcodes, as `assetmap
postcodes load` does). For each size it times, on the same file and each in a fresh process
so that peak memory is the process's own:

  import        `assetmap import FILE --yes`: cleaning, validation, geocoding, duplicate checks,
                FTS and R*Tree upkeep, history and the run record, in one transaction
  sqlite-utils  `sqlite-utils insert DB assets FILE --csv`: what a technical coordinator might
                do by hand, with no checks at all
  bare floor    csv.reader and one executemany into one table: the least any import can do

and prints seconds, rows per second and peak memory (max RSS of the largest of the command's
processes: `assetmap import` starts worker processes for files of 4 MB and more, by default
one a core but two, so none on a 2-core machine; see assetmap.imports.parallel.default_workers).

It also prints the least time assetmap's own writes can take: the rows the import wrote
(assets, their history, the run's rows), read back from its database and already built, are
written again into a fresh database by the import's own transaction code (triggers paused,
indexes dropped and rebuilt, keyword indexes and R*Tree filled in bulk, then commit), timed
from BEGIN to the end of COMMIT with no cleaning, matching or Python per row. No import that
keeps what the import keeps can be faster than that on this machine.

    .venv/bin/python scripts/bench_import.py              # 10k and 100k rows
    .venv/bin/python scripts/bench_import.py --rows 20000 --keep /tmp/bench
    .venv/bin/python scripts/bench_import.py --rows 20000 --workers 0 1 --repeat 3

With --workers, only `assetmap import` is timed, once for each number of worker processes
given (each in a fresh database, --repeat times, best and median shown): whether workers pay
on this machine (see assetmap.imports.parallel.default_workers).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
POSTCODES = ROOT / "data" / "postcodes" / "trafford_postcodes_onspd_2022-06_lsoa11.csv"

PLACES = (
    "Sale",
    "Altrincham",
    "Stretford",
    "Urmston",
    "Partington",
    "Timperley",
    "Hale",
    "Bowdon",
    "Flixton",
    "Davyhulme",
    "Carrington",
    "Ashton",
    "Broadheath",
    "Brooklands",
    "Gorse Hill",
    "Old Trafford",
    "Firswood",
    "Warburton",
    "Dunham",
    "Baguley",
)
ACTIVITIES = (
    "Walking",
    "Singing",
    "Gardening",
    "Knitting",
    "Yoga",
    "Chess",
    "Football",
    "Reading",
    "Cooking",
    "Painting",
    "Dance",
    "Tai Chi",
    "Bowls",
    "Cycling",
    "Swimming",
    "Pottery",
    "Quilting",
    "Drama",
    "Photography",
    "Birdwatching",
    "Bridge",
    "Scrabble",
    "Ukulele",
    "Woodwork",
    "Baking",
    "Crochet",
    "Pilates",
    "Running",
    "Tennis",
    "Badminton",
)
KINDS = ("Club", "Group", "Circle", "Society", "Collective", "Network", "Meet-up", "Workshop")
WEEKDAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays")
CATEGORIES = (
    "walking; physical activity", "music and singing", "gardening and nature",
    "arts and creativity", "befriending and social groups", "learning and skills",
    "lunch clubs and food", "mental wellbeing",
)  # fmt: skip
HEADER = (
    "ref", "name", "description", "kind", "strand", "categories", "audiences", "postcode",
    "address", "phone", "email", "website", "cost", "when", "source",
)  # fmt: skip


def postcodes() -> list[str]:
    with POSTCODES.open(encoding="utf-8-sig", newline="") as f:
        return [row["postcode"] for row in csv.DictReader(f)]


def write_synthetic_csv(
    path: Path,
    rows: int,
    seed: int = 2024,
    *,
    ref_prefix: str = "SYN",
    source: str | None = "synthetic benchmark",
) -> None:
    """A made-up audit: every row synthetic, placed only by a real Trafford postcode. With no
    `source`, the file has no source column (the load test names it on the upload form)."""
    rng = random.Random(seed)
    codes = postcodes()
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER if source else HEADER[:-1])
        for n in range(1, rows + 1):
            place, activity = rng.choice(PLACES), rng.choice(ACTIVITIES)
            day = rng.choice(WEEKDAYS)
            row = (
                f"{ref_prefix}-{n:06d}",
                f"Synthetic {place} {activity} {rng.choice(KINDS)} {n}",
                f"Synthetic record for benchmarking. A friendly {activity.lower()} "
                f"{rng.choice(KINDS).lower()} meeting on {day}; everyone welcome.",
                "group",
                "access_community_resources",
                rng.choice(CATEGORIES),
                "adults; older people",
                rng.choice(codes),
                f"{rng.randint(1, 300)} High Street, {place}",
                f"0161 {rng.randint(200, 999)} {rng.randint(1000, 9999)}",
                f"group{n}@example.org",
                f"https://example.org/groups/{n}",
                rng.choice(("free", "low cost", "paid")),
                f"{day} 10:00 till 12:00",
            )
            writer.writerow((*row, source) if source else row)


PREPARE_DATABASE = """
import sys
from assetmap.search.postcodes import LoadReport, read_postcode_file
from assetmap.store import connect, initialise
from assetmap.store import postcodes as postcode_store
from assetmap.store.assets import transaction

initialise(sys.argv[1])
db = connect(sys.argv[1])
with transaction(db):
    for batch, _ in read_postcode_file(sys.argv[2], LoadReport()):
        postcode_store.save_postcodes(db, batch)
db.close()
"""


def prepare_database(path: Path) -> None:
    """A fresh database with the postcode table loaded by assetmap's own postcode loader.

    It runs in a child process, so that this process stays small: a child's peak memory as
    the kernel reports it starts from its parent's size at the fork.
    """
    subprocess.run([sys.executable, "-c", PREPARE_DATABASE, str(path), str(POSTCODES)], check=True)


BARE_FLOOR = """
import csv, sqlite3, sys
conn = sqlite3.connect(sys.argv[2])
with open(sys.argv[1], encoding="utf-8", newline="") as f:
    rows = csv.reader(f)
    header = next(rows)
    conn.execute("CREATE TABLE assets (%s)" % ", ".join('"%s"' % h for h in header))
    with conn:
        conn.executemany("INSERT INTO assets VALUES (%s)" % ", ".join("?" * len(header)), rows)
conn.close()
"""


WRITES_ALONE = """
import sqlite3, sys, time
from assetmap.store import connect
from assetmap.store import bulk
from assetmap.store import imports as store

source = sqlite3.connect(sys.argv[1])
tables = {}
for table in ("import_runs", "assets", "asset_history", "import_run_rows"):
    cursor = source.execute(f"SELECT * FROM {table}")
    columns = [d[0] for d in cursor.description]
    tables[table] = (columns, cursor.fetchall())
source.close()
db = connect(sys.argv[2])
started = time.perf_counter()
with store.writing(db, ()) as writes:
    writes.bulk.rebuild = bulk._drop_secondary_indexes(db, writes.bulk.tables)
    for table, (columns, rows) in tables.items():
        marks = ", ".join("?" for _ in columns)
        db.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
print(time.perf_counter() - started)
"""


def writes_alone(imported: Path, work: Path, rows: int) -> float:
    """Seconds to write what the import wrote, already built (see the module's docstring)."""
    fresh = work / f"writes_alone_{rows}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{fresh}{suffix}").unlink(missing_ok=True)
    prepare_database(fresh)
    done = subprocess.run(
        [sys.executable, "-c", WRITES_ALONE, str(imported), str(fresh)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def measure(command: list[str], env: dict | None = None) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of one command in its own process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read() if process.stderr else ""
    if process.returncode not in (0,):
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{errors[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def bench(rows: int, work: Path) -> list[tuple[str, float, float]]:
    data = work / f"synthetic_assets_{rows}.csv"
    write_synthetic_csv(data, rows)
    size_mb = data.stat().st_size / 1024**2
    print(f"\n{rows:,} synthetic rows, {size_mb:.1f} MB: {data}", flush=True)
    database = work / f"import_{rows}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    prepare_database(database)
    env = {**os.environ, "ASSETMAP_DB": str(database), "SECRET_KEY": "bench-only"}
    results = []
    command = [str(BIN / "assetmap"), "import", str(data), "--yes", "--who", "bench"]
    print("  $ ASSETMAP_DB=" + str(database) + " " + " ".join(command), flush=True)
    results.append(("assetmap import", *measure(command, env)))
    floor_db = work / f"sqlite_utils_{rows}.db"
    floor_db.unlink(missing_ok=True)
    results.append(
        (
            "sqlite-utils insert --csv",
            *measure(
                [str(BIN / "sqlite-utils"), "insert", str(floor_db), "assets", str(data), "--csv"]
            ),
        )
    )
    bare_db = work / f"bare_{rows}.db"
    bare_db.unlink(missing_ok=True)
    results.append(
        (
            "csv.reader + executemany",
            *measure([sys.executable, "-c", BARE_FLOOR, str(data), str(bare_db)]),
        )
    )
    for name, seconds, peak in results:
        print(f"  {name:28} {seconds:7.2f} s {rows / seconds:10,.0f} rows/s {peak:7.0f} MB peak")
    full, utils, bare = (r[1] for r in results)
    alone = writes_alone(database, work, rows)
    print(f"  {'its writes alone':28} {alone:7.2f} s {rows / alone:10,.0f} rows/s")
    print(
        f"  import is {utils / full:.2f}x the speed of sqlite-utils and {full / bare:.1f}x the "
        f"bare floor's time; its writes alone take {alone / bare:.1f}x the bare floor's time"
    )
    return results


def bench_workers(rows: int, work: Path, workers: list[int], repeat: int) -> None:
    """`assetmap import` with each number of worker processes, on fresh copies of a database."""
    data = work / f"synthetic_assets_{rows}.csv"
    write_synthetic_csv(data, rows)
    print(f"\n{rows:,} synthetic rows, {data.stat().st_size / 1024**2:.1f} MB", flush=True)
    template = work / f"workers_template_{rows}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{template}{suffix}").unlink(missing_ok=True)
    prepare_database(template)
    times: dict[int, list[float]] = {n: [] for n in workers}
    for _ in range(repeat):
        for n in workers:  # interleaved, so that a busy moment on the machine is shared out
            database = work / f"workers_{rows}_{n}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{database}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(template, database)
            env = {**os.environ, "ASSETMAP_DB": str(database), "SECRET_KEY": "bench-only"}
            command = [str(BIN / "assetmap"), "import", str(data), "--yes", "--who", "bench"]
            seconds, _ = measure([*command, "--workers", str(n)], env)
            times[n].append(seconds)
    for n, found in times.items():
        found.sort()
        print(
            f"  --workers {n}: best {found[0]:6.2f} s, median {found[len(found) // 2]:6.2f} s "
            f"({rows / found[0]:,.0f} rows/s at best)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--keep", type=Path, help="Keep the files in this folder.")
    parser.add_argument(
        "--workers", type=int, nargs="+", help="Time only the import, with these many workers."
    )
    parser.add_argument("--repeat", type=int, default=1, help="Times to run each (--workers).")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-import-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    try:
        for rows in args.rows:
            if args.workers:
                bench_workers(rows, work, args.workers, args.repeat)
            else:
                bench(rows, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
