"""HSDS tabular packages: services to tables and back, the export command, and hostile packages.

The standard's own files are read from ../shared/openreferral-uk (not copied here): its
schemas name the tables and columns, and its example package (examples/csv) is read with every
row of every table accounted for.
"""

from __future__ import annotations

import csv
import json
import zipfile
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pytest

from assetmap.imports.limits import ImportLimits
from assetmap.imports.problems import ImportFileError
from assetmap.openreferral import hsds_tables as hsds
from assetmap.openreferral import mapping
from assetmap.openreferral.tabular import (
    linked,
    read_package,
    services_to_tables,
    write_package,
)
from assetmap.record.validation import validate_asset
from tests.conftest import make_asset
from tests.test_demo_data import as_record, features
from tests.test_openreferral import errors

ROOT = Path(__file__).resolve().parents[1]
STANDARD = ROOT.parent / "shared" / "openreferral-uk"
EXAMPLE = STANDARD / "examples" / "csv"


def _data_rows(path: Path) -> int:
    """A CSV file's rows under its heading, blank lines not counted (read with the csv module
    alone, not with the code under test)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = [r for r in csv.reader(f) if any(c.strip() for c in r)]
    return len(rows) - 1


@cache
def demo_services() -> tuple[dict, ...]:
    """Every demo asset as the ORUK API publishes it."""
    found = []
    for feature in features():
        result = validate_asset(as_record(feature))
        assert result.ok, feature["id"]
        found.append(mapping.to_service(result.record))
    return tuple(found)


def hostile_services() -> list[dict]:
    """A service for each hostile string, in every free-text field the mapping carries."""
    from tests.hostile import hostile_assets

    found = []
    for raw in hostile_assets():
        result = validate_asset(raw)
        assert result.ok, result.errors
        found.append(mapping.to_service(result.record))
    return found


# ---- the standard's tables ------------------------------------------------------------------


def test_our_tables_have_the_uk_profiles_file_names_columns_and_types():
    """Every table and column of the UK profile's schemas is declared, with its type, its
    file name and its required columns; ours add only HSDS 3.0 columns after them."""
    for path in sorted((STANDARD / "schema").glob("*.json")):
        if path.name == "openapi.json":
            continue
        schema = json.loads(path.read_text(encoding="utf-8"))
        table = hsds.TABLES_BY_NAME[schema["path"].removesuffix(".csv")]
        standard = [
            (name, prop["type"])
            for name, prop in schema["properties"].items()
            if prop.get("type") in ("string", "number")
        ]
        ours = [(c.name, c.type) for c in table.columns]
        assert ours[: len(standard)] == standard, path.name
        assert set(table.required) == set(schema.get("required", [])) - {"id"}, path.name


def test_the_example_packages_odd_file_names_are_the_same_tables():
    assert hsds.table_for_file("addresses") == hsds.table_for_file("address") == "address"
    assert hsds.table_for_file("schedules") == hsds.table_for_file("schedule") == "schedule"
    assert hsds.table_for_file("taxonomy") == "taxonomies"


# ---- reading a package ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def example():
    return read_package(EXAMPLE)


def test_every_row_of_every_table_of_the_uk_example_is_accounted_for(example):
    services, accounting = example
    files = sorted(p.name for p in EXAMPLE.glob("*.csv"))
    assert sorted({r.file for r in accounting.rows}) == files
    for name in files:
        assert len(accounting.in_file(name)) == _data_rows(EXAMPLE / name), name
    for row in accounting.rows:
        assert row.used or row.reason, row
    assert len(services) == _data_rows(EXAMPLE / "services.csv") == 1
    unused = {r.file: r.reason for r in accounting.unused()}
    # The example's attribute links to an id that is in none of its tables, so its taxonomy
    # term and taxonomy are used by nothing either; meta_table_descriptions describes the
    # package itself.
    assert sorted(unused) == [
        "attribute.csv",
        "meta_table_descriptions.csv",
        "taxonomies.csv",
        "taxonomy.csv",
        "taxonomy_terms.csv",
    ]
    assert "f28dd44b-0c4d-479f-8e90-4c52219a8b3c names no row" in unused["attribute.csv"]
    assert "not a table of HSDS" in unused["meta_table_descriptions.csv"]
    assert "no attribute of a service names this taxonomy term" in unused["taxonomy_terms.csv"]
    assert accounting.files_not_read == []


def test_the_example_package_joins_into_the_standards_own_example_service(example):
    """What the standard shows as JSON (examples/service_full.json) is all in the service
    joined from its tables, except the attribute, whose link_id in attribute.csv names
    another service."""
    (service,) = example[0]
    expected = json.loads((STANDARD / "examples" / "service_full.json").read_text("utf-8"))
    del expected["attributes"]
    _assert_holds(service, expected, "service")
    assert errors("service.json", service) == []


def _assert_holds(actual, expected, where: str) -> None:
    """Every value of `expected` is in `actual` (lists matched by id); more is allowed."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), where
        for key, value in expected.items():
            assert key in actual, f"{where}.{key}"
            _assert_holds(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        by_id = {item.get("id"): item for item in actual}
        for item in expected:
            _assert_holds(by_id.get(item.get("id")), item, f"{where}[{item.get('id')}]")
    else:
        assert actual == expected, where


def test_the_same_address_in_address_csv_and_addresses_csv_is_one_address(example):
    (service,) = example[0]
    location = service["service_at_locations"][0]["location"]
    (address,) = location["addresses"]
    assert address["address_2"] == "MyVillage"  # only addresses.csv has it
    assert address["city"] == "MyCity"
    copies = [r for r in example[1].rows if r.file == "addresses.csv"]
    assert copies[0].used and copies[0].reason.startswith("the same address as address.csv")


def test_a_zipped_package_inside_a_folder_reads_the_same(tmp_path, example):
    package = tmp_path / "example.zip"
    with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in EXAMPLE.glob("*.csv"):
            archive.write(path, f"export/{path.name}")
        archive.writestr("export/README.txt", "not a table")
        archive.writestr("__MACOSX/export/._services.csv", "junk")
    services, accounting = read_package(package)
    assert services == example[0]
    assert accounting.files_not_read == ["export/README.txt"]


def _folder(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    folder = tmp_path / "package"
    folder.mkdir()
    for name, text in files.items():
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        (folder / name).write_bytes(data)
    return folder


SERVICE = "ac148810-d857-441c-9679-408f346de14b"
SERVICES_CSV = f"id,name,status\n{SERVICE},Counselling,active\n"


def test_an_orphan_location_and_a_schedule_of_a_missing_service_say_why(tmp_path):
    folder = _folder(
        tmp_path,
        {
            "services.csv": SERVICES_CSV,
            "locations.csv": "id,location_type,name\n"
            "3a19ff88-4620-4d17-9830-ac1d859eb5d5,physical,Hall\n",
            "schedules.csv": "id,service_id,byday\n"
            "48102e86-bb50-41c4-8f1e-e269368c41d1,00000000-0000-0000-0000-000000000000,MO\n"
            f"58102e86-bb50-41c4-8f1e-e269368c41d1,{SERVICE},TU\n",
            "address.csv": "id,location_id,address_1\n"
            "74706e55-df26-4b84-80fe-ecc30b5befb4,3a19ff88-4620-4d17-9830-ac1d859eb5d5,1 Road\n",
            "things.csv": "id,colour\n1,blue\n",
        },
    )
    (service,), accounting = read_package(folder)
    assert [s["byday"] for s in service["schedules"]] == ["TU"]
    reasons = {r.file: r.reason for r in accounting.unused()}
    assert reasons["locations.csv"] == "no service at location of a service names this location"
    assert reasons["schedules.csv"] == (
        "its service_id 00000000-0000-0000-0000-000000000000 names no row of services.csv"
    )
    assert reasons["address.csv"].startswith("belongs to the location of locations.csv row 2")
    assert "things.csv is not a table" in reasons["things.csv"]
    assert len(accounting.rows) == 6


def test_a_service_whose_organization_is_missing_is_read_and_the_reference_reported(tmp_path):
    folder = _folder(
        tmp_path,
        {
            "services.csv": "id,organization_id,name,status\n"
            f"{SERVICE},d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610,Counselling,active\n",
            "organizations.csv": "id,name,description\n",
        },
    )
    (service,), accounting = read_package(folder)
    assert "organization" not in service
    assert accounting.problems == [
        "services.csv row 2: its organization_id d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610 names "
        "no row of organizations.csv"
    ]


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ({"locations.csv": "id,name\n1,Hall\n"}, "has no services table"),
        (
            {"services.csv": b"id,name,status\n1,Caf\xe9,active\n"},
            "services.csv, which is not UTF-8",
        ),
        ({"services.csv": "id,name,name\n1,a,b\n"}, "two columns headed name"),
        (
            {"services.csv": SERVICES_CSV, "datapackage.json": "{oops"},
            "datapackage.json that is not JSON",
        ),
    ],
)
def test_a_package_that_cannot_be_read_says_what_is_wrong(tmp_path, files, words):
    with pytest.raises(ImportFileError, match=words):
        read_package(_folder(tmp_path, files))


