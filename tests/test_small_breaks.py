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
