"""The database engine the tests run on: SQLite (the default) or PostgreSQL (issue 20).

`pytest` runs on SQLite. `pytest --engine postgresql` (or ASSETMAP_TEST_ENGINE=postgresql) runs
the same tests on PostgreSQL: each test process starts a private cluster of its own (initdb and
pg_ctl in a temporary folder, listening on a free loopback port; no system service), and the
shared fixtures (tests/conftest.py `db_path`, `sample_template`, `app`, ...) hand out databases
in it instead of files. The tests that need PostgreSQL whichever engine the run is on (two app
servers on one database, `assetmap copy`, search on PostGIS against SQLite's answers) use the
same cluster (`cluster()`, `new_database()`): one cluster per test process, started on first use.
Where PostgreSQL or PostGIS is absent, those tests skip with the reason (`why_no_cluster`);
CI installs them (.ci/run) and sets ASSETMAP_REQUIRE_POSTGRESQL, which makes that a failure.

The fixtures speak of a database's "target": what ASSETMAP_DB would hold, a file's path on SQLite,
a `postgresql://` URL on PostgreSQL. `new_target` makes an empty one, `copy_database` copies a
template (a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL: both take a
fiftieth of the time that building the data does).
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ENGINES = ("sqlite", "postgresql")
_state: dict = {"engine": "sqlite", "cluster": None, "skip": None, "made": []}
_names = itertools.count(1)


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--engine",
        choices=ENGINES,
        default=os.environ.get("ASSETMAP_TEST_ENGINE", "sqlite"),
        help="the database engine the tests run on (default sqlite; ASSETMAP_TEST_ENGINE)",
    )


def pytest_configure(config) -> None:
    _state["engine"] = config.getoption("--engine")
    config.addinivalue_line(
        "markers",
        "sqlite_only(why): a test about SQLite itself (its file, FTS5, PRAGMAs), skipped on "
        "PostgreSQL with `why`",
    )


def pytest_runtest_setup(item) -> None:
    marker = item.get_closest_marker("sqlite_only")
    if marker is not None and on_postgresql():
        why = marker.args[0] if marker.args else "about SQLite itself"
        pytest.skip(f"SQLite only: {why}")


def engine() -> str:
    """The engine this test run is on."""
    return _state["engine"]


def on_postgresql() -> bool:
    return engine() == "postgresql"


BIN_VARIABLE = "ASSETMAP_PG_BIN"  # a folder holding initdb and pg_ctl, where not Debian's


def postgres_programs() -> Path | None:
    """The folder of PostgreSQL's programs (initdb, pg_ctl, pg_dump, psql): ASSETMAP_PG_BIN,
    else Debian's newest installed version, else the PATH's."""
    given = os.environ.get(BIN_VARIABLE)
    if given:
        return Path(given) if (Path(given) / "initdb").exists() else None
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _share(programs: Path) -> Path:
    found = subprocess.run(
        [str(programs / "pg_config"), "--sharedir"], capture_output=True, text=True, check=False
    )
    if found.returncode == 0 and found.stdout.strip():
        return Path(found.stdout.strip())
    return Path("/usr/share/postgresql") / programs.parent.name


def why_no_cluster() -> str | None:
    """Why a private PostGIS cluster cannot be started on this machine (the reason the
    PostgreSQL tests skip with), or None when it can."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'psycopg[binary]')"
    programs = postgres_programs()
    if programs is None:
        return (
            "PostgreSQL is not installed (Debian's postgresql and postgresql-*-postgis-3; "
            f".ci/run installs them; or set {BIN_VARIABLE} to the folder holding initdb)"
        )
    if not (_share(programs) / "extension" / "postgis.control").exists():
        return f"PostGIS is not installed for {programs} (apt-get install postgresql-NN-postgis-3)"
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run PostgreSQL as"
        if not shutil.which("runuser"):
            return "running as root and runuser is missing"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """A private PostgreSQL cluster in a temporary folder, as the postgres user when run as
    root (PostgreSQL refuses to run as root), trusting connections from this machine only."""

    def __init__(self, programs: Path):
        self.programs = programs
        self.folder = Path(tempfile.mkdtemp(prefix="assetmap-pg-"))
        self.port = _free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.folder, "postgres")

    def program(self, name: str) -> str:
        """The path of one of PostgreSQL's programs (pg_dump, psql, ...) of this cluster's
        version."""
        return str(self.programs / name)

    def run(self, *command: str, input: str | None = None) -> subprocess.CompletedProcess:
        """Run a PostgreSQL program as the cluster's user, its output captured as text."""
        return subprocess.run(
            [*self.as_user, *command], capture_output=True, text=True, check=False, input=input
        )

    def _run(self, *command: str) -> None:
        done = self.run(*command)
        if done.returncode != 0:
            log = self.folder / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"{Path(command[0]).name} failed ({done.returncode}): {done.stderr.strip()}\n{tail}"
            )

    def start(self) -> None:
        data = self.folder / "data"
        self._run(
            str(self.programs / "initdb"), "-D", str(data), "-U", "postgres",
            "--auth=trust", "--encoding=UTF8", "--lc-collate=C", "--lc-ctype=C.UTF-8",
            "--no-sync",
        )  # fmt: skip
        # Durability is not what the tests test: no fsync makes making databases quick.
        options = (
            f"-p {{port}} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        for attempt in range(5):
            try:
                self._run(
                    str(self.programs / "pg_ctl"), "-D", str(data), "-l", str(self.folder / "log"),
                    "-o", options.format(port=self.port), "-w", "-t", "60", "start",
                )  # fmt: skip
                return
            except RuntimeError:  # the port taken between finding and binding it: another
                if attempt == 4:
                    raise
                self.port = _free_port()

    def stop(self) -> None:
        try:
            self._run(str(self.programs / "pg_ctl"), "-D", str(self.folder / "data"), "-m",
                      "immediate", "stop")  # fmt: skip
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql)


