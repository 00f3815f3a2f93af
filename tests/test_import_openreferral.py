"""Open Referral UK 3.0 services imported like any file: through the command line and the
import page, with the same preview, mapping step, problems and undo.

The standard's own examples are read from ../shared/openreferral-uk (not copied here); our own
services come from the app's /api/oruk/services pages over the demo data, and a round trip
(export, then import into an empty database) gives the same assets.
"""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path

import pytest

from assetmap import create_app
from assetmap.imports import ImportFileError
from assetmap.imports.cleaning import _ODD_SPACES
from assetmap.imports.openreferral import NOT_KEPT
from assetmap.imports.readers import open_table
from assetmap.openreferral import mapping
from assetmap.openreferral.reading import STRUCTURE, record_from_service
from assetmap.record.validation import validate_asset
from assetmap.store import connect, initialise
from assetmap.store.assets import AssetFilter, list_assets
from tests import engines
from tests.conftest import SAMPLE
from tests.hostile import corpus
from tests.test_demo_data import as_record, features
from tests.test_import_mapping import choices_on
from tests.test_imports_support import asset_named, files_dir, fingerprint
from tests.test_imports_web import make_app, signed_in, text_of, upload

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT.parent / "shared" / "openreferral-uk" / "examples"
# What a service cannot carry back (mapping.py says why): these differ after a round trip.
# Not carried by a service: ids and where the asset came from, who checked it when that is a
# name rather than an e-mail address (the standard has assurer_email only), and the
# professional-only fields, never published.
LOST = {"id", "source", "source_id", "verified_by", "capacity", "contact_name",
        "contact_phone", "internal_notes", "organiser_email", "position_source"}  # fmt: skip
TAXONOMY_FIELDS = {"kind", "strand", "approach", "categories", "audiences"}
DEFAULTS = ("--default", "kind=service", "--default", "strand=access_community_resources")


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def in_trafford(service: dict) -> dict:
    """The standard's full example, placed at a real Trafford address (its own is at latitude
    100, which no map holds) and tagged with terms of other publishers' taxonomies."""
    service = copy.deepcopy(service)
    location = service["service_at_locations"][0]["location"]
    location["latitude"], location["longitude"] = 53.4242, -2.3226
    location["addresses"][0].update(
        address_1="Sale Waterside", city="Sale", region="", state_province="",
        postal_code="M33 7ZF", country="GB",
    )  # fmt: skip
    service["attributes"] += [
        {"id": "a1", "taxonomy_term": {"id": "t1", "name": "Mental wellbeing",
                                       "taxonomy": "LGA service types"}},
        {"id": "a2", "taxonomy_term": {"id": "t2", "name": "Young people",
                                       "taxonomy": "Who it is for"}},
    ]  # fmt: skip
    return service


def tagged(service: dict, kind: str, strand_label: str) -> dict:
    """A service whose attributes name our kind and strand, as our own taxonomies do."""
    service = copy.deepcopy(service)
    service["attributes"] = service.get("attributes", []) + [
        {"id": "k", "taxonomy_term": {"id": "k1", "code": kind, "name": kind.title(),
                                      "taxonomy_detail": {"name": "Kinds of asset"}}},
        {"id": "s", "taxonomy_term": {"id": "s1", "name": strand_label,
                                      "taxonomy_detail": {"name": "PHE strands"}}},
    ]  # fmt: skip
    return service


def write(path: Path, document) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def db_path(trafford_db_path):
    return trafford_db_path


@pytest.fixture
def cli(db_path):
    runner = create_app(
        {
            "ASSETMAP_DB": str(db_path),
            "ASSETMAP_FILES_DIR": str(files_dir(db_path)),
            "SECRET_KEY": "test-only",
        }
    ).test_cli_runner()

    def run(*args, input=None):
        return runner.invoke(args=[str(a) for a in args], input=input)

    return run


# -- reading one service ------------------------------------------------------------------------


