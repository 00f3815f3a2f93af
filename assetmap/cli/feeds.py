"""Commands for syncing from other publishers: `assetmap feeds add|list|sync`.

A feed is another directory's Open Referral UK 3.0 API; each sync reads its services and
imports them through the same pipeline as `assetmap import`, as an import run whose source is
the feed's name (so `assetmap imports undo RUN` undoes it).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from assetmap.cli import context
from assetmap.cli.db import database

if TYPE_CHECKING:
    from assetmap.openreferral import sync as feeds


class _ClientDefault(click.Option):
    """An option whose default is a constant of the feeds' HTTP client
    (assetmap.openreferral.feeds), looked up when the command runs or shows its help rather
    than when this module is imported: the client loads http.client, ssl and email, which
    `assetmap --help` and every other command need not wait for (issue 19)."""

    def __init__(self, *args, constant: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.constant = constant

    def get_default(self, ctx, call=True):
        from assetmap.openreferral import feeds as client

        return getattr(client, self.constant)


@click.group("feeds")
def feeds_group():
    """Other publishers' Open Referral UK APIs: add one, list them, sync from them."""


@feeds_group.command("add")
@click.argument("url")
@click.option(
    "--source",
    "name",
    required=True,
    help="The feed's name: the source recorded on its assets (lower-case letters, digits, "
    "hyphens).",
)
@click.option("--who", help="Name recorded as who added it (default: cli:<your user name>).")
def add_command(url: str, name: str, who: str | None):
    """Add another publisher's Open Referral UK API as a feed, after checking it answers.

    URL is the API's address (its /services is read), such as https://example.org/api/oruk/.

    Example: assetmap feeds add https://directory.example.org/api/oruk/ --source example-directory
    """
    from assetmap.cli.imports import _who
    from assetmap.openreferral import sync as feeds
    from assetmap.openreferral.feeds import FeedError

    with database() as db:
        try:
            feed, words = feeds.add_feed(db, url, name, who=_who(who))
        except FeedError as e:
            raise click.ClickException(f"{e}. The feed was not added.") from None
    click.echo(f"Added feed {feed['name']}: {feed['url']} ({words}).")
    click.echo(f"To import its services: assetmap feeds sync {feed['name']}")


@feeds_group.command("list")
def list_command():
    """The feeds, with when each was last synced, its last import run and its last error.

    Example: assetmap feeds list
    """
    from assetmap.openreferral import sync as feeds

    with database() as db:
        found = feeds.list_feeds(db)
    if not found:
        click.echo("No feeds yet. Add one with: assetmap feeds add URL --source NAME")
    for feed in found:
        synced = feed["last_synced_at"] or "never"
        run = f", run {feed['last_run_id']}" if feed["last_run_id"] else ""
        click.echo(f"{feed['name']}: {feed['url']} (last synced {synced}{run})")
        if feed["last_error"]:
            click.echo(f"  last error ({feed['last_tried_at']}): {feed['last_error']}")