def cluster() -> Cluster:
    """This test process's cluster, started on first use; pytest.skip where PostgreSQL is
    not installed."""
    if _state["skip"]:
        pytest.skip(_state["skip"])
    if _state["cluster"] is None:
        why_not = why_no_cluster()
        if why_not is not None:
            _state["skip"] = why_not
            if os.environ.get("ASSETMAP_REQUIRE_POSTGRESQL"):  # CI: never skip them silently
                pytest.fail(_state["skip"], pytrace=False)
            pytest.skip(_state["skip"])
        started = Cluster(postgres_programs())
        started.start()
        _state["cluster"] = started
    return _state["cluster"]


def new_target(folder: Path, name: str = "assetmap.db", *, keep: bool = False):
    """An empty database for a test: `folder / name` on SQLite, a new database on PostgreSQL
    (dropped after the test, unless `keep`: a session's template)."""
    if not on_postgresql():
        return folder / name
    return new_database(keep=keep)


def new_database(*, keep: bool = False) -> str:
    """The URL of a new, empty database in this process's cluster, whichever engine the run is
    on (for the tests that need PostgreSQL itself); dropped after the test unless `keep`."""
    pg = cluster()
    database = f"t{os.getpid()}_{next(_names)}"
    pg.admin(f"CREATE DATABASE {database}")
    if not keep:
        _state["made"].append(database)
    return pg.url(database)


def missing_target(folder: Path):
    """A target where there is no database yet (for "run `assetmap init` first"): a file in a
    folder not made yet on SQLite, a database name the cluster does not hold on PostgreSQL."""
    if not on_postgresql():
        return folder / "instance" / "assetmap.db"
    return missing_database()


def missing_database() -> str:
    """The URL of a database this process's cluster does not hold, whichever engine the run is
    on (dropped after the test if something made it)."""
    database = f"t{os.getpid()}_{next(_names)}_missing"
    _state["made"].append(database)
    return cluster().url(database)


def exists(target) -> bool:
    """Whether a database is at `target` (on SQLite: the file, or even its folder)."""
    if not on_postgresql():
        return Path(target).parent.exists()
    return database_exists(target)


def database_exists(url: str) -> bool:
    """Whether this process's cluster holds the database `url` names."""
    import psycopg

    with psycopg.connect(cluster().url("postgres"), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [_name(url)])
        return found.fetchone() is not None


def copy_database(template, target):
    """Make `target` (from `new_target`) a copy of the template database (see the module's
    docstring); returns `target`."""
    if not on_postgresql():
        return shutil.copyfile(template, target)
    from assetmap.store import postgres

    pg = cluster()
    postgres.close_pool(template)  # a template may have no connections while it is copied
    postgres.close_pool(target)
    database = _name(target)
    pg.admin(f"DROP DATABASE IF EXISTS {database}")
    for attempt in range(100):
        try:
            pg.admin(f"CREATE DATABASE {database} TEMPLATE {_name(template)}")
            return target
        except Exception as error:  # another test of this process is copying it: wait
            if "is being accessed by other users" not in str(error) or attempt == 99:
                raise
            time.sleep(0.05)


def _name(url: str) -> str:
    return url.rsplit("/", 1)[1]


@pytest.fixture(autouse=True)
def _drop_the_tests_databases():
    """After each test on PostgreSQL: its connections closed and its databases dropped (the
    session's templates stay), so that a run of thousands of tests holds a few at a time."""
    made_before = len(_state["made"])
    yield
    if _state["cluster"] is None:  # no test of this process has needed PostgreSQL yet
        return
    from assetmap.store import postgres

    made = _state["made"][made_before:]
    del _state["made"][made_before:]
    postgres.close_pools()
    for database in made:
        _state["cluster"].admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def pytest_sessionfinish(session, exitstatus) -> None:
    if _state["cluster"] is not None:
        from assetmap.store import postgres

        postgres.close_pools()
        _state["cluster"].stop()
        _state["cluster"] = None


def pytest_collection_modifyitems(config, items) -> None:
    """A test about PostgreSQL itself (`@pytest.mark.postgresql_only("why")`: its store, its
    search, copies and backups to and from it, several servers on one database) runs in the
    PostgreSQL run only, and is skipped in the SQLite run, saying where it runs: CI runs both
    (.ci/run), so each runs once, and `make test` starts no PostgreSQL cluster for them. Marked
    at collection, so a skipped test's fixtures (a cluster of its own) are never set up."""
    if on_postgresql():
        return
    for item in items:
        marker = item.get_closest_marker("postgresql_only")
        if marker is not None:
            why = marker.args[0] if marker.args else "about PostgreSQL itself"
            reason = f"PostgreSQL only ({why}): runs under `make test-postgres`"
            item.add_marker(pytest.mark.skip(reason=reason))