def test_the_standards_full_example_keeps_each_part_in_a_field_or_names_it():
    record, notes = record_from_service(example("service_full.json"))
    assert record["source_id"] == "ac148810-d857-441c-9679-408f346de14b"
    assert (record["name"], record["organisation"]) == (
        "Community Counselling",
        "Example Organization Inc.",
    )
    assert (record["min_age"], record["max_age"], record["status"]) == (12, 100, "active")
    assert record["last_verified"] == "2005-01-01"
    assert record["address"] == "MyCity Civic Center, 1-30 Main Street, MyCity, MyRegion, MyState"
    assert (record["cost"], record["cost_details"]) == (
        "paid",
        "Under 18s and Over 60s £35 per 1 hour session",
    )
    assert record["contact_name"] == "Ann Persona, Reception Manager"
    # A rule with BYMONTHDAY is not one of our sessions: its words are read instead.
    assert record["schedule"].startswith("The service is available from 10 am to 6pm weekdays.")
    for part in (
        "service alert: Following COVID-19 we have moved",
        "service accreditations: All of our practitioners",
        "address country: US",
        "location external_identifier: 10092008082",
        "schedule 1 (BYMONTHDAY is not kept; a session is weekly, fortnightly or monthly on a "
        "weekday, so it was not read as sessions): freq: WEEKLY, interval: 1, byday: TH,FR, "
        "bymonthday: 2,3,4, opens_at: 10:00:00, closes_at: 18:00:00",
        "cost valid_to: 2022-12-31",
        'service funding: [{"id": "1f2df32c',
        "taxonomy term (taxonomy): name",
    ):
        assert any(note.startswith(part) for note in notes), part


def test_nothing_in_the_standards_examples_is_dropped_silently():
    """Every value of each example service is in the record or in the notes (ids and foreign
    keys aside, and the location_type "physical" that every place of ours is)."""
    services = [example("service_full.json"), example("service_list.json")["contents"][0]]
    place = example("service_at_location_full.json")
    services.append({**place.pop("service"), "service_at_locations": [place]})

    def leaves(value, key=None):
        if isinstance(value, dict):
            for k, v in value.items():
                if k not in STRUCTURE:
                    yield from leaves(v, k)
        elif isinstance(value, list):
            for v in value:
                yield from leaves(v, key)
        elif (key, value) != ("location_type", "physical"):
            yield key, value

    for service in services:
        record, notes = record_from_service(service)
        kept = json.dumps(record, ensure_ascii=False) + "\n".join(notes)
        assert [(k, v) for k, v in leaves(service) if str(v).strip() not in kept] == []


def test_rrule_schedules_become_sessions_and_a_description_alone_is_read_as_words():
    service = {"id": "x", "name": "Chair yoga", "schedules": [
        {"freq": "WEEKLY", "interval": 2, "byday": "TU,TH", "opens_at": "10:00:00",
         "closes_at": "11:30:00", "notes": "Bring water."},
        {"freq": "MONTHLY", "byday": "-1FR", "opens_at": "18:00", "description": "Social"},
    ]}  # fmt: skip
    record, notes = record_from_service(service)
    assert record["schedule"] == {
        "sessions": [
            {"day": "tuesday", "frequency": "fortnightly", "start": "10:00", "end": "11:30"},
            {"day": "thursday", "frequency": "fortnightly", "start": "10:00", "end": "11:30"},
            {"day": "friday", "frequency": "last", "start": "18:00", "end": None},
        ],
        "notes": "Social\nBring water.",
    }
    assert notes == []
    words, _ = record_from_service(
        {"id": "y", "name": "Drop in", "schedules": [{"description": "Tuesdays 10am-12pm"}]}
    )
    assert words["schedule"] == "Tuesdays 10am-12pm"  # read as days and times, like a cell


@pytest.mark.parametrize(
    ("option", "cost", "details"),
    [
        ({"option": "Free", "amount": 0}, "free", None),
        ({"option": "Low cost", "amount_description": "£2 a session"}, "low_cost", "£2 a session"),
        ({"option": "Adults", "amount": "2.50", "amount_description": "a session"}, "paid",
         "Adults £2.50 a session"),
        ({"option": "Donations", "amount": "what you can"}, None, "Donations what you can"),
    ],
)  # fmt: skip
def test_cost_options_become_a_cost_and_its_details_in_words(option, cost, details):
    record, _ = record_from_service({"id": "c", "name": "Cafe", "cost_options": [option]})
    assert (record.get("cost"), record.get("cost_details")) == (cost, details)


