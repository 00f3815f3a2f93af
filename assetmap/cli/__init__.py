"""The `assetmap` command.

Each area of the app keeps its commands in a module of this package and lists them in its
COMMANDS; `main` has them all, and `register` adds them to a Flask app's CLI group, so the same
commands work as `assetmap COMMAND` and as `flask --app assetmap COMMAND`. Each command's
docstring is its --help text, with an example.

A command module imports neither Flask nor the heavy libraries (folium, geopandas, pandas,
shapely) at the top, and reads its settings with cli/context.py's `settings()`, so that
`assetmap` starts at once (issue 19; tests/test_cli_start.py checks it).
"""

from __future__ import annotations

import sys

import click

from assetmap.cli import (
    assets,
    backup,
    context,
    copy,
    coverage,
    feeds,
    imports,
    join_requests,
    openreferral,
    postcodes,
    reminders,
    search,
    settings,
    users,
)

MODULES = (
    assets,
    users,
    postcodes,
    join_requests,
    imports,
    search,
    settings,
    coverage,
    reminders,
    openreferral,
    feeds,
    backup,
    copy,
)


def register(app) -> None:
    """Add every module's commands to a Flask app's CLI group, for `flask --app assetmap`."""
    for module in MODULES:
        for command in module.COMMANDS:
            app.cli.add_command(command)


class _Group(click.Group):
    """The `assetmap` command group: a plain click group, not Flask's FlaskGroup, so that a
    command makes no Flask app and imports no Flask (issue 19); each reads its settings through
    cli/context.py.

    A bad setting stops any command, and `assetmap --help`, with its message before anything
    runs; a database that stays busy ends a command with a plain message.
    """

    def list_commands(self, ctx):
        context.check_settings()
        return super().list_commands(ctx)

    def invoke(self, ctx):
        # Checked, not kept: a command reads them when it needs them (cli/context.py), and
        # `assetmap COMMAND --help` writes nothing (the settings may keep a generated
        # SECRET_KEY beside the database).
        context.check_settings()
        if "flask.cli" in sys.modules and ctx.obj is None:
            # A command written the Flask way (with_appcontext, current_app) still runs, in
            # an app made for it; the others never see this (see context._running_app).
            from flask.cli import ScriptInfo

            ctx.obj = ScriptInfo(create_app=context.app_for_a_flask_command)
            ctx.obj.assetmap_command = True
        try:
            return super().invoke(ctx)
        except Exception as error:
            from assetmap.store.connection import Busy

            if isinstance(error, Busy):
                raise click.ClickException(f"Nothing was saved: {error}.") from None
            raise


@click.group(cls=_Group)
def main():
    """assetmap: a community asset map and social-prescribing directory.

    The database is ASSETMAP_DB (default instance/assetmap.db).
    """


for _module in MODULES:
    for _command in _module.COMMANDS:
        main.add_command(_command)
