"""A coordinator's imports, end to end through the pipeline: preview, import, import again,
update, undo, and what happens when an import fails part-way."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assetmap import imports
from assetmap.imports import ImportFileError, ImportOptions
from assetmap.imports import pipeline as pipeline_module
from assetmap.imports.cleaning import RowCleaner
from assetmap.imports.columns import plan_columns
from assetmap.imports.mapping import Mapping, parse_mapping
from assetmap.imports.readers import SourceRow
from assetmap.imports.undo import UndoRefused, undo_run
from assetmap.record.formats import write_csv
from assetmap.store import assets as asset_store
from assetmap.store import bulk as bulk_writes
from assetmap.store import connect, schema
from assetmap.store import imports as store
from tests import engines
from tests.test_imports_support import (
    POSTCODES,
    ROOT,
    asset_named,
    fingerprint,
    write_text,
)

AUDIT = (
    "Ref,Group name,Type of asset,Strand,Post Code,Phone,Notes\n"
    "A1,Sale Striders,group,access_community_resources,M33 7ZF,0161 912 1000,Meets at the gate\n"
    "A2,Urmston Knit and Natter,group,strengthening_communities,M41 0TJ,0161 912 2000,\n"
    "A3,Stretford Men's Shed,place,access_community_resources,M32 9BD,,Tools provided\n"
)


@pytest.fixture
def db_path(trafford_db_path):
    return trafford_db_path


@pytest.fixture
def db(db_path):
    database = connect(db_path)
    yield database
    database.close()


@pytest.fixture
def audit(tmp_path):
    return write_text(tmp_path / "trafford-audit.csv", AUDIT)


def apply(db, path, tmp_path, **options):
    return imports.apply(
        db,
        path,
        ImportOptions(**options),
        who="coordinator@example.org",
        archive_dir=tmp_path / "a",
    )


def test_a_preview_shows_what_would_change_and_changes_nothing(db, db_path, audit):
    before = fingerprint(db_path)
    report = imports.preview(db, audit)
    assert report.summary() == "3 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates"
    assert report.applied is False and report.run_id is None
    assert fingerprint(db_path) == before


def test_importing_the_same_audit_twice_changes_nothing_the_second_time(db, audit, tmp_path):
    first = apply(db, audit, tmp_path)
    assert first.summary() == "3 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates"
    history_before = db.conn.execute("SELECT count(*) FROM asset_history").fetchone()[0]
    second = apply(db, audit, tmp_path)
    assert second.summary() == "0 new, 0 changed, 3 unchanged, 0 rejected, 0 possible duplicates"
    assert db.conn.execute("SELECT count(*) FROM asset_history").fetchone()[0] == history_before


def test_a_newer_audit_updates_each_asset_by_its_ref_field_by_field(db, audit, tmp_path):
    apply(db, audit, tmp_path)
    newer = write_text(
        tmp_path / "trafford-audit.csv",
        AUDIT.replace("0161 912 1000", "0161 912 9999").replace("Sale Striders", "Sale Strollers"),
    )
    report = apply(db, newer, tmp_path)
    assert report.summary() == "0 new, 1 changed, 2 unchanged, 0 rejected, 0 possible duplicates"
    (change,) = report.changes
    assert (change.row, change.name) == (2, "Sale Strollers")
    assert change.fields == [
        ("Name", "Sale Striders", "Sale Strollers"),
        ("Phone", "0161 912 1000", "0161 912 9999"),
    ]
    latest = asset_store.history(db, change.asset_id)[0]
    assert latest["reason"] == f"import run {report.run_id}: trafford-audit.csv"
    assert latest["changed_by"] == "coordinator@example.org"


def test_a_row_without_a_ref_updates_the_asset_with_its_name_and_postcode(db, tmp_path):
    before = asset_store.get_asset(db, "sale-walking-group")
    audit = write_text(
        tmp_path / "phones.csv",
        "Name,Kind,Strand,Postcode,Phone\n"
        "SALE WALKING GROUP.,group,access_community_resources,m33 7zf,0161 912 4444\n",
    )
    report = apply(db, audit, tmp_path)
    assert report.summary() == "0 new, 1 changed, 0 unchanged, 0 rejected, 0 possible duplicates"
    after = asset_store.get_asset(db, "sale-walking-group")
    assert after["phone"] == "0161 912 4444"
    # The file's columns replace their fields; everything else, and the position someone set
    # by hand (the file only has a postcode), stays as it was.
    assert after["name"] == "SALE WALKING GROUP."
    unchanged = {k: v for k, v in before.items() if k not in ("phone", "name")}
    assert {k: after[k] for k in unchanged} == unchanged


def test_unrecognised_columns_are_kept_with_each_row_not_dropped(db, audit, tmp_path):
    report = apply(db, audit, tmp_path)
    assert report.notes == [
        "Not imported into any field, kept as extra information with each row: G (Notes). To "
        "import one into a field, rename its heading (see the template) or name it in a "
        "mapping file."
    ]
    striders = asset_named(db, "Striders")
    assert store.extra_for_asset(db, striders["id"]) == {"Notes": "Meets at the gate"}


def test_each_import_is_recorded_with_who_when_the_file_and_its_hash(db, audit, tmp_path):
    report = apply(db, audit, tmp_path)
    run = store.get_run(db, report.run_id)
    assert run["imported_by"] == "coordinator@example.org"
    assert run["file_name"] == "trafford-audit.csv"
    assert run["sha256"] == pipeline_module.file_sha256(audit)
    assert run["source"] == "trafford-audit"
    assert (run["row_count"], run["new_count"], run["rejected_count"]) == (3, 3, 0)
    assert run["imported_at"].endswith("Z")
    archived = tmp_path / "a" / run["archived_as"]
    assert archived.read_bytes() == audit.read_bytes()


def test_undo_removes_what_an_import_added_and_restores_what_it_changed(db, audit, tmp_path):
    original = asset_store.get_asset(db, "sale-walking-group")
    write_text(
        audit,
        AUDIT + "A4,Sale Walking Group,group,access_community_resources,M33 7ZF,0161 000 0000,\n",
    )
    # A4 has a ref, so it is a new asset (flagged as a possible duplicate of the one listed).
    first = apply(db, audit, tmp_path)
    assert first.summary() == "4 new, 0 changed, 0 unchanged, 0 rejected, 1 possible duplicate"
    by_name = write_text(
        tmp_path / "by-name.csv",
        "Name,Kind,Strand,Postcode,Cost\n"
        "Stretford Peer Support,group,volunteer_peer_roles,M32 9BD,paid\n",
    )
    second = apply(db, by_name, tmp_path)
    assert second.changed == 1
    result = undo_run(db, second.run_id, who="coordinator@example.org")
    assert result.summary() == "0 assets removed, 1 restored"
    assert asset_store.get_asset(db, "stretford-peer-support")["cost"] == "free"
    result = undo_run(db, first.run_id, who="coordinator@example.org")
    assert result.summary() == "4 assets removed, 0 restored"
    assert asset_named(db, "Striders") is None
    assert asset_store.get_asset(db, "sale-walking-group") == original
    assert store.get_run(db, first.run_id)["undone_by"] == "coordinator@example.org"


def test_runs_undone_newest_first_need_no_forcing(db, audit, tmp_path):
    first = apply(db, audit, tmp_path)
    changed = write_text(tmp_path / "v2.csv", AUDIT.replace("0161 912 1000", "0161 912 9999"))
    second = apply(db, changed, tmp_path, source="trafford-audit")
    assert second.changed == 1
    undo_run(db, second.run_id, who="coordinator@example.org")
    # The later run changed Sale Striders and its undo changed it back: nobody's work is lost
    # by undoing the first run too, so it is not refused.
    result = undo_run(db, first.run_id, who="coordinator@example.org")
    assert result.summary() == "3 assets removed, 0 restored"
    assert asset_named(db, "Striders") is None


def test_a_newer_copy_under_another_source_is_pointed_at_the_first_ones(db, audit, tmp_path):
    apply(db, audit, tmp_path)
    copy = write_text(tmp_path / "trafford audit v2.csv", audit.read_text())
    report = imports.preview(db, copy)
    assert report.source == "trafford-audit-v2"
    assert report.new == 3 and report.possible_duplicates == 3
    assert report.all_notes()[1] == (
        "3 rows have the same name and postcode as assets already listed from the source "
        "“trafford-audit”. If this file is a newer copy of that audit, import it with that "
        "source (the Source name box, or --source trafford-audit) so that its rows update those "
        "assets instead of being added beside them."
    )
    again = imports.preview(db, copy, ImportOptions(source="trafford-audit"))
    assert again.summary() == "0 new, 0 changed, 3 unchanged, 0 rejected, 0 possible duplicates"


def test_undo_is_refused_when_someone_has_changed_an_asset_since(db, audit, tmp_path):
    report = apply(db, audit, tmp_path)
    striders = asset_named(db, "Striders")
    asset_store.save_asset(db, {**striders, "cost": "free"}, who="editor@example.org")
    with pytest.raises(UndoRefused) as refused:
        undo_run(db, report.run_id, who="coordinator@example.org")
    stamp = asset_store.history(db, striders["id"])[0]["changed_at"]
    assert str(refused.value) == (
        f"1 of the assets this import added or changed has been changed since "
        f"({striders['id']} edited by editor@example.org on {stamp[:10]} {stamp[11:16]} UTC). "
        "Undoing the import would undo those changes too; check them, then undo anyway if that "
        "is what you want"
    )
    result = undo_run(db, report.run_id, who="coordinator@example.org", force=True)
    assert result.summary() == "3 assets removed, 0 restored, 1 with later changes undone too"
    with pytest.raises(UndoRefused) as again:
        undo_run(db, report.run_id, who="coordinator@example.org")
    assert str(again.value).startswith(
        f"import run {report.run_id} was already undone by coordinator@example.org at "
    )
    # Nothing is lost: the later edit is still in the asset's history.
    assert [c["changed_by"] for c in asset_store.history(db, striders["id"])] == [
        "coordinator@example.org",
        "editor@example.org",
        "coordinator@example.org",
    ]


@pytest.mark.parametrize("bulk", [False, True], ids=["row by row", "indexes rebuilt"])
def test_an_import_that_fails_part_way_leaves_the_database_exactly_as_it_was(
    db, db_path, tmp_path, monkeypatch, bulk
):
    if bulk:  # the first batch drops the indexes (see store.bulk.BULK_ROWS); the second fails
        monkeypatch.setattr(bulk_writes, "BULK_ROWS", 10)
    rows = "".join(
        f"R{n},Club {n},group,access_community_resources,M33 7ZF,,\n" for n in range(1200)
    )
    big = write_text(tmp_path / "big.csv", AUDIT.split("\n")[0] + "\n" + rows)
    before = fingerprint(db_path)
    real_write = getattr(store, _batch_writer())
    calls = []

    def write_then_fail(*args, **kwargs):
        calls.append(1)
        written = real_write(*args, **kwargs)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return written

    monkeypatch.setattr(store, _batch_writer(), write_then_fail)
    with pytest.raises(OSError):
        apply(db, big, tmp_path)
    assert len(calls) == 2
    assert fingerprint(db_path) == before
    # The archived copy went too (on PostgreSQL the batch fails while staged, before it is made).
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())


def _batch_writer() -> str:
    """The store function an apply writes each batch of rows with: on PostgreSQL it stages them
    before taking the write lock (store.imports.writing)."""
    return "stage_rows" if engines.on_postgresql() else "write_rows"


KILL_PART_WAY = """
import os, signal, sys
from pathlib import Path
from assetmap import imports
from assetmap.store import connect
from assetmap.store import imports as store
from assetmap.store import schema

