"""The Open Referral UK 3.0 API: every service validates against the standard's own schemas.

The schemas are read from ../shared/openreferral-uk (the standard's files, not copied here).
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path

import jsonschema
import pytest

from assetmap import create_app
from assetmap.openreferral import mapping
from assetmap.record.fields import PROFESSIONAL_FIELD_NAMES
from assetmap.record.validation import validate_asset
from assetmap.store import assets as asset_store
from assetmap.store import connect, initialise
from tests.conftest import SAMPLE, make_asset, save_raw
from tests.engines import copy_database
from tests.test_demo_data import as_record, features

ROOT = Path(__file__).resolve().parents[1]
STANDARD = ROOT.parent / "shared" / "openreferral-uk" / "schema" / "compiled"
# Keys in the standard's compiled schemas that are not JSON Schema (its README says to drop them).
NOT_JSON_SCHEMA = ("name", "path", "datapackage_metadata", "tabular_required")
ENVELOPE = (
    "total_items",
    "total_pages",
    "page_number",
    "size",
    "first_page",
    "last_page",
    "empty",
    "contents",
)


def _clean(node):
    if isinstance(node, dict):
        props = node.get("properties")
        cleaned = {
            k: _clean(v)
            for k, v in node.items()
            if k not in NOT_JSON_SCHEMA or not isinstance(v, (str, dict, list))
        }
        if isinstance(props, dict):  # property names are kept, whatever they are called
            cleaned["properties"] = {k: _clean(v) for k, v in props.items()}
        return cleaned
    if isinstance(node, list):
        return [_clean(v) for v in node]
    return node


@cache
def validator(name: str) -> jsonschema.Draft7Validator:
    schema = _clean(json.loads((STANDARD / name).read_text(encoding="utf-8")))
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


def errors(name: str, document: dict) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator(name).iter_errors(document)
    ]


def test_the_standards_own_example_passes_our_validation():
    """The check itself is sound: the standard's example passes, a broken copy fails."""
    example = json.loads(
        (STANDARD.parents[1] / "examples" / "service_full.json").read_text(encoding="utf-8")
    )
    assert errors("service.json", example) == []
    broken = copy.deepcopy(example)
    broken["status"] = "open"
    broken["id"] = "not-a-uuid"
    assert len(errors("service.json", broken)) == 2


def test_every_demo_asset_is_a_valid_service():
    failures = {}
    for feature in features():
        result = validate_asset(as_record(feature))
        assert result.ok, feature["id"]
        found = errors("service.json", mapping.to_service(result.record))
        if found:
            failures[feature["id"]] = found
    assert failures == {}


def test_sessions_become_rrule_schedules_with_ordinals():
    record = validate_asset(
        make_asset(
            schedule={
                "sessions": [
                    {
                        "day": "tuesday",
                        "frequency": "fortnightly",
                        "start": "10:00",
                        "end": "12:00",
                    },  # fmt: skip
                    {"day": "saturday", "frequency": "first", "start": "09:30", "end": "11:00"},
                    {"day": "friday", "frequency": "last", "start": None, "end": None},
                ],
                "notes": "Not on bank holidays.",
            }
        )
    ).record
    got = [
        (s["freq"], s["interval"], s["byday"], s.get("opens_at"), s.get("closes_at"))
        for s in mapping.to_service(record)["schedules"]
    ]
    assert got == [
        ("WEEKLY", 2, "TU", "10:00", "12:00"),
        ("MONTHLY", 1, "1SA", "09:30", "11:00"),
        ("MONTHLY", 1, "-1FR", None, None),
    ]
    assert all(
        s["notes"] == "Not on bank holidays." for s in mapping.to_service(record)["schedules"]
    )


def test_statuses_map_to_the_standards_values():
    for ours, theirs in (("active", "active"), ("paused", "temporarily closed"),
                         ("closed", "defunct")):  # fmt: skip
        record = validate_asset(make_asset(status=ours)).record
        assert mapping.to_service(record)["status"] == theirs


def test_fields_go_where_the_mapping_says():
    record = validate_asset(
        make_asset(
            organisation="Trafford Council",
            min_age=16,
            max_age=99,
            languages=["English", "Urdu"],
            cost="low_cost",
            cost_details="£2 a session",
            accessibility=["step_free"],
            access_notes="Bus 263 stops outside.",
            email="walks@example.org",
            website="https://example.org/walks",
        )
    ).record
    service = mapping.to_service(record)
    assert service["organization"]["name"] == "Trafford Council"
    assert service["organization_id"] == mapping.organization_id("trafford  COUNCIL")
    assert (service["minimum_age"], service["maximum_age"]) == (16, 99)
    assert service["assured_date"] == "2025-06-01"
    assert [lang["name"] for lang in service["languages"]] == ["English", "Urdu"]
    assert service["cost_options"][0]["option"] == "Low cost"
    assert service["cost_options"][0]["amount_description"] == "£2 a session"
    location = service["service_at_locations"][0]["location"]
    assert (location["latitude"], location["longitude"]) == (53.4263, -2.3034)
    assert location["addresses"][0]["postal_code"] == "M33 7ZF"
    assert location["addresses"][0]["address_1"] == "Rifle Road, Sale"
    notes = [a.get("details") for a in location["accessibility"]]
    assert notes == [None, "Bus 263 stops outside."]
    assert service["phones"][0]["number"] == "0161 912 3000"
    assert (service["url"], service["email"]) == ("https://example.org/walks", "walks@example.org")
    assert errors("service.json", service) == []


