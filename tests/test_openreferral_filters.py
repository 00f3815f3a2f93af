"""The whole Open Referral UK API over the real Trafford demo data: every endpoint for every
demo asset validates against the standard's schemas, and every filter finds exactly what a
brute-force reading of the same assets finds.

One database is built for the module (the demo assets, a few more with sessions, ages,
organisers and statuses, and every Trafford postcode); each test only reads it.
"""

from __future__ import annotations

import json
import math
from itertools import chain

import jsonschema
import pytest

from assetmap import create_app
from assetmap.openreferral import mapping, query
from assetmap.openreferral import taxonomy as oruk_taxonomy
from assetmap.search.nearby import haversine_m
from assetmap.search.postcodes import locate_postcode
from assetmap.store import assets as asset_store
from assetmap.store import connect
from tests import engines
from tests.conftest import SAMPLE, make_asset, save_raw
from tests.test_openreferral import ENVELOPE, STANDARD, _clean, errors

SESSIONS = [
    [{"day": "monday", "frequency": "weekly", "start": "09:30", "end": "11:00"}],
    [{"day": "tuesday", "frequency": "first", "start": "14:00", "end": "16:00"}],
    [
        {"day": "wednesday", "frequency": "weekly", "start": None, "end": None},
        {"day": "saturday", "frequency": "last", "start": "10:00", "end": "12:30"},
    ],
    [{"day": "tuesday", "frequency": "fortnightly", "start": "18:00", "end": "20:00"}],
]
EXTRA = [
    make_asset(
        id=f"extra-{n}",
        name=f"Extra group {n}",
        organisation=["Trafford Council", "trafford  council", "Age UK Trafford", ""][n % 4],
        min_age=[None, 16, 50, 5, 18][n % 5],
        max_age=[None, 25, None, 11, 99][n % 5],
        audiences=[["older_people"], [], ["young_people", "carers"]][n % 3],
        status=["active", "paused", "closed", "active"][n % 4],
        archived=n == 7,
        schedule={"sessions": SESSIONS[n % 4], "notes": ""},
        lat=53.42 + n * 0.004,
        lon=-2.33 + n * 0.003,
    )
    for n in range(12)
]
# When each extra asset last changed (set in the fixture: saving them takes no time at all),
# after the demo assets were saved, so that each modified_after finds a few.
TIMES = [f"2030-0{1 + n % 9}-1{n % 10}T0{n % 10}:30:00Z" for n in range(12)]


@pytest.fixture(scope="module")
def oruk(tmp_path_factory, demo_template):
    path = engines.copy_database(
        demo_template, engines.new_target(tmp_path_factory.mktemp("oruk"), keep=True)
    )
    save_raw(path, SAMPLE + EXTRA)
    db = connect(path)
    with asset_store.transaction(db):
        for asset, when in zip(EXTRA, TIMES, strict=True):
            db.conn.execute("UPDATE assets SET updated_at = ? WHERE id = ?", [when, asset["id"]])
    db.close()
    app = create_app({"TESTING": True, "ASSETMAP_DB": str(path), "SECRET_KEY": "test-only"})
    return app.test_client(), path


@pytest.fixture(scope="module")
def published(oruk):
    """Every published asset (not archived), with when it last changed, read from the store."""
    _, path = oruk
    db = connect(path)
    records = [r for r in asset_store.iter_assets(db) if not r["archived"]]
    times = dict(db.conn.execute("SELECT id, updated_at FROM assets"))
    db.close()
    return records, times


