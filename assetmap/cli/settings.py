"""`assetmap settings`: every setting with its help, type, default and value, as Datasette's
`--help-settings` prints its own."""

from __future__ import annotations

import click

from assetmap.cli import context


def describe(config) -> list[str]:
    """The lines `assetmap settings` prints for the app's `config`: for each setting its name
    and value, its help, and its type and default. Secrets show only whether they are set."""
    import textwrap

    from assetmap import settings

    lines = []
    for setting in settings.SETTINGS:
        value = setting.text(config.get(setting.name))
        lines.append(f"{setting.name} = {value}")
        lines += textwrap.wrap(
            setting.help,
            width=92,
            initial_indent="    ",
            subsequent_indent="    ",
            break_on_hyphens=False,
            break_long_words=False,
        )
        lines.append(f"    takes {setting.type.expects}; default {setting.default_words}")
    return lines


@click.command("settings")
def settings_command():
    """Print every setting: its value now, what it is for, what it takes and its default.

    Settings are environment variables, read when assetmap starts; a bad value stops it, naming
    the setting. Secrets (SECRET_KEY, the mail password) show only whether they are set.

    Example: assetmap settings | grep -A2 ASSETMAP_PLAN_LINK_DAYS
    """
    for line in describe(context.settings()):
        click.echo(line)


COMMANDS = (settings_command,)