real_write = getattr(store, sys.argv[3])
calls = []

def write_then_die(*args, **kwargs):
    written = real_write(*args, **kwargs)
    calls.append(1)
    if len(calls) == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return written

setattr(store, sys.argv[3], write_then_die)
imports.apply(connect(sys.argv[1]), Path(sys.argv[2]), who="tests")
"""


def test_an_import_killed_part_way_leaves_the_database_as_it_was(db_path, tmp_path):
    rows = "".join(
        f"R{n},Club {n},group,access_community_resources,M33 7ZF,,\n" for n in range(1200)
    )
    big = write_text(tmp_path / "big.csv", AUDIT.split("\n")[0] + "\n" + rows)
    before = fingerprint(db_path)
    finished = subprocess.run(
        [sys.executable, "-c", KILL_PART_WAY, str(db_path), str(big), _batch_writer()],
        capture_output=True,
    )
    assert finished.returncode == -signal.SIGKILL
    assert fingerprint(db_path) == before


@pytest.mark.sqlite_only("SQLite's FTS5 and R*Tree indexes, filled by triggers")
def test_imported_assets_are_in_the_search_indexes_as_the_triggers_would_put_them(
    db, audit, tmp_path
):
    trigger = "SELECT sql FROM sqlite_master WHERE name = 'assets_after_insert'"
    before = db.conn.execute(trigger).fetchone()[0]
    apply(db, audit, tmp_path)
    assert db.conn.execute(trigger).fetchone()[0] == before
    db.conn.execute("INSERT INTO assets_fts (assets_fts) VALUES ('integrity-check')")
    found = db.conn.execute(
        "SELECT a.name FROM assets_fts JOIN assets AS a ON a.rid = assets_fts.rowid "
        "WHERE assets_fts MATCH 'knit'"
    ).fetchall()
    assert [row[0] for row in found] == ["Urmston Knit and Natter"]
    missing = db.conn.execute(
        "SELECT count(*) FROM assets AS a LEFT JOIN assets_rtree AS r ON r.rid = a.rid "
        "WHERE r.rid IS NULL OR abs(r.min_lon - a.lon) > 1e-5 OR abs(r.min_lat - a.lat) > 1e-5"
    ).fetchone()[0]
    assert missing == 0


def test_a_link_worker_finds_an_imported_group_by_keyword_near_its_postcode(db, audit, tmp_path):
    """Whatever the engine keeps its search indexes in (SQLite's FTS5 and R*Tree, filled by
    triggers paused for an import; PostgreSQL's generated columns), an imported asset is found
    by the directory's own search as soon as the import is saved."""
    from assetmap.search.nearby import parse_search, search_ids

    query = parse_search({"postcode": ["M41 0TJ"], "radius_km": ["2"], "q": ["knit"]})
    assert search_ids(db, query)[0] == 0
    apply(db, audit, tmp_path)
    knit = asset_named(db, "Urmston Knit and Natter")
    assert search_ids(db, query) == (1, [knit["id"]])


def test_the_rejected_rows_csv_can_be_fixed_and_imported(db, tmp_path):
    audit = write_text(
        tmp_path / "audit.csv",
        "Ref,Name,Kind,Strand,Postcode,Phone\n"
        'B1,=HYPERLINK("x"),group,access_community_resources,M33 7ZF,+44 161 912 3000\n'
        "B2,Sale Singers,choir,access_community_resources,M33 7ZF,\n"
        "B3,Sale Poets,group,access_community_resources,M33 7ZF,\n",
    )
    out = io.StringIO()
    report = imports.apply(db, audit, who="tests", rejected=out)
    assert report.summary() == "1 new, 0 changed, 0 unchanged, 2 rejected, 0 possible duplicates"
    rejected = list(csv.reader(io.StringIO(out.getvalue())))
    assert rejected == [
        ["error", "source", "Ref", "Name", "Kind", "Strand", "Postcode", "Phone"],
        [
            "Name: '=HYPERLINK(\"x\")' is a spreadsheet formula, not a value. In the spreadsheet, "
            "copy the column and paste it back with Paste Special > Values only, then save and "
            "import again",
            "audit",
            "B1",
            '\'=HYPERLINK("x")',
            "group",
            "access_community_resources",
            "M33 7ZF",
            "'+44 161 912 3000",
        ],
        [
            "Kind: 'choir' is not a kind; use one of group, activity, service, place, volunteering",
            "audit",
            "B2",
            "Sale Singers",
            "choir",
            "access_community_resources",
            "M33 7ZF",
            "",
        ],
    ]
    rejected[1][3] = "Sale Scribblers"
    rejected[2][4] = "group"
    fixed = tmp_path / "audit-rejected-rows.csv"
    with fixed.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rejected)
    again = imports.apply(db, fixed, who="tests")
    assert again.summary() == "2 new, 0 changed, 0 unchanged, 0 rejected, 0 possible duplicates"
    scribblers = asset_named(db, "Scribblers")
    assert scribblers["phone"] == "+44 161 912 3000"
    # The fixed rows keep the original file's source, whatever the fixed file is called, so
    # importing the whole audit again later matches them instead of adding them twice.
    assert scribblers["source"] == "audit"
    audit.write_text(
        audit.read_text().replace('=HYPERLINK("x")', "Sale Scribblers").replace("choir", "group")
    )
    assert imports.apply(db, audit, who="tests").summary() == (
        "0 new, 0 changed, 3 unchanged, 0 rejected, 0 possible duplicates"
    )


