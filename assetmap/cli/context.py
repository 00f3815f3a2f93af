"""A command's settings, and a Flask app for the few commands that need one.

Every command reads its settings through `settings()`, never through Flask's `current_app`:
the `assetmap` command makes no Flask app (importing Flask alone takes a sixth of a second, and
a command that lists accounts needs none of it, issue 19), and reads the same values the app
would hold (assetmap.app_config), parsed once per run. Under `flask --app assetmap COMMAND`, or
a test's `app.test_cli_runner()`, there is an app, and `settings()` is its `app.config`, so
that a test's settings (a temporary database) are the ones a command sees.

`app()` is for a command that needs Flask itself (`reminders send` builds page addresses with
url_for): the run's app if it has one, otherwise one made here, with its context pushed until
the command ends.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from flask import Flask

_SETTINGS = "assetmap.cli.settings"


def settings() -> Mapping[str, Any]:
    """The settings of this run: the app's config when there is an app, otherwise the values
    the app would hold, parsed the first time a command asks (a bad one: a ClickException with
    its message, as `assetmap` gives before any command runs).

    Example: `days = settings()["ASSETMAP_REFERRAL_RETENTION_DAYS"]`
    """
    app = _running_app()
    if app is not None:
        return app.config
    root = click.get_current_context().find_root()
    if _SETTINGS not in root.meta:
        root.meta[_SETTINGS] = load_settings()
    return root.meta[_SETTINGS]


def load_settings() -> dict[str, Any]:
    """The app's config without the app (assetmap.app_config), a bad setting as a
    ClickException naming it."""
    from assetmap import app_config

    return _or_click_error(app_config)


def check_settings() -> None:
    """Stop with a ClickException naming each bad setting, if there is one. Writes nothing
    (unlike load_settings, which may keep a generated SECRET_KEY), so that `assetmap --help`
    and `assetmap COMMAND --help` check them too."""
    from assetmap import configuration

    _or_click_error(configuration)


def _or_click_error(read):
    from assetmap.settings import SettingError

    try:
        return read()
    except SettingError as error:
        raise click.ClickException(str(error)) from None


def app() -> Flask:
    """The Flask app for a command that needs one: the run's, or one made with this run's
    settings (without the site's pages: see create_app) and in context until the command ends.

    Example: `add_pages(app())` before `url_for` (cli/reminders.py)
    """
    found = _running_app()
    if found is not None:
        return found
    made = app_for_a_flask_command()
    click.get_current_context().with_resource(made.app_context())
    return made


def app_for_a_flask_command() -> Flask:
    """An app made with this run's settings, without the site's pages (see create_app): for
    `app()`, and for a command written the Flask way (with_appcontext), which the `assetmap`
    group hands it to (cli/__init__.py)."""
    from assetmap import create_app

    return create_app(dict(settings()), pages=False)


def _running_app() -> Flask | None:
    """The app this run has, if any: the one in context (`flask --app assetmap`), or the one a
    test's runner hands the command (`app.test_cli_runner()`), whose context it then pushes,
    as Flask's with_appcontext would. None without asking Flask when Flask is not loaded: then
    nobody can have made an app."""
    if "flask" not in sys.modules:
        return None
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app._get_current_object()
    if "flask.cli" not in sys.modules:
        return None
    from flask.cli import ScriptInfo

    ctx = click.get_current_context(silent=True)
    info = ctx.find_object(ScriptInfo) if ctx is not None else None
    if info is None or getattr(info, "assetmap_command", False):
        return None
    found = info.load_app()
    ctx.with_resource(found.app_context())
    return found
