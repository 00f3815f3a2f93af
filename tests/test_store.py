"""The store: schema and migrations, indexes kept in step, history and undo, atomic writes."""

from __future__ import annotations

import pytest

from assetmap.record.fields import FIELD_NAMES
from assetmap.record.validation import validate_asset
from assetmap.store import assets as store
from assetmap.store import connect, initialise, schema
from assetmap.store.dialect import search_store
from tests.conftest import make_asset


def record(**overrides) -> dict:
    # An asset saved with coordinates says they were given (store.assets.with_position).
    result = validate_asset(make_asset(**{"position_source": "given", **overrides}))
    assert result.ok, result.errors
    return result.record


@pytest.fixture
def fresh_db(db_path):
    initialise(db_path)
    database = connect(db_path)
    yield database
    database.close()


def fts_ids(db, query):
    """The assets a keyword matches, as the engine's search index has them."""
    if db.engine == "postgresql":
        condition, params = search_store(db).words_condition((query,))
        rows = db.conn.execute(f"SELECT id FROM assets WHERE {condition} ORDER BY id", params)
        return [r[0] for r in rows]
    rows = db.conn.execute(
        "SELECT a.id FROM assets_fts JOIN assets a ON a.rid = assets_fts.rowid "
        "WHERE assets_fts MATCH ? ORDER BY a.id",
        [query],
    )
    return [r[0] for r in rows]


def rtree_ids(db, min_lon, min_lat, max_lon, max_lat):
    """The assets in a box, as the engine's spatial index has them."""
    if db.engine == "postgresql":
        rows = db.conn.execute(
            "SELECT id FROM assets WHERE lon BETWEEN ? AND ? AND lat BETWEEN ? AND ? ORDER BY id",
            [min_lon, max_lon, min_lat, max_lat],
        )
        return [r[0] for r in rows]
    rows = db.conn.execute(
        "SELECT a.id FROM assets_rtree r JOIN assets a ON a.rid = r.rid "
        "WHERE r.min_lon >= ? AND r.max_lon <= ? AND r.min_lat >= ? AND r.max_lat <= ? "
        "ORDER BY a.id",
        [min_lon, max_lon, min_lat, max_lat],
    )
    return [r[0] for r in rows]


def test_init_is_idempotent_and_reaches_the_current_version(db_path):
    assert initialise(db_path) != []
    assert initialise(db_path) == []
    database = connect(db_path)
    assert schema.current_version(database.conn) == schema.SCHEMA_VERSION
    if database.engine == "sqlite":
        assert database.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    database.close()


def test_every_field_has_a_column(fresh_db):
    columns = {c[0] for c in fresh_db.conn.execute("SELECT * FROM assets LIMIT 0").description}
    assert set(FIELD_NAMES) <= columns, set(FIELD_NAMES) - columns


def test_a_newer_database_is_refused(db_path):
    initialise(db_path)
    database = connect(db_path)
    schema._set_version(database.conn, schema.SCHEMA_VERSION + 1)
    with pytest.raises(RuntimeError, match="newer than this assetmap"):
        schema.migrate(database.conn)
    database.close()


@pytest.mark.sqlite_only(
    "SQLite's FTS5 index and its triggers (PostgreSQL's is a generated column)"
)
def test_full_text_index_follows_insert_update_and_delete(fresh_db):
    store.save_asset(fresh_db, record(), who="t")
    assert fts_ids(fresh_db, "walking") == ["sale-walking-group"]
    assert fts_ids(fresh_db, "walks") == ["sale-walking-group"]  # porter stemming
    store.save_asset(
        fresh_db,
        record(
            name="Sale Knitting Circle",
            description="Knit and natter",
            categories=["arts_creativity"],
        ),
        who="t",
    )
    assert fts_ids(fresh_db, "walking") == []
    assert fts_ids(fresh_db, "knitting") == ["sale-walking-group"]
    store.delete_asset(fresh_db, "sale-walking-group", who="t")
    assert fts_ids(fresh_db, "knitting") == []


@pytest.mark.sqlite_only("SQLite's R*Tree and its triggers (PostgreSQL has no R*Tree)")
def test_spatial_index_follows_moves_and_deletes(fresh_db):
    store.save_asset(fresh_db, record(), who="t")
    assert rtree_ids(fresh_db, -2.31, 53.42, -2.30, 53.43) == ["sale-walking-group"]
    store.save_asset(fresh_db, record(lat=53.3871, lon=-2.3522), who="t")
    assert rtree_ids(fresh_db, -2.31, 53.42, -2.30, 53.43) == []
    assert rtree_ids(fresh_db, -2.36, 53.38, -2.35, 53.39) == ["sale-walking-group"]
    store.delete_asset(fresh_db, "sale-walking-group", who="t")
    assert rtree_ids(fresh_db, -3, 53, -2, 54) == []


def test_saving_reports_new_changed_and_unchanged(fresh_db):
    assert store.save_asset(fresh_db, record(), who="t") == store.NEW
    assert store.save_asset(fresh_db, record(), who="t") == store.UNCHANGED
    assert store.save_asset(fresh_db, record(cost="paid"), who="t") == store.CHANGED
    assert len(store.history(fresh_db, "sale-walking-group")) == 2  # unchanged wrote nothing


