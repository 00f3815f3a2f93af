"""`assetmap search`: the nearby search from the command line, as a table.

The options are read by assetmap.search.parse_search, exactly as the API reads its query
string, so a search gives the same answer (and the same errors) in both.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from assetmap import taxonomy
from assetmap.queries import ParameterError
from assetmap.search import SearchResults, parse_search, search
from assetmap.store import connect

# Option name -> query parameter, for the messages (an error names --radius, not radius_km).
_OPTION_OF = {"radius_km": "radius", "self_referral": "self-referral"}


def _table(results: SearchResults) -> list[str]:
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
@click.option("--postcode", help="A postcode (M33 7ZF), sector (M33 7) or district (M33).")
@click.option("--lat", help="Latitude of the centre, instead of a postcode.")
@click.option("--lon", help="Longitude of the centre, instead of a postcode.")
@click.option("--radius", "radius_km", help="Radius in km (default 2, at most 50).")
@click.option("--q", help="Keywords: every word must match (walking, garden, choir).")
@click.option("--strand", multiple=True, help="A strand slug; repeat for several.")
@click.option("--approach", multiple=True, help="An approach slug; repeat for several.")
@click.option("--category", multiple=True, help="A category slug; repeat for several.")
@click.option("--audience", multiple=True, help="An audience slug; repeat for several.")
@click.option("--age", help="The person's age.")
@click.option("--kind", multiple=True, help="group, activity, service, place or volunteering.")
@click.option("--accessible", multiple=True, help="An accessibility need; all must be met.")
@click.option("--day", multiple=True, help="A day of the week; repeat for several.")
@click.option("--time", help='morning, afternoon, evening, or a range such as "14:00-17:00".')
@click.option("--free", is_flag=True, help="Free only.")
@click.option("--self-referral", "self_referral", is_flag=True, help="People can ask to join.")
@click.option("--order", help="distance (default) or relevance (needs --q).")
@click.option("--limit", help="How many to show (default 20).")
@click.option("--offset", help="How many to skip, for the next page.")
@with_appcontext
def search_command(**options):
    """Find open assets near a postcode or a point, nearest first, and print them as a table.

    Example: assetmap search --postcode "M33 7ZF" --radius 3 --q walking --free
    """
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
    db = connect(current_app.config["ASSETMAP_DB"])
    try:
        results = search(db, parse_search(args))
    except ParameterError as e:
        option = _OPTION_OF.get(e.parameter, e.parameter)
        raise click.BadParameter(e.message, param_hint=f"--{option}") from None
    finally:
        db.close()
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