def test_statuses_and_taxonomy_terms_come_back_as_ours():
    for theirs, ours in (("active", "active"), ("temporarily closed", "paused"),
                         ("inactive", "paused"), ("defunct", "closed")):  # fmt: skip
        assert record_from_service({"id": "s", "name": "n", "status": theirs})[0]["status"] == ours
    record, notes = record_from_service(
        tagged(in_trafford(example("service_full.json")), "group", "Volunteer and peer roles")
    )
    assert (record["kind"], record["strand"]) == ("group", "volunteer_peer_roles")
    assert (record["categories"], record["audiences"]) == (["mental_wellbeing"], ["young_people"])
    # Which of another publisher's terms were read as ours is kept with the asset.
    assert "taxonomy term (LGA service types, read as one of ours): Mental wellbeing" in notes
    assert "taxonomy term (Who it is for, read as one of ours): Young people" in notes


def test_every_demo_sample_and_hostile_asset_reads_back_as_it_was_published():
    """The reverse of mapping.to_service, for every field a service carries."""
    raws = [as_record(f) for f in features()] + SAMPLE
    raws += [
        {**SAMPLE[0], "id": f"h{n}", "name": entered, "description": entered,
         "organisation": entered, "address": entered, "access_notes": entered,
         "cost_details": entered, "languages": [entered],
         "schedule": {"sessions": [], "notes": entered}}
        for n, (entered, _) in enumerate(corpus())
    ]  # fmt: skip
    for raw in raws:
        record = validate_asset(raw).record
        back, notes = record_from_service(mapping.to_service(record))
        result = validate_asset({**back, **{k: record[k] for k in TAXONOMY_FIELDS}})
        assert result.ok, (record["id"], result.errors)
        assert back["source_id"] == mapping.service_id(record["id"])
        kept = {k: v for k, v in record.items() if k not in LOST}
        assert {k: result.record[k] for k in kept} == kept, record["id"]
        assert notes == [], record["id"]


# -- the command line ---------------------------------------------------------------------------


def test_a_service_without_kind_or_strand_is_refused_until_they_are_given(cli, db_path, tmp_path):
    before = fingerprint(db_path)
    path = write(tmp_path / "counselling.json", in_trafford(example("service_full.json")))
    refused = cli("import", path, "--dry-run")
    assert refused.exit_code == 1
    assert refused.output.startswith(
        "Error: counselling.json has no column for the kind or the strand, which every asset needs."
    )
    assert refused.output.rstrip().endswith(
        "No service names one of our kinds or strands among its taxonomy terms (another "
        "directory's services seldom do), so each asset takes the kind and strand chosen for "
        "the import: on the import page, in the step that chooses what the columns hold, or "
        "with --default kind=... --default strand=... on the command line."
    )
    assert fingerprint(db_path) == before
    imported = cli("import", path, "--yes", *DEFAULTS)
    assert imported.exit_code == 0, imported.output
    assert "counselling.json: Open Referral UK services (JSON), 1 service" in imported.output
    assert "check: service 1, column schedule: could not read" in imported.output
    assert "Imported as run 1: 1 new, 0 changed, 0 unchanged, 0 rejected" in imported.output
    db = connect(db_path)
    asset = asset_named(db, "Community Counselling")
    db.close()
    assert (asset["source"], asset["source_id"]) == (
        "counselling",
        "ac148810-d857-441c-9679-408f346de14b",
    )
    assert (asset["lat"], asset["lon"], asset["postcode"]) == (53.4242, -2.3226, "M33 7ZF")
    assert (asset["kind"], asset["categories"]) == ("service", ["mental_wellbeing"])
    shown = cli("imports", "show", "1").output
    assert f"service 1, extra information: {NOT_KEPT}: organization description:" in shown
    assert "service alert: Following COVID-19" in shown
    # The same service again is the same asset, unchanged; the run undoes.
    again = cli("import", path, "--dry-run", *DEFAULTS)
    assert "0 new, 0 changed, 1 unchanged" in again.output
    assert cli("imports", "undo", "1", "--yes").exit_code == 0
    assert fingerprint(db_path) != before  # history remembers the undo
    db = connect(db_path)
    assert asset_named(db, "Community Counselling") is None
    db.close()


