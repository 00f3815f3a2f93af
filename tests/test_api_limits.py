"""Requests at and past the API's limits get a 4xx that says what to change, never a 500:
numbers too big for SQLite, NaN and infinity, empty values, methods an address does not take,
over-long addresses and over-large headers (through the test client and a real gunicorn)."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assetmap.cli.assets import gunicorn_arguments
from assetmap.search.parameters import SQLITE_MAX_INTEGER
from assetmap.web.security import MAX_HEADER_BYTES, MAX_URL_BYTES
from tests.conftest import load_sample
from tests.engines import new_target

ROOT = Path(__file__).resolve().parent.parent
TOO_BIG = str(SQLITE_MAX_INTEGER + 1)  # 9223372036854775808
FAR_TOO_BIG = "9" * 5000  # past Python's own limit for reading whole numbers
CENTRE = "lat=53.4263&lon=-2.3034"


@pytest.mark.parametrize(
    "url, parameter",
    [
        (f"/api/v1/assets?offset={TOO_BIG}", "offset"),
        (f"/api/v1/assets?offset={FAR_TOO_BIG}", "offset"),
        (f"/api/v1/assets?offset=-{TOO_BIG}", "offset"),
        (f"/api/v1/assets?limit={TOO_BIG}", "limit"),
        (f"/api/v1/assets?limit=-{FAR_TOO_BIG}", "limit"),
        ("/api/v1/assets?limit=1_000", "limit"),
        ("/api/v1/assets?limit=%D9%A1%D9%A2", "limit"),  # Arabic-Indic digits: int() reads them
        ("/api/v1/assets?bbox=-1e400,53,-2,54", "bbox"),
        ("/api/v1/assets?bbox=-3,53,-2,inf", "bbox"),
        (f"/api/v1/search?{CENTRE}&offset={TOO_BIG}", "offset"),
        (f"/api/v1/search?{CENTRE}&limit={TOO_BIG}", "limit"),
        (f"/api/v1/search?{CENTRE}&age={TOO_BIG}", "age"),
        (f"/api/v1/search?{CENTRE}&age=121", "age"),
        (f"/api/v1/search?{CENTRE}&radius_km=nan", "radius_km"),
        (f"/api/v1/search?{CENTRE}&radius_km=inf", "radius_km"),
        (f"/api/v1/search?{CENTRE}&radius_km=1e400", "radius_km"),
        (f"/api/v1/search?{CENTRE}&radius_km={TOO_BIG}", "radius_km"),
        ("/api/v1/search?lat=nan&lon=-2.3", "lat"),
        ("/api/v1/search?lat=53.4&lon=-inf", "lon"),
        ("/api/v1/search?lat=1e400&lon=-2.3", "lat"),
        ("/api/v1/search?lat=5_3&lon=-2.3", "lat"),
    ],
)
def test_numbers_out_of_range_are_a_400_naming_the_parameter(client, url, parameter):
    response = client.get(url)
    assert response.status_code == 400
    body = response.get_json()
    assert body["details"] == {"parameter": parameter}
    assert body["error"].startswith(f"{parameter}:")
    assert len(body["error"]) < 200  # 5,000 digits are not echoed back


def test_the_largest_offset_sqlite_holds_is_an_empty_page(client):
    body = client.get(f"/api/v1/assets?offset={SQLITE_MAX_INTEGER}").get_json()
    assert body["features"] == [] and body["next"] is None and body["total"] == 6


def test_page_sizes_past_the_largest_page_are_lowered_to_it(client):
    assert client.get("/api/v1/assets?limit=5000").get_json()["limit"] == 1000
    assert client.get(f"/api/v1/search?{CENTRE}&limit=5000").get_json()["limit"] == 200


def test_an_empty_parameter_is_the_same_as_none(client):
    """As an HTML form sends them; the OpenAPI document says so with allowEmptyValue."""
    plain = client.get(f"/api/v1/search?{CENTRE}").get_json()
    empty = "&".join(
        f"{name}="
        for name in (
            "postcode",
            "radius_km",
            "q",
            "strand",
            "approach",
            "category",
            "audience",
            "kind",
            "accessible",
            "age",
            "day",
            "time",
            "free",
            "self_referral",
            "order",
            "limit",
            "offset",
        )
    )
    assert client.get(f"/api/v1/search?{CENTRE}&{empty}").get_json() == plain
    listing = client.get("/api/v1/assets").get_json()
    empty = "strand=&kind=&category=&accessible=&day=&free=&fields=&bbox=&limit=&offset="
    assert client.get(f"/api/v1/assets?{empty}").get_json() == listing


def test_the_document_says_every_query_parameter_may_be_empty(client):
    document = client.get("/api/openapi.json").get_json()
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    assert parameter["allowEmptyValue"] is True, (path, parameter["name"])


def test_a_postcode_and_a_point_together_are_refused_as_the_document_says(client):
    response = client.get(f"/api/v1/search?postcode=M33+7ZF&{CENTRE}")
    assert response.status_code == 400
    assert "not both" in response.get_json()["error"]
    document = client.get("/api/openapi.json").get_json()
    assert "and not both" in document["paths"]["/api/v1/search"]["get"]["description"]


def test_a_session_with_no_stated_times_is_allowed_by_the_document(client):
    document = client.get("/api/openapi.json").get_json()
    session = document["components"]["schemas"]["Schedule"]["properties"]["sessions"]["items"]
    assert session["properties"]["start"]["nullable"] is True
    assert session["properties"]["end"]["nullable"] is True


@pytest.mark.parametrize("method", ["TRACE", "PUT", "DELETE", "PATCH", "POST"])
@pytest.mark.parametrize("url", ["/api/v1/assets", "/api/v1/assets/sale-walking-group"])
def test_a_method_the_api_does_not_take_is_a_json_405_with_allow(client, method, url):
    response = client.open(url, method=method)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert response.get_json()["error"]


def test_a_page_answers_405_with_allow_too(client):
    response = client.open("/search", method="TRACE")
    assert response.status_code == 405 and response.mimetype == "text/html"
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"


def _long_url(path: str, size: int) -> str:
    """A URL of exactly `size` bytes, padded with a keyword parameter the routes ignore."""
    start = f"{path}?pad="
    return start + "x" * (size - len(start))


def test_an_address_up_to_8_kb_is_answered(client):
    assert client.get(_long_url("/api/v1/assets", MAX_URL_BYTES)).status_code == 200


def test_an_api_address_over_8_kb_is_a_json_414(client):
    response = client.get(_long_url("/api/v1/assets", MAX_URL_BYTES + 1))
    assert response.status_code == 414
    body = response.get_json()
    assert body["details"] == {"limit_bytes": MAX_URL_BYTES, "size_bytes": MAX_URL_BYTES + 1}
    assert "8,192" in body["error"]


def test_a_page_address_over_8_kb_is_the_error_page(client):
    response = client.get(_long_url("/search", MAX_URL_BYTES + 1))
    assert response.status_code == 414 and response.mimetype == "text/html"
    assert "The web address is too long" in response.get_data(as_text=True)


def test_api_headers_over_16_kb_are_a_json_431(client):
    response = client.get("/api/v1/taxonomy", headers={"X-Padding": "y" * MAX_HEADER_BYTES})
    assert response.status_code == 431
    body = response.get_json()
    assert body["details"]["limit_bytes"] == MAX_HEADER_BYTES
    assert "16,384" in body["error"]


def test_page_headers_over_16_kb_are_the_error_page(client):
    response = client.get("/", headers={"X-Padding": "y" * MAX_HEADER_BYTES})
    assert response.status_code == 431 and response.mimetype == "text/html"


# ---------------------------------------------------------------------------------------------
# Through a real gunicorn, started as `assetmap serve` starts it
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gunicorn_server(tmp_path_factory):
    """(host, port) of gunicorn serving the sample, with the options of `assetmap serve`."""
    program = shutil.which("gunicorn", path=os.path.dirname(sys.executable))
    if program is None:
        pytest.skip("gunicorn is not installed beside this Python")
    folder = tmp_path_factory.mktemp("gunicorn")
    db_path, log_path = new_target(folder, keep=True), folder / "gunicorn.log"
    load_sample(db_path)
    # Port 0: the system picks a free one, which gunicorn logs.
    arguments = gunicorn_arguments("127.0.0.1", 0, workers=1, timeout=30)
    environment = os.environ | {"ASSETMAP_DB": str(db_path), "SECRET_KEY": "test-only"}
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [program, *arguments], cwd=ROOT, env=environment, stdout=log, stderr=log
        )
    try:
        port = _listening_port(server, log_path, deadline=time.monotonic() + 20)
        if port is None:
            pytest.skip("gunicorn did not start within 20 seconds")
        _wait_until_answering(port, deadline=time.monotonic() + 20)
        yield "127.0.0.1", port
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def _listening_port(server: subprocess.Popen, log_path: Path, deadline: float) -> int | None:
    """The port from gunicorn's "Listening at: http://127.0.0.1:PORT" line."""
    while time.monotonic() < deadline and server.poll() is None:
        found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log_path.read_text())
        if found:
            return int(found.group(1))
        time.sleep(0.05)
    return None


