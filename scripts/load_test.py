"""Load and fault test: searches, edits and sign-ins against a real server, without and then
during a large import through the web page, on SYNTHETIC assets.

    .venv/bin/python scripts/load_test.py            # 50,000 assets, 50 clients, 60 s a phase
    .venv/bin/python scripts/load_test.py --quick    # a smoke test, well under a minute
    .venv/bin/python scripts/load_test.py --assets 100000 --clients 80 --keep
    .venv/bin/python scripts/load_test.py --db postgresql://postgres@127.0.0.1:5433/postgres \\
        --servers 2                                  # two app servers on one PostgreSQL database

## What it does

1. Builds once, cached in --work (default /tmp/assetmap-bench), a database of synthetic
   assets in Trafford: each one made by scripts/bench_search.py's generator (`source`
   "synthetic-benchmark", ids starting "synthetic-") and placed within about 100 m of a real
   Trafford postcode, with the Trafford postcode table loaded by `assetmap postcodes load`.
   Each run works on a copy in a temporary folder (or at --db's path), with its own accounts
   (two coordinators, four link workers, two with --quick) made by assetmap.people.accounts
   with passwords this script knows. With `--db postgresql://...` the copy is a new database
   on that server (assetmap_load_TIME_PID, dropped afterwards unless --keep) holding the same
   rows (the assets and the postcode tables), copied as bench_search.py copies them.
2. Starts the app with `assetmap serve` (gunicorn: --workers processes, each with serve's
   default threads unless --threads is given) on a free port of 127.0.0.1, with
   ASSETMAP_ENV=demo, and waits until it answers; with --servers N, N of them, each on its own
   port, sharing the database, the files folder (ASSETMAP_FILES_DIR) and the secret key, as
   app servers behind a load balancer do. Every request goes there and nowhere else; the
   servers are stopped (their process groups killed) however the script ends.
3. Runs two phases of --seconds each, with the same load:
   - --clients threads searching, each with its own session and no pause between requests:
     8 in 10 `GET /api/v1/search?postcode=&radius_km=&q=` with real Trafford postcodes and
     everyday words (a quarter with no words), 1 in 10 the `/search` page, 1 in 10
     `GET /api/v1/assets?bbox=` around a postcode;
   - a coordinator editing an asset's description through the form every second
     (GET /manage/assets/ID/edit, then POST every field of the form as a browser would,
     with its CSRF token), through the first server, each saved edit then read back through
     the public API (GET /api/v1/assets/ID) of another server (of the same one when alone);
   - a link worker signing in with the right password every two seconds (GET /login for
     the CSRF token, then POST), each time in a new session, through each server in turn;
     with several servers the new session then opens /plans through the next one.
   The search clients are spread over the servers.
   Phase (b) adds an import of --import-rows synthetic rows (made like scripts/bench_import.py's,
   each with a real Trafford postcode and a reference new to this run, under a source name
   new to this run, so every row is new) through the web page, as a coordinator would: GET
   /manage/imports/ for the token, POST the file and the source name, follow the redirect to
   the preview, POST its confirm form: the upload through the first server, the preview and
   the confirm through another when there are several (the upload waits in the shared files
   folder). Meanwhile the same coordinator, signed in on the first server, counts the assets with
   the import file's word in their name on /manage/assets again and again: an import is one
   transaction, so each count must be the one before it or the one after it. The phase lasts
   --seconds or until the import ends,
   whichever is later; searches that started while the import was running (from the upload
   to the confirm's answer) are the ones compared with phase (a).

## What it prints, and the targets

For each phase: requests; errors (answers of 500 and more, connection errors, timeouts) and,
apart, answers that were not the expected one (a 4xx, or an edit or a sign-in that did not
redirect as a saved form does); p50/p95/p99 of each kind of request; the edits and sign-ins
with their failures and p95; the import's steps, times and statuses. Then the targets of
issue 12, each PASS or FAIL (exit status 1 if any fails):

- no errors of any kind, in either phase;
- search p95 during the import at most 1.5 times the p95 without it (GET /api/v1/search);
- every row of the import present afterwards (assets with the import's source, counted in the
  database);
- every saved edit in the assets' history and read back through another server (the same one
  when alone);
- the import all or nothing: every count through the other server before or after it.

It also counts the edits kept in the assets' history, and ends with every traceback in the
servers' logs (with --keep the logs are kept, in the temporary folder).

The client threads share this process, and the machine, with the server: on a small machine
they take some of its CPU, which slows both phases alike.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import requests

# The generators of the other benchmarks, so that synthetic data is made one way.
from bench_import import POSTCODES, write_synthetic_csv
from bench_search import (
    copy_to_postgresql,
    create_database,
    drop_database,
    is_postgresql,
    percentile,
    synthetic_record,
)

from assetmap.people import accounts
from assetmap.record.validation import validate_asset
from assetmap.store import assets as store
from assetmap.store import connect, initialise

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GENERATOR_VERSION = 1  # bump when the assets change, so cached databases are rebuilt

QUICK = {"assets": 5_000, "clients": 10, "seconds": 10, "import_rows": 1_000}
DEFAULTS = {"assets": 50_000, "clients": 50, "seconds": 60, "import_rows": 20_000}

REQUEST_TIMEOUT = 30  # seconds; a search, an edit or a sign-in slower than this is a timeout
IMPORT_TIMEOUT = 900  # seconds for each request of the import (the server allows 300)
START_TIMEOUT = 60  # seconds for the server to answer
MAX_REQUESTS_PER_THREAD = 1_000_000  # every loop is bounded in count as well as in time
EDIT_EVERY = 1.0  # seconds
SIGN_IN_EVERY = 2.0  # seconds
TARGET_RATIO = 1.5

WORDS = (
    "walking", "gardening", "singing", "choir", "coffee", "lunch", "yoga", "chess",
    "knitting", "football", "reading", "dance", "cooking", "swimming", "painting", "friends",
    "computer", "carers", "bowls", "tai chi", "music", "art", "support", "money advice",
)  # fmt: skip
RADII_KM = (0.5, 1, 1, 2, 2, 3, 5)


# ---------------------------------------------------------------------------------------------
# Synthetic data
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Postcode:
    code: str
    lat: float
    lon: float
    place: str


def trafford_postcodes() -> list[Postcode]:
    """The real Trafford postcodes of data/postcodes, with their positions and areas."""
    with POSTCODES.open(encoding="utf-8-sig", newline="") as f:
        return [
            Postcode(row["postcode"], float(row["lat"]), float(row["lon"]), row["msoa_hcl_name"])
            for row in csv.DictReader(f)
            if row["lat"] and row["lon"]
        ]


def build_database(path: Path, n: int, seed: int) -> None:
    """n synthetic assets around real Trafford postcodes, and the postcode table, at path."""
    building = path.with_name(path.name + ".building")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{building}{suffix}").unlink(missing_ok=True)
    initialise(building)
    subprocess.run(
        [str(BIN / "assetmap"), "postcodes", "load", str(POSTCODES)],
        env={**os.environ, "ASSETMAP_DB": str(building), "SECRET_KEY": "load-test-only"},
        check=True,
        capture_output=True,
    )
    rng = random.Random(seed)
    codes = trafford_postcodes()
    when = store.now()
    db = connect(building)
    batch: list[dict] = []
    with store.transaction(db):
        for i in range(n):
            near = rng.choice(codes)  # within about 100 m of a real postcode
            lat, lon = near.lat + rng.gauss(0, 0.0006), near.lon + rng.gauss(0, 0.001)
            record = synthetic_record(i, lat, lon, near.place, rng)
            if i < 200:  # the generator keeps to the rules every import keeps to
                checked = validate_asset(record, bounds=None)
                assert checked.ok and checked.record == record, (checked.errors, record)
            batch.append({**store.to_row(record), "created_at": when, "updated_at": when})
            if len(batch) == 5_000:
                db["assets"].insert_all(batch)
                batch = []
        if batch:
            db["assets"].insert_all(batch)
    db.conn.execute("INSERT INTO assets_nearby_fts (assets_nearby_fts) VALUES ('optimize')")
    db.conn.execute("ANALYZE")
    db.close()
    building.replace(path)


def ensure_database(work: Path, n: int, seed: int) -> tuple[Path, bool]:
    """The cached database of n synthetic Trafford assets, built when absent; and whether it
    was cached."""
    path = work / f"load-trafford-{n}-seed{seed}-v{GENERATOR_VERSION}.db"
    cached = path.exists()
    if not cached:
        work.mkdir(parents=True, exist_ok=True)
        print(f"building {path} ...", flush=True)
        started = time.perf_counter()
        build_database(path, n, seed)
        print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    initialise(path)  # a cached database is brought up to the current schema
    return path, cached


@dataclass
class Account:
    email: str
    password: str


@dataclass
class Setup:
    bases: list[str]  # the servers' URLs: the first takes the edits and the import
    target: Path | str  # the database: a SQLite file, or a PostgreSQL URL
    codes: list[Postcode]
    editor: Account
    importer: Account
    link_workers: list[Account]
    edit_ids: list[str]

    sessions: dict[str, requests.Session] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return self.bases[0]

    def signed_in(self, who: str, base: str, account: Account) -> requests.Session:
        """A session of `account` on `base`, signed in before the first phase that needs it
        (not part of any phase's figures) and kept for the next."""
        if who not in self.sessions:
            session, recorder = requests.Session(), Recorder()
            if not sign_in(session, recorder, base, account):
                raise SystemExit(f"{who} could not sign in: {recorder.samples}")
            self.sessions[who] = session
        return self.sessions[who]

    def other(self, n: int = 0) -> str:
        """A server other than the first (the first when there is only one), in turn: where a
        write made through the first is read back."""
        return self.bases[1 + n % (len(self.bases) - 1)] if len(self.bases) > 1 else self.base


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of the cached database (SQLite's backup, not a file copy)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def make_accounts(
    target: Path | str, link_workers: int = 4
) -> tuple[Account, Account, list[Account]]:
    """Two coordinators (one edits, one imports) and link workers, with known passwords."""
    db = connect(target)
    made = []
    try:
        for email, role in (
            ("editor@load-test.example", "coordinator"),
            ("importer@load-test.example", "coordinator"),
            *(
                (f"link-worker-{n}@load-test.example", "link_worker")
                for n in range(1, link_workers + 1)
            ),
        ):
            account = Account(email, secrets.token_urlsafe(16))
            accounts.create_account(db, email, role, account.password, actor="load-test")
            made.append(account)
    finally:
        db.close()
    return made[0], made[1], made[2:]


def assets_to_edit(target: Path | str, seed: int, count: int = 500) -> list[str]:
    """Open, unarchived synthetic assets for the coordinator to edit."""
    ids = [
        row[0]
        for row in read(
            target,
            "SELECT id FROM assets WHERE status = 'active' AND archived = 0 ORDER BY rid LIMIT ?",
            [count * 20],
        )
    ]
    random.Random(seed).shuffle(ids)
    return ids[:count]


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`assetmap serve` on a free loopback port, in its own process group."""

    def __init__(
        self,
        target: Path | str,
        workers: int,
        threads: int | None,
        log_path: Path,
        files: Path,
        secret: str,
    ):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.log = log_path.open("ab")
        # Several servers share the database, the files folder (uploads waiting for their
        # preview, imported files) and the key that signs sessions, as behind a load balancer.
        env = {**os.environ, "ASSETMAP_DB": str(target), "ASSETMAP_ENV": "demo"}
        env.update(ASSETMAP_FILES_DIR=str(files), SECRET_KEY=secret)
        command = [str(BIN / "assetmap"), "serve", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--workers", str(workers)]
        if threads is not None:  # otherwise serve's own default
            command += ["--threads", str(threads)]
        self.process = subprocess.Popen(
            command, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_until_ready(self) -> float:
        started = time.monotonic()
        while time.monotonic() - started < START_TIMEOUT:
            if self.process.poll() is not None:
                raise SystemExit(
                    f"the server exited ({self.process.returncode}); see {self.log_path}"
                )
            try:
                if requests.get(f"{self.base}/api/v1/taxonomy", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise SystemExit(f"the server did not answer within {START_TIMEOUT} s; see {self.log_path}")

    def log_size(self) -> int:
        self.log.flush()
        return self.log_path.stat().st_size

    def stop(self) -> None:
        """Stop gunicorn and its workers: the whole process group, killed if it lingers."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
            except ProcessLookupError:
                pass
        self.log.close()


def tracebacks(log_path: Path, start: int = 0, end: int | None = None) -> Counter:
    """Each distinct exception in the server log between two offsets, with the path it was
    raised on and the deepest frame in assetmap's own code, and gunicorn's worker timeouts,
    counted."""
    with log_path.open("rb") as f:
        f.seek(start)
        text = f.read(None if end is None else end - start).decode("utf-8", "replace")
    found: Counter = Counter()
    path, in_traceback, last_frame = "?", False, ""
    for line in text.splitlines():
        if m := re.search(r"unhandled error on (\S+)", line):
            path = re.sub(r"/[0-9a-f]{16,}|/synthetic-\d+|/\d+", "/…", m.group(1))
        if line.startswith("Traceback (most recent call last):"):
            in_traceback, last_frame = True, ""
        elif in_traceback and line.startswith("  File "):
            if "/assetmap/" in line or not last_frame:  # assetmap's code, not the libraries'
                last_frame = line.strip()
        elif in_traceback and line and not line.startswith(" "):
            found[f"{path}: {line.strip()[:200]}  [{last_frame[:160]}]"] += 1
            in_traceback, path = False, "?"
        if "WORKER TIMEOUT" in line:
            found["gunicorn: WORKER TIMEOUT"] += 1
    return found


# ---------------------------------------------------------------------------------------------
# Forms
# ---------------------------------------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    classes: str
    fields: list[tuple[str, str]] = field(default_factory=list)


class FormParser(HTMLParser):
    """The forms of a page and what a browser would submit from each as it stands: text and
    hidden inputs, checked boxes and radios, each select's chosen option, textareas."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: tuple[str, list[tuple[str, bool]]] | None = None
        self._option: list | None = None
        self._textarea: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = Form(a.get("action") or "", (a.get("method") or "get").lower(),
                              a.get("class") or "")  # fmt: skip
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form.fields.append((a["name"], a.get("value", "on")))
            elif kind not in ("file", "submit", "button", "image", "reset"):
                self._form.fields.append((a["name"], a.get("value") or ""))
        elif tag == "select" and a.get("name"):
            self._select = (a["name"], [])
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value"), "selected" in a, ""]
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]

    def handle_data(self, data):
        if self._option is not None:
            self._option[2] += data
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None and self._select is not None:
            value, chosen, text = self._option
            self._select[1].append((text.strip() if value is None else value, chosen))
            self._option = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, options = self._select
            chosen = [v for v, c in options if c] or [v for v, _ in options[:1]]
            self._form.fields.extend((name, v) for v in chosen[:1])
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.fields.append(tuple(self._textarea))
            self._textarea = None
        elif tag == "form":
            self._form = None


def forms(html: str) -> list[Form]:
    parser = FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def csrf_token(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    if not m:
        raise ValueError("no csrf_token on the page")
    return m.group(1)


# ---------------------------------------------------------------------------------------------
# Requests and what became of them
# ---------------------------------------------------------------------------------------------

ERROR_KINDS = ("5xx", "connection", "timeout")


@dataclass
class Sample:
    kind: str  # search, search page, bbox, edit form, edit, sign-in form, sign-in, import ...
    started: float  # time.monotonic()
    seconds: float
    status: int | None
    problem: str | None = None  # 5xx, connection, timeout, unexpected
    detail: str = ""


class Recorder:
    """Every request's outcome, from every thread."""

    def __init__(self):
        self.samples: list[Sample] = []
        self._lock = threading.Lock()

    def add(self, sample: Sample) -> None:
        with self._lock:
            self.samples.append(sample)

    def of(self, *kinds: str) -> list[Sample]:
        with self._lock:
            return [s for s in self.samples if s.kind in kinds]


def call(
    session: requests.Session,
    recorder: Recorder,
    kind: str,
    method: str,
    url: str,
    expect: int,
    *,
    timeout: float = REQUEST_TIMEOUT,
    **kwargs,
) -> requests.Response | None:
    """One request, recorded; the response when it was the expected one, else None.

    Redirects are not followed: a saved form answers 302, and a 302 to the sign-in page (a
    lost session) is not what was expected.
    """
    started = time.monotonic()
    status, problem, detail, response = None, None, "", None
    try:
        response = session.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
        status = response.status_code
        location = response.headers.get("Location", "")
        if status >= 500:
            problem = "5xx"
        elif status != expect or (status == 302 and "/login" in location):
            problem = "unexpected"
            detail = location or _page_message(response.text)
    except requests.Timeout:
        problem, detail = "timeout", f"no answer within {timeout:g} s"
    except requests.RequestException as e:
        problem, detail = "connection", type(e).__name__
    recorder.add(Sample(kind, started, time.monotonic() - started, status, problem, detail))
    return response if problem is None else None


def _page_message(html: str) -> str:
    """The first error message or heading of a page, to say why a request was refused."""
    m = re.search(r'role="alert"[^>]*>(.*?)</div>', html, re.S) or re.search(
        r"<h1>(.*?)</h1>", html, re.S
    )
    return re.sub(r"<[^>]+>|\s+", " ", m.group(1)).strip()[:160] if m else html[:160]


def sign_in(session, recorder, base: str, account: Account, kind: str = "sign-in") -> bool:
    page = call(session, recorder, f"{kind} form", "GET", f"{base}/login", 200)
    if page is None:
        return False
    data = {"csrf_token": csrf_token(page.text), "email": account.email}
    data["password"] = account.password
    return call(session, recorder, kind, "POST", f"{base}/login", 302, data=data) is not None


# ---------------------------------------------------------------------------------------------
# The clients
# ---------------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    recorder: Recorder = field(default_factory=Recorder)
    stop: threading.Event = field(default_factory=threading.Event)
    started: float = 0.0
    ended: float = 0.0
    hard_deadline: float = 0.0
    import_steps: list[tuple[str, float, int | None]] = field(default_factory=list)
    import_window: tuple[float, float] | None = None
    import_counts: dict[str, str] = field(default_factory=dict)
    import_message: str = ""
    import_ok: bool = False
    import_done: threading.Event = field(default_factory=threading.Event)
    import_seen: list[int | None] = field(default_factory=list)  # counts seen by the watcher
    import_before: int | None = None
    edits_saved: int = 0
    edits_seen: int = 0  # saved edits then read back through another server
    client_cpu: float = 0.0  # CPU seconds this process (the clients) used in the phase
    server_cpu: float = 0.0  # and the server's processes
    machine_cpu: float = 0.0  # and every process on the machine

    def going(self) -> bool:
        return not self.stop.is_set() and time.monotonic() < self.hard_deadline


def search_client(phase: Phase, setup: Setup, seed: int, base: str) -> None:
    """Searches, search pages and map areas around real postcodes, one after another."""
    rng, session = random.Random(seed), requests.Session()
    for _ in range(MAX_REQUESTS_PER_THREAD):
        if not phase.going():
            break
        near = rng.choice(setup.codes)
        roll = rng.random()
        if roll < 0.9:
            params = {"postcode": near.code, "radius_km": rng.choice(RADII_KM)}
            if rng.random() < 0.75:
                params["q"] = rng.choice(WORDS)
            kind, path = ("search", "/api/v1/search") if roll < 0.8 else ("search page", "/search")
            call(session, phase.recorder, kind, "GET", base + path, 200, params=params)
        else:
            half = rng.uniform(0.005, 0.03)
            box = (near.lon - half * 1.6, near.lat - half, near.lon + half * 1.6, near.lat + half)
            params = {"bbox": ",".join(f"{v:.5f}" for v in box), "limit": 100}
            call(
                session, phase.recorder, "bbox", "GET", f"{base}/api/v1/assets", 200, params=params
            )


def paced(phase: Phase, every: float, kind: str, action) -> None:
    """Run action(n) every `every` seconds (at once when one ran late) while the phase runs.

    An action that raises (a page without the form it should have) is recorded as an
    unexpected answer of its kind, and the next one goes ahead.
    """
    started = time.monotonic()
    for n in range(MAX_REQUESTS_PER_THREAD):
        if not phase.going():
            break
        try:
            action(n)
        except Exception as e:  # recorded, and counted against the targets
            fault = Sample(kind, time.monotonic(), 0.0, None, "unexpected", f"{e!r}"[:200])
            phase.recorder.add(fault)
        wait = started + (n + 1) * every - time.monotonic()
        if wait > 0:
            phase.stop.wait(min(wait, max(phase.hard_deadline - time.monotonic(), 0)))


def editor(phase: Phase, setup: Setup, session: requests.Session) -> None:
    """A coordinator changing an asset's description through the form (on the first server),
    every second; each saved edit is then read back through the public API of another server
    when there are several, or of the same one."""
    base, recorder = setup.base, phase.recorder

    def edit(n: int) -> None:
        asset_id = setup.edit_ids[n % len(setup.edit_ids)]
        url = f"{base}/manage/assets/{asset_id}/edit"
        page = call(session, recorder, "edit form", "GET", url, 200)
        if page is None:
            return
        form = next(f for f in forms(page.text) if "asset-form" in f.classes)  # or raise
        data, mark = [], f"Load test edit {phase.name}-{n}."
        for name, value in form.fields:
            if name == "description":
                value = f"{value.split(' Load test edit ')[0]} {mark}"
            elif name == "reason":
                value = "load test"
            data.append((name, value))
        if call(session, recorder, "edit", "POST", url, 302, data=data) is None:
            return
        phase.edits_saved += 1
        elsewhere = f"{setup.other(n)}/api/v1/assets/{asset_id}"
        # A new connection each time: one kept idle between edits may be closed by the server
        # (gunicorn's keep-alive is 2 s) just as the next request goes out on it.
        with requests.Session() as reader:
            answer = call(reader, recorder, "edit read back", "GET", elsewhere, 200)
        if answer is None:
            return
        if mark in answer.json()["properties"].get("description", ""):
            phase.edits_seen += 1
        else:
            missing = f"{asset_id}: the saved edit not seen through {elsewhere}"
            recorder.add(
                Sample("edit read back", time.monotonic(), 0.0, 200, "unexpected", missing)
            )

    paced(phase, EDIT_EVERY, "edit", edit)


def signer(phase: Phase, setup: Setup) -> None:
    """Link workers signing in with the right password every two seconds, each time anew,
    through each server in turn; with several servers, the new session then opens the plans
    page through another one (a session made on one server holds on the others)."""

    def once(n: int) -> None:
        account = setup.link_workers[n % len(setup.link_workers)]
        session, here = requests.Session(), setup.bases[n % len(setup.bases)]
        if sign_in(session, phase.recorder, here, account) and len(setup.bases) > 1:
            there = setup.bases[(n + 1) % len(setup.bases)]
            call(session, phase.recorder, "session elsewhere", "GET", f"{there}/plans", 200)

    paced(phase, SIGN_IN_EVERY, "sign-in", once)


def importer(phase: Phase, setup: Setup, session, csv_path: Path, source: str) -> None:
    """A coordinator importing the file through the web page: upload through the first
    server, preview and confirm through another when there are several (as a load balancer may
    send them: the upload waits in the shared files folder, ASSETMAP_FILES_DIR)."""
    base, then, recorder = setup.base, setup.other(), phase.recorder

    def step(name: str, method: str, url: str, expect: int, **kwargs):
        started = time.monotonic()
        response = call(
            session,
            recorder,
            f"import {name}",
            method,
            url,
            expect,
            timeout=IMPORT_TIMEOUT,
            **kwargs,
        )
        status = recorder.of(f"import {name}")[-1].status
        phase.import_steps.append((name, time.monotonic() - started, status))
        return response

    started = time.monotonic()
    try:
        page = step("page", "GET", f"{base}/manage/imports/", 200)
        if page is None:
            return
        with csv_path.open("rb") as f:
            uploaded = step(
                "upload and preview",
                "POST",
                f"{base}/manage/imports/",
                302,
                data={"csrf_token": csrf_token(page.text), "source": source},
                files={"file": (csv_path.name, f, "text/csv")},
            )
        if uploaded is None:
            return
        preview = step("preview page", "GET", then + uploaded.headers["Location"], 200)
        if preview is None:
            return
        for label in ("New assets", "Changed assets", "Rejected rows", "Possible duplicates"):
            m = re.search(rf"<th scope=\"row\">{label}</th><td>(\d+)", preview.text)
            phase.import_counts[label.lower()] = m.group(1) if m else "?"
        confirm = next((f for f in forms(preview.text) if f.action.endswith("/confirm")), None)
        if confirm is None:  # nothing to import: every row unchanged or rejected
            recorder.add(Sample("import confirm", time.monotonic(), 0.0, None, "unexpected",
                                "the preview offers no import"))  # fmt: skip
            return
        done = step("confirm", "POST", then + confirm.action, 302, data=confirm.fields)
        phase.import_window = (started, time.monotonic())
        if done is None:
            return
        phase.import_ok = "/manage/imports/runs/" in done.headers.get("Location", "")
        run = step("run page", "GET", then + done.headers["Location"], 200)
        if run is not None:
            m = re.search(r'<div class="flash"[^>]*>(.*?)</div>', run.text, re.S)
            phase.import_message = re.sub(r"<[^>]+>|\s+", " ", m.group(1)).strip() if m else ""
    except Exception as e:  # a page without what it should have: recorded, a failed import
        recorder.add(Sample("import", time.monotonic(), 0.0, None, "unexpected", f"{e!r}"[:200]))
    finally:
        if phase.import_window is None:
            phase.import_window = (started, time.monotonic())
        phase.import_done.set()


IMPORTED_NAMES = "Synthetic"  # every name of the import's file has it (bench_import.py) ...
# ... and no asset of the load test's own database does (bench_search.synthetic_record)


def imported_count(session, recorder: Recorder, base: str) -> int | None:
    """How many assets have the import file's word in their name, as the coordinators' list of
    assets through `base` says; None when the page did not answer as it should."""
    page = call(session, recorder, "import watch", "GET", f"{base}/manage/assets",
                200, params={"q": IMPORTED_NAMES, "archived": "yes"})  # fmt: skip
    m = re.search(r"<p>(\d+) assets? with", page.text) if page is not None else None
    if page is not None and m is None:
        recorder.add(Sample("import watch", time.monotonic(), 0.0, 200, "unexpected",
                            "the list of assets says no count"))  # fmt: skip
    return int(m.group(1)) if m else None


def watcher(phase: Phase, session, base: str) -> None:
    """A coordinator on the first server (the import is confirmed through another when there
    are several) counting the import's assets again and again while it runs, and once after:
    an import is one transaction, so every count is the one before it or the one after it,
    never between."""
    while phase.going() and not phase.import_done.is_set():
        phase.import_seen.append(imported_count(session, phase.recorder, base))
        phase.stop.wait(0.05)
    phase.import_seen.append(imported_count(session, phase.recorder, base))


def server_cpu_seconds(pids: list[int]) -> float:
    """CPU seconds used so far by the servers' process groups: gunicorn and its workers (from
    Linux's /proc; 0 elsewhere)."""
    ticks, total = os.sysconf("SC_CLK_TCK"), 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            after_name = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(after_name[2]) in pids:  # the process group; then user, system and children's
            total += sum(int(t) for t in after_name[11:15]) / ticks
    return total


def machine_cpu_seconds() -> tuple[float, float]:
    """CPU seconds all cores have been busy, and in all, since boot (Linux; zeros elsewhere)."""
    try:
        ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    idle = ticks[3] + ticks[4]  # idle and waiting for I/O
    per_second = os.sysconf("SC_CLK_TCK")
    return (sum(ticks[:8]) - idle) / per_second, sum(ticks[:8]) / per_second


def run_phase(
    name: str, setup: Setup, args, server_pids: list[int], import_file: tuple[Path, str] | None
) -> Phase:
    """The load for --seconds (and, with an import, until the import has ended)."""
    phase = Phase(name)
    editor_session = setup.signed_in("the editing coordinator", setup.base, setup.editor)
    importer_session = watching = None
    if import_file:
        importer_session = setup.signed_in("the importing coordinator", setup.base, setup.importer)
        # the same coordinator, on the first server, while the import is saved by another
        watching = setup.signed_in("the watching coordinator", setup.base, setup.importer)
        phase.import_before = imported_count(watching, Recorder(), setup.base)
    cpu = time.process_time(), server_cpu_seconds(server_pids), machine_cpu_seconds()[0]
    phase.started = time.monotonic()
    deadline = phase.started + args.seconds
    phase.hard_deadline = deadline + (IMPORT_TIMEOUT * 3 if import_file else 0)
    threads = [
        threading.Thread(
            target=search_client,
            args=(phase, setup, args.seed * 1000 + n, setup.bases[n % len(setup.bases)]),
        )
        for n in range(args.clients)
    ]
    threads.append(threading.Thread(target=editor, args=(phase, setup, editor_session)))
    threads.append(threading.Thread(target=signer, args=(phase, setup)))
    importing = None
    if import_file:
        importing = threading.Thread(
            target=importer, args=(phase, setup, importer_session, *import_file)
        )
        threads.append(importing)
        threads.append(threading.Thread(target=watcher, args=(phase, watching, setup.base)))
    for thread in threads:
        thread.daemon = True  # Ctrl-C ends the script without waiting for them
        thread.start()
    try:
        while time.monotonic() < phase.hard_deadline:
            if time.monotonic() >= deadline and (importing is None or not importing.is_alive()):
                break
            time.sleep(0.1)
    finally:
        phase.stop.set()
        phase.ended = time.monotonic()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT + 5)
    phase.client_cpu = time.process_time() - cpu[0]
    phase.server_cpu = server_cpu_seconds(server_pids) - cpu[1]
    phase.machine_cpu = machine_cpu_seconds()[0] - cpu[2]
    return phase


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------


