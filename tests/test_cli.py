"""The assetmap command: init, load, export and the round trip between them."""

from __future__ import annotations

import csv
import json
import os

import pytest
from click.testing import CliRunner

from assetmap import create_app
from assetmap.cli import main
from assetmap.store import assets as store
from assetmap.store import connect
from tests.conftest import HOSTILE_NAME, SAMPLE, make_asset


@pytest.fixture
def empty_app(tmp_path):
    return create_app({"ASSETMAP_DB": str(tmp_path / "cli.db"), "SECRET_KEY": "test-only"})


@pytest.fixture
def cli(empty_app):
    runner = empty_app.test_cli_runner()

    def run(*args):
        return runner.invoke(args=list(map(str, args)))

    run("init")
    return run


def write_geojson(path, raws):
    features = []
    for raw in raws:
        properties = {k: v for k, v in raw.items() if k not in ("lat", "lon")}
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [raw["lon"], raw["lat"]]},
                "properties": properties,
            }
        )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def all_assets(app):
    db = connect(app.config["ASSETMAP_DB"])
    try:
        return list(store.iter_assets(db))
    finally:
        db.close()


def test_init_is_idempotent(empty_app):
    runner = empty_app.test_cli_runner()
    first = runner.invoke(args=["init"])
    second = runner.invoke(args=["init"])
    assert first.exit_code == second.exit_code == 0
    assert "applied:" in first.output and "applied:" not in second.output
    assert "schema version" in second.output


def test_load_counts_new_then_unchanged_then_changed(cli, tmp_path):
    path = write_geojson(tmp_path / "a.geojson", SAMPLE)
    first = cli("load", path)
    assert first.exit_code == 0, first.output
    assert "7 new, 0 changed, 0 unchanged, 0 rejected" in first.output
    assert "0 new, 0 changed, 7 unchanged, 0 rejected" in cli("load", path).output
    changed = [*SAMPLE[:-1], {**SAMPLE[-1], "cost": "paid"}]
    path = write_geojson(tmp_path / "b.geojson", changed)
    assert "0 new, 1 changed, 6 unchanged, 0 rejected" in cli("load", path).output


def test_load_rejects_bad_records_with_reasons_and_keeps_the_good(cli, empty_app, tmp_path):
    raws = [make_asset(), make_asset(id="bad", strand="walking", lat=91)]
    result = cli("load", write_geojson(tmp_path / "mixed.geojson", raws))
    assert result.exit_code == 1
    assert "1 new, 0 changed, 0 unchanged, 1 rejected" in result.output
    assert "feature 2 (Sale Walking Group)" in result.output
    assert "strand:" in result.output and "lat" in result.output
    assert [a["id"] for a in all_assets(empty_app)] == ["sale-walking-group"]


def test_load_rejects_an_id_used_twice(cli, tmp_path):
    result = cli("load", write_geojson(tmp_path / "twice.geojson", [make_asset(), make_asset()]))
    assert "feature 2" in result.output and "used again (first at feature 1)" in result.output


def test_a_dry_run_changes_nothing(cli, empty_app, tmp_path):
    result = cli("load", write_geojson(tmp_path / "a.geojson", SAMPLE), "--dry-run")
    assert "dry run, nothing changed: 7 new" in result.output
    assert all_assets(empty_app) == []


@pytest.mark.parametrize(
    "content, message",
    [
        ("not json", "is not valid JSON"),
        ('{"type": "Feature"}', "is not a GeoJSON FeatureCollection"),
        ('{"type": "FeatureCollection"}', 'has no "features" list'),
    ],
)
def test_an_unreadable_file_gets_a_clear_message(cli, tmp_path, content, message):
    path = tmp_path / "bad.geojson"
    path.write_text(content)
    result = cli("load", path)
    assert result.exit_code == 1
    assert message in result.output


def test_a_feature_without_usable_geometry_is_rejected_with_the_reason(cli, tmp_path):
    path = tmp_path / "line.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
                        "properties": {"name": "A line"},
                    },
                    "not a feature",
                ],
            }
        )
    )
    result = cli("load", path)
    assert "feature 1 (unreadable): it has a 'LineString' geometry" in result.output
    assert "feature 2 (unreadable): it is not a GeoJSON Feature" in result.output


def test_a_polygon_is_placed_inside_itself_and_kept_as_service_area(cli, empty_app, tmp_path):
    polygon = {
        "type": "Polygon",
        "coordinates": [
            [[-2.32, 53.42], [-2.30, 53.42], [-2.30, 53.44], [-2.32, 53.44], [-2.32, 53.42]]
        ],
    }
    raw = {k: v for k, v in make_asset().items() if k not in ("lat", "lon")}
    path = tmp_path / "area.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "geometry": polygon, "properties": raw}],
            }
        )
    )
    assert cli("load", path).exit_code == 0
    (asset,) = all_assets(empty_app)
    assert -2.32 < asset["lon"] < -2.30 and 53.42 < asset["lat"] < 53.44
    assert asset["service_area"] == polygon


@pytest.mark.parametrize("fmt", ["geojson", "csv"])
def test_export_then_load_gives_the_same_database(cli, empty_app, tmp_path, fmt):
    cli("load", write_geojson(tmp_path / "in.geojson", SAMPLE))
    before = all_assets(empty_app)
    out = tmp_path / f"out.{fmt}"
    assert cli("export", fmt, out).exit_code == 0
    assert "unchanged" in cli("load", out).output
    assert "0 new, 0 changed, 7 unchanged, 0 rejected" in cli("load", out).output

    other = create_app({"ASSETMAP_DB": str(tmp_path / "other.db"), "SECRET_KEY": "test-only"})
    runner = other.test_cli_runner()
    runner.invoke(args=["init"])
    assert "7 new" in runner.invoke(args=["load", str(out)]).output
    assert all_assets(other) == before


def test_csv_export_guards_against_spreadsheet_formulas(cli, tmp_path):
    cli("load", write_geojson(tmp_path / "in.geojson", [make_asset(name='=HYPERLINK("x")')]))
    out = tmp_path / "out.csv"
    cli("export", "csv", out)
    with out.open(encoding="utf-8") as f:
        (row,) = csv.DictReader(f)
    assert row["name"] == '\'=HYPERLINK("x")'
    assert row["lon"] == "-2.3034"  # numbers are left alone


def test_public_export_leaves_out_professional_fields(cli, tmp_path):
    cli("load", write_geojson(tmp_path / "in.geojson", SAMPLE))
    out = tmp_path / "public.geojson"
    cli("export", "geojson", out, "--public")
    text = out.read_text()
    assert "contact_name" not in text and "Sam Example" not in text
    assert HOSTILE_NAME in json.dumps(json.loads(text), ensure_ascii=False) or "alert" in text


def test_the_console_script_runs_the_same_commands(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSETMAP_DB", str(tmp_path / "console.db"))
    result = CliRunner().invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "console.db").exists()


def test_every_command_has_help_with_an_example():
    for name in ("init", "load", "export", "serve", "settings"):
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0
        assert "Example: assetmap " + name in result.output


def test_serve_gives_requests_time_for_a_large_import(cli, monkeypatch):
    started = []
    monkeypatch.setattr(os, "execv", lambda path, args: started.append(args))
    monkeypatch.setattr(os, "execvp", lambda path, args: started.append(args))
    result = cli("serve", "--port", "5055")
    assert result.exit_code == 0, result.output
    args = started[0]
    assert args[args.index("--timeout") + 1] == "300"
    assert args[args.index("--bind") + 1] == "127.0.0.1:5055"