def test_the_standards_example_at_latitude_100_is_rejected_naming_the_place(cli, db_path):
    before = fingerprint(db_path)
    result = cli("import", EXAMPLES / "service_full.json", "--dry-run", *DEFAULTS)
    assert result.exit_code == 1
    # The standard's coordinates are WGS84: latitude 100 is out of range, never taken for a
    # British National Grid easting and northing and "converted".
    assert (
        "rejected: service 1, column lat (WGS84): 100 is out of range; enter a latitude in "
        "decimal degrees from -90 to 90" in result.output
    )
    assert "rejected: service 1, column postcode: 'ABC 1234' is not a UK postcode" in result.output
    assert "British National Grid" not in result.output
    assert "0 new, 0 changed, 0 unchanged, 1 rejected" in result.output
    assert fingerprint(db_path) == before


def test_a_services_list_without_places_is_refused_saying_where_places_are(cli, db_path):
    result = cli("import", EXAMPLES / "service_list.json", "--dry-run", *DEFAULTS)
    assert result.exit_code == 1
    assert result.output == (
        "Error: service_list.json holds 1 Open Referral service and none has a place: an asset "
        "on the map needs a service_at_locations entry whose location has a latitude and "
        "longitude, or an address with a postcode. A /services list often leaves places out; "
        "save each service in full (/services/ and its id), or the publisher's HSDS package, "
        "and import that\n"
    )


def test_saved_pages_say_which_pages_were_missing_and_odd_items_are_rejected(tmp_path):
    service = tagged(in_trafford(example("service_full.json")), "service", "social_prescribing")
    page = {"total_items": 3, "total_pages": 3, "page_number": 2, "size": 2, "first_page": False,
            "last_page": False, "empty": False, "contents": [service, "not a service"]}  # fmt: skip
    table = open_table(write(tmp_path / "page.json", [page]))
    assert table.description == (
        "Open Referral UK services (JSON, 1 saved /services page), 2 services"
    )
    assert table.notes == [
        "Read as 1 saved /services page (the standard's envelope, with the services under "
        "“contents”): 1 service.",
        "The file holds 1 of the 3 pages of services the publisher listed; pages 1, 3 were not "
        "in it, so their services were not imported. Save every page (or ask with a larger "
        "per_page) to import them all.",
    ]
    rows = list(table.rows)
    assert rows[1].problem.startswith("is not a service")
    assert table.headers[:3] == ["source_id", "name", "description"]
    assert rows[0].cells[table.headers.index("approach")] == "social_prescribing"


def test_a_saved_page_of_other_records_is_refused_saying_which_pages_to_save(tmp_path):
    page = {"total_items": 1, "total_pages": 1, "page_number": 1, "contents": [
        {"id": "x", "label": "Not an ORUK record"}]}  # fmt: skip
    with pytest.raises(ImportFileError, match="is a saved page of Open Referral records that"):
        open_table(write(tmp_path / "places.json", page))


def test_a_file_over_the_row_limit_is_refused_before_any_service_is_read(tmp_path):
    from assetmap.imports.limits import ImportLimits

    services = [in_trafford(example("service_full.json")) for _ in range(3)]
    with pytest.raises(ImportFileError, match="has 3 services; the most an import reads is 2"):
        open_table(write(tmp_path / "many.json", services), limits=ImportLimits(max_rows=2))


def test_a_service_nested_too_deep_is_refused_before_it_is_read(tmp_path):
    service = in_trafford(example("service_full.json"))
    service["alert"] = "DEEP"
    text = json.dumps([service]).replace('"DEEP"', "[" * 200 + "]" * 200)
    path = tmp_path / "deep.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"nested more than 12 levels deep \(service 1\)"):
        open_table(path)


