"""The `assetmap` command.

Each area of the app keeps its commands in a module of this package and lists them in its
COMMANDS; `register` adds them all to the app's CLI group, so the same commands work as
`assetmap COMMAND` and as `flask --app assetmap COMMAND`. Each command's docstring is its
--help text, with an example.
"""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from assetmap.cli import (
    assets,
    backup,
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
)


def register(app) -> None:
    """Add every module's commands to the app's CLI group."""
    for module in MODULES:
        for command in module.COMMANDS:
            app.cli.add_command(command)


class _Group(FlaskGroup):
    """The command group; a database that stays busy ends a command with a plain message, and
    so does a bad setting (when the app is made, before any command runs).

    `assetmap --help` lists the commands without making the app: making it imports every page
    of the site (and what they use), which would make the list take a second instead of an
    instant. The settings are still checked first, so a bad one stops it with its message.
    """

    def list_commands(self, ctx):
        # FlaskGroup would make the app here (printing a traceback for a bad setting); the
        # commands are ours, the same that `register` adds to the app.
        _check_settings()
        return sorted(_commands())

    def format_commands(self, ctx, formatter):
        # The list shows each command's own help; FlaskGroup.get_command would make the app to
        # find them. A command that runs is found as before (with the app, as Flask's are).
        ctx.meta[_LISTING] = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            del ctx.meta[_LISTING]

    def get_command(self, ctx, name):
        if ctx.meta.get(_LISTING):
            return _commands().get(name)
        return super().get_command(ctx, name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except Exception as error:
            from assetmap.store.connection import Busy

            if isinstance(error, Busy):
                raise click.ClickException(f"Nothing was saved: {error}.") from None
            raise


_LISTING = "assetmap.cli.listing"


def _commands() -> dict:
    return {command.name: command for module in MODULES for command in module.COMMANDS}


def _check_settings() -> None:
    """A bad setting as a ClickException with its message, as making the app would give."""
    from assetmap import configuration
    from assetmap.settings import SettingError

    try:
        configuration()
    except SettingError as error:
        raise click.ClickException(str(error)) from None


def _create_app():
    from assetmap import create_app
    from assetmap.settings import SettingError

    try:
        return create_app(pages=False)  # a command's app: see create_app
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
