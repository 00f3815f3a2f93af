"""The demo data set, data/assets.geojson: real Trafford open data plus a few labelled examples.

A link worker demoing the app should see real, attributed records on the map, every one of
which the app itself would accept, and never mistake a made-up example for a real group.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from assetmap.record.fields import FIELD_NAMES
from assetmap.record.taxonomy import STRANDS
from assetmap.record.validation import validate_asset

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "data"
ASSETS = DATA_DIR / "assets.geojson"
SCRIPT = ROOT / "scripts" / "build_demo_data.py"
OPENDATA = ROOT.parent / "shared" / "opendata"


@cache
def collection() -> dict:
    with ASSETS.open(encoding="utf-8") as f:
        return json.load(f)


def features() -> list[dict]:
    return collection()["features"]


def as_record(feature: dict) -> dict:
    """The flat asset record a feature stands for: its properties plus the point."""
    lon, lat = feature["geometry"]["coordinates"]
    return {**feature["properties"], "lon": lon, "lat": lat}


def test_demo_data_has_at_least_200_assets_with_unique_ids():
    ids = [f["id"] for f in features()]
    assert len(ids) >= 200
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert all(f["properties"]["id"] == f["id"] for f in features())


def test_every_demo_asset_is_a_point_feature_with_every_field():
    expected = [name for name in FIELD_NAMES if name not in ("lat", "lon")]
    for feature in features():
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] == "Point"
        assert list(feature["properties"]) == expected, feature["id"]
        for coordinate in feature["geometry"]["coordinates"]:
            assert round(coordinate, 6) == coordinate, feature["id"]


def test_every_demo_asset_passes_validation():
    failures = {}
    for feature in features():
        result = validate_asset(as_record(feature))
        if not result.ok:
            failures[feature["id"]] = result.errors
    assert failures == {}


def test_demo_data_covers_all_four_strands():
    present = {f["properties"]["strand"] for f in features()}
    assert present == {s.slug for s in STRANDS}


def test_illustrative_records_are_labelled_and_real_ones_are_not():
    illustrative = 0
    for feature in features():
        p = feature["properties"]
        labelled = feature["id"].startswith("illustrative-") or (p["description"] or "").startswith(
            "Illustrative example:"
        )
        if p["source"] == "illustrative":
            illustrative += 1
            assert feature["id"].startswith("illustrative-"), feature["id"]
            assert p["description"].startswith("Illustrative example:"), feature["id"]
        else:
            assert not labelled, feature["id"]
    assert 1 <= illustrative <= 15


def test_every_demo_asset_says_where_it_came_from_and_when_it_was_checked():
    for feature in features():
        p = feature["properties"]
        assert p["source"], feature["id"]
        assert p["source_id"], feature["id"]
        assert p["last_verified"], feature["id"]
        assert p["verified_by"], feature["id"]


def test_demo_data_carries_its_attribution_and_notice():
    assert "Open Government Licence" in collection()["attribution"]
    notice = (DATA_DIR / "NOTICE.md").read_text(encoding="utf-8")
    assert "Open Government Licence v3.0" in notice
    assert "Office for National Statistics" in notice
    assert "illustrative" in notice
    copied = sorted((DATA_DIR / "sources").iterdir()) + sorted((DATA_DIR / "postcodes").iterdir())
    assert copied
    for path in copied:
        assert path.name in notice


@pytest.mark.skipif(not OPENDATA.is_dir(), reason=f"the shared open data is not at {OPENDATA}")
def test_build_script_reproduces_the_committed_data_byte_for_byte(tmp_path):
    out = tmp_path / "data" / "assets.geojson"
    subprocess.run(
        [sys.executable, str(SCRIPT), "--opendata", str(OPENDATA), "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    assert out.read_bytes() == ASSETS.read_bytes()
    built = sorted(p.relative_to(out.parent) for p in out.parent.rglob("*") if p.is_file())
    for relative in built:
        assert (out.parent / relative).read_bytes() == (DATA_DIR / relative).read_bytes(), relative