def test_a_package_over_the_import_limits_is_refused_before_it_is_parsed(tmp_path):
    package = tmp_path / "bomb.zip"
    with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("services.csv", "id,name,status\n" + "x" * (4 << 20))
    with pytest.raises(ImportFileError, match="unpacks to"):
        read_package(package, ImportLimits(max_ratio=10))
    with pytest.raises(ImportFileError, match="holds 4.0 MB of data"):
        read_package(package, ImportLimits(max_uncompressed_mb=1))
    many = "id,name,status\n" + "".join(f"{n},n,active\n" for n in range(20))
    with pytest.raises(ImportFileError, match="services.csv rows"):
        read_package(_folder(tmp_path, {"services.csv": many}), ImportLimits(max_rows=10))


def test_a_damaged_zip_or_a_plain_file_is_refused(tmp_path):
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(ImportFileError, match="folder or a .zip"):
        read_package(damaged)
    plain = tmp_path / "services.csv"
    plain.write_text(SERVICES_CSV)
    with pytest.raises(ImportFileError, match="not a folder or a .zip"):
        read_package(plain)


# ---- round trip -----------------------------------------------------------------------------


def taxonomies_named_in(services: list[dict]) -> list[dict]:
    """A taxonomy for each taxonomy_id the services' terms name (none until the mapping
    publishes attributes), so that the package holds every row its terms point at."""
    found = {}

    def walk(node):
        if isinstance(node, dict):
            if node.get("taxonomy_id") and "term" in node:
                found.setdefault(
                    node["taxonomy_id"],
                    {
                        "id": node["taxonomy_id"],
                        "name": node.get("taxonomy") or "?",
                        "description": "",
                    },
                )
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(services)
    return list(found.values())