def _get(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return response.get_json()


def _every_page(client, url: str) -> list[dict]:
    items, page = [], 1
    joiner = "&" if "?" in url else "?"
    while True:
        body = _get(client, f"{url}{joiner}page={page}&per_page=200")
        assert tuple(body) == ENVELOPE
        assert body["size"] == len(body["contents"])
        items.extend(body["contents"])
        if body["last_page"]:
            assert len(items) == body["total_items"]
            return items
        page += 1


_SCHEMAS = STANDARD.parent


def _object_errors(name: str, document: dict) -> list[str]:
    """Errors against one of the standard's (uncompiled) object schemas: taxonomy.json,
    taxonomy_term.json."""
    schema = _clean(json.loads((_SCHEMAS / name).read_text(encoding="utf-8")))
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    return [e.message for e in validator.iter_errors(document)]


# ---------------------------------------------------------------------------------------------
# Every endpoint, every demo asset, validated
# ---------------------------------------------------------------------------------------------


def test_every_demo_asset_validates_at_every_endpoint(oruk, published):
    client, _ = oruk
    records, _ = published
    services = {s["id"]: s for s in _every_page(client, "/api/oruk/services")}
    places = {p["id"]: p for p in _every_page(client, "/api/oruk/service_at_locations")}
    assert set(services) == {mapping.service_id(r["id"]) for r in records}
    assert set(places) == {mapping.service_at_location_id(r["id"]) for r in records}
    failures = {}
    for n, record in enumerate(records):
        sid, pid = mapping.service_id(record["id"]), mapping.service_at_location_id(record["id"])
        one = _get(client, f"/api/oruk/services/{sid}")
        at = _get(client, f"/api/oruk/service_at_locations/{pid}")
        # The lists' items are the same objects as these (checked below); and a
        # service_at_location is the service's own location and the service without its
        # service_at_locations (checked below), so validating the service validates its parts.
        # The service_at_location schema itself is checked on every fourth, to keep this quick.
        found = errors("service.json", one)
        if n % 4 == 0:
            found += errors("service_at_location.json", at)
        if one != services[sid] or at != places[pid]:
            found.append("the list and the single answer differ")
        if at != mapping_of(one):
            found.append("the service_at_location is not the service at its location")
        if found:
            failures[record["id"]] = found
    assert failures == {}


def mapping_of(service: dict) -> dict:
    """The service_at_location a service's one location makes, from the service alone."""
    rest = {k: v for k, v in service.items() if k != "service_at_locations"}
    here = service["service_at_locations"][0]
    return {**here, "service": rest}


def test_every_taxonomy_and_term_validates_and_is_found_by_its_id(oruk):
    client, _ = oruk
    taxonomies = _every_page(client, "/api/oruk/taxonomies")
    assert [t["name"] for t in taxonomies] == [t.name for t in oruk_taxonomy.TAXONOMIES]
    for found in taxonomies:
        assert _object_errors("taxonomy.json", found) == []
        assert _get(client, f"/api/oruk/taxonomies/{found['id']}") == found
        # Under ASSETMAP_SITE_URL (its default here), however the API was reached.
        assert found["uri"] == f"http://localhost:5000/api/oruk/taxonomies/{found['id']}"
    terms = _every_page(client, "/api/oruk/taxonomy_terms")
    assert len(terms) == len(oruk_taxonomy.TERMS) == len({t["id"] for t in terms})
    for term in terms:
        assert _object_errors("taxonomy_term.json", term) == []
        assert _get(client, f"/api/oruk/taxonomy_terms/{term['id']}") == term
        assert term["term_uri"].endswith(f"/api/oruk/taxonomy_terms/{term['id']}")


def test_uris_do_not_follow_the_host_a_request_names(oruk):
    """A URI is stable: a request naming another host (or reaching the site another way)
    gets the same one, under ASSETMAP_SITE_URL."""
    client, _ = oruk
    plain = client.get("/api/oruk/taxonomy_terms").get_json()["contents"][0]["term_uri"]
    other = client.get("/api/oruk/taxonomy_terms", headers={"Host": "evil.example"})
    assert other.get_json()["contents"][0]["term_uri"] == plain
    assert plain.startswith("http://localhost:5000/api/oruk/taxonomy_terms/")


def test_term_ids_come_from_slugs_alone_and_never_change():
    walking = oruk_taxonomy.term_id("categories", "walking")
    assert walking == mapping.stable_id("taxonomy_term", "categories", "walking")
    # Pinned: a published id must survive every rebuild, refactor and relabelling.
    assert walking == "2273670a-52eb-5f5c-93ce-191c95e28c33"
    # The same slug in two taxonomies is two terms.
    assert oruk_taxonomy.term_id("kinds", "volunteering") != oruk_taxonomy.term_id(
        "categories", "volunteering"
    )


def test_attributes_carry_each_of_the_assets_terms(oruk, published):
    client, _ = oruk
    records, _ = published
    record = next(r for r in records if r["id"] == "sale-walking-group")
    service = _get(client, f"/api/oruk/services/{mapping.service_id(record['id'])}")
    got = {(a["link_type"], a["taxonomy_term"]["term"]) for a in service["attributes"]}
    assert got == {
        ("strand", "access_community_resources"),
        ("approach", "pathways_to_participation"),
        ("kind", "group"),
        ("category", "walking"),
        ("category", "physical_activity"),
        ("audience", "adults"),
        ("audience", "older_people"),
        ("taking_part", "residents-can-ask-to-join"),  # self_referral: yes (no: not known)
    }
    for attribute in service["attributes"]:
        assert attribute["taxonomy_term_id"] == attribute["taxonomy_term"]["id"]
        assert attribute["link_id"] == service["id"]


def test_taxonomy_terms_filters(oruk):
    client, _ = oruk
    strands = oruk_taxonomy.TAXONOMIES[0]
    top = _every_page(client, "/api/oruk/taxonomy_terms?top_only=true")
    assert all("parent_id" not in t for t in top)
    assert len(top) == len([t for t in oruk_taxonomy.TERMS if t.parent is None])
    one_taxonomy = _every_page(client, f"/api/oruk/taxonomy_terms?taxonomy_id={strands.id}")
    assert {t["id"] for t in one_taxonomy} == {t.id for t in strands.terms}
    parent = oruk_taxonomy.term_id(strands.slug, "access_community_resources")
    children = _every_page(client, f"/api/oruk/taxonomy_terms?parent_id={parent}")
    assert [t["term"] for t in children] == [
        "pathways_to_participation",
        "community_hubs",
        "community_based_commissioning",
        "social_prescribing",
    ]
    found = _every_page(client, "/api/oruk/taxonomy_terms?search=PEER")
    assert {t["term"] for t in found} == {"volunteer_peer_roles", "peer_support",
                                          "peer_education", "peer_mentoring"}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Each filter against brute force
# ---------------------------------------------------------------------------------------------


def _ids(client, url: str) -> list[str]:
    return [s["id"] for s in _every_page(client, url)]


def _expected(records, keep) -> list[str]:
    """The service ids of the records `keep` accepts, in the API's order (name, then id)."""
    chosen = sorted((r for r in records if keep(r)), key=lambda r: (r["name"].casefold(), r["id"]))
    return [mapping.service_id(r["id"]) for r in chosen]


def _carries(record: dict, term: oruk_taxonomy.OrukTerm) -> bool:
    value = record.get(term.field)
    if term.field in oruk_taxonomy.YES_NO_FIELDS:  # a yes term, or a no term, or neither
        return value is not None and value == (term.slug in oruk_taxonomy.YES_SLUGS)
    return term.slug in value if isinstance(value, list) else value == term.slug


def test_taxonomy_term_and_taxonomy_filters_match_brute_force(oruk, published):
    client, _ = oruk
    records, _ = published
    for term in oruk_taxonomy.TERMS:
        url = f"/api/oruk/services?taxonomy_term_id={term.id}"
        expected = _expected(records, lambda r, term=term: _carries(r, term))
        assert _ids(client, url) == expected, term.slug
    for found in oruk_taxonomy.TAXONOMIES:
        url = f"/api/oruk/services?taxonomy_id={found.id}"
        expected = _expected(
            records, lambda r, found=found: any(_carries(r, t) for t in found.terms)
        )
        if len(expected) == len(records):  # every service carries a strand and a kind
            assert _get(client, f"{url}&per_page=1")["total_items"] == len(records)
        else:
            assert _ids(client, url) == expected, found.slug
    unknown = "00000000-0000-4000-8000-000000000000"
    assert _ids(client, f"/api/oruk/services?taxonomy_term_id={unknown}") == []


def test_organization_filter_matches_brute_force(oruk, published):
    client, _ = oruk
    records, _ = published
    names = {" ".join(r["organisation"].split()) for r in records if r.get("organisation")}
    assert len(names) > 3
    for name in names:
        oid = mapping.organization_id(name)
        expected = _expected(
            records, lambda r, oid=oid: bool(r.get("organisation")) and mapping.organization_id(
                r["organisation"].strip()) == oid
        )  # fmt: skip
        assert _ids(client, f"/api/oruk/services?organization_id={oid}") == expected, name
    # Spelt with other case and spacing, an organiser is still the one organization.
    council = mapping.organization_id("Trafford Council")
    found = _ids(client, f"/api/oruk/services?organization_id={council}")
    assert {mapping.service_id("extra-0"), mapping.service_id("extra-1")} <= set(found)


def test_modified_after_matches_brute_force(oruk, published):
    """What changed since a time, archived assets included (as defunct: a sync learns they
    were withdrawn)."""
    client, path = oruk
    _, times = published
    db = connect(path)
    records = list(asset_store.iter_assets(db))  # archived too
    db.close()
    for asked, since in (
        ("2030-04-13T03:30:00Z", "2030-04-13T03:30:00Z"),
        ("2030-04-13T03:30:00.5Z", "2030-04-13T03:30:01Z"),
        ("2030-04-13T04:30:00+01:00", "2030-04-13T03:30:00Z"),
        ("2030-05-01T00:00:00", "2030-05-01T00:00:00Z"),
    ):
        url = "/api/oruk/services?modified_after=" + asked.replace("+", "%2B")
        expected = _expected(records, lambda r, since=since: times[r["id"]] >= since)
        assert 0 < len(expected) < 12
        assert _ids(client, url) == expected, asked
    assert TIMES[3] == "2030-04-13T03:30:00Z"  # the edge the first two times test
    service = _get(client, f"/api/oruk/services/{mapping.service_id('extra-3')}")
    assert service["last_modified"] == TIMES[3]


def test_age_filters_match_brute_force(oruk, published):
    client, _ = oruk
    records, _ = published
    for age in (5, 16, 18, 50, 120):
        got = _ids(client, f"/api/oruk/services?minimum_age={age}")
        assert got == _expected(records, lambda r, age=age: (r["min_age"] or 0) >= age), age
        got = _ids(client, f"/api/oruk/services?maximum_age={age}")
        expected = _expected(
            records, lambda r, age=age: r["max_age"] is not None and r["max_age"] <= age
        )
        assert got == expected, age


def _fits(record, day, start, end) -> bool:
    for s in record["schedule"]["sessions"] if record["schedule"] else []:
        if (
            (day is None or s["day"] == day)
            and (start is None or (s["start"] is not None and s["start"] >= start))
            and (end is None or (s["end"] is not None and s["end"] <= end))
        ):
            return True
    return False


@pytest.mark.parametrize(
    "args, day, start, end",
    [
        ("day=Tuesday", "tuesday", None, None),
        ("day=tu", "tuesday", None, None),
        ("day=WE", "wednesday", None, None),
        ("start_time=10:00", None, "10:00", None),
        ("end_time=12:30", None, None, "12:30"),
        ("day=saturday&start_time=10:00&end_time=12:30", "saturday", "10:00", "12:30"),
        ("day=tuesday&start_time=15:00", "tuesday", "15:00", None),
    ],
)
def test_day_and_time_filters_match_brute_force(oruk, published, args, day, start, end):
    client, _ = oruk
    records, _ = published
    expected = _expected(records, lambda r: _fits(r, day, start, end))
    assert expected, "the brute force finds something to compare"
    assert _ids(client, f"/api/oruk/services?{args}") == expected


def test_postcode_and_proximity_find_running_services_nearest_first(oruk, published):
    client, path = oruk
    records, _ = published
    db = connect(path)
    centre = locate_postcode(db, "M33 7ZF")
    db.close()
    for proximity in (500, 1500, 4000):
        near = sorted(
            (haversine_m(centre.lat, centre.lon, r["lat"], r["lon"]), r["id"])
            for r in records
            if r["status"] == "active"
        )
        expected = [mapping.service_id(i) for d, i in near if d <= proximity]
        url = f"/api/oruk/services?postcode=M33%207ZF&proximity={proximity}"
        assert _ids(client, url) == expected, proximity
        places = _every_page(client, url.replace("services", "service_at_locations"))
        assert [p["service"]["id"] for p in places] == expected
    with_day = _ids(client, "/api/oruk/services?postcode=M33%207ZF&proximity=4000&day=monday")
    assert with_day == [
        mapping.service_id(i)
        for d, i in near
        if d <= 4000 and _fits(next(r for r in records if r["id"] == i), "monday", None, None)
    ]


def test_search_uses_the_apps_keyword_search(oruk, published):
    client, _ = oruk
    records, _ = published
    found = _every_page(client, "/api/oruk/services?search=walking")
    named = {mapping.service_id(r["id"]) for r in records if "walking" in r["name"].casefold()}
    assert named and named <= {s["id"] for s in found}
    for service in found:
        text = " ".join(
            chain(
                [service["name"], service.get("description", "")],
                [service.get("organization", {}).get("name", "")],
                [a["taxonomy_term"]["term"] for a in service["attributes"]],
            )
        ).casefold()
        assert "walk" in text, service["name"]
    assert _ids(client, "/api/oruk/services?search=zzqqxx") == []


def test_paging_covers_every_service_once(oruk, published):
    client, _ = oruk
    records, _ = published
    ids, page = [], 1
    while True:
        body = _get(client, f"/api/oruk/services?page={page}&per_page=97")
        ids.extend(s["id"] for s in body["contents"])
        assert body["total_pages"] == math.ceil(len(records) / 97)
        if body["last_page"]:
            break
        page += 1
    assert ids == _expected(records, lambda r: True)


# ---------------------------------------------------------------------------------------------
# Bad parameters, CORS, the standard's names
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, parameter",
    [
        ("/api/oruk/services?taxonomy_term_id=walking", "taxonomy_term_id"),
        ("/api/oruk/services?taxonomy_id=1", "taxonomy_id"),
        ("/api/oruk/service_at_locations?organization_id=x", "organization_id"),
        ("/api/oruk/services?modified_after=yesterday", "modified_after"),
        ("/api/oruk/services?modified_after=2026-13-01T00:00:00Z", "modified_after"),
        ("/api/oruk/services?minimum_age=-1", "minimum_age"),
        ("/api/oruk/services?maximum_age=old", "maximum_age"),
        ("/api/oruk/services?day=funday", "day"),
        ("/api/oruk/services?start_time=9am", "start_time"),
        ("/api/oruk/services?end_time=25:00", "end_time"),
        ("/api/oruk/services?proximity=1000", "proximity"),
        ("/api/oruk/services?postcode=M33%207ZF&proximity=0", "proximity"),
        ("/api/oruk/service_at_locations?postcode=M33%207ZF&proximity=far", "proximity"),
        ("/api/oruk/taxonomy_terms?top_only=perhaps", "top_only"),
        ("/api/oruk/taxonomy_terms?parent_id=strand", "parent_id"),
        ("/api/oruk/taxonomies?per_page=0", "per_page"),
        ("/api/oruk/service_at_locations?page=0", "page"),
    ],
)
def test_a_bad_parameter_is_a_json_400_naming_it_and_what_it_takes(oruk, url, parameter):
    client, _ = oruk
    response = client.get(url)
    assert response.status_code == 400
    body = response.get_json()
    assert body["details"] == {"parameter": parameter}
    assert body["error"].startswith(f"{parameter}: ")
    assert len(body["error"]) > len(parameter) + 12  # says what it takes, not just "bad"