def _wait_until_answering(port: int, deadline: float) -> None:
    while True:
        try:
            _request(port, "GET", "/api/v1/taxonomy")
            return
        except OSError:
            if time.monotonic() > deadline:
                pytest.skip("gunicorn's worker did not answer within 20 seconds")
            time.sleep(0.1)


def _request(port: int, method: str, target: str, headers: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request(method, target, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read(), response
    finally:
        connection.close()


def test_gunicorn_passes_an_address_of_7_kb_that_its_default_would_refuse(gunicorn_server):
    _, port = gunicorn_server
    status, _, _, _ = _request(port, "GET", _long_url("/api/v1/assets", 7 * 1024))
    assert status == 200


def test_gunicorn_leaves_an_over_long_api_address_to_the_app_json_414(gunicorn_server):
    _, port = gunicorn_server
    status, content_type, body, _ = _request(port, "GET", _long_url("/api/v1/assets", 9000))
    assert status == 414 and content_type.startswith("application/json")
    assert json.loads(body)["details"]["limit_bytes"] == MAX_URL_BYTES


def test_gunicorn_leaves_an_over_long_page_address_to_the_app_error_page(gunicorn_server):
    _, port = gunicorn_server
    status, content_type, body, _ = _request(port, "GET", _long_url("/search", 20_000))
    assert status == 414 and content_type.startswith("text/html")
    assert b"The web address is too long" in body


def test_gunicorn_leaves_over_large_api_headers_to_the_app_json_431(gunicorn_server):
    _, port = gunicorn_server
    one_big = {"X-Padding": "y" * 20_000}  # over gunicorn's default 8,190 for one field
    many = {f"X-Padding-{n}": "y" * 200 for n in range(120)}  # over its default 100 fields
    for headers in (one_big, many):
        status, content_type, body, _ = _request(port, "GET", "/api/v1/taxonomy", headers)
        assert status == 431 and content_type.startswith("application/json")
        assert json.loads(body)["details"]["limit_bytes"] == MAX_HEADER_BYTES


def test_gunicorn_passes_a_405_with_allow(gunicorn_server):
    _, port = gunicorn_server
    status, content_type, _, response = _request(port, "TRACE", "/api/v1/assets")
    assert status == 405 and content_type.startswith("application/json")
    assert response.getheader("Allow") == "GET, HEAD, OPTIONS"