@pytest.mark.parametrize("suffix", [".zip", ""])
def test_every_demo_and_hostile_service_reads_back_the_same(tmp_path, suffix):
    services = [*demo_services(), *hostile_services()]
    out = tmp_path / f"package{suffix}"
    write_package(services, out, taxonomies_named_in(services))
    read, accounting = read_package(out)
    assert read == [linked(s) for s in services]
    assert accounting.unused() == [] and accounting.problems == []


def test_a_published_service_already_carries_every_link_the_tables_need():
    """`linked` adds to the mapping's services at most an attribute's link_entity (what it
    describes: the UK profile's tables require it, its JSON has no place for it), and drops
    only their empty lists (no rows cannot say "an empty list" from "no list"); so the tables
    read back give what the API publishes, less its empty lists."""

    def comparable(node, drop_empty: bool):
        if isinstance(node, dict):
            return {
                k: comparable(v, drop_empty)
                for k, v in node.items()
                if k != "link_entity" and not (drop_empty and v == [])
            }
        if isinstance(node, list):
            return [comparable(v, drop_empty) for v in node]
        return node

    for service in [*demo_services(), *hostile_services()]:
        assert comparable(linked(service), False) == comparable(service, True)


def test_one_organization_used_by_many_services_is_one_row():
    services = list(demo_services())
    tables = services_to_tables(services)
    organization_ids = [r["id"] for r in tables["organizations"]]
    assert len(organization_ids) == len(set(organization_ids))
    used = {s["organization_id"] for s in services if "organization_id" in s}
    assert set(organization_ids) == used
    assert len(used) < sum(1 for s in services if "organization_id" in s)
    assert len(tables["services"]) == len(services)


