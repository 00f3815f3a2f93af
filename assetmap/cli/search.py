"""`assetmap search`: the nearby search from the command line, as a table.

The options are made from the search's parameters (assetmap.search.nearby.PARAMETERS), one option
each, and read by assetmap.search.nearby.parse_search exactly as the API reads its query string, so
a search gives the same answer (and the same errors) in both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from assetmap.cli import context
from assetmap.cli.db import database

if TYPE_CHECKING:
    from assetmap.search.nearby import SearchResults
    from assetmap.search.parameters import Parameter


def _help(p: Parameter) -> str:
    """The parameter's help, with what an option's help must say itself: the values it takes,
    that it repeats, and its default."""
    from assetmap.search.parameters import NUMBER

    text = p.help
    if p.repeats:  # one of several options shows its choices as its metavar instead
        text += f" Any of: {', '.join(p.slugs)}. Repeat the option for several."
    if p.default not in (None, "", False):
        text += f" Default: {p.default:g}." if p.kind == NUMBER else f" Default: {p.default}."
    return text


def _option(p: Parameter) -> click.Option:
    """The option for a parameter. Its values go to parse_search as text, so that a bad one
    gets the API's message (a click type would answer in click's words)."""
    from assetmap.search import parameters as kinds

    if p.kind == kinds.YES_NO:
        return click.Option([p.cli_option, p.name], is_flag=True, help=_help(p))
    metavars = {
        kinds.TEXT: "TEXT",
        kinds.NUMBER: "NUMBER",
        kinds.WHOLE_NUMBER: "INTEGER",
        kinds.TIME_OF_DAY: "TIME",
    }
    metavar = f"[{'|'.join(p.slugs)}]" if p.kind == kinds.ONE_OF else metavars.get(p.kind, "SLUG")
    return click.Option([p.cli_option, p.name], multiple=p.repeats, metavar=metavar, help=_help(p))


class _SearchCommand(click.Command):
    """A command with one option for each search parameter, in the order they are declared,
    made the first time they are needed (to run the search or show its help) rather than when
    the module is imported: the search (assetmap.search.nearby and what it uses) is the
    largest thing the commands import, and `assetmap --help` or `assetmap users list` need
    none of it (issue 19)."""

    @property
    def params(self) -> list[click.Parameter]:
        if self._params is None:
            from assetmap.search.nearby import PARAMETERS

            self._params = [_option(p) for p in PARAMETERS]
        return self._params

    @params.setter
    def params(self, value: list[click.Parameter]) -> None:
        self._params = value or None  # click sets [] as it makes the command


def _table(results: SearchResults) -> list[str]:
    from assetmap.record import taxonomy

    rows = [("#", "distance", "walk", "name", "strand", "cost", "next session")]
    for number, hit in enumerate(results.hits, start=results.query.offset + 1):
        record = hit.record
        rows.append(
            (
                str(number),
                f"{hit.distance_m / 1000:.2f} km",
                f"{hit.walking_minutes} min",
                _cut(record["name"], 40),
                taxonomy.label(taxonomy.STRANDS, record["strand"]),
                taxonomy.label(taxonomy.COSTS, record["cost"]) or "-",
                hit.next_session.words if hit.next_session else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@click.command("search", cls=_SearchCommand)
def search_command(**options):
    """Find running assets (not paused, closed or archived) near a postcode or a point,
    nearest first, and print them as a table.

    Example: assetmap search --postcode "M33 7ZF" --radius 3 --q walking --free
    """
    from assetmap.freshness.stale import Freshness
    from assetmap.search.nearby import PARAMETERS, parse_search, search
    from assetmap.search.parameters import ParameterError

    args: dict[str, list[str]] = {}
    for name, value in options.items():
        if value is None or value == () or value is False:
            continue
        if value is True:
            args[name] = ["true"]
        elif isinstance(value, tuple):
            args[name] = list(value)
        else:
            args[name] = [value]
    try:
        query = parse_search(args)
        with database() as db:
            results = search(db, query, freshness=Freshness.from_settings(context.settings()))
    except ParameterError as e:  # PostcodeError too, from either
        names = {p.name: p.cli_option for p in PARAMETERS}  # --radius, not radius_km
        option = names.get(e.parameter, f"--{e.parameter}")
        raise click.BadParameter(e.message, param_hint=option) from None
    query, centre = results.query, results.centre
    shown = f"; showing {query.offset + 1} to {query.offset + len(results.hits)}"
    click.echo(
        f"{results.total} found within {query.radius_km:g} km of {centre.words}"
        + (shown if results.hits else "")
    )
    if results.hits:
        click.echo("\n".join(_table(results)))
    if results.next_offset is not None:
        click.echo(f"more: add --offset {results.next_offset}")


COMMANDS = (search_command,)
