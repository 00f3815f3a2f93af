"""Measure how long the everyday `assetmap` commands take to start and answer (issue 19).

    .venv/bin/python scripts/measure_cli_start.py [--runs 21] [--db instance/assetmap.db]
        [--checkout DIR]

Times `assetmap --help`, `assetmap search --lat 53.4239 --lon -2.3232 --q walking` and
`assetmap users list`, each a fresh process run as the console script runs it, against a bare
`python -c pass` (the interpreter's own start, which no command can beat). The four take turns
run by run, so that a busy moment on a shared machine slows all of them alike, and the script
prints each one's median and 95th percentile wall-clock time, its processor time (user +
system, median), and its median as a multiple of the bare start. Target (issue 19): each
command's median under 0.25 s.

The database is --db, else ASSETMAP_DB, else instance/assetmap.db (the demo database `make run`
builds) when it exists; otherwise the demo database is built in a temporary folder with the
commands `make run` uses (`assetmap init`, then `assetmap load data/assets.geojson`: 374 real
Trafford assets), with one account so that `users list` has something to list.

Bytecode is written on the first (untimed) run of each, as an installed assetmap has it, even
when PYTHONDONTWRITEBYTECODE is set; the checkout's own code is timed (PYTHONPATH is this
folder, or --checkout: another copy of the code, such as `git archive COMMIT assetmap | tar -x
-C DIR` for the code before a change), with the interpreter running this script. The load
average before and after is printed: on a machine that other work keeps busy, the medians say
more than the slowest runs.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_ASSETS = ROOT / "data" / "assets.geojson"
TARGET_S = 0.25
# As the console script (.venv/bin/assetmap) runs a command.
CONSOLE_SCRIPT = "import sys; from assetmap.cli import main; sys.exit(main())"
COMMANDS = {
    "assetmap --help": ["--help"],
    "assetmap search": ["search", "--lat", "53.4239", "--lon", "-2.3232", "--q", "walking"],
    "assetmap users list": ["users", "list"],
}
BASELINE = "python -c pass"


def _environment(db: Path, checkout: Path = ROOT) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(checkout), env.get("PYTHONPATH")]))
    env["ASSETMAP_DB"] = str(db)
    return env


def _argv(name: str) -> list[str]:
    if name == BASELINE:
        return [sys.executable, "-c", "pass"]
    return [sys.executable, "-c", CONSOLE_SCRIPT, *COMMANDS[name]]


def _run(argv: list[str], env: dict[str, str], cwd: Path = ROOT) -> tuple[float, float]:
    """The wall-clock and processor seconds of one run in `cwd` (whose assetmap `python -c`
    imports first); SystemExit when it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[3:]) or argv} failed:\n{done.stdout}{done.stderr}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def build_demo_database(folder: Path) -> Path:
    """The demo database as `make run` builds it, with one account, in `folder`."""
    db = folder / "assetmap.db"
    env = _environment(db)
    for args in (
        ["init"],
        ["load", str(DEMO_ASSETS), "--who", "make run (demo data)"],
        ["users", "create", "coordinator@demo.assetmap.invalid", "--role", "coordinator"],
    ):
        done = subprocess.run(
            [sys.executable, "-c", CONSOLE_SCRIPT, *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"assetmap {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return db


def p95(values: list[float]) -> float:
    """The 95th percentile by nearest rank: the value 95 % of the runs took at most."""
    ordered = sorted(values)
    return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]


def measure(db: Path, runs: int, checkout: Path = ROOT) -> dict[str, dict[str, float]]:
    """Each command's and the baseline's median and p95 wall time and median processor time,
    over `runs` runs taken in turns, after one untimed run of each."""
    env = _environment(db, checkout)
    names = [BASELINE, *COMMANDS]
    for name in names:  # writes the bytecode, warms the disk cache
        _run(_argv(name), env, checkout)
    walls: dict[str, list[float]] = {name: [] for name in names}
    cpus: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(runs):
        for name in names:
            wall, cpu = _run(_argv(name), env, checkout)
            walls[name].append(wall)
            cpus[name].append(cpu)
    return {
        name: {
            "median": statistics.median(walls[name]),
            "p95": p95(walls[name]),
            "cpu": statistics.median(cpus[name]),
        }
        for name in names
    }


def report(results: dict[str, dict[str, float]], runs: int) -> list[str]:
    base = results[BASELINE]["median"]
    lines = [
        f"{runs} runs each, in turns; wall-clock seconds (processor: user + system, median)",
        f"{'':24} {'median':>8} {'p95':>8} {'processor':>10} {'x bare start':>13}",
    ]
    for name, figures in results.items():
        ratio = figures["median"] / base
        mark = ""
        if name != BASELINE:
            mark = "  ok" if figures["median"] < TARGET_S else f"  over {TARGET_S} s"
        lines.append(
            f"{name:24} {figures['median']:8.3f} {figures['p95']:8.3f} {figures['cpu']:10.3f}"
            f" {ratio:12.1f}x{mark}"
        )
    return lines


def _load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="Timed runs of each (default 21).")
    parser.add_argument("--db", type=Path, help="The database (default: see above).")
    parser.add_argument(
        "--checkout", type=Path, default=ROOT, help="The code to time (default: this one)."
    )
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs: give at least 1")
    if not (args.checkout / "assetmap" / "__init__.py").is_file():
        parser.error(f"--checkout: {args.checkout} holds no assetmap package")
    db = args.db or Path(os.environ.get("ASSETMAP_DB") or ROOT / "instance" / "assetmap.db")
    with tempfile.TemporaryDirectory(prefix="assetmap-cli-start-") as folder:
        if args.db is None and not db.exists():
            print(f"no database at {db}: building the demo database in {folder}", flush=True)
            db = build_demo_database(Path(folder))
        elif not db.exists():
            raise SystemExit(f"--db: there is no database at {db}")
        print(f"code {args.checkout}; database {db}; load average before: {_load()}", flush=True)
        results = measure(db, args.runs, args.checkout.resolve())
        print("\n".join(report(results, args.runs)))
        print(f"load average after: {_load()}; {os.cpu_count()} processors")


if __name__ == "__main__":
    main()
