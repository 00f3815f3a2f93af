"""Admins manage accounts on the web, and every account or role change is in the audit log."""

from __future__ import annotations

import re

import pytest

from assetmap.store import connect
from assetmap.store import users as store
from tests.conftest import add_user, csrf_token


@pytest.fixture
def admin(client, sign_in):
    sign_in(client, "admin")
    return client


def test_an_admin_adds_an_account_and_sees_its_password_once(admin, db_path):
    token = csrf_token(admin, "/admin/users")
    response = admin.post(
        "/admin/users",
        data={"csrf_token": token, "email": "new.worker@example.org", "role": "link_worker"},
    )
    page = response.get_data(as_text=True)
    password = re.search(r'<code class="password">([^<]+)</code>', page)[1]
    assert len(password) >= 16
    assert password not in admin.get("/admin/users").get_data(as_text=True)
    db = connect(db_path)
    assert store.get_user_by_email(db, "new.worker@example.org")["role"] == "link_worker"
    db.close()


def test_a_duplicate_or_bad_account_is_explained(admin, db_path):
    add_user(db_path, "coordinator")
    token = csrf_token(admin, "/admin/users")
    taken = admin.post(
        "/admin/users",
        data={"csrf_token": token, "email": "coordinator@example.org", "role": "coordinator"},
    )
    assert taken.status_code == 400
    assert "There is already an account for coordinator@example.org." in taken.get_data(True)
    bad = admin.post(
        "/admin/users", data={"csrf_token": token, "email": "x@example.org", "role": "superuser"}
    )
    assert "is not a role" in bad.get_data(as_text=True)


def test_role_changes_and_disabling_are_audited(admin, db_path):
    user = add_user(db_path, "link_worker")
    token = csrf_token(admin, "/admin/users")
    admin.post(f"/admin/users/{user['id']}/role", data={"csrf_token": token, "role": "coordinator"})
    admin.post(f"/admin/users/{user['id']}/active", data={"csrf_token": token, "active": "no"})
    log = admin.get("/admin/audit").get_data(as_text=True)
    assert "role changed" in log and "from: link_worker, to: coordinator" in log
    assert "account disabled" in log and "admin@example.org" in log


def test_an_admin_cannot_lock_themselves_out(admin, db_path):
    me = add_user(db_path, "admin")
    token = csrf_token(admin, "/admin/users")
    demote = admin.post(
        f"/admin/users/{me['id']}/role", data={"csrf_token": token, "role": "link_worker"}
    )
    disable = admin.post(
        f"/admin/users/{me['id']}/active", data={"csrf_token": token, "active": "no"}
    )
    assert demote.status_code == disable.status_code == 400
    assert admin.get("/admin/users").status_code == 200


def test_a_new_password_ends_the_accounts_sessions(admin, app, sign_in):
    worker = app.test_client()
    user = sign_in(worker, "link_worker")
    token = csrf_token(admin, "/admin/users")
    response = admin.post(f"/admin/users/{user['id']}/password", data={"csrf_token": token})
    assert "The password for <strong>linkworker@example.org</strong>" in response.get_data(True)
    assert worker.get("/account/password").status_code == 302