def test_one_id_with_two_spellings_is_the_first_spelling():
    """The mapping gives "Sale Trust" and "sale  trust" one organization id; a table holds
    one row an id, so the first spelling met stands for both."""
    first = mapping.to_service(validate_asset(make_asset(organisation="Sale Trust")).record)
    second = mapping.to_service(
        validate_asset(make_asset(id="other", organisation="sale  trust")).record
    )
    assert first["organization_id"] == second["organization_id"]
    (row,) = services_to_tables([first, second])["organizations"]
    assert row["name"] == "Sale Trust"


# ---- the package is valid under Frictionless -------------------------------------------------


@pytest.fixture(scope="module")
def demo_package(tmp_path_factory):
    """Every demo asset and every hostile string, written once as a package folder."""
    out = tmp_path_factory.mktemp("hsds") / "package"
    write_package([*demo_services(), *hostile_services()], out)
    return out


def _frictionless_errors(descriptor: Path) -> list:
    from frictionless import validate

    report = validate(descriptor)
    return report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_the_package_is_a_valid_frictionless_data_package(demo_package):
    assert _frictionless_errors(demo_package / "datapackage.json") == []
    descriptor = json.loads((demo_package / "datapackage.json").read_text("utf-8"))
    declared = {
        (r["name"], k["fields"][0], k["reference"]["resource"])
        for r in descriptor["resources"]
        for k in r["schema"].get("foreignKeys", [])
    }
    assert {
        ("services", "organization_id", "organizations"),
        ("service_at_location", "service_id", "services"),
        ("service_at_location", "location_id", "locations"),
        ("address", "location_id", "locations"),
        ("accessibility", "location_id", "locations"),
        ("schedule", "service_id", "services"),
        ("phones", "service_id", "services"),
        ("languages", "service_id", "services"),
        ("cost_options", "service_id", "services"),
    } <= declared
    names = {r["name"]: r for r in descriptor["resources"]}
    assert set(names) == {t.name for t in hsds.TABLES}
    assert names["services"]["schema"]["primaryKey"] == ["id"]


def test_frictionless_finds_a_foreign_key_that_does_not_resolve(tmp_path):
    """The validation above can fail: a location id changed in address.csv is reported."""
    broken = tmp_path / "broken"
    write_package(list(demo_services()[:5]), broken)
    assert _frictionless_errors(broken / "datapackage.json") == []
    path = broken / "address.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][1] == "location_id"
    rows[1][1] = "00000000-0000-4000-8000-000000000000"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    found = _frictionless_errors(broken / "datapackage.json")
    assert [(e[0], e[2]) for e in found] == [(2, "foreign-key")]
    assert "location_id" in found[0][3]


# ---- assetmap export hsds ---------------------------------------------------------------------


@pytest.fixture
def export_app(db_path):
    from assetmap import create_app
    from assetmap.store import initialise
    from tests.conftest import save_raw

    initialise(db_path)
    save_raw(
        db_path,
        [
            make_asset(),
            make_asset(id="gone", name="Gone", archived=True),
            make_asset(id="shut", name="Shut Cafe", status="closed", organisation="Sale Trust"),
            make_asset(id="open", name="Open Cafe", organisation="Sale Trust"),
        ],
    )
    return create_app({"TESTING": True, "ASSETMAP_DB": str(db_path), "SECRET_KEY": "test-only"})


@contextmanager
def database_of(app):
    from assetmap.store import connect

    db = connect(app.config["ASSETMAP_DB"])
    try:
        yield db
    finally:
        db.close()


