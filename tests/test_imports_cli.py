"""`assetmap import` and `assetmap imports list|show|undo|template`, as a coordinator uses them."""

from __future__ import annotations

import csv
import json

import pytest

from assetmap import create_app
from assetmap.imports.columns import TEMPLATE_FIELDS
from assetmap.store import connect
from tests import engines
from tests.test_imports_support import (
    BAD,
    ROOT,
    asset_named,
    files_dir,
    fingerprint,
    write_text,
)

AUDIT = (
    "Ref,Name,Kind,Strand,Postcode\n"
    "C1,Sale Sewing Bee,group,access_community_resources,M33 7ZF\n"
    "C2,Sale Stitchers,grp,access_community_resources,M33 7ZF\n"
)


@pytest.fixture
def db_path(trafford_db_path):
    return trafford_db_path


@pytest.fixture
def cli(db_path):
    app = create_app(
        {
            "ASSETMAP_DB": str(db_path),
            "ASSETMAP_FILES_DIR": str(files_dir(db_path)),
            "SECRET_KEY": "test-only",
        }
    )
    runner = app.test_cli_runner()

    def run(*args, input=None):
        return runner.invoke(args=[str(a) for a in args], input=input)

    return run


@pytest.fixture
def audit(tmp_path):
    return write_text(tmp_path / "sewing.csv", AUDIT)


def test_a_dry_run_lists_every_problem_and_changes_nothing(cli, db_path, audit):
    before = fingerprint(db_path)
    result = cli("import", audit, "--dry-run")
    assert result.exit_code == 1  # a row was rejected
    assert result.output.splitlines() == [
        "sewing.csv: CSV file, UTF-8, comma-separated; source 'sewing'",
        "note: 2 rows had no coordinates and were placed from their postcode.",
        "rejected: row 3, column C (Kind): 'grp' is not a kind; use one of group, activity, "
        "service, place, volunteering",
        "Preview, nothing changed: 1 new, 0 changed, 0 unchanged, 1 rejected, 0 possible "
        "duplicates",
    ]
    assert fingerprint(db_path) == before


def test_the_coordinator_is_asked_before_anything_is_imported(cli, db_path, audit):
    before = fingerprint(db_path)
    declined = cli("import", audit, input="n\n")
    assert "Import 1 new and 0 changed assets? [y/N]: n" in declined.output
    assert declined.output.endswith("Nothing was changed.\n")
    assert fingerprint(db_path) == before
    accepted = cli("import", audit, input="y\n")
    assert accepted.output.splitlines()[-1] == (
        "Imported as run 1: 1 new, 0 changed, 0 unchanged, 1 rejected, 0 possible duplicates. "
        "To undo it: assetmap imports undo 1"
    )
    db = connect(db_path)
    assert asset_named(db, "Sewing Bee")["source"] == "sewing"
    db.close()


def test_yes_imports_at_once_and_json_gives_the_summary_for_scripts(cli, audit):
    result = cli("import", audit, "--yes", "--json", "--source", "sewing-audit")
    assert result.exit_code == 1
    summary = json.loads(result.output)
    assert summary["counts"] == {
        "rows": 2,
        "new": 1,
        "changed": 0,
        "unchanged": 0,
        "rejected": 1,
        "possible_duplicates": 0,
        "with_warnings": 0,
    }
    assert (summary["applied"], summary["run_id"], summary["source"]) == (True, 1, "sewing-audit")
    assert summary["problems"] == [
        {
            "level": "error",
            "row": 3,
            "column": "Kind",
            "letter": "C",
            "value": "grp",
            "message": "'grp' is not a kind; use one of group, activity, service, place, "
            "volunteering",
            "unit": "row",
        }
    ]
    again = json.loads(cli("import", audit, "--yes", "--json", "--source", "sewing-audit").output)
    assert again["counts"]["unchanged"] == 1 and again["counts"]["new"] == 0


def test_json_without_yes_is_a_dry_run(cli, db_path, audit):
    before = fingerprint(db_path)
    summary = json.loads(cli("import", audit, "--json").output)
    assert summary["applied"] is False and summary["run_id"] is None
    assert fingerprint(db_path) == before


def test_a_refused_file_says_why_in_words_and_as_json(cli):
    result = cli("import", BAD / "missing_name_column.csv", "--yes")
    assert result.exit_code == 1
    assert result.output == (
        "Error: missing_name_column.csv has no column for the name, which every asset needs. "
        "Rename the column that holds it to name (the template's heading), or name it in a "
        'mapping file ([columns] "Your heading" = "name"). The file\'s columns are: A (Ref), '
        "B (Group), C (Kind), D (Strand), E (Postcode).\n"
    )
    as_json = cli("import", BAD / "empty.csv", "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.output) == {
        "file": "empty.csv",
        "refused": "empty.csv is empty (0 bytes). Check that the spreadsheet was saved before "
        "it was exported, and choose the file again",
    }


def test_a_mapping_file_with_a_mistake_is_refused_before_the_file_is_read(cli, tmp_path, audit):
    mapping = write_text(tmp_path / "map.toml", "[defaults]\nstrand = 'health'\n")
    result = cli("import", audit, "--mapping", mapping, "--dry-run")
    assert result.exit_code == 1
    assert result.output == (
        "Error: the mapping file map.toml [defaults]: strand: 'health' is not a strand; use one "
        "of strengthening_communities, volunteer_peer_roles, collaborations_partnerships, "
        "access_community_resources\n"
    )


