"""Shared fixtures: an app on a temporary database holding a few known assets."""

from __future__ import annotations

import gc
import os
import socket
import tempfile
from contextlib import contextmanager

import pytest
from flask import Flask
from hypothesis import settings
from jinja2 import BytecodeCache

from assetmap import create_app
from assetmap.people import accounts
from assetmap.record.validation import validate_asset
from assetmap.store import assets as store
from assetmap.store import connect, initialise

# scrypt with a smaller work factor than the app's (werkzeug's "scrypt" is N=32768, about 0.13 s
# a hash): the tests hash hundreds of passwords, and what they check is the same either way.
accounts.HASH_METHOD = "scrypt:1024:8:1"

# No per-example deadline anywhere: Hypothesis fails an example that takes over 200 ms, and on a
# loaded machine (two cores, parallel workers, browsers) a fast example sometimes does. A
# deadline measures the machine, not the code; what each property checks is unchanged.
settings.register_profile("assetmap", deadline=None)
settings.load_profile("assetmap")

# The engine the tests run on (`--engine postgresql`) and the databases it hands out. Its
# functions are imported where they are used, after pytest has loaded it as a plugin.
pytest_plugins = ["tests.engines"]


def _engines():
    from tests import engines

    return engines


def _temporary_files_in_memory(folder: str = "/dev/shm", room: int = 2 << 30) -> None:
    """Every test's temporary files (its databases above all) in memory, where there is room.

    The store commits with synchronous=FULL, so each commit waits for the disk: 5 ms on this
    machine's disk against 0.03 ms in memory, over the thousands of commits the tests make.
    What is written and read is the same either way. A TMPDIR set by hand is kept; the
    processes the tests start (import workers, gunicorn) inherit the choice.
    """
    if os.environ.get("TMPDIR") or not os.access(folder, os.W_OK | os.X_OK):
        return
    stats = os.statvfs(folder)
    if stats.f_bavail * stats.f_frsize >= room:
        os.environ["TMPDIR"] = folder
        tempfile.tempdir = None  # asked again, so it reads TMPDIR


_temporary_files_in_memory()


def _routes_compiled_once() -> None:
    """Werkzeug parses each route's pattern into the parts it matches with, and writes,
    compiles and runs Python source for its URL builders, twice a route: most of
    `create_app`'s time, made again for each of the thousands of apps the tests create. What
    it makes is a function of the route's pattern, host or subdomain, defaults and the map's
    converter classes alone, so a route seen before gets the same parts and builders, and new
    converters (of the same classes, with the same arguments) bound to its own map. Routing,
    and every URL built, are exactly werkzeug's.
    """
    from werkzeug.routing.rules import Rule

    compile_rule = Rule.compile
    made: dict = {}

    def compile(self) -> None:
        key = (
            self.rule,
            self.subdomain,
            self.host,
            self.map.host_matching,
            self.merge_slashes,
            tuple(self.map.converters.items()),
            repr(sorted((self.defaults or {}).items())),
        )
        known = made.get(key)
        if known is None:
            asked = []
            get_converter = self.get_converter

            def recording(variable, name, args, kwargs):
                asked.append((variable, name, args, kwargs))
                return get_converter(variable, name, args, kwargs)

            self.get_converter = recording
            try:
                compile_rule(self)
            finally:
                del self.get_converter
            made[key] = (
                tuple(self._parts),
                tuple(self._trace),
                tuple(asked),
                self._build.__func__,
                self._build_unknown.__func__,
            )
            return
        parts, trace, asked, build, build_unknown = known
        self._parts, self._trace, self._converters = list(parts), list(trace), {}
        for variable, name, args, kwargs in asked:
            self._converters[variable] = self.get_converter(variable, name, args, kwargs)
            self.arguments.add(variable)
        self._build = build.__get__(self, None)
        self._build_unknown = build_unknown.__get__(self, None)

    Rule.compile = compile


_routes_compiled_once()


class _TemplatesCompiledOnce(BytecodeCache):
    """Jinja compiles each template to Python the first time an app renders it, and each test
    has an app of its own: a fifth of the time of the tests that load pages went on compiling
    the same templates again. Jinja's bytecode cache (made for this: see its docs) keeps the
    compiled code for each template by name and by a hash of its source, here in memory for
    the test process; a changed template is compiled afresh. Every page is rendered as before.
    """

    def __init__(self):
        self.compiled: dict = {}

    def load_bytecode(self, bucket) -> None:
        checksum, code = self.compiled.get(bucket.key, (None, None))
        if checksum == bucket.checksum:
            bucket.code = code

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = (bucket.checksum, bucket.code)


def _with_compiled_templates() -> None:
    create_environment = Flask.create_jinja_environment
    cache = _TemplatesCompiledOnce()

    def create_jinja_environment(self):
        environment = create_environment(self)
        environment.bytecode_cache = cache
        return environment

    Flask.create_jinja_environment = create_jinja_environment


_with_compiled_templates()