@pytest.mark.parametrize("name", ["out.zip", "out-folder"])
def test_export_hsds_writes_the_published_services_as_the_api_gives_them(
    export_app, tmp_path, name
):
    out = tmp_path / name
    result = export_app.test_cli_runner().invoke(args=["export", "hsds", str(out)])
    assert result.exit_code == 0, result.output
    assert "exported 3 services" in result.output
    published = export_app.test_client().get("/api/oruk/services").get_json()["contents"]
    services, accounting = read_package(out)
    # The API's services, in its order (it may add what only a request knows: the site's
    # address in term URIs, say), are the package's: each as the mapping makes it.
    assert [s["id"] for s in services] == [s["id"] for s in published]
    assert services == [linked(s) for s in published]  # term URIs, last_modified and all
    assert {s["status"] for s in services} == {"active", "defunct"}
    # Every row is used, but for the vocabulary's terms no service carries: the package has
    # every taxonomy with all its terms, as /api/oruk/taxonomy_terms lists them.
    assert {r.table for r in accounting.unused()} <= {"taxonomy_terms"}
    vocabulary = export_app.test_client().get("/api/oruk/taxonomies").get_json()["contents"]
    assert {t["id"] for t in vocabulary} == {r.id for r in accounting.in_file("taxonomies.csv")}
    if out.suffix == ".zip":
        assert _frictionless_errors(out) == []  # frictionless reads the zip as it is
        with zipfile.ZipFile(out) as archive:
            text = "".join(archive.read(n).decode("utf-8") for n in archive.namelist())
    else:
        text = "".join(p.read_text("utf-8") for p in out.iterdir())
    for private in ("Sam Example", "07700 900123", "Sam prefers calls", "Gone"):
        assert private not in text
    assert len([r for r in text.splitlines() if "Sale Trust" in r]) == 1  # one organization
    assert not list(tmp_path.glob("*.partial"))


def test_export_hsds_never_overwrites_files_or_writes_to_standard_output(export_app, tmp_path):
    runner = export_app.test_cli_runner()
    mine = tmp_path / "mine"
    mine.write_text("keep me")
    result = runner.invoke(args=["export", "hsds", str(mine)])
    assert result.exit_code == 1
    assert "Nothing was written" in result.output and "not an empty folder" in result.output
    assert mine.read_text() == "keep me"
    result = runner.invoke(args=["export", "hsds", "-"])
    assert result.exit_code != 0 and "a .zip file or a new folder" in result.output
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me too")
    with pytest.raises(FileExistsError):
        write_package(list(demo_services()[:3]), folder)
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    write_package(list(demo_services()[:3]), tmp_path / "empty")  # a new folder is made
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_geojson_and_csv_exports_still_work(export_app, tmp_path):
    runner = export_app.test_cli_runner()
    for fmt in ("geojson", "csv"):
        result = runner.invoke(args=["export", fmt, str(tmp_path / f"out.{fmt}")])
        assert result.exit_code == 0 and "exported 4 assets" in result.output


