"""Issue 12: sessions that end on the server, redirects that stay on this site, a throttle that
holds under parallel guesses, and sign-in that survives a busy database."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote_plus, urljoin, urlsplit

import pytest
from flask_login.utils import encode_cookie

from assetmap import create_app
from assetmap.people import accounts
from assetmap.store import connect, postgres
from assetmap.store import connection as store_connection
from assetmap.store import users as store
from assetmap.web.redirects import same_site_path
from tests import engines
from tests.conftest import TEST_PASSWORD, add_user, csrf_token, load_sample

EMAIL = "linkworker@example.org"


def sign_in_form(client, email=EMAIL, password=TEST_PASSWORD, next_url=None):
    """Sign in through the form, with `next_url` as the server will read it."""
    token = csrf_token(client, "/login")
    query = {"next": next_url} if next_url is not None else {}
    return client.post(
        "/login",
        query_string=query,
        data={"email": email, "password": password, "csrf_token": token},
    )


def sign_out(client):
    return client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def session_cookie(client) -> str:
    return client.get_cookie("session").value


def with_cookie(app, name: str, value: str):
    """A new browser holding nothing but one cookie (copied, or stolen)."""
    fresh = app.test_client()
    fresh.set_cookie(name, value)
    return fresh


def session_token(client) -> str:
    with client.session_transaction() as session:
        return session["_user_id"]


# Sessions that end on the server ---------------------------------------------------------


def test_a_copied_session_cookie_opens_nothing_once_its_owner_signs_out(app, client, db_path):
    add_user(db_path, "link_worker")
    assert sign_in_form(client).status_code == 302
    copied = session_cookie(client)
    assert with_cookie(app, "session", copied).get("/plans").status_code == 200
    assert sign_out(client).status_code == 302
    replayed = with_cookie(app, "session", copied).get("/plans")
    assert replayed.status_code == 302 and "/login" in replayed.headers["Location"]


def test_a_remember_cookie_for_a_session_opens_nothing_once_it_has_ended(app, client, db_path):
    add_user(db_path, "link_worker")
    response = sign_in_form(client)
    assert "remember_token" not in response.headers.get("Set-Cookie", "")
    with app.test_request_context():
        remember = encode_cookie(session_token(client))
    # Flask-Login would sign in a browser with only this cookie, through the same loader:
    assert with_cookie(app, "remember_token", remember).get("/plans").status_code == 200
    sign_out(client)
    replayed = with_cookie(app, "remember_token", remember).get("/plans")
    assert replayed.status_code == 302 and "/login" in replayed.headers["Location"]


def test_a_cookie_made_the_old_way_from_an_account_and_its_version_opens_nothing(client, db_path):
    user = add_user(db_path, "link_worker")
    with client.session_transaction() as session:
        session["_user_id"] = f"{user['id']}:{user['session_version']}"
    assert client.get("/plans").status_code == 302


def test_signing_in_starts_a_session_row_and_signing_out_ends_it(client, db_path):
    user = add_user(db_path, "link_worker")
    sign_in_form(client)
    db = connect(db_path)
    (live,) = store.live_sessions(db, user["id"])
    assert live["token_hash"] == accounts.token_hash(session_token(client))
    assert session_token(client) not in str(live)  # only the hash is kept
    sign_out(client)
    assert store.live_sessions(db, user["id"]) == []
    row = db.conn.execute("SELECT ended_why FROM sessions WHERE id = 1").fetchone()
    assert row["ended_why"] == "signed out"
    db.close()


def test_a_new_password_set_by_an_admin_ends_every_session_of_the_account(app, db_path):
    user = add_user(db_path, "link_worker")
    phone, laptop = app.test_client(), app.test_client()
    sign_in_form(phone)
    sign_in_form(laptop)
    db = connect(db_path)
    assert len(store.live_sessions(db, user["id"])) == 2
    accounts.set_password(db, user, "another long passphrase", actor="admin@example.org")
    assert store.live_sessions(db, user["id"]) == []
    db.close()
    assert phone.get("/plans").status_code == 302
    assert laptop.get("/plans").status_code == 302


def test_a_session_unused_for_thirty_days_has_ended(db_path):
    load_sample(db_path)
    user = add_user(db_path, "link_worker")
    db = connect(db_path)
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    token = accounts.start_session(db, user["id"], now=start)
    assert accounts.session_user(db, token, now=start + timedelta(days=29))["id"] == user["id"]
    # That use was noted, so thirty days count from it.
    assert accounts.session_user(db, token, now=start + timedelta(days=58)) is not None
    assert accounts.session_user(db, token, now=start + timedelta(days=89)) is None
    db.close()


def test_old_sessions_are_pruned_when_someone_signs_in(client, db_path):
    user = add_user(db_path, "link_worker")
    db = connect(db_path)
    long_ago = datetime.now(UTC) - timedelta(days=40)
    stale = accounts.start_session(db, user["id"], now=long_ago)
    ended = accounts.start_session(db, user["id"], now=long_ago)
    accounts.end_session(db, user["id"], ended)  # ended today: kept for now
    recent = accounts.start_session(db, user["id"])
    sign_in_form(client)
    kept = {row["token_hash"] for row in db.conn.execute("SELECT token_hash FROM sessions")}
    assert accounts.token_hash(stale) not in kept
    assert {accounts.token_hash(ended), accounts.token_hash(recent)} <= kept
    db.close()


def test_sign_in_attempts_older_than_ninety_days_are_pruned_when_someone_signs_in(client, db_path):
    add_user(db_path, "link_worker")
    db = connect(db_path)
    old = (datetime.now(UTC) - timedelta(days=91)).replace(microsecond=0).isoformat()
    week = (datetime.now(UTC) - timedelta(days=7)).replace(microsecond=0).isoformat()
    for when in (old, week):
        db.conn.execute(
            "INSERT INTO login_attempts (email, address, succeeded, attempted_at) "
            "VALUES ('x@example.org', '10.0.0.1', 0, ?)",
            [when.replace("+00:00", "Z")],
        )
    sign_in_form(client)
    left = [r[0] for r in db.conn.execute("SELECT email FROM login_attempts ORDER BY id")]
    assert left.count("x@example.org") == 1  # the week-old one stays
    db.close()


# Redirects that stay on this site ----------------------------------------------------------

# Open-redirect payloads as they appear in a URL (the well-known public lists' favourites); the
# server sees them %-decoded, as werkzeug decodes a query string or a form.
HOSTILE_TARGETS = [
    "//evil.com",
    "///evil.com",
    "////evil.com",
    "/\\evil.com",
    "\\\\evil.com",
    "\\/\\/evil.com",
    "/\\/evil.com",
    "\\/evil.com",
    "/\\t/evil.com",
    "/%09/evil.com",
    "/%0a/evil.com",
    "/%0d/evil.com",
    "/%0D%0A/evil.com",
    "%09//evil.com",
    "%0a//evil.com",
    "%20//evil.com",
    "/%20/evil.com",
    "%00//evil.com",
    "/%00/evil.com",
    "/%2F%2Fevil.com",
    "/%252F%252Fevil.com",
    "%2F%2Fevil.com",
    "//%2F%2Fevil.com",
    "/%5Cevil.com",
    "/%5C%5Cevil.com",
    "/%2e%2e/%2e%2e//evil.com",
    "https:evil.com",
    "https:/evil.com",
    "https://evil.com",
    "http://evil.com",
    "HtTp://evil.com",
    "//evil.com@assetmap.example",
    "//assetmap.example@evil.com",
    "https://assetmap.example@evil.com",
    "//google%E3%80%82com",
    "〱evil.com",
    "/〱evil.com",
    "〵evil.com",
    "ゝevil.com",
    "ーevil.com",
    "／／evil.com",
    "/／evil.com",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java%0d%0ascript%0d%0a:alert(0)",
    "%19javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.com",
]
GOOD_TARGETS = [
    "/plans/3?x=1",
    "/manage/assets",
    "/search?q=walking%20group&radius=2",
    "/assets/sale-walking-group#when",
]

_C0_AND_SPACE = "".join(map(chr, range(0x21)))


def where_a_browser_goes(location: str) -> tuple[str, str]:
    """The scheme and host a browser goes to from a Location header on our sign-in page, read
    as the WHATWG URL parser reads it: ends trimmed, tabs and newlines dropped, \\ as /."""
    cleaned = re.sub(r"[\t\n\r]", "", location.strip(_C0_AND_SPACE)).replace("\\", "/")
    parts = urlsplit(urljoin("https://assetmap.example/login", cleaned))
    return parts.scheme, parts.netloc


def assert_same_site(location: str):
    assert where_a_browser_goes(location) == ("https", "assetmap.example"), location
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One app for the many redirect cases, with a link worker signed in and holding a plan."""
    db_path = tmp_path_factory.mktemp("redirects") / "assetmap.db"
    load_sample(db_path)
    add_user(db_path, "link_worker")
    app = create_app({"TESTING": True, "ASSETMAP_DB": str(db_path), "SECRET_KEY": "test-only"})
    worker = app.test_client()
    assert sign_in_form(worker).status_code == 302
    token = csrf_token(worker, "/plans")
    made = worker.post("/plans", data={"csrf_token": token, "client_ref": "SP-1"})
    plan_id = int(made.headers["Location"].rsplit("/", 1)[1])
    return app, worker, plan_id


