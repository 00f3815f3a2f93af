"""HSDS tabular packages: services to tables and back, the export command, and hostile packages.

The standard's own files are read from ../shared/openreferral-uk (not copied here): its
schemas name the tables and columns, and its example package (examples/csv) is read with every
row of every table accounted for.
"""

from __future__ import annotations

import csv
import json
import zipfile
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
    from tests.hostile import corpus

    found = []
    for n, (entered, _) in enumerate(corpus()):
        result = validate_asset(
            make_asset(
                id=f"hostile-{n}",
                name=entered,
                description=entered,
                organisation=entered,
                address=entered,
                access_notes=entered,
                cost_details=entered,
                languages=[entered],
                schedule={"sessions": [], "notes": entered},
            )
        )
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


@pytest.mark.parametrize("suffix", [".zip", ""])
def test_every_demo_and_hostile_service_reads_back_the_same(tmp_path, suffix):
    services = [*demo_services(), *hostile_services()]
    out = tmp_path / f"package{suffix}"
    write_package(services, out)
    read, accounting = read_package(out)
    assert read == [linked(s) for s in services]
    assert accounting.unused() == [] and accounting.problems == []


def test_a_published_service_already_carries_every_link_the_tables_need():
    """`linked` adds nothing to the mapping's services, and drops only their empty lists (no
    rows in a table cannot say "an empty list" from "no list"); so the tables read back give
    what the API publishes, less its empty lists."""

    def without_empty_lists(node):
        if isinstance(node, dict):
            return {k: without_empty_lists(v) for k, v in node.items() if v != []}
        if isinstance(node, list):
            return [without_empty_lists(v) for v in node]
        return node

    for service in [*demo_services(), *hostile_services()]:
        assert linked(service) == without_empty_lists(service)


def test_one_organization_used_by_many_services_is_one_row():
    services = list(demo_services())
    tables = services_to_tables(services)
    organization_ids = [r["id"] for r in tables["organizations"]]
    assert len(organization_ids) == len(set(organization_ids))
    used = {s["organization_id"] for s in services if "organization_id" in s}
    assert set(organization_ids) == used
    assert len(used) < sum(1 for s in services if "organization_id" in s)
    assert len(tables["services"]) == len(services)