def test_an_exported_csv_edited_in_one_cell_changes_one_asset(db, tmp_path):
    exported = tmp_path / "export.csv"
    with exported.open("w", encoding="utf-8", newline="") as f:
        write_csv(asset_store.iter_assets(db), f)
    report = imports.preview(db, exported)
    assert report.summary() == "0 new, 0 changed, 7 unchanged, 0 rejected, 0 possible duplicates"
    exported.write_text(
        exported.read_text().replace("Altrincham Library", "Altrincham Library & Hub")
    )
    report = imports.preview(db, exported)
    assert report.summary() == "0 new, 1 changed, 6 unchanged, 0 rejected, 0 possible duplicates"
    assert report.changes[0].fields == [("Name", "Altrincham Library", "Altrincham Library & Hub")]


def test_two_rows_with_similar_names_close_together_are_both_kept_and_flagged(db, tmp_path):
    audit = write_text(
        tmp_path / "pairs.csv",
        "Ref,Name,Kind,Strand,Latitude,Longitude\n"
        "P1,Timperley Tuesday Walkers,group,access_community_resources,53.3950,-2.3200\n"
        "P2,Timperley Walkers Tuesday,group,access_community_resources,53.3953,-2.3202\n"
        "P3,Timperley Tuesday Walkers,group,access_community_resources,53.4200,-2.3200\n",
    )
    report = apply(db, audit, tmp_path)
    assert report.summary() == "3 new, 0 changed, 0 unchanged, 0 rejected, 1 possible duplicate"
    assert [str(p) for p in report.problems] == [
        "row 3, column B (Name): may be the same as row 2 of this file, 36 m away with a similar "
        "name. Both are added and flagged: check them, and archive one if they are the same"
    ]
    flagged = list(store.run_rows(db, report.run_id, outcomes=(store.NEW,)))
    assert [r["duplicate_of"] for r in flagged] == [None, "row 2", None]


def test_a_file_placed_only_by_postcodes_needs_the_postcode_table(tmp_path, audit):
    from tests.conftest import load_sample

    empty = engines.new_target(tmp_path, "empty.db")
    load_sample(empty)
    db = connect(empty)
    try:
        with pytest.raises(ImportFileError) as refused:
            imports.preview(db, audit)
    finally:
        db.close()
    assert str(refused.value) == (
        "has no coordinates (no lat and lon, or easting and northing, columns), so each asset "
        "would be placed from its postcode, but no postcodes have been loaded yet. An "
        "administrator can load them with `assetmap postcodes load FILE`; or add lat and lon "
        "columns to the file"
    )


def test_a_file_that_changed_after_its_preview_is_not_imported(db, audit, tmp_path):
    report = imports.preview(db, audit)
    write_text(audit, AUDIT.replace("Sale Striders", "Sale Sprinters"))
    with pytest.raises(ImportFileError) as refused:
        imports.apply(db, audit, who="tests", expected_sha256=report.sha256)
    assert str(refused.value) == (
        "is not the file that was previewed (it has changed since); preview it again"
    )