def ms(samples: list[Sample], p: float) -> float:
    return percentile([s.seconds for s in samples], p) * 1000 if samples else float("nan")


def latency_line(label: str, samples: list[Sample]) -> str:
    failed = sum(s.problem is not None for s in samples)
    if not samples:
        return f"  {label:<24} n=0"
    return (
        f"  {label:<24} n={len(samples):<7,} failed {failed:<5,} p50 {ms(samples, 50):8.1f}"
        f"  p95 {ms(samples, 95):8.1f}  p99 {ms(samples, 99):8.1f} ms"
    )


def during_import(phase: Phase) -> list[Sample]:
    if phase.import_window is None:
        return []
    start, end = phase.import_window
    return [s for s in phase.recorder.of("search") if start <= s.started <= end]


def errors_of(phase: Phase) -> Counter:
    return Counter(s.problem for s in phase.recorder.samples if s.problem)


def report_phase(phase: Phase, servers: list[Server], log_spans: list[tuple[int, int]]) -> None:
    samples = phase.recorder.samples
    seconds = phase.ended - phase.started
    counts = errors_of(phase)
    errors = sum(counts[k] for k in ERROR_KINDS)
    print(f"\n== phase {phase.name}, {seconds:.1f} s")
    others = max(phase.machine_cpu - phase.server_cpu - phase.client_cpu, 0)
    print(
        f"  CPU busy, in cores: the server {phase.server_cpu / seconds:.2f}, the clients (this "
        f"script) {phase.client_cpu / seconds:.2f}, other processes {others / seconds:.2f}; "
        f"of {os.cpu_count()} cores"
    )
    print(
        f"  requests {len(samples):,} ({len(samples) / seconds:,.1f} a second); errors {errors:,}"
        f" (5xx {counts['5xx']:,}, connection {counts['connection']:,}, timeouts "
        f"{counts['timeout']:,}); unexpected answers (4xx, or not the redirect of a saved form) "
        f"{counts['unexpected']:,}"
    )
    for label, kind in (("search (API)", "search"), ("search page", "search page")):
        print(latency_line(label, phase.recorder.of(kind)))
    print(latency_line("map area (bbox)", phase.recorder.of("bbox")))
    edit_forms, edits = phase.recorder.of("edit form"), phase.recorder.of("edit")
    print(latency_line("edit: GET the form", edit_forms))
    print(latency_line("edit: POST (save)", edits))
    print(
        f"  edits: {len(edit_forms):,} tried, {phase.edits_saved:,} saved, "
        f"{len(edit_forms) - phase.edits_saved:,} failed; {phase.edits_seen:,} read back "
        f"through {'another server' if len(servers) > 1 else 'the server'}"
    )
    print(latency_line("sign-in: GET the form", phase.recorder.of("sign-in form")))
    sign_ins = phase.recorder.of("sign-in")
    print(latency_line("sign-in: POST", sign_ins))
    tried = len(phase.recorder.of("sign-in form"))
    failed = tried - sum(s.problem is None for s in sign_ins)
    print(f"  sign-ins: {tried:,} tried, {tried - failed:,} signed in, {failed:,} failed")
    elsewhere = phase.recorder.of("session elsewhere")
    if elsewhere:
        held = sum(s.problem is None for s in elsewhere)
        print(f"  sessions used on another server: {len(elsewhere):,}, {held:,} held")
    if phase.import_steps:
        print("  import:")
        for name, took, status in phase.import_steps:
            print(f"    {name:<20} {took:8.2f} s  status {status}")
        start, end = phase.import_window
        print(
            f"    from upload to the confirm's answer {end - start:.2f} s; "
            f"{'imported' if phase.import_ok else 'NOT imported'}; preview counts "
            + ", ".join(f"{k} {v}" for k, v in phase.import_counts.items())
        )
        if phase.import_message:
            print(f"    the run page says: {phase.import_message[:300]}")
        print(latency_line("search during the import", during_import(phase)))
        seen = Counter(phase.import_seen)
        through = "another server" if len(servers) > 1 else "the server"
        print(
            f"    the import's assets counted through {through}"
            f" {len(phase.import_seen):,} times: before {phase.import_before}, then "
            + ", ".join(f"{count} ({n:,} times)" for count, n in sorted(seen.items(), key=str))
        )
        confirm = phase.recorder.of("import confirm")
        if confirm:
            c = confirm[0]
            while_writing = [
                s
                for s in phase.recorder.of("search")
                if c.started <= s.started <= c.started + c.seconds
            ]
            print(latency_line("search during confirm", while_writing))
            for kind in ("edit", "sign-in"):
                hit = [
                    s
                    for s in phase.recorder.of(kind)
                    if c.started <= s.started <= c.started + c.seconds
                ]
                print(latency_line(f"{kind} during confirm", hit))
    problems = Counter(
        f"{s.kind}: {s.problem} {s.status or ''} {s.detail}".rstrip() for s in samples if s.problem
    )
    if problems:
        print("  what went wrong (most common first):")
        for text, n in problems.most_common(8):
            print(f"    {n:6,} x {text[:200]}")
    found = sum(
        (
            tracebacks(server.log_path, *span)
            for server, span in zip(servers, log_spans, strict=True)
        ),
        Counter(),
    )
    if found:
        print("  tracebacks in the server log:")
        for text, n in found.most_common(8):
            print(f"    {n:6,} x {text}")


