"""/map at the demo's size travels light: under 120 KB on a first visit, and no static file
at all on the second (scripts/measure_map_transfer.py measures both; this runs it)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "measure_map_transfer.py"
DEMO_ASSETS = 374  # data/assets.geojson, as `make run` loads it


def _measuring():
    spec = importlib.util.spec_from_file_location("measure_map_transfer", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_the_map_is_light_on_a_first_visit_and_fetches_no_static_file_on_the_second(
    browser, tmp_path_factory
):
    measuring = _measuring()
    db_path = measuring.build_demo_database(tmp_path_factory.mktemp("demo") / "assetmap.db")
    with measuring.serving(measuring.the_app(db_path)) as (base_url, recorder):
        first, second = measuring.measure(browser, base_url, recorder)
    text, _ = measuring.report(first, second)
    print(text)

    # Both visits show every demo asset, with no script error or CSP refusal in the console.
    assert first.errors == [] and second.errors == [], text
    assert first.assets_on_map == second.assets_on_map == DEMO_ASSETS

    # First visit: every static file fetched, compressed, and the whole under 120 KB.
    assert len(first.static_paths) >= 7, text  # Leaflet, markercluster, the page's own
    static_sent = first.bytes_of("static")
    static_raw = sum(
        (SCRIPT.parents[1] / "assetmap" / "static" / _original(p)).stat().st_size
        for p in set(first.static_paths)
    )
    assert static_sent < static_raw / 2, text
    assert first.app_bytes < measuring.FIRST_VISIT_TARGET_BYTES, text

    # Second visit, same browser: no static file even asked for; the assets' GeoJSON only
    # revalidated (a 304 of a few hundred bytes, headers only).
    assert second.static_paths == [], text
    assert "/map" in second.server_paths and "/api/v1/assets" in second.server_paths
    assert second.bytes_of("static") == 0, text
    assert second.bytes_of("api") < 2 * 1024, text


def _original(path: str) -> str:
    """/static/js/asset-map.<hash>.js as js/asset-map.js."""
    directory, _, name = path.removeprefix("/static/").rpartition("/")
    stem, digest, suffix = name.rsplit(".", 2)
    assert len(digest) == 12, path
    return f"{directory}/{stem}.{suffix}" if directory else f"{stem}.{suffix}"
