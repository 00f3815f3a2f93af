"""How answers travel (assetmap.web.delivery): compressed when the browser asks and the type is
worth it, static files under hashed names cached for a year, ETags and 304s on the API."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import time

import brotli
import pytest
from flask import jsonify, url_for

from assetmap.web import delivery
from assetmap.web.guard import current_role
from tests.conftest import make_asset, save_raw

STATIC = delivery.Path(delivery.__file__).resolve().parents[1] / "static"
BR = {"Accept-Encoding": "br, gzip"}
GZIP = {"Accept-Encoding": "gzip"}
HASHED = re.compile(r"^/static/(?P<stem>.+)\.(?P<digest>[0-9a-f]{12})(?P<suffix>\.[a-z]+)$")
YEAR = "max-age=31536000"


def decoded(response) -> bytes:
    encoding = response.headers.get("Content-Encoding")
    body = response.get_data()
    if encoding == "br":
        return brotli.decompress(body)
    if encoding == "gzip":
        return gzip.decompress(body)
    assert encoding is None, encoding
    return body


def vary(response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("Vary", "").split(",") if v.strip()}


def digest_of(relative: str) -> str:
    return hashlib.sha256((STATIC / relative).read_bytes()).hexdigest()[:12]


def static_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', html)


# Compression ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "mimetype"),
    [
        ("/map", "text/html"),
        ("/api/v1/assets", "application/geo+json"),
        ("/api/v1/taxonomy", "application/json"),
        ("/static/css/app.css", "text/css"),
        ("/static/js/asset-map.js", None),  # text/javascript or application/javascript
    ],
)
def test_pages_json_geojson_css_and_js_come_compressed_when_asked(client, path, mimetype):
    plain = client.get(path)
    squeezed = client.get(path, headers=BR)
    assert plain.status_code == squeezed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert squeezed.headers["Content-Encoding"] == "br"
    assert "accept-encoding" in vary(plain) and "accept-encoding" in vary(squeezed)
    if mimetype:
        assert squeezed.mimetype == mimetype
    assert len(squeezed.get_data()) < len(plain.get_data()) * 0.6
    assert int(squeezed.headers["Content-Length"]) == len(squeezed.get_data())
    if path != "/map":  # the page carries a fresh CSP nonce and CSRF token each time
        assert decoded(squeezed) == plain.get_data()
    else:
        assert b"<h1>Map of community assets</h1>" in decoded(squeezed)


def test_gzip_for_a_browser_that_offers_only_gzip(client):
    response = client.get("/api/v1/assets", headers=GZIP)
    assert response.headers["Content-Encoding"] == "gzip"
    assert decoded(response) == client.get("/api/v1/assets").get_data()


def test_images_are_sent_as_they_are(client):
    png = client.get("/static/vendor/leaflet/images/layers-2x.png", headers=BR)
    assert png.status_code == 200 and "Content-Encoding" not in png.headers
    assert png.get_data() == (STATIC / "vendor/leaflet/images/layers-2x.png").read_bytes()
    assert "accept-encoding" in vary(png)


ARCHIVE = b"PK\x03\x04" + b"a" * 4000
DOWNLOADS = {
    "zip": "application/zip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "gpkg": "application/geopackage+sqlite3",
}


def _streamed_json():
    yield b'{"rows": ['
    yield b",".join(b'"row"' for _ in range(2000))
    yield b"]}"


@pytest.fixture
def download_client(app):
    """The app with routes answering like downloads: archives, and a streamed JSON file."""

    def archive(kind):
        return app.response_class(ARCHIVE, mimetype=DOWNLOADS[kind])

    def streamed():
        return app.response_class(_streamed_json(), mimetype="application/json")

    for view in (archive, streamed):
        view.permission = "view_public"
    app.add_url_rule("/test-download/<kind>", "test_archive", archive)
    app.add_url_rule("/test-streamed", "test_streamed", streamed)
    return app.test_client()


@pytest.mark.parametrize("kind", sorted(DOWNLOADS))
def test_already_compressed_downloads_are_sent_as_they_are(download_client, kind):
    response = download_client.get(f"/test-download/{kind}", headers=BR)
    assert response.status_code == 200 and response.mimetype == DOWNLOADS[kind]
    assert "Content-Encoding" not in response.headers
    assert response.get_data() == ARCHIVE


def test_a_streamed_answer_is_never_compressed_even_as_json(download_client):
    response = download_client.get("/test-streamed", headers=BR)
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert response.get_data() == b"".join(_streamed_json())


# Hashed static files ----------------------------------------------------------------------


def test_static_urls_carry_the_hash_of_their_files_bytes(app):
    with app.test_request_context():
        url = url_for("static", filename="js/asset-map.js")
        missing = url_for("static", filename="js/no-such-file.js")
    assert url == f"/static/js/asset-map.{digest_of('js/asset-map.js')}.js"
    assert missing == "/static/js/no-such-file.js"


def test_every_static_file_on_the_map_page_is_hashed_and_cached_for_a_year(client):
    html = client.get("/map").get_data(as_text=True)
    urls = static_urls(html)
    # The page's own files and folium's Leaflet and markercluster (assetmap.maps) alike.
    assert {"css/app", "js/asset-map", "vendor/leaflet/leaflet"} <= {
        HASHED.match(u)["stem"] for u in urls if HASHED.match(u)
    }
    for url in urls:
        match = HASHED.match(url)
        assert match, f"{url} has no hash in its name"
        original = match["stem"] + match["suffix"]
        assert match["digest"] == digest_of(original)
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.get_data() == (STATIC / original).read_bytes()
        cache = response.headers["Cache-Control"]
        assert "public" in cache and YEAR in cache and "immutable" in cache, cache


def test_a_static_file_is_the_same_for_everyone_signed_in_or_not(app, sign_in):
    """No Vary: Cookie and no cookie on it: a browser must not fetch every file again after
    signing in, nor a shared cache keep one per visitor."""
    link_worker = app.test_client()
    sign_in(link_worker, "link_worker")
    with app.test_request_context():
        url = url_for("static", filename="css/app.css")
    for client in (app.test_client(), link_worker):
        response = client.get(url, headers=BR)
        assert response.status_code == 200
        assert vary(response) == {"accept-encoding"}
        assert "Set-Cookie" not in response.headers and "Expires" not in response.headers
    assert "cookie" in vary(link_worker.get("/map"))  # pages still vary by who asks


def test_a_plain_static_url_still_works_without_the_long_cache(client):
    response = client.get("/static/js/asset-map.js")
    assert response.status_code == 200
    assert response.get_data() == (STATIC / "js/asset-map.js").read_bytes()
    assert response.headers["Cache-Control"] == "no-cache"
    again = client.get(
        "/static/js/asset-map.js", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304 and again.get_data() == b""


def test_an_out_of_date_hash_serves_todays_file_without_the_long_cache(client):
    response = client.get("/static/js/asset-map.000000000000.js")
    assert response.status_code == 200
    assert response.get_data() == (STATIC / "js/asset-map.js").read_bytes()
    assert "immutable" not in response.headers["Cache-Control"]


@pytest.mark.parametrize(
    "path",
    ["/static/js/nothing.js", "/static/js/nothing.0123456789ab.js", "/static/../settings.py"],
)
def test_a_missing_static_file_is_a_404(client, path):
    assert client.get(path).status_code == 404


def test_a_byte_range_of_a_static_file_gets_the_whole_file_compressed(client):
    response = client.get("/static/css/app.css", headers={**BR, "Range": "bytes=0-9"})
    assert response.status_code == 200
    assert decoded(response) == (STATIC / "css/app.css").read_bytes()


def test_a_changed_file_gets_a_new_url_and_the_old_one_loses_its_long_cache(tmp_path):
    files = delivery.StaticFiles(tmp_path)
    (tmp_path / "js").mkdir()
    script = tmp_path / "js" / "app.js"
    script.write_text("let a = 1;\n")
    first = files.hashed_name("js/app.js")
    assert first == "js/app." + hashlib.sha256(b"let a = 1;\n").hexdigest()[:12] + ".js"
    assert files.hashed_name("js/app.js") == first  # kept, not read again
    assert files.resolve(first) == ("js/app.js", True)
    script.write_text("let a = 22;\n")
    later = time.time() + 5
    os.utime(script, (later, later))
    second = files.hashed_name("js/app.js")
    assert second != first
    assert files.resolve(second) == ("js/app.js", True)
    assert files.resolve(first) == ("js/app.js", False)
    assert files.resolve("js/app.js") == ("js/app.js", False)


def test_a_file_without_a_suffix_keeps_its_name(tmp_path):
    (tmp_path / "VERSIONS").write_text("leaflet 1.9.4\n")
    assert delivery.StaticFiles(tmp_path).hashed_name("VERSIONS") == "VERSIONS"


# ETags and 304s on the API ------------------------------------------------------------------

CONDITIONAL_GETS = [
    "/api/v1/assets",
    "/api/v1/assets/sale-walking-group",
    "/api/v1/search?postcode=&lat=53.43&lon=-2.31&radius_km=5",
    "/api/oruk/services",
]


@pytest.mark.parametrize("path", CONDITIONAL_GETS)
def test_the_api_answers_a_current_etag_with_304(client, path):
    first = client.get(path)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert not etag.startswith("W/")
    assert etag.strip('"') == hashlib.sha1(first.get_data()).hexdigest()
    assert {"cookie", "accept-encoding"} <= vary(first)
    assert "no-cache" in first.headers["Cache-Control"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag
    stale = client.get(path, headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.get_data() == first.get_data()


def test_a_compressed_answer_has_its_own_etag_and_its_own_304(client):
    first = client.get("/api/v1/assets", headers=BR)
    etag = first.headers["ETag"]
    assert etag.endswith(':br"')
    again = client.get("/api/v1/assets", headers={**BR, "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""


def test_a_change_to_the_data_changes_the_etag(client, db_path):
    etag = client.get("/api/v1/assets").headers["ETag"]
    save_raw(db_path, [make_asset(id="new-walk", name="A new walk")])
    after = client.get("/api/v1/assets", headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["ETag"] != etag and b"A new walk" in after.get_data()


def test_errors_and_other_answers_carry_no_etag(client):
    missing = client.get("/api/v1/assets/no-such-asset")
    assert missing.status_code == 404 and "ETag" not in missing.headers
    assert "ETag" not in client.get("/map").headers


def test_an_etag_is_never_honoured_for_someone_whose_answer_differs(app, sign_in, monkeypatch):
    """The tag is the body's, so a copy confirmed with 304 is always the answer this person
    would be sent now: here a route whose answer names the role asking."""

    def whoami():
        return jsonify(role=current_role(), padding="x" * 600)

    whoami.permission = "view_public"
    app.add_url_rule("/api/v1/test-whoami", "test_whoami", whoami)
    monkeypatch.setattr(
        delivery, "CONDITIONAL_ENDPOINTS", delivery.CONDITIONAL_ENDPOINTS | {"test_whoami"}
    )
    link_worker = app.test_client()
    sign_in(link_worker, "link_worker")
    theirs = link_worker.get("/api/v1/test-whoami")
    assert theirs.get_json()["role"] == "link_worker"
    assert "private" in theirs.headers["Cache-Control"]
    assert (
        link_worker.get(
            "/api/v1/test-whoami", headers={"If-None-Match": theirs.headers["ETag"]}
        ).status_code
        == 304
    )
    public = app.test_client().get(
        "/api/v1/test-whoami", headers={"If-None-Match": theirs.headers["ETag"]}
    )
    assert public.status_code == 200 and public.get_json()["role"] is None
    assert public.headers["ETag"] != theirs.headers["ETag"]
    assert "private" not in public.headers["Cache-Control"]
    assert "cookie" in vary(public)
