"""A private, throwaway PostgreSQL cluster for tests: `with cluster() as dsn: ...`.

Tests that need PostgreSQL start their own server rather than use one the machine may run: a
fresh `initdb` in a temporary folder, `pg_ctl start` on a free loopback port (and a Unix socket
in that folder), trust authentication on loopback only, durability off (a test's data is thrown
away), and `pg_ctl stop` plus the folder removed at the end. Nothing is installed as a system
service and nothing outside the folder is written.

The binaries are Debian's (`/usr/lib/postgresql/<version>/bin`, newest first), or those in
ASSETMAP_PG_BIN. PostgreSQL refuses to run as root, so as root each binary runs as the
`postgres` user through `runuser`, and the folder is handed to that user. `unavailable()` says
why a cluster cannot be started here (no binaries, no PostGIS, no psycopg), for a skip reason;
a machine without PostgreSQL then skips these tests and says why, while CI installs it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

BIN_VARIABLE = "ASSETMAP_PG_BIN"
DEBIAN_ROOT = Path("/usr/lib/postgresql")
RUN_AS = "postgres"  # the user the server runs as when the tests run as root
USER = "assetmap"  # the cluster's superuser
DATABASE = "assetmap"
# A test database needs no durability, and small buffers suit a machine running many sessions.
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "32MB",
    "max_connections": "40",
}


def binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: ASSETMAP_PG_BIN, else Debian's newest version."""
    given = os.environ.get(BIN_VARIABLE)
    if given:
        return Path(given) if (Path(given) / "initdb").exists() else None
    versions = sorted(
        (p for p in DEBIAN_ROOT.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    return versions[0] if versions else None


def _share(bin_dir: Path) -> Path:
    found = subprocess.run(
        [str(bin_dir / "pg_config"), "--sharedir"], capture_output=True, text=True, check=False
    )
    if found.returncode == 0 and found.stdout.strip():
        return Path(found.stdout.strip())
    return Path("/usr/share/postgresql") / bin_dir.parent.name


def unavailable() -> str | None:
    """Why a PostGIS cluster cannot be started on this machine, or None when it can."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'psycopg[binary]')"
    bin_dir = binaries()
    if bin_dir is None:
        return (
            f"no PostgreSQL binaries in {DEBIAN_ROOT}/*/bin or ${BIN_VARIABLE} "
            "(apt-get install postgresql postgis)"
        )
    if not (_share(bin_dir) / "extension" / "postgis.control").exists():
        return f"PostGIS is not installed for {bin_dir} (apt-get install postgresql-NN-postgis-3)"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam(RUN_AS)
        except KeyError:
            return f"running as root and there is no {RUN_AS!r} user to run PostgreSQL as"
        if not shutil.which("runuser"):
            return "running as root and runuser is missing"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a PostgreSQL binary (as the `postgres` user when we are root), capturing its output."""
    if os.geteuid() == 0:
        args = ["runuser", "-u", RUN_AS, "--", *args]
    return subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)


def _check(done: subprocess.CompletedProcess, what: str, log: Path | None = None) -> None:
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stderr.strip()}\n{tail}")


@contextlib.contextmanager
def cluster(settings: dict[str, str] | None = None) -> Iterator[str]:
    """Start a private cluster, create database `assetmap` in it, and yield its DSN
    (postgresql://assetmap@127.0.0.1:PORT/assetmap); stop it and delete it afterwards.

    Raises RuntimeError with the server's own message when it cannot start (call
    `unavailable()` first to skip where PostgreSQL is simply not installed)."""
    reason = unavailable()
    if reason:
        raise RuntimeError(reason)
    bin_dir = binaries()
    folder = Path(tempfile.mkdtemp(prefix="assetmap-pg-"))
    data, log = folder / "data", folder / "server.log"
    if os.geteuid() == 0:
        shutil.chown(folder, RUN_AS, RUN_AS)
    started = False
    try:
        _check(
            run(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    USER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            "initdb",
        )
        options = {**SETTINGS, **(settings or {}), "unix_socket_directories": str(folder)}
        for attempt in range(5):
            port = _free_port()
            flags = " ".join(f"-c {k}={v}" for k, v in {**options, "port": port}.items())
            done = run(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o", flags]
                + ["start"]
            )
            if done.returncode == 0:
                started = True
                break
            if attempt == 4:  # a port taken between finding and binding it: try another
                _check(done, "pg_ctl start", log)
        import psycopg

        server = f"postgresql://{USER}@127.0.0.1:{port}"
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        yield f"{server}/{DATABASE}"
    finally:
        if started:
            run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(folder, ignore_errors=True)