def test_rejected_rows_can_be_written_to_a_csv_to_fix(cli, tmp_path, audit):
    out = tmp_path / "fix-these.csv"
    cli("import", audit, "--dry-run", "--rejected", out)
    with out.open(encoding="utf-8", newline="") as f:
        assert list(csv.reader(f)) == [
            ["error", "source", "Ref", "Name", "Kind", "Strand", "Postcode"],
            [
                "Kind: 'grp' is not a kind; use one of group, activity, service, place, "
                "volunteering",
                "sewing",
                "C2",
                "Sale Stitchers",
                "grp",
                "access_community_resources",
                "M33 7ZF",
            ],
        ]


def test_runs_can_be_listed_shown_and_undone(cli, db_path, audit, tmp_path):
    cli("import", audit, "--yes", "--who", "jo@example.org")
    listed = cli("imports", "list").output
    assert " jo@example.org sewing.csv (source sewing): 1 new, 0 changed, 0 unchanged, " in listed
    shown = cli("imports", "show", "1", "--rejected", tmp_path / "rejected.csv").output
    assert "row 3, column C (Kind): 'grp' is not a kind" in shown
    assert shown.endswith(f"wrote 1 rejected rows to {tmp_path / 'rejected.csv'}\n")
    undone = cli("imports", "undo", "1", "--yes")
    assert undone.output == "Undid run 1: 1 asset removed, 0 restored.\n"
    db = connect(db_path)
    assert asset_named(db, "Sewing Bee") is None
    db.close()
    again = cli("imports", "undo", "1", "--yes")
    assert again.exit_code == 1
    assert again.output.startswith("Error: import run 1 was already undone by cli:")
    missing = cli("imports", "undo", "99", "--yes")
    assert missing.output == "Error: there is no import run 99\n"


def test_the_template_command_writes_the_documented_template(cli, tmp_path):
    out = tmp_path / "template.csv"
    cli("imports", "template", out)
    assert out.read_text() == (ROOT / "docs" / "import-template.csv").read_text()
    assert out.read_text().strip().split(",") == list(TEMPLATE_FIELDS)


def test_an_uninitialised_database_is_named_not_a_traceback(tmp_path, audit):
    target = engines.missing_target(tmp_path)  # on the engine the run is on
    app = create_app({"ASSETMAP_DB": str(target), "SECRET_KEY": "test-only"})
    result = app.test_cli_runner().invoke(args=["import", str(audit), "--dry-run"])
    assert result.exit_code == 1
    demo = "" if engines.on_postgresql() else " (or `make run` for the demo)"  # SQLite's demo
    assert (
        result.output
        == f"Error: there is no database at {target}: run `assetmap init` first{demo}\n"
    )
    # Nothing is made there: an empty file would stop `make run` building the demo database.
    assert not engines.exists(target)
    if engines.on_postgresql():
        return  # an empty file is SQLite's own case
    (tmp_path / "new.db").write_bytes(b"")  # an empty database, as sqlite3 makes one
    app = create_app({"ASSETMAP_DB": str(tmp_path / "new.db"), "SECRET_KEY": "test-only"})
    result = app.test_cli_runner().invoke(args=["import", str(audit), "--dry-run"])
    assert result.output == "Error: the database is not set up yet: run `assetmap init` first\n"


def test_a_runs_extra_information_is_shown_with_it(cli, tmp_path):
    funded = write_text(
        tmp_path / "funded.csv",
        "Ref,Name,Kind,Strand,Postcode,Funding stream\n"
        + "".join(
            f"F{n},Sale Menders {n},group,access_community_resources,M33 7ZF,Lottery {n}\n"
            for n in range(22)
        ),
    )
    cli("import", funded, "--yes")
    shown = cli("imports", "show", "1").output
    assert "row 2, extra information: Funding stream: Lottery 0" in shown
    assert "row 21, extra information: Funding stream: Lottery 19" in shown
    assert "row 22, extra" not in shown
    assert "(and 2 more rows with extra information, all kept with the run)" in shown


FOOD_BANKS = (
    "Ref,Name,Postcode,Opening times\n"
    "F1,Sale Community Pantry,M33 7ZF,Fridays 10:00-12:00\n"
    "F2,Stretford Food Bank,M32 0AB,\n"
)


def test_defaults_on_the_command_line_give_every_row_a_kind_and_strand(cli, db_path, tmp_path):
    food = write_text(tmp_path / "food-banks.csv", FOOD_BANKS)
    refused = cli("import", food, "--dry-run")
    assert refused.exit_code == 1 and "has no column for the kind or the strand" in refused.output
    result = cli(
        "import", food, "--yes",
        "--default", "kind=service",
        "--default", "strand=access_community_resources",
        "--default", "categories=food_support",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 new, 0 changed" in result.output
    db = connect(db_path)
    pantry = asset_named(db, "Sale Community Pantry")
    db.close()
    assert (pantry["kind"], pantry["strand"]) == ("service", "access_community_resources")
    assert pantry["categories"] == ["food_support"]


@pytest.mark.parametrize(
    ("default", "message"),
    [
        ("knd=service", "Invalid value for --default: 'knd' is not a field; use one of id, name,"),
        ("kind=servce", "Invalid value for --default: kind: 'servce' is not a kind; use one of "
         "group, activity, service, place, volunteering"),
        ("kind", "Invalid value for --default: --default 'kind' should be a field, an equals "
         "sign and a value, such as --default kind=service"),
    ],
)  # fmt: skip
def test_a_default_with_an_unknown_field_or_value_is_refused_naming_it(
    cli, db_path, tmp_path, default, message
):
    food = write_text(tmp_path / "food-banks.csv", FOOD_BANKS)
    before = fingerprint(db_path)
    result = cli("import", food, "--yes", "--default", default)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert fingerprint(db_path) == before
