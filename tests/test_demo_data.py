"""The demo data set, data/assets.geojson: real Trafford open data plus a few labelled examples.

A link worker demoing the app should see real, attributed records on the map, every one of
which the app itself would accept, and never mistake a made-up example for a real group.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
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


def test_parks_reserves_and_allotments_keep_their_outlines_as_service_areas():
    """The polygons of the sources are kept, simplified, and the point a site is placed at
    lies on its outline or inside it (a park's is an entrance)."""
    from shapely.geometry import Point, shape

    with_areas = Counter()
    for feature in features():
        area = feature["properties"]["service_area"]
        if area is None:
            continue
        with_areas[feature["id"].split("-")[0]] += 1
        outline = shape(area)
        assert outline.is_valid, feature["id"]
        point = Point(feature["geometry"]["coordinates"])
        assert outline.distance(point) < 0.0004, feature["id"]  # about 25 m at most
    assert with_areas == {"park": 28, "nature": 2, "allotment": 34}
    assert ASSETS.stat().st_size < 1_000_000  # the file is kept in git


def test_the_notice_gives_each_publishers_attribution():
    notice = (DATA_DIR / "NOTICE.md").read_text(encoding="utf-8")
    for words in (
        "Contains Data © Sport England",
        "© OpenStreetMap contributors (ODbL)",
        "© Natural England copyright",
        "Contains Ordnance Survey data © Crown copyright and database right",
        "Contains OS data © Crown copyright and database right 2018",
        "Department for Education",
    ):
        assert words in notice, words


def test_sport_england_sites_say_how_each_facility_may_be_used():
    sites = [f["properties"] for f in features() if f["id"].startswith("sportsite-")]
    assert len(sites) > 100
    for site in sites:
        assert re.search(
            r"free to use|pay and play|for members|used by sports clubs", site["description"]
        ), site["id"]
        assert "private use" not in site["description"], site["id"]
        if site["cost"] is None and site["cost_details"]:
            assert ";" in site["cost_details"], site["id"]


def test_make_run_serves_on_the_port_and_host_given(tmp_path):
    """`make run PORT=8080`, or PORT and HOST in the environment, reach both the accounts
    printout and the server (a dry run: nothing is built or served)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")

    def dry_run(*args: str, **env: str) -> str:
        # PYTHON given, so that make does not look for one (slow on a busy machine).
        environment = {k: v for k, v in os.environ.items() if k not in ("PORT", "HOST")}
        done = subprocess.run(
            ["make", "-n", "run", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**environment, "PYTHON": sys.executable, **env},
            check=True,
        )
        wanted = ("assetmap users demo", "assetmap serve")
        lines = [line.removeprefix(".venv/bin/") for line in done.stdout.splitlines()]
        return "\n".join(line for line in lines if line.startswith(wanted))

    assert dry_run() == (
        'assetmap users demo instance/demo-accounts.txt --host "127.0.0.1" --port "5000"\n'
        'assetmap serve --host "127.0.0.1" --port "5000"'
    )
    assert dry_run("PORT=8080", "HOST=0.0.0.0").count('--host "0.0.0.0" --port "8080"') == 2
    assert dry_run(PORT="8123").count('--host "127.0.0.1" --port "8123"') == 2


@pytest.mark.parametrize(
    ("options", "address"),
    [
        ([], "http://127.0.0.1:5000/"),
        (["--port", "8080"], "http://127.0.0.1:8080/"),
        (["--host", "0.0.0.0", "--port", "8080"], "http://localhost:8080/"),
        (["--host", "::1"], "http://[::1]:5000/"),
    ],
)
def test_demo_accounts_are_printed_with_the_address_to_open(runner, tmp_path, options, address):
    printed = runner.invoke(args=["users", "demo", str(tmp_path / "accounts.txt"), *options])
    assert printed.exit_code == 0, printed.output
    assert f"Open {address} and sign in at {address}login with one of them." in printed.output


def test_demo_accounts_refuse_a_port_out_of_range(runner, tmp_path):
    printed = runner.invoke(args=["users", "demo", str(tmp_path / "a.txt"), "--port", "70000"])
    assert printed.exit_code == 2
    assert "70000 is not in the range 1<=x<=65535" in printed.output
    assert not (tmp_path / "a.txt").exists()


def test_assets_of_one_name_near_each_other_can_be_told_apart():
    """A list holding a park and the sports site in it, or an allotment site drawn in two
    parts, shows two names or one asset, never the same name twice within a kilometre."""
    from assetmap.search.nearby import haversine_m

    records = [as_record(f) for f in features()]
    clashes = [
        (a["id"], b["id"])
        for i, a in enumerate(records)
        for b in records[i + 1 :]
        if a["name"].lower() == b["name"].lower()
        and haversine_m(a["lat"], a["lon"], b["lat"], b["lon"]) < 1000
    ]
    assert clashes == []


def test_every_sport_england_site_open_to_residents_is_in_the_demo_as_its_rows_say():
    """The rules of the build script's docstring, checked against the source file's rows:
    a site only for private use is left out; step-free only when every facility's entrance,
    doorways and reception are accessible; free only when every facility left is free."""
    import csv

    with (DATA_DIR / "sources" / "sports_facilities.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    sites: dict[str, list[dict]] = {}
    for row in rows:
        sites.setdefault(row["site_id"], []).append(row)
    demo = {
        f["properties"]["source_id"]: f["properties"]
        for f in features()
        if f["properties"]["source"] == "sport_england_active_places_2025"
    }
    step_free = ("disability_finding_reaching_entrance", "disability_doorways")
    for site_id, facilities in sites.items():
        public = [r for r in facilities if r["access_type"] != "Private Use"]
        if not public:
            assert site_id not in demo, site_id
            continue
        site = demo[site_id]
        every_yes = all(r[n] == "Yes" for r in facilities for n in step_free) and all(
            r["disability_reception_area"] == "Yes" for r in facilities
        )
        assert ("step_free" in site["accessibility"]) == every_yes, site_id
        free = all(r["access_type"] == "Free Public Access" for r in public)
        assert (site["cost"] == "free") == free, site_id
        phone = facilities[0]["telephone"]
        assert site["phone"] == (None if phone in ("NA", "00000 000000") else phone), site_id
    assert len(demo) == len(
        [s for s in sites.values() if any(r["access_type"] != "Private Use" for r in s)]
    )