def test_a_postcode_that_is_not_one_or_not_known_is_a_422(oruk):
    client, _ = oruk
    for postcode in ("not a postcode", "ZZ99 9ZZ"):
        response = client.get(f"/api/oruk/services?postcode={postcode}")
        assert response.status_code == 422
        assert response.get_json()["details"]["parameter"] == "postcode"


def test_unknown_ids_are_json_404s_and_other_methods_get_no_cors(oruk):
    client, _ = oruk
    for url in (
        "/api/oruk/service_at_locations/00000000-0000-0000-0000-000000000000",
        "/api/oruk/taxonomies/nope",
        "/api/oruk/taxonomy_terms/00000000-0000-0000-0000-000000000000",
    ):
        response = client.get(url)
        assert response.status_code == 404 and response.is_json
    response = client.post("/api/oruk/services")
    assert response.status_code in (400, 405)
    assert "Access-Control-Allow-Origin" not in response.headers


def test_our_parameters_are_the_standards_own_names():
    standard = json.loads((STANDARD.parent / "openapi.json").read_text(encoding="utf-8"))
    names = {p["name"] for p in standard["components"]["parameters"].values()}
    assert {p.name for p in query.PARAMETERS} <= names
    listed = {
        path: {p["$ref"].rsplit("/", 1)[1] for p in ops["get"].get("parameters", [])}
        for path, ops in standard["paths"].items()
        if "get" in ops
    }
    # Every parameter the standard lists for these lists is one we read.
    assert listed["/service_at_locations"] <= {p.name for p in query.PARAMETERS}
    assert listed["/services"] <= {p.name for p in query.PARAMETERS}
    assert listed["/taxonomy_terms"] <= {p.name for p in query.TERM_PARAMETERS}