def test_our_own_taxonomy_terms_are_known_by_their_ids_alone():
    """A neighbour that kept our term ids (and not our words) still gives the same terms."""
    pytest.importorskip("assetmap.openreferral.taxonomy", reason="published with the ORUK API")
    for feature in features():
        record = validate_asset(as_record(feature)).record
        service = mapping.to_service(record)
        for attribute in service.get("attributes", []):
            term = attribute["taxonomy_term"]
            attribute["taxonomy_term"] = {"id": term["id"], "name": "Their own words"}
        back, notes = record_from_service(service)
        for name in TAXONOMY_FIELDS:
            empty = [] if name in ("categories", "audiences") else None
            assert back.get(name, empty) == record[name], (record["id"], name)
        assert notes == []


# -- export, then import into an empty database -------------------------------------------------


@pytest.fixture(scope="module")
def demo_pages(tmp_path_factory, demo_template):
    """The demo data's /api/oruk/services pages, saved as a neighbour would save them."""
    folder = tmp_path_factory.mktemp("demo")
    path = engines.copy_database(demo_template, engines.new_target(folder, keep=True))
    client = create_app(
        {"TESTING": True, "ASSETMAP_DB": str(path), "SECRET_KEY": "test-only"}
    ).test_client()
    pages, number = [], 1
    while not (pages and pages[-1]["last_page"]):
        pages.append(client.get(f"/api/oruk/services?page={number}&per_page=100").get_json())
        number += 1
    db = connect(path)
    published, _ = list_assets(db, AssetFilter(include_closed=True), limit=10_000)
    db.close()
    return pages, published


def test_the_demo_datas_services_import_into_an_empty_database_as_the_same_assets(
    demo_pages, tmp_path
):
    pages, published = demo_pages
    assert len(pages) >= 3
    saved = write(tmp_path / "trafford-services.json", pages)
    empty = engines.new_target(tmp_path, "empty.db")
    initialise(empty)
    runner = create_app(
        {"ASSETMAP_DB": str(empty), "ASSETMAP_FILES_DIR": str(tmp_path), "SECRET_KEY": "test-only"}
    ).test_cli_runner()
    tagged_already = any(s.get("attributes") for p in pages for s in p["contents"])
    args = ["import", str(saved), "--yes", "--json"] + ([] if tagged_already else list(DEFAULTS))
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)["counts"]
    assert (counts["new"], counts["rejected"]) == (len(published), 0), counts
    db = connect(empty)
    imported, _ = list_assets(db, AssetFilter(include_closed=True), limit=10_000)
    db.close()
    by_service = {a["source_id"]: a for a in imported}
    compared = LOST | (set() if tagged_already else TAXONOMY_FIELDS)
    for original in published:
        copy_ = by_service[mapping.service_id(original["id"])]
        differs = {
            k: (original[k], copy_[k])
            for k in original
            if k not in compared and original[k] != copy_[k]
        }
        assert differs == {}, original["id"]
    # And importing the same pages again changes nothing.
    again = runner.invoke(args=[a for a in args if a != "--yes"] + ["--dry-run"])
    counts = json.loads(again.output)["counts"]
    assert (counts["new"], counts["changed"], counts["unchanged"]) == (0, 0, len(published))


# -- the import page ----------------------------------------------------------------------------


@pytest.fixture
def app(db_path):
    return make_app(db_path, WTF_CSRF_ENABLED=False)


def test_a_coordinator_uploads_services_previews_imports_and_undoes(app, db_path):
    client = signed_in(app)
    before = fingerprint(db_path)
    service = tagged(in_trafford(example("service_full.json")), "service", "Social prescribing")
    body = json.dumps({"total_items": 1, "total_pages": 1, "page_number": 1, "size": 1,
                       "first_page": True, "last_page": True, "empty": False,
                       "contents": [service]})  # fmt: skip
    uploaded = upload(client, "neighbour.json", body)
    assert uploaded.status_code == 302
    preview = text_of(client.get(uploaded.headers["Location"]))
    assert "Open Referral UK services (JSON, 1 saved /services page), 1 service" in preview
    assert "New assets 1 Changed assets 0 Unchanged 0 Rejected services 0" in preview
    assert fingerprint(db_path) == before
    confirmed = client.post(uploaded.headers["Location"] + "/confirm")
    run_page = text_of(client.get(confirmed.headers["Location"]))
    assert "Imported neighbour.json: 1 new" in run_page
    assert f"{NOT_KEPT}: organization description: Example Org" in run_page
    db = connect(db_path)
    asset = asset_named(db, "Community Counselling")
    db.close()
    assert (asset["strand"], asset["approach"]) == (
        "access_community_resources",
        "social_prescribing",
    )
    assert client.post("/manage/imports/runs/1/undo").status_code == 302
    db = connect(db_path)
    assert asset_named(db, "Community Counselling") is None
    db.close()


