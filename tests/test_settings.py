"""Settings: declared once with a type, documented in the README, read from the environment,
parsed when the app starts, and printed by `assetmap settings`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from assetmap import create_app, settings
from assetmap.cli import main
from assetmap.cli.settings import describe
from assetmap.record.validation import UK_BOUNDS

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_settings() -> dict[str, tuple[str, str]]:
    """The README's settings table: name -> (default, takes), as written there."""
    rows = re.findall(r"^\| `([A-Z_]+)` \| (.*?) \| (.*?) \| .* \|$", README.read_text(), re.M)
    return {name: (default, takes) for name, default, takes in rows}


def test_every_setting_is_in_the_readme_table():
    assert {s.name for s in settings.SETTINGS} == set(readme_settings())


@pytest.mark.parametrize("setting", settings.SETTINGS, ids=lambda s: s.name)
def test_the_readme_gives_each_settings_default_and_what_it_takes(setting):
    default, takes = readme_settings()[setting.name]
    words = setting.default_words
    assert default == (words if words.startswith("(") else f"`{words}`")
    assert takes == setting.type.expects


@pytest.mark.parametrize("setting", settings.SETTINGS, ids=lambda s: s.name)
def test_every_default_is_a_good_value_of_its_setting(setting):
    value = setting.parse(setting.default)
    if setting.default:
        assert setting.type.text(value) == setting.default


def test_settings_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSETMAP_DB", str(tmp_path / "env.db"))
    monkeypatch.setenv("ASSETMAP_TILE_URL", "https://tiles.example.org/{z}/{x}/{y}.png")
    app = create_app()
    assert app.config["ASSETMAP_DB"] == str(tmp_path / "env.db")
    assert app.config["ASSETMAP_TILE_URL"].startswith("https://tiles.example.org/")


