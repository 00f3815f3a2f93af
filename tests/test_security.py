"""Security headers, CSRF, upload limits and error pages."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize(
    "url", ["/", "/map", "/assets/sale-walking-group", "/login", "/api/v1/assets", "/nowhere"]
)
def test_every_response_carries_the_security_headers(client, url):
    response = client.get(url)
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"


def test_the_map_script_runs_only_with_this_requests_nonce(client):
    first, second = client.get("/map"), client.get("/map")
    nonces = []
    for response in (first, second):
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])[1]
        page = response.get_data(as_text=True)
        inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page)
        executable = [attrs for attrs in inline if "application/json" not in attrs]
        assert executable == [f' nonce="{nonce}"'], executable
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_tiles_are_the_only_other_server_pages_may_use(client):
    csp = client.get("/map").headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://tile.openstreetmap.org" in csp
    assert "connect-src 'self'" in csp


def test_a_form_without_its_csrf_token_is_refused_with_a_clear_page(client, sign_in):
    sign_in(client, "coordinator")
    response = client.post("/manage/assets/new", data={"name": "Sneaky"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This form has expired or was not sent from this site, so nothing was saved" in page


def test_every_form_on_every_page_carries_a_csrf_token(client, sign_in):
    sign_in(client, "coordinator")
    for url in [
        "/",
        "/assets/sale-walking-group",
        "/manage/assets/new",
        "/manage/assets/sale-walking-group/edit",
        "/manage/assets/sale-walking-group/history",
        "/account/password",
    ]:
        page = client.get(url).get_data(as_text=True)
        for form in re.findall(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", page, re.S):
            assert 'name="csrf_token"' in form, url


def test_a_request_over_the_upload_limit_gets_a_413_that_names_the_limit(app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    app.config["ASSETMAP_MAX_UPLOAD_MB"] = "0.001"
    response = app.test_client().post("/login", data={"email": "x" * 5000})
    assert response.status_code == 413
    assert "The largest file or form accepted is 0.001 MB" in response.get_data(as_text=True)


def test_an_unexpected_error_shows_no_traceback(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    boom.permission = "view_public"
    response = app.test_client().get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, something went wrong" in page
    assert "secret internals" not in page and "Traceback" not in page


def test_sign_in_pages_are_not_cached(client):
    assert client.get("/login").headers["Cache-Control"] == "no-store"