@feeds_group.command("sync")
@click.argument("name", required=False)
@click.option("--preview", is_flag=True, help="Show what would change, and change nothing.")
@click.option(
    "--everything",
    is_flag=True,
    help="Read every service, not only those changed since the last sync.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    cls=_ClientDefault,
    constant="DEFAULT_TIMEOUT",
    show_default=True,
    help="Seconds to wait for each page.",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 10),
    cls=_ClientDefault,
    constant="DEFAULT_RETRIES",
    show_default=True,
    help="Times to try a page again after a server error or no answer.",
)
@click.option(
    "--backoff",
    type=click.FloatRange(min=0),
    cls=_ClientDefault,
    constant="DEFAULT_BACKOFF",
    show_default=True,
    help="Seconds to wait before trying a page again; doubled for each try after.",
)
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A mapping file (see docs/importing.md); kept as the feed's mapping once imported.",
)
@click.option(
    "--default",
    "defaults",
    multiple=True,
    metavar="FIELD=VALUE",
    help="A value for every service that does not give its own, such as --default "
    "kind=service --default strand=access_community_resources (repeatable; kept as the "
    "feed's mapping once imported, so later syncs use it unasked).",
)
@click.option("--who", help="Name recorded in history (default: cli:<your user name>).")
def sync_command(
    name: str | None,
    preview: bool,
    everything: bool,
    timeout: float,
    retries: int,
    backoff: float,
    mapping: Path | None,
    defaults: tuple[str, ...],
    who: str | None,
):
    """Import the services of feed NAME (or of every feed) as an import run of its source.

    After the first sync, only services changed since the last one are read. Each sync is an
    import run: `assetmap imports undo RUN` undoes it. Exits with status 1 when a feed could
    not be read or imported, or rows were rejected; the other feeds are still synced.

    Another directory's services seldom say our kind and strand: give them once with
    --default (or --mapping, or choose them on the feeds page); later syncs use them.

    Example: assetmap feeds sync example-directory --preview --default kind=service
    --default strand=access_community_resources

    Example (cron, every night at 2): 0 2 * * * assetmap feeds sync
    """
    from assetmap.cli.imports import _who, archive_dir
    from assetmap.imports import ImportOptions
    from assetmap.openreferral import sync as feeds
    from assetmap.openreferral.feeds import FeedError

    limits = context.settings()["ASSETMAP_IMPORT_LIMITS"]
    options = ImportOptions(bounds=context.settings()["ASSETMAP_BOUNDS"], limits=limits)
    given = _given_mapping(mapping, defaults)
    failed = False
    with database() as db:
        names = [name] if name else [f["name"] for f in feeds.list_feeds(db)]
        if not names:
            click.echo("No feeds yet. Add one with: assetmap feeds add URL --source NAME")
        for feed_name in names:
            try:
                done = feeds.sync(
                    db,
                    feed_name,
                    options,
                    who=_who(who),
                    preview_only=preview,
                    archive_dir=archive_dir(),
                    everything=everything,
                    mapping=given,
                    timeout=timeout,
                    retries=retries,
                    backoff=backoff,
                    max_bytes=int(limits.max_uncompressed_mb * 1024**2),
                )
            except FeedError as e:
                click.echo(f"{feed_name}: not synced: {e}", err=True)
                failed = True
                continue
            failed |= _show(done, preview)
    if failed:
        sys.exit(1)


def _given_mapping(mapping: Path | None, defaults: tuple[str, ...]) -> dict | None:
    """The sections of --mapping with --default over them, or None when neither is given."""
    from assetmap.imports import ImportFileError
    from assetmap.imports.mapping import parse_defaults, read_mapping_data

    if mapping is None and not defaults:
        return None
    data: dict = {}
    if mapping is not None:
        try:
            data = read_mapping_data(mapping)
        except ImportFileError as e:
            raise click.BadParameter(f"{mapping.name} {e}", param_hint="--mapping") from None
    if defaults:
        try:
            data["defaults"] = {**data.get("defaults", {}), **parse_defaults(defaults)}
        except ImportFileError as e:
            message = str(e).removeprefix("--default: ")
            raise click.BadParameter(message, param_hint="--default") from None
    return data


def _show(done: feeds.Synced, preview: bool) -> bool:
    """Print what a sync did; whether any row was rejected."""
    from assetmap.cli.imports import _print

    read, report = done.read, done.report
    since = f" (asked for those changed since {read.modified_after})" if read.modified_after else ""
    click.echo(
        f"{read.feed['name']}: read {len(read.fetched.services)} services{since} from "
        f"{read.feed['url']} in {read.fetched.pages} pages"
    )
    if report is None or (not preview and not report.applied):
        click.echo(f"{read.feed['name']}: nothing new or changed; nothing to import.")
        return False
    _print(report, as_json=False)
    if preview:
        click.echo(f"To import them: assetmap feeds sync {read.feed['name']}")
    return bool(report.rejected)


COMMANDS = (feeds_group,)