def test_worker_processes_give_exactly_the_same_result_as_one_process(db, tmp_path):
    rows = "".join(
        f"W{n},Club number {n},group,access_community_resources,M33 7ZF,,\n" for n in range(700)
    )
    audit = write_text(tmp_path / "many.csv", AUDIT.split("\n")[0] + "\n" + rows + AUDIT[60:])
    alone = imports.preview(db, audit, ImportOptions(workers=0))
    # Two workers: chunks come back from either, and must be put back in file order. (One
    # worker is tested with an import, above.)
    shared = imports.preview(db, audit, ImportOptions(workers=2, parallel_min_bytes=0))
    assert json.dumps(shared.to_json()) == json.dumps(alone.to_json())


def test_a_copy_of_a_row_a_batch_or_more_earlier_is_told_from_a_row_that_conflicts(
    db, tmp_path, monkeypatch
):
    monkeypatch.setattr(pipeline_module, "BATCH_ROWS", 2)  # rows 2, 3 in one batch; 6, 7 later
    audit = write_text(
        tmp_path / "repeats.csv",
        "Ref,Group name,Type of asset,Strand,Post Code\n"
        "C1,Sale Chess,group,access_community_resources,M33 7ZF\n"
        "C2,Sale Draughts,group,access_community_resources,M33 7ZF\n"
        "C3,Sale Go,group,access_community_resources,M33 7ZF\n"
        "C4,Sale Bridge,group,access_community_resources,M33 7ZF\n"
        "C1,Sale Chess,group,access_community_resources,M33 7ZF\n"
        "C2,Sale Draughts Club,group,access_community_resources,M33 7ZF\n",
    )
    report = imports.preview(db, audit)
    messages = {p.row: p.message for p in report.problems if p.level == "error"}
    assert messages == {
        6: "is a copy of row 2; delete one of the two rows (only the first is imported)",
        7: "has the same Ref as row 3 but different details; give each asset its own Ref, or "
        "delete the row that is out of date",
    }


def test_the_same_name_in_other_letters_at_one_postcode_is_told_as_the_same_name(db, tmp_path):
    audit = write_text(
        tmp_path / "shouty.csv",
        "Group name,Type of asset,Strand,Post Code\n"
        "Sale Chess,group,access_community_resources,M33 7ZF\n"
        "SALE CHESS,group,access_community_resources,M33 7ZF\n",
    )
    report = imports.preview(db, audit)
    assert [p.message for p in report.problems] == [
        "has the same name and postcode as row 2. If they are different activities, give them "
        "different names (for example add the day); if not, delete the row that is out of date"
    ]


def _database_without_times(db) -> list:
    """Every asset, history entry and run row, without the times that differ between runs."""
    assets = db.conn.execute("SELECT * FROM assets ORDER BY rid").fetchall()
    history = db.conn.execute(
        "SELECT version_id, asset_id, action, previous, record, changed_by, reason "
        "FROM asset_history ORDER BY version_id"
    ).fetchall()
    runs = db.conn.execute("SELECT * FROM import_run_rows ORDER BY id").fetchall()
    skip = {"created_at", "updated_at"}
    return (
        [{k: v for k, v in dict(row).items() if k not in skip} for row in assets]
        + [tuple(row) for row in history]
        + [tuple(row) for row in runs]
    )


def _many(tmp_path, rows: int = 1200):
    lines = "".join(
        f"P{n},Club number {n},group,access_community_resources,M33 7ZF,,\n" for n in range(rows)
    )
    return write_text(tmp_path / "many.csv", AUDIT.split("\n")[0] + "\n" + lines + AUDIT[60:])


def _spread(tmp_path, rows: int):
    """Rows with names of their own across Trafford's postcodes (all at one postcode, with
    names alike, every row would be compared with every earlier one)."""
    with POSTCODES.open(encoding="utf-8") as f:
        postcodes = [line.split(",")[0] for line in f.readlines()[1:400]]
    words = ("Walking", "Singing", "Knitting", "Chess", "Bowls", "Yoga", "Drama", "Baking")
    lines = "".join(
        f"S{n},{words[n % 8]} {words[n // 8 % 8]} circle {n},group,access_community_resources,"
        f"{postcodes[n % len(postcodes)]},,\n"
        for n in range(rows)
    )
    return write_text(tmp_path / "spread.csv", AUDIT.split("\n")[0] + "\n" + lines)


def test_cleaning_workers_import_exactly_what_one_process_imports(
    db, trafford_template, tmp_path, monkeypatch
):
    # More rows than store.bulk.BULK_ROWS, so the indexes are dropped and built again.
    monkeypatch.setattr(bulk_writes, "BULK_ROWS", 500)
    audit = _spread(tmp_path, 1200)
    # The same database as `db` (a copy of the same template, unchanged so far).
    alone_path = engines.copy_database(trafford_template, engines.new_target(tmp_path, "alone"))
    alone = connect(alone_path)
    one = apply(alone, audit, tmp_path, workers=0)
    two = apply(db, audit, tmp_path, workers=1, parallel_min_bytes=0)
    assert json.dumps(two.to_json()) == json.dumps(one.to_json())
    assert _database_without_times(db) == _database_without_times(alone)
    if not engines.on_postgresql():
        assert db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    alone.close()


def test_when_a_write_fails_part_way_the_import_says_so_and_changes_nothing(db, db_path, tmp_path):
    # A rule in the database refuses one asset part-way through the file.
    if engines.on_postgresql():
        import psycopg

        db.conn.execute(
            "CREATE FUNCTION refuse_club_900() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'refused by a rule of this database'; END $$"
        )
        db.conn.execute(
            "CREATE TRIGGER refuse_club_900 BEFORE INSERT ON assets FOR EACH ROW "
            "WHEN (new.name = 'Club number 900') EXECUTE FUNCTION refuse_club_900()"
        )
        refused = psycopg.errors.RaiseException
    else:
        db.conn.execute(
            "CREATE TRIGGER refuse_club_900 BEFORE INSERT ON assets "
            "WHEN new.name = 'Club number 900' "
            "BEGIN SELECT RAISE(ABORT, 'refused by a rule of this database'); END"
        )
        refused = sqlite3.IntegrityError
    audit = _many(tmp_path)
    before = fingerprint(db_path)
    with pytest.raises(refused, match="refused by a rule of this database"):
        apply(db, audit, tmp_path, workers=1, parallel_min_bytes=0)
    assert fingerprint(db_path) == before
    # The archived copy went too (on PostgreSQL new assets are added before it is made).
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())


