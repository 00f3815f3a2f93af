"""Small things a newcomer's browser tripped over: the favicon and the template's charset."""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "assetmap" / "static"


def test_every_page_finds_the_favicon_it_asks_for(client):
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.mimetype in {"image/vnd.microsoft.icon", "image/x-icon"}
        assert response.get_data() == (STATIC / "favicon.ico").read_bytes()
        assert response.get_data()[:4] == b"\x00\x00\x01\x00"  # an ICO file's signature
        assert response.cache_control.max_age == 86_400


def test_the_import_template_names_its_charset_once(client, sign_in):
    sign_in(client, "coordinator")
    response = client.get("/manage/imports/template.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_a_page_without_an_error_summary_keeps_its_title_even_on_a_4xx(client):
    page = client.get("/no-such-page").get_data(as_text=True)
    assert "<title>Page not found · assetmap</title>" in page


def test_every_form_that_fails_says_error_in_its_title_and_focuses_its_summary(client, sign_in):
    """Not only the forms written with it in mind: a coordinator's asset form, and a search
    whose postcode cannot be used, are marked the same way as the sign-in form."""
    from tests.conftest import csrf_token

    sign_in(client, "coordinator")
    token = csrf_token(client, "/manage/assets/new")
    failed = client.post("/manage/assets/new", data={"csrf_token": token, "name": ""})
    search = client.get("/search?postcode=not+a+postcode")
    for response in (failed, search):
        page = response.get_data(as_text=True)
        assert 400 <= response.status_code < 500
        assert "<title>Error: " in page
        summary = page.split('class="error-summary"', 1)[1].split(">", 1)[0]
        assert "autofocus" in summary and 'tabindex="-1"' in summary
    assert "<title>Add an asset · assetmap</title>" in client.get("/manage/assets/new").get_data(
        as_text=True
    )