def test_the_app_holds_typed_values_from_the_environment_or_the_config(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSETMAP_PLAN_LINK_DAYS", "14")
    monkeypatch.setenv("ASSETMAP_ALLOW_CLIENT_NAMES", "Yes")
    monkeypatch.setenv("ASSETMAP_SMTP_PORT", "")  # empty is unset: the default
    app = create_app(
        {
            "ASSETMAP_DB": str(tmp_path / "a.db"),
            "SECRET_KEY": "test-only",
            "ASSETMAP_MAX_UPLOAD_MB": "0.5",
            "ASSETMAP_BOUNDS": "-3,53,-2,54",
            "ASSETMAP_TRUSTED_PROXIES": 1,
        }
    )
    config = app.config
    assert config["ASSETMAP_PLAN_LINK_DAYS"] == 14
    assert config["ASSETMAP_ALLOW_CLIENT_NAMES"] is True
    assert config["ASSETMAP_SMTP_STARTTLS"] is False
    assert config["ASSETMAP_SMTP_PORT"] == 25
    assert config["ASSETMAP_TRUSTED_PROXIES"] == 1
    assert config["ASSETMAP_MAX_UPLOAD_MB"] == 0.5
    assert config["MAX_CONTENT_LENGTH"] == 512 * 1024
    assert config["ASSETMAP_BOUNDS"] == (-3, 53, -2, 54)
    assert config["ASSETMAP_MAP_CENTRE"] == (53.42, -2.35)
    assert config["ASSETMAP_ENV"] == "demo"


def test_a_value_set_after_the_start_is_parsed_too(app):
    app.config["ASSETMAP_REFERRALS_PER_HOUR"] = "2"
    app.config.update(ASSETMAP_SMTP_PORT="2525", ASSETMAP_SMTP_STARTTLS="no")
    assert app.config["ASSETMAP_REFERRALS_PER_HOUR"] == 2
    assert app.config["ASSETMAP_SMTP_PORT"] == 2525
    assert app.config["ASSETMAP_SMTP_STARTTLS"] is False
    with pytest.raises(settings.SettingError, match="ASSETMAP_REFERRALS_PER_HOUR: 'lots'"):
        app.config["ASSETMAP_REFERRALS_PER_HOUR"] = "lots"


# One bad value for each type of setting, and what the message says is expected.
BAD_VALUES = [
    ("ASSETMAP_PLAN_LINK_DAYS", "soon", "a whole number of at least 1"),
    ("ASSETMAP_PLAN_LINK_DAYS", "0", "a whole number of at least 1"),
    ("ASSETMAP_REFERRALS_PER_HOUR", "2.5", "a whole number of at least 1"),
    ("ASSETMAP_SMTP_PORT", "70000", "a whole number from 1 to 65535"),
    ("ASSETMAP_TRUSTED_PROXIES", "-1", "a whole number of at least 0"),
    ("ASSETMAP_MAX_UPLOAD_MB", "lots", "a number above 0"),
    ("ASSETMAP_IMPORT_FILES_MB", "-5", "a number of at least 0"),
    ("ASSETMAP_IMPORT_MAX_RATIO", "nan", "a number above 0"),
    ("ASSETMAP_ALLOW_CLIENT_NAMES", "maybe", "'yes' or 'no'"),
    ("ASSETMAP_SMTP_STARTTLS", "sometimes", "'yes' or 'no'"),
    ("ASSETMAP_ENV", "prod", "'demo' or 'production'"),
    ("ASSETMAP_BOUNDS", "-3,53,-2", "'uk', 'anywhere' or four numbers"),
    ("ASSETMAP_BOUNDS", "-2,53,-3,54", "the minimums must be below the maximums"),
    ("ASSETMAP_MAP_CENTRE", "53.42", "'latitude,longitude' such as 53.42,-2.35"),
    ("ASSETMAP_MAP_CENTRE", "153.42,-2.35", "the latitude must be within ±90"),
]


@pytest.mark.parametrize("name, value, expected", BAD_VALUES)
def test_a_bad_value_stops_the_app_naming_the_setting_the_value_and_what_it_takes(
    tmp_path, name, value, expected
):
    with pytest.raises(settings.SettingError) as error:
        create_app({"ASSETMAP_DB": str(tmp_path / "a.db"), "SECRET_KEY": "t", name: value})
    assert str(error.value).startswith(f"{name}: {value!r} is not ")
    assert expected in str(error.value)


@pytest.mark.parametrize("name, value, expected", BAD_VALUES[::3])
def test_a_bad_value_in_the_environment_stops_every_command_with_a_message(
    tmp_path, monkeypatch, name, value, expected
):
    monkeypatch.setenv("ASSETMAP_DB", str(tmp_path / "a.db"))
    monkeypatch.setenv(name, value)
    for args in (["users", "list"], ["settings"], ["--help"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, args
        assert f"Error: {name}: {value!r} is not " in result.output
        assert expected in result.output
        assert "Traceback" not in result.output


def test_every_bad_value_is_named_at_once(tmp_path):
    with pytest.raises(settings.SettingError) as error:
        create_app(
            {
                "ASSETMAP_DB": str(tmp_path / "a.db"),
                "ASSETMAP_PLAN_LINK_DAYS": "soon",
                "ASSETMAP_SMTP_STARTTLS": "perhaps",
            }
        )
    assert str(error.value).splitlines() == [
        "ASSETMAP_SMTP_STARTTLS: 'perhaps' is not 'yes' or 'no'",
        "ASSETMAP_PLAN_LINK_DAYS: 'soon' is not a whole number of at least 1",
    ]


def test_a_bad_plan_link_days_stops_the_app_before_anyone_shares_a_plan(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSETMAP_PLAN_LINK_DAYS", "thirty")
    with pytest.raises(settings.SettingError, match="ASSETMAP_PLAN_LINK_DAYS: 'thirty'"):
        create_app({"ASSETMAP_DB": str(tmp_path / "a.db"), "SECRET_KEY": "t"})


def test_production_will_not_start_without_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("ASSETMAP_ENV", "production")
    with pytest.raises(settings.SettingError, match="SECRET_KEY: not set"):
        create_app({"ASSETMAP_DB": str(tmp_path / "a.db")})
    assert not (tmp_path / "secret_key").exists()


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
    [("uk", UK_BOUNDS), ("anywhere", None), ("-3,53,-2,54", (-3, 53, -2, 54)), ("", UK_BOUNDS)],
)
def test_bounds_setting(value, expected):
    assert settings.parse("ASSETMAP_BOUNDS", value) == expected


@pytest.mark.parametrize("value", ["-3,53,-2", "a,b,c,d", "-2,53,-3,54"])
def test_bad_bounds_are_explained(value):
    with pytest.raises(ValueError, match="ASSETMAP_BOUNDS"):
        settings.parse("ASSETMAP_BOUNDS", value)


def settings_output(monkeypatch, tmp_path, **environ) -> dict[str, list[str]]:
    """`assetmap settings` run with `environ`: each setting's block of lines, by name."""
    monkeypatch.setenv("ASSETMAP_DB", str(tmp_path / "a.db"))
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["settings"])
    assert result.exit_code == 0, result.output
    blocks: dict[str, list[str]] = {}
    for line in result.output.splitlines():
        if not line.startswith(" "):
            name = line.split(" = ")[0]
            blocks[name] = []
        blocks[name].append(line)
    return blocks


def test_the_settings_command_prints_every_setting_as_declared(tmp_path, monkeypatch):
    blocks = settings_output(monkeypatch, tmp_path, ASSETMAP_PLAN_LINK_DAYS="14")
    assert list(blocks) == [s.name for s in settings.SETTINGS]
    for setting in settings.SETTINGS:
        first, *help_lines, takes = blocks[setting.name]
        assert " ".join(line.strip() for line in help_lines) == setting.help
        assert takes == f"    takes {setting.type.expects}; default {setting.default_words}"
        if setting.name not in ("ASSETMAP_DB", "ASSETMAP_PLAN_LINK_DAYS") and not setting.secret:
            assert first == f"{setting.name} = {setting.default or '(empty)'}"
    assert blocks["ASSETMAP_PLAN_LINK_DAYS"][0] == "ASSETMAP_PLAN_LINK_DAYS = 14"
    assert blocks["ASSETMAP_DB"][0] == f"ASSETMAP_DB = {tmp_path / 'a.db'}"


def test_the_settings_command_says_only_whether_a_secret_is_set(tmp_path, monkeypatch):
    blocks = settings_output(
        monkeypatch, tmp_path, SECRET_KEY="do-not-print-me", ASSETMAP_SMTP_HOST="mail.example.org"
    )
    assert blocks["SECRET_KEY"][0] == "SECRET_KEY = (set)"
    assert blocks["ASSETMAP_SMTP_PASSWORD"][0] == "ASSETMAP_SMTP_PASSWORD = (not set)"
    assert blocks["ASSETMAP_SMTP_HOST"][0] == "ASSETMAP_SMTP_HOST = mail.example.org"
    monkeypatch.setenv("ASSETMAP_SMTP_PASSWORD", "hunter2")
    output = CliRunner().invoke(main, ["settings"]).output
    assert "ASSETMAP_SMTP_PASSWORD = (set)" in output
    assert "hunter2" not in output and "do-not-print-me" not in output


def test_describe_writes_typed_values_back_as_they_would_be_set(app):
    app.config["ASSETMAP_BOUNDS"] = "anywhere"
    app.config["ASSETMAP_ALLOW_CLIENT_NAMES"] = "on"
    lines = describe(app.config)
    assert "ASSETMAP_BOUNDS = anywhere" in lines
    assert "ASSETMAP_ALLOW_CLIENT_NAMES = yes" in lines
    assert "ASSETMAP_MAP_CENTRE = 53.42,-2.35" in lines
