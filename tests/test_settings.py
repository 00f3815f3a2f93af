"""Settings: declared once, documented in the README, read from the environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assetmap import create_app, settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_is_in_the_readme_table():
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", README.read_text(), flags=re.M))
    assert {s.name for s in settings.SETTINGS} == documented


def test_settings_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSETMAP_DB", str(tmp_path / "env.db"))
    monkeypatch.setenv("ASSETMAP_TILE_URL", "https://tiles.example.org/{z}/{x}/{y}.png")
    app = create_app()
    assert app.config["ASSETMAP_DB"] == str(tmp_path / "env.db")
    assert app.config["ASSETMAP_TILE_URL"].startswith("https://tiles.example.org/")


def test_a_secret_key_is_generated_once_beside_the_database_and_reused(tmp_path):
    config = {"ASSETMAP_DB": str(tmp_path / "instance" / "assetmap.db")}
    first = create_app(config).config["SECRET_KEY"]
    second = create_app(config).config["SECRET_KEY"]
    key_file = tmp_path / "instance" / "secret_key"
    assert first == second == key_file.read_text().strip()
    assert len(first) >= 64
    assert key_file.stat().st_mode & 0o077 == 0
    other = create_app({"ASSETMAP_DB": str(tmp_path / "other" / "a.db")}).config["SECRET_KEY"]
    assert other != first


def test_a_secret_key_from_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    app = create_app({"ASSETMAP_DB": str(tmp_path / "a.db")})
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    "value, expected",
    [("uk", settings.parse_bounds("uk")), ("anywhere", None), ("-3,53,-2,54", (-3, 53, -2, 54))],
)
def test_bounds_setting(value, expected):
    assert settings.parse_bounds(value) == expected


@pytest.mark.parametrize("value", ["-3,53,-2", "a,b,c,d", "-2,53,-3,54"])
def test_bad_bounds_are_explained(value):
    with pytest.raises(ValueError, match="ASSETMAP_BOUNDS"):
        settings.parse_bounds(value)