def _locked_out(db_path) -> bool:
    """Whether another writer would have to wait now (it does not wait: timeout 0). On
    PostgreSQL, whether the writers' lock (BEGIN IMMEDIATE's advisory lock) is held."""
    if engines.on_postgresql():
        import psycopg

        from assetmap.store.postgres import WRITE_LOCK

        with psycopg.connect(str(db_path)) as other:
            taken = other.execute("SELECT pg_try_advisory_xact_lock(%s)", [WRITE_LOCK])
            return not taken.fetchone()[0]
    other = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        other.close()


def test_other_writers_are_not_locked_out_while_an_import_is_checked(db, db_path, tmp_path):
    audit = _many(tmp_path)
    locked = []
    edited = []

    def meanwhile(rows_so_far: int) -> None:
        locked.append(_locked_out(db_path))
        if not edited:  # a coordinator edits an asset the file does not mention
            other = connect(db_path)
            library = asset_named(other, "Altrincham Library")
            asset_store.save_asset(
                other, {**library, "description": "Edited meanwhile."}, who="coordinator"
            )
            other.close()
            edited.append(library["id"])

    report = imports.apply(db, audit, who="tests", archive_dir=tmp_path / "a", progress=meanwhile)
    assert locked and not any(locked)
    assert report.new == 1203 and report.run_id
    assert asset_store.get_asset(db, edited[0])["description"] == "Edited meanwhile."


def test_an_asset_changed_while_the_import_is_checked_is_checked_again(db, audit, tmp_path):
    apply(db, audit, tmp_path)
    striders = asset_named(db, "Sale Striders")
    newer = write_text(
        tmp_path / "trafford-audit.csv", AUDIT.replace("0161 912 1000", "0161 912 1999")
    )
    attempts = []

    def meanwhile(rows_so_far: int) -> None:
        attempts.append(rows_so_far)
        if len(attempts) == 1:  # while the first check runs, a coordinator edits the asset
            other = connect(db.target)
            asset_store.save_asset(
                other, {**striders, "description": "Edited meanwhile."}, who="coordinator"
            )
            other.close()

    report = imports.apply(db, newer, who="tests", archive_dir=tmp_path / "a", progress=meanwhile)
    assert len(attempts) == 2  # checked once more, against the coordinator's version
    assert report.changed == 1
    now = asset_store.get_asset(db, striders["id"])
    assert now["description"] == "Edited meanwhile." and now["phone"] == "0161 912 1999"
    last = asset_store.history(db, striders["id"])[0]
    assert last["previous"]["description"] == "Edited meanwhile."  # nothing lost


def test_an_import_whose_assets_keep_changing_is_refused_and_writes_nothing(
    db, db_path, audit, tmp_path
):
    apply(db, audit, tmp_path)
    striders = asset_named(db, "Sale Striders")
    newer = write_text(
        tmp_path / "trafford-audit.csv", AUDIT.replace("0161 912 1000", "0161 912 1999")
    )
    edits = []

    def meanwhile(rows_so_far: int) -> None:
        other = connect(db_path)
        edits.append(f"Edit {len(edits)}")
        asset_store.save_asset(other, {**striders, "description": edits[-1]}, who="coordinator")
        other.close()

    runs_before = len(store.list_runs(db))
    with pytest.raises(ImportFileError, match="changed the same assets each time"):
        imports.apply(db, newer, who="tests", archive_dir=tmp_path / "a", progress=meanwhile)
    assert len(edits) == pipeline_module.CHECK_ATTEMPTS
    assert len(store.list_runs(db)) == runs_before
    assert asset_store.get_asset(db, striders["id"])["phone"] == "0161 912 1000"


def test_an_archived_copy_left_by_a_killed_import_is_removed_by_the_next(db, audit, tmp_path):
    first = apply(db, audit, tmp_path)
    kept = tmp_path / "a" / store.get_run(db, first.run_id)["archived_as"]
    orphan = tmp_path / "a" / "0123456789abcdef-killed.csv"
    orphan.write_text("left behind\n")
    partial = tmp_path / "a" / "fedcba9876543210-killed.csv.partial"
    partial.write_text("half\n")
    apply(db, write_text(tmp_path / "other.csv", AUDIT.replace("A1", "Z1")), tmp_path)
    assert kept.exists()
    assert not orphan.exists() and not partial.exists()


WORKERS_THEN_DIE = """
import multiprocessing, os, signal, sys, time
from pathlib import Path
from assetmap.imports import parallel
from assetmap.imports.cleaning import RowCleaner
from assetmap.imports.columns import plan_columns
from assetmap.imports.mapping import Mapping
from assetmap.imports.readers import SourceRow
from assetmap.imports.undo import UndoRefused, undo_run

def rows():
    for n in range(600):  # two chunks and more: a worker started for each
        yield SourceRow(n + 2, [f"Club {n}", "group", "access_community_resources", "M33 7ZF"])
    print(" ".join(str(p.pid) for p in multiprocessing.active_children()), flush=True)
    time.sleep(60)  # the workers wait for more rows

headers = ["name", "kind", "strand", "postcode"]
cleaner = RowCleaner(plan_columns(headers, Mapping()), Mapping(), source="t", unit="row",
                     bounds=None, geocoder=None)
next(parallel.prepared_in_workers(rows(), cleaner, sys.argv[1], 2), None)
"""


