"""Every route names a permission, and every role gets exactly what the table allows."""

from __future__ import annotations

import pytest

from assetmap import create_app
from assetmap.people import permissions
from assetmap.web.guard import permission_for
from tests.conftest import add_user, give_session, load_sample
from tests.engines import new_target

SAMPLE_ARGUMENTS = {
    "asset_id": "sale-walking-group",
    "version_id": 1,
    "user_id": 1,
    "referral_id": 1,
    "plan_id": 1,
    "item_id": 1,
    "token": "not-a-real-token",
    "run_id": 1,
    "job_id": 1,
    "filename": "css/app.css",
    "service_id": "3f105064-0241-598e-8ab4-be8b2c9bd1b1",  # sale-walking-group
    "proposal_id": 1,
    "oruk_id": "3db17ed5-0b5a-5c24-812a-ad1bccf4e7cf",  # its ORUK service_at_location
}
ROLES = (None, permissions.ADMIN, permissions.COORDINATOR, permissions.LINK_WORKER)
SELF_CHANGING = ("admin.set_active", "admin.change_role", "admin.reset_password")


def routes(app):
    """(endpoint, method, url) for every route, with sample values for its arguments."""
    found = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            arguments = {name: SAMPLE_ARGUMENTS[name] for name in rule.arguments}
            url = url_for(rule.endpoint, **arguments)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((rule.endpoint, method, url))
    return found


@pytest.fixture(scope="module")
def matrix_app(tmp_path_factory):
    """The sample data, one account per role, and CSRF off so the guard alone is tested."""
    db_path = new_target(tmp_path_factory.mktemp("matrix"), keep=True)
    load_sample(db_path)
    for role in ROLES[1:]:
        add_user(db_path, role)
    return create_app(
        {"ASSETMAP_DB": str(db_path), "SECRET_KEY": "test-only", "WTF_CSRF_ENABLED": False}
    )


def test_every_route_declares_a_permission_from_the_table(matrix_app):
    for endpoint, method, url in routes(matrix_app):
        permission = permission_for(matrix_app, endpoint)
        assert permission is not None, f"{method} {url} ({endpoint}) declares no permission"
        assert permission in permissions.PERMISSIONS, f"{endpoint}: unknown {permission!r}"


def test_every_route_answers_every_role_as_the_table_says(matrix_app):
    accounts = {role: add_user(matrix_app.config["ASSETMAP_DB"], role) for role in ROLES[1:]}
    problems = []
    for role in ROLES:
        for endpoint, method, url in routes(matrix_app):
            if endpoint in SELF_CHANGING and role == permissions.ADMIN:
                continue  # would change the admin's own account mid-test; see test_admin.py
            client = matrix_app.test_client()
            if role:
                user = accounts[role]
                give_session(client, matrix_app.config["ASSETMAP_DB"], user)
            response = client.open(url, method=method, data={})
            response.close()
            allowed = permissions.allows(permission_for(matrix_app, endpoint), role)
            status = response.status_code
            to_login = status == 302 and "/login" in response.headers.get("Location", "")
            if allowed and (status in (401, 403) or to_login):
                problems.append(f"{role} refused {method} {url} ({status})")
            if not allowed:
                expected = ((302, 401) if method == "GET" else (401,)) if role is None else (403,)
                if status not in expected or (status == 302 and not to_login):
                    problems.append(f"{role} got {status} for {method} {url}, expected {expected}")
    assert problems == []


@pytest.mark.parametrize("endpoint", SELF_CHANGING)
@pytest.mark.parametrize("role", [permissions.COORDINATOR, permissions.LINK_WORKER])
def test_account_actions_are_refused_to_everyone_but_admins(matrix_app, endpoint, role):
    user = add_user(matrix_app.config["ASSETMAP_DB"], role)
    client = matrix_app.test_client()
    give_session(client, matrix_app.config["ASSETMAP_DB"], user)
    with matrix_app.test_request_context():
        from flask import url_for

        url = url_for(endpoint, user_id=1)
    assert client.post(url, data={"role": "admin", "active": "no"}).status_code == 403


def test_anonymous_posts_to_every_write_route_are_refused(csrf_app):
    client = csrf_app.test_client()
    for _endpoint, method, url in routes(csrf_app):
        if method == "GET":
            continue
        response = client.open(url, method=method, data={"name": "x"})
        response.close()
        assert response.status_code in (400, 401, 403), f"{method} {url}: {response.status_code}"


def test_an_undeclared_route_is_refused_to_everyone(db_path):
    load_sample(db_path)
    app = create_app({"ASSETMAP_DB": str(db_path), "SECRET_KEY": "t"})
    app.add_url_rule("/forgotten", "forgotten", lambda: "open?")
    assert app.test_client().get("/forgotten").status_code == 403