HOSTILE_NAME = "<img src=x onerror=alert(1)>${alert(2)}"
HOSTILE_DESCRIPTION = "Back`tick` and ${alert(3)} and </script><script>alert(4)</script>"


def make_asset(**overrides) -> dict:
    """A valid raw asset in Sale, Trafford; overrides change any field."""
    data = {
        "id": "sale-walking-group",
        "name": "Sale Walking Group",
        "description": "A friendly walk round Sale Water Park, then tea.",
        "kind": "group",
        "strand": "access_community_resources",
        "approach": "pathways_to_participation",
        "categories": ["walking", "physical_activity"],
        "audiences": ["adults", "older_people"],
        "postcode": "M33 7ZF",
        "address": "Rifle Road, Sale",
        "lat": 53.4263,
        "lon": -2.3034,
        "cost": "free",
        "schedule": {
            "sessions": [
                {"day": "tuesday", "frequency": "weekly", "start": "10:00", "end": "12:00"}
            ],
            "notes": "",
        },
        "phone": "0161 912 3000",
        "contact_name": "Sam Example",
        "contact_phone": "07700 900123",
        "internal_notes": "Sam prefers calls after 2pm.",
        "self_referral": True,
        "source": "tests",
        "last_verified": "2025-06-01",
    }
    data.update(overrides)
    return data


SAMPLE = [
    make_asset(),
    make_asset(
        id="altrincham-library",
        name="Altrincham Library",
        kind="place",
        approach="community_hubs",
        categories=["learning_skills"],
        lat=53.3871,
        lon=-2.3522,
        postcode="WA14 1AH",
        address="2 Pott Street, Altrincham",
    ),
    make_asset(
        id="stretford-peer-support",
        name="Stretford Peer Support",
        kind="group",
        strand="volunteer_peer_roles",
        approach="peer_support",
        categories=["mental_wellbeing"],
        lat=53.4466,
        lon=-2.3098,
        postcode="M32 9BD",
    ),
    make_asset(
        id="urmston-planning-forum",
        name="Urmston Planning Forum",
        kind="group",
        strand="collaborations_partnerships",
        approach="community_engagement_in_planning",
        categories=[],
        lat=53.4487,
        lon=-2.3547,
        postcode="M41 0TJ",
    ),
    make_asset(
        id="partington-community-garden",
        name="Partington Community Garden",
        kind="activity",
        strand="strengthening_communities",
        approach="asset_based_methods",
        categories=["gardening_nature"],
        lat=53.4189,
        lon=-2.4262,
        postcode="M31 4FA",
    ),
    make_asset(
        id="hostile-example",
        name=HOSTILE_NAME,
        description=HOSTILE_DESCRIPTION,
        lat=53.4300,
        lon=-2.3200,
        postcode="M33 7WR",
    ),
    make_asset(
        id="closed-lunch-club",
        name="Closed Lunch Club",
        status="closed",
        categories=["lunch_clubs_food"],
        lat=53.4250,
        lon=-2.3100,
    ),
]


def load_sample(db_path) -> None:
    """Create the schema and save SAMPLE (each validated, as every write is)."""
    initialise(db_path)
    save_raw(db_path, SAMPLE)


def save_raw(db_path, raws: list[dict]) -> None:
    """Validate each record, as every write is, and save them."""
    db = connect(db_path)
    records = []
    for raw in raws:
        result = validate_asset(raw)
        assert result.ok, result.errors
        records.append(result.record)
    store.save_assets(db, records, who="tests")
    db.close()


@pytest.fixture
def db_path(tmp_path):
    """This test's database (empty): a file on SQLite, a database on PostgreSQL
    (tests/engines.py); ASSETMAP_DB takes either."""
    return _engines().new_target(tmp_path)


@pytest.fixture(scope="session")
def sample_template(tmp_path_factory):
    """The sample data built once a session (by `load_sample`, as before); each test copies it.

    Most tests start from the sample data; copying the file takes a fiftieth of the time that
    building it does, and the copy is the same database, byte for byte.
    """
    path = _engines().new_target(tmp_path_factory.mktemp("sample"), keep=True)
    load_sample(path)
    if not _engines().on_postgresql():
        assert not path.with_name("assetmap.db-wal").exists(), "the template was left unfinished"
    return path


@pytest.fixture
def app(db_path, sample_template):
    _engines().copy_database(sample_template, db_path)
    return create_app({"TESTING": True, "ASSETMAP_DB": str(db_path), "SECRET_KEY": "test-only"})


@pytest.fixture(scope="session")
def trafford_template(tmp_path_factory):
    """The sample assets and every Trafford postcode, built once a session."""
    from tests.test_imports_support import build_import_db

    return build_import_db(_engines().new_target(tmp_path_factory.mktemp("template"), keep=True))


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """The demo's real Trafford assets (data/assets.geojson) and every Trafford postcode, built
    once a session; a test or module copies it (`engines.copy_database`) before it writes."""
    from tests.test_imports_support import build_import_db

    folder = tmp_path_factory.mktemp("demo")
    return build_import_db(_engines().new_target(folder, keep=True), demo=True)