def add_to_plan(site, back: str):
    app, worker, plan_id = site
    token = csrf_token(worker, "/assets/sale-walking-group")
    return worker.post(
        "/plans/items",
        data={
            "csrf_token": token,
            "plan_id": plan_id,
            "asset_id": "sale-walking-group",
            "back": back,
        },
    )


@pytest.mark.parametrize("payload", HOSTILE_TARGETS)
def test_signing_in_never_sends_anyone_to_another_site(site, payload):
    app, _, _ = site
    response = sign_in_form(app.test_client(), next_url=unquote_plus(payload))
    assert response.status_code == 302
    assert_same_site(response.headers["Location"])


@pytest.mark.parametrize("payload", HOSTILE_TARGETS)
def test_adding_to_a_plan_never_sends_anyone_to_another_site(site, payload):
    response = add_to_plan(site, unquote_plus(payload))
    assert response.status_code == 302
    assert_same_site(response.headers["Location"])


@pytest.mark.parametrize("target", GOOD_TARGETS)
def test_a_path_on_this_site_is_kept_after_signing_in_and_adding_to_a_plan(site, target):
    app, _, _ = site
    assert sign_in_form(app.test_client(), next_url=target).headers["Location"] == target
    assert add_to_plan(site, target).headers["Location"] == target