def test_ids_are_stable_and_differ_between_assets():
    record = validate_asset(make_asset()).record
    first, again = mapping.to_service(record), mapping.to_service(dict(record))
    assert first == again
    other = mapping.to_service(validate_asset(make_asset(id="another-group")).record)
    assert other["id"] != first["id"]
    assert other["service_at_locations"][0]["id"] != first["service_at_locations"][0]["id"]
    assert first["id"] == mapping.service_id("sale-walking-group")


@pytest.fixture
def oruk_client(db_path, sample_template):
    copy_database(sample_template, db_path)
    app = create_app({"TESTING": True, "ASSETMAP_DB": str(db_path), "SECRET_KEY": "test-only"})
    return app.test_client()


def _all_pages(client, per_page: int) -> list[dict]:
    pages, page = [], 1
    while True:
        response = client.get(f"/api/oruk/services?page={page}&per_page={per_page}")
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        pages.append(response.get_json())
        if pages[-1]["last_page"]:
            return pages
        page += 1


def test_services_pages_validate_and_cover_every_published_asset(oruk_client):
    pages = _all_pages(oruk_client, per_page=3)
    for number, page in enumerate(pages, start=1):
        assert tuple(page) == ENVELOPE
        assert page["page_number"] == number
        assert page["size"] == len(page["contents"])
        for service in page["contents"]:
            assert errors("service.json", service) == []
        # The list schema's envelope, without the item fields it wrongly requires (README).
        envelope = {**page, "id": page["contents"][0]["id"], "name": "x", "status": "active"}
        assert errors("service_list.json", envelope) == []
    ids = [s["id"] for page in pages for s in page["contents"]]
    assert sorted(ids) == sorted(mapping.service_id(a["id"]) for a in SAMPLE)
    assert pages[0]["total_items"] == len(SAMPLE) and pages[0]["total_pages"] == 3
    assert [p["first_page"] for p in pages] == [True, False, False]


def test_a_page_past_the_end_is_empty(oruk_client):
    page = oruk_client.get("/api/oruk/services?page=99").get_json()
    assert (page["empty"], page["contents"], page["size"]) == (True, [], 0)