@pytest.fixture
def trafford_db_path(trafford_template, tmp_path):
    """A database of this test's own: the sample assets and every Trafford postcode."""
    return _engines().copy_database(trafford_template, _engines().new_target(tmp_path))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    database = connect(app.config["ASSETMAP_DB"])
    yield database
    database.close()


ROLE_EMAILS = {
    "admin": "admin@example.org",
    "coordinator": "coordinator@example.org",
    "link_worker": "linkworker@example.org",
}
TEST_PASSWORD = "correct horse battery staple"


def add_user(db_path, role: str, email: str | None = None, password: str = TEST_PASSWORD) -> dict:
    """Create an account directly in the store (hashing once; scrypt is slow on purpose)."""
    from assetmap.people import accounts
    from assetmap.store import users

    db = connect(db_path)
    try:
        email = email or ROLE_EMAILS[role]
        existing = users.get_user_by_email(db, email)
        if existing is None:
            accounts.create_account(db, email, role, password, actor="tests")
        return users.get_user_by_email(db, email)
    finally:
        db.close()


def give_session(client, db_path, user: dict) -> None:
    """Sign the client in as `user` without the form: a row in `sessions`, and its token in
    the session cookie, as a successful sign-in leaves them."""
    from assetmap.people import accounts

    db = connect(db_path)
    try:
        token = accounts.start_session(db, user["id"])
    finally:
        db.close()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True


@pytest.fixture
def sign_in(app, db_path):
    """sign_in(client, role) signs the client in as an account of that role.

    It writes the session as a successful sign-in would; the sign-in form itself has its
    own tests.
    """

    def sign_in_as(client, role: str):
        user = add_user(db_path, role)
        give_session(client, db_path, user)
        return user

    return sign_in_as


@pytest.fixture
def csrf_app(db_path, sample_template):
    """An app with CSRF protection on, as in production (the `app` fixture has it on too)."""
    _engines().copy_database(sample_template, db_path)
    return create_app({"ASSETMAP_DB": str(db_path), "SECRET_KEY": "test-only"})


def csrf_token(client, url: str) -> str:
    """The CSRF token from a form on the page at `url`."""
    import re

    page = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'type="hidden" name="csrf_token" value="([^"]+)"', page
    )
    assert match, f"no CSRF token on {url}"
    return match.group(1)


# The tests that take longest, run first: a long test started last keeps one process busy while
# the other has finished (make test's --dist worksteal hands out the rest as processes free up).
# Only the order changes; every test still runs. Each entry is the start of test ids.
LONGEST_FIRST = (
    "tests/test_several_servers.py::",  # in the PostgreSQL run only (tests/engines.py)
    "tests/test_api_schema.py::test_every_api_answer_matches_the_openapi_document",
    "tests/test_load_script.py::",
    "tests/test_openreferral_filters.py::test_every_demo_asset_validates_at_every_endpoint",
    "tests/test_import_limits.py::test_a_hostile_file_is_refused_within_seconds_in_little_",
    "tests/test_oruk_fuzz.py::",
    "tests/test_imports_pipeline.py::test_worker_processes_",
    "tests/test_imports_pipeline.py::test_cleaning_workers_",
    "tests/browser/test_injection.py::",
    "tests/test_permissions.py::",
    "tests/browser/test_import_jobs.py::",
    "tests/browser/test_small_screens.py::",
    "tests/test_postgres_search.py::",  # in the PostgreSQL run only
)


def pytest_collection_finish(session) -> None:
    """What is loaded by the time the tests are collected (the app, hypothesis, schemathesis,
    geopandas, each test module: some 170,000 objects) lives until the end; frozen here, the
    garbage collector stops walking all of it again at each full collection that the tests'
    own short-lived objects set off (half the time spent collecting, about a tenth of the time
    of the tests that make an app each). The tests' own objects are collected as before."""
    gc.collect()
    gc.freeze()


def pytest_xdist_auto_num_workers(config) -> int:
    """`-n auto` (make test): a test process a core, and one more. With one a core, about 60
    of the suite's 198 s went on waiting (on the servers and workers it starts, Chromium, the
    import tests' paced batches) with a core idle; a third process computes meanwhile. On
    this 2-core machine the suite took 165-337 s with 3 processes against 242-372 s with 2,
    measured in turn on a shared machine. An extra process costs its collection and session
    fixtures, about 10 s of CPU."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return cores + 1


def pytest_collection_modifyitems(items) -> None:
    def rank(item) -> int:
        starts = [n for n, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)]
        return starts[0] if starts else len(LONGEST_FIRST)

    items.sort(key=rank)  # a stable sort: the rest keep their order


@contextmanager
def smtp_sink():
    """A local SMTP server on loopback (aiosmtpd) that keeps every message it receives:
    yields (port, received envelopes)."""
    from aiosmtpd.controller import Controller

    received: list = []

    class Sink:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()