def test_check_says_what_of_a_package_a_service_uses(export_app):
    result = export_app.test_cli_runner().invoke(args=["openreferral", "check", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "csv: 1 services; 23 rows in 23 tables: 18 used by a service, 5 not used" in (
        result.output
    )
    assert "attribute.csv row 3 (not used): its link_id f28dd44b" in result.output


def test_an_export_that_fails_half_way_leaves_nothing(tmp_path, monkeypatch):
    """A disk that fills up after four files, in a zip or a folder: no half package."""
    calls = []

    def fail_on_the_fifth(real):
        def write(self, *args, **kwargs):
            calls.append(1)
            if len(calls) == 5:
                raise OSError(28, "No space left on device")
            return real(self, *args, **kwargs)

        return write

    monkeypatch.setattr(zipfile.ZipFile, "writestr", fail_on_the_fifth(zipfile.ZipFile.writestr))
    monkeypatch.setattr(Path, "write_text", fail_on_the_fifth(Path.write_text))
    for name in ("out.zip", "out"):
        calls.clear()
        with pytest.raises(OSError, match="No space"):
            write_package(list(demo_services()[:5]), tmp_path / name)
        assert len(calls) == 5
    assert list(tmp_path.iterdir()) == []


def test_a_hostile_package_is_read_with_every_row_accounted_for(tmp_path):
    """Rows that point at each other in a loop, a second service with the first's id, cells
    under no heading, text in a number column, hostile strings: nothing is lost unsaid."""
    a, b = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"
    contact, phone = "cccccccc-0000-4000-8000-000000000003", "dddddddd-0000-4000-8000-000000000004"
    folder = _folder(
        tmp_path,
        {
            "services.csv": "id,name,status,minimum_age\n"
            f'{SERVICE},"<script>alert(1)</script>, ""quoted""\nline",active,twelve\n'
            f"{SERVICE},Impostor,active,5,extra cell\n",
            "attributes.csv": f"id,link_id,link_entity\n{a},{b},attribute\n{b},{a},attribute\n",
            "contacts.csv": f"id,service_id,name\n{contact},{SERVICE},=HYPERLINK(1)\n",
            "phones.csv": f"id,contact_id,service_id,number\n{phone},{contact},{SERVICE},+44 1\n",
            "languages.csv": f"id,phone_id,name\neeeeeeee-0000-4000-8000-000000000005,{phone},cy\n",
        },
    )
    (service,), accounting = read_package(folder)
    assert service["name"] == '<script>alert(1)</script>, "quoted"\nline'
    assert service["minimum_age"] == "twelve"  # kept as entered, for the import to question
    (phone_object,) = service["contacts"][0]["phones"]
    assert phone_object["number"] == "+44 1" and phone_object["languages"][0]["name"] == "cy"
    assert service["contacts"][0]["name"] == "=HYPERLINK(1)"
    assert len(accounting.rows) == 7
    unused = {(r.file, r.number): r.reason for r in accounting.unused()}
    assert unused[("services.csv", 3)].startswith("has the id of services.csv row 2")
    assert "in a loop" in unused[("attributes.csv", 2)]
    assert "in a loop" in unused[("attributes.csv", 3)]
    assert len(unused) == 3
    assert accounting.problems == [
        "services.csv row 3: 1 cells under no heading were not read; give their column a "
        "heading, or delete them"
    ]


def test_objects_without_ids_get_ids_of_their_own_the_same_every_time():
    services = [
        {"id": f"s{n}", "name": "A", "status": "active", "schedules": [{"byday": "MO"}]}
        for n in range(2)
    ]
    tables = services_to_tables(services)
    ids = [r["id"] for r in tables["schedule"]]
    assert len(set(ids)) == 2
    assert [r["id"] for r in services_to_tables(services)["schedule"]] == ids
    assert [r["service_id"] for r in tables["schedule"]] == ["s0", "s1"]


def test_export_hsds_into_a_folder_that_does_not_exist_says_so(export_app, tmp_path):
    out = tmp_path / "nowhere" / "out.zip"
    result = export_app.test_cli_runner().invoke(args=["export", "hsds", str(out)])
    assert result.exit_code == 1
    assert f"Nothing was written: there is no such folder ({out.parent})" in result.output


TAXONOMY = {
    "id": mapping.stable_id("taxonomy", "strands"),
    "name": "PHE strands",
    "description": "The three strands of community-centred approaches",
}


def _term(slug: str) -> dict:
    return {
        "id": mapping.stable_id("taxonomy_term", slug),
        "name": slug.title(),
        "description": f"The {slug} strand",
        "taxonomy": TAXONOMY["name"],
        "taxonomy_id": TAXONOMY["id"],
        "term": slug,
    }


def _with_attributes(service: dict) -> dict:
    """The service with taxonomy attributes on it and on its location, in the UK profile's
    shape (a term nested in each attribute, naming its taxonomy by taxonomy_id)."""

    def attribute(owner: str, slug: str) -> dict:
        term = _term(slug)
        return {
            "id": mapping.stable_id("attribute", owner, slug),
            "link_id": owner,
            "link_type": "strand",
            "taxonomy_term_id": term["id"],
            "taxonomy_term": term,
        }

    service = json.loads(json.dumps(service))
    service["attributes"] = [attribute(service["id"], "walking"), attribute(service["id"], "arts")]
    location = service["service_at_locations"][0]["location"]
    location["attributes"] = [attribute(location["id"], "walking")]
    return service


def test_taxonomy_attributes_round_trip_with_their_taxonomies_as_shared_rows(tmp_path):
    services = [_with_attributes(s) for s in demo_services()[:10]]
    vocabulary = [{**TAXONOMY, "taxonomy_terms": [_term("walking"), _term("gardening")]}]
    out = tmp_path / "package.zip"
    rows = write_package(services, out, vocabulary)
    assert rows["attribute.csv"] == 30
    assert rows["taxonomy_terms.csv"] == 3 and rows["taxonomies.csv"] == 1
    read, accounting = read_package(out)
    assert read == [linked(s) for s in services]
    assert accounting.problems == []
    (unused,) = accounting.unused()
    assert (unused.file, unused.number) == ("taxonomy_terms.csv", 4)  # gardening
    assert unused.reason == "no attribute of a service names this taxonomy term"
    (taxonomy,) = accounting.in_file("taxonomies.csv")
    assert len(taxonomy.services) == 10
    assert _frictionless_errors(out) == []
    descriptor = json.loads(zipfile.ZipFile(out).read("datapackage.json"))
    keys = {
        (r["name"], k["fields"][0], k["reference"]["resource"])
        for r in descriptor["resources"]
        for k in r["schema"].get("foreignKeys", [])
    }
    assert ("attribute", "taxonomy_term_id", "taxonomy_terms") in keys
    assert ("taxonomy_terms", "taxonomy_id", "taxonomies") in keys
    tables = services_to_tables(services)
    assert {r["link_entity"] for r in tables["attribute"]} == {"service", "location"}


def test_terms_of_a_taxonomy_left_out_of_the_package_are_reported_once(tmp_path):
    services = [_with_attributes(s) for s in demo_services()[:3]]
    write_package(services, tmp_path / "package")
    read, accounting = read_package(tmp_path / "package")
    assert read == [linked(s) for s in services]
    assert accounting.problems == [
        "taxonomy_terms.csv rows 2, 3: their taxonomy_id names no row of taxonomies.csv"
    ]


def test_a_term_with_its_taxonomy_nested_in_it_reads_back_as_it_was(tmp_path):
    """HSDS 3.0's taxonomy_detail (the UK profile has none) is kept, as a JSON cell."""
    service = _with_attributes(demo_services()[0])
    arts = service["attributes"][1]["taxonomy_term"]  # used once: one row, this one
    arts["taxonomy_detail"] = dict(TAXONOMY)
    write_package([service], tmp_path / "package")
    assert read_package(tmp_path / "package")[0] == [linked(service)]


def test_the_standards_json_example_service_round_trips(tmp_path):
    example = json.loads((STANDARD / "examples" / "service_full.json").read_text("utf-8"))
    write_package([example], tmp_path / "package")
    (read,), accounting = read_package(tmp_path / "package")
    assert read == linked(example)
    assert errors("service.json", read) == []
    assert accounting.unused() == []


def test_any_tangle_of_rows_joins_with_every_row_accounted_for():
    """Rows of any tables pointing at any ids (themselves, each other, nothing), duplicates
    and rows without ids: the join ends, and every row is used by a service or says why."""
    from hypothesis import given
    from hypothesis import strategies as st

    from assetmap.openreferral.tabular import Row, tables_to_services

    ids = st.sampled_from(["", "a", "b", "c", "d"])
    tables = st.sampled_from(
        [
            "services",
            "service",
            "locations",
            "service_at_location",
            "address",
            "addresses",
            "contacts",
            "phones",
            "languages",
            "attribute",
            "organizations",
            "taxonomy_terms",
            "taxonomies",
            "schedule",
            "things",
        ]  # fmt: skip
    )
    columns = st.sampled_from(
        [
            "service_id",
            "location_id",
            "organization_id",
            "contact_id",
            "phone_id",
            "service_at_location_id",
            "link_id",
            "taxonomy_term_id",
            "taxonomy_id",
            "name",
        ]  # fmt: skip
    )
    rows = st.lists(st.tuples(tables, ids, st.dictionaries(columns, ids, max_size=4)), max_size=25)

    @given(rows)
    def check(drawn):
        files: dict[str, list[Row]] = {}
        for stem, row_id, values in drawn:
            file_rows = files.setdefault(f"{stem}.csv", [])
            values = {**values, "id": row_id} if row_id else values
            file_rows.append(
                Row(f"{stem}.csv", len(file_rows) + 2, hsds.table_for_file(stem), values)
            )
        services, accounting = tables_to_services(list(files.values()))
        assert len(accounting.rows) == len(drawn)
        for use in accounting.rows:
            assert use.used or use.reason
        used_services = {s for use in accounting.rows for s in use.services}
        assert used_services == {s["id"] for s in services}
        json.dumps(services)  # a tree, not a loop

    check()