def test_services_without_kind_or_strand_go_to_the_step_where_they_are_chosen(app, db_path):
    client = signed_in(app)
    body = json.dumps(in_trafford(example("service_full.json")))
    uploaded = upload(client, "counselling.json", body)
    assert uploaded.status_code == 302 and uploaded.headers["Location"].endswith("/columns")
    page = client.get(uploaded.headers["Location"])
    assert page.status_code == 200
    assert "counselling.json has no column for the kind or the strand" in text_of(page)
    sent = {**choices_on(page.get_data(as_text=True)), "kind": "service"}
    sent["strand"] = "access_community_resources"
    used = client.post(uploaded.headers["Location"], data={**sent, "action": "use"})
    assert used.status_code == 302 and "/columns" not in used.headers["Location"]
    preview = text_of(client.get(used.headers["Location"]))
    assert "New assets 1 Changed assets 0 Unchanged 0 Rejected services 0" in preview
    confirmed = client.post(used.headers["Location"] + "/confirm")
    assert "Imported counselling.json: 1 new" in text_of(client.get(confirmed.headers["Location"]))
    db = connect(db_path)
    asset = asset_named(db, "Community Counselling")
    db.close()
    assert (asset["kind"], asset["strand"], asset["organisation"]) == (
        "service",
        "access_community_resources",
        "Example Organization Inc.",
    )


