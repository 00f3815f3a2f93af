"""Undoing import runs in any order: a coordinator can undo an older run after a newer one, or
the newer after the older, forced or not, and no undo ever brings back what another undo took
away. Every refusal says what actually happened to each asset."""

from __future__ import annotations

import pytest

from assetmap import imports
from assetmap.imports import ImportOptions
from assetmap.imports.undo import UndoRefused, changed_since, undo_run
from assetmap.store import assets as asset_store
from assetmap.store import connect
from assetmap.store import imports as store
from tests.test_imports_support import asset_named, fingerprint, write_text

AUDIT = (
    "Ref,Group name,Type of asset,Strand,Post Code,Phone\n"
    "A1,Sale Striders,group,access_community_resources,M33 7ZF,0161 912 1000\n"
    "A2,Urmston Knit and Natter,group,strengthening_communities,M41 0TJ,0161 912 2000\n"
    "A3,Stretford Men's Shed,place,access_community_resources,M32 9BD,\n"
)
WHO = "coordinator@example.org"


@pytest.fixture
def db_path(trafford_db_path):
    return trafford_db_path


@pytest.fixture
def db(db_path):
    database = connect(db_path)
    yield database
    database.close()


def apply(db, tmp_path, name: str, text: str):
    path = write_text(tmp_path / name, text)
    return imports.apply(
        db, path, ImportOptions(source="trafford-audit"), who=WHO, archive_dir=tmp_path / "a"
    )


@pytest.fixture
def added_then_changed(db, tmp_path):
    """Run A added three assets; run B, a newer copy of the audit, changed one of them."""
    a = apply(db, tmp_path, "audit.csv", AUDIT)
    b = apply(db, tmp_path, "audit-v2.csv", AUDIT.replace("0161 912 1000", "0161 912 9999"))
    assert (a.new, b.changed) == (3, 1)
    return a.run_id, b.run_id, asset_named(db, "Striders")["id"]


def _when(db, asset_id: str, reason_starts: str) -> str:
    """When the asset's history says a change with this reason was made, as messages say it."""
    stamp = next(
        c["changed_at"]
        for c in asset_store.history(db, asset_id)
        if (c["reason"] or "").startswith(reason_starts)
    )
    return f"{stamp[:10]} {stamp[11:16]} UTC"


def _count(db) -> int:
    return db.conn.execute("SELECT count(*) FROM assets").fetchone()[0]


def test_newer_run_then_older_run_needs_no_forcing(db, added_then_changed):
    a, b, striders = added_then_changed
    before = _count(db)
    assert undo_run(db, b, who=WHO).summary() == "0 assets removed, 1 restored"
    assert asset_store.get_asset(db, striders)["phone"] == "0161 912 1000"
    assert undo_run(db, a, who=WHO).summary() == "3 assets removed, 0 restored"
    assert asset_store.get_asset(db, striders) is None
    assert _count(db) == before - 3


def test_older_run_first_is_refused_naming_the_run_that_changed_the_asset(
    db, db_path, added_then_changed
):
    a, b, striders = added_then_changed
    before = fingerprint(db_path)
    with pytest.raises(UndoRefused) as refused:
        undo_run(db, a, who=WHO)
    when = _when(db, striders, f"import run {b}:")
    assert str(refused.value) == (
        f"1 of the assets this import added or changed has been changed since ({striders} "
        f"changed by import run {b} (audit-v2.csv) on {when} ({WHO})). Undoing the import "
        "would undo those changes too; check them, then undo anyway if that is what you want"
    )
    assert [c["what"] for c in changed_since(db, a)] == [
        f"changed by import run {b} (audit-v2.csv) on {when} ({WHO})"
    ]
    assert fingerprint(db_path) == before


