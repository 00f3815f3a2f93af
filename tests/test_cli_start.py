"""The `assetmap` command starts at once (issue 19): Flask and the heavy libraries load only in
the commands that use them.

Flask (with werkzeug and jinja2) takes a sixth of a second to import, and folium, geopandas,
pandas, numpy, shapely and sqlite_utils together most of a second; `assetmap --help` and the
everyday commands must not wait for what they do not use. Each check runs a fresh interpreter,
since this test session has imported them all long ago. How long the commands take is measured
by scripts/measure_cli_start.py, not here: a shared machine's timings would make a test that
fails at random.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from assetmap.cli import main
from tests.conftest import smtp_sink

ROOT = Path(__file__).resolve().parent.parent
FLASK = ("flask", "werkzeug", "jinja2")
HEAVY = ("folium", "geopandas", "pandas", "numpy", "sqlite_utils", "shapely")
NOT_FOR_A_COMMAND = FLASK + HEAVY
# A command that opens the database loads sqlite_utils (the store's), but not the pandas and
# numpy it would import (assetmap.store.sqlite_utils_without_pandas), nor Flask.
NOT_FOR_A_DATABASE_COMMAND = tuple(name for name in NOT_FOR_A_COMMAND if name != "sqlite_utils")
EVERYDAY_COMMANDS = {
    "--help": (["--help"], NOT_FOR_A_COMMAND, "Commands:"),
    "search": (
        ["search", "--lat", "53.4239", "--lon", "-2.3232", "--q", "walking"],
        NOT_FOR_A_DATABASE_COMMAND,
        "Sale Community Walking Buddies",
    ),
    "users list": (["users", "list"], NOT_FOR_A_DATABASE_COMMAND, "sam@council.example\tadmin"),
}


def _python(code: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    """A database made, with an account and the real Trafford demo assets, as `make run` has."""
    folder = tmp_path_factory.mktemp("start")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ASSETMAP_DB": str(folder / "assetmap.db"),
        "SECRET_KEY": "test",
    }
    setup = (
        "from assetmap.cli import main\n"
        "for args in (['init'], ['users', 'create', 'sam@council.example', '--role', 'admin'],"
        f" ['load', {str(ROOT / 'data' / 'assets.geojson')!r}]):\n"
        "    main(args, standalone_mode=False)\n"
    )
    made = _python(setup, env)
    assert made.returncode == 0, made.stderr
    return env


def _loaded_after(code: str, env: dict[str, str], names=NOT_FOR_A_COMMAND) -> list[str]:
    """Which of `names` a fresh interpreter has loaded after running `code`."""
    check = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps(sorted(m for m in {names!r} if m in sys.modules)))"
    )
    done = _python(check, env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_command_loads_neither_flask_nor_the_heavy_libraries(env):
    assert _loaded_after("import assetmap.cli", env) == []


def test_importing_the_package_loads_no_flask_until_an_app_is_made(env):
    assert _loaded_after("from assetmap import add_pages, app_config, create_app", env) == []
    code = "from assetmap import create_app\ncreate_app(pages=False)"
    assert _loaded_after(code, env, FLASK) == sorted(FLASK)


@pytest.mark.parametrize("name", EVERYDAY_COMMANDS)
def test_the_everyday_commands_load_only_what_they_use(env, name):
    args, not_needed, shown = EVERYDAY_COMMANDS[name]
    # As the console script runs it; what it printed comes first, then what it loaded.
    code = (
        "import sys\nfrom assetmap.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit as end:\n    assert not end.code, end.code"
    )
    done = _python(
        f"{code}\nimport json\n"
        f"print(json.dumps(sorted(m for m in {not_needed!r} if m in sys.modules)))",
        env,
    )
    assert done.returncode == 0, done.stderr
    *output, loaded = done.stdout.strip().splitlines()
    assert shown in "\n".join(output)
    assert json.loads(loaded) == []


def test_flask_runs_the_same_commands_with_the_same_output(env):
    # `flask --app assetmap COMMAND` (PRODUCT.md): the commands in Flask's app context.
    console = _python("import sys; from assetmap.cli import main; main()", env, "users", "list")
    flask = _python("from flask.cli import main; main()", env, "--app", "assetmap", "users", "list")
    assert console.returncode == flask.returncode == 0, console.stderr + flask.stderr
    assert flask.stdout == console.stdout and "sam@council.example" in flask.stdout


def test_a_command_that_draws_a_map_still_loads_what_it_needs(env):
    # The other side: a moved import still happens where it is used.
    assert _loaded_after("from assetmap import maps", env) == []
    code = (
        "from assetmap import maps\n"
        "maps.build_location_map(lat=53.42, lon=-2.35, static_url=lambda p: '/static/' + p,"
        " tile_url='https://tile.example/{z}/{x}/{y}.png', tile_attribution='OSM')"
    )
    assert "folium" in _loaded_after(code, env)


def test_sqlite_utils_is_the_same_wherever_pandas_was_loaded_first(env):
    # Without pandas loaded, a command's sqlite_utils does without it, and pandas still loads
    # afterwards for whoever needs it; with pandas loaded, sqlite_utils uses it as always.
    code = (
        "from assetmap.store.connection import connect\n"
        "db = connect(':memory:')\n"
        "import sqlite_utils.db\n"
        "assert sqlite_utils.db.pd is None and db.conn.execute('select 1').fetchone()[0] == 1\n"
        "import pandas\n"
        "db['t'].insert({'a': 1})\n"
        "assert db.conn.execute('select a from t').fetchone()[0] == 1"
    )
    assert _loaded_after(code, env, ("pandas",)) == ["pandas"]
    code = (
        "import pandas\n"
        "from assetmap.store.connection import connect\n"
        "connect(':memory:')\n"
        "import sqlite_utils.db\n"
        "assert sqlite_utils.db.pd is pandas"
    )
    assert _loaded_after(code, env, ("numpy",)) == ["numpy"]


def test_the_site_still_loads_its_pages_libraries_as_it_starts(env):
    code = "from assetmap import create_app\ncreate_app()"
    assert _loaded_after(code, env, ("folium", "shapely", "sqlite_utils")) == [
        "folium",
        "shapely",
        "sqlite_utils",
    ]


def test_a_commands_app_gets_the_pages_when_a_command_links_to_them(tmp_path):
    from flask import url_for

    from assetmap import add_pages, create_app

    config = {"ASSETMAP_DB": str(tmp_path / "a.db"), "SECRET_KEY": "t"}
    app = create_app(config, pages=False)
    assert not app.blueprints and "users" in app.cli.commands
    add_pages(app)
    add_pages(app)  # a second time changes nothing
    with app.test_request_context(base_url="https://assets.example"):
        assert url_for("moderation.queue", _external=True).startswith("https://assets.example/")
    assert set(app.blueprints) == set(
        create_app({"ASSETMAP_DB": str(tmp_path / "a.db")}).blueprints
    )


def test_a_reminder_sent_from_the_console_script_links_to_the_sites_pages(app, db, monkeypatch):
    # `reminders send` is the one everyday command that needs Flask (url_for): the console
    # script, which has no app, makes one with the pages for it.
    from assetmap.store import assets

    record = assets.get_asset(db, "sale-walking-group")  # last checked 2025-06-01: due
    assets.save_asset(db, {**record, "organiser_email": "walks@example.org"}, who="tests")
    with smtp_sink() as (port, received):
        for name, value in {
            "ASSETMAP_DB": app.config["ASSETMAP_DB"],
            "SECRET_KEY": "test-only",
            "ASSETMAP_SMTP_HOST": "127.0.0.1",
            "ASSETMAP_SMTP_PORT": str(port),
            "ASSETMAP_MAIL_FROM": "directory@example.org",
            "ASSETMAP_SITE_URL": "https://directory.example.org",
        }.items():
            monkeypatch.setenv(name, value)
        result = CliRunner().invoke(main, ["reminders", "send"])
    assert result.exit_code == 0, result.output
    assert "sent: " in result.output and "Sale Walking Group, to walks@example.org" in result.output
    (envelope,) = received
    assert re.search(rb"https://directory\.example\.org/organiser/\S+", envelope.content)


def test_a_command_written_the_flask_way_still_runs_in_the_console_script(tmp_path, monkeypatch):
    # Another module's command may still use Flask's with_appcontext and current_app: the
    # console script gives it an app with the same settings.
    import click
    from flask import current_app
    from flask.cli import with_appcontext

    @click.command("where")
    @with_appcontext
    def where():
        click.echo(f"{current_app.config['ASSETMAP_DB']} {current_app.config['SECRET_KEY']}")

    monkeypatch.setenv("ASSETMAP_DB", str(tmp_path / "where.db"))
    monkeypatch.setenv("SECRET_KEY", "test-only")
    main.add_command(where)
    try:
        result = CliRunner().invoke(main, ["where"])
    finally:
        del main.commands["where"]
    assert result.exit_code == 0, result.output
    assert result.output == f"{tmp_path / 'where.db'} test-only\n"


def test_a_command_run_by_an_apps_test_runner_reads_that_apps_settings(app, monkeypatch):
    # As `flask --app assetmap` does, and the tests do: the app's settings, not the
    # environment's.
    monkeypatch.setenv("ASSETMAP_DB", "/nowhere/else.db")
    result = app.test_cli_runner().invoke(args=["settings"])
    assert result.exit_code == 0, result.output
    assert f"ASSETMAP_DB = {app.config['ASSETMAP_DB']}\n" in result.output
    assert "/nowhere/else.db" not in result.output