def test_hostile_strings_in_a_service_stay_text_on_the_preview(app):
    client = signed_in(app)
    services = []
    for n, (entered, _) in enumerate(corpus()):
        service = tagged(in_trafford(example("service_full.json")), "group", "peer_support")
        service.update(id=f"h{n}", name=f"{entered} {n}", description=entered)
        service["organization"]["name"] = entered
        service["alert"] = entered
        services.append(service)
    uploaded = upload(client, "hostile.json", json.dumps(services))
    preview = client.get(uploaded.headers["Location"])
    assert f"New assets {len(corpus())} " in text_of(preview)
    confirmed = client.post(uploaded.headers["Location"] + "/confirm")
    page = client.get(confirmed.headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    db = connect(app.config["ASSETMAP_DB"])
    found, _ = list_assets(db, AssetFilter(include_closed=True), limit=1000)
    db.close()
    found = [a for a in found if a["source"] == "hostile"]
    # As any import reads a cell: odd spaces (a zero-width one too) are spaces, then validation.
    kept = [
        validate_asset({**SAMPLE[0], "name": _ODD_SPACES.sub(" ", entered)}).record["name"]
        for entered, _ in corpus()
    ]
    assert sorted(a["name"] for a in found) == sorted(f"{k} {n}" for n, k in enumerate(kept))
    assert {a["organisation"] for a in found} == set(kept)


# -- HSDS packages --------------------------------------------------------------------------


PACKAGE = EXAMPLES / "csv"


def rows_in(path: Path) -> int:
    """The data rows of one CSV, counted by the csv module apart from the import."""
    import csv

    with path.open(encoding="utf-8-sig", newline="") as f:
        return sum(1 for row in csv.reader(f) if any(cell.strip() for cell in row)) - 1


def test_the_uk_example_package_accounts_for_every_row_of_every_table(cli, db_path):
    before = fingerprint(db_path)
    result = cli("import", PACKAGE, "--dry-run", *DEFAULTS)
    assert result.exit_code == 1  # its one service is placed at latitude 100
    lines = result.output.splitlines()
    assert lines[0] == "csv.zip: HSDS package of Open Referral UK tables, 1 service; source 'csv'"
    tables = sorted(PACKAGE.glob("*.csv"))
    total = sum(rows_in(t) for t in tables)
    assert lines[1].startswith(
        f"note: Every row of every table of the package is accounted for: {total} rows in "
        f"{len(tables)} tables: "
    )
    for table in tables:
        line = next(x for x in lines if x.startswith(f"note: {table.name}: "))
        rows = rows_in(table)
        assert line.startswith(f"note: {table.name}: {rows} row{'s' if rows != 1 else ''}, ")
        if "not used" in line:
            assert re.search(r": row \d+ \(.+\)", line), line  # each one with why
    assert "note: services.csv: 1 row, all used." in lines
    assert (
        "note: taxonomy_terms.csv: 1 row, not used: row 3 (no attribute of a service names this "
        "taxonomy term)."
    ) in lines
    assert "rejected: service 1, column postcode: 'ABC 1234' is not a UK postcode" in result.output
    assert fingerprint(db_path) == before


def test_a_folder_without_csv_files_is_refused(cli, tmp_path):
    (tmp_path / "empty").mkdir()
    result = cli("import", tmp_path / "empty", "--dry-run")
    assert result.exit_code == 1
    assert result.output == (
        "Error: empty is a folder without CSV files; give the folder that holds the package's "
        "tables (services.csv and the others), or a file to import\n"
    )


def test_the_demo_datas_hsds_package_imports_into_an_empty_database_as_the_same_assets(
    demo_pages, tmp_path
):
    from assetmap.openreferral.tabular import write_package

    pages, published = demo_pages
    package = tmp_path / "trafford-hsds.zip"
    write_package([s for page in pages for s in page["contents"]], package)
    empty = engines.new_target(tmp_path, "empty.db")
    initialise(empty)
    runner = create_app(
        {"ASSETMAP_DB": str(empty), "ASSETMAP_FILES_DIR": str(tmp_path), "SECRET_KEY": "test-only"}
    ).test_cli_runner()
    tagged_already = any(s.get("attributes") for p in pages for s in p["contents"])
    args = ["import", str(package), "--yes", "--json"] + ([] if tagged_already else list(DEFAULTS))
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["format"] == f"HSDS package of Open Referral UK tables, {len(published)} services"
    assert (report["counts"]["new"], report["counts"]["rejected"]) == (len(published), 0)
    assert report["notes"][0].endswith(
        " not used. Services are numbered in the order of the services table, from 1; what a "
        f"used row holds that no field keeps is kept with its service (“{NOT_KEPT}”)."
    )
    assert ", 0 not used." in report["notes"][0]
    db = connect(empty)
    imported, _ = list_assets(db, AssetFilter(include_closed=True), limit=10_000)
    db.close()
    by_service = {a["source_id"]: a for a in imported}
    compared = LOST | (set() if tagged_already else TAXONOMY_FIELDS)
    for original in published:
        copy_ = by_service[mapping.service_id(original["id"])]
        differs = {
            k: (original[k], copy_[k])
            for k in original
            if k not in compared and original[k] != copy_[k]
        }
        assert differs == {}, original["id"]


def test_a_coordinator_uploads_the_example_package_as_a_zip_and_sees_every_table(app, tmp_path):
    import zipfile

    package = tmp_path / "neighbour.zip"
    with zipfile.ZipFile(package, "w") as archive:
        for table in PACKAGE.glob("*.csv"):
            archive.write(table, f"neighbour/{table.name}")
    client = signed_in(app)
    defaults = b'[defaults]\nkind = "service"\nstrand = "access_community_resources"\n'
    uploaded = upload(
        client,
        "neighbour.zip",
        package.read_bytes(),
        mapping=(io.BytesIO(defaults), "defaults.toml"),
    )
    assert uploaded.status_code == 302
    page = text_of(client.get(uploaded.headers["Location"]))
    assert "HSDS package of Open Referral UK tables, 1 service" in page
    assert "Every row of every table of the package is accounted for: 23 rows in 23 tables" in page
    assert "funding.csv: 1 row, all used." in page
    assert "Rejected services 1" in page