def test_a_newline_in_next_is_a_plain_redirect_home_not_an_error(site):
    """For a link worker, home is their plans, where they land after signing in."""
    app, _, _ = site
    response = sign_in_form(app.test_client(), next_url="/\n/evil.example")
    assert response.status_code == 302 and response.headers["Location"] == "/plans"


def test_a_hostile_back_after_recording_an_outcome_goes_to_the_referrals(site):
    _, worker, plan_id = site
    token = csrf_token(worker, f"/plans/{plan_id}")
    recorded = worker.post(
        "/referrals",
        data={
            "csrf_token": token,
            "plan_id": plan_id,
            "asset_id": "sale-walking-group",
            "route": "referred",
        },
    )
    assert recorded.status_code == 302
    db = connect(site[0].config["ASSETMAP_DB"])
    referral_id = db.conn.execute("SELECT max(id) FROM referrals").fetchone()[0]
    db.close()
    response = worker.post(
        f"/referrals/{referral_id}/outcome",
        data={"csrf_token": token, "outcome": "attended", "back": "/\t/evil.com"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/referrals"


@pytest.mark.parametrize("payload", HOSTILE_TARGETS)
def test_same_site_path_gives_the_default_or_a_path_here(payload):
    found = same_site_path(unquote_plus(payload), "/home")
    assert_same_site(found)


# The throttle under parallel guesses -------------------------------------------------------


@pytest.fixture
def counted_checks(monkeypatch):
    """The passwords actually checked (scrypt runs), counted across threads."""
    checked = []
    real = accounts.check_password_hash
    lock = threading.Lock()

    def counting(pwhash, password):
        with lock:
            checked.append(password)
        return real(pwhash, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    return checked


def test_twenty_wrong_passwords_at_once_get_five_checks_and_fifteen_locks(db_path, counted_checks):
    load_sample(db_path)
    add_user(db_path, "link_worker")
    policy, unrecorded = accounts.ThrottlePolicy(), accounts.UnrecordedAttempts()
    start = threading.Barrier(20)
    results = [None] * 20

    def guess(n):
        db = connect(db_path)  # each with its own connection, as each request has
        try:
            start.wait()
            results[n] = accounts.authenticate(
                db, EMAIL, f"guess number {n}", "192.0.2.1", policy, unrecorded=unrecorded
            )
        finally:
            db.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(counted_checks) == 5
    refused = [r for r in results if isinstance(r, accounts.Refusal)]
    assert len(refused) == 15 and results.count(None) == 5
    assert all("locked for now" in r.message() for r in refused)
    db = connect(db_path)
    assert db.conn.execute("SELECT count(*) FROM login_attempts").fetchone()[0] == 5
    db.close()


# Sign-in while another writer holds the database -------------------------------------------


@pytest.fixture
def busy_database(monkeypatch, db_path):
    """hold() takes the write lock from another connection, as a long import does (on
    PostgreSQL the accounts lock too, as another sign-in would: see store.users.transaction);
    release() lets it go. Waits are short here, so the tests are quick."""
    monkeypatch.setattr(store_connection, "BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr(store_connection, "BUSY_RETRY_PAUSES", (0.01, 0.02))
    if engines.on_postgresql():  # the store's write lock there (an advisory lock)
        holder = connect(db_path)
        conn = holder.conn
    else:  # released from another thread below
        holder = conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)

    class Lock:
        def hold(self):
            conn.execute("BEGIN IMMEDIATE")
            if engines.on_postgresql():  # accounts and sessions have a lock of their own there
                conn.execute("SELECT pg_advisory_xact_lock(?)", [postgres.ACCOUNTS_LOCK])

        def release(self):
            if conn.in_transaction:
                conn.execute("ROLLBACK")

        def release_after(self, seconds: float) -> threading.Thread:
            thread = threading.Thread(target=lambda: (time.sleep(seconds), self.release()))
            thread.start()
            return thread

    lock = Lock()
    yield lock
    lock.release()
    holder.close()


def attempts(db_path) -> list[tuple[str, int]]:
    db = connect(db_path)
    try:
        rows = db.conn.execute("SELECT email, succeeded FROM login_attempts ORDER BY id")
        return [tuple(row) for row in rows]
    finally:
        db.close()


def test_a_right_password_signs_in_while_another_writer_holds_the_database(
    app, client, db_path, busy_database
):
    user = add_user(db_path, "link_worker")
    token = csrf_token(client, "/login")
    busy_database.hold()
    response = client.post(
        "/login", data={"email": EMAIL, "password": TEST_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert client.get("/plans").status_code == 200  # carried by the cookie for now
    busy_database.release()
    assert client.get("/plans").status_code == 200  # ...and now by its row
    db = connect(db_path)
    assert len(store.live_sessions(db, user["id"])) == 1
    db.close()
    # The attempt kept in memory is written at the next sign-in.
    sign_in_form(app.test_client())
    assert attempts(db_path) == [(EMAIL, 1), (EMAIL, 1)]
    # And signing out still ends the session for good.
    copied = session_cookie(client)
    sign_out(client)
    assert with_cookie(app, "session", copied).get("/plans").status_code == 302


def test_a_wrong_password_while_the_database_is_busy_is_answered_busy_and_not_guessed_again(
    client, db_path, busy_database, counted_checks
):
    add_user(db_path, "link_worker")
    token = csrf_token(client, "/login")
    busy_database.hold()
    for password in ("first guess", "second guess", "third guess", TEST_PASSWORD):
        response = client.post(
            "/login", data={"email": EMAIL, "password": password, "csrf_token": token}
        )
        assert response.status_code == 503
        assert "busy just now" in response.get_data(as_text=True)
    # Only the first was checked (and kept, to be written); the rest waited for the database.
    assert counted_checks == ["first guess"]
    busy_database.release()
    assert sign_in_form(client).status_code == 302
    assert attempts(db_path) == [(EMAIL, 0), (EMAIL, 1)]


def test_sign_in_waits_out_a_short_lock_and_records_everything(client, db_path, busy_database):
    user = add_user(db_path, "link_worker")
    token = csrf_token(client, "/login")
    busy_database.hold()
    releasing = busy_database.release_after(0.08)  # longer than one try's wait, not three
    response = client.post(
        "/login", data={"email": EMAIL, "password": TEST_PASSWORD, "csrf_token": token}
    )
    releasing.join()
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert "late_session" not in session
    db = connect(db_path)
    assert len(store.live_sessions(db, user["id"])) == 1
    db.close()
    assert attempts(db_path) == [(EMAIL, 1)]


def test_signing_out_while_the_database_is_busy_says_so_and_keeps_the_session(
    client, db_path, busy_database
):
    add_user(db_path, "link_worker")
    sign_in_form(client)
    token = csrf_token(client, "/")
    busy_database.hold()
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 503
    assert "still signed in" in response.get_data(as_text=True)
    busy_database.release()
    assert client.get("/plans").status_code == 200
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/plans").status_code == 302


def test_a_session_signed_in_while_busy_ends_with_the_accounts_other_sessions(
    client, db_path, busy_database
):
    user = add_user(db_path, "link_worker")
    token = csrf_token(client, "/login")
    busy_database.hold()
    client.post("/login", data={"email": EMAIL, "password": TEST_PASSWORD, "csrf_token": token})
    busy_database.release()
    db = connect(db_path)  # before the session is used again, so before its row is written
    accounts.set_password(db, user, "another long passphrase", actor="admin@example.org")
    db.close()
    assert client.get("/plans").status_code == 302


def test_a_session_signed_in_while_busy_must_be_written_within_the_hour(db_path):
    load_sample(db_path)
    user = add_user(db_path, "link_worker")
    db = connect(db_path)
    now = datetime.now(UTC)
    late = accounts.SignIn(user, "t0ken", accounts._stamp(now), recorded=False).late
    later = now + accounts.LATE_SESSION_LIMIT + timedelta(minutes=1)
    assert accounts.session_user(db, "t0ken", late, now=later) is None
    assert accounts.session_user(db, "t0ken", late, now=now)["id"] == user["id"]
    db.close()