def read(target: Path | str, sql: str, params: list) -> list:
    """The rows of a query on the run's database (either engine), through the store's own
    connection; the server's writes are committed, so this sees them all."""
    db = connect(target)
    try:
        return db.conn.execute(sql, params).fetchall()
    finally:
        db.close()


def rows_present(target: Path | str, source: str) -> int:
    """Assets with the import's source, counted in the database."""
    return read(target, "SELECT count(*) FROM assets WHERE source = ?", [source])[0][0]


def edits_in_history(target: Path | str, who: str) -> int:
    return read(
        target,
        "SELECT count(*) FROM asset_history WHERE changed_by = ? AND reason = 'load test'",
        [who],
    )[0][0]


# ---------------------------------------------------------------------------------------------


def options(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--assets", type=int, help=f"synthetic assets (default {DEFAULTS['assets']:,})"
    )
    parser.add_argument(
        "--clients", type=int, help=f"search threads (default {DEFAULTS['clients']})"
    )
    parser.add_argument(
        "--seconds", type=float, help=f"length of each phase (default {DEFAULTS['seconds']})"
    )
    parser.add_argument(
        "--import-rows", type=int, help=f"rows of the import (default {DEFAULTS['import_rows']:,})"
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument(
        "--threads", type=int, help="threads in each worker (default: assetmap serve's)"
    )
    parser.add_argument("--quick", action="store_true", help=f"a smoke test: {QUICK}, unless given")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and its log")
    parser.add_argument("--work", type=Path, default=Path("/tmp/assetmap-bench"),
                        help="where the synthetic databases are cached")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--db",
        metavar="PATH_OR_URL",
        help="the run's database: a new SQLite file's path (default: one in the temporary "
        "folder), or a PostgreSQL server's URL (postgresql://user@host:port/dbname, PostGIS "
        "installed), where a database assetmap_load_TIME_PID is made for the run (dropped "
        "afterwards unless --keep)",
    )
    parser.add_argument(
        "--servers",
        type=int,
        default=1,
        help="app servers (each `assetmap serve` on its own port) sharing the database, the "
        "files folder and the secret key, as behind a load balancer: searches spread over them, "
        "the edits and the import go through the first and are read back through the others, "
        "each sign-in's session is used on the next one (default 1)",
    )
    args = parser.parse_args(argv)
    if args.servers < 1:
        parser.error("--servers: at least 1")
    preset = QUICK if args.quick else DEFAULTS
    for name, value in preset.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