def test_older_run_forced_then_newer_run_leaves_the_deleted_asset_deleted(db, added_then_changed):
    """The fault in issue 14: the newer run's undo brought back what the older one's removed."""
    a, b, striders = added_then_changed
    before = _count(db)
    forced = undo_run(db, a, who=WHO, force=True)
    assert forced.summary() == "3 assets removed, 0 restored, 1 with later changes undone too"
    # Nothing needs forcing now: the only asset run B touched is gone, and its undo says so.
    assert changed_since(db, b) == []
    history_before = len(asset_store.history(db, striders))
    result = undo_run(db, b, who=WHO)
    assert result.summary() == (
        f"0 assets removed, 0 restored, 1 left deleted (undoing run {a} had deleted them)"
    )
    assert asset_store.get_asset(db, striders) is None
    assert asset_named(db, "Striders") is None
    assert _count(db) == before - 3
    assert len(asset_store.history(db, striders)) == history_before
    assert store.get_run(db, b)["undone_by"] == WHO


def test_older_run_forced_then_newer_run_forced_changes_nothing_either(db, added_then_changed):
    a, b, striders = added_then_changed
    undo_run(db, a, who=WHO, force=True)
    result = undo_run(db, b, who=WHO, force=True)
    assert result.summary() == (
        f"0 assets removed, 0 restored, 1 left deleted (undoing run {a} had deleted them)"
    )
    assert asset_store.get_asset(db, striders) is None


def test_older_change_undone_first_is_not_put_back_by_undoing_the_newer(db, tmp_path):
    """Two runs changed an asset that was there before both; undoing the older (forced), then
    the newer, leaves the asset as it was before either, not as the older run left it."""
    original = asset_store.get_asset(db, "stretford-peer-support")
    by_name = (
        "Name,Kind,Strand,Postcode,Cost\n"
        "Stretford Peer Support,group,volunteer_peer_roles,M32 9BD,{}\n"
    )
    first = apply(db, tmp_path, "costs.csv", by_name.format("paid"))
    second = apply(db, tmp_path, "costs-v2.csv", by_name.format("low_cost"))
    assert (first.changed, second.changed) == (1, 1)
    a, b = first.run_id, second.run_id
    with pytest.raises(UndoRefused) as refused:
        undo_run(db, a, who=WHO)
    assert f"changed by import run {b} (costs-v2.csv) on " in str(refused.value)
    assert undo_run(db, a, who=WHO, force=True).summary() == (
        "0 assets removed, 1 restored, 1 with later changes undone too"
    )
    assert asset_store.get_asset(db, "stretford-peer-support") == original
    result = undo_run(db, b, who=WHO)
    assert result.summary() == (
        f"0 assets removed, 0 restored, 1 left as undoing run {a} had put them back"
    )
    assert asset_store.get_asset(db, "stretford-peer-support") == original


def test_a_refusal_says_who_edited_and_who_deleted_by_hand(db, db_path, added_then_changed):
    a, b, striders = added_then_changed
    knit = asset_named(db, "Knit")
    asset_store.save_asset(db, {**knit, "cost": "free"}, who="jo@example.org", why="checked")
    shed = asset_named(db, "Men's Shed")
    asset_store.delete_asset(db, shed["id"], who="sam@example.org")
    before = fingerprint(db_path)
    with pytest.raises(UndoRefused) as refused:
        undo_run(db, a, who=WHO)
    message = str(refused.value)
    assert message.startswith("3 of the assets this import added or changed have been changed")
    assert f"{knit['id']} edited by jo@example.org on {_when(db, knit['id'], 'checked')}" in (
        message
    )
    deleted = [c for c in asset_store.history(db, shed["id"]) if c["action"] == "delete"][0]
    stamp = deleted["changed_at"]
    assert f"{shed['id']} deleted by sam@example.org on {stamp[:10]} {stamp[11:16]} UTC" in (
        message
    )
    assert fingerprint(db_path) == before
    # Undone anyway, the newer run is still refused for nothing: everything it did is gone.
    undo_run(db, a, who=WHO, force=True)
    assert undo_run(db, b, who=WHO).summary().startswith("0 assets removed, 0 restored")
    assert asset_store.get_asset(db, striders) is None