def test_worker_processes_end_when_the_importing_process_is_killed(db_path):
    started = subprocess.Popen(
        [sys.executable, "-c", WORKERS_THEN_DIE, str(db_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = started.stdout.readline()
        workers = [int(pid) for pid in line.split()]
        assert workers, "no worker processes were started"
        # A worker opens the database only after it starts watching its parent, so once each
        # has it open, each is fully started: starting (importing Python under load) can take
        # many seconds, and is not what is tested; ending after the parent is killed is.
        _wait_for(lambda: all(_has_open(pid, db_path) for pid in workers), 120)
        os.kill(started.pid, signal.SIGKILL)
        started.wait(10)
        _wait_for(lambda: not any(_alive(pid) for pid in workers), 30)
        assert not any(_alive(pid) for pid in workers), "a worker outlived the import"
    finally:
        started.kill()
        started.stdout.close()


def _wait_for(condition, seconds: float) -> None:
    """Until `condition()` holds, or `seconds` have passed (the caller then checks it)."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def _has_open(pid: int, target) -> bool:
    """Whether the process has the database open (or has ended, when waiting is pointless):
    the file on SQLite; on PostgreSQL a TCP connection to the server's port."""
    if not _alive(pid):
        return True
    folder = f"/proc/{pid}/fd"
    try:
        links = [os.readlink(f"{folder}/{fd}") for fd in os.listdir(folder)]
    except (FileNotFoundError, ProcessLookupError):
        return True
    if not str(target).startswith("postgresql:"):
        return os.path.realpath(target) in links
    port = urlsplit(str(target)).port or 5432
    sockets = {link[len("socket:[") : -1] for link in links if link.startswith("socket:[")}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()  # remote address is "HEX_IP:HEX_PORT", the inode 10th
                if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[9] in sockets:
                    return True
    return False


def _alive(pid: int) -> bool:
    """Whether the process runs (a zombie, waiting for its parent to collect it, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_a_mapping_file_names_columns_sets_defaults_and_empty_markers(db, tmp_path):
    audit = write_text(
        tmp_path / "odd.csv",
        "Group called,Where,Filled in by\nSale Scrabble,M33 7ZF,Jo\nSale Sketchers,TBC,Sam\n",
    )
    mapping = parse_mapping(
        {
            "source": "scrabble-audit",
            "columns": {"Group called": "name", "Where": "postcode", "Filled in by": "ignore"},
            "defaults": {"kind": "group", "strand": "access_community_resources"},
            "empty": {"also": ["TBC"]},
        }
    )
    report = imports.preview(db, audit, ImportOptions(mapping=mapping))
    assert report.source == "scrabble-audit"
    assert [str(p) for p in report.problems] == [
        "row 3, column B (Where): has no position; give lat and lon, or a postcode to place it from"
    ]
    assert [c["feeds"] for c in report.columns] == ["name", "postcode", "ignored"]


def test_a_row_rejected_while_cleaning_still_holds_its_ref_against_later_rows(db, tmp_path):
    # Otherwise row 4 would take Ref D2, and row 3, fixed and imported, would rename it.
    audit = write_text(
        tmp_path / "refs.csv",
        "Ref,Group name,Type of asset,Strand,Post Code,Email\n"
        "D1,Sale Chess,group,access_community_resources,M33 7ZF,\n"
        "D2,Timperley Bowling Club,not a kind,access_community_resources,WA15 6LQ,\n"
        "D2,Timperley Cricket Club,group,access_community_resources,WA15 6LQ,\n",
    )
    report = imports.preview(db, audit)
    assert report.summary() == "1 new, 0 changed, 0 unchanged, 2 rejected, 0 possible duplicates"
    assert [(p.row, p.message) for p in report.problems if p.row == 4] == [
        (
            4,
            "has the same Ref as row 3 but different details; give each asset its own Ref, or "
            "delete the row that is out of date",
        )
    ]
    # The same when the first is rejected later, at matching: its postcode places nothing.
    write_text(
        audit,
        audit.read_text().replace(
            "not a kind,access_community_resources,WA15 6LQ",
            "group,access_community_resources,M4 6AA",
        ),
    )
    report = imports.preview(db, audit)
    assert report.summary() == "1 new, 0 changed, 0 unchanged, 2 rejected, 0 possible duplicates"
    assert [p.message for p in report.problems if p.row == 4] == [
        "has the same Ref as row 3 but different details; give each asset its own Ref, or "
        "delete the row that is out of date"
    ]


def test_defaults_and_empty_ref_cells_leave_an_asset_already_listed_as_it_was(db, tmp_path):
    first = write_text(
        tmp_path / "first.csv",
        "Ref,Group name,Type of asset,Strand,Post Code\n"
        "E1,Sale Embroiderers,group,strengthening_communities,M33 7ZF\n",
    )
    imports.apply(db, first, ImportOptions(source="embroidery"), who="tests")
    again = write_text(
        tmp_path / "again.csv",
        "Ref,Group name,Type of asset,Strand,Post Code,Phone\n"
        "E1,Sale Embroiderers,group,,M33 7ZF,0161 912 1000\n",
    )
    mapping = parse_mapping({"defaults": {"strand": "access_community_resources"}})
    options = ImportOptions(source="embroidery", mapping=mapping)
    assert imports.apply(db, again, options, who="tests").changed == 1
    embroiderers = asset_named(db, "Sale Embroiderers")
    assert embroiderers["strand"] == "strengthening_communities"  # not the default
    assert embroiderers["phone"] == "0161 912 1000"
    no_ref = write_text(
        tmp_path / "no_ref.csv",
        "Ref,Group name,Type of asset,Strand,Post Code,Phone\n"
        ",Sale Embroiderers,group,strengthening_communities,M33 7ZF,0161 912 2000\n",
    )
    assert imports.apply(db, no_ref, options, who="tests").changed == 1
    embroiderers = asset_named(db, "Sale Embroiderers")
    assert (embroiderers["source_id"], embroiderers["phone"]) == ("E1", "0161 912 2000")


@pytest.mark.parametrize("bounds", ["uk", None], ids=["UK bounds", "anywhere"])
def test_an_asset_listed_with_a_position_keeps_it_when_its_postcode_is_not_in_the_table(
    db, tmp_path, bounds
):
    first = write_text(
        tmp_path / "v1.csv",
        "Ref,Name,Kind,Strand,Postcode,Latitude,Longitude\n"
        "O1,42nd Street Drop-in,service,access_community_resources,M4 5AG,53.4834,-2.2295\n",
    )
    imports.apply(db, first, ImportOptions(source="drop-ins"), who="tests")
    second = write_text(
        tmp_path / "v2.csv",
        "Ref,Name,Kind,Strand,Postcode,Phone\n"
        "O1,42nd Street Drop-in,service,access_community_resources,M4 5AG,0161 228 7321\n"
        "O2,Ancoats Drop-in,service,access_community_resources,M4 6AA,\n",
    )
    options = ImportOptions(source="drop-ins")
    if bounds is None:
        options.bounds = None  # ASSETMAP_BOUNDS=anywhere
    report = imports.apply(db, second, options, who="tests")
    assert report.summary() == "0 new, 1 changed, 0 unchanged, 1 rejected, 0 possible duplicates"
    why = report.problems[0].message.split("; the asset already")[0]
    assert why.startswith("the asset has no lat and lon, and ")
    assert [(p.level, p.row, p.column, p.message) for p in report.problems] == [
        ("warning", 2, "Postcode", f"{why}; the asset already listed keeps the position it has. "
         "Check it on the map"),
        ("error", 3, "Postcode", why.replace("M4 5AG", "M4 6AA")),
    ]  # fmt: skip
    drop_in = asset_named(db, "42nd Street")
    assert (drop_in["lat"], drop_in["lon"], drop_in["phone"]) == (53.4834, -2.2295, "0161 228 7321")


@pytest.mark.parametrize(
    ("name", "summary"),
    [
        ("trafford_libraries.csv", "0 new, 0 changed, 13 unchanged, 0 rejected"),
        ("trafford_mental_health_services.csv", "0 new, 0 changed, 59 unchanged, 1 rejected"),
        # Its features have a position, so the mistyped postcode is left out with a warning and
        # the row kept; it is flagged as the asset listed at the same place.
        (
            "trafford_mental_health_services.geojson",
            "1 new, 0 changed, 59 unchanged, 0 rejected, 1 possible duplicate",
        ),
        ("trafford_childrens_centres.csv", "0 new, 0 changed, 2 unchanged, 0 rejected"),
    ],
)
def test_the_real_audits_the_demo_was_built_from_import_again_unchanged(
    demo_template, tmp_path, name, summary
):
    """Coordinates to 6 places, postcodes outside the table, categories we do not know: none
    of them changes an asset already listed. (The one rejection is a mistyped postcode in a
    file that has nothing else to place the asset by.)"""
    db = connect(engines.copy_database(demo_template, engines.new_target(tmp_path, "demo.db")))
    mapping = parse_mapping(
        {"defaults": {"kind": "service", "strand": "access_community_resources"}}
    )
    report = imports.preview(db, ROOT / "data" / "sources" / name, ImportOptions(mapping=mapping))
    db.close()
    assert report.summary().startswith(summary)


def test_days_and_times_in_words_become_sessions_that_search_can_find(db, tmp_path):
    audit = write_text(
        tmp_path / "times.csv",
        "Name,Kind,Strand,Postcode,When\n"
        "Sale Chess Club,group,access_community_resources,M33 7ZF,Tues & Thurs 10:00-12:00\n"
        "Sale Drop-in,service,access_community_resources,M33 7ZF,Mon-Fri 9.30-5\n"
        "Sale Lunch Club,group,access_community_resources,M33 7ZF,"
        '"Tues 11am - 2pm, Fri 11.30am - 1.30pm"\n'
        "Sale Quiz,group,access_community_resources,M33 7ZF,Tues 7-9pm and Thurs by arrangement\n",
    )
    report = imports.apply(db, audit, who="tests")
    assert (
        "3 rows gave days and times in words (“Tuesdays 10:00 till 12:00”); they were read as "
        "sessions, so that search finds them by day and time, and the words kept as notes. Check a "
        "few on their asset pages."
    ) in report.all_notes()
    chess = asset_named(db, "Sale Chess Club")
    assert chess["schedule"] == {
        "sessions": [
            {"day": "tuesday", "frequency": "weekly", "start": "10:00", "end": "12:00"},
            {"day": "thursday", "frequency": "weekly", "start": "10:00", "end": "12:00"},
        ],
        "notes": "Tues & Thurs 10:00-12:00",
    }
    # A range of days is a session on each day (it once gave none; issue 14).
    drop_in = asset_named(db, "Sale Drop-in")["schedule"]
    assert [s["day"] for s in drop_in["sessions"]] == [
        "monday", "tuesday", "wednesday", "thursday", "friday"
    ]  # fmt: skip
    assert {(s["start"], s["end"]) for s in drop_in["sessions"]} == {("09:30", "17:00")}
    # Each day has the times that follow it, not every time in the cell (issue 14).
    assert asset_named(db, "Sale Lunch Club")["schedule"]["sessions"] == [
        {"day": "tuesday", "frequency": "weekly", "start": "11:00", "end": "14:00"},
        {"day": "friday", "frequency": "weekly", "start": "11:30", "end": "13:30"},
    ]
    # A cell not read completely gives no session, keeps its words and says what was not read.
    assert asset_named(db, "Sale Quiz")["schedule"] == {
        "sessions": [],
        "notes": "Tues 7-9pm and Thurs by arrangement",
    }
    assert [(p.level, p.row, p.column, p.message) for p in report.problems] == [
        (
            "warning",
            5,
            "When",
            "could not read “by arrangement” as days and times, so no sessions were taken from "
            "this cell and search will not find it by day or time; the words are kept as the "
            "schedule's notes. Write each day with its times after it, such as \"Tue 11am-2pm, "
            'Fri 11.30am-1.30pm; 1st Saturday of the month 10-12", and import again',
        )
    ]


def test_a_ref_that_lost_or_gained_its_0s_in_a_spreadsheet_still_finds_its_asset(db, tmp_path):
    first = write_text(
        tmp_path / "v1.csv",
        "Ref,Name,Kind,Strand,Post Code,Phone\n"
        "007,Sale Spies Club,group,access_community_resources,M33 7ZF,\n"
        "12,Sale Twelve Club,group,access_community_resources,M33 7ZF,\n",
    )
    imports.apply(db, first, ImportOptions(source="clubs"), who="tests")
    # Opened and saved in Excel: 007 became 7; and someone typed 012 for 12.
    second = write_text(
        tmp_path / "v2.csv",
        "Ref,Name,Kind,Strand,Post Code,Phone\n"
        "7,Sale Spies Club,group,access_community_resources,M33 7ZF,0161 007 0007\n"
        "012,Sale Twelve Club,group,access_community_resources,M33 7ZF,0161 012 0012\n"
        "1.00E+05,Sale Big Club,group,access_community_resources,M33 7ZF,\n",
    )
    report = imports.apply(db, second, ImportOptions(source="clubs"), who="tests")
    assert report.summary() == "1 new, 2 changed, 0 unchanged, 0 rejected, 0 possible duplicates"
    assert [(p.row, p.message) for p in report.problems] == [
        (
            2,
            "no asset has the Ref 7, but Sale Spies Club has 007, the same number with 0s in "
            "front or without (spreadsheets drop them), so this row updates it. Format the "
            "column as text in the spreadsheet to keep the 0s",
        ),
        (
            3,
            "no asset has the Ref 012, but Sale Twelve Club has 12, the same number with 0s in "
            "front or without (spreadsheets drop them), so this row updates it. Format the "
            "column as text in the spreadsheet to keep the 0s",
        ),
        (
            4,
            "looks like a number the spreadsheet wrote in scientific notation (as Excel does "
            "with long numbers), so it may not be the reference that was typed. Format the "
            "column as text in the spreadsheet and type the references again",
        ),
    ]
    assert asset_named(db, "Sale Spies Club")["phone"] == "0161 007 0007"
    assert asset_named(db, "Sale Spies Club")["source_id"] == "7"


def test_a_short_row_whose_name_starts_like_a_total_keeps_its_own_errors(db, tmp_path):
    audit = write_text(
        tmp_path / "gyms.csv",
        "Name,Kind,Strand,Postcode\n"
        "Total Fitness,group,access_community_resources,\n"
        "Count House Cafe,cafe,access_community_resources,M33 7ZF\n"
        "Total,2,,\n",
    )
    report = imports.preview(db, audit)
    assert [(p.row, p.message) for p in report.problems] == [
        (2, "has no position; give lat and lon, or a postcode to place it from"),
        (3, "'cafe' is not a kind; use one of group, activity, service, place, volunteering"),
        (
            4,
            "looks like a totals or notes line under the table, not an asset; delete it from "
            "the table (or move it to another sheet) and import again",
        ),
    ]


def test_row_fingerprints_tell_apart_values_python_hashes_alike():
    from assetmap.imports.identity import _digest

    assert len({_digest([-1]), _digest([-2])}) == 2
    assert len({_digest([1]), _digest([1.0]), _digest([True]), _digest(["1"])}) == 4
    assert _digest(["Sale", None, 2.5]) == _digest(["Sale", None, 2.5])


CELLS = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.sampled_from(["NA", "=1+1", "'=x", "53,42", "-2.3", "M33 7ZF", "0", "\u00a0", "<p>x</p>"]),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CELLS, max_size=12))
def test_no_row_of_cells_whatever_it_holds_makes_cleaning_raise(cells):
    headers = [
        "Name", "Kind", "Strand", "Postcode", "Lat", "Lon", "Phone", "Email", "Website", "Cost",
        "Categories", "Age range",
    ]  # fmt: skip
    cleaner = RowCleaner(plan_columns(headers, Mapping()), Mapping(), source="fuzz")
    row = cleaner.clean(SourceRow(2, cells))
    assert row.blank or row.record is not None or row.problems


def test_geodata_reading_errors_never_escape_as_tracebacks(db, tmp_path):
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"SQLite format 3\x00" + os.urandom(2000))
    with pytest.raises(ImportFileError) as refused:
        imports.preview(db, junk)
    assert str(refused.value) == (
        "could not be read as a GeoPackage: it may be damaged. Export it again from the GIS"
    )


def _indexes(db) -> list[tuple]:
    return db.conn.execute(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
    ).fetchall()


@pytest.mark.sqlite_only("on SQLite a large import drops its indexes and builds them again")
def test_a_bulk_import_builds_the_indexes_again_exactly_as_they_were(db, tmp_path, monkeypatch):
    monkeypatch.setattr(bulk_writes, "BULK_ROWS", 10)  # what a large import does, on a small file
    rows = "".join(
        f"B{n},Bulk club {n},group,access_community_resources,M33 7ZF,,\n" for n in range(1200)
    )
    big = write_text(tmp_path / "bulk.csv", AUDIT.split("\n")[0] + "\n" + rows)
    before = _indexes(db)
    dropped = []
    real_drop = bulk_writes._drop_secondary_indexes
    monkeypatch.setattr(
        bulk_writes, "_drop_secondary_indexes", lambda *a: dropped.append(1) or real_drop(*a)
    )
    report = imports.apply(db, big, who="tests")
    assert report.new == 1200
    assert dropped == [1]
    assert _indexes(db) == before
    assert db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    found = db.conn.execute(
        "SELECT count(*) FROM assets INDEXED BY assets_postcode WHERE postcode = 'M33 7ZF'"
    ).fetchone()[0]
    assert found >= 1200


@pytest.mark.sqlite_only("SQLite's insert triggers, paused for an import, and its FTS5 index")
def test_an_import_indexes_its_assets_for_keyword_search_as_the_triggers_would(
    db, tmp_path, monkeypatch
):
    paused = []
    real_pause = bulk_writes._pause_insert_triggers
    monkeypatch.setattr(
        bulk_writes,
        "_pause_insert_triggers",
        lambda d: paused.append(real_pause(d)) or paused[-1],
    )
    triggers = db.conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
    ).fetchall()
    rows = "".join(
        f"K{n},Kayak club {n},group,access_community_resources,M33 7ZF,,\n" for n in range(300)
    )
    imports.apply(db, write_text(tmp_path / "k.csv", AUDIT.split("\n")[0] + "\n" + rows), who="t")
    assert sorted(paused[0].triggers) == ["assets_after_insert", "assets_nearby_fts_after_insert"]
    assert (
        db.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        ).fetchall()
        == triggers
    )
    expected = db.conn.execute(
        f"SELECT rid, {schema.nearby_key('assets')} FROM assets WHERE name LIKE 'Kayak club %'"
    ).fetchall()
    assert len(expected) == 300
    by_rid = db.conn.execute(
        "SELECT rowid FROM assets_fts WHERE assets_fts MATCH 'kayak' ORDER BY rowid"
    ).fetchall()
    assert [r[0] for r in by_rid] == sorted(rid for rid, _ in expected)
    by_place = db.conn.execute(
        "SELECT rowid FROM assets_nearby_fts WHERE assets_nearby_fts MATCH 'kayak' ORDER BY rowid"
    ).fetchall()
    assert [r[0] for r in by_place] == sorted(key for _, key in expected)
    in_box = db.conn.execute(
        "SELECT count(*) FROM assets_rtree WHERE rid IN "
        "(SELECT rid FROM assets WHERE name LIKE 'Kayak club %')"
    ).fetchone()[0]
    assert in_box == 300


SHETLAND = "Ref,Name,Kind,Strand,lat,lon\n"  # at 60.5°N a degree of longitude is 54.8 km


@pytest.mark.parametrize("batch_box_at_most", [2_000, 0], ids=["one query", "row by row"])
def test_likely_duplicates_are_found_within_100_m_in_the_far_north_too(
    db, tmp_path, monkeypatch, batch_box_at_most
):
    from assetmap.imports import identity

    monkeypatch.setattr(identity, "_BATCH_BOX_AT_MOST", batch_box_at_most)
    listed = "L1,Lerwick Walking Group,group,access_community_resources,60.5,-1.19879\n"
    imports.apply(db, write_text(tmp_path / "listed.csv", SHETLAND + listed), who="tests")
    rows = (
        "N1,Lerwick Walking Group,group,access_community_resources,60.5,-1.200601\n"  # 99 m W
        "N2,Scalloway Knitters,group,strengthening_communities,60.1,-1.27\n"
        "N3,Scalloway Knitters Circle,group,strengthening_communities,60.1,-1.268184\n"  # 101 m
        "N4,Bressay Singers,group,strengthening_communities,60.15,-1.1\n"
        "N5,Bressay Singers,group,strengthening_communities,60.15,-1.098192\n"  # 100.3 m E
        # 99.7 m apart, two grid cells apart (a cell is 0.0018° of longitude, 88 m here)
        "N6,Yell Quilters,group,strengthening_communities,60.5,-1.30141\n"
        "N7,Yell Quilters,group,strengthening_communities,60.5,-1.29959\n"
    )
    report = imports.preview(db, write_text(tmp_path / "new.csv", SHETLAND + rows))
    flagged = [p for p in report.problems if p.level == "duplicate"]
    assert [(p.row, "already listed" in p.message) for p in flagged] == [(2, True), (8, False)]
    assert "99 m away" in flagged[0].message
    assert "row 7 of this file, 100 m away" in flagged[1].message
