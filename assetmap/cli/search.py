"""`assetmap search`: the nearby search from the command line, as a table.

The options are made from the search's parameters (assetmap.search.nearby.PARAMETERS), one option
each, and read by assetmap.search.nearby.parse_search exactly as the API reads its query string, so
a search gives the same answer (and the same errors) in both.
"""

from __future__ import annotations

import click

from assetmap.cli import context
from assetmap.cli.db import database
from assetmap.search.nearby import PARAMETERS, SearchResults, parse_search, search
from assetmap.search.parameters import (
    NUMBER,
    ONE_OF,
    TEXT,
    TIME_OF_DAY,
    WHOLE_NUMBER,
    YES_NO,
    Parameter,
    ParameterError,
)

_METAVARS = {TEXT: "TEXT", NUMBER: "NUMBER", WHOLE_NUMBER: "INTEGER", TIME_OF_DAY: "TIME"}
_OPTIONS = {p.name: p.cli_option for p in PARAMETERS}  # for messages: --radius, not radius_km


def _help(p: Parameter) -> str:
    """The parameter's help, with what an option's help must say itself: the values it takes,
    that it repeats, and its default."""
    text = p.help
    if p.repeats:  # one of several options shows its choices as its metavar instead
        text += f" Any of: {', '.join(p.slugs)}. Repeat the option for several."
    if p.default not in (None, "", False):
        text += f" Default: {p.default:g}." if p.kind == NUMBER else f" Default: {p.default}."
    return text


def _option(p: Parameter):
    """The option for a parameter. Its values go to parse_search as text, so that a bad one
    gets the API's message (a click type would answer in click's words)."""
    if p.kind == YES_NO:
        return click.option(p.cli_option, p.name, is_flag=True, help=_help(p))
    metavar = f"[{'|'.join(p.slugs)}]" if p.kind == ONE_OF else _METAVARS.get(p.kind, "SLUG")
    return click.option(p.cli_option, p.name, multiple=p.repeats, metavar=metavar, help=_help(p))


def search_options(command):
    """One option for each search parameter, in the order they are declared."""
    for p in reversed(PARAMETERS):
        command = _option(p)(command)
    return command


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


@click.command("search")
@search_options
def search_command(**options):
    """Find running assets (not paused, closed or archived) near a postcode or a point,
    nearest first, and print them as a table.

    Example: assetmap search --postcode "M33 7ZF" --radius 3 --q walking --free
    """
    from assetmap.freshness.stale import Freshness

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
        option = _OPTIONS.get(e.parameter, f"--{e.parameter}")
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
