"""Asset ids: one module makes them, the same record always gets the same id, accents spelled."""

from __future__ import annotations

from assetmap import imports
from assetmap.record import ids as asset_ids
from assetmap.record.loading import load_file
from assetmap.store import assets as store
from assetmap.store import connect
from tests.test_imports_support import write_text


def test_a_name_with_accents_gives_an_id_with_the_plain_letters():
    assert asset_ids.slugify("Café Ñandú & Crèche") == "cafe-nandu-creche"
    assert asset_ids.slugify("Straße Ørsted Łódź") == "strasse-orsted-lodz"
    assert asset_ids.slugify("!!!") == "asset"
    record = {"name": "Café Connect", "postcode": "M33 7ZF", "source": None, "source_id": None}
    assert asset_ids.asset_id(record).startswith("cafe-connect-")
    assert asset_ids.asset_id(record) == asset_ids.asset_id(dict(record))  # stable


def test_the_id_made_before_accents_were_spelled_out_is_known():
    record = {"name": "Café Connect", "postcode": "M33 7ZF", "source": None, "source_id": None}
    made = asset_ids.asset_id(record)
    assert asset_ids.earlier_ids(made, record) == ["caf-connect-" + made.rsplit("-", 1)[1]]
    plain = {**record, "name": "Sale Striders"}
    assert asset_ids.earlier_ids(asset_ids.asset_id(plain), plain) == []


def test_a_taken_id_gets_a_number():
    taken = {"sale-striders-1", "sale-striders-1-2"}
    assert asset_ids.unused_id("sale-striders-1", taken.__contains__) == "sale-striders-1-3"
    assert asset_ids.unused_id("new", taken.__contains__) == "new"


GEOJSON = """{"type": "FeatureCollection", "features": [{"type": "Feature",
  "geometry": {"type": "Point", "coordinates": [-2.3190, 53.4240]},
  "properties": {"name": "Café Connect", "kind": "group",
    "strand": "access_community_resources", "postcode": "M33 7ZF"}}]}"""


def test_loading_a_file_again_finds_an_asset_listed_under_its_earlier_id(app, db_path, tmp_path):
    db = connect(db_path)
    path = write_text(tmp_path / "cafe.geojson", GEOJSON)
    first = load_file(db, path, who="t")
    assert first.new == 1
    made = db.conn.execute("SELECT id FROM assets WHERE name = 'Café Connect'").fetchone()[0]
    assert made.startswith("cafe-connect-")
    # As an earlier version of assetmap listed it:
    db.conn.execute("UPDATE assets SET id = ? WHERE id = ?", ["caf-connect-" + made[-8:], made])
    again = load_file(db, path, who="t")
    assert (again.new, again.unchanged) == (0, 1)
    db.close()


def test_an_import_without_postcodes_finds_an_asset_listed_under_its_earlier_id(
    app, db_path, tmp_path
):
    db = connect(db_path)
    audit = write_text(
        tmp_path / "cafes.csv",
        "Name,Kind,Strand,Latitude,Longitude\n"
        "Café Connect,group,access_community_resources,53.4240,-2.3190\n",
    )
    first = imports.apply(db, audit, who="t")
    made = db.conn.execute("SELECT id FROM assets WHERE name = 'Café Connect'").fetchone()[0]
    assert first.new == 1 and made.startswith("cafe-connect-")
    earlier = "caf-connect-" + made[-8:]
    db.conn.execute("UPDATE assets SET id = ? WHERE id = ?", [earlier, made])
    again = imports.apply(db, audit, who="t")
    assert (again.new, again.unchanged) == (0, 1)
    assert store.get_asset(db, earlier) is not None
    db.close()