# What the cached database holds: the assets, and what `assetmap postcodes load` wrote.
COPIED_TABLES = ("assets", "postcodes", "postcode_files", "postcode_wards")


def prepare_database(cached: Path, args, folder: Path) -> tuple[Path | str, str]:
    """The run's database, made from the cached one: a copy in the temporary folder (or at
    --db's path), or with --db postgresql://... a new database on that server holding the same
    rows (COPIED_TABLES). The target, and where it is, to print."""
    if args.db and is_postgresql(args.db):
        from assetmap.store.postgres import without_password

        target = create_database(args.db, args.pg_name)
        copy_to_postgresql(cached, target, COPIED_TABLES)
        return target, without_password(target)
    path = Path(str(args.db).removeprefix("sqlite:///")) if args.db else folder / "assetmap.db"
    if path.exists():
        raise SystemExit(f"--db {path} exists already: give a path for a new file")
    copy_database(cached, path)
    return path, str(path)


def main(argv=None) -> int:
    args = options(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` stops the server
    print(
        f"load_test: {args.assets:,} synthetic assets, {args.clients} search clients, "
        f"{args.seconds:g} s a phase, an import of {args.import_rows:,} rows, "
        f"{args.servers} server{'s' if args.servers > 1 else ''} of "
        f"{args.workers} gunicorn workers" + (f" of {args.threads} threads" if args.threads else "")
    )
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    cached, was_cached = ensure_database(args.work, args.assets, args.seed)
    folder = Path(tempfile.mkdtemp(prefix="assetmap-load-"))
    tag = time.strftime("%Y%m%d%H%M%S")
    args.pg_name = f"assetmap_load_{tag}_{os.getpid()}"
    servers: list[Server] = []
    made = False
    try:
        target, where = prepare_database(cached, args, folder)
        made = True
        # (each password is hashed, at a second or so of a core: fewer for a smoke test)
        made_accounts = make_accounts(target, 2 if args.quick else 4)
        editor_account, importer_account, link_workers = made_accounts
        source = f"synthetic-benchmark-load-test-{tag}"
        csv_path = folder / f"synthetic-load-test-{args.import_rows}.csv"
        codes = trafford_postcodes()
        write_synthetic_csv(
            csv_path, args.import_rows, args.seed, ref_prefix=f"LOAD-{tag}", source=None
        )
        print(f"database: {cached} ({'cached' if was_cached else 'built'}), copied to {where}")
        files, secret = folder / "files", secrets.token_hex(32)
        servers = [
            Server(target, args.workers, args.threads, folder / f"server-{n}.log", files, secret)
            for n in range(1, args.servers + 1)
        ]
        for server in servers:
            took = server.wait_until_ready()
            pid = server.process.pid
            print(f"server: {server.base} (gunicorn pid {pid}), answering after {took:.1f} s")
        setup = Setup(
            [server.base for server in servers], target, codes, editor_account,
            importer_account, link_workers, assets_to_edit(target, args.seed),
        )  # fmt: skip
        warm = requests.Session()  # each worker opens its database and loads its templates
        for base in setup.bases:
            for n in range(args.workers * (1 if args.quick else 4)):
                params = {"postcode": codes[n].code}
                warm.get(f"{base}/api/v1/search", params=params, timeout=30)
                warm.get(f"{base}/search", params=params, timeout=30)
        idle = Phase("idle")
        for n in range(10 if args.quick else 50):  # one search at a time, as a yardstick
            params = {"postcode": codes[n * 7].code, "radius_km": 2, "q": WORDS[n % len(WORDS)]}
            url = f"{setup.bases[n % len(setup.bases)]}/api/v1/search"
            call(warm, idle.recorder, "search", "GET", url, 200, params=params)
        print(latency_line("idle: one search at once", idle.recorder.of("search")))

        pids = [server.process.pid for server in servers]
        marks = [[server.log_size() for server in servers]]
        without = run_phase("(a) without an import", setup, args, pids, None)
        marks.append([server.log_size() for server in servers])
        report_phase(without, servers, list(zip(marks[0], marks[1], strict=True)))
        during = run_phase("(b) during an import", setup, args, pids, (csv_path, source))
        marks.append([server.log_size() for server in servers])
        report_phase(during, servers, list(zip(marks[1], marks[2], strict=True)))

        present = rows_present(target, source)
        kept = edits_in_history(target, editor_account.email)
        saved = without.edits_saved + during.edits_saved
        seen = without.edits_seen + during.edits_seen
        print(f"\nedits kept in the assets' history: {kept:,} (the editor saw {saved:,} saved)")
        base_p95, import_samples = ms(without.recorder.of("search"), 95), during_import(during)
        import_p95 = ms(import_samples, 95)
        ratio = import_p95 / base_p95 if import_samples and base_p95 > 0 else float("inf")
        errors = {p.name: errors_of(p) for p in (without, during)}
        total_errors = sum(sum(c.values()) for c in errors.values())
        before = during.import_before
        whole = {before, None if before is None else before + args.import_rows}
        # (a count the page did not give, None, is an error counted above, not a partial one)
        partial = sorted({c for c in during.import_seen if c is not None and c not in whole})
        elsewhere = "another server" if args.servers > 1 else "the server"
        targets = [
            (
                total_errors == 0,
                "no errors of any kind",
                "; ".join(
                    f"{name}: {sum(c.values()):,}"
                    + (f" ({', '.join(f'{k} {v:,}' for k, v in c.items())})" if c else "")
                    for name, c in errors.items()
                ),
            ),
            (
                ratio <= TARGET_RATIO,
                f"search p95 during the import at most {TARGET_RATIO:g}x without",
                f"{ratio:.2f}x ({import_p95:.1f} ms over {len(import_samples):,} searches, "
                f"against {base_p95:.1f} ms)",
            ),
            (
                present == args.import_rows,
                "the import's rows all present",
                f"{present:,} of {args.import_rows:,} assets with source {source}",
            ),
            (
                seen == saved == kept and saved > 0,
                f"every saved edit kept and read back through {elsewhere}",
                f"{saved:,} saved, {kept:,} in the history, {seen:,} read back",
            ),
            (
                before is not None
                and not partial
                and during.import_seen[-1:] == [before + args.import_rows],
                f"the import all or nothing, counted through {elsewhere} while it ran",
                f"{len(during.import_seen):,} counts, before {before}, "
                f"between {partial or 'none'}, last {during.import_seen[-1:]}",
            ),
        ]
        print("\ntargets (issue 12):")
        for ok, what, figures in targets:
            print(f"  {'PASS' if ok else 'FAIL'}  {what}: {figures}")
        return 0 if all(ok for ok, _, _ in targets) else 1
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            print(f"kept {folder} (server logs: {folder}/server-N.log)")
            if made and args.db and is_postgresql(args.db):
                print(f"kept PostgreSQL database {args.pg_name}")
        else:
            if made and args.db and is_postgresql(args.db):
                drop_database(args.db, args.pg_name)
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