@pytest.mark.parametrize("query", ["page=0", "page=two", "per_page=-1", "per_page=100000"])
def test_bad_paging_is_a_json_400_naming_the_argument(oruk_client, query):
    response = oruk_client.get(f"/api/oruk/services?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.get_json()["error"]


def test_one_service_by_id_and_the_same_id_every_time(oruk_client):
    sid = mapping.service_id("sale-walking-group")
    first = oruk_client.get(f"/api/oruk/services/{sid}")
    assert first.status_code == 200
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert first.get_json()["name"] == "Sale Walking Group"
    assert errors("service.json", first.get_json()) == []
    assert oruk_client.get(f"/api/oruk/services/{sid}").get_json() == first.get_json()


def test_an_unknown_service_is_a_json_404(oruk_client):
    response = oruk_client.get("/api/oruk/services/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert "no service" in response.get_json()["error"]


def test_no_professional_field_is_ever_published(db_path):
    """An asset with every professional-only field set: a named contact, a direct line,
    internal notes and the organiser's e-mail."""
    initialise(db_path)
    secretive = {**SAMPLE[0], "organiser_email": "sam.organiser@example.org"}
    assert all(secretive[name] for name in PROFESSIONAL_FIELD_NAMES)
    save_raw(db_path, [secretive, *SAMPLE[1:]])
    oruk_client = create_app(
        {"TESTING": True, "ASSETMAP_DB": str(db_path), "SECRET_KEY": "test-only"}
    ).test_client()
    text = json.dumps(_all_pages(oruk_client, per_page=200))
    sid = mapping.service_id("sale-walking-group")
    text += oruk_client.get(f"/api/oruk/services/{sid}").get_data(as_text=True)
    for secret in ("Sam Example", "07700 900123", "Sam prefers calls", "sam.organiser@"):
        assert secret not in text
    for name in PROFESSIONAL_FIELD_NAMES:
        assert f'"{name}"' not in text


def test_archived_assets_are_not_published(db_path):
    initialise(db_path)
    save_raw(db_path, [make_asset(), make_asset(id="gone", name="Gone", archived=True)])
    client = create_app(
        {"TESTING": True, "ASSETMAP_DB": str(db_path), "SECRET_KEY": "test-only"}
    ).test_client()
    page = client.get("/api/oruk/services").get_json()
    assert [s["name"] for s in page["contents"]] == ["Sale Walking Group"]
    assert client.get(f"/api/oruk/services/{mapping.service_id('gone')}").status_code == 404


def test_an_archived_asset_reaches_a_sync_as_defunct_and_nobody_else(db_path):
    """A neighbour copying us asks what changed since its last sync: an asset archived since
    then comes back as a defunct service, so its copy closes; a plain listing leaves it out."""
    initialise(db_path)
    save_raw(db_path, [make_asset(), make_asset(id="gone", name="Gone")])
    db = connect(db_path)
    before = db.conn.execute("SELECT max(updated_at) FROM assets").fetchone()[0]
    asset_store.set_archived(db, "gone", True, who="coordinator")
    db.close()
    client = create_app(
        {"TESTING": True, "ASSETMAP_DB": str(db_path), "SECRET_KEY": "test-only"}
    ).test_client()
    plain = client.get("/api/oruk/services").get_json()["contents"]
    assert [s["name"] for s in plain] == ["Sale Walking Group"]
    synced = client.get(f"/api/oruk/services?modified_after={before}").get_json()["contents"]
    assert {s["name"]: s["status"] for s in synced}["Gone"] == "defunct"
    assert client.get(f"/api/oruk/services/{mapping.service_id('gone')}").status_code == 404


def test_the_root_names_the_version_and_profile(oruk_client):
    response = oruk_client.get("/api/oruk/")
    body = response.get_json()
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert body["version"].startswith("HSDS-UK-3.0")
    assert body["profile"].startswith("https://")
    assert body["openapi_url"].endswith("/api/openapi.json")


def test_hostile_strings_are_published_exactly_and_validate(db_path):
    """Every hostile string, in every free-text field the mapping carries, reads back as the
    value it must and every service still validates."""
    from tests.hostile import corpus, hostile_assets

    initialise(db_path)
    raws = hostile_assets()
    save_raw(db_path, raws)
    client = create_app(
        {"TESTING": True, "ASSETMAP_DB": str(db_path), "SECRET_KEY": "test-only"}
    ).test_client()
    for n, (_, expected) in enumerate(corpus()):
        response = client.get(f"/api/oruk/services/{mapping.service_id(f'hostile-{n}')}")
        assert response.status_code == 200
        service = response.get_json()
        assert errors("service.json", service) == []
        location = service["service_at_locations"][0]["location"]
        assert {
            service["name"],
            service["description"],
            service["organization"]["name"],
            location["addresses"][0]["address_1"],
            location["accessibility"][0]["details"],
            service["cost_options"][0]["amount_description"],
            service["languages"][0]["name"],
            service["schedules"][0]["notes"],
        } == {expected}, n
        sid = mapping.service_at_location_id(f"hostile-{n}")
        at = client.get(f"/api/oruk/service_at_locations/{sid}").get_json()
        assert errors("service_at_location.json", at) == []
        assert (at["service"]["name"], at["location"]["name"]) == (expected, expected)
    # And as the text of a request: answered (a 200, or a 400 naming it), never a 500.
    # (/service_at_locations reads its parameters with the same code as /services.)
    asked = [("services", "search"), ("services", "day"), ("services", "modified_after"),
             ("services", "taxonomy_id"), ("taxonomy_terms", "search")]  # fmt: skip
    for entered, _ in corpus():
        for path, name in asked:
            response = client.get(f"/api/oruk/{path}", query_string={name: entered})
            assert response.status_code in (200, 400), (path, name, entered)
            assert response.is_json


def test_a_service_id_that_is_not_a_uuid_is_a_json_404(oruk_client):
    response = oruk_client.get("/api/oruk/services/sale-walking-group")
    assert response.status_code == 404
    assert response.is_json


def test_every_oruk_route_is_a_path_of_the_standard_with_its_paging_names(oruk_client):
    standard = json.loads((STANDARD.parent / "openapi.json").read_text(encoding="utf-8"))
    app = oruk_client.application
    ours = {
        re.sub(r"<[^>]+>", "{id}", rule.rule.removeprefix("/api/oruk")) or "/"
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/oruk/")
    }
    assert ours == set(standard["paths"])
    parameters = standard["components"]["parameters"]
    assert {parameters["page"]["name"], parameters["per_page"]["name"]} == {"page", "per_page"}


def test_service_at_location_pages_validate_in_the_standards_envelope(oruk_client):
    response = oruk_client.get("/api/oruk/service_at_locations?per_page=3&page=2")
    page = response.get_json()
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert tuple(page) == ENVELOPE and page["size"] == 3 and page["page_number"] == 2
    first = page["contents"][0]
    # The list schema's envelope, without the item fields it wrongly requires (README).
    envelope = {**page, "id": first["id"]}
    assert errors("service_at_location_list.json", envelope) == []
    for item in page["contents"]:
        assert errors("service_at_location.json", item) == []
        assert item["service"]["id"] == item["service_id"]
        assert "service_at_locations" not in item["service"]
