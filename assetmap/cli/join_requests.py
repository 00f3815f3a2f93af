"""`assetmap join-requests ...`: residents' requests to join: purge old personal data, and answer
subject-access requests.

The group was called `referrals` before; that name still works (hidden from --help) so that cron
lines written for it go on running. A referral is a link worker's record
(assetmap.people.referrals), not a resident's request to join.
"""

from __future__ import annotations

import json
import sys

import click

from assetmap.cli import context
from assetmap.cli.db import database

join_requests = click.Group("join-requests", help="Residents' requests to join.")


@join_requests.command("purge")
@click.option(
    "--days",
    type=click.IntRange(0),
    default=None,
    help="Keep personal data this many days (default ASSETMAP_REFERRAL_RETENTION_DAYS).",
)
def purge_command(days: int | None):
    """Remove names and contact details from requests to join, and from residents' reports of
    a problem with a listing, older than the retention period.

    Run it daily (for example from cron: `0 3 * * * cd /srv/assetmap && .venv/bin/assetmap
    join-requests purge`). The requests stay, without personal data, so demand can be counted;
    the reports keep what was wrong with the listing.

    Example: assetmap join-requests purge
    """
    from assetmap.freshness import reports
    from assetmap.people.join_requests import purge

    days = days if days is not None else context.settings()["ASSETMAP_REFERRAL_RETENTION_DAYS"]
    with database() as db:
        count = purge(db, days)
        reported = reports.purge(db, days)
    click.echo(f"removed personal data from {count} request(s) older than {days} days")
    click.echo(f"removed contact details from {reported} problem report(s) older than {days} days")


@join_requests.command("export")
@click.option("--email", help="The person's email address.")
@click.option("--phone", help="The person's phone number (any spacing).")
@click.argument("out", type=click.Path(dir_okay=False, allow_dash=True), default="-")
def export_command(email: str | None, phone: str | None, out: str):
    """Everything held about one person, as JSON, for a subject-access request: their requests
    to join and the problem reports they left the same e-mail or phone number with.

    Example: assetmap join-requests export --email jo@example.org jo-sar.json
    """
    from assetmap.freshness import reports
    from assetmap.people.join_requests import subject_access

    if not (email or phone):
        raise click.UsageError("give --email or --phone (or both) to find the person's requests")
    with database() as db:
        found = subject_access(db, email=email, phone=phone)
        reported = reports.subject_access(db, email=email, phone=phone)
    text = json.dumps(
        {"requests_to_join": found, "problem_reports": reported}, indent=2, ensure_ascii=False
    )
    if out == "-":
        sys.stdout.write(text + "\n")
    else:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        click.echo(
            f"{len(found)} request(s) and {len(reported)} problem report(s) written to {out}",
            err=True,
        )


# The group's old name, kept working for scripts and cron lines that use it.
old_name = click.Group("referrals", hidden=True, help="Old name of `assetmap join-requests`.")
for _command in join_requests.commands.values():
    old_name.add_command(_command)

COMMANDS = (join_requests, old_name)
