"""Hostile text entered through the editing form and `assetmap load` reads back as entered."""

from __future__ import annotations

import json

import pytest
from markupsafe import escape

from tests.hostile import corpus, enter_through_form, load_file_features


def test_the_corpus_is_big_enough():
    assert len(corpus()) >= 15


@pytest.mark.parametrize(("entered", "expected"), corpus())
def test_hostile_text_through_the_form_reads_back_and_is_escaped(
    client, sign_in, entered, expected
):
    sign_in(client, "coordinator")
    asset_id = enter_through_form(client, entered)
    feature = client.get(f"/api/v1/assets/{asset_id}").get_json()
    assert feature["properties"]["name"] == expected
    assert feature["properties"]["description"] == expected
    page = client.get(f"/assets/{asset_id}").get_data(as_text=True)
    assert f"<h1>{escape(expected)}</h1>" in page
    if "<" in expected:
        assert expected not in page


def test_hostile_text_through_load_reads_back(client, runner, tmp_path):
    path = tmp_path / "hostile.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": load_file_features()}),
        encoding="utf-8",
    )
    result = runner.invoke(args=["load", str(path)])
    assert result.exit_code == 0, result.output
    for n, (_, expected) in enumerate(corpus()):
        properties = client.get(f"/api/v1/assets/hostile-load-{n}").get_json()["properties"]
        assert properties["name"] == properties["description"] == expected
