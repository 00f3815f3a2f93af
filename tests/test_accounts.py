"""Signing in and out, throttling, changing passwords, and what the session cookie carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.security import check_password_hash

from assetmap.people import accounts
from assetmap.store import connect
from assetmap.store import users as store
from tests.conftest import TEST_PASSWORD, add_user, csrf_token


def sign_in_form(client, email, password, next_url=None):
    token = csrf_token(client, "/login")
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": password, "csrf_token": token})


def test_a_coordinator_signs_in_and_reaches_the_page_they_asked_for(client, db_path):
    add_user(db_path, "coordinator")
    first = client.get("/manage/assets")
    assert first.status_code == 302 and "/login?next=/manage/assets" in first.headers["Location"]
    response = sign_in_form(client, "coordinator@example.org", TEST_PASSWORD, "/manage/assets")
    assert response.status_code == 302 and response.headers["Location"] == "/manage/assets"
    assert client.get("/manage/assets").status_code == 200


def test_sign_in_never_redirects_to_another_site(client, db_path):
    add_user(db_path, "coordinator")
    response = sign_in_form(
        client, "coordinator@example.org", TEST_PASSWORD, "//evil.example/steal"
    )
    assert response.headers["Location"] == "/manage/assets"  # their own landing page instead


@pytest.mark.parametrize(
    ("role", "landing"),
    [("link_worker", "/plans"), ("coordinator", "/manage/assets"), ("admin", "/admin/users")],
)
def test_each_role_lands_on_the_page_its_work_starts_from_after_signing_in(
    client, db_path, role, landing
):
    user = add_user(db_path, role)
    response = sign_in_form(client, user["email"], TEST_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == landing
    assert client.get(landing).status_code == 200


def test_a_link_worker_who_asked_for_a_page_still_reaches_it(client, db_path):
    add_user(db_path, "link_worker")
    response = sign_in_form(client, "linkworker@example.org", TEST_PASSWORD, "/search?q=walk")
    assert response.headers["Location"] == "/search?q=walk"


def test_a_failed_sign_in_says_error_in_the_title_and_focuses_the_summary(client, db_path):
    add_user(db_path, "coordinator")
    page = sign_in_form(client, "coordinator@example.org", "wrong password here")
    html = page.get_data(as_text=True)
    assert page.status_code == 401
    assert "<title>Error: Sign in · assetmap</title>" in html
    assert '<div class="error-summary" role="alert" tabindex="-1" autofocus>' in html
    assert "<title>Sign in · assetmap</title>" in client.get("/login").get_data(as_text=True)


def test_a_wrong_password_says_so_without_saying_which_part(client, db_path):
    add_user(db_path, "coordinator")
    for email in ("coordinator@example.org", "nobody@example.org"):
        response = sign_in_form(client, email, "wrong password here")
        assert response.status_code == 401
        assert "The email or password is not right" in response.get_data(as_text=True)


def test_five_failures_lock_the_account_with_a_time_to_retry(client, db_path):
    add_user(db_path, "link_worker")
    for _ in range(5):
        assert sign_in_form(client, "linkworker@example.org", "not it at all").status_code == 401
    response = sign_in_form(client, "linkworker@example.org", TEST_PASSWORD)
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "locked for now after too many failed sign-ins" in page
    assert "Try again after" in page and "UTC" in page


def test_the_lock_ends_when_the_window_has_passed(db_path):
    from tests.conftest import load_sample

    load_sample(db_path)
    add_user(db_path, "link_worker")
    db = connect(db_path)
    policy = accounts.ThrottlePolicy()
    start = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    for minute in range(5):
        result = accounts.authenticate(
            db,
            "linkworker@example.org",
            "nope",
            "10.0.0.1",
            policy,
            now=start + timedelta(minutes=minute),
        )
        assert result is None
    refused = accounts.authenticate(
        db,
        "linkworker@example.org",
        TEST_PASSWORD,
        "10.0.0.1",
        policy,
        now=start + timedelta(minutes=5),
    )
    assert isinstance(refused, accounts.Refusal) and refused.reason == "account"
    assert refused.until == start + timedelta(minutes=15)
    later = accounts.authenticate(
        db,
        "linkworker@example.org",
        TEST_PASSWORD,
        "10.0.0.1",
        policy,
        now=start + timedelta(minutes=16),
    )
    assert isinstance(later, accounts.SignIn) and later.user["email"] == "linkworker@example.org"
    db.close()


def test_an_address_that_fails_on_many_accounts_is_slowed(db_path):
    from tests.conftest import load_sample

    load_sample(db_path)
    db = connect(db_path)
    policy = accounts.ThrottlePolicy(account_failures=5, address_failures=6)
    now = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    for n in range(6):
        accounts.authenticate(db, f"guess{n}@example.org", "x", "192.0.2.9", policy, now=now)
    refused = accounts.authenticate(db, "other@example.org", "x", "192.0.2.9", policy, now=now)
    assert isinstance(refused, accounts.Refusal) and refused.reason == "address"
    assert "from your network" in refused.message()
    fine = accounts.authenticate(db, "other@example.org", "x", "192.0.2.10", policy, now=now)
    assert fine is None  # another address is not held up
    db.close()


def test_a_disabled_account_cannot_sign_in(client, db_path):
    user = add_user(db_path, "coordinator")
    db = connect(db_path)
    store.set_active(db, user["id"], False, actor="tests")
    db.close()
    assert sign_in_form(client, "coordinator@example.org", TEST_PASSWORD).status_code == 401


def test_disabling_an_account_ends_its_sessions(client, sign_in, db_path):
    user = sign_in(client, "coordinator")
    assert client.get("/manage/assets").status_code == 200
    db = connect(db_path)
    store.set_active(db, user["id"], False, actor="tests")
    db.close()
    assert client.get("/manage/assets").status_code == 302


def test_signing_out_needs_a_post_and_ends_the_session(client, sign_in):
    sign_in(client, "coordinator")
    assert client.get("/logout").status_code == 405
    token = csrf_token(client, "/")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/manage/assets").status_code == 302


def test_changing_password_needs_the_current_one_and_ends_other_sessions(app, db_path, sign_in):
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here, "link_worker")
    sign_in(elsewhere, "link_worker")
    token = csrf_token(here, "/account/password")
    wrong = here.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current": "not my password",
            "new": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert wrong.status_code == 400
    assert "That is not your current password." in wrong.get_data(as_text=True)
    short = here.post(
        "/account/password",
        data={"csrf_token": token, "current": TEST_PASSWORD, "new": "short", "confirm": "short"},
    )
    assert "at least 12 characters" in short.get_data(as_text=True)
    ok = here.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current": TEST_PASSWORD,
            "new": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert ok.status_code == 302
    assert here.get("/account/password").status_code == 200  # still signed in here
    assert elsewhere.get("/account/password").status_code == 302  # signed out there
    db = connect(db_path)
    user = store.get_user_by_email(db, "linkworker@example.org")
    assert check_password_hash(user["password_hash"], "a brand new passphrase")
    db.close()


def test_passwords_are_stored_as_scrypt_hashes(db_path):
    from tests.conftest import load_sample

    load_sample(db_path)
    user = add_user(db_path, "admin")
    assert user["password_hash"].startswith("scrypt:")
    assert TEST_PASSWORD not in user["password_hash"]


def test_session_cookie_is_httponly_and_samesite_lax_and_secure_over_https(client, db_path):
    add_user(db_path, "coordinator")
    token = csrf_token(client, "/login")
    plain = client.post(
        "/login",
        data={"email": "coordinator@example.org", "password": TEST_PASSWORD, "csrf_token": token},
    )
    cookie = plain.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = client.get("/login", base_url="https://localhost")
    assert "Secure" in secure.headers["Set-Cookie"]


@pytest.mark.parametrize("email", ["", "no-at-sign", "@example.org", "a b@example.org"])
def test_account_emails_are_checked(db_path, email):
    from tests.conftest import load_sample

    load_sample(db_path)
    db = connect(db_path)
    with pytest.raises(accounts.AccountError, match="not an email address"):
        accounts.create_account(db, email, "coordinator", TEST_PASSWORD, actor="t")
    db.close()