def test_history_keeps_who_when_why_and_the_previous_version(fresh_db):
    store.save_asset(fresh_db, record(), who="coordinator@example.org", why="first entry")
    store.save_asset(fresh_db, record(cost="paid"), who="importer", why="audit 2026")
    latest, first = store.history(fresh_db, "sale-walking-group")
    assert first["action"] == "insert" and first["previous"] is None
    assert first["changed_by"] == "coordinator@example.org" and first["reason"] == "first entry"
    assert latest["action"] == "update" and latest["changed_by"] == "importer"
    assert latest["previous"]["cost"] == "free" and latest["record"]["cost"] == "paid"
    assert latest["changed_at"].endswith("Z")


def test_any_change_can_be_undone(fresh_db):
    store.save_asset(fresh_db, record(), who="t")
    store.save_asset(fresh_db, record(name="Renamed by mistake"), who="t")
    change = store.history(fresh_db, "sale-walking-group")[0]
    store.undo_change(fresh_db, change["version_id"], who="t")
    assert store.get_asset(fresh_db, "sale-walking-group")["name"] == "Sale Walking Group"

    store.delete_asset(fresh_db, "sale-walking-group", who="t", why="closed down?")
    deletion = store.history(fresh_db, "sale-walking-group")[0]
    assert deletion["action"] == "delete"
    store.undo_change(fresh_db, deletion["version_id"], who="t")
    assert store.get_asset(fresh_db, "sale-walking-group") == record()

    insertion = store.history(fresh_db, "sale-walking-group")[-1]
    assert store.undo_change(fresh_db, insertion["version_id"], who="t") == "deleted"
    assert store.get_asset(fresh_db, "sale-walking-group") is None


def test_restoring_an_unknown_change_says_so(fresh_db):
    with pytest.raises(LookupError, match="no change numbered 99"):
        store.undo_change(fresh_db, 99, who="t")


def test_a_failed_write_leaves_the_database_as_it_was(fresh_db):
    store.save_asset(fresh_db, record(), who="t")
    before = list(store.iter_assets(fresh_db))
    history_before = store.history(fresh_db, "sale-walking-group")
    broken = record(id="second")
    broken["name"] = None  # NOT NULL: the database refuses it, after the first was written
    with pytest.raises(Exception, match="NOT NULL|not-null"):
        store.save_assets(fresh_db, [record(cost="paid"), record(id="other"), broken], who="t")
    assert list(store.iter_assets(fresh_db)) == before
    assert store.history(fresh_db, "sale-walking-group") == history_before
    assert fts_ids(fresh_db, "walking") == ["sale-walking-group"]
    assert rtree_ids(fresh_db, -3, 53, -2, 54) == ["sale-walking-group"]


def test_a_dry_run_counts_but_changes_nothing(fresh_db):
    outcomes = store.save_assets(fresh_db, [record(), record(id="b")], who="t", dry_run=True)
    assert outcomes == [store.NEW, store.NEW]
    assert list(store.iter_assets(fresh_db)) == []


def test_records_round_trip_through_rows(fresh_db):
    original = record(
        service_area={
            "type": "Polygon",
            "coordinates": [[[-2.31, 53.42], [-2.30, 53.42], [-2.30, 53.43], [-2.31, 53.42]]],
        }
    )
    store.save_asset(fresh_db, original, who="t")
    assert store.get_asset(fresh_db, original["id"]) == original


def test_listing_filters_by_strand_kind_and_box_and_leaves_out_closed(fresh_db):
    store.save_assets(
        fresh_db,
        [
            record(),
            record(id="peer", strand="volunteer_peer_roles", approach="peer_support"),
            record(id="far", lat=53.3871, lon=-2.3522, kind="place"),
            record(id="gone", status="closed"),
        ],
        who="t",
    )

    def ids(f):
        return [r["id"] for r in store.list_assets(fresh_db, f, limit=10)[0]]

    assert sorted(ids(store.AssetFilter())) == ["far", "peer", "sale-walking-group"]
    assert ids(store.AssetFilter(strands=("volunteer_peer_roles",))) == ["peer"]
    assert ids(store.AssetFilter(kinds=("place",))) == ["far"]
    assert "far" not in ids(store.AssetFilter(bbox=(-2.31, 53.42, -2.30, 53.43)))
    assert "gone" in ids(store.AssetFilter(include_closed=True))
    assert store.count_by_strand(fresh_db) == {
        "access_community_resources": 2,
        "volunteer_peer_roles": 1,
    }


def test_restoring_a_version_brings_back_the_asset_as_it_was_then(fresh_db):
    store.save_asset(fresh_db, record(), who="t")
    store.save_asset(fresh_db, record(cost="paid"), who="t")
    store.save_asset(fresh_db, record(cost="low_cost", name="Renamed"), who="t")
    first = store.history(fresh_db, "sale-walking-group")[-1]
    assert store.restore_version(fresh_db, first["version_id"], who="t") == store.CHANGED
    assert store.get_asset(fresh_db, "sale-walking-group") == record()
    assert len(store.history(fresh_db, "sale-walking-group")) == 4


def test_archiving_hides_an_asset_from_listings_but_keeps_it(fresh_db):
    store.save_asset(fresh_db, record(), who="t")
    store.set_archived(fresh_db, "sale-walking-group", True, who="t", why="no longer meets")
    assert store.list_assets(fresh_db, store.AssetFilter(), limit=10) == ([], 0)
    assert store.get_asset(fresh_db, "sale-walking-group")["archived"] is True
    assert store.history(fresh_db, "sale-walking-group")[0]["reason"] == "no longer meets"
    listing = store.AssetFilter(include_archived=True)
    assert store.list_assets(fresh_db, listing, limit=10)[1] == 1
