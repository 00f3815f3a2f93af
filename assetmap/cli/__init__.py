"""The `assetmap` command.

Each area of the app keeps its commands in a module of this package and lists them in its
COMMANDS; `register` adds them all to the app's CLI group, so the same commands work as
`assetmap COMMAND` and as `flask --app assetmap COMMAND`. Each command's docstring is its
--help text, with an example.
"""

from __future__ import annotations

import click
from flask.cli import FlaskGroup, ScriptInfo

from assetmap.cli import (
    assets,
    coverage,
    imports,
    join_requests,
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
)


def register(app) -> None:
    """Add every module's commands to the app's CLI group."""
    for module in MODULES:
        for command in module.COMMANDS:
            app.cli.add_command(command)


class _Group(FlaskGroup):
    """The command group; a database that stays busy ends a command with a plain message, and
    so does a bad setting (when the app is made, before any command runs)."""

    def list_commands(self, ctx):
        # Made here first so that a bad setting stops `assetmap --help` with its message;
        # FlaskGroup would print a traceback and list the commands without the app's.
        ctx.ensure_object(ScriptInfo).load_app()
        return super().list_commands(ctx)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except Exception as error:
            from assetmap.store.connection import Busy

            if isinstance(error, Busy):
                raise click.ClickException(f"Nothing was saved: {error}.") from None
            raise


def _create_app():
    from assetmap import create_app
    from assetmap.settings import SettingError

    try:
        return create_app()
    except SettingError as error:
        raise click.ClickException(str(error)) from None


@click.group(
    cls=_Group,
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
)
def main():
    """assetmap: a community asset map and social-prescribing directory.

    The database is ASSETMAP_DB (default instance/assetmap.db).
    """
