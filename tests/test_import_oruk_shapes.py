"""Every shape the ORUK 3.0 API answers with, from other publishers, imported with every part
accounted for (issue 16, "Shown by").

The standard's own example files are read where they are (../shared/openreferral-uk/examples
and ../shared/opendata/oruk_v3_examples), never copied here. For each, a walker over the whole
JSON checks that every value ends up in an asset's fields, in its extra information or the
preview's notes, or under a key the import deliberately does not keep (responses.NOT_KEPT_KEYS:
ids, foreign keys, last_modified, metadata, the page envelope). The messy variants real
publishers send are tested one by one, through the command line into a database of Trafford
postcodes, with the database left as it was whenever the import is refused.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from assetmap import create_app
from assetmap.imports import ImportFileError
from assetmap.imports.openreferral import NOT_KEPT
from assetmap.imports.readers import open_table
from assetmap.openreferral import responses
from assetmap.openreferral.reading import is_implied, record_from_service
from assetmap.store import connect
from tests.test_import_openreferral import DEFAULTS, EXAMPLES, example, in_trafford, write
from tests.test_imports_support import asset_named, files_dir, fingerprint

OPENDATA = EXAMPLES.parents[1] / "opendata" / "oruk_v3_examples"
EXAMPLE_FILES = sorted(OPENDATA.glob("*.json")) + sorted(EXAMPLES.glob("*.json"))
# Example files that hold no services, and what the refusal says.
REFUSED = {
    "organization_list.json": "holds 1 Open Referral organization and it lists no services",
    "taxonomy.json": "is an Open Referral taxonomy, which holds no services",
    "taxonomy_list.json": "is a saved page of Open Referral taxonomies, which holds no services",
    "taxonomy_term.json": "is an Open Referral taxonomy term, which holds no services",
    "taxonomy_term_list.json": "is a saved page of Open Referral taxonomy terms, which holds no",
}


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
    return lambda *args: runner.invoke(args=[str(a) for a in args])


def leaves(value, path=(), repeated=None):
    """Every value in a JSON document, with the keys that lead to it, except under the keys
    deliberately not kept and the values that say only what every asset is. A value given
    twice in one object (a term's name and term, both "Yoga") counts once, and a record given
    again (the same service, by its id, in two service_at_location entries) counts only for
    what it says differently."""
    repeated = {} if repeated is None else repeated
    if isinstance(value, dict):
        first = None
        if value.get("id") not in (None, ""):
            first = repeated.setdefault(str(value["id"]), value)
            first = None if first is value else first
        seen = []
        for key, item in value.items():
            if key in responses.NOT_KEPT_KEYS or (first is not None and first.get(key) == item):
                continue
            for found in leaves(item, (*path, key), repeated):
                if len(found[0]) == len(path) + 1 and found[1] in seen:
                    continue  # a sibling said it already
                seen.append(found[1])
                yield found
    elif isinstance(value, list):
        for number, item in enumerate(value):
            yield from leaves(item, (*path, number), repeated)
    elif value not in (None, "") and not is_implied(_last_key(path), value):
        yield path, value


def _last_key(path) -> str | None:
    return next((p for p in reversed(path) if isinstance(p, str)), None)


def texts(value):
    """Every text in a record's value (lists, sessions, service areas), as text."""
    if isinstance(value, dict):
        for item in value.values():
            yield from texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from texts(item)
    elif value is not None:
        yield str(value)


def unaccounted(document, kept: str) -> list:
    """The values of a document that `kept` does not hold. Each value found uses up the place
    where it was found, so a value given twice in the file (an email address as the
    service's, the assurer's and the organization's) must be kept twice; the longest are
    looked for first, so that a short one does not use up part of a long one."""
    missing = []
    pool = kept
    for path, value in sorted(leaves(document), key=lambda found: -len(str(found[1]))):
        spellings = ("true", "yes") if value is True else ("false", "no") if value is False else ()
        for text in (*spellings, str(value).strip()):
            found = re.search(rf"(?<![\w.]){re.escape(text)}(?!\w)", pool)
            if found:
                break
        if found is None:
            missing.append(("/".join(map(str, path)), value))
            continue
        pool = pool[: found.start()] + "\0" * len(found.group()) + pool[found.end() :]
    return missing


def kept_by_table(path: Path) -> str:
    """All the table gives the import: every cell of every row, and the file's notes."""
    table = open_table(path)
    cells = [text for row in table.rows for cell in row.cells for text in texts(cell)]
    return "\n".join(cells + table.notes)


def kept_by_records(document) -> str:
    """What the services of a document read as (for a file refused for want of places)."""
    found = responses.read(document)
    parts = list(found.notes)
    for item in found.items:
        record, notes = record_from_service(item)
        parts += [*texts(record), *notes]
    return "\n".join(parts)


# -- every example file, every value ---------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_value_of_each_example_file_is_kept_or_deliberately_not(path):
    document = json.loads(path.read_text(encoding="utf-8"))
    if path.name in REFUSED:
        with pytest.raises(ImportFileError, match=re.escape(REFUSED[path.name])):
            open_table(path)
        return
    if path.name == "service_list.json":
        # Its one service gives no place: the file is refused saying where places are (see
        # test_import_openreferral), and what the service holds is still all read.
        with pytest.raises(ImportFileError, match="none has a place"):
            open_table(path)
        kept = kept_by_records(document)
    else:
        kept = kept_by_table(path)
    assert unaccounted(document, kept) == []
    # The walker can fail: a value nothing keeps is found missing.
    assert unaccounted({**document, "made_up": "Nowhere else at all"}, kept) == [
        ("made_up", "Nowhere else at all")
    ]


def test_the_walker_skips_only_ids_metadata_and_the_page_envelope():
    service = example("service_full.json")
    paths = {path for path, _ in leaves(service)}
    assert ("id",) not in paths and ("last_modified",) not in paths
    assert ("name",) in paths and ("organization", "name") in paths
    assert ("service_at_locations", 0, "location", "latitude") in paths
    page = example("service_list.json")
    assert {path[0] for path, _ in leaves(page)} == {"contents"}


def test_each_shape_is_said_in_the_preview_notes():
    said = {
        "service_full.json": "Read as one Open Referral service, as /services/ and its id gives "
        "it.",
        "organization_full.json": "Read as one Open Referral organization, “Example "
        "Organization Inc.”, holding 1 service; each service takes the organization it is "
        "listed under (its name as the organiser, its other details kept as extra information).",
        "service_at_location_full.json": "Read as one Open Referral service_at_location: its "
        "service at its location.",
        "service_at_location_list.json": "Read as 1 saved /service_at_locations page (the "
        "standard's envelope, with the service_at_locations under “contents”), each a service "
        "at one location: 1 service in all, numbered in the order each first appears.",
    }
    for name, note in said.items():
        table = open_table(EXAMPLES / name)
        assert table.notes[0] == note, name
    assert open_table(EXAMPLES / "organization_full.json").description == (
        "Open Referral UK services (JSON, 1 organization), 1 service"
    )


def test_the_standards_fake_place_is_rejected_as_out_of_range_not_converted(cli, db_path):
    """Latitude 100, longitude 101 are not a latitude and longitude: the coordinator reads
    that, not that they were British National Grid eastings and northings, converted."""
    before = fingerprint(db_path)
    for path in (OPENDATA / "organization_full.json", OPENDATA / "service_at_location_full.json"):
        result = cli("import", path, "--dry-run", *DEFAULTS)
        assert result.exit_code == 1, result.output
        assert (
            "rejected: service 1, column lat (WGS84): 100 is out of range; enter a latitude in "
            "decimal degrees from -90 to 90"
        ) in result.output
        assert "column postcode: 'ABC 1234' is not a UK postcode" in result.output
        assert "British National Grid" not in result.output
        assert "0 new, 0 changed, 0 unchanged, 1 rejected" in result.output
    assert fingerprint(db_path) == before


# -- organizations ---------------------------------------------------------------------------


def organization(*services) -> dict:
    found = copy.deepcopy(example("organization_full.json"))
    found["services"] = [copy.deepcopy(s) for s in services]
    return found


def placed(name: str, service_id: str, lat=53.4242, lon=-2.3226, postcode="M33 7ZF") -> dict:
    """The standard's full service, at a real Trafford place, under another name and id."""
    service = in_trafford(example("service_full.json"))
    service.pop("organization")
    service["id"], service["name"] = service_id, name
    location = service["service_at_locations"][0]["location"]
    location["latitude"], location["longitude"] = lat, lon
    location["addresses"][0]["postal_code"] = postcode
    return service


def test_an_organization_imports_its_services_each_taking_the_organization(cli, db_path, tmp_path):
    path = write(
        tmp_path / "org.json",
        organization(
            placed("ORUK Counselling", "s-1"), placed("ORUK Peer Support", "s-2", 53.45, -2.35)
        ),
    )
    result = cli("import", path, "--yes", *DEFAULTS)
    assert result.exit_code == 0, result.output
    assert "org.json: Open Referral UK services (JSON, 1 organization), 2 services" in result.output
    assert "2 new, 0 changed, 0 unchanged, 0 rejected" in result.output
    db = connect(db_path)
    first, second = asset_named(db, "ORUK Counselling"), asset_named(db, "ORUK Peer Support")
    db.close()
    assert first["organisation"] == second["organisation"] == "Example Organization Inc."
    assert (second["lat"], second["lon"], second["source_id"]) == (53.45, -2.35, "s-2")
    shown = cli("imports", "show", "1").output
    assert "organization organization_identifiers:" in shown and "GB-COH" in shown


def test_saved_organization_pages_read_every_organizations_services(tmp_path):
    empty = {**copy.deepcopy(example("organization_list.json")["contents"][0]), "services": []}
    empty["name"] = "Quiet Trust"
    pages = [
        {"total_items": 2, "total_pages": 2, "page_number": 1, "contents": [
            organization(placed("ORUK Counselling", "s-1"))]},
        {"total_items": 2, "total_pages": 2, "page_number": 2, "contents": [empty]},
    ]  # fmt: skip
    table = open_table(write(tmp_path / "orgs.json", pages))
    assert table.description == (
        "Open Referral UK services (JSON, 2 saved /organizations pages), 1 service"
    )
    assert table.notes[:2] == [
        "Read as 2 saved /organizations pages (the standard's envelope, with the organizations "
        "under “contents”), holding 1 service; each service takes the organization it is "
        "listed under (its name as the organiser, its other details kept as extra information).",
        "1 organization listed no services, so nothing was imported from it: “Quiet Trust”.",
    ]


def test_an_organization_with_no_services_is_refused_as_nothing_to_import(cli, db_path, tmp_path):
    before = fingerprint(db_path)
    result = cli("import", write(tmp_path / "org.json", organization()), "--dry-run", *DEFAULTS)
    assert result.exit_code == 1
    assert result.output == (
        "Error: org.json holds 1 Open Referral organization and it lists no services (an "
        "organization's services are under its “services”), so there is nothing to import. "
        "Save the publisher's /services pages (or each organization in full, with its "
        "services) and import those\n"
    )
    assert fingerprint(db_path) == before


# -- service_at_locations --------------------------------------------------------------------


def at_location(service: dict, place_number: int = 0) -> dict:
    """A service_at_location as /service_at_locations gives it: the service, less its places,
    inside the entry for one of them."""
    entry = copy.deepcopy(service["service_at_locations"][place_number])
    entry["service"] = {k: v for k, v in service.items() if k != "service_at_locations"}
    return entry


def test_one_service_at_several_locations_is_one_asset_at_the_first(cli, db_path, tmp_path):
    service = placed("ORUK Counselling", "s-1")
    second = copy.deepcopy(service["service_at_locations"][0])
    second["id"] = "sal-2"
    second["location"].update(
        id="loc-2", name="Altrincham Library", latitude=53.3872, longitude=-2.3496,
        description="Upstairs, in the study room",
    )  # fmt: skip
    second["location"]["addresses"][0].update(
        address_1="20 Stamford New Road", city="Altrincham", postal_code="WA14 1EJ"
    )
    service["service_at_locations"].append(second)
    other = placed("ORUK Peer Support", "s-2", 53.45, -2.35)
    entries = [at_location(service, 0), at_location(other), at_location(service, 1)]
    page = {"total_items": 3, "total_pages": 1, "page_number": 1, "contents": entries}
    path = write(tmp_path / "places.json", page)
    table = open_table(path)
    assert table.description == (
        "Open Referral UK services (JSON, 1 saved /service_at_locations page), 2 services"
    )
    assert table.notes[0].endswith(
        "each a service at one location: 2 services in all, numbered in the order each first "
        "appears. 1 service is listed at more than "
        "one location: the first location gives the position, address and postcode, and the "
        "others are kept with the service as extra information (“place 2” and so on)."
    )
    assert unaccounted(page, kept_by_table(path)) == []
    result = cli("import", path, "--yes", *DEFAULTS)
    assert "2 new, 0 changed, 0 unchanged, 0 rejected" in result.output, result.output
    db = connect(db_path)
    asset = asset_named(db, "ORUK Counselling")
    db.close()
    assert (asset["lat"], asset["lon"], asset["postcode"]) == (53.4242, -2.3226, "M33 7ZF")
    shown = cli("imports", "show", "1").output
    assert (
        "place 2 (only the first is kept): Altrincham Library; 20 Stamford New Road, Altrincham"
        in shown
    )
    assert "Upstairs, in the study room" in shown


def test_a_service_at_location_without_its_service_is_rejected_saying_what_to_save(tmp_path):
    service = placed("ORUK Counselling", "s-1")
    bare = {**at_location(service), "service_id": "s-9"}
    del bare["service"]
    table = open_table(write(tmp_path / "places.json", [at_location(service), bare]))
    rows = list(table.rows)
    assert rows[0].problem is None
    assert rows[1].problem.startswith(
        "is not a service at a location: a service_at_location needs the service in it, not "
        "only its service_id."
    )
    with pytest.raises(ImportFileError, match="has no services in it: its first entry is not"):
        open_table(write(tmp_path / "bare.json", [bare]))


# -- messy variants from real publishers -----------------------------------------------------


def test_numbers_given_as_text_are_read_as_numbers(cli, db_path, tmp_path):
    service = placed("ORUK Counselling", "s-1")
    location = service["service_at_locations"][0]["location"]
    location["latitude"], location["longitude"] = "53.4242", " -2.3226 "
    service["minimum_age"], service["maximum_age"] = "12", "100"
    result = cli("import", write(tmp_path / "s.json", service), "--yes", *DEFAULTS)
    assert "1 new, 0 changed, 0 unchanged, 0 rejected" in result.output, result.output
    db = connect(db_path)
    asset = asset_named(db, "ORUK Counselling")
    db.close()
    assert (asset["lat"], asset["lon"], asset["min_age"], asset["max_age"]) == (
        53.4242, -2.3226, 12, 100,
    )  # fmt: skip


def test_a_service_without_places_gets_the_usual_no_position_handling(cli, db_path, tmp_path):
    unplaced = placed("ORUK Drop-in", "s-2")
    del unplaced["service_at_locations"]
    path = write(tmp_path / "s.json", [placed("ORUK Counselling", "s-1"), unplaced])
    result = cli("import", path, "--dry-run", *DEFAULTS)
    assert "1 new, 0 changed, 0 unchanged, 1 rejected" in result.output, result.output
    assert (
        "rejected: service 2, column lat (WGS84): has no position; give lat and lon, or a "
        "postcode to place it from"
    ) in result.output
    with pytest.raises(ImportFileError, match="none has a place"):
        open_table(write(tmp_path / "none.json", [unplaced]))


def test_a_service_with_no_status_imports_as_running(cli, db_path, tmp_path):
    service = placed("ORUK Counselling", "s-1")
    del service["status"]
    result = cli("import", write(tmp_path / "s.json", service), "--yes", *DEFAULTS)
    assert "1 new, 0 changed, 0 unchanged, 0 rejected" in result.output, result.output
    db = connect(db_path)
    assert asset_named(db, "ORUK Counselling")["status"] == "active"
    db.close()


def test_unknown_keys_are_kept_as_extra_information(cli, db_path, tmp_path):
    service = placed("ORUK Counselling", "s-1")
    service["x_referral_portal"] = "https://refer.example.org/counselling"
    service["service_at_locations"][0]["location"]["x_parking"] = {"spaces": 4, "free": True}
    service["organization"] = {"name": "Sale Wellbeing", "x_charity_number": "1122334"}
    path = write(tmp_path / "s.json", service)
    assert unaccounted(service, kept_by_table(path)) == []
    result = cli("import", path, "--yes", *DEFAULTS)
    assert result.exit_code == 0, result.output
    shown = cli("imports", "show", "1").output
    assert f"{NOT_KEPT}:" in shown
    for part in ("service x_referral_portal: https://refer.example.org/counselling",
                 'location x_parking: {"spaces": 4, "free": true}',
                 "organization x_charity_number: 1122334"):  # fmt: skip
        assert part in shown, part


def test_three_saved_pages_with_one_missing_say_which(tmp_path):
    pages = [
        {"total_items": 3, "total_pages": 3, "page_number": number, "size": 1, "contents": [
            placed(f"Service {number}", f"s-{number}")]}
        for number in (1, 3)
    ]  # fmt: skip
    table = open_table(write(tmp_path / "pages.json", pages))
    assert (
        table.description == "Open Referral UK services (JSON, 2 saved /services pages), 2 services"
    )
    assert table.notes[1] == (
        "The file holds 2 of the 3 pages of services the publisher listed; page 2 was not in "
        "it, so their services were not imported. Save every page (or ask with a larger "
        "per_page) to import them all."
    )


def test_plain_json_records_with_such_keys_are_still_read_as_records(tmp_path):
    """Words under "services", a location object, a "term": a spreadsheet-like JSON export,
    not the standard's, so it is read as a list of records as before."""
    records = [
        {"name": "Chess club", "services": ["Chess", "Tea"], "term": "Autumn",
         "location": {"latitude": 53.4242, "longitude": -2.3226}, "postcode": "M33 7ZF"},
        {"name": "Knit and natter", "services": [], "term": "Spring",
         "location": {"latitude": 53.45, "longitude": -2.35}, "postcode": "M33 7ZF"},
    ]  # fmt: skip
    table = open_table(write(tmp_path / "records.json", records))
    assert not table.description.startswith("Open Referral")
    assert len(list(table.rows)) == 2


def test_a_coordinator_uploads_service_at_locations_and_reads_the_shape(db_path):
    from tests.hostile import corpus
    from tests.test_imports_web import make_app, signed_in, text_of, upload

    app = make_app(db_path, WTF_CSRF_ENABLED=False)
    client = signed_in(app)
    before = fingerprint(db_path)
    hostile = next(entered for entered, _ in corpus() if "<" in entered)
    service = tagged_service(placed("ORUK Counselling", "s-1"))
    service["organization"] = {"name": hostile, "description": hostile}
    body = json.dumps({"total_items": 1, "total_pages": 1, "page_number": 1,
                       "contents": [at_location(service)]})  # fmt: skip
    uploaded = upload(client, "places.json", body)
    assert uploaded.status_code == 302
    response = client.get(uploaded.headers["Location"])
    preview = text_of(response)
    assert (
        "Open Referral UK services (JSON, 1 saved /service_at_locations page), 1 service" in preview
    )
    assert "Read as 1 saved /service_at_locations page" in preview
    assert "New assets 1 Changed assets 0 Unchanged 0 Rejected services 0" in preview
    assert hostile not in response.get_data(as_text=True)  # text, never markup
    assert fingerprint(db_path) == before
    confirmed = client.post(uploaded.headers["Location"] + "/confirm")
    assert "Imported places.json: 1 new" in text_of(client.get(confirmed.headers["Location"]))
    db = connect(db_path)
    assert asset_named(db, "ORUK Counselling")["organisation"] == hostile.strip()
    db.close()


def tagged_service(service: dict) -> dict:
    from tests.test_import_openreferral import tagged

    return tagged(service, "service", "Social prescribing")


def test_a_service_listed_differently_at_its_second_place_keeps_what_differs(tmp_path):
    service = placed("ORUK Counselling", "s-1")
    second = copy.deepcopy(service)
    second["service_at_locations"][0]["id"] = "sal-2"
    second["service_at_locations"][0]["location"]["id"] = "loc-2"
    second["description"] = "Evening sessions at the library"
    entries = [at_location(service), at_location(second)]
    path = write(tmp_path / "places.json", entries)
    table = open_table(path)
    (row,) = list(table.rows)
    extra = row.cells[table.headers.index(NOT_KEPT)]
    assert (
        "service service_at_location differences: the service as listed with place 2 differs "
        "from the first: description: Evening sessions at the library"
    ) in extra
    assert unaccounted(entries, kept_by_table(path)) == []


def test_a_service_naming_another_organization_keeps_the_one_it_was_listed_under(tmp_path):
    service = placed("ORUK Counselling", "s-1")
    service["organization"] = {"id": "o-2", "name": "Sale Wellbeing Partnership"}
    document = organization(service)
    path = write(tmp_path / "org.json", document)
    table = open_table(path)
    (row,) = list(table.rows)
    assert row.cells[table.headers.index("organisation")] == "Sale Wellbeing Partnership"
    extra = row.cells[table.headers.index(NOT_KEPT)]
    assert 'service listed under organization: {"id": "d9d5e0f5' in extra
    assert unaccounted(document, kept_by_table(path)) == []
